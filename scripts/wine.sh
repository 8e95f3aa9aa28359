#!/usr/bin/env bash
# Runs a Windows x64 program under wine64 with a prefix private to the build directory (so that
# runs in different build trees do not collide), quietly. The first run creates the prefix (slow).
#   scripts/wine.sh BUILD_DIR PROGRAM.exe [ARGS...]
set -euo pipefail
build=$1; shift
wine=$(command -v wine64 || true)
[ -n "$wine" ] || [ ! -x /usr/lib/wine/wine64 ] || wine=/usr/lib/wine/wine64  # Debian's wine64 package
[ -n "$wine" ] || { echo "wine.sh: wine64 not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
export WINEPREFIX
WINEPREFIX=$(cd "$build" && pwd)/wine
export WINEDEBUG=-all
mkdir -p "$WINEPREFIX"
exec "$wine" "$@"
