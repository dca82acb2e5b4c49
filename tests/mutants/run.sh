#!/usr/bin/env bash
# Mutation stage: applies each mutant in tests/mutants/list (one small patch
# of src/, or of gst/pace.c, each) to a scratch copy of the source tree,
# rebuilds incrementally and runs the test the list names as its killer. Fails if a mutant
# survives, if its patch no longer applies (the code it patches moved: update
# the patch and the list), if a mutant does not build, or if a listed test
# does not pass on the unmutated sources.
#
# Usage: tests/mutants/run.sh [WORK_DIR]   (default build/mutants)
# MMPOOL_MUTANTS=name1,name2 runs only those mutants.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$root/build/mutants}
tree=$work/tree
build=$work/build
per_test_limit=180 # seconds; a mutant that hangs its test is killed too

# Scratch copy: mutants never touch the checkout. The build starts afresh
# too: the copy keeps the sources' times, which are older than objects a
# previous run may have built from a mutant.
rm -rf "$tree" "$build"
mkdir -p "$tree" "$work/logs"
tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$tree" -xf -

# The list: name, test binary, test function, promise (rest of the line).
mapfile -t entries < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/list")
if [ -n "${MMPOOL_MUTANTS:-}" ]; then
  mapfile -t entries < <(printf '%s\n' "${entries[@]}" |
    awk -v only=",$MMPOOL_MUTANTS," 'index(only, "," $1 ",") > 0')
fi
binaries=$(printf '%s\n' "${entries[@]}" | awk '{print $2}' | sort -u)

# Every patch file is listed, every listed mutant has one patch.
for p in "$here"/*.patch; do
  n=$(basename "$p" .patch)
  n=${n#[0-9][0-9]-}
  grep -q "^${n}[[:space:]]" "$here/list" || { echo "mutants: $p is not in the list"; exit 1; }
done

cmake -S "$tree" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMMPOOL_BUILD_TOOLS=OFF \
  -DMMPOOL_BUILD_BINDINGS=OFF -DMMPOOL_BUILD_EXAMPLES=OFF -DMMPOOL_INSTALL=OFF \
  -DCMAKE_LINK_DEPENDS_NO_SHARED=ON >"$work/logs/configure.log"

build_targets() {
  # shellcheck disable=SC2086 # one word per target
  cmake --build "$build" -j "$(nproc)" --target mmpool $binaries >"$1" 2>&1
}

# Runs one test function; prints nothing, returns the binary's status.
run_test() { # binary test log
  MMPOOL_TEST_ONLY=$2 timeout "$per_test_limit" "$build/tests/$1" >"$3" 2>&1
}

echo "mutants: building the unmutated tree"
build_targets "$work/logs/base-build.log" || { cat "$work/logs/base-build.log"; exit 1; }

# A killer that fails on the real sources kills nothing; one whose name
# matches no test would "pass" by running nothing.
for e in "${entries[@]}"; do
  read -r name bin test _ <<<"$e"
  log=$work/logs/base-$name.log
  if ! run_test "$bin" "$test" "$log" || ! grep -q "OK \] $test\$" "$log"; then
    echo "mutants: $bin $test does not pass on the unmutated sources"
    cat "$log"
    exit 1
  fi
done

survivors=0
printf '%-24s %-8s %s\n' mutant result "killed by"
for e in "${entries[@]}"; do
  read -r name bin test _ <<<"$e"
  patch=$(ls "$here"/[0-9][0-9]-"$name".patch 2>/dev/null || true)
  if [ -z "$patch" ]; then
    echo "mutants: no patch for $name"
    exit 1
  fi
  # --fuzz=0: context that changed is a failure, not a guess.
  if ! patch -d "$tree" -p1 --fuzz=0 --dry-run --quiet <"$patch" >/dev/null; then
    echo "mutants: $(basename "$patch") no longer applies: the code it mutates moved;"
    echo "         update the patch (and tests/mutants/list)"
    exit 1
  fi
  patch -d "$tree" -p1 --fuzz=0 --quiet <"$patch"
  t0=$SECONDS
  if ! build_targets "$work/logs/$name-build.log"; then
    echo "mutants: $name does not build:"
    tail -20 "$work/logs/$name-build.log"
    exit 1
  fi
  if run_test "$bin" "$test" "$work/logs/$name.log"; then
    printf '%-24s %-8s %s (%ss)\n' "$name" SURVIVED "nothing: $bin $test passed" $((SECONDS - t0))
    survivors=$((survivors + 1))
  else
    printf '%-24s %-8s %s (%ss)\n' "$name" killed "$bin $test" $((SECONDS - t0))
  fi
  patch -d "$tree" -p1 -R --fuzz=0 --quiet <"$patch"
done

# A mutant that crashes its test (open-no-reserve dies of SIGBUS) skips the
# test's teardown; remove the small tmpfs mounts such tests leave.
awk '$2 ~ /^\/tmp\/mmpool-test-/ {print $2}' /proc/mounts 2>/dev/null | while read -r m; do
  umount "$m" 2>/dev/null && rmdir "$m"
done

if [ "$survivors" -ne 0 ]; then
  echo "mutants: $survivors of ${#entries[@]} survived (logs in $work/logs)"
  exit 1
fi
echo "mutants: all ${#entries[@]} killed"
