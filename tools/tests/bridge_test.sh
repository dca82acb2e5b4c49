#!/usr/bin/env bash
# Runs `mmpool bridge` between pools on 127.0.0.1 and checks what arrives.
# Usage: bridge_test.sh CASE, with MMPOOL (the tool), PEER
# (tools/tests/bridge_peer.c) and PYTHON in the environment. Pools and
# keys live in a private directory removed at exit; every process started
# here is killed at exit, whatever failed. Exit status 77: the case cannot
# run here (CTest shows it as skipped), with the reason printed.
set -u

case_name=$1
dir=$(mktemp -d /dev/shm/mmpool-bridgetest-XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAIL ($case_name): $*" >&2
  local f
  for f in "$dir"/*.err; do
    [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -5 "$f" >&2; }
  done
  exit 1
}
skip() { echo "SKIP ($case_name): $*"; exit 77; }
py=${PYTHON:-python3}

# start NAME CMD...: runs CMD in the background, stdout in $dir/NAME.out,
# stderr in $dir/NAME.err; its pid in ${pid[NAME]}.
declare -A pid
start() {
  local name=$1
  shift
  "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  pid[$name]=$!
  pids+=("$!")
}
# finish NAME SECONDS: waits at most SECONDS for NAME to end (then kills
# it and fails); its exit status in $rc.
finish() {
  local name=$1 limit=$(($2 * 10)) i
  for ((i = 0; i < limit; i++)); do
    kill -0 "${pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${pid[$name]}" 2>/dev/null; then
    kill -9 "${pid[$name]}"
    wait "${pid[$name]}" 2>/dev/null
    fail "$name did not end within $2 s"
  fi
  wait "${pid[$name]}"
  rc=$?
}
# stop NAME: SIGTERM, then it must exit 0 within 3 s.
stop() {
  kill -TERM "${pid[$1]}" 2>/dev/null
  finish "$1" 3
  [ "$rc" -eq 0 ] || fail "$1 exited $rc after SIGTERM"
}
# restart NAME CMD...: kills NAME hard (SIGKILL), starts CMD under NAME.
restart() {
  local name=$1
  shift
  kill -9 "${pid[$name]}"
  wait "${pid[$name]}" 2>/dev/null
  start "$name" "$@"
}
# expect FILE PYTHON-CONDITION: the key=value line in FILE (the last one)
# satisfies the condition, its keys as variables.
expect() {
  local line
  line=$(tail -1 "$1")
  "$py" -c "
import sys
d = {k: float(v) for k, v in (kv.split('=') for kv in sys.argv[1].split())}
assert $2, d
" "$line" || fail "$(basename "$1"): expected $2 in: $line"
}
# last_json FILE PYTHON-CONDITION: the last JSON status line in FILE, as d.
last_json() {
  "$py" -c "
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith('{')]
d = json.loads(lines[-1])
assert $2, d
" "$1" || fail "$(basename "$1"): expected $2 in: $(grep '^{' "$1" | tail -1)"
}
contains() { grep -qF -- "$2" "$1" || fail "expected '$2' in $(basename "$1"): $(tail -3 "$1")"; }

# Below the kernel's ephemeral ports (32768 and up), which an outgoing
# connection of any process may hold.
port=$((20000 + RANDOM % 12000))
ep=tcp://127.0.0.1:$port
a=$dir/a
b=$dir/b
make_source() { "$MMPOOL" create --capacity 6220800 --slots "${1:-16}" --format "bgr8 1920x1080" "$a" >/dev/null || fail "create $a"; }
# The bridge's usual pair, receiver with --create and --header.
send() { start send "$MMPOOL" bridge send --json "$@" "$a" "$ep"; }
recv() { start "${2:-recv}" "$MMPOOL" bridge recv --create --header --json "$ep" "${1:-$b}"; }

case "$case_name" in
roundtrip)
  # 300 Full-HD frames, every one intact and in order, then a clean stop.
  make_source
  send --fifo
  recv
  start check "$PEER" check "$b" 300 40 header
  sleep 1
  start write "$PEER" write "$a" 300 60 behind="$b"
  finish write 30
  [ "$rc" -eq 0 ] || fail "the writer failed"
  finish check 40
  expect "$dir/check.out" "d['frames'] == 300 and d['bad'] == 0 and d['backwards'] == 0 and d['repeats'] == 0 and d['first'] == 1 and d['last'] == 300"
  stop send
  stop recv
  last_json "$dir/recv.err" "d['frames'] == 300 and d['dropped'] == 0"
  last_json "$dir/send.err" "d['frames'] == 300 and d['skipped'] == 0"
  ;;
restart_sender | restart_receiver)
  # Killed mid-stream and started again: frames flow again within 2 s.
  # What is checked is the restart (the longest pause, order, the last
  # frame), not how many frames a busy machine carried. FIFO; when the
  # receiver restarts, a writer that waits for the receiving pool
  # (behind=), as in roundtrip. Not when the sender does: a restarted
  # sender starts after the frames already in the source pool, so the
  # receiving pool's count falls behind the writer's by those for good,
  # and a writer waiting for it would crawl.
  make_source
  send --fifo
  recv
  start check "$PEER" check "$b" 300 30 header
  sleep 1
  if [ "$case_name" = restart_sender ]; then
    start write "$PEER" write "$a" 300 60
  else
    start write "$PEER" write "$a" 300 60 behind="$b"
  fi
  sleep 1.5
  if [ "$case_name" = restart_sender ]; then
    restart send "$MMPOOL" bridge send --fifo --json "$a" "$ep"
  else
    restart recv "$MMPOOL" bridge recv --create --header --json "$ep" "$b"
  fi
  finish write 30
  [ "$rc" -eq 0 ] || fail "the writer failed (exit $rc)"
  finish check 30
  echo "$case_name: $(cat "$dir/check.out")"
  expect "$dir/check.out" "d['bad'] == 0 and d['backwards'] == 0 and d['repeats'] <= 1 and d['last'] == 300 and d['max_gap_ms'] < 2000"
  stop send
  stop recv
  if [ "$case_name" = restart_sender ]; then
    # A --fifo sender restarted while its receiver has every frame of the
    # source pool sends none of them again.
    rm -f "$a" "$b"
    make_source
    send --fifo
    recv
    sleep 1
    start write "$PEER" write "$a" 5 30
    finish write 10
    sleep 1
    restart send "$MMPOOL" bridge send --fifo --json "$a" "$ep"
    sleep 2
    stop send
    stop recv
    "$MMPOOL" info --json "$b" >"$dir/info.json" || fail "info $b"
    "$py" -c "import json; d = json.load(open('$dir/info.json')); assert d['last_seq'] == 5, d" ||
      fail "the restarted sender sent frames again: $b holds $(grep -o '"last_seq": *[0-9]*' "$dir/info.json")"
  fi
  ;;
two_receivers)
  make_source
  send --fifo
  recv "$dir/b1" recv1
  recv "$dir/b2" recv2
  start check1 "$PEER" check "$dir/b1" 150 20 header
  start check2 "$PEER" check "$dir/b2" 150 20 header
  sleep 1
  start write "$PEER" write "$a" 150 30 behind="$dir/b2"
  finish check1 20
  finish check2 20
  for c in check1 check2; do
    expect "$dir/$c.out" "d['frames'] == 150 and d['bad'] == 0 and d['backwards'] == 0 and d['repeats'] == 0 and d['first'] == 1 and d['last'] == 150"
  done
  stop send
  last_json "$dir/send.err" "d['frames'] == 300 and d['receivers'] == 2"
  ;;
curve)
  # A listed key receives everything; an unlisted one gets nothing (its
  # pool is never even created) and the sender logs it.
  k=$dir/keys
  mkdir -p "$k" "$dir/allow"
  for name in server good bad bad2; do
    (cd "$k" && "$MMPOOL" bridge keygen "$name" >/dev/null) || fail "keygen $name"
  done
  [ "$(stat -c %a "$k/server.key")" = 600 ] || fail "server.key is not mode 0600"
  # A secret key others can read is used, with a warning.
  cp "$k/bad.key" "$k/open.key"
  chmod 644 "$k/open.key"
  "$MMPOOL" bridge recv --create --curve-secret "$k/open.key" --curve-server "$k/server.pub" \
    "$ep" "$dir/none" >"$dir/open.out" 2>"$dir/open.err" &
  pids+=("$!")
  sleep 0.3
  kill -TERM "$!"
  wait "$!"
  contains "$dir/open.err" "warning: the secret key '$k/open.key' can be read by others (mode 0644)"
  (cd "$k" && "$MMPOOL" bridge keygen server >/dev/null 2>&1) && fail "keygen overwrote server.key"
  # The good key, beside .pub files that are not keys: text, a named pipe
  # (which must not stall the sender), a directory, and a symbolic link to
  # the bad key (only regular files count, as for every directory the
  # tool lists).
  cp "$k/good.pub" "$dir/allow/"
  ln -s "$k/bad.pub" "$dir/allow/link.pub"
  echo "not a key" >"$dir/allow/junk.pub"
  mkfifo "$dir/allow/pipe.pub"
  mkdir "$dir/allow/dir.pub"
  make_source
  send --fifo --curve-secret "$k/server.key" --curve-allow "$dir/allow"
  start recv1 "$MMPOOL" bridge recv --create --header --json --curve-secret "$k/good.key" \
    --curve-server "$k/server.pub" "$ep" "$dir/b1"
  start recv2 "$MMPOOL" bridge recv --create --json --curve-secret "$k/bad.key" \
    --curve-server "$k/server.pub" "$ep" "$dir/b2"
  # A second unlisted key, whose retries alternate with the first one's:
  # each key is logged once, not at every turn. A refused receiver retries
  # about once a second, not in a loop (at most 20 refusals in all).
  start recv4 "$MMPOOL" bridge recv --create --json --curve-secret "$k/bad2.key" \
    --curve-server "$k/server.pub" "$ep" "$dir/b4"
  # A receiver without CURVE gets nothing either.
  start recv3 "$MMPOOL" bridge recv --create --json "$ep" "$dir/b3"
  start check "$PEER" check "$dir/b1" 30 15 header
  sleep 1
  start write "$PEER" write "$a" 30 10 behind="$dir/b1"
  finish check 15
  expect "$dir/check.out" "d['frames'] == 30 and d['bad'] == 0 and d['backwards'] == 0"
  [ ! -e "$dir/b2" ] || fail "the receiver with an unlisted key created its pool"
  [ ! -e "$dir/b3" ] || fail "the receiver without CURVE created its pool"
  stop recv2
  stop recv3
  stop recv4
  last_json "$dir/recv2.err" "d['frames'] == 0"
  contains "$dir/recv2.err" "the sender refused the handshake (with CURVE: is this receiver's public key in its --curve-allow?)"
  last_json "$dir/recv3.err" "d['frames'] == 0 and d['dropped'] == 0"
  stop send
  contains "$dir/send.err" "refused a receiver from 127.0.0.1: its key $(cat "$k/bad.pub") is not in"
  last_json "$dir/send.err" "2 <= d['refused'] <= 20 and d['frames'] == 30"
  [ "$(grep -c "refused a receiver" "$dir/send.err")" -eq 2 ] ||
    fail "expected one log line per refused key: $(grep "refused a receiver" "$dir/send.err" | head -5)"
  grep -q "warning" "$dir/recv1.err" && fail "a secret key of mode 0600 gave a warning"
  ;;
junk)
  # A raw ZeroMQ peer sends bad messages of each kind to a receiver: none
  # reaches the pool, each is counted under its cause.
  "$MMPOOL" create --capacity 65536 --slots 2 "$b" >/dev/null || fail "create $b"
  start junk "$PEER" junk "$ep"
  sleep 0.3
  start recv "$MMPOOL" bridge recv --json "$ep" "$b"
  finish junk 15
  [ "$rc" -eq 0 ] || fail "the junk peer failed"
  stop recv
  last_json "$dir/recv.err" "(d['malformed'], d['truncated'], d['oversized'], d['too_big'], d['frames']) == (9, 2, 2, 1, 1)"
  contains "$dir/recv.err" "frame 2 skipped: 65600 bytes do not fit its slots of 65536 bytes"
  "$MMPOOL" info --json "$b" >"$dir/info.json" || fail "info $b"
  "$py" -c "import json; d = json.load(open('$dir/info.json')); assert d['last_seq'] == 1, d" ||
    fail "the pool holds more than the one valid frame"
  "$MMPOOL" get --timeout 0 "$b" "$dir/frame" || fail "get $b"
  head -c 1000 /dev/zero | tr '\0' Z | cmp -s - "$dir/frame" || fail "the valid frame arrived damaged"
  # A sender chooses the geometry --create makes: one that would not fit
  # in 64 bits (2^63 bytes), one that wraps when --header adds 32 bytes,
  # and one of 16 GiB (2 GiB x 8). Each is refused and counted, the
  # receiver goes on, and the valid frame after it makes the pool.
  for geometry in "0x8000000000000000 2" "0xfffffffffffffff0 2" "0x80000000 8"; do
    rm -f "$dir/g"
    # shellcheck disable=SC2086 # two arguments
    start junk "$PEER" geometry "$ep" $geometry
    sleep 0.3
    start recv "$MMPOOL" bridge recv --create --header --json "$ep" "$dir/g"
    finish junk 10
    kill -0 "${pid[recv]}" 2>/dev/null || fail "recv died on the geometry $geometry"
    stop recv
    last_json "$dir/recv.err" "(d['malformed'], d['frames']) == (1, 1)"
    contains "$dir/recv.err" "not created: the sender asks for"
    "$MMPOOL" info --json "$dir/g" >"$dir/info.json" || fail "info $dir/g"
    "$py" -c "import json; d = json.load(open('$dir/info.json')); assert (d['slot_capacity'], d['slot_count']) == (4128, 2), d" ||
      fail "after the geometry $geometry, recv --create made: $(cat "$dir/info.json")"
  done
  # One payload part far beyond the pool's slots: ZeroMQ closes the
  # connection before storing it (the receiver's memory does not grow by
  # it), the receiver comes back and takes the next frame.
  "$MMPOOL" create --capacity 4096 --slots 2 "$dir/small" >/dev/null || fail "create $dir/small"
  start junk "$PEER" big-part "$ep" 134217728
  sleep 0.3
  start recv "$MMPOOL" bridge recv --json "$ep" "$dir/small"
  finish junk 20
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/${pid[recv]}/status")
  stop recv
  contains "$dir/junk.out" "reconnected=1"
  contains "$dir/recv.err" "the connection was closed and not retried, likely for a message part over 4208 bytes"
  last_json "$dir/recv.err" "d['frames'] == 1"
  [ "$peak" -lt 65536 ] || fail "recv took a 128 MiB part into memory: peak RSS $peak KiB"
  # And bad credits at a sender: counted, and it serves a real receiver
  # after them.
  make_source 2
  send
  start junk2 "$PEER" junk-sender "$ep"
  finish junk2 10
  recv "$dir/b3"
  sleep 0.5
  "$MMPOOL" put "$a" /etc/hostname || fail "put"
  sleep 1
  stop recv
  last_json "$dir/recv.err" "d['frames'] == 1"
  # --create made it with the sender's geometry and format, 32 bytes more
  # per slot for --header.
  "$MMPOOL" info --json "$dir/b3" >"$dir/info.json" || fail "info $dir/b3"
  "$py" -c "import json; d = json.load(open('$dir/info.json')); assert (d['slot_capacity'], d['slot_count'], d['format']) == (6220832, 2, 'bgr8 1920x1080'), d" ||
    fail "recv --create made $dir/b3 with another geometry: $(cat "$dir/info.json")"
  stop send
  last_json "$dir/send.err" "d['dropped'] == 4 and d['malformed'] == 3 and d['truncated'] == 1 and d['frames'] == 1"
  ;;
lying_receiver)
  # A receiver that claims to have taken every frame but reads none: the
  # sender still holds no more than a couple of frames for it (its
  # high-water mark), not a queue of them. Freed buffers must not wait in
  # AddressSanitizer's quarantine (see thin_link).
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
  make_source 4
  send
  start liar "$PEER" liar "$ep" 5 30
  start write "$PEER" write "$a" 150 30
  finish liar 10
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/${pid[send]}/status")
  finish write 10
  [ "$rc" -eq 0 ] || fail "the writer failed"
  stop send
  echo "lying_receiver: sender peak RSS $peak KiB"
  # The source pool's 4 slots (24 MiB, mapped and read) and about 5
  # frames of 6 MiB (2 queued, 1 being written out, 1 just read, 1 freed
  # but kept by malloc) come to about 60 MiB; with a queue of 20 frames it
  # was over 150.
  [ "$peak" -lt 81920 ] || fail "the sender held $peak KiB for a receiver that reads nothing"
  ;;
errors)
  make_source 2
  run() {
    local want=$1
    shift
    "$MMPOOL" "$@" >"$dir/run.out" 2>"$dir/run.err"
    local got=$?
    [ "$got" -eq "$want" ] || fail "mmpool $* exited $got, want $want: $(cat "$dir/run.err")"
  }
  run 1 bridge send "$a" tcp://256.1.1.1:5
  contains "$dir/run.err" "mmpool bridge: cannot bind tcp://256.1.1.1:5: "
  send
  sleep 0.3
  run 1 bridge send "$a" "$ep"
  contains "$dir/run.err" "mmpool bridge: cannot bind $ep: Address already in use"
  grep -q "warning" "$dir/send.err" && fail "a sender on $ep warned: $(cat "$dir/send.err")"
  # Bound where other machines reach it, without CURVE: a warning. The
  # port is chosen by the system and nothing connects to it.
  start wide "$MMPOOL" bridge send --quiet "$a" "tcp://*:*"
  sleep 0.3
  stop wide
  contains "$dir/wide.err" "warning: tcp://0.0.0.0:"
  contains "$dir/wide.err" "is reachable from other machines without CURVE"
  run 1 bridge recv bogus://x "$b" --create
  contains "$dir/run.err" "mmpool bridge: cannot connect bogus://x: "
  run 1 bridge recv "$ep" "$dir/missing"
  contains "$dir/run.err" "no such pool"
  run 1 bridge send "$dir/missing" "$ep"
  run 2 bridge
  run 2 bridge frob
  run 2 bridge send "$a"
  run 2 bridge send --curve-secret x "$a" "$ep"
  run 2 bridge recv --window 0 "$ep" "$b"
  run 2 bridge recv --window 3 "$ep" "$b"
  run 2 bridge recv --create --max-frame 0 "$ep" "$b"
  run 2 bridge recv --create --max-pool 1x "$ep" "$b"
  run 0 bridge --help
  contains "$dir/run.out" "mmpool bridge keygen [NAME]"
  (cd "$dir" && "$MMPOOL" bridge keygen k >/dev/null) || fail "keygen"
  run 1 bridge recv --create --curve-secret "$dir/k.pub" --curve-server "$dir/a" "$ep" "$b"
  contains "$dir/run.err" "cannot read the key '$dir/a': not a key"
  stop send
  ;;
thin_link)
  # Run again inside a network namespace of its own, whose loopback is a
  # 100 Mbit/s link.
  command -v unshare >/dev/null || skip "no unshare (util-linux)"
  command -v tc >/dev/null || skip "no tc (iproute2)"
  unshare -n true 2>/dev/null || skip "cannot make a network namespace (unshare -n needs root or user namespaces)"
  trap - EXIT
  rm -rf "$dir"
  exec unshare -n bash -c '
    ip link set lo up || { echo "SKIP (thin_link): cannot bring up lo"; exit 77; }
    tc qdisc add dev lo root tbf rate 100mbit burst 256kb latency 50ms ||
      { echo "SKIP (thin_link): tc cannot shape lo (tbf)"; exit 77; }
    exec bash "$0" thin_link_inside' "$0"
  ;;
thin_link_inside)
  # A 30 fps Full-HD source (~1.5 Gbit/s) behind 100 Mbit/s: about 2
  # frames/s get through, each the newest, under a second old; memory
  # stays where it was at 10 s.
  # Under AddressSanitizer, freed buffers wait in its quarantine (256 MB):
  # memory the bridge gave back, not memory it keeps.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
  make_source 4
  send
  recv
  start check "$PEER" check "$b" 1000 33 header from=5
  sleep 1
  start write "$PEER" write "$a" 960 30
  # Empty when the process is gone: a dead bridge must fail the test, not
  # pass it as flat.
  rss() { awk '/^VmRSS/ {print $2}' "/proc/${pid[$1]}/status" 2>/dev/null; }
  sleep 10
  s10=$(rss send) r10=$(rss recv)
  [ -n "$s10" ] && [ -n "$r10" ] || fail "a bridge was gone after 10 s (send RSS '$s10', recv '$r10')"
  sleep 20
  s30=$(rss send) r30=$(rss recv)
  [ -n "$s30" ] && [ -n "$r30" ] || fail "a bridge was gone after 30 s (send RSS '$s30', recv '$r30')"
  finish check 10
  echo "thin link: $(cat "$dir/check.out"); RSS KiB send $s10 -> $s30, recv $r10 -> $r30"
  expect "$dir/check.out" "d['bad'] == 0 and d['backwards'] == 0 and 1.2 <= d['fps'] <= 2.2 and 0 < d['p99_ms'] < 1000"
  # Flat: less than 3 frames' worth (whether malloc keeps a freed frame
  # buffer or not moves RSS by one); a backlog would grow by 28 frames, 170
  # MB, a second.
  [ $((s30 - s10)) -lt 16384 ] || fail "the sender grew from $s10 to $s30 KiB"
  [ $((r30 - r10)) -lt 16384 ] || fail "the receiver grew from $r10 to $r30 KiB"
  stop send
  stop recv
  ;;
*)
  fail "unknown case"
  ;;
esac
exit 0
