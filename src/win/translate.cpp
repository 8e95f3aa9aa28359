#include "hivewarden/win/translate.hpp"

namespace hivewarden::win {

std::u16string_view view_of(const UnicodeString* s) {
  if (s == nullptr || s->Buffer == nullptr) return {};
  return {s->Buffer, static_cast<std::size_t>(s->Length / 2)};
}

namespace {

TranslateStatus key_of(const KeySource& keys, void* object, std::u16string_view& key) {
  if (object == nullptr || keys.name_of == nullptr) return TranslateStatus::kBadArgument;
  return keys.name_of(keys.context, object, key) && !key.empty() ? TranslateStatus::kOk : TranslateStatus::kNoName;
}

// CompleteName is absolute (\REGISTRY\...) or relative to RootObject: compose the full name.
TranslateStatus create_name(const RegCreateKeyInformationV1& info, const KeySource& keys, char16_t* buffer,
                            std::uint32_t units, std::u16string_view& key) {
  const std::u16string_view name = view_of(info.CompleteName);
  if (!name.empty() && name[0] == u'\\') {
    key = name;
    return TranslateStatus::kOk;
  }
  std::u16string_view root;
  const TranslateStatus s = key_of(keys, info.RootObject, root);
  if (s != TranslateStatus::kOk) return s;
  const std::size_t total = root.size() + (name.empty() ? 0 : 1 + name.size());
  if (buffer == nullptr || total > units) return TranslateStatus::kTooLong;
  std::size_t at = 0;
  for (char16_t c : root) buffer[at++] = c;
  if (!name.empty()) {
    buffer[at++] = u'\\';
    for (char16_t c : name) buffer[at++] = c;
  }
  key = std::u16string_view(buffer, at);
  return TranslateStatus::kOk;
}

}  // namespace

TranslateStatus translate_pre(std::uint32_t cls, const void* argument2, const KeySource& keys, char16_t* buffer,
                              std::uint32_t buffer_units, Translation& out) {
  out = Translation{};
  if (!operation_by_pre_class(cls, out.op)) return TranslateStatus::kIgnored;
  if (argument2 == nullptr) return TranslateStatus::kBadArgument;
  switch (out.op) {
    case Operation::kCreateKey: {
      const auto& info = *static_cast<const RegCreateKeyInformationV1*>(argument2);
      const TranslateStatus s = create_name(info, keys, buffer, buffer_units, out.key);
      if (s != TranslateStatus::kOk) return s;
      out.key_exists = keys.exists != nullptr && keys.exists(keys.context, out.key);
      return TranslateStatus::kOk;
    }
    case Operation::kDeleteKey:
      return key_of(keys, static_cast<const RegDeleteKeyInformation*>(argument2)->Object, out.key);
    case Operation::kSetValue: {
      const auto& info = *static_cast<const RegSetValueKeyInformation*>(argument2);
      out.value = view_of(info.ValueName);
      out.value_type = info.Type;
      out.data = info.Data;
      out.data_size = info.DataSize;
      return key_of(keys, info.Object, out.key);
    }
    case Operation::kDeleteValue: {
      const auto& info = *static_cast<const RegDeleteValueKeyInformation*>(argument2);
      out.value = view_of(info.ValueName);
      return key_of(keys, info.Object, out.key);
    }
    case Operation::kQueryValue: {
      const auto& info = *static_cast<const RegQueryValueKeyInformation*>(argument2);
      out.value = view_of(info.ValueName);
      return key_of(keys, info.Object, out.key);
    }
    case Operation::kRenameKey: {
      const auto& info = *static_cast<const RegRenameKeyInformation*>(argument2);
      out.new_name = view_of(info.NewName);
      if (out.new_name.empty()) return TranslateStatus::kBadArgument;
      return key_of(keys, info.Object, out.key);
    }
    case Operation::kRestoreKey:
      return key_of(keys, static_cast<const RegRestoreKeyInformation*>(argument2)->Object, out.key);
    case Operation::kReplaceKey:
      return key_of(keys, static_cast<const RegReplaceKeyInformation*>(argument2)->Object, out.key);
  }
  return TranslateStatus::kIgnored;
}

TranslateStatus translate_post(std::uint32_t cls, const void* argument2, Translation& out) {
  out = Translation{};
  if (!notify_class::in_mask(notify_class::kPostMask, cls) || !operation_by_post_class(cls, out.op)) {
    return TranslateStatus::kIgnored;
  }
  if (argument2 == nullptr) return TranslateStatus::kBadArgument;
  out.post = true;
  out.success = static_cast<const RegPostOperationInformation*>(argument2)->Status >= 0;  // NT_SUCCESS
  return TranslateStatus::kOk;
}

}  // namespace hivewarden::win
