#!/usr/bin/env bash
# Installs the Debian packages hivewarden builds with, only those that are missing.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail
packages=(
  cmake ninja-build g++ make pkg-config
  python3              # scripts/check-layers (CI) and its test; the reference evaluators in tests/
  python3-yaml         # tests/sigma/sigma_reference_test.py reads Sigma rules (YAML)
  python3-dev python3-pybind11  # the Python module (src/python, make python) and its tests
  python3-distributed python3-dask  # fleet replay on Dask (hivewarden.fleet) and its tests
  libyaml-cpp-dev      # policy YAML (SPEC §8): line/column-aware parser
  nlohmann-json3-dev   # eval JSON lines (SPEC §9)
  libcli11-dev         # command line with --help on every subcommand
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev     # bench/
  libre2-dev libhyperscan-dev  # bench baselines: the regex engines the matcher is measured against
  zlib1g-dev           # reads gzip'd hive exports for benchmark key names; the tests' gzip logs
  libisal-dev          # ISA-L's igzip inflates gzip'd event logs (src/replay)
  libhivex-dev         # real registry hive files (regf) into the in-memory registry
  libevtx-dev libbfio-dev libevtx-utils  # Windows event logs (.evtx; libevtx.h needs libbfio.h); evtxexport for the tests' counts
  libpugixml-dev       # event XML (wevtutil, evtxexport, and EVTX records as XML)
  clang libclang-rt-14-dev     # libFuzzer targets (make fuzz, make fuzz-smoke)
  g++-mingw-w64-x86-64 mingw-w64-x86-64-dev binutils-mingw-w64-x86-64  # hivewarden.sys / hivewarden-svc.exe
  googletest dpkg-dev   # the core's tests built for Windows: GoogleTest's sources; apt-get source (yaml-cpp)
  wine64                # runs the driver in a box and the Windows tests (make windows)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
