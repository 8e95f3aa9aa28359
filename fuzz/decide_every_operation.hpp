// What the policy fuzzers do with a policy the validator accepted: decide every operation on a
// few keys against it. Nothing may read out of bounds, loop or crash.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include "hivewarden/core/decide.hpp"

namespace hivewarden::fuzz {

// The parts of an operation the fuzzers vary; every operation kind is tried with each key.
struct OperationText {
  std::u16string_view value = {};
  std::u16string_view new_name = {};
  std::u16string_view image = {};
};

inline void decide_every_operation(const PolicyView& view,
                                   std::initializer_list<std::u16string_view> keys,
                                   const OperationText& text) {
  static auto scratch = std::make_unique<DecisionScratch>();
  static auto canonical = std::make_unique<OperationKeys>();
  for (const std::u16string_view key : keys) {
    for (int op = 0; op < kOperationCount; ++op) {
      OperationRequest r;
      r.op = static_cast<Operation>(op);
      r.value = text.value;
      r.new_name = text.new_name;
      r.process.image = text.image;
      canonicalize_operation(key, {view.control_set(), {}}, *canonical, r);
      decide_on(view, r, *scratch);
    }
  }
}

}  // namespace hivewarden::fuzz
