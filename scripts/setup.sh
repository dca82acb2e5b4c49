#!/usr/bin/env bash
# Installs, on Debian or Ubuntu, what mmpool needs, plus any packages named
# as arguments. Only missing packages are installed; as root directly,
# otherwise via sudo.
#
#   setup.sh [PACKAGE...]         everything the whole test suite runs
#   setup.sh --demo [PACKAGE...]  only what building the library and the
#                                 examples needs (scripts/demo.sh)
#
# The test list is every toolchain a registered test uses: C and C++ with
# libc headers, cmake, pkg-config and cmocka; libpng (PNG snapshots of the
# tool); /usr/bin/python3 with NumPy, venv, setuptools and wheel (the Python
# binding and its pip install); Mono's compiler and runtime (the C#
# binding); libzmq and iproute2's tc (mmpool bridge and its thin-link
# test). OpenCV (the cookbook's tests), clang++ (a second compiler's
# syntax pass over mmpool.hpp) and GStreamer's development packages (the
# plugin's tests) are optional: their tests are registered only when they
# are there.
set -euo pipefail

demo=(cmake make gcc libc6-dev)
tests=("${demo[@]}" g++ pkg-config libcmocka-dev libpng-dev
  python3 python3-numpy python3-venv python3-setuptools python3-wheel
  mono-mcs mono-runtime libzmq3-dev iproute2)

packages=("${tests[@]}")
if [[ ${1:-} == --demo ]]; then
  shift
  packages=("${demo[@]}")
fi
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "mmpool: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
