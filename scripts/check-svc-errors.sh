#!/usr/bin/env bash
# hivewarden-svc.exe's error paths under wine64 with no driver loaded: each refusal is a clear
# message and exit code 2, never a crash; a compiled policy up to the driver's cap (64 MiB) is
# read and sent (here: no device), a larger one is refused as too big before anything is sent.
#   scripts/check-svc-errors.sh WIN_BUILD
set -uo pipefail
win=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
# expect EXIT_CODE TEXT ARGS...: the program exits with EXIT_CODE and its output contains TEXT.
expect() {
  local code=$1 text=$2; shift 2
  local out rc
  out=$(bash "$root/scripts/wine.sh" "$win" "$win/hivewarden-svc.exe" "$@" 2>&1)
  rc=$?
  if [ "$rc" != "$code" ] || ! grep -qF -- "$text" <<<"$out"; then
    echo "FAIL: hivewarden-svc $*: exit $rc (want $code), output:"; echo "$out" | sed 's/^/    /'
    echo "    (wanted: $text)"
    failures=$((failures + 1))
  else
    echo "ok: hivewarden-svc $* -> $code: $text"
  fi
}
truncate -s $((20 << 20)) "$tmp/20mib.hwp"
truncate -s $(((64 << 20) + 1)) "$tmp/over.hwp"
zdir="Z:$tmp"
expect 0 "usage: hivewarden-svc push" --help
expect 2 "usage:" bogus
expect 2 "no such device: is hivewarden.sys loaded?" status
expect 2 "no such device" monitor
expect 2 "no such device" monitor --json
expect 2 "no such device" "push" "$zdir/20mib.hwp"
expect 2 "too big: the driver takes at most 64 MiB" "push" "$zdir/over.hwp"
expect 2 "cannot open" "push" "$zdir/missing.hwp"
expect 2 "is not a process id" set-process 0 none none
expect 2 "is not a process id" set-process 99999999999 none none
expect 2 "unknown process flag" set-process 12 bogus none
expect 2 "no such device" set-process 12 excluded none
[ "$failures" = 0 ] && echo "check-svc-errors: ok" || { echo "check-svc-errors: $failures failed"; exit 1; }
