#!/usr/bin/env bash
# Runs the mmpool tool against real pools and checks what it prints and
# returns. Usage: tool_test.sh CASE, with MMPOOL (the tool) and HOLDER
# (tools/tests/holder.c) in the environment. Pools live in a private
# directory, removed at exit; "clean" is only ever run on that directory.
set -u

case_name=$1
dir=$(mktemp -d /dev/shm/mmpool-tooltest-XXXXXX)
holders=()
bare=""
cleanup() {
  for pid in "${holders[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ -n "$bare" ] && "$MMPOOL" rm "$bare" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }

# run WANT_RC CMD...: runs the tool, keeps stdout in $out and stderr in $err.
run() {
  local want=$1; shift
  "$MMPOOL" "$@" >"$dir/.out" 2>"$dir/.err"
  local rc=$?
  out=$(cat "$dir/.out"); err=$(cat "$dir/.err")
  [ "$rc" -eq "$want" ] || fail "mmpool $* exited $rc, want $want; stderr: $err"
}
contains() { grep -qF -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }
lacks() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect '$2' in: $1"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1" <<<"$out" || fail "json check '$1' on: $out"; }

# start_holder POOL MODE: a process that holds a loan (or a handle) in POOL.
start_holder() {
  local fifo=$dir/.ready-$RANDOM
  mkfifo "$fifo"
  "$HOLDER" "$1" "$2" >"$fifo" &
  holder_pid=$!
  holders+=("$holder_pid")
  read -r -t 10 line <"$fifo" || true
  rm -f "$fifo"
  [ "${line:-}" = ready ] || fail "holder on $1 did not start"
}

p=$dir/pool

case $case_name in
roundtrip)
  run 0 create "$p" --capacity 64K --slots 3
  contains "$out" "created $p"
  head -c 50000 /dev/urandom >"$dir/in.bin"
  printf '\0\n\r\0' >>"$dir/in.bin"
  run 0 put "$p" "$dir/in.bin"
  run 0 get "$p" "$dir/out.bin"
  cmp "$dir/in.bin" "$dir/out.bin" || fail "frame changed through put/get"
  # Standard input and output, and an empty frame.
  head -c 1000 /dev/urandom >"$dir/in2.bin"
  "$MMPOOL" put "$p" <"$dir/in2.bin" || fail "put from stdin"
  "$MMPOOL" get "$p" >"$dir/out2.bin" || fail "get to stdout"
  cmp "$dir/in2.bin" "$dir/out2.bin" || fail "frame changed through stdin/stdout"
  run 0 put "$p" - </dev/null
  run 0 get "$p" "$dir/empty.bin" --timeout 1
  [ ! -s "$dir/empty.bin" ] || fail "empty frame came back non-empty"
  # --fifo gives the oldest frame still there.
  run 0 get --fifo "$p" "$dir/old.bin" --timeout 0
  cmp "$dir/in.bin" "$dir/old.bin" || fail "--fifo did not give the oldest frame"
  run 0 info --json "$p"
  json 'assert d["last_seq"] == 3, d'
  ;;
