// The portable mirrors of the callback structures (hivewarden/win/reg_structs.hpp), which the
// translation reads, must have the DDK's own layout: checked here, at compile time.
#include <ntddk.h>

#include <cstddef>

#include "hivewarden/win/reg_structs.hpp"

namespace {

#define HW_SAME_OFFSET(mirror, ddk, field) \
  static_assert(offsetof(hivewarden::win::mirror, field) == offsetof(ddk, field), #ddk "." #field)
HW_SAME_OFFSET(RegDeleteKeyInformation, REG_DELETE_KEY_INFORMATION, Object);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, ValueName);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, Type);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, Data);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, DataSize);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, Reserved);
HW_SAME_OFFSET(RegDeleteValueKeyInformation, REG_DELETE_VALUE_KEY_INFORMATION, ValueName);
HW_SAME_OFFSET(RegQueryValueKeyInformation, REG_QUERY_VALUE_KEY_INFORMATION, ValueName);
HW_SAME_OFFSET(RegQueryValueKeyInformation, REG_QUERY_VALUE_KEY_INFORMATION, ResultLength);
HW_SAME_OFFSET(RegRenameKeyInformation, REG_RENAME_KEY_INFORMATION, NewName);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, CompleteName);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, RootObject);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, Options);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, RemainingName);
HW_SAME_OFFSET(RegRestoreKeyInformation, REG_RESTORE_KEY_INFORMATION, Flags);
HW_SAME_OFFSET(RegReplaceKeyInformation, REG_REPLACE_KEY_INFORMATION, NewFileName);
HW_SAME_OFFSET(RegPostOperationInformation, REG_POST_OPERATION_INFORMATION, Status);
HW_SAME_OFFSET(RegPostOperationInformation, REG_POST_OPERATION_INFORMATION, PreInformation);
HW_SAME_OFFSET(UnicodeString, UNICODE_STRING, Length);
HW_SAME_OFFSET(UnicodeString, UNICODE_STRING, Buffer);
// The pre-operation's context goes in each structure's CallContext and comes back in the post's.
HW_SAME_OFFSET(RegDeleteKeyInformation, REG_DELETE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegSetValueKeyInformation, REG_SET_VALUE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegDeleteValueKeyInformation, REG_DELETE_VALUE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegQueryValueKeyInformation, REG_QUERY_VALUE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegRenameKeyInformation, REG_RENAME_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegCreateKeyInformationV1, REG_CREATE_KEY_INFORMATION_V1, CallContext);
HW_SAME_OFFSET(RegRestoreKeyInformation, REG_RESTORE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegReplaceKeyInformation, REG_REPLACE_KEY_INFORMATION, CallContext);
HW_SAME_OFFSET(RegPostOperationInformation, REG_POST_OPERATION_INFORMATION, CallContext);
HW_SAME_OFFSET(RegRenameKeyInformation, REG_RENAME_KEY_INFORMATION, Object);
HW_SAME_OFFSET(RegRestoreKeyInformation, REG_RESTORE_KEY_INFORMATION, Object);
HW_SAME_OFFSET(RegReplaceKeyInformation, REG_REPLACE_KEY_INFORMATION, Object);
#undef HW_SAME_OFFSET
static_assert(sizeof(hivewarden::win::RegCreateKeyInformationV1) ==
              sizeof(REG_CREATE_KEY_INFORMATION_V1));
static_assert(sizeof(hivewarden::win::UnicodeString) == sizeof(UNICODE_STRING));

}  // namespace
