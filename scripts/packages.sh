#!/usr/bin/env bash
# Builds the release packages and proves them on this machine: run as root
# on a fresh Debian (12) machine. Each step fails the script:
#
#   1. a release tree in build/pkg-ci (prefix /usr), cpack -G DEB and -G TGZ
#   2. the files in each package: all expected ones, nothing else
#   3. the find_package consumer built against the unpacked .tar.gz files
#   4. both .deb installed with dpkg; the consumers of tests/consumer built
#      against the system copy with find_package(mmpool) and pkg-config, a
#      third one against mmpool::mmpool_static, all run; `mmpool --version`
#   5. both packages purged; nothing of them is left
#
# The packages stay in build/pkg-ci/packages. Should a step fail after the
# install, the packages are purged all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/pkg-ci
work=$build/check
t_start=$SECONDS

die() {
  echo "packages.sh: $*" >&2
  exit 1
}
step() {
  echo "== $* ($((SECONDS - t_start))s)"
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs and removes packages)"
command -v dpkg >/dev/null || die "needs dpkg: a Debian or Ubuntu machine"
# dpkg-dev: dpkg-shlibdeps, for the runtime package's dependencies.
./scripts/setup.sh dpkg-dev file

version=$(sed -n 's/^#define MMPOOL_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/mmpool.h |
  paste -sd.)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the version from include/mmpool.h"
major=${version%%.*}
deb_version=$version-1
with_tool=0
if [ -f tools/CMakeLists.txt ]; then
  with_tool=1
fi

installed=0
purge_packages() {
  # Both names, whichever are installed; a missing one is no error here.
  dpkg --purge libmmpool-dev mmpool >/dev/null 2>&1 || true
}
cleanup() {
  rm -f /dev/shm/mmpool-pkgci-$$-*
  if [ "$installed" -eq 1 ]; then
    echo "packages.sh: removing the packages after a failure" >&2
    purge_packages
  fi
}
trap cleanup EXIT

# ---- 1. build and package ----
step "release build in ${build#"$root"/}"
rm -rf "$build"
mkdir -p "$build"
log=$build/build.log
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DMMPOOL_WERROR=ON -DMMPOOL_BUILD_TESTS=OFF -DMMPOOL_BUILD_EXAMPLES=OFF \
  -DMMPOOL_BUILD_BINDINGS=OFF -DMMPOOL_BUILD_TOOLS=ON >"$log" 2>&1 ||
  { cat "$log"; die "configure failed"; }
cmake --build "$build" -j "$(nproc)" >>"$log" 2>&1 || { cat "$log"; die "build failed"; }
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
[ -n "$libdir" ] || die "no CMAKE_INSTALL_LIBDIR in $build/CMakeCache.txt"

step "cpack -G DEB, cpack -G TGZ"
(cd "$build" && cpack -G DEB && cpack -G TGZ) >>"$log" 2>&1 || {
  cat "$log"
  die "cpack failed"
}
pkgs=$build/packages
arch=$(dpkg --print-architecture)
deb_run=$pkgs/mmpool_${deb_version}_$arch.deb
deb_dev=$pkgs/libmmpool-dev_${deb_version}_$arch.deb
tgz_run=$(echo "$pkgs"/mmpool-"$version"-*.tar.gz)
tgz_dev=$(echo "$pkgs"/mmpool-dev-"$version"-*.tar.gz)
for f in "$deb_run" "$deb_dev" "$tgz_run" "$tgz_dev"; do
  [ -f "$f" ] || die "cpack did not make $f; it made: $(ls "$pkgs")"
done

# ---- 2. contents ----
# The files a package must hold (paths relative to the prefix) and the
# pattern every file in it must match.
run_files=("$libdir/libmmpool.so.$major" "$libdir/libmmpool.so.$version")
run_allowed="^($libdir/libmmpool\\.so\\.$major(\\.[0-9]+)*|bin/mmpool|share/man/man1/mmpool\\.1(\\.gz)?)\$"
if [ "$with_tool" -eq 1 ]; then
  run_files+=(bin/mmpool)
fi
dev_files=(include/mmpool.h "$libdir/libmmpool.so" "$libdir/libmmpool.a"
  "$libdir/pkgconfig/mmpool.pc" "$libdir/cmake/mmpool/mmpoolConfig.cmake"
  "$libdir/cmake/mmpool/mmpoolConfigVersion.cmake" "$libdir/cmake/mmpool/mmpoolTargets.cmake")
if [ -f include/mmpool.hpp ]; then
  dev_files+=(include/mmpool.hpp)
fi
dev_allowed="^(include/mmpool\\.(h|hpp)|$libdir/libmmpool\\.(so|a)|$libdir/pkgconfig/mmpool\\.pc|$libdir/cmake/mmpool/mmpool[A-Za-z-]*\\.cmake)\$"