ls)
  run 0 create "$p" --capacity 4096 --slots 2 --format "bgr8 32x32"
  run 0 put "$p" /dev/null
  head -c 9000 /dev/urandom >"$dir/random.bin"
  { printf 'MMPOOL\r\n'; head -c 9000 /dev/zero; } >"$dir/fake-magic"
  mkdir "$dir/subdir"
  # Not regular files: never opened (a FIFO would not even be a pool), and
  # a link to a pool is not a second pool.
  mkfifo "$dir/fifo"
  ln -s "$p" "$dir/link"
  run 0 ls "$dir"
  contains "$out" "$p"
  contains "$out" "2 x 4096"
  contains "$out" "bgr8 32x32"
  lacks "$out" "random.bin"
  lacks "$out" "fake-magic"
  lacks "$out" "subdir"
  lacks "$out" "fifo"
  lacks "$out" "link"
  [ "$(wc -l <<<"$out")" -eq 2 ] || fail "want a header and one pool: $out"
  run 0 ls --json "$dir"
  json 'assert len(d) == 1 and d[0]["name"] == "pool" and d[0]["slot_count"] == 2 and d[0]["last_seq"] == 1 and d[0]["format"] == "bgr8 32x32" and d[0]["live_processes"] == 0, d'
  start_holder "$p" attach
  run 0 ls --json "$dir"
  json 'assert d[0]["live_processes"] == 1 and d[0]["live_handles"] == 1, d'
  # Without DIR: the directory of bare names, listed by bare name.
  bare=mmpool-tooltest-$$-$RANDOM
  run 0 create "$bare" --capacity 100 --slots 1
  run 0 ls
  grep -qE "^$bare " <<<"$out" || fail "ls did not list $bare by its bare name: $out"
  ;;
ls_missing_dir)
  # A missing directory is an error, not an empty list.
  run 1 ls "$dir/nonexistent"
  contains "$err" "$dir/nonexistent"
  ;;
info)
  run 0 create "$p" --capacity 1000 --slots 3 --format 'a "quoted" \ format'
  head -c 1000 /dev/urandom >"$dir/frame"
  run 0 put "$p" "$dir/frame"
  run 0 info "$p"
  contains "$out" "pool         $p"
  contains "$out" "version      1.0"
  contains "$out" "3 slots x 1000 bytes"
  contains "$out" 'a "quoted" \ format'
  contains "$out" "committed seq 1, 1000 bytes"
  contains "$out" "empty"
  start_holder "$p" read
  run 0 info "$p"
  contains "$out" "pinned by pid $holder_pid (alive)"
  contains "$out" "pid $holder_pid (alive), reader"
  run 0 info --json "$p"
  json "assert d['slot_count'] == 3 and d['slot_capacity'] == 1000 and d['format'] == 'a \"quoted\" \\\\ format' and d['last_seq'] == 1, d
s = [x for x in d['slots'] if x['state'] == 'committed']
assert len(s) == 1 and s[0]['seq'] == 1 and s[0]['pinned_by'][0]['pid'] == $holder_pid and s[0]['pinned_by'][0]['alive'], d
assert [h['pid'] for h in d['handles']] == [$holder_pid] and d['handles'][0]['reader'], d"
  start_holder "$p" write
  run 0 info "$p"
  contains "$out" "being written by pid $holder_pid (alive)"
  # Control characters in a format (anyone may create a pool) reach the
  # terminal escaped, in info, ls and watch alike; JSON keeps them exact.
  run 0 create "$dir/esc" --capacity 10 --slots 1 --format "$(printf 'a\033[2Jb\nc')"
  for c in "info $dir/esc" "ls $dir" "watch --count 1 $dir/esc"; do
    # shellcheck disable=SC2086 # the command is meant to split into words
    run 0 $c
    contains "$out" 'a\x1b[2Jb\x0ac'
    ! grep -q $'\033' <<<"$out" || fail "mmpool $c printed a raw ESC: $out"
  done
  run 0 info --json "$dir/esc"
  json 'assert d["format"] == "a\x1b[2Jb\nc", d'
  ;;
