#!/usr/bin/env bash
# mmpool bridge against a bare ZeroMQ PUSH/PULL of the same bytes, Full-HD
# frames (6,220,800 B) over loopback TCP, in one run (docs/performance.md,
# "The bridge"):
#
#   frames/s   as many frames as each can carry, back to back: PUSH/PULL
#              with high-water marks of 2 (FRAMES frames); the bridge
#              from a writer that commits 1000 frames/s into a pool, for
#              as long as 10 x FRAMES of them take (newest frame wins), to
#              a reader of the receiving pool
#   p50 ms     latency at 30 fps: PUSH's send to PULL's receive; the
#              commit in the sender's pool to the commit in the receiver's
#
# The writer and the reader of the bridge's pools touch only a frame's
# first bytes (a write loan, a read loan), as PUSH and PULL do: the copies
# counted are the bridge's own (pool to ZeroMQ, ZeroMQ to pool).
#
# Usage: bridge_bench.sh MMPOOL PEER [FRAMES [RUNS]]
#   MMPOOL  the mmpool tool, built with the bridge
#   PEER    tools/tests/bridge_peer.c, built (mmpool_bridge_peer)
#   FRAMES  frames per measurement (default 300); RUNS (default 3): the
#           medians of that many runs are printed. CI's smoke run is
#           "10 1" (about 15 s): it checks that every measurement gives a
#           number, not what the number is.
# Exits 1, saying why, if any run fails or gives no number (or zero).
set -Eeuo pipefail
# set -e inside command substitutions too, should one be added.
shopt -s inherit_errexit
trap 'echo "bridge_bench: failed (exit $?): $BASH_COMMAND" >&2' ERR

mmpool=$1
peer=$2
frames=${3:-300}
runs=${4:-3}
paced=$((frames < 150 ? frames : 150))
# How long a reader waits for its frames: enough for a loaded machine,
# short enough that a broken bridge fails a smoke run quickly.
patience=$((10 + frames / 30))
dir=$(mktemp -d /dev/shm/mmpool-bridgebench-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
die() {
  echo "bridge_bench: $*" >&2
  exit 1
}
# Ports below the kernel's ephemeral range (32768 and up), so that no
# outgoing connection holds one.
port=$((20000 + RANDOM % 10000))

# Every process is started in this shell (never inside $(...)), so that
# the cleanup above knows it.
bg() {
  "$@" &
  pids+=("$!")
}
# value FILE KEY: the number KEY=... in the result line FILE; fails unless
# it is there and above zero.
value() {
  local v
  v=$(sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $(cat "$1")")
  awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' ||
    die "no $2 in $(basename "$1"): '$(cat "$1")'"
  echo "$v"
}

# running PID: whether PID is one of this shell's jobs still running. The
# shell's job table, not /proc: bash reaps an exited job at once and keeps
# its status for `wait`, and its PID may meanwhile go to another process.
running() {
  local p
  for p in $(jobs -rp); do
    [ "$p" = "$1" ] && return 0
  done
  return 1
}
# reap PID WHAT: waits for PID, which was sent SIGTERM, 5 s at most; one
# that has not exited by then is killed and named, so a hang says which
# process hung instead of running into the caller's time limit.
reap() {
  local t
  for ((t = 0; t < 50; t++)); do
    running "$1" || break
    sleep 0.1
  done
  if running "$1"; then
    kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    die "$2 did not exit within 5 s of SIGTERM"
  fi
  wait "$1" || die "$2 exited $? after SIGTERM"
}
# raw FPS N OUT: one PUSH/PULL run of N frames, its result line in OUT.
raw() {
  local ep=tcp://127.0.0.1:$((port++))
  bg "$peer" raw-push "$ep" "$2" "$1"
  "$peer" raw-pull "$ep" "$2" >"$3"
}
# bridge FPS WINDOW N OUT: one bridge run (N frames written), its result
# line in OUT.
bridge() {
  local ep=tcp://127.0.0.1:$((port++)) n=$3 out=$4 check s r
  rm -f "$dir/a" "$dir/b"
  "$mmpool" create --capacity 6220800 --slots 4 --format "bgr8 1920x1080" "$dir/a" >/dev/null
  # The receiving pool: Full-HD and the 32-byte header, the reader's
  # geometry.
  "$mmpool" create --capacity 6220832 --slots 16 --format "bgr8 1920x1080" "$dir/b" >/dev/null
  bg "$peer" check "$dir/b" "$n" "$patience" header nohash >"$out"
  check=$!
  bg "$mmpool" bridge send --quiet "$dir/a" "$ep"
  s=$!
  sleep 0.3
  bg "$mmpool" bridge recv --quiet --header --window "$2" "$ep" "$dir/b"
  r=$!
  sleep 0.5
  "$peer" write "$dir/a" "$n" "$1" fast
  wait "$check" || die "the reader of $dir/b failed"
  kill -TERM "$s" "$r" 2>/dev/null || die "a bridge had stopped before its run ended"
  reap "$s" "bridge send"
  reap "$r" "bridge recv"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A fps p50
for name in raw window1 window2; do
  : >"$dir/$name.fps"
  : >"$dir/$name.p50"
done
for ((i = 0; i < runs; i++)); do
  raw 0 "$frames" "$dir/run"
  value "$dir/run" fps >>"$dir/raw.fps"
  raw 30 "$paced" "$dir/run"
  value "$dir/run" p50_ms >>"$dir/raw.p50"
  for w in 1 2; do
    bridge 1000 "$w" $((frames * 10)) "$dir/run"
    value "$dir/run" fps >>"$dir/window$w.fps"
    bridge 30 "$w" "$paced" "$dir/run"
    value "$dir/run" p50_ms >>"$dir/window$w.p50"
  done
done
for name in raw window1 window2; do
  fps[$name]=$(median <"$dir/$name.fps")
  p50[$name]=$(median <"$dir/$name.p50")
done

echo "bridge bench: Full-HD (6220800 B) over tcp://127.0.0.1, $frames frames back to back" \
  "and $paced at 30 fps per run, medians of $runs runs"
printf '%-26s %10s %14s\n' "" "frames/s" "p50 ms @30fps"
printf '%-26s %10s %14s\n' "ZeroMQ PUSH/PULL" "${fps[raw]}" "${p50[raw]}"
printf '%-26s %10s %14s\n' "mmpool bridge (window 1)" "${fps[window1]}" "${p50[window1]}"
printf '%-26s %10s %14s\n' "mmpool bridge (window 2)" "${fps[window2]}" "${p50[window2]}"
awk -v r="${fps[raw]}" -v a="${fps[window1]}" -v b="${fps[window2]}" 'BEGIN {
  printf "ratio bridge/raw frames/s: window 1 %.2f, window 2 %.2f (target >= 0.90)\n", a / r, b / r
}'
