#!/usr/bin/env bash
# The driver in a box (tests/win/box): decides the box's operations with the Linux CLI, then runs
# hivewarden-box.exe (the driver's own objects on a user-mode ntoskrnl) under wine64. Fails when a
# box case fails.
#   scripts/run-box.sh LINUX_BUILD WIN_BUILD [CASE...]
set -euo pipefail
linux=$1; win=$2; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
data="$win/box-data"
mkdir -p "$data"
python3 "$root/tests/win/box/decisions.py" "$linux/src/cli/hivewarden" \
  "$root/tests/win/box/data/policy.yaml" "$root/tests/win/box/data/ops.jsonl" "$data"
# wine wants a Windows path for the data: Z: is the root of the Linux file system.
exec bash "$root/scripts/wine.sh" "$win" "$win/hivewarden-box.exe" --data "Z:$(cd "$data" && pwd)" "$@"
