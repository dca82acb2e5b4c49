#!/usr/bin/env bash
# Builds the release packages and proves them on this machine: run as root
# on a fresh Debian (12) machine. Each step fails the script:
#
#   1. a release tree in build/pkg-ci (prefix /usr, with the C# and Python
#      bindings), cpack -G DEB and -G TGZ: mmpool, libmmpool-dev,
#      libmmpool-cil, python3-mmpool and an archive of each
#   2. the files in each package: all expected ones, nothing else; the
#      control fields (versions, dependencies, maintainer scripts)
#   3. the find_package consumer built against the unpacked .tar.gz files
#   4. `cmake --install` into a prefix of its own: a pkg-config consumer
#      built with the README's flags (PKG_CONFIG_PATH, -Wl,-rpath) and the
#      mmpool tool, both run with no LD_LIBRARY_PATH
#   5. the four .deb installed with dpkg; the consumers of tests/consumer
#      built against the system copy with find_package(mmpool) and
#      pkg-config, a third one against mmpool::mmpool_static, all run;
#      `mmpool --version`
#   5b. gstreamer1.0-mmpool: its files and dependencies; gst-inspect-1.0
#      finds mmpoolsink and mmpoolsrc in the build tree (GST_PLUGIN_PATH)
#      and, once the .deb is installed, in the system's plugin directory;
#      purged, nothing of it is left
#   6. libmmpool-dev purged (no libmmpool.so left), then, from a directory
#      outside the tree and with no LD_LIBRARY_PATH, MONO_PATH, PYTHONPATH
#      or MMPOOL_LIBRARY: a C# program built with mcs against the installed
#      Mmpool.Net.dll and run with mono (assembly from the GAC, library
#      libmmpool.so.MAJOR from /usr), and a Python round trip with
#      /usr/bin/python3 (module from /usr/lib/python3/dist-packages)
#   7. all packages purged; nothing of them is left (files, GAC, bytecode)
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
# dpkg-dev: dpkg-shlibdeps, for the runtime package's dependencies;
# mono-mcs, mono-runtime (mono-gac: gacutil) and python3 come with the
# test list: the bindings' packages are built, installed and used here.
./scripts/setup.sh dpkg-dev file mono-mcs mono-runtime mono-gac python3
# GStreamer's development files and tools: the plugin's package (5b).
./scripts/setup.sh libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools gstreamer1.0-plugins-base

version=$(sed -n 's/^#define MMPOOL_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/mmpool.h |
  paste -sd.)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the version from include/mmpool.h"
major=${version%%.*}
deb_version=$version-1
with_tool=0
if [ -f tools/CMakeLists.txt ]; then
  with_tool=1
fi

