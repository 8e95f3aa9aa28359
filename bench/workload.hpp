// Generated operations for the benchmarks: realistic keys, most of which match nothing.
#pragma once

#include <string>
#include <vector>

namespace hivewarden::bench {

// `count` eval JSON lines (SPEC §9): about 1 in 10 touches a key the default policy watches.
std::vector<std::string> eval_lines(std::size_t count, unsigned seed = 42);

}  // namespace hivewarden::bench
