// A counted reference to one validated policy: whoever holds one keeps that policy alive, so a
// decision, a call context or a record can name the policy it was made on while another is
// swapped in.
#pragma once

#include <cstdint>

#include "hivewarden/core/policy_view.hpp"

namespace hivewarden {

struct PolicyBox;  // a validated policy and its reference count (engine.cpp)

class PolicyRef {
 public:
  PolicyRef() = default;
  PolicyRef(const PolicyRef& other);
  PolicyRef(PolicyRef&& other) noexcept : box_(other.box_) { other.box_ = nullptr; }
  PolicyRef& operator=(const PolicyRef& other);
  PolicyRef& operator=(PolicyRef&& other) noexcept;
  ~PolicyRef() { reset(); }

  explicit operator bool() const { return box_ != nullptr; }
  const PolicyView& view() const;
  std::uint64_t generation() const;
  void reset();

 private:
  friend class Engine;
  explicit PolicyRef(PolicyBox* box) : box_(box) {}  // takes over one reference
  PolicyBox* box_ = nullptr;
};

}  // namespace hivewarden
