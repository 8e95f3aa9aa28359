// The kernel as the driver's translation sees it, faked for tests on Linux: key objects are just
// addresses, and the fake knows their names and which full names exist.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "hivewarden/win/translate.hpp"

namespace hivewarden::test {

struct FakeKernel {
  std::map<void*, std::u16string> names;
  std::map<std::u16string, bool> existing;
  int exists_calls = 0;

  static bool name_of(void* self, void* object, std::u16string_view& name) {
    auto& k = *static_cast<FakeKernel*>(self);
    auto it = k.names.find(object);
    if (it == k.names.end()) return false;
    name = it->second;
    return true;
  }
  static bool exists(void* self, std::u16string_view full) {
    auto& k = *static_cast<FakeKernel*>(self);
    ++k.exists_calls;
    return k.existing.count(std::u16string(full)) > 0;
  }
  win::KeySource source() { return {&FakeKernel::name_of, &FakeKernel::exists, this}; }
  // A kernel that names objects but is not asked whether keys exist.
  win::KeySource names_only() { return {&FakeKernel::name_of, nullptr, this}; }
};

}  // namespace hivewarden::test
