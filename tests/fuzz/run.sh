#!/bin/sh
# Runs fuzz_open for SECONDS on a copy of the seed corpus (the repository's
# corpus is not modified) and prints libFuzzer's final "#N DONE" line.
# Crash reproducers are kept in BUILD_DIR/tests/fuzz/artifacts/.
# Exits non-zero if the fuzzer found a crash (or could not run).
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$build/tests/fuzz/fuzz_open
if [ ! -x "$fuzzer" ]; then
    echo "$0: no $fuzzer (configure with CC=clang -DMMPOOL_BUILD_FUZZ=ON)" >&2
    exit 2
fi
artifacts=$build/tests/fuzz/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cp -R "$here/corpus" "$work/corpus"

"$fuzzer" -max_total_time="$seconds" -max_len=70000 -timeout=30 \
    -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1
rc=$?

grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1
if [ $rc -ne 0 ]; then
    tail -n 60 "$work/log" >&2
    echo "$0: fuzz_open failed (exit $rc); reproducers in $artifacts:" >&2
    ls -l "$artifacts" >&2
    exit 1
fi
grep -E '^Done [0-9]+ runs' "$work/log" | tail -n 1
