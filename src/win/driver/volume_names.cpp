// Process images in the policy's form. SeLocateProcessImageName names an image by its volume's
// device (\Device\HarddiskVolume3\Windows\regedit.exe); policies and the write-up name it by drive
// letter (C:\Windows\regedit.exe). The letters' targets are read from the \??\X: symbolic links.
#include "driver_internal.hpp"
#include "hivewarden/core/case_fold.hpp"

namespace hivewarden::driver {
namespace {

constexpr USHORT kMaxTargetUnits = 96;

struct DriveTarget {
  USHORT units = 0;  // 0: the letter maps no volume
  WCHAR target[kMaxTargetUnits];
};

DriveTarget g_drives[26];
KSPIN_LOCK g_lock;  // held for a copy or a few compares: the table lives in non-paged memory
bool g_lock_ready = false;

// The target of \??\<letter>: into `out`; false when there is none (or it is too long).
bool read_target(WCHAR letter, DriveTarget& out) {
  // The global DOS devices: \??\ would be the calling process's own map (a CONNECT runs in the
  // service's process, which may have a drive letter of its own).
  WCHAR link_text[] = L"\\GLOBAL??\\A:";
  link_text[sizeof(L"\\GLOBAL??\\") / sizeof(WCHAR) - 1] = letter;
  UNICODE_STRING link;
  RtlInitUnicodeString(&link, link_text);
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &link, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, nullptr,
                             nullptr);
  HANDLE handle = nullptr;
  if (!NT_SUCCESS(ZwOpenSymbolicLinkObject(&handle, SYMBOLIC_LINK_QUERY, &attributes)))
    return false;
  UNICODE_STRING target{0, sizeof out.target, out.target};
  ULONG returned = 0;
  const NTSTATUS status = ZwQuerySymbolicLinkObject(handle, &target, &returned);
  ZwClose(handle);
  // Shorter than "C:" it could not be rewritten in place (nor is it a volume's name).
  if (!NT_SUCCESS(status) || target.Length < 2 * sizeof(WCHAR)) return false;
  out.units = static_cast<USHORT>(target.Length / sizeof(WCHAR));
  return true;
}

// Whether `image` starts with `drive`'s target and then a backslash.
bool under(const DriveTarget& drive, const char16_t* image, std::size_t length) {
  if (drive.units == 0 || length <= drive.units || image[drive.units] != u'\\') return false;
  return equal_ascii_folded({image, drive.units},
                            {reinterpret_cast<const char16_t*>(drive.target), drive.units});
}

}  // namespace

void refresh_volume_names() {
  if (!g_lock_ready) {
    KeInitializeSpinLock(&g_lock);
    g_lock_ready = true;
  }
  for (WCHAR i = 0; i < 26; ++i) {  // a letter at a time: one target on the stack
    DriveTarget fresh;
    if (!read_target(static_cast<WCHAR>(L'A' + i), fresh)) fresh.units = 0;
    KIRQL irql;
    KeAcquireSpinLock(&g_lock, &irql);
    RtlCopyMemory(&g_drives[i], &fresh, sizeof fresh);
    KeReleaseSpinLock(&g_lock, irql);
  }
}

std::u16string_view dos_image_path(char16_t* image, std::size_t length) {
  if (!g_lock_ready || length < 2 || image[0] != u'\\') return {image, length};
  // The image is SeLocateProcessImageName's, in paged pool: it must not be touched under the spin
  // lock (DISPATCH_LEVEL). Its start (a target and the backslash after it) is compared from a copy.
  char16_t head[kMaxTargetUnits + 1];
  const std::size_t head_length = length < kMaxTargetUnits + 1 ? length : kMaxTargetUnits + 1;
  for (std::size_t i = 0; i < head_length; ++i) head[i] = image[i];
  KIRQL irql;
  KeAcquireSpinLock(&g_lock, &irql);
  int letter = -1;
  USHORT units = 0;
  for (int i = 0; i < 26 && letter < 0; ++i) {
    if (under(g_drives[i], head, head_length)) {
      letter = i;
      units = g_drives[i].units;
    }
  }
  KeReleaseSpinLock(&g_lock, irql);
  if (letter < 0) return {image, length};
  // "C:" then the rest from its backslash on; the target is at least two units long.
  image[0] = static_cast<char16_t>(u'A' + letter);
  image[1] = u':';
  const std::size_t rest = length - units;
  for (std::size_t i = 0; i < rest; ++i) image[2 + i] = image[units + i];
  return {image, 2 + rest};
}

}  // namespace hivewarden::driver