# check_list NAME LISTING ALLOWED FILES...: LISTING (one path per line,
# relative to the prefix, directories left out) has FILES and nothing that
# ALLOWED does not match.
check_list() {
  local name=$1 listing=$2 allowed=$3 f
  shift 3
  for f in "$@"; do
    grep -qxF "$f" <<<"$listing" || die "$name: $f is missing; it holds:"$'\n'"$listing"
  done
  local extra
  extra=$(grep -Ev "$allowed" <<<"$listing" || true)
  [ -z "$extra" ] || die "$name: unexpected files:"$'\n'"$extra"
  echo "$name: $(wc -l <<<"$listing") files, as expected"
}
# Files and links of a .deb, relative to /usr (where everything must be).
deb_listing() {
  local all
  all=$(dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}')
  if grep -v '^\./usr/' <<<"$all"; then
    die "$1 installs outside /usr"
  fi
  echo "${all//.\/usr\//}" | sort
}
tgz_listing() {
  tar -tzvf "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./||' | sort
}

step "package contents"
check_list "$(basename "$deb_run")" "$(deb_listing "$deb_run")" "$run_allowed" "${run_files[@]}"
check_list "$(basename "$deb_dev")" "$(deb_listing "$deb_dev")" "$dev_allowed" "${dev_files[@]}"
check_list "$(basename "$tgz_run")" "$(tgz_listing "$tgz_run")" "$run_allowed" "${run_files[@]}"
check_list "$(basename "$tgz_dev")" "$(tgz_listing "$tgz_dev")" "$dev_allowed" "${dev_files[@]}"

# field DEB NAME: one control field of a .deb.
field() {
  dpkg-deb -f "$1" "$2"
}
[ "$(field "$deb_run" Version)" = "$deb_version" ] || die "mmpool: version is not $deb_version"
[ "$(field "$deb_dev" Version)" = "$deb_version" ] || die "libmmpool-dev: version is not $deb_version"
[ "$(field "$deb_run" Architecture)" = "$arch" ] || die "mmpool: architecture is not $arch"
grep -qF "mmpool (= $deb_version)" <<<"$(field "$deb_dev" Depends)" ||
  die "libmmpool-dev does not depend on mmpool (= $deb_version): $(field "$deb_dev" Depends)"
grep -q '^libc6' <<<"$(field "$deb_run" Depends)" ||
  die "mmpool declares no libc6 dependency (dpkg-shlibdeps): '$(field "$deb_run" Depends)'"
[ "$(dpkg-deb -I "$deb_run" shlibs)" = "libmmpool $major mmpool (>= $deb_version)" ] ||
  die "mmpool: unexpected shlibs file: $(dpkg-deb -I "$deb_run" shlibs)"
echo "control fields: ok (Depends: $(field "$deb_run" Depends))"

# ---- 3. and 4. consumers ----
rm -rf "$work"
mkdir -p "$work"

# run_app EXE TAG: runs a consumer program on a fresh pool.
run_app() {
  local pool=mmpool-pkgci-$$-$2
  "$1" "$pool" || die "$2: $1 $pool failed"
  [ ! -e "/dev/shm/$pool" ] || die "$2: the pool was not removed"
  echo "$2: ran"
}
# needs_lib EXE DIR: EXE loads libmmpool.so.MAJOR from DIR.
needs_lib() {
  local got
  got=$(ldd "$1" | awk -v lib="libmmpool.so.$major" '$1 == lib {print $3}')
  [ -n "$got" ] || die "$1 does not load libmmpool.so.$major"
  [ "$(readlink -f "$(dirname "$got")")" = "$(readlink -f "$2")" ] ||
    die "$1 loads $got, not the one in $2"
}
# cmake_app TAG SOURCE [cmake args...]: configures and builds the CMake
# project SOURCE, and prints the path of the program it makes.
cmake_app() {
  local tag=$1 src=$2
  shift 2
  cmake -S "$src" -B "$work/$tag" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "$@" >"$work/$tag.log" 2>&1 ||
    { cat "$work/$tag.log" >&2; die "$tag: configure failed"; }
  cmake --build "$work/$tag" >>"$work/$tag.log" 2>&1 || {
    cat "$work/$tag.log" >&2
    die "$tag: build failed"
  }
  echo "$work/$tag/app"
}
# The find_package consumer checks, given EXPECT_*, where it found mmpool,
# its version, the library type, and that other majors are refused.
find_package_src=$root/tests/consumer/find_package
# A consumer of the static library of a shared build, on the same program.
static_src=$work/static-src
mkdir -p "$static_src"
cat >"$static_src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(mmpool_static_consumer LANGUAGES C)
find_package(mmpool $version EXACT REQUIRED)
add_executable(app $find_package_src/main.c)
target_link_libraries(app PRIVATE mmpool::mmpool_static)
get_target_property(type mmpool::mmpool_static TYPE)
if(NOT type STREQUAL "STATIC_LIBRARY")
  message(FATAL_ERROR "mmpool::mmpool_static is a \${type}")
