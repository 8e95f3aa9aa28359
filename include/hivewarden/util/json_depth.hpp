// A cheap look at JSON text before it is parsed: how deeply its arrays and objects nest.
// Parsers and printers recurse on nesting, so a reader refuses text past its bound first.
#pragma once

#include <cstddef>
#include <string_view>

namespace hivewarden {

// True when no array or object in `text` nests deeper than `max_depth` (a top-level object is
// depth 1). Brackets inside strings do not count. The text need not be valid JSON: this is a
// bound, the parser still checks everything else.
bool json_depth_within(std::string_view text, std::size_t max_depth);

}  // namespace hivewarden
