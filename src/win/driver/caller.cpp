// Who is calling: the process and thread of a registry operation, as the engine needs them. The
// image is the C:\ form the policy's image globs are written in (volume_names.cpp), and the flags
// and rules the service set for the process (process_table.cpp) come with it.
#include "driver_internal.hpp"

namespace hivewarden::driver {
namespace {

using LocateImageName = NTSTATUS(NTAPI*)(PEPROCESS, PUNICODE_STRING*);
LocateImageName g_image_name = nullptr;
constexpr std::uint32_t kSystemPid = 4;

}  // namespace

bool find_caller_routines() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"SeLocateProcessImageName");
  g_image_name = reinterpret_cast<LocateImageName>(MmGetSystemRoutineAddress(&name));
  return g_image_name != nullptr;
}

Caller::~Caller() {
  if (image_ != nullptr) ExFreePool(image_);  // SeLocateProcessImageName's allocation
}

bool Caller::identify(OperationRequest& request) {
  const auto pid = reinterpret_cast<ULONG_PTR>(PsGetCurrentProcessId());
  ProcessIdentity& process = request.process;
  process.pid = static_cast<std::uint32_t>(pid);
  process.creation_time =
      static_cast<std::uint64_t>(PsGetProcessCreateTimeQuadPart(PsGetCurrentProcess()));
  request.thread_id = reinterpret_cast<std::uint64_t>(PsGetCurrentThreadId());
  std::uint32_t flags = 0, rules = 0;
  if (process_extra(pid, flags, rules)) {
    process.extra_flags = flags;
    process.extra_rules = rules;
  }
  if (process.pid == kSystemPid) {
    process.image = u"System";
    return true;
  }
  if (!NT_SUCCESS(g_image_name(PsGetCurrentProcess(), &image_)) || image_ == nullptr) {
    image_ = nullptr;
    return false;  // no memory: who is calling decides exemptions, so nothing can be decided
  }
  if (image_->Buffer == nullptr) return true;  // an image without a name (a minimal process)
  process.image = dos_image_path(reinterpret_cast<char16_t*>(image_->Buffer), image_->Length / 2);
  return true;
}

}  // namespace hivewarden::driver
