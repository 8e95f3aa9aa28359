#!/usr/bin/env bash
# run-windows-core-tests.sh EXE: runs the Windows build of the core's tests (src/win/cross/core_tests)
# under wine64, in a private Wine prefix next to EXE, from the checkout (the tests read
# policies/default.yaml by its path, which Wine reaches through drive Z:). Prints the counts as
# "N passed, N failed" and exits non-zero when a test fails or the run does not finish.
set -euo pipefail
exe=$(realpath "$1")
# Debian's wine64 package puts its loader in /usr/lib/wine; the wine package adds /usr/bin/wine64.
wine=$(command -v wine64 || command -v wine || ls /usr/lib/wine/wine64 2>/dev/null || true)
if [ -z "$wine" ]; then
  echo "run-windows-core-tests: wine64 is not installed (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
export WINEPREFIX="$(dirname "$exe")/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cd "$(dirname "$0")/.."
log=$(dirname "$exe")/core_tests.log
start=$(date +%s)
status=0
timeout 900 "$wine" "$exe" --gtest_brief=1 --gtest_color=no >"$log" 2>&1 || status=$?
"$(command -v wineserver || ls /usr/lib/wine/wineserver 2>/dev/null || echo true)" -k 2>/dev/null || true  # no Wine process left running
cat "$log"
# GoogleTest's closing lines: "[==========] N tests from M test suites ran." and "[  PASSED  ] N
# tests."; --gtest_brief leaves out the list of failures, so failed = ran - passed.
ran=$(sed -n 's/.*\[==========\] \([0-9]*\) tests\? from .* ran\..*/\1/p' "$log" | tail -n 1)
passed=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log" | tail -n 1)
failed=$((${ran:-0} - ${passed:-0}))
echo "windows-core-tests: ${passed:-0} passed, $failed failed"
echo "($((${ran:-0})) run under $(basename "$wine") in $(($(date +%s) - start)) s)"
if [ "$status" -ne 0 ] || [ -z "$ran" ] || [ "$ran" -eq 0 ] || [ "$failed" -ne 0 ]; then
  echo "run-windows-core-tests: FAIL (exit $status; log: $log)" >&2
  exit 1
fi
