// The stand-in kernel is as strict as Windows with Driver Verifier: each check is proved here by a
// tiny "bad driver" routine that calls a routine wrongly on purpose (run under bugcheck_of, so that
// the bugcheck ends only its thread), next to the right call, which must pass. The real driver
// runs under the same checks in every other case. Compiled as driver code (DDK headers, imports
// through the box's __imp_ table), so the calls go where the driver's go.
#include <ntddk.h>

#include <cstring>

#include "box.hpp"
#include "runner.hpp"
#include "service.hpp"

extern "C" NTKERNELAPI NTSTATUS NTAPI ObOpenObjectByPointer(
    PVOID object, ULONG attributes, PACCESS_STATE access_state, ACCESS_MASK desired_access,
    POBJECT_TYPE type, KPROCESSOR_MODE access_mode, PHANDLE handle);
namespace box::kernel {
PDRIVER_OBJECT current_driver();
}

namespace box::cases {
namespace {

constexpr ULONG kTag = 0x74537842;  // 'BxSt'
constexpr ULONG kIrqlCode = 0xD1, kVerifierCode = 0xC4, kBadPoolCode = 0xC2, kIoCode = 0xC9;

using Body = void (*)(void*);

// `bad` must end in a bugcheck `code` whose reason mentions `words`.
void expect_bugcheck(Report& report, const char* what, Body bad, ULONG code, const char* words,
                     void* argument = nullptr) {
  const std::uint32_t got = bugcheck_of(bad, argument);
  if (got != code || std::strstr(last_bugcheck_reason(), words) == nullptr) {
    report.fail("%s: bugcheck 0x%lx (\"%s\"), wanted 0x%lx naming \"%s\"", what,
                static_cast<unsigned long>(got), last_bugcheck_reason(),
                static_cast<unsigned long>(code), words);
  }
}

void expect_clean(Report& report, const char* what, Body good, void* argument = nullptr) {
  const std::uint32_t got = bugcheck_of(good, argument);
  if (got != 0) {
    report.fail("%s: the right call bugchecked 0x%lx (%s)", what, static_cast<unsigned long>(got),
                last_bugcheck_reason());
  }
}

PVOID routine(const wchar_t* name) {
  UNICODE_STRING s;
  RtlInitUnicodeString(&s, name);
  return MmGetSystemRoutineAddress(&s);
}

// Looked up by name, as the driver does (at PASSIVE_LEVEL, before any lock).
using LocateImageName = NTSTATUS(NTAPI*)(PEPROCESS, PUNICODE_STRING*);
LocateImageName g_locate_image = nullptr;
NTSTATUS SeLocateProcessImageName(PEPROCESS process, PUNICODE_STRING* name) {
  return g_locate_image(process, name);
}

// --- IRQL: a routine that needs PASSIVE_LEVEL or APC_LEVEL, called under a spin lock ------------
KSPIN_LOCK g_lock_a, g_lock_b;

// A lock of its own: a bugchecked thread ends holding it.
template <void (*Call)()>
void at_dispatch(void*) {
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  KIRQL irql;
  KeAcquireSpinLock(&lock, &irql);
  Call();
  KeReleaseSpinLock(&lock, irql);
}

void open_key() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"\\REGISTRY\\MACHINE\\SOFTWARE");
  OBJECT_ATTRIBUTES attributes;
  InitializeObjectAttributes(&attributes, &name, OBJ_KERNEL_HANDLE, nullptr, nullptr);
  HANDLE key;
  ZwOpenKey(&key, KEY_READ, &attributes);
}
void query_value() {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"Current");
  UCHAR buffer[64];
  ULONG length;
  ZwQueryValueKey(nullptr, &name, KeyValuePartialInformation, buffer, sizeof buffer, &length);
}
void close_handle() {
  ZwClose(nullptr);
}
void wait_with_timeout() {
  KEVENT event;
  KeInitializeEvent(&event, NotificationEvent, FALSE);
  LARGE_INTEGER timeout;
  timeout.QuadPart = -10000;
  KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &timeout);
}
void delay() {
  LARGE_INTEGER interval;
  interval.QuadPart = -10000;
  KeDelayExecutionThread(KernelMode, FALSE, &interval);
}
void open_by_pointer() {
  HANDLE h;
  ObOpenObjectByPointer(nullptr, OBJ_KERNEL_HANDLE, nullptr, KEY_READ, nullptr, KernelMode, &h);
}
using GetName = NTSTATUS(NTAPI*)(PLARGE_INTEGER, PVOID, PULONG_PTR, PCUNICODE_STRING*, ULONG);
GetName g_get_name = nullptr;
void key_name() {
  PCUNICODE_STRING name;
  LARGE_INTEGER cookie{};
  g_get_name(&cookie, nullptr, nullptr, &name, 0);
}
void image_name() {
  PUNICODE_STRING name;
  SeLocateProcessImageName(PsGetCurrentProcess(), &name);
}
void paged_allocation() {
  ExAllocatePoolWithTag(PagedPool, 64, kTag);
}
void create_device() {
  PDEVICE_OBJECT device;
  IoCreateDevice(nullptr, 0, nullptr, FILE_DEVICE_UNKNOWN, 0, FALSE, &device);
}
void routine_address() {
  routine(L"ExAllocatePool2");
}
void zero_timeout_wait() {  // allowed at DISPATCH_LEVEL: it only tests the state
  KEVENT event;
  KeInitializeEvent(&event, NotificationEvent, TRUE);
  LARGE_INTEGER timeout;
  timeout.QuadPart = 0;
  KeWaitForSingleObject(&event, Executive, KernelMode, FALSE, &timeout);
}
void nonpaged_allocation() {  // allowed at DISPATCH_LEVEL
  ExFreePoolWithTag(ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag), kTag);
}

}  // namespace

