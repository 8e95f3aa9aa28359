#!/usr/bin/env bash
# Checks the cross-compiled driver: a native-subsystem PE image entered at DriverEntry, importing
# only from ntoskrnl.exe and hal.dll, with no C++ runtime (exceptions, RTTI, unwinding) in it.
set -euo pipefail
dir=${1:-build-win}
sys="$dir/hivewarden.sys"
svc="$dir/hivewarden-svc.exe"
objdump=x86_64-w64-mingw32-objdump
nm=x86_64-w64-mingw32-nm
fail() { echo "check-windows-binaries: FAIL: $*" >&2; exit 1; }
[ -f "$sys" ] || fail "$sys missing"
[ -f "$svc" ] || fail "$svc missing"
headers=$($objdump -p "$sys")
grep -q "Subsystem.*(NT native)" <<<"$headers" || fail "hivewarden.sys is not a native-subsystem image"
dlls=$(grep "DLL Name:" <<<"$headers" | awk '{print tolower($3)}' | sort -u)
for dll in $dlls; do
  case "$dll" in ntoskrnl.exe|hal.dll) ;; *) fail "hivewarden.sys imports from $dll";; esac
done
entry=$(grep "AddressOfEntryPoint" <<<"$headers" | awk '{print $2}')
driver_entry=$($nm "$sys" | awk '$3=="DriverEntry" {print $1}')
[ -n "$driver_entry" ] || fail "no DriverEntry symbol"
[ "$((16#$entry + 0x140000000))" = "$((16#$driver_entry))" ] || fail "entry point $entry is not DriverEntry ($driver_entry)"
if $nm -C "$sys" | grep -Eq "typeinfo|__cxa_|__gxx_personality|_Unwind_Resume|operator new|operator delete"; then
  $nm -C "$sys" | grep -E "typeinfo|__cxa_|__gxx_personality|_Unwind_Resume|operator new|operator delete" >&2
  fail "hivewarden.sys carries C++ runtime pieces"
fi
grep -q "Subsystem.*(Windows CUI)" <<<"$($objdump -p "$svc")" || fail "hivewarden-svc.exe is not a console program"
echo "check-windows-binaries: ok: hivewarden.sys is native, imports only $(echo $dlls | tr '\n' ' '), no C++ runtime; hivewarden-svc.exe is a console program"
