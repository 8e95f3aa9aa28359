#!/usr/bin/env bash
# run-windows-core-tests.sh WIN_BUILD EXE: runs the Windows build of the core's tests
# (src/win/cross/core_tests) under wine64 (scripts/wine.sh, the prefix in WIN_BUILD), from the checkout (the tests read
# policies/default.yaml by its path, which Wine reaches through drive Z:). Prints the counts as
# "N passed, N failed" and exits non-zero when a test fails or the run does not finish.
set -euo pipefail
win_build=$(realpath "$1")
exe=$(realpath "$2")
cd "$(dirname "$0")/.."
log=$(dirname "$exe")/core_tests.log
start=$(date +%s)
status=0
bash scripts/wine.sh "$win_build" "$exe" --gtest_brief=1 --gtest_color=no >"$log" 2>&1 || status=$?
cat "$log"
# GoogleTest's closing lines: "[==========] N tests from M test suites ran.", "[  PASSED  ] N
# tests." and, when some skip, "[  SKIPPED ] N tests."; --gtest_brief leaves out the list of
# failures, so failed = ran - passed - skipped.
ran=$(sed -n 's/.*\[==========\] \([0-9]*\) tests\? from .* ran\..*/\1/p' "$log" | tail -n 1)
passed=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) tests\?\..*/\1/p' "$log" | tail -n 1)
skipped=$(sed -n 's/.*\[  SKIPPED \] \([0-9]*\) tests\?,.*/\1/p; s/.*\[  SKIPPED \] \([0-9]*\) tests\?\..*/\1/p' "$log" |
  tail -n 1)
failed=$((${ran:-0} - ${passed:-0} - ${skipped:-0}))
echo "windows-core-tests: ${passed:-0} passed, ${skipped:-0} skipped, $failed failed"
echo "(${ran:-0} run under wine64 in $(($(date +%s) - start)) s)"
if [ "$status" -ne 0 ] || [ -z "$ran" ] || [ "$ran" -eq 0 ] || [ "$failed" -ne 0 ]; then
  echo "run-windows-core-tests: FAIL (exit $status; log: $log)" >&2
  exit 1
fi