BOX_CASE(strict_irql_passive_routines_bugcheck_at_dispatch) {
  g_get_name = reinterpret_cast<GetName>(routine(L"CmCallbackGetKeyObjectIDEx"));
  g_locate_image = reinterpret_cast<LocateImageName>(routine(L"SeLocateProcessImageName"));
  const struct {
    const char* name;
    Body bad;
  } calls[] = {
      {"ZwOpenKey", at_dispatch<open_key>},
      {"ZwQueryValueKey", at_dispatch<query_value>},
      {"ZwClose", at_dispatch<close_handle>},
      {"KeWaitForSingleObject", at_dispatch<wait_with_timeout>},
      {"KeDelayExecutionThread", at_dispatch<delay>},
      {"ObOpenObjectByPointer", at_dispatch<open_by_pointer>},
      {"CmCallbackGetKeyObjectIDEx", at_dispatch<key_name>},
      {"SeLocateProcessImageName", at_dispatch<image_name>},
      {"a paged pool allocation", at_dispatch<paged_allocation>},
      {"IoCreateDevice", at_dispatch<create_device>},
      {"MmGetSystemRoutineAddress", at_dispatch<routine_address>},
  };
  for (const auto& c : calls) expect_bugcheck(report, c.name, c.bad, kIrqlCode, c.name);
  expect_clean(report, "a zero time-out wait at DISPATCH_LEVEL", at_dispatch<zero_timeout_wait>);
  expect_clean(report, "non-paged pool at DISPATCH_LEVEL", at_dispatch<nonpaged_allocation>);
}

// --- spin locks ---------------------------------------------------------------------------------
namespace {
void acquire_twice(void*) {
  KIRQL a, b;
  KeAcquireSpinLock(&g_lock_a, &a);
  KeAcquireSpinLock(&g_lock_a, &b);
}
void acquire_and_leave(void*) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock_a, &irql);
}
void release_only(void*) {
  KeReleaseSpinLock(&g_lock_a, PASSIVE_LEVEL);
}
void release_with_other_irql(void*) {
  KIRQL irql;
  KeAcquireSpinLock(&g_lock_a, &irql);
  KeReleaseSpinLock(&g_lock_a, DISPATCH_LEVEL);
}
void release_outer_first(void*) {
  KIRQL a, b;
  KeAcquireSpinLock(&g_lock_a, &a);
  KeAcquireSpinLock(&g_lock_b, &b);
  KeReleaseSpinLock(&g_lock_a, a);  // the IRQL drops to PASSIVE_LEVEL with b still held
}
void nested_in_reverse(void*) {
  KIRQL a, b;
  KeAcquireSpinLock(&g_lock_b, &b);
  KeAcquireSpinLock(&g_lock_a, &a);
  KeReleaseSpinLock(&g_lock_a, a);
  KeReleaseSpinLock(&g_lock_b, b);
}
void nested_in_order(void*) {
  KIRQL a, b;
  KeAcquireSpinLock(&g_lock_a, &a);
  KeAcquireSpinLock(&g_lock_b, &b);
  KeReleaseSpinLock(&g_lock_b, b);
  KeReleaseSpinLock(&g_lock_a, a);
}
}  // namespace

