#!/usr/bin/env bash
# fetch-yaml-cpp-source.sh DEST: yaml-cpp's source, the version Debian builds libyaml-cpp-dev from,
# unpacked in DEST/src (for the Windows core tests, which cross-build it with mingw-w64).
# Uses apt with a private source list and index under DEST, so the machine's apt set-up is left
# alone. Does nothing when DEST/src is already there.
set -euo pipefail
dest=$(realpath -m "$1")
if [ -f "$dest/src/CMakeLists.txt" ]; then exit 0; fi
mkdir -p "$dest/lists/partial" "$dest/download"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "deb-src http://deb.debian.org/debian $suite main" >"$dest/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$dest/sources.list" -o "Dir::Etc::SourceParts=-"
             -o "Dir::State::Lists=$dest/lists" -o "APT::Sandbox::User=root")
apt-get -qq "${apt_private[@]}" update
(cd "$dest/download" && apt-get -qq "${apt_private[@]}" source --download-only yaml-cpp)
tarball=$(ls "$dest"/download/yaml-cpp_*.orig.tar.* | head -n 1)
rm -rf "$dest/src.tmp" && mkdir -p "$dest/src.tmp"
tar -xf "$tarball" -C "$dest/src.tmp" --strip-components=1
rm -rf "$dest/lists"  # the source index is only needed for the download
mv "$dest/src.tmp" "$dest/src"
echo "fetch-yaml-cpp-source: $(basename "$tarball") unpacked in $dest/src"
