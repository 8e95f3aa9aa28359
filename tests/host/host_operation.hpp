// Operations for the host tests, made as a host makes them: the request filled once, its key
// canonicalised once (canonicalize_operation) into keys the operation owns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hivewarden/core/operation_request.hpp"
#include "hivewarden/util/hex.hpp"
#include "hivewarden/util/owned_operation.hpp"

namespace hivewarden::test {

struct TestOperation {
  OwnedOperation owned;
  std::unique_ptr<OperationKeys> keys{new OperationKeys};  // not zeroed: 280 KiB

  OperationRequest& request() { return owned.request; }
  const OperationRequest& request() const { return owned.request; }

  // Names the key (any form canonicalize_key takes) and canonicalises it (and a rename's target,
  // so set new_name first). False when the name is not one the engine can decide.
  bool name_key(std::u16string key, std::uint32_t control_set = 1) {
    owned.key_text = owned.keep(std::move(key));
    const PathStatus status = canonicalize_operation(
        owned.key_text, {control_set, owned.request.process.user_sid}, *keys, owned.request);
    return status == PathStatus::kOk || status == PathStatus::kInvalidName;
  }
  TestOperation& value(std::u16string name) {
    owned.request.value = owned.keep(std::move(name));
    return *this;
  }
  TestOperation& data(std::uint32_t type, std::string bytes) {
    owned.request.has_data = true;
    owned.request.type = type;
    owned.request.data = owned.keep_bytes(std::move(bytes));
    return *this;
  }
};

inline TestOperation operation(Operation op, std::u16string key, std::uint64_t thread = 1,
                               std::u16string new_name = {}) {
  TestOperation t;
  t.request().op = op;
  t.request().thread_id = thread;
  t.request().process.image = t.owned.keep(u"C:\\x.exe");
  t.request().process.pid = 42;
  if (!new_name.empty()) t.request().new_name = t.owned.keep(std::move(new_name));
  t.name_key(std::move(key));
  return t;
}

// The four bytes of a REG_DWORD.
inline std::string dword(std::uint32_t v) {
  std::string bytes;
  append_little_endian(bytes, v, 4);
  return bytes;
}

// A REG_DWORD set-value of `value` under `key`.
inline TestOperation set_value(std::u16string key, std::u16string value, std::uint64_t thread = 1,
                               std::uint32_t data = 1) {
  TestOperation t = operation(Operation::kSetValue, std::move(key), thread);
  t.value(std::move(value)).data(4, dword(data));
  return t;
}

}  // namespace hivewarden::test
