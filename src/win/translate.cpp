#include "hivewarden/win/translate.hpp"

namespace hivewarden::win {

std::u16string_view view_of(const UnicodeString* s) {
  if (s == nullptr || s->Buffer == nullptr) return {};
  return {s->Buffer, static_cast<std::size_t>(s->Length / 2)};
}

namespace {

constexpr std::uint32_t kOptionCreateLink = 0x2;  // REG_OPTION_CREATE_LINK
constexpr std::uint32_t kOptionOpenLink = 0x8;    // REG_OPTION_OPEN_LINK

// A name the configuration manager could not have made: an odd byte length (view_of would decide
// on a shorter name than the operation's), a Length past MaximumLength (past the buffer), or a
// length without a buffer. Absent (null) is not malformed: it is the empty name.
bool malformed(const UnicodeString* s) {
  return s != nullptr && ((s->Length & 1) != 0 || s->Length > s->MaximumLength ||
                          (s->Buffer == nullptr && s->Length != 0));
}

// `name` as a view, or kBadArgument when it is malformed (the operation cannot be decided).
TranslateStatus name_view(const UnicodeString* name, std::u16string_view& out) {
  if (malformed(name)) return TranslateStatus::kBadArgument;
  out = view_of(name);
  return TranslateStatus::kOk;
}

TranslateStatus name_of(const KeySource& keys, void* object, std::u16string_view& key) {
  if (object == nullptr || keys.name_of == nullptr) return TranslateStatus::kBadArgument;
  return keys.name_of(keys.context, object, key) && !key.empty() ? TranslateStatus::kOk
                                                                 : TranslateStatus::kNoName;
}

// CompleteName is absolute (\REGISTRY\...) or relative to RootObject: compose the full name.
TranslateStatus create_name(const RegCreateKeyInformationV1& info, const KeySource& keys,
                            TranslateScratch& scratch, std::u16string_view& key) {
  std::u16string_view name;
  if (name_view(info.CompleteName, name) != TranslateStatus::kOk)
    return TranslateStatus::kBadArgument;
  if (!name.empty() && name[0] == u'\\') {
    key = name;
    return TranslateStatus::kOk;
  }
  std::u16string_view root;
  const TranslateStatus s = name_of(keys, info.RootObject, root);
  if (s != TranslateStatus::kOk) return s;
  const std::size_t total = root.size() + (name.empty() ? 0 : 1 + name.size());
  if (total > kMaxPathUnits) return TranslateStatus::kTooLong;
  std::size_t at = 0;
  for (char16_t c : root) scratch.composed[at++] = c;
  if (!name.empty()) {
    scratch.composed[at++] = u'\\';
    for (char16_t c : name) scratch.composed[at++] = c;
  }
  key = std::u16string_view(scratch.composed, at);
  return TranslateStatus::kOk;
}

TranslateStatus create_key(const RegCreateKeyInformationV1& info, const KeySource& keys,
                           TranslateScratch& scratch, OperationRequest& out,
                           std::u16string_view& key) {
  const TranslateStatus s = create_name(info, keys, scratch, key);
  if (s != TranslateStatus::kOk) return s;
  out.key_exists = keys.exists != nullptr && keys.exists(keys.context, key);
  out.creates_link = (info.Options & kOptionCreateLink) != 0;
  out.open_link = (info.Options & kOptionOpenLink) != 0;
  return TranslateStatus::kOk;
}

TranslateStatus set_value(const RegSetValueKeyInformation& info, const KeySource& keys,
                          OperationRequest& out, std::u16string_view& key) {
  if (info.Data == nullptr && info.DataSize != 0) return TranslateStatus::kBadArgument;
  if (name_view(info.ValueName, out.value) != TranslateStatus::kOk)
    return TranslateStatus::kBadArgument;
  out.has_data = true;
  out.type = info.Type;
  out.data = std::string_view(static_cast<const char*>(info.Data), info.DataSize);
  return name_of(keys, info.Object, key);
}

// Fills everything of `out` but the key, and finds the key's name (kernel form) in `key`.
TranslateStatus fill_request(const void* argument2, const KeySource& keys,
                             TranslateScratch& scratch, OperationRequest& out,
                             std::u16string_view& key) {
  switch (out.op) {
    case Operation::kCreateKey:
      return create_key(*static_cast<const RegCreateKeyInformationV1*>(argument2), keys, scratch,
                        out, key);
    case Operation::kDeleteKey:
      return name_of(keys, static_cast<const RegDeleteKeyInformation*>(argument2)->Object, key);
    case Operation::kSetValue:
      return set_value(*static_cast<const RegSetValueKeyInformation*>(argument2), keys, out, key);
    case Operation::kDeleteValue: {
      const auto& info = *static_cast<const RegDeleteValueKeyInformation*>(argument2);
      if (name_view(info.ValueName, out.value) != TranslateStatus::kOk) break;
      return name_of(keys, info.Object, key);
    }
    case Operation::kQueryValue: {
      const auto& info = *static_cast<const RegQueryValueKeyInformation*>(argument2);
      if (name_view(info.ValueName, out.value) != TranslateStatus::kOk) break;
      return name_of(keys, info.Object, key);
    }
    case Operation::kRenameKey: {
      const auto& info = *static_cast<const RegRenameKeyInformation*>(argument2);
      if (name_view(info.NewName, out.new_name) != TranslateStatus::kOk || out.new_name.empty())
        break;
      return name_of(keys, info.Object, key);
    }
    case Operation::kRestoreKey:
      return name_of(keys, static_cast<const RegRestoreKeyInformation*>(argument2)->Object, key);
    case Operation::kReplaceKey: {
      const auto& info = *static_cast<const RegReplaceKeyInformation*>(argument2);
      if (name_view(info.NewFileName, out.file) != TranslateStatus::kOk) break;
      return name_of(keys, info.Object, key);
    }
  }
  return TranslateStatus::kBadArgument;  // a malformed name broke out of the switch
}

}  // namespace

TranslateStatus translate_pre(std::uint32_t cls, const void* argument2, const KeySource& keys,
                              const CanonicalOptions& options, TranslateScratch& scratch,
                              OperationRequest& out) {
  out = OperationRequest{};
  if (!operation_by_pre_class(cls, out.op)) return TranslateStatus::kIgnored;
  if (argument2 == nullptr) return TranslateStatus::kBadArgument;
  std::u16string_view key;
  const TranslateStatus s = fill_request(argument2, keys, scratch, out, key);
  if (s != TranslateStatus::kOk) return s;
  // The one canonicalisation of this operation. An invalid name (kInvalidName) leaves out.key
  // null, which the engine denies (SPEC §9); a root no policy can name is not decidable.
  switch (canonicalize_operation(key, options, scratch.keys, out)) {
    case PathStatus::kOk:
    case PathStatus::kInvalidName:
      return TranslateStatus::kOk;
    case PathStatus::kUnknownRoot:
    case PathStatus::kNeedsUserSid:
      break;
  }
  return TranslateStatus::kUnknownRoot;
}

TranslateStatus translate_post(std::uint32_t cls, const void* argument2, PostOperation& out) {
  out = PostOperation{};
  if (!notify_class::in_mask(notify_class::kPostMask, cls) ||
      !operation_by_post_class(cls, out.op)) {
    return TranslateStatus::kIgnored;
  }
  if (argument2 == nullptr) return TranslateStatus::kBadArgument;
  const auto& info = *static_cast<const RegPostOperationInformation*>(argument2);
  out.success = info.Status == 0;
  out.call_context = info.CallContext;
  return TranslateStatus::kOk;
}

namespace {

template <typename Info>
void** field_of(void* argument2) {
  return &static_cast<Info*>(argument2)->CallContext;
}

template <typename Info>
void* object_of(const void* argument2) {
  return static_cast<const Info*>(argument2)->Object;
}

}  // namespace

void** call_context_field(std::uint32_t cls, void* argument2) {
  Operation op;
  if (argument2 == nullptr || !operation_by_pre_class(cls, op)) return nullptr;
  switch (op) {
    case Operation::kCreateKey:
      return field_of<RegCreateKeyInformationV1>(argument2);
    case Operation::kDeleteKey:
      return field_of<RegDeleteKeyInformation>(argument2);
    case Operation::kSetValue:
      return field_of<RegSetValueKeyInformation>(argument2);
    case Operation::kDeleteValue:
      return field_of<RegDeleteValueKeyInformation>(argument2);
    case Operation::kQueryValue:
      return field_of<RegQueryValueKeyInformation>(argument2);
    case Operation::kRenameKey:
      return field_of<RegRenameKeyInformation>(argument2);
    case Operation::kRestoreKey:
      return field_of<RegRestoreKeyInformation>(argument2);
    case Operation::kReplaceKey:
      return field_of<RegReplaceKeyInformation>(argument2);
  }
  return nullptr;
}

void* key_object(std::uint32_t cls, const void* argument2) {
  Operation op;
  if (argument2 == nullptr || !operation_by_pre_class(cls, op)) return nullptr;
  switch (op) {
    case Operation::kCreateKey: {
      const auto& info = *static_cast<const RegCreateKeyInformationV1*>(argument2);
      const std::u16string_view name = view_of(info.CompleteName);
      return !name.empty() && name[0] == u'\\' ? nullptr : info.RootObject;
    }
    case Operation::kDeleteKey:
      return object_of<RegDeleteKeyInformation>(argument2);
    case Operation::kSetValue:
      return object_of<RegSetValueKeyInformation>(argument2);
    case Operation::kDeleteValue:
      return object_of<RegDeleteValueKeyInformation>(argument2);
    case Operation::kQueryValue:
      return object_of<RegQueryValueKeyInformation>(argument2);
    case Operation::kRenameKey:
      return object_of<RegRenameKeyInformation>(argument2);
    case Operation::kRestoreKey:
      return object_of<RegRestoreKeyInformation>(argument2);
    case Operation::kReplaceKey:
      return object_of<RegReplaceKeyInformation>(argument2);
  }
  return nullptr;
}

}  // namespace hivewarden::win
