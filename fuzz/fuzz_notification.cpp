// Notification records from a peer: decoding any bytes gives a record or an error, and a
// decoded record's fields all lie inside the bytes.
#include <cstdint>
#include <cstdlib>

#include "hivewarden/core/notification.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden;
  RecordView view;
  RecordError error;
  if (!decode_record(data, size, view, error)) {
    if (error.what == nullptr || *error.what == '\0') std::abort();
    return 0;
  }
  std::uint32_t sum = 0;
  for (std::uint32_t f = 0; f < kRecordFieldCount; ++f) {
    for (char c : view.bytes(static_cast<RecordField>(f))) sum += static_cast<unsigned char>(c);
  }
  return static_cast<int>(sum & 0);
}
