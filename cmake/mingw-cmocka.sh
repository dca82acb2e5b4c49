#!/usr/bin/env bash
# Builds cmocka for MinGW-w64 from Debian's source package, since Debian
# ships no Windows build of it, and installs it (static library, header,
# cmocka.pc) into a prefix that the mingw preset searches.
#
#   cmake/mingw-cmocka.sh [PREFIX]     (default: build/mingw-deps)
#
# Needs dpkg-dev and a deb-src entry for the running release: one is added
# (as root) when apt has none. Does nothing when PREFIX already holds cmocka.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(realpath -m "${1:-$root/build/mingw-deps}")
work=$prefix/src
toolchain=$root/cmake/mingw-w64-x86_64.cmake

if [ -f "$prefix/lib/pkgconfig/cmocka.pc" ] && [ -f "$prefix/include/cmocka.h" ]; then
  echo "mingw-cmocka: already in $prefix"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

# apt-get source needs a deb-src line for the release the machine runs.
has_src() {
  grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! has_src; then
  . /etc/os-release
  echo "mingw-cmocka: adding a deb-src entry for $VERSION_CODENAME"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    $sudo tee /etc/apt/sources.list.d/mmpool-src.sources >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  else
    echo "deb-src http://deb.debian.org/debian $VERSION_CODENAME main" |
      $sudo tee /etc/apt/sources.list.d/mmpool-src.list >/dev/null
  fi
  $sudo apt-get update -qq
fi

rm -rf "$work"
mkdir -p "$work"
(cd "$work" && apt-get source -qq --download-only cmocka &&
  dpkg-source -x --no-check ./cmocka_*.dsc cmocka >/dev/null)

# Static, so that the tests need no cmocka DLL next to them.
cmake -S "$work/cmocka" -B "$work/build" \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DBUILD_SHARED_LIBS=OFF \
  -DWITH_STATIC_LIB=ON \
  -DWITH_EXAMPLES=OFF \
  -DUNIT_TESTING=OFF \
  -DPICKY_DEVELOPER=OFF >/dev/null
cmake --build "$work/build" -j2 >/dev/null
cmake --install "$work/build" >/dev/null
# cmocka 1.1 always builds a DLL as well; keep only the static library,
# under the name cmocka.pc links (-lcmocka).
mv "$prefix/lib/libcmocka-static.a" "$prefix/lib/libcmocka.a"
rm -rf "$prefix/lib/libcmocka.dll.a" "$prefix/bin/cmocka.dll" "$prefix/lib/cmake/cmocka"
echo "mingw-cmocka: installed in $prefix"