all_packages=(python3-mmpool libmmpool-cil libmmpool-dev mmpool)
installed=0
purge_packages() {
  # Every name, whichever are installed; a missing one is no error here.
  dpkg --purge "${all_packages[@]}" >/dev/null 2>&1 || true
}
# A directory outside the source tree, for the programs that must not find
# anything of it.
outside=$(mktemp -d /tmp/mmpool-pkgci.XXXXXX)
cleanup() {
  rm -f /dev/shm/mmpool-pkgci-$$-*
  rm -rf "$outside"
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
  -DMMPOOL_BUILD_BINDINGS=OFF -DMMPOOL_BUILD_TOOLS=ON \
  -DMMPOOL_INSTALL_CSHARP=ON -DMMPOOL_INSTALL_PYTHON=ON >"$log" 2>&1 ||
  { cat "$log"; die "configure failed"; }
cmake --build "$build" -j "$(nproc)" >>"$log" 2>&1 || { cat "$log"; die "build failed"; }
# cache VAR: a value of the build's CMake cache.
cache() {
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"
}
libdir=$(cache CMAKE_INSTALL_LIBDIR)
[ -n "$libdir" ] || die "no CMAKE_INSTALL_LIBDIR in $build/CMakeCache.txt"
csdir=$(cache MMPOOL_CSHARP_INSTALL_DIR)
pydir=$(cache MMPOOL_PYTHON_INSTALL_DIR)
[ "$csdir" = lib/cli/mmpool ] || die "MMPOOL_CSHARP_INSTALL_DIR is '$csdir', not lib/cli/mmpool"
[ "$pydir" = lib/python3/dist-packages ] ||
  die "MMPOOL_PYTHON_INSTALL_DIR is '$pydir', not lib/python3/dist-packages"
[ -f "$build/bindings/csharp/Mmpool.Net.dll" ] || die "Mmpool.Net.dll was not built (mcs: '$(cache MMPOOL_MCS)')"

step "cpack -G DEB, cpack -G TGZ"
(cd "$build" && cpack -G DEB && cpack -G TGZ) >>"$log" 2>&1 || {
  cat "$log"
  die "cpack failed"
}
pkgs=$build/packages
arch=$(dpkg --print-architecture)
deb_run=$pkgs/mmpool_${deb_version}_$arch.deb
deb_dev=$pkgs/libmmpool-dev_${deb_version}_$arch.deb
deb_cs=$pkgs/libmmpool-cil_${deb_version}_all.deb
deb_py=$pkgs/python3-mmpool_${deb_version}_all.deb
tgz_run=$(echo "$pkgs"/mmpool-"$version"-*.tar.gz)
tgz_dev=$(echo "$pkgs"/mmpool-dev-"$version"-*.tar.gz)
tgz_cs=$pkgs/mmpool-csharp-$version.tar.gz
tgz_py=$pkgs/mmpool-python-$version.tar.gz
for f in "$deb_run" "$deb_dev" "$deb_cs" "$deb_py" "$tgz_run" "$tgz_dev" "$tgz_cs" "$tgz_py"; do
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
cs_files=("$csdir/Mmpool.Net.dll" "$csdir/Mmpool.Net.dll.config")
cs_allowed="^$csdir/Mmpool\\.Net\\.dll(\\.config)?\$"
# Every module of the source package, and nothing else (no tests, no
# bytecode).
py_files=()
for f in bindings/python/mmpool/*.py; do
  py_files+=("$pydir/mmpool/$(basename "$f")")
done
py_allowed="^$pydir/mmpool/[A-Za-z0-9_]+\\.py\$"

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
check_list "$(basename "$deb_cs")" "$(deb_listing "$deb_cs")" "$cs_allowed" "${cs_files[@]}"
check_list "$(basename "$tgz_cs")" "$(tgz_listing "$tgz_cs")" "$cs_allowed" "${cs_files[@]}"
check_list "$(basename "$deb_py")" "$(deb_listing "$deb_py")" "$py_allowed" "${py_files[@]}"
check_list "$(basename "$tgz_py")" "$(tgz_listing "$tgz_py")" "$py_allowed" "${py_files[@]}"

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
# depends DEB NAME...: DEB's Depends lists each NAME (a package, with its
# version constraint if given).
depends() {
  local deb=$1 dep list
  shift
  list=$(field "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ *$//')
  for dep in "$@"; do
    grep -qxF "$dep" <<<"$list" || die "$(basename "$deb") does not depend on $dep: $(field "$deb" Depends)"
  done
}
for deb in "$deb_cs" "$deb_py"; do
  [ "$(field "$deb" Version)" = "$deb_version" ] || die "$(basename "$deb"): version is not $deb_version"
  [ "$(field "$deb" Architecture)" = all ] || die "$(basename "$deb"): architecture is not all"
done
depends "$deb_cs" "mmpool (= $deb_version)" mono-runtime mono-gac libmono-corlib4.5-cil
depends "$deb_py" "mmpool (= $deb_version)" python3
# The maintainer scripts: GAC registration, bytecode compiled and removed.
grep -q "gacutil -i Mmpool.Net.dll" <<<"$(dpkg-deb -I "$deb_cs" postinst)" || die "libmmpool-cil: no gacutil -i in postinst"
grep -q "gacutil -u Mmpool.Net" <<<"$(dpkg-deb -I "$deb_cs" prerm)" || die "libmmpool-cil: no gacutil -u in prerm"
grep -q "py3compile -p python3-mmpool" <<<"$(dpkg-deb -I "$deb_py" postinst)" || die "python3-mmpool: no py3compile in postinst"
grep -q "py3clean -p python3-mmpool" <<<"$(dpkg-deb -I "$deb_py" prerm)" || die "python3-mmpool: no py3clean in prerm"
# The tool's bridge links libzmq when the build found it: the runtime
# package must then pull libzmq5 in (dpkg-shlibdeps).
if [ "$(cache MMPOOL_CLI_BRIDGE)" = ON ]; then
  grep -q '^libzmq5\b' <<<"$(field "$deb_run" Depends | tr ',' '\n' | sed 's/^ *//')" ||
    die "mmpool: the tool has the bridge but the package does not depend on libzmq5: $(field "$deb_run" Depends)"
fi
echo "control fields: ok (mmpool Depends: $(field "$deb_run" Depends))"

# ---- 3. to 5. consumers ----
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

# The README's way to build against a custom prefix: PKG_CONFIG_PATH and
# an RPATH to the libdir pkg-config names, nothing else. The packages are
# not installed yet, so only the prefix can provide the library.
step "cmake --install into a prefix of its own, pkg-config consumer"
prefix=$outside/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; die "cmake --install --prefix $prefix failed"; }
[ ! -e "/usr/$libdir/libmmpool.so.$major" ] || die "/usr/$libdir/libmmpool.so.$major exists before the packages are installed"
(
  export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
  # shellcheck disable=SC2046 # the flags are meant to split into words
  cc tests/consumer/pkg_config/main.c $(pkg-config --cflags --libs mmpool) \
    -Wl,-rpath,"$(pkg-config --variable=libdir mmpool)" -o "$work/prefix-pkg_config"
) || die "prefix-pkg_config: build failed"
needs_lib "$work/prefix-pkg_config" "$prefix/$libdir"
(unset LD_LIBRARY_PATH && run_app "$work/prefix-pkg_config" prefix-pkg_config)
# What the README says of the library directory: lib/<multiarch> for /usr
# (this build), plain lib for a prefix of one's own, chosen at configure.
probe=$outside/libdir-probe
cmake -S . -B "$probe" -DCMAKE_INSTALL_PREFIX="$outside/elsewhere" -DMMPOOL_BUILD_TESTS=OFF \
  -DMMPOOL_BUILD_EXAMPLES=OFF -DMMPOOL_BUILD_BINDINGS=OFF -DMMPOOL_BUILD_TOOLS=OFF >"$work/probe.log" 2>&1 ||
  { cat "$work/probe.log"; die "configure with a prefix of its own failed"; }
