// The configuration manager's callback structures (REG_*_INFORMATION, wdm.h) mirrored with
// portable types, so that the translation to core operations compiles and is tested on Linux.
// The driver build checks with static_assert that every offset equals the DDK's.
#pragma once

#include <cstdint>

namespace hivewarden::win {

struct UnicodeString {  // UNICODE_STRING: lengths in bytes
  std::uint16_t Length;
  std::uint16_t MaximumLength;
  char16_t* Buffer;
};

struct RegDeleteKeyInformation {
  void* Object;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegSetValueKeyInformation {
  void* Object;
  UnicodeString* ValueName;
  std::uint32_t TitleIndex;
  std::uint32_t Type;
  void* Data;
  std::uint32_t DataSize;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegDeleteValueKeyInformation {
  void* Object;
  UnicodeString* ValueName;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegQueryValueKeyInformation {
  void* Object;
  UnicodeString* ValueName;
  std::uint32_t KeyValueInformationClass;
  void* KeyValueInformation;
  std::uint32_t Length;
  std::uint32_t* ResultLength;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegRenameKeyInformation {
  void* Object;
  UnicodeString* NewName;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegCreateKeyInformationV1 {
  UnicodeString* CompleteName;  // absolute, or relative to RootObject
  void* RootObject;
  void* ObjectType;
  std::uint32_t Options;
  UnicodeString* Class;
  void* SecurityDescriptor;
  void* SecurityQualityOfService;
  std::uint32_t DesiredAccess;
  std::uint32_t GrantedAccess;
  std::uint32_t* Disposition;
  void** ResultObject;
  void* CallContext;
  void* RootObjectContext;
  void* Transaction;
  std::uintptr_t Version;
  UnicodeString* RemainingName;
  std::uint32_t Wow64Flags;
  std::uint32_t Attributes;
  char CheckAccessMode;
};

struct RegRestoreKeyInformation {
  void* Object;
  void* FileHandle;
  std::uint32_t Flags;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegReplaceKeyInformation {
  void* Object;
  UnicodeString* OldFileName;
  UnicodeString* NewFileName;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

struct RegPostOperationInformation {
  void* Object;
  std::int32_t Status;  // NTSTATUS of the operation
  void* PreInformation;
  std::int32_t ReturnStatus;
  void* CallContext;
  void* ObjectContext;
  void* Reserved;
};

}  // namespace hivewarden::win
