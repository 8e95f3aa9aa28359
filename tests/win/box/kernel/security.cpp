// Security: the Rtl routines that build a descriptor, an ACL and its ACEs (the documented
// layouts: SECURITY_DESCRIPTOR, ACL, ACCESS_ALLOWED_ACE), the well-known SIDs of SeExports, and
// the access check the I/O manager does on a device's DACL for three kinds of caller.
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "internal.hpp"

namespace box::kernel {
namespace {

struct SidStorage {
  SID sid;
  ULONG more[7];
};

SidStorage make_sid(UCHAR authority, std::initializer_list<ULONG> subs) {
  SidStorage s{};
  s.sid.Revision = SID_REVISION;
  s.sid.SubAuthorityCount = static_cast<UCHAR>(subs.size());
  s.sid.IdentifierAuthority.Value[5] = authority;
  ULONG* out = s.sid.SubAuthority;
  for (ULONG v : subs) *out++ = v;
  return s;
}

SidStorage g_system = make_sid(5, {18});
SidStorage g_admins = make_sid(5, {32, 544});
SidStorage g_users = make_sid(5, {32, 545});
SidStorage g_world = make_sid(1, {0});
SidStorage g_authenticated = make_sid(5, {11});
SidStorage g_restricted = make_sid(5, {12});
SidStorage g_admin_user = make_sid(5, {21, 1111, 2222, 3333, 500});
SidStorage g_plain_user = make_sid(5, {21, 1111, 2222, 3333, 1001});
SE_EXPORTS g_exports;

ULONG sid_length(const SID* sid) {
  return 8 + 4u * sid->SubAuthorityCount;
}

bool same_sid(const SID* a, const SID* b) {
  return sid_length(a) == sid_length(b) && std::memcmp(a, b, sid_length(a)) == 0;
}

// The SIDs in a caller's token (enabled groups included).
int token_of(Caller caller, const SID* out[6]) {
  switch (caller) {
    case Caller::kSystem:
      out[0] = &g_system.sid, out[1] = &g_admins.sid, out[2] = &g_world.sid;
      out[3] = &g_authenticated.sid;
      return 4;
    case Caller::kAdministrator:  // an elevated administrator
      out[0] = &g_admin_user.sid, out[1] = &g_admins.sid, out[2] = &g_users.sid;
      out[3] = &g_world.sid, out[4] = &g_authenticated.sid;
      return 5;
    case Caller::kUser:
      out[0] = &g_plain_user.sid, out[1] = &g_users.sid, out[2] = &g_world.sid;
      out[3] = &g_authenticated.sid;
      return 4;
  }
  return 0;
}

// GENERIC_* in terms of a file's (a device's) specific rights.
ACCESS_MASK map_generic(ACCESS_MASK mask) {
  if (mask & GENERIC_READ) mask |= FILE_GENERIC_READ;
  if (mask & GENERIC_WRITE) mask |= FILE_GENERIC_WRITE;
  if (mask & GENERIC_EXECUTE) mask |= FILE_GENERIC_EXECUTE;
  if (mask & GENERIC_ALL) mask |= FILE_ALL_ACCESS;
  return mask & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

// What the DACL grants the token (deny ACEs first in order, as Windows evaluates in order).
ACCESS_MASK evaluate(const ACL* dacl, const SID* token[], int count, ACCESS_MASK desired) {
  ACCESS_MASK granted = 0, denied = 0;
  const auto* ace = reinterpret_cast<const UCHAR*>(dacl + 1);
  for (USHORT i = 0; i < dacl->AceCount; ++i) {
    const auto* header = reinterpret_cast<const ACE_HEADER*>(ace);
    const auto* allowed = reinterpret_cast<const ACCESS_ALLOWED_ACE*>(ace);
    const SID* sid = reinterpret_cast<const SID*>(&allowed->SidStart);
    const ACCESS_MASK mask = map_generic(allowed->Mask);
    for (int t = 0; t < count; ++t) {
      if (!same_sid(sid, token[t])) continue;
      if (header->AceType == ACCESS_ALLOWED_ACE_TYPE) granted |= mask & ~denied;
      if (header->AceType == ACCESS_DENIED_ACE_TYPE) denied |= mask & desired & ~granted;
    }
    ace += header->AceSize;
  }
  return granted & ~denied;
}

// What a device without a driver-set descriptor gets (IoCreateDevice's default): SYSTEM and
// Administrators all access, Everyone and Restricted read and execute.
ACL* default_device_dacl() {
  static unsigned char storage[256];
  static bool made = false;
  auto* acl = reinterpret_cast<ACL*>(storage);
  if (!made) {
    RtlCreateAcl(acl, sizeof storage, ACL_REVISION);
    RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, &g_system.sid);
    RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, &g_admins.sid);
    RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_READ | GENERIC_EXECUTE, &g_world.sid);
    RtlAddAccessAllowedAce(acl, ACL_REVISION, GENERIC_READ | GENERIC_EXECUTE, &g_restricted.sid);
    made = true;
  }
  return acl;
}

}  // namespace

bool access_check(PSECURITY_DESCRIPTOR descriptor, Caller caller, ACCESS_MASK desired,
                  ACCESS_MASK& granted) {
  const SID* token[6];
  const int count = token_of(caller, token);
  desired = map_generic(desired);
  const ACL* dacl = default_device_dacl();
  if (descriptor != nullptr) {
    const auto* sd = static_cast<const SECURITY_DESCRIPTOR*>(descriptor);
    if (!(sd->Control & SE_DACL_PRESENT) || sd->Dacl == nullptr) {  // a NULL DACL: all access
      granted = desired;
      return true;
    }
    dacl = sd->Dacl;
  }
  const ACCESS_MASK allowed = evaluate(dacl, token, count, desired);
  granted = desired;
  return desired != 0 && (allowed & desired) == desired;
}