BOX_CASE(strict_spin_locks_owned_not_recursive_irql_restored) {
  KeInitializeSpinLock(&g_lock_a);
  KeInitializeSpinLock(&g_lock_b);
  expect_bugcheck(report, "recursive acquire", acquire_twice, kVerifierCode, "already holds");
  KeInitializeSpinLock(&g_lock_a);
  report.check(bugcheck_of(acquire_and_leave) == 0, "a thread takes the lock and ends");
  expect_bugcheck(report, "release by another thread", release_only, 0x10, "another thread");
  KeInitializeSpinLock(&g_lock_a);
  expect_bugcheck(report, "release of a lock not held", release_only, 0x10, "not held");
  expect_bugcheck(report, "release restoring another IRQL", release_with_other_irql, kIrqlCode,
                  "its acquire was made at PASSIVE_LEVEL");
  KeInitializeSpinLock(&g_lock_a);
  expect_bugcheck(report, "IRQL lowered with a lock held", release_outer_first, kIrqlCode,
                  "another spin lock is held");
  KeInitializeSpinLock(&g_lock_a);
  KeInitializeSpinLock(&g_lock_b);
  expect_clean(report, "nested locks released in order", nested_in_order);
  expect_bugcheck(report, "the same two locks taken the other way round", nested_in_reverse,
                  kVerifierCode, "both orders");
}

// --- the registry callback ----------------------------------------------------------------------
namespace {
LARGE_INTEGER g_cookie;
enum class Misdeed {
  kNone,
  kHoldLock,
  kContextOutsideSection1,
  kContextThenRefuse,
  kDeepStack,
  kReadUserData,
  kCopyUserData
};
volatile UCHAR g_user_byte;

__attribute__((noinline)) ULONG use_stack(ULONG bytes) {
  UCHAR area[20 * 1024];
  for (ULONG i = 0; i < bytes && i < sizeof area; ++i) area[i] = static_cast<UCHAR>(i);
  asm volatile("" : : "r"(area) : "memory");
  return area[bytes / 2];
}
Misdeed g_misdeed = Misdeed::kNone;
UCHAR g_context_target;

NTSTATUS bad_callback(PVOID, PVOID argument1, PVOID argument2) {
  const auto cls = static_cast<REG_NOTIFY_CLASS>(reinterpret_cast<ULONG_PTR>(argument1));
  KIRQL irql;
  switch (g_misdeed) {
    case Misdeed::kHoldLock:
      KeAcquireSpinLock(&g_lock_a, &irql);
      return STATUS_SUCCESS;
    case Misdeed::kReadUserData:  // a user caller's buffer, read as if it were the kernel's
      if (cls == RegNtPreSetValueKey) {
        g_user_byte =
            *static_cast<UCHAR*>(static_cast<PREG_SET_VALUE_KEY_INFORMATION>(argument2)->Data);
      }
      return STATUS_SUCCESS;
    case Misdeed::kCopyUserData:
      if (cls == RegNtPreSetValueKey) {
        using Copy = NTSTATUS(NTAPI*)(PVOID, PVOID, SIZE_T, ULONG, PSIZE_T);
        UCHAR first = 0;
        SIZE_T copied = 0;
        reinterpret_cast<Copy>(routine(L"MmCopyMemory"))(
            &first, static_cast<PREG_SET_VALUE_KEY_INFORMATION>(argument2)->Data, 1,
            0x2 /* MM_COPY_MEMORY_VIRTUAL */, &copied);
        g_user_byte = first;
      }
      return STATUS_SUCCESS;
    case Misdeed::kDeepStack:
      use_stack(20 * 1024);  // a 24 KB kernel stack would not have it
      return STATUS_SUCCESS;
    case Misdeed::kContextOutsideSection1:
      if (cls == RegNtPreOpenKeyEx) {
        static_cast<PREG_CREATE_KEY_INFORMATION_V1>(argument2)->CallContext = &g_context_target;
      }
      return STATUS_SUCCESS;
    case Misdeed::kContextThenRefuse:
      if (cls == RegNtPreSetValueKey) {
        static_cast<PREG_SET_VALUE_KEY_INFORMATION>(argument2)->CallContext = &g_context_target;
        return STATUS_ACCESS_DENIED;
      }
      return STATUS_SUCCESS;
    case Misdeed::kNone:
      if (cls == RegNtPreSetValueKey) {
        static_cast<PREG_SET_VALUE_KEY_INFORMATION>(argument2)->CallContext = &g_context_target;
      }
      return STATUS_SUCCESS;
  }
  return STATUS_SUCCESS;
}

void register_bad_callback(Report& report) {
  UNICODE_STRING altitude;
  RtlInitUnicodeString(&altitude, L"415399");
  static DRIVER_OBJECT bad_driver{};
  report.check(NT_SUCCESS(CmRegisterCallbackEx(bad_callback, &altitude, &bad_driver, nullptr,
                                               &g_cookie, nullptr)),
               "the bad driver's callback registers");
}

void one_operation(void* cls) {
  RegOp op = set_value(L"\\REGISTRY\\MACHINE\\SOFTWARE\\Box\\Strict", L"Value");
  op.pre_class = static_cast<std::uint32_t>(reinterpret_cast<ULONG_PTR>(cls));
  cm_call(op);
}
void user_operation(void* cls) {
  become(kRegPid);  // user mode: the set-value's data is in the caller's memory
  one_operation(cls);
}
void* class_argument(std::uint32_t cls) {
  return reinterpret_cast<void*>(static_cast<ULONG_PTR>(cls));
}
}  // namespace

