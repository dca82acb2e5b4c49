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
#           medians of that many runs are printed
set -euo pipefail

mmpool=$1
peer=$2
frames=${3:-300}
runs=${4:-3}
paced=$((frames < 150 ? frames : 150))
dir=$(mktemp -d /dev/shm/mmpool-bridgebench-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
port=$((40000 + RANDOM % 20000))

bg() {
  "$@" &
  pids+=("$!")
}
# field LINE KEY: the value of KEY=... in LINE.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# raw FPS: one PUSH/PULL run, its result line.
raw() {
  local ep=tcp://127.0.0.1:$((port++)) n=$2
  bg "$peer" raw-push "$ep" "$n" "$1"
  "$peer" raw-pull "$ep" "$n"
}
# bridge FPS WINDOW N: one bridge run (N frames written), its result line.
bridge() {
  local ep=tcp://127.0.0.1:$((port++)) n=$3 s r
  rm -f "$dir/a" "$dir/b"
  "$mmpool" create --capacity 6220800 --slots 4 --format "bgr8 1920x1080" "$dir/a" >/dev/null
  # The receiving pool: Full-HD and the 32-byte header, the reader's
  # geometry.
  "$mmpool" create --capacity 6220832 --slots 16 --format "bgr8 1920x1080" "$dir/b" >/dev/null
  bg "$peer" check "$dir/b" "$n" 60 header nohash >"$dir/check.out"
  local check=$!
  "$mmpool" bridge send --quiet "$dir/a" "$ep" &
  s=$!
  pids+=("$s")
  sleep 0.3
  "$mmpool" bridge recv --quiet --header --window "$2" "$ep" "$dir/b" &
  r=$!
  pids+=("$r")
  sleep 0.5
  "$peer" write "$dir/a" "$n" "$1" fast
  wait "$check"
  kill -TERM "$s" "$r" || echo "bridge_bench: a bridge had stopped before its run ended ($s $r)" >&2
  wait "$s" "$r" || true
  cat "$dir/check.out"
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

declare -A fps p50
for name in raw window1 window2; do
  : >"$dir/$name.fps"
  : >"$dir/$name.p50"
done
for ((i = 0; i < runs; i++)); do
  field "$(raw 0 "$frames")" fps >>"$dir/raw.fps"
  field "$(raw 30 "$paced")" p50_ms >>"$dir/raw.p50"
  for w in 1 2; do
    field "$(bridge 1000 "$w" $((frames * 10)))" fps >>"$dir/window$w.fps"
    field "$(bridge 30 "$w" "$paced")" p50_ms >>"$dir/window$w.p50"
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
  if (r > 0) printf "ratio bridge/raw frames/s: window 1 %.2f, window 2 %.2f (target >= 0.90)\n", a / r, b / r
}'