endif()
# MMPOOL_SHARED would make a Windows build import from a DLL.
get_target_property(defs mmpool::mmpool_static INTERFACE_COMPILE_DEFINITIONS)
if(defs MATCHES "MMPOOL_SHARED")
  message(FATAL_ERROR "mmpool::mmpool_static defines MMPOOL_SHARED for its users")
endif()
EOF

step "find_package consumer against the .tar.gz files"
tgz_prefix=$work/tgz-prefix
mkdir -p "$tgz_prefix"
tar -xzf "$tgz_run" -C "$tgz_prefix"
tar -xzf "$tgz_dev" -C "$tgz_prefix"
app=$(cmake_app tgz-find_package "$find_package_src" -DCMAKE_PREFIX_PATH="$tgz_prefix" \
  -DEXPECT_PREFIX="$tgz_prefix" -DEXPECT_VERSION="$version" -DEXPECT_TYPE=SHARED_LIBRARY)
needs_lib "$app" "$tgz_prefix/$libdir"
run_app "$app" tgz-find_package
if [ "$with_tool" -eq 1 ]; then
  # No LD_LIBRARY_PATH: the tool's relative RPATH finds the unpacked library.
  out=$(env -u LD_LIBRARY_PATH "$tgz_prefix/bin/mmpool" --version) ||
    die "mmpool --version from the .tar.gz failed"
  grep -qF "$version" <<<"$out" || die "mmpool --version from the .tar.gz printed '$out'"
  echo "tgz mmpool --version: $out"
fi

step "install the .deb packages"
purge_packages # what an interrupted earlier run may have left
installed=1
dpkg -i "$deb_run" "$deb_dev" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg -i failed"; }
for p in mmpool libmmpool-dev; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' $p)" = "install ok installed $deb_version" ] ||
    die "$p is not installed at $deb_version"
done
ldconfig -p | grep -q "libmmpool.so.$major " || die "ldconfig does not know libmmpool.so.$major"

step "consumers against the installed packages"
app=$(cmake_app deb-find_package "$find_package_src" -DEXPECT_PREFIX=/usr \
  -DEXPECT_VERSION="$version" -DEXPECT_TYPE=SHARED_LIBRARY)
needs_lib "$app" "/usr/$libdir"
run_app "$app" deb-find_package

app=$(cmake_app deb-static "$static_src")
if readelf -d "$app" | grep -q "libmmpool"; then
  die "deb-static: $app needs a shared libmmpool"
fi
run_app "$app" deb-static

# pkg-config with no PKG_CONFIG_PATH: the system's mmpool.pc.
[ "$(env -u PKG_CONFIG_PATH pkg-config --modversion mmpool)" = "$version" ] ||
  die "pkg-config --modversion mmpool is not $version"
[ "$(readlink -f "$(env -u PKG_CONFIG_PATH pkg-config --variable=libdir mmpool)")" = "/usr/$libdir" ] ||
  die "pkg-config: libdir is not /usr/$libdir"
# shellcheck disable=SC2046 # the flags are meant to split into words
cc -std=c11 -Wall -Wextra -Wpedantic -Werror tests/consumer/pkg_config/main.c \
  $(env -u PKG_CONFIG_PATH pkg-config --cflags --libs mmpool) -o "$work/deb-pkg_config" ||
  die "deb-pkg_config: build failed"
needs_lib "$work/deb-pkg_config" "/usr/$libdir"
run_app "$work/deb-pkg_config" deb-pkg_config

if [ "$with_tool" -eq 1 ]; then
  [ -x /usr/bin/mmpool ] || die "the mmpool package did not install /usr/bin/mmpool"
fi
if [ -x /usr/bin/mmpool ]; then
  out=$(/usr/bin/mmpool --version) || die "mmpool --version failed"
  grep -qF "$version" <<<"$out" || die "mmpool --version printed '$out', not $version"
  echo "mmpool --version: $out"
fi

# ---- 5. removal ----
step "purge the packages"
dpkg --purge libmmpool-dev mmpool >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg --purge failed"; }
installed=0
for f in "${run_files[@]}" "${dev_files[@]}"; do
  if [ -e "/usr/$f" ] || [ -L "/usr/$f" ]; then
    die "/usr/$f is left after the purge"
  fi
done
if ldconfig -p | grep -q "libmmpool.so.$major "; then
  die "ldconfig still lists libmmpool.so.$major after the purge"
fi

step "done: packages in ${pkgs#"$root"/}"
ls -l "$pkgs"/*.deb "$pkgs"/*.tar.gz
