// One encoded notification record for tests that talk to a consumer or a producer.
#pragma once

#include <cstdint>
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

}  // namespace hivewarden::test
