// An operation that owns the strings its request points at: how user-mode hosts hold one read from
// text (the CLI's reader, replay's events). The request is filled once, here; its key is
// canonicalised once, by whoever decides it (canonicalize_operation), from `key_text`.
#pragma once

#include <forward_list>
#include <string>
#include <string_view>

#include "hivewarden/core/operation_request.hpp"

namespace hivewarden {

class OwnedOperation {
 public:
  OwnedOperation() = default;
  // Moving keeps every view valid (the strings live in list nodes, which do not move); copying
  // would not, so there is none.
  OwnedOperation(OwnedOperation&&) noexcept = default;
  OwnedOperation& operator=(OwnedOperation&&) noexcept = default;
  OwnedOperation(const OwnedOperation&) = delete;
  OwnedOperation& operator=(const OwnedOperation&) = delete;

  // The operation; request.key / request.new_key stay null until canonicalised.
  OperationRequest request;
  // The key as the input named it (any form canonicalize_key accepts).
  std::u16string_view key_text;

  // Keeps a string for as long as this operation lives and returns a view of it.
  std::u16string_view keep(std::u16string text) { return texts_.emplace_front(std::move(text)); }
  std::string_view keep_bytes(std::string bytes) { return bytes_.emplace_front(std::move(bytes)); }

 private:
  std::forward_list<std::u16string> texts_;
  std::forward_list<std::string> bytes_;
};

}  // namespace hivewarden