BOX_CASE(strict_registry_callback_returns_clean_and_pairs_by_call_context) {
  const struct {
    Misdeed misdeed;
    std::uint32_t cls;
    ULONG code;
    const char* words;
  } bad[] = {
      {Misdeed::kHoldLock, RegNtPreSetValueKey, kVerifierCode, "returned holding 1 spin lock"},
      {Misdeed::kContextOutsideSection1, RegNtPreOpenKeyEx, kVerifierCode, "outside SPEC 1"},
      {Misdeed::kDeepStack, RegNtPreSetValueKey, 0x7F, "bytes of stack"},
      {Misdeed::kReadUserData, RegNtPreSetValueKey, kVerifierCode,
       "user-mode buffer read directly"},
      {Misdeed::kContextThenRefuse, RegNtPreSetValueKey, kVerifierCode, "no post will carry it"},
  };
  for (const auto& b : bad) {
    machine_reset();
    KeInitializeSpinLock(&g_lock_a);
    register_bad_callback(report);
    g_misdeed = b.misdeed;
    define_box_processes();
    expect_bugcheck(report, b.words, user_operation, b.code, b.words, class_argument(b.cls));
    cm_reset();  // the bugchecked thread never left the callback
  }
  machine_reset();
  define_box_processes();
  register_bad_callback(report);
  g_misdeed = Misdeed::kCopyUserData;
  expect_clean(report, "a user caller's data read through MmCopyMemory", user_operation,
               class_argument(RegNtPreSetValueKey));
  report.check(g_user_byte == 'b', "MmCopyMemory read the caller's first byte");
  cm_reset();
  machine_reset();
  register_bad_callback(report);
  g_misdeed = Misdeed::kNone;
  expect_clean(report, "a set-value pre that keeps a context for its post", one_operation,
               class_argument(RegNtPreSetValueKey));
  report.check(NT_SUCCESS(CmUnRegisterCallback(g_cookie)), "the callback unregisters");
}

// --- IRPs ---------------------------------------------------------------------------------------
namespace {
enum class IrpMisdeed {
  kCompleteTwice,
  kPendingUnmarked,
  kMarkedNotPending,
  kNotCompleted,
  kCancelRoutineLeft,
  kInformationTooLarge,
  kStatusDiffers,
  kLockHeld,
  kRight
};
IrpMisdeed g_irp_misdeed = IrpMisdeed::kRight;
PIRP g_left_irp = nullptr;  // an IRP a misdeed left incomplete: the case completes it after

VOID NTAPI never_called(PDEVICE_OBJECT, PIRP) {}

NTSTATUS complete(PIRP irp, NTSTATUS status, ULONG_PTR information = 0) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = information;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return status;
}

NTSTATUS NTAPI bad_dispatch(PDEVICE_OBJECT, PIRP irp) {
  g_left_irp = irp;
  const ULONG out =
      IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
  KIRQL irql;
  switch (g_irp_misdeed) {
    case IrpMisdeed::kCompleteTwice:
      complete(irp, STATUS_SUCCESS);
      return complete(irp, STATUS_SUCCESS);
    case IrpMisdeed::kPendingUnmarked:
      complete(irp, STATUS_SUCCESS);
      return STATUS_PENDING;
    case IrpMisdeed::kMarkedNotPending:
      IoMarkIrpPending(irp);
      return complete(irp, STATUS_SUCCESS);
    case IrpMisdeed::kNotCompleted:
      return STATUS_SUCCESS;
    case IrpMisdeed::kCancelRoutineLeft:
      static_cast<void>(IoSetCancelRoutine(irp, never_called));
      return complete(irp, STATUS_SUCCESS);
    case IrpMisdeed::kInformationTooLarge:
      return complete(irp, STATUS_SUCCESS, out + 1);
    case IrpMisdeed::kStatusDiffers:
      complete(irp, STATUS_SUCCESS);
      return STATUS_ACCESS_DENIED;
    case IrpMisdeed::kLockHeld:
      KeAcquireSpinLock(&g_lock_a, &irql);
      return complete(irp, STATUS_SUCCESS);
    case IrpMisdeed::kRight:
      break;
  }
  g_left_irp = nullptr;
  return complete(irp, STATUS_SUCCESS, out);
}