[ "$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$probe/CMakeCache.txt")" = lib ] ||
  die "GNUInstallDirs does not choose lib for the prefix $outside/elsewhere"
[ "$libdir" = "lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" ] || die "GNUInstallDirs chose $libdir for /usr"
echo "libdir: $libdir for /usr, lib for another prefix"
if [ "$with_tool" -eq 1 ]; then
  needs_lib "$prefix/bin/mmpool" "$prefix/$libdir"
  out=$(env -u LD_LIBRARY_PATH "$prefix/bin/mmpool" --version) || die "mmpool --version from $prefix failed"
  grep -qF "$version" <<<"$out" || die "mmpool --version from $prefix printed '$out'"
  echo "prefix mmpool --version: $out"
fi

step "install the .deb packages"
purge_packages # what an interrupted earlier run may have left
installed=1
dpkg -i "$deb_run" "$deb_dev" "$deb_cs" "$deb_py" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log"; die "dpkg -i failed"; }
for p in "${all_packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $deb_version" ] ||
    die "$p is not installed at $deb_version"
done
# grep -c, not -q: -q stops reading at the first match, and under pipefail
# the writer's SIGPIPE would fail the pipeline (more likely the longer the
# list of libraries after ours).
ldconfig -p | grep -c "libmmpool.so.$major " >/dev/null || die "ldconfig does not know libmmpool.so.$major"
gac=/usr/lib/mono/gac/Mmpool.Net
for f in Mmpool.Net.dll Mmpool.Net.dll.config; do
  compgen -G "$gac/*/$f" >/dev/null || die "libmmpool-cil did not register $f in the GAC ($gac)"
done
echo "GAC: $(cd "$gac" && echo */*)"

step "consumers against the installed packages"
app=$(cmake_app deb-find_package "$find_package_src" -DEXPECT_PREFIX=/usr \
  -DEXPECT_VERSION="$version" -DEXPECT_TYPE=SHARED_LIBRARY)
needs_lib "$app" "/usr/$libdir"
run_app "$app" deb-find_package

app=$(cmake_app deb-static "$static_src")
if readelf -d "$app" | grep -c "libmmpool" >/dev/null; then
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