sizes)
  for spec in 6220800:6220800 6M:6291456 6m:6291456 64K:65536 1920x1080x3:6220800 2Kx3:6144 1G:1073741824; do
    size=${spec%%:*} want=${spec##*:}
    [ "$want" -gt 10000000 ] && continue # a 1 GiB pool is too big to make here
    run 0 create "$dir/s$size" --capacity "$size" --slots 1
    run 0 info --json "$dir/s$size"
    json "assert d['slot_capacity'] == $want, d"
  done
  for bad in 6Q x3 3x "" 0 12.5 -5 99999999999999999999 16Gx16Gx16Gx16G 6MB; do
    run 2 create "$dir/bad" --capacity "$bad" --slots 1
    contains "$err" "--capacity"
  done
  [ ! -e "$dir/bad" ] || fail "a bad size created a pool"
  ;;
usage)
  run 2
  run 2 frobnicate
  contains "$err" "unknown command 'frobnicate'"
  run 2 info
  run 2 info a b
  run 2 info --bogus "$p"
  contains "$err" "unknown option '--bogus'"
  run 2 create "$p" --slots 2
  run 2 create "$p" --capacity 10 --slots 0
  run 2 create "$p" --capacity 10 --slots 1025
  run 2 create "$p" --capacity 10 --slots 1 --mode 0800
  run 2 create "$p" --capacity 10 --slots 1 --format "$(printf 'x%.0s' {1..64})"
  run 2 get "$p" --timeout soon
  run 2 watch "$p" --count 0
  run 2 ls --json=yes
  run 2 snapshot "$p"
  [ ! -e "$p" ] || fail "a usage error created a pool"
  run 0 --help
  contains "$out" "Usage: mmpool COMMAND"
  contains "$out" "2 usage error"
  run 0 --version
  contains "$out" "mmpool 0."
  for c in ls info watch put get snapshot create flush rm clean; do
    run 0 "$c" --help
    contains "$out" "Usage: mmpool $c"
  done
  ;;
errors)
  run 1 info "$dir/missing"
  contains "$err" "mmpool: $dir/missing: no such pool (MMPOOL_ENOENT)"
  head -c 5000 /dev/urandom >"$dir/junk"
  cp "$dir/junk" "$dir/junk.orig"
  for c in info put get flush rm; do
    run 1 "$c" "$dir/junk"
    contains "$err" "$dir/junk: not an mmpool file or damaged pool"
  done
  cmp "$dir/junk" "$dir/junk.orig" || fail "a command changed a file that is not a pool"
  run 1 info "$dir/junk" --json
  [ -z "$out" ] || fail "--json printed something for a refused file"
  run 0 create "$p" --capacity 100 --slots 1 --format "yuv420 10x10"
  run 1 create "$p" --capacity 100 --slots 1
  contains "$err" "$p: pool already exists"
  head -c 101 /dev/zero >"$dir/big"
  run 1 put "$p" "$dir/big"
  contains "$err" "$p: frame larger than the slot capacity"
  run 1 put "$p" "$dir/no-such-input"
  contains "$err" "$p: cannot open '$dir/no-such-input'"
  run 1 get "$p" --timeout 0
  contains "$err" "$p: no new frame"
  run 1 get "$p" --timeout 0.2
  contains "$err" "$p: timed out"
  run 1 snapshot "$p" "$dir/x.ppm"
  contains "$err" "$p: payload format \"yuv420 10x10\" is not an 8-bit image"
  [ ! -e "$dir/x.ppm" ] || fail "snapshot wrote a file for a non-image pool"
  run 1 watch "$dir/missing" --count 1
  contains "$err" "$dir/missing: no such pool"
  run 1 rm "$dir/missing"
  contains "$err" "$dir/missing: no such pool"
  ;;
snapshot)
  run 0 create "$p" --capacity 24 --slots 2 --format "bgr8 4x2"
  python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(24)))' >"$dir/px"
  run 0 put "$p" "$dir/px"
  run 0 snapshot "$p" "$dir/out.ppm"
  python3 - "$dir/out.ppm" <<'PY' || fail "bad P6 image"