// Absolute descriptor + its DACL in one host block, so an object can keep it after the driver
// freed its own (ObSetSecurityObjectByPointer copies).
PSECURITY_DESCRIPTOR copy_descriptor(PSECURITY_DESCRIPTOR descriptor) {
  const auto* sd = static_cast<const SECURITY_DESCRIPTOR*>(descriptor);
  const ULONG acl_size = (sd->Control & SE_DACL_PRESENT) && sd->Dacl ? sd->Dacl->AclSize : 0;
  auto* copy =
      static_cast<SECURITY_DESCRIPTOR*>(std::calloc(1, sizeof(SECURITY_DESCRIPTOR) + acl_size));
  *copy = *sd;
  copy->Owner = copy->Group = nullptr;
  copy->Sacl = nullptr;
  copy->Dacl = nullptr;
  if (acl_size != 0) {
    copy->Dacl = reinterpret_cast<ACL*>(copy + 1);
    std::memcpy(copy->Dacl, sd->Dacl, acl_size);
  }
  return copy;
}

void security_reset() {
  std::memset(&g_exports, 0, sizeof g_exports);
  g_exports.SeLocalSystemSid = &g_system.sid;
  g_exports.SeAliasAdminsSid = &g_admins.sid;
  g_exports.SeAliasUsersSid = &g_users.sid;
  g_exports.SeWorldSid = &g_world.sid;
  g_exports.SeAuthenticatedUsersSid = &g_authenticated.sid;
  g_exports.SeRestrictedSid = &g_restricted.sid;
}

}  // namespace box::kernel

using namespace box::kernel;

extern "C" {

PSE_EXPORTS SeExports = &g_exports;

ULONG NTAPI RtlLengthSid(PSID sid) {
  return sid_length(static_cast<const SID*>(sid));
}

NTSTATUS NTAPI RtlCreateSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, ULONG revision) {
  require_irql(PASSIVE_LEVEL, "RtlCreateSecurityDescriptor");
  if (revision != SECURITY_DESCRIPTOR_REVISION) return STATUS_UNKNOWN_REVISION;
  std::memset(descriptor, 0, sizeof(SECURITY_DESCRIPTOR));
  static_cast<SECURITY_DESCRIPTOR*>(descriptor)->Revision = SECURITY_DESCRIPTOR_REVISION;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlCreateAcl(PACL acl, ULONG length, ULONG revision) {
  require_irql(PASSIVE_LEVEL, "RtlCreateAcl");
  if (length < sizeof(ACL) || length > 0xFFFF ||
      (revision != ACL_REVISION && revision != ACL_REVISION_DS)) {
    return length < sizeof(ACL) ? STATUS_BUFFER_TOO_SMALL : STATUS_INVALID_PARAMETER;
  }
  std::memset(acl, 0, sizeof(ACL));
  acl->AclRevision = static_cast<UCHAR>(revision);
  acl->AclSize = static_cast<USHORT>(length & ~3u);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlAddAccessAllowedAce(PACL acl, ULONG, ACCESS_MASK mask, PSID sid) {
  require_irql(PASSIVE_LEVEL, "RtlAddAccessAllowedAce");
  auto* end = reinterpret_cast<UCHAR*>(acl + 1);
  for (USHORT i = 0; i < acl->AceCount; ++i) end += reinterpret_cast<ACE_HEADER*>(end)->AceSize;
  const ULONG size = FIELD_OFFSET(ACCESS_ALLOWED_ACE, SidStart) + RtlLengthSid(sid);
  if (end + size > reinterpret_cast<UCHAR*>(acl) + acl->AclSize)
    return STATUS_ALLOTTED_SPACE_EXCEEDED;
  auto* ace = reinterpret_cast<ACCESS_ALLOWED_ACE*>(end);
  ace->Header.AceType = ACCESS_ALLOWED_ACE_TYPE;
  ace->Header.AceFlags = 0;
  ace->Header.AceSize = static_cast<USHORT>(size);
  ace->Mask = mask;
  std::memcpy(&ace->SidStart, sid, RtlLengthSid(sid));
  ++acl->AceCount;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI RtlSetDaclSecurityDescriptor(PSECURITY_DESCRIPTOR descriptor, BOOLEAN present,
                                            PACL dacl, BOOLEAN defaulted) {
  require_irql(PASSIVE_LEVEL, "RtlSetDaclSecurityDescriptor");
  auto* sd = static_cast<SECURITY_DESCRIPTOR*>(descriptor);
  if (sd->Revision != SECURITY_DESCRIPTOR_REVISION) return STATUS_UNKNOWN_REVISION;
  if (sd->Control & SE_SELF_RELATIVE) return STATUS_INVALID_SECURITY_DESCR;
  sd->Control &= ~(SE_DACL_PRESENT | SE_DACL_DEFAULTED);
  if (present) sd->Control |= SE_DACL_PRESENT | (defaulted ? SE_DACL_DEFAULTED : 0);
  sd->Dacl = present ? dacl : nullptr;
  return STATUS_SUCCESS;
}

}  // extern "C"