# ---- 5b. the GStreamer plugin's package ----
step "gstreamer1.0-mmpool: contents, gst-inspect-1.0 on the build and the installed package"
gst_dir=$(cache MMPOOL_GST_INSTALL_DIR)
[ "$gst_dir" = "$libdir/gstreamer-1.0" ] || die "MMPOOL_GST_INSTALL_DIR is '$gst_dir', not $libdir/gstreamer-1.0"
[ "/usr/$gst_dir" = "$(pkg-config --variable=pluginsdir gstreamer-1.0)" ] ||
  die "/usr/$gst_dir is not GStreamer's pluginsdir $(pkg-config --variable=pluginsdir gstreamer-1.0)"
deb_gst=$pkgs/gstreamer1.0-mmpool_${deb_version}_$arch.deb
tgz_gst=$(echo "$pkgs"/gstreamer1.0-mmpool-"$version"-*.tar.gz)
for f in "$deb_gst" "$tgz_gst"; do
  [ -f "$f" ] || die "cpack did not make $f; it made: $(ls "$pkgs")"
done
gst_allowed="^$gst_dir/libgstmmpool\\.so\$"
check_list "$(basename "$deb_gst")" "$(deb_listing "$deb_gst")" "$gst_allowed" "$gst_dir/libgstmmpool.so"
check_list "$(basename "$tgz_gst")" "$(tgz_listing "$tgz_gst")" "$gst_allowed" "$gst_dir/libgstmmpool.so"
[ "$(field "$deb_gst" Version)" = "$deb_version" ] || die "gstreamer1.0-mmpool: version is not $deb_version"
depends "$deb_gst" "mmpool (= $deb_version)"
# The rest from dpkg-shlibdeps (with versions), GStreamer's core at least
# the minor the plugin was built against (written in cmake/package.cmake).
gst_min=$(pkg-config --modversion gstreamer-1.0 | cut -d. -f1,2)
for dep in "libgstreamer1.0-0 (>= $gst_min)" "libgstreamer-plugins-base1.0-0 (>= " \
    "libglib2.0-0 (>= " "libc6 (>= "; do
  grep -qF "$dep" <<<"$(field "$deb_gst" Depends)" ||
    die "gstreamer1.0-mmpool: no '$dep' in its Depends: $(field "$deb_gst" Depends)"
done
# gst_elements: what gst-inspect-1.0 says of both elements, with a
# registry of its own so that no cached one answers.
gst_elements() {
  local reg=$work/gst-registry.bin
  rm -f "$reg"
  GST_REGISTRY=$reg gst-inspect-1.0 mmpoolsink && GST_REGISTRY=$reg gst-inspect-1.0 mmpoolsrc
}
out=$(GST_PLUGIN_PATH=$build/gst gst_elements) || die "gst-inspect-1.0 with GST_PLUGIN_PATH=$build/gst does not find the elements"
grep -q "$build/gst/libgstmmpool.so" <<<"$out" || die "gst-inspect-1.0 found another plugin: $out"
env -u GST_PLUGIN_PATH bash -c "$(declare -f gst_elements); work=$work; gst_elements" >/dev/null 2>&1 &&
  die "gst-inspect-1.0 finds mmpoolsink before the package is installed"
# Purged with the others should a step fail (it must go before mmpool).
all_packages=(gstreamer1.0-mmpool "${all_packages[@]}")
dpkg -i "$deb_gst" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg -i gstreamer1.0-mmpool failed"; }
out=$(env -u GST_PLUGIN_PATH bash -c "$(declare -f gst_elements); work=$work; gst_elements") ||
  die "gst-inspect-1.0 does not find the installed elements"
# /lib may be a link to /usr/lib: compare the files, not the names.
loaded=$(awk '/Filename/ {print $2; exit}' <<<"$out")
[ "$(readlink -f "$loaded")" = "$(readlink -f "/usr/$gst_dir/libgstmmpool.so")" ] ||
  die "gst-inspect-1.0 loaded $loaded, not /usr/$gst_dir/libgstmmpool.so"
dpkg --purge gstreamer1.0-mmpool >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg --purge gstreamer1.0-mmpool failed"; }
[ ! -e "/usr/$gst_dir/libgstmmpool.so" ] || die "/usr/$gst_dir/libgstmmpool.so is left after the purge"
echo "gstreamer1.0-mmpool: gst-inspect-1.0 found both elements in $build/gst and in /usr/$gst_dir"

