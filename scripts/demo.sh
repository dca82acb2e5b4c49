#!/usr/bin/env bash
# Installs what is missing, builds mmpool, and streams synthetic Full-HD
# frames from one process to another for a few seconds. Extra arguments go
# to the sender (for example --fps 60 --seconds 10).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bash examples/run_demo.sh build/release "$@"