void send_ioctl(void* handle) {
  UCHAR out[8];
  io_control(static_cast<Handle*>(handle), hivewarden::win::kIoctlGetCounters, nullptr, 0, out,
             sizeof out);
}

// An IRP a misdeed left without completion is completed now, so that the handle can close.
void finish_left_irp(IrpMisdeed misdeed) {
  if (misdeed != IrpMisdeed::kNotCompleted && misdeed != IrpMisdeed::kCancelRoutineLeft &&
      misdeed != IrpMisdeed::kInformationTooLarge) {
    return;  // completed already
  }
  if (g_left_irp == nullptr) return;
  PIRP irp = g_left_irp;
  g_left_irp = nullptr;
  irp->CancelRoutine = nullptr;
  irp->IoStatus.Information = 0;
  if (irp->IoStatus.Status == STATUS_PENDING) irp->IoStatus.Status = STATUS_CANCELLED;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}
}  // namespace

BOX_CASE(strict_irps_completed_once_pending_marked_information_bounded) {
  if (!report.check(load_driver() == kStatusSuccess, "the driver loads")) return;
  std::int32_t status = 0;
  Handle* h = open_device_as(Caller::kSystem, kReadWrite, status);
  if (!report.check(h != nullptr, "the device opens")) return;
  PDRIVER_OBJECT driver = kernel::current_driver();
  PDRIVER_DISPATCH real = driver->MajorFunction[IRP_MJ_DEVICE_CONTROL];
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = bad_dispatch;
  const struct {
    IrpMisdeed misdeed;
    ULONG code;
    const char* words;
  } bad[] = {
      {IrpMisdeed::kCompleteTwice, MULTIPLE_IRP_COMPLETE_REQUESTS, "completed twice"},
      {IrpMisdeed::kPendingUnmarked, kIoCode, "without IoMarkIrpPending"},
      {IrpMisdeed::kMarkedNotPending, kIoCode, "not STATUS_PENDING"},
      {IrpMisdeed::kNotCompleted, kIoCode, "without completing"},
      {IrpMisdeed::kCancelRoutineLeft, 0x48, "cancel routine still set"},
      {IrpMisdeed::kInformationTooLarge, kIoCode, "larger than the output buffer"},
      {IrpMisdeed::kStatusDiffers, kIoCode, "completed the IRP with"},
      {IrpMisdeed::kLockHeld, kVerifierCode, "a dispatch routine returned holding"},
  };
  for (const auto& b : bad) {
    KeInitializeSpinLock(&g_lock_a);
    g_irp_misdeed = b.misdeed;
    expect_bugcheck(report, b.words, send_ioctl, b.code, b.words, h);
    finish_left_irp(b.misdeed);
  }
  g_irp_misdeed = IrpMisdeed::kRight;
  expect_clean(report, "a request completed once with its status", send_ioctl, h);
  driver->MajorFunction[IRP_MJ_DEVICE_CONTROL] = real;
  become(4, true);
  io_close(h);
  unload_driver();
}

