#!/usr/bin/env bash
# The original use case in one command: installs what is missing, builds
# mmpool, and runs the Python sender (NumPy, Full-HD BGR at 30 fps) with the
# C++ receiver, or the C# one. Usage: xlang-demo.sh [cpp|csharp] [options]
# (options as examples/xlang/run.sh takes them, e.g. --seconds 10 --loan).
set -euo pipefail
cd "$(dirname "$0")/.."

receiver=cpp
if [[ $# -gt 0 && $1 != -* ]]; then
  receiver=$1
  shift
fi
./scripts/setup.sh --demo g++ python3 python3-numpy $([[ $receiver == csharp ]] && echo mono-mcs mono-runtime)
cmake --preset release -DMMPOOL_BUILD_TESTS=OFF -DMMPOOL_BUILD_BINDINGS=OFF >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bash examples/xlang/run.sh build/release "$receiver" "$@"
