#!/usr/bin/env bash
# Installs what the demo needs, builds mmpool, and streams synthetic Full-HD
# frames from one process to another for a few seconds. Extra arguments go
# to the sender (for example --fps 60 --seconds 10).
set -euo pipefail
cd "$(dirname "$0")/.."

# The demo needs a C compiler and CMake only: the tests and the bindings'
# checks are left out of this build.
./scripts/setup.sh --demo
cmake --preset release -DMMPOOL_BUILD_TESTS=OFF -DMMPOOL_BUILD_BINDINGS=OFF >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bash examples/run_demo.sh build/release "$@"
