#!/usr/bin/env bash
# Installs what is missing, builds mmpool with warnings as errors, and runs
# the whole test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
ctest --preset dev