// --- pool ---------------------------------------------------------------------------------------
namespace {
void free_with_other_tag(void*) {
  ExFreePoolWithTag(ExAllocatePoolWithTag(NonPagedPoolNx, 32, kTag), 0x7268744F /* 'Othr' */);
}
void free_twice(void*) {
  void* p = ExAllocatePoolWithTag(NonPagedPoolNx, 32, kTag);
  ExFreePoolWithTag(p, kTag);
  ExFreePoolWithTag(p, kTag);
}
void free_not_pool(void*) {
  static UCHAR not_pool[64];
  ExFreePool(not_pool + 16);
}
void free_inside_block(void*) {
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag));
  ExFreePool(p + 16);
}
void allocate_nothing(void*) {
  ExAllocatePoolWithTag(NonPagedPoolNx, 0, kTag);
}
void write_after_free(void*) {
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(NonPagedPoolNx, 64, kTag));
  ExFreePoolWithTag(p, kTag);
  p[10] = 1;
  verify_freed_pool();
}
void write_past_end(void*) {
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(NonPagedPoolNx, 40, kTag));
  p[40] = 1;
  ExFreePoolWithTag(p, kTag);
}
volatile UCHAR g_sink;
void paged_touched_at_dispatch(void*) {
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(PagedPool, 64, kTag));
  p[0] = 1;  // at PASSIVE_LEVEL: fine
  KIRQL irql;
  KeAcquireSpinLock(&g_lock_a, &irql);
  g_sink = p[1];
  KeReleaseSpinLock(&g_lock_a, irql);
}
void paged_touched_after_lock(void*) {  // paged back in below DISPATCH_LEVEL
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(PagedPool, 64, kTag));
  KIRQL irql;
  KeAcquireSpinLock(&g_lock_a, &irql);
  KeReleaseSpinLock(&g_lock_a, irql);
  p[2] = 1;
  ExFreePoolWithTag(p, kTag);
}
void paged_read_after_free(void*) {
  auto* p = static_cast<UCHAR*>(ExAllocatePoolWithTag(PagedPool, 64, kTag));
  ExFreePoolWithTag(p, kTag);
  g_sink = p[3];
}
void paged_freed_at_dispatch(void*) {
  void* p = ExAllocatePoolWithTag(PagedPool, 64, kTag);
  KIRQL irql;
  KeAcquireSpinLock(&g_lock_a, &irql);
  ExFreePoolWithTag(p, kTag);
}
void leak_then_unload(void*) {
  ExAllocatePoolWithTag(NonPagedPoolNx, 48, 0x6B61654C /* 'Leak' */);
  verify_nothing_left();
}
void event_in_paged_pool(void*) {
  KeInitializeEvent(static_cast<PKEVENT>(ExAllocatePoolWithTag(PagedPool, sizeof(KEVENT), kTag)),
                    NotificationEvent, FALSE);
}
void lock_in_paged_pool(void*) {
  auto* lock = static_cast<PKSPIN_LOCK>(ExAllocatePoolWithTag(PagedPool, sizeof(KSPIN_LOCK), kTag));
  KeInitializeSpinLock(lock);
  KIRQL irql;
  KeAcquireSpinLock(lock, &irql);
}
void right_pool_use(void*) {
  void* p = ExAllocatePoolWithTag(NonPagedPoolNx, 32, kTag);
  ExFreePoolWithTag(p, kTag);
  ExFreePool(ExAllocatePoolWithTag(PagedPool, 32, kTag));
  verify_freed_pool();
  verify_nothing_left();
}
}  // namespace

BOX_CASE(strict_pool_tags_double_frees_overruns_and_leaks) {
  expect_bugcheck(report, "free with another tag", free_with_other_tag, kBadPoolCode,
                  "with tag 'Othr' of a block tagged 'BxSt'");
  expect_bugcheck(report, "double free", free_twice, kBadPoolCode, "freed already");
  expect_bugcheck(report, "free of memory not from pool", free_not_pool, kBadPoolCode,
                  "the pool did not give");
  expect_bugcheck(report, "free inside a block", free_inside_block, kBadPoolCode,
                  "the pool did not give");
  expect_bugcheck(report, "allocation of zero bytes", allocate_nothing, kVerifierCode,
                  "zero bytes");
  expect_bugcheck(report, "write after free", write_after_free, 0xC1, "written after it was freed");
  expect_bugcheck(report, "write past the end", write_past_end, 0xC1, "outside its bounds");
  KeInitializeSpinLock(&g_lock_a);
  expect_bugcheck(report, "paged pool touched at DISPATCH_LEVEL", paged_touched_at_dispatch,
                  kIrqlCode, "touched at DISPATCH_LEVEL");
  KeInitializeSpinLock(&g_lock_a);
  expect_clean(report, "paged pool touched at PASSIVE_LEVEL after a lock",
               paged_touched_after_lock);
  expect_bugcheck(report, "paged pool read after free", paged_read_after_free, 0xCC,
                  "after it was freed");
  expect_bugcheck(report, "paged pool freed at DISPATCH_LEVEL", paged_freed_at_dispatch, kIrqlCode,
                  "freeing a paged pool block");
  KeInitializeSpinLock(&g_lock_a);
  expect_bugcheck(report, "a dispatcher object in paged pool", event_in_paged_pool, kVerifierCode,
                  "paged pool");
  expect_bugcheck(report, "a spin lock in paged pool", lock_in_paged_pool, kVerifierCode,
                  "a spin lock in paged pool");
  machine_reset();
  expect_bugcheck(report, "a block left at unload", leak_then_unload, kVerifierCode,
                  "1 pool block(s) not freed");
  machine_reset();
  expect_clean(report, "allocations freed with their tags", right_pool_use);
}

