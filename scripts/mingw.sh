#!/usr/bin/env bash
# The Windows stage of CI: cross-compiles mmpool with MinGW-w64 (mingw
# preset: mmpool.dll, libmmpool.a, tests, examples, the mmpool tool) and
# runs the test suite under Wine. On a fresh Debian 12 machine, as root or
# with sudo: installs the cross compilers, Wine and dpkg-dev, builds cmocka
# for Windows from Debian's source package (cmake/mingw-cmocka.sh), then
# configures, builds and tests.
#
#   scripts/mingw.sh            # everything
#   MMPOOL_JOBS=4 scripts/mingw.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${MMPOOL_JOBS:-2}
start=$(date +%s)
step() {
  echo "mingw: $1 ($(($(date +%s) - start)) s)"
}

step "installing packages"
scripts/setup.sh gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine wine64 dpkg-dev

step "building cmocka for MinGW"
cmake/mingw-cmocka.sh "$root/build/mingw-deps"

step "configuring and building the mingw preset"
cmake --preset mingw >/dev/null
cmake --build --preset mingw -j "$jobs"

# The test preset runs everything under Wine; the wine_start and wine_stop
# fixtures start and stop one wineserver in build/mingw/wineprefix.
step "testing under Wine"
ctest --preset mingw --timeout 300
step "done"