# ---- 6. the bindings with the runtime package alone ----
step "purge libmmpool-dev; C# and Python against the installed packages"
dpkg --purge libmmpool-dev >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg --purge libmmpool-dev failed"; }
[ ! -e "/usr/$libdir/libmmpool.so" ] || die "/usr/$libdir/libmmpool.so is left without libmmpool-dev"
# clean_env CMD...: CMD with none of the variables that could point it at
# another copy of mmpool.
clean_env() {
  env -u LD_LIBRARY_PATH -u LD_PRELOAD -u MONO_PATH -u MONO_GAC_PREFIX -u MONO_CONFIG \
    -u PYTHONPATH -u PYTHONHOME -u MMPOOL_LIBRARY "$@"
}
lib_real=$(readlink -f "/usr/$libdir/libmmpool.so.$major")
# expect TAG OUTPUT KEY VALUE: OUTPUT has the line "KEY VALUE".
expect() {
  grep -qxF "$3 $4" <<<"$2" || die "$1: expected '$3 $4' in:"$'\n'"$2"
}

# Built against the installed assembly, nothing copied beside the program:
# mono finds the assembly in the GAC and, through its .config, the
# library as libmmpool.so.MAJOR.
cs=$outside/csharp
mkdir -p "$cs"
cp tests/consumer/csharp/App.cs "$cs/"
(cd "$cs" && mcs -nologo -warnaserror+ -r:"/usr/$csdir/Mmpool.Net.dll" -out:App.exe App.cs) ||
  die "csharp: mcs against /usr/$csdir/Mmpool.Net.dll failed"
[ "$(ls "$cs")" = "$(printf 'App.cs\nApp.exe')" ] || die "csharp: unexpected files beside App.exe: $(ls "$cs")"
pool=mmpool-pkgci-$$-csharp
out=$(cd "$cs" && clean_env mono App.exe "$pool") || die "csharp: mono App.exe $pool failed"
[ ! -e "/dev/shm/$pool" ] || die "csharp: the pool was not removed"
grep -qx "assembly $gac/[^/]*/Mmpool.Net.dll" <<<"$out" || die "csharp: the assembly did not come from the GAC:"$'\n'"$out"
expect csharp "$out" library "$lib_real"
expect csharp "$out" version "$version"
echo "csharp: ran ($(tr '\n' ' ' <<<"$out"))"

# /usr/bin/python3 from a directory outside the tree: the module must come
# from the package, the library through the system's loader.
py=$outside/python
mkdir -p "$py"
cp tests/consumer/python/roundtrip.py "$py/"
out=$(cd "$py" && clean_env /usr/bin/python3 -c 'import mmpool; print(mmpool.__file__)') ||
  die "python: import mmpool failed"
[ "$out" = "/usr/$pydir/mmpool/__init__.py" ] || die "python: mmpool was imported from $out"
pool=mmpool-pkgci-$$-python
out=$(cd "$py" && clean_env /usr/bin/python3 roundtrip.py "$pool") || die "python: roundtrip.py $pool failed"
[ ! -e "/dev/shm/$pool" ] || die "python: the pool was not removed"
expect python "$out" module "/usr/$pydir/mmpool/__init__.py"
expect python "$out" library "$lib_real"
echo "python: ran ($(tr '\n' ' ' <<<"$out"))"

# ---- 7. removal ----
step "purge the packages"
dpkg --purge "${all_packages[@]}" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; die "dpkg --purge failed"; }
installed=0
for f in "${run_files[@]}" "${dev_files[@]}" "${cs_files[@]}" "${py_files[@]}"; do
  if [ -e "/usr/$f" ] || [ -L "/usr/$f" ]; then
    die "/usr/$f is left after the purge"
  fi
done
for d in "/usr/$csdir" "$gac" "/usr/$pydir/mmpool"; do
  [ ! -e "$d" ] || die "$d is left after the purge: $(find "$d" | head)"
done
if ldconfig -p | grep -c "libmmpool.so.$major " >/dev/null; then
  die "ldconfig still lists libmmpool.so.$major after the purge"
fi
for p in "${all_packages[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case $st in
  "" | *not-installed) ;;
  *) die "$p is still known to dpkg: $st" ;;
  esac
done

step "done: packages in ${pkgs#"$root"/}"
ls -l "$pkgs"/*.deb "$pkgs"/*.tar.gz