// --- objects: handles, key names, image names ---------------------------------------------------
namespace {
void open_key_handle(HANDLE& key, ULONG attributes) {
  UNICODE_STRING name;
  RtlInitUnicodeString(&name, L"\\REGISTRY\\MACHINE\\SOFTWARE");
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &name, attributes, nullptr, nullptr);
  key = nullptr;
  ZwOpenKey(&key, KEY_READ, &oa);
}
void close_twice(void*) {
  HANDLE key;
  open_key_handle(key, OBJ_KERNEL_HANDLE);
  ZwClose(key);
  ZwClose(key);
}
void user_handle(void*) {
  HANDLE key;
  open_key_handle(key, OBJ_CASE_INSENSITIVE);
}
void user_handle_by_pointer(void*) {
  HANDLE h;
  ObOpenObjectByPointer(nullptr, 0, nullptr, KEY_READ, nullptr, KernelMode, &h);
}
void handle_left_open(void*) {
  HANDLE key;
  open_key_handle(key, OBJ_KERNEL_HANDLE);
  verify_nothing_left();
}
void image_name_released_as_key_name(void*) {
  using Release = VOID(NTAPI*)(PCUNICODE_STRING);
  PUNICODE_STRING name;
  SeLocateProcessImageName(PsGetCurrentProcess(), &name);
  reinterpret_cast<Release>(routine(L"CmCallbackReleaseKeyObjectIDEx"))(name);
}
void image_name_freed_with_driver_tag(void*) {
  PUNICODE_STRING name;
  SeLocateProcessImageName(PsGetCurrentProcess(), &name);
  ExFreePoolWithTag(name, kTag);
}
void right_handles_and_names(void*) {
  HANDLE key;
  open_key_handle(key, OBJ_KERNEL_HANDLE);
  ZwClose(key);
  PUNICODE_STRING name;
  SeLocateProcessImageName(PsGetCurrentProcess(), &name);
  ExFreePool(name);
  verify_nothing_left();
}
}  // namespace

BOX_CASE(strict_handles_closed_once_names_released_by_their_routine) {
  g_locate_image = reinterpret_cast<LocateImageName>(routine(L"SeLocateProcessImageName"));
  define_box_processes();
  expect_bugcheck(report, "ZwClose twice", close_twice, 0x93, "not an open kernel handle");
  expect_bugcheck(report, "a handle without OBJ_KERNEL_HANDLE", user_handle, kVerifierCode,
                  "ZwOpenKey without OBJ_KERNEL_HANDLE");
  expect_bugcheck(report, "ObOpenObjectByPointer without OBJ_KERNEL_HANDLE", user_handle_by_pointer,
                  kVerifierCode, "ObOpenObjectByPointer without OBJ_KERNEL_HANDLE");
  machine_reset();
  expect_bugcheck(report, "a handle left open at unload", handle_left_open, kVerifierCode,
                  "1 kernel handle(s) not closed");
  machine_reset();
  define_box_processes();
  auto as_reg = [](void* body) {
    become(kRegPid);
    reinterpret_cast<Body>(body)(nullptr);
  };
  expect_bugcheck(report, "an image name released as a key name", as_reg, kBadPoolCode,
                  "which only ExFreePool",
                  reinterpret_cast<void*>(image_name_released_as_key_name));
  expect_bugcheck(report, "an image name freed with the driver's tag", as_reg, kBadPoolCode,
                  "of a block tagged 'SeIm'",
                  reinterpret_cast<void*>(image_name_freed_with_driver_tag));
  machine_reset();
  define_box_processes();
  expect_clean(report, "handles closed and names freed once", as_reg,
               reinterpret_cast<void*>(right_handles_and_names));
}

// Key names from CmCallbackGetKeyObjectIDEx, through a registry callback that has the key object.
namespace {
enum class NameMisdeed { kFreedWithExFreePool, kReleasedTwice, kRight };
NameMisdeed g_name_misdeed = NameMisdeed::kRight;

NTSTATUS name_callback(PVOID, PVOID argument1, PVOID argument2) {
  if (reinterpret_cast<ULONG_PTR>(argument1) != RegNtPreSetValueKey) return STATUS_SUCCESS;
  using Release = VOID(NTAPI*)(PCUNICODE_STRING);
  const auto get = reinterpret_cast<GetName>(routine(L"CmCallbackGetKeyObjectIDEx"));
  const auto release = reinterpret_cast<Release>(routine(L"CmCallbackReleaseKeyObjectIDEx"));
  PCUNICODE_STRING name = nullptr;
  if (!NT_SUCCESS(get(&g_cookie, static_cast<PREG_SET_VALUE_KEY_INFORMATION>(argument2)->Object,
                      nullptr, &name, 0))) {
    return STATUS_SUCCESS;
  }
  switch (g_name_misdeed) {
    case NameMisdeed::kFreedWithExFreePool:
      ExFreePool(const_cast<PUNICODE_STRING>(name));
      break;
    case NameMisdeed::kReleasedTwice:
      release(name);
      release(name);
      break;
    case NameMisdeed::kRight:
      release(name);
      break;
  }
  return STATUS_SUCCESS;
}
}  // namespace

