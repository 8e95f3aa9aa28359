// What the driver reads from the machine at load. CurrentControlSet is the machine's own
// (SYSTEM\Select\Current), not the policy's guess: the kernel hands the callback names with
// ControlSet00N, and a create or rename may spell CurrentControlSet, which must mean the same key.
// The altitude comes from the service key so that a collision can be fixed without a rebuild.
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

std::uint32_t g_control_set = 1;  // what Select\Current says on nearly every machine
constexpr USHORT kAltitudeUnits = 32;
WCHAR g_altitude_text[kAltitudeUnits];
UNICODE_STRING g_altitude;

struct ValueBuffer {
  KEY_VALUE_PARTIAL_INFORMATION info;
  UCHAR more[2 * kAltitudeUnits];
};

// Select\Current: a REG_DWORD from 1 to 999 (ControlSet001 ... ControlSet999).
void read_control_set() {
  HANDLE key = open_key(nullptr, u"\\REGISTRY\\MACHINE\\SYSTEM\\Select", KEY_QUERY_VALUE);
  if (key == nullptr) return;
  ValueBuffer value{};
  if (NT_SUCCESS(query_value(key, u"Current", &value, sizeof value)) &&
      value.info.Type == REG_DWORD && value.info.DataLength == 4) {
    ULONG current = 0;
    RtlCopyMemory(&current, value.info.Data, 4);
    if (current >= 1 && current <= 999) g_control_set = current;
  }
  ZwClose(key);
}

// An altitude is a decimal number: digits with at most one point, nothing else.
bool is_altitude(const WCHAR* text, USHORT units) {
  bool digit = false, point = false;
  for (USHORT i = 0; i < units; ++i) {
    if (text[i] >= L'0' && text[i] <= L'9') {
      digit = true;
    } else if (text[i] == L'.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digit;
}

void use_altitude(const WCHAR* text, USHORT units) {
  RtlCopyMemory(g_altitude_text, text, units * sizeof(WCHAR));
  g_altitude.Buffer = g_altitude_text;
  g_altitude.Length = g_altitude.MaximumLength = static_cast<USHORT>(units * sizeof(WCHAR));
}

// <service key>\Parameters\Altitude, a REG_SZ; anything else keeps the default.
void read_altitude(PCUNICODE_STRING registry_path) {
  UNICODE_STRING fallback;
  RtlInitUnicodeString(&fallback, kDefaultAltitude);
  use_altitude(fallback.Buffer, fallback.Length / sizeof(WCHAR));
  if (registry_path == nullptr || registry_path->Buffer == nullptr) return;
  HANDLE service = open_key(
      nullptr,
      {reinterpret_cast<const char16_t*>(registry_path->Buffer), registry_path->Length / 2u},
      KEY_READ);
  if (service == nullptr) return;
  HANDLE key = open_key(service, u"Parameters", KEY_QUERY_VALUE);  // relative to the service key
  ZwClose(service);
  if (key == nullptr) return;
  ValueBuffer value{};
  if (NT_SUCCESS(query_value(key, u"Altitude", &value, sizeof value)) &&
      value.info.Type == REG_SZ) {
    auto* text = reinterpret_cast<const WCHAR*>(value.info.Data);
    USHORT units = static_cast<USHORT>(value.info.DataLength / sizeof(WCHAR));
    while (units > 0 && text[units - 1] == L'\0') --units;  // REG_SZ usually ends in a NUL
    if (units > 0 && units < kAltitudeUnits && is_altitude(text, units)) use_altitude(text, units);
  }
  ZwClose(key);
}

}  // namespace

void read_machine_settings(PCUNICODE_STRING registry_path) {
  read_control_set();
  read_altitude(registry_path);
}

std::uint32_t machine_control_set() {
  return g_control_set;
}

PCUNICODE_STRING altitude() {
  return &g_altitude;
}

}  // namespace hivewarden::driver