import sys
b = open(sys.argv[1], "rb").read()
head = b"P6\n4 2\n255\n"
assert b.startswith(head), b[:20]
px = b[len(head):]
want = bytes(v for i in range(8) for v in (3 * i + 2, 3 * i + 1, 3 * i))
assert px == want, (px, want)
PY
  run 0 create "$dir/g" --capacity 6 --slots 1 --format "gray8 3x2"
  printf 'abcdef' | "$MMPOOL" put "$dir/g" || fail "put gray"
  run 0 snapshot "$dir/g" "$dir/g.ppm"
  [ "$(cat "$dir/g.ppm")" = "$(printf 'P5\n3 2\n255\nabcdef')" ] || fail "bad P5 image"
  # '-': standard output, as for get.
  run 0 snapshot "$dir/g" -
  [ "$out" = "$(printf 'P5\n3 2\n255\nabcdef')" ] || fail "bad P5 image on standard output"
  [ ! -e ./- ] && [ ! -e "$dir/-" ] || fail "snapshot made a file named '-'"
  # A frame of the wrong size for its format is refused.
  printf 'abc' | "$MMPOOL" put "$dir/g" || fail "put short"
  run 1 snapshot "$dir/g" "$dir/short.ppm"
  contains "$err" "has 3 bytes, but \"gray8 3x2\" means 6"
  run 0 create "$dir/e" --capacity 12 --slots 1 --format "rgb8 2x2"
  run 1 snapshot "$dir/e" "$dir/e.ppm"
  contains "$err" "$dir/e: no new frame"
  ;;
watch)
  run 0 create "$p" --capacity 100 --slots 2
  run 0 put "$p" /dev/null
  start_holder "$p" attach
  run 0 watch --count 3 --interval 0.1 "$p"
  [ "$(wc -l <<<"$out")" -eq 4 ] || fail "want a heading and 3 lines: $out"
  contains "$out" "watching $p: 2 slots x 100 bytes"
  contains "$out" "seq 1  frames/s -"
  contains "$out" "frames/s 0.0"
  contains "$out" "handles 1"
  # Frames written while watching are counted.
  ( for i in 1 2 3 4 5; do "$MMPOOL" put "$p" /dev/null; sleep 0.05; done ) &
  writer=$!
  run 0 watch --count 4 --interval 0.2 "$p"
  wait $writer
  last=$(tail -n 1 <<<"$out")
  contains "$last" "seq 6"
  ;;
clean)
  run 0 create "$dir/dead" --capacity 100 --slots 2
  run 0 create "$dir/live" --capacity 100 --slots 2
  run 0 create "$dir/unused" --capacity 100 --slots 2
  run 0 put "$dir/dead" /dev/null
  run 0 put "$dir/live" /dev/null
  start_holder "$dir/dead" read
  victim=$holder_pid
  start_holder "$dir/live" read
  keeper=$holder_pid
  kill -9 "$victim"
  wait "$victim" 2>/dev/null
  run 0 info "$dir/dead"
  contains "$out" "pinned by pid $victim (dead)"
  contains "$out" "pid $victim (dead)"
  run 0 info "$dir/live"
  contains "$out" "pinned by pid $keeper (alive)"
  run 0 clean --dry-run "$dir"
  contains "$out" "would remove $dir/dead"
  [ -e "$dir/dead" ] || fail "--dry-run removed a pool"
  run 0 clean "$dir"
  contains "$out" "removed $dir/dead (no live process, 1 dead handle)"
  contains "$out" "removed $dir/unused (no live process)"
  lacks "$out" "$dir/live"
  [ ! -e "$dir/dead" ] && [ ! -e "$dir/unused" ] || fail "clean left a pool nobody holds"
  [ -e "$dir/live" ] || fail "clean removed a pool held by a live process"
  run 0 clean "$dir"
  contains "$out" "nothing to remove in $dir"
  ;;
flush_rm)
  run 0 create "$p" --capacity 100 --slots 3
  for i in 1 2 3; do run 0 put "$p" /dev/null; done
  run 0 flush "$p"
  run 0 info --json "$p"
  json 'assert d["last_seq"] == 3 and all(s["state"] == "empty" for s in d["slots"]), d'
  run 0 rm "$p"
  [ ! -e "$p" ] || fail "rm left the pool"
  ;;
*)
  fail "unknown case"
  ;;
esac
exit 0
