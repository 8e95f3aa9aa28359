// Notification records for tests: one encoded record for tests that talk to a consumer or a
// producer, and a decoded record's name fields as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hivewarden/core/notification.hpp"

namespace hivewarden::test {

// A set-value record of \REGISTRY\MACHINE\SOFTWARE\X, value V, with the given sequence and type.
inline std::vector<unsigned char> test_record(std::uint64_t sequence,
                                              MessageType type = MessageType::kRegistryEventAsync) {
  RecordInput in;
  in.type = type;
  in.sequence = sequence;
  in.operation = 0x01;
  in.key_name = u"\\REGISTRY\\MACHINE\\SOFTWARE\\X";
  in.value_name = u"V";
  std::vector<unsigned char> out(record_size(in));
  encode_record(in, out.data(), out.size());
  return out;
}

// A name field of a decoded record (UTF-16LE on the wire) as text.
inline std::u16string field_text(const RecordView& view, RecordField field) {
  const std::string_view bytes = view.bytes(field);
  std::u16string out(bytes.size() / 2, u'\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                   (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
  }
  return out;
}

}  // namespace hivewarden::test