BOX_CASE(strict_key_names_released_once_by_cm_routine) {
  const struct {
    NameMisdeed misdeed;
    ULONG code;
    const char* words;
  } bad[] = {
      {NameMisdeed::kFreedWithExFreePool, kBadPoolCode,
       "which only CmCallbackReleaseKeyObjectIDEx"},
      {NameMisdeed::kReleasedTwice, kBadPoolCode, "freed already"},
  };
  UNICODE_STRING altitude;
  RtlInitUnicodeString(&altitude, L"415398");
  static DRIVER_OBJECT name_driver{};
  for (const auto& b : bad) {
    machine_reset();
    CmRegisterCallbackEx(name_callback, &altitude, &name_driver, nullptr, &g_cookie, nullptr);
    g_name_misdeed = b.misdeed;
    expect_bugcheck(report, b.words, one_operation, b.code, b.words,
                    class_argument(RegNtPreSetValueKey));
    cm_reset();
  }
  machine_reset();
  CmRegisterCallbackEx(name_callback, &altitude, &name_driver, nullptr, &g_cookie, nullptr);
  g_name_misdeed = NameMisdeed::kRight;
  expect_clean(report, "a key name released once", one_operation,
               class_argument(RegNtPreSetValueKey));
  CmUnRegisterCallback(g_cookie);
  report.check(pool_stats().live_blocks == 0, "no key name left");
}

// --- semaphores ---------------------------------------------------------------------------------
namespace {
KSEMAPHORE g_semaphore;
void release_past_limit(void*) {
  KeInitializeSemaphore(&g_semaphore, 1, 1);
  KeReleaseSemaphore(&g_semaphore, IO_NO_INCREMENT, 1, FALSE);
}
void release_within_limit(void*) {
  KeInitializeSemaphore(&g_semaphore, 0, 2);
  KeReleaseSemaphore(&g_semaphore, IO_NO_INCREMENT, 2, FALSE);
}
}  // namespace

BOX_CASE(strict_semaphore_released_past_its_limit_bugchecks) {
  expect_bugcheck(report, "KeReleaseSemaphore past the limit", release_past_limit, 0x1E,
                  "past the limit");
  expect_clean(report, "KeReleaseSemaphore up to the limit", release_within_limit);
}

// --- the driver's own registry calls reach the callbacks, as on Windows -------------------------
namespace {
int g_nested_queries = 0, g_closes = 0, g_deepest = 0, g_depth = 0;
KPROCESSOR_MODE g_query_mode = UserMode;

void read_current_value() {
  UNICODE_STRING key_name, value_name;
  RtlInitUnicodeString(&key_name, L"\\REGISTRY\\MACHINE\\SYSTEM\\Select");
  RtlInitUnicodeString(&value_name, L"Current");
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &key_name, OBJ_KERNEL_HANDLE, nullptr, nullptr);
  HANDLE key = nullptr;
  if (!NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &oa))) return;
  UCHAR buffer[64];
  ULONG length = 0;
  ZwQueryValueKey(key, &value_name, KeyValuePartialInformation, buffer, sizeof buffer, &length);
  ZwClose(key);
}

NTSTATUS counting_callback(PVOID, PVOID argument1, PVOID) {
  const auto cls = static_cast<REG_NOTIFY_CLASS>(reinterpret_cast<ULONG_PTR>(argument1));
  if (++g_depth > g_deepest) g_deepest = g_depth;
  if (cls == RegNtPreQueryValueKey) {
    ++g_nested_queries;
    g_query_mode = ExGetPreviousMode();
  }
  if (cls == RegNtPreKeyHandleClose) ++g_closes;
  if (cls == RegNtPreSetValueKey) read_current_value();  // as the driver reads an old value
  --g_depth;
  return STATUS_SUCCESS;
}
}  // namespace

BOX_CASE(strict_drivers_own_registry_calls_reach_the_callbacks) {
  UNICODE_STRING altitude;
  RtlInitUnicodeString(&altitude, L"415397");
  static DRIVER_OBJECT counting_driver{};
  report.check(NT_SUCCESS(CmRegisterCallbackEx(counting_callback, &altitude, &counting_driver,
                                               nullptr, &g_cookie, nullptr)),
               "the callback registers");
  define_box_processes();
  become(kRegPid);  // a user's set-value; the callback's own read is kernel mode
  one_operation(class_argument(RegNtPreSetValueKey));
  report.check(g_nested_queries == 1, "the callback's own ZwQueryValueKey reaches it");
  report.check(g_query_mode == KernelMode, "as a kernel-mode operation");
  report.check(g_closes == 1, "and so does its ZwClose of the key handle");
  report.check(g_deepest == 2, "nested inside the set-value's own notification");
  become(4, true);
  CmUnRegisterCallback(g_cookie);
}

}  // namespace box::cases
