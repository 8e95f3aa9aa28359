#!/usr/bin/env bash
# Runs a Windows x64 program under wine64 with a prefix private to the build directory (so that
# runs in different build trees do not collide), quietly, for at most WINE_TIMEOUT seconds (900).
# Stops the prefix's wineserver afterwards: no Wine process outlives the run. The first run creates
# the prefix (slow). The one way this project starts Wine (the box, the Windows core tests).
#   scripts/wine.sh BUILD_DIR PROGRAM.exe [ARGS...]
set -euo pipefail
build=$1; shift
# Debian's wine64 package puts its loader in /usr/lib/wine; the wine package adds /usr/bin/wine64.
wine=$(command -v wine64 || true)
[ -n "$wine" ] || [ ! -x /usr/lib/wine/wine64 ] || wine=/usr/lib/wine/wine64
[ -n "$wine" ] || { echo "wine.sh: wine64 not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
wineserver=$(command -v wineserver || true)
[ -n "$wineserver" ] || wineserver=$(dirname "$wine")/wineserver
export WINEPREFIX
WINEPREFIX=$(cd "$build" && pwd)/wine
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="  # no .NET / Gecko installers
mkdir -p "$WINEPREFIX"
status=0
timeout "${WINE_TIMEOUT:-900}" "$wine" "$@" || status=$?
"$wineserver" -k 2>/dev/null || true
exit "$status"
