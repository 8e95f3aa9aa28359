// Bytes as lowercase hex ("dead"), for client hashes and raw value data in output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hivewarden {

std::string hex_bytes(const void* data, std::size_t size);
inline std::string hex_bytes(std::string_view bytes) { return hex_bytes(bytes.data(), bytes.size()); }

}  // namespace hivewarden
