#!/usr/bin/env bash
# The CI stage "fresh": what a new user sees on a pristine machine. Builds a
# minimal Debian 12 root with mmdebstrap (--variant=apt: essential packages
# and apt, no compiler), unpacks `git archive HEAD` into it, and runs the
# README's quick-start commands, taken from the README itself and run
# exactly as written, as root in a chroot with proc, /dev and a tmpfs
# /dev/shm mounted. Fails if either command fails or if the test command
# ran fewer tests than this machine's dev preset registers, leaving out the
# suites the README calls optional.
#
#   scripts/fresh.sh [WORK_DIR]    (as root; default build/fresh)
#
# The root fetches from the Debian archive this machine's apt uses. Needs
# mmdebstrap (installed here if missing).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$src/build/fresh}
root=$work/root
# Tests registered only when an optional toolchain is there (the README's
# quick start names them); they do not count against the fresh run.
# gst_: the GStreamer plugin's, with GStreamer's development packages
# (docs/gstreamer.md), which the quick start does not install.
optional='^(cookbook_|mmpool_hpp_other_compiler_|gst_)'
start=$SECONDS
step() {
  echo "fresh: $1 ($((SECONDS - start)) s)"
}

if [[ $(id -u) -ne 0 ]]; then
  echo "fresh: must run as root (mmdebstrap, chroot, mounts)" >&2
  exit 2
fi
"$src/scripts/setup.sh" --demo mmdebstrap

# The two commands, as the README's quick start writes them: the lines of
# the first sh block after "## Quick start".
mapfile -t commands < <(awk '
  /^## Quick start/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh$/ { in_block = 1; next }
  in_block && /^```$/ { exit }
  in_block && NF { print }' "$src/README.md")
if [[ ${#commands[@]} -ne 2 ]]; then
  echo "fresh: expected two commands in the README's quick start, found ${#commands[@]}" >&2
  exit 1
fi
printf 'fresh: README command: %s\n' "${commands[@]}"

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_in() { # mount_in TARGET mount-arguments...
  local target=$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}

step "building a minimal Debian 12 root"
# A run that was killed may have left its mounts: remove them before the
# tree, or rm would reach through the bind mount into the real /dev.
{ grep -o " $work/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r target; do
  umount -l "$target" || true
done
rm -rf --one-file-system "$work"
mkdir -p "$work"
# The sources this machine's apt uses; Check-Valid-Until is off as here, for
# archives served from a snapshot.
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list
mmdebstrap --quiet --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
  bookworm "$root" "$sources" </dev/null
cp /etc/resolv.conf "$root/etc/resolv.conf"

step "unpacking git archive HEAD"
mkdir -p "$root/src/mmpool"
git -C "$src" archive HEAD | tar -x -C "$root/src/mmpool"

mount_in "$root/proc" -t proc proc
mount_in "$root/dev" --rbind /dev
mount --make-rslave "$root/dev"
mount_in "$root/dev/shm" -t tmpfs -o mode=1777,size=4g tmpfs

# Each command runs in the tree's top directory with a clean environment,
# as a root shell on a new machine would have it.
run_in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /src/mmpool && $1"
}

for i in 0 1; do
  step "running: ${commands[i]}"
  log=$work/command-$i.log
  if ! run_in_root "${commands[i]}" 2>&1 | tee "$log"; then
    echo "fresh: '${commands[i]}' failed in the pristine root" >&2
    exit 1
  fi
done

# The test command's count against what the dev preset registers here.
ran=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\)$/\1/p' "$work/command-1.log" | tail -1)
if [[ -z $ran ]]; then
  echo "fresh: the test command printed no ctest summary" >&2
  exit 1
fi
step "counting the tests the dev preset registers on this machine"
(cd "$src" && cmake --preset dev >/dev/null)
expected=$(cd "$src" && ctest --preset dev -N | sed -n 's/^ *Test *#[0-9]*: //p' |
  grep -Evc "$optional" || true)
echo "fresh: the test command ran $ran tests; this machine registers $expected (optional suites left out)"
# A test that skips itself for a missing tool means setup.sh forgot it.
if grep -q '(Skipped)' "$work/command-1.log"; then
  echo "fresh: tests skipped in the pristine root:" >&2
  grep '(Skipped)' "$work/command-1.log" >&2
  exit 1
fi
if ((ran < expected)); then
  echo "fresh: the fresh machine ran fewer tests than this one registers" >&2
  diff <(cd "$src" && ctest --preset dev -N | sed -n 's/^ *Test *#[0-9]*: //p' | grep -Ev "$optional" | sort) \
    <(sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) .*/\1/p' "$work/command-1.log" | sort) || true
  exit 1
fi
step "done"
