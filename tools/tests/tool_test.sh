#!/usr/bin/env bash
# Runs the mmpool tool against real pools and checks what it prints and
# returns. Usage: tool_test.sh CASE, with MMPOOL (the tool) and HOLDER
# (tools/tests/holder.c) in the environment, and TOOL_PNG (ON or OFF:
# whether the tool was built with libpng). Pools live in a private
# directory, removed at exit; "clean" is only ever run on that directory.
# Exit status 77: the case cannot run here (CTest shows it as skipped).
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
json() { "$py" -c "import json,sys; d=json.load(sys.stdin); $1" <<<"$out" || fail "json check '$1' on: $out"; }
# Fails if a snapshot left a temporary file (OUT.XXXXXXXX.tmp) in $dir.
no_temp_files() {
  local f
  for f in "$dir"/*.tmp; do
    [ ! -e "$f" ] || fail "a temporary file was left: $f"
  done
}
# The interpreter for the checks that parse JSON and decode files (json
# and zlib are in its standard library); CMake passes the one it found.
py=${PYTHON:-python3}

# start_holder POOL MODE: a process that holds a loan (or a handle) in POOL,
# run through the command in the array holder_as if set (another user).
holder_as=()
start_holder() {
  local fifo=$dir/.ready-$RANDOM
  mkfifo "$fifo"
  "${holder_as[@]}" "$HOLDER" "$1" "$2" >"$fifo" &
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
  grep -qE " 2 x +4096 " <<<"$out" || fail "no '2 x 4096' in: $out"
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
ls_align)
  # Names of very different lengths (one past the old 80-column cap, one
  # with a multi-byte character and one with a tab, shown as \x09), slot
  # counts of 1, 2 and 4 digits, capacities of 1, 5 and 7, seqs of 1 and 2:
  # every column must start (text) or end (numbers) at the same place on
  # every line, heading included.
  long="much-longer-name-$(printf 'x%.0s' {1..90})"
  run 0 create "$dir/a" --capacity 64K --slots 12
  run 0 create "$dir/$long" --capacity 6220800 --slots 1 --format "bgr8 1920x1080"
  run 0 create "$dir/mid é$(printf '\t')tab" --capacity 1 --slots 1024 --format "gray8 1x1"
  for _ in $(seq 12); do run 0 put "$dir/a" /dev/null; done
  start_holder "$dir/mid é$(printf '\t')tab" attach
  run 0 ls "$dir"
  cat >"$dir/columns.py" <<'PY'
import re, sys
d, long = sys.argv[1], sys.argv[2]
lines = sys.stdin.buffer.read().decode("utf-8").rstrip("\n").split("\n")
assert len(lines) == 4, lines
row = re.compile(r"^(?P<name>.*?)  +(?P<slots>\d+|SLOTS) x +(?P<cap>\d+|CAPACITY)  +"
                 r"(?P<seq>\d+|SEQ)  +(?P<procs>\d+|PROCS)  (?P<fmt>.*)$")
ms = [row.match(l) for l in lines]
assert all(ms), lines
names = [m["name"] for m in ms]
assert names == ["NAME", d + "/a", d + "/mid é\\x09tab", d + "/" + long], names
want = [(12, 65536, 12, 0, "-"), (1024, 1, 0, 1, "gray8 1x1"), (1, 6220800, 0, 0, "bgr8 1920x1080")]
got = [(int(m["slots"]), int(m["cap"]), int(m["seq"]), int(m["procs"]), m["fmt"]) for m in ms[1:]]
assert got == want, got
for key in ("slots", "cap", "seq", "procs"):
    ends = {m.end(key) for m in ms}
    assert len(ends) == 1, (key, ends, lines)
starts = {m.start("fmt") for m in ms}
assert len(starts) == 1, ("format", starts, lines)
# The name column is as wide as the longest name, and no wider.
assert ms[0].start("slots") - 2 <= len(names[3]) + 4, lines
PY
  "$py" "$dir/columns.py" "$dir" "$long" <<<"$out" || fail "ls columns not aligned: $out"
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
  contains "$out" "version      2.1"
  contains "$out" "3 slots x 1000 bytes"
  contains "$out" 'a "quoted" \ format'
  contains "$out" "committed seq 1, 1000 bytes"
  contains "$out" "empty"
  me=$(id -u)
  me_name=$(id -un 2>/dev/null)
  contains "$out" "owner        uid $me${me_name:+ ($me_name)}"
  start_holder "$p" read
  run 0 info "$p"
  contains "$out" "pinned by pid $holder_pid (alive)"
  contains "$out" "pid $holder_pid (alive), reader"
  run 0 info --json "$p"
  json "assert d['slot_count'] == 3 and d['slot_capacity'] == 1000 and d['format'] == 'a \"quoted\" \\\\ format' and d['last_seq'] == 1, d
s = [x for x in d['slots'] if x['state'] == 'committed']
assert len(s) == 1 and s[0]['seq'] == 1 and s[0]['pinned_by'][0]['pid'] == $holder_pid and s[0]['pinned_by'][0]['alive'], d
assert [h['pid'] for h in d['handles']] == [$holder_pid] and d['handles'][0]['reader'], d
assert d['owner'] == $me, d"
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
mismatch)
  # create on a pool that is there with another geometry names both, in the
  # words the bindings use.
  run 0 create "$p" --capacity 64K --slots 2 --format "bgr8 1920x1080"
  run 1 create "$p" --capacity 6220800 --slots 3
  contains "$err" "mmpool: $p: pool already exists: pool has 2 slots x 65536 B, asked 3 x 6220800 B (MMPOOL_EEXIST)"
  run 1 create "$p" --capacity 1920x1080x3 --slots 2
  contains "$err" "pool has 2 slots x 65536 B, asked 2 x 6220800 B"
  run 1 create "$p" --capacity 64K --slots 3
  contains "$err" "pool has 2 slots x 65536 B, asked 3 x 65536 B"
  run 0 create "$dir/one" --capacity 100 --slots 1
  run 1 create "$dir/one" --capacity 100 --slots 2
  contains "$err" "mmpool: $dir/one: pool already exists: pool has 1 slot x 100 B, asked 2 x 100 B (MMPOOL_EEXIST)"
  # The format is not part of a pool's geometry (mmpool_open() ignores it
  # for an existing pool): the same geometry is only "already exists".
  run 1 create "$p" --capacity 64K --slots 2 --format "gray8 8x8"
  contains "$err" "mmpool: $p: pool already exists (MMPOOL_EEXIST)"
  lacks "$err" "asked"
  run 0 info --json "$p"
  json 'assert d["slot_count"] == 2 and d["slot_capacity"] == 65536 and d["format"] == "bgr8 1920x1080", d'
  ;;
snapshot)
  run 0 create "$p" --capacity 24 --slots 2 --format "bgr8 4x2"
  "$py" -c 'import sys; sys.stdout.buffer.write(bytes(range(24)))' >"$dir/px"
  run 0 put "$p" "$dir/px"
  run 0 snapshot "$p" "$dir/out.ppm"
  "$py" - "$dir/out.ppm" <<'PY' || fail "bad P6 image"
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
snapshot_png)
  # A frame of mixed content (a gradient, noise, flat areas), so that the
  # encoder uses several of PNG's row filters; decoded here with zlib alone
  # and compared pixel by pixel with the frame.
  run 0 create "$p" --capacity 3471 --slots 2 --format "bgr8 41x27"
  "$py" -c '
import random, sys
random.seed(7)
px = bytearray()
for y in range(27):
    for x in range(41):
        for c in range(3):
            px.append((x * 6 + c * 40) & 255 if y < 9 else random.randrange(256) if y < 18 else 99)
sys.stdout.buffer.write(px)' >"$dir/px"
  run 0 put "$p" "$dir/px"
  printf 'abcdefghijkl' >"$dir/gpx"
  run 0 create "$dir/g" --capacity 12 --slots 1 --format "gray8 4x3"
  run 0 put "$dir/g" "$dir/gpx"
  if [ "${TOOL_PNG:-ON}" != ON ]; then
    # Built without libpng: a .png name is refused, before the pool is
    # touched, and nothing is written.
    for name in x.png X.PNG; do
      run 1 snapshot "$p" "$dir/$name"
      contains "$err" "mmpool: $dir/$name: cannot write a PNG, this mmpool tool was built without libpng: "
      contains "$err" "name a .ppm file instead"
      [ ! -e "$dir/$name" ] || fail "a refused PNG was written"
    done
    run 0 snapshot "$p" "$dir/x.ppm"
    exit 0
  fi
  cat >"$dir/png.py" <<'PY'
import struct, sys, zlib
def read_png(path):
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", b[:8]
    chunks, pos = [], 8
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        data = b[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + data), kind
        chunks.append((kind, data))
        pos += 12 + n
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", [k for k, _ in chunks]
    w, h, depth, color, comp, filt, lace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and comp == 0 and filt == 0 and lace == 0, chunks[0]
    ch = {0: 1, 2: 3}[color]
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    stride = w * ch
    assert len(raw) == h * (stride + 1), (len(raw), w, h)
    out, prev, used = bytearray(), bytearray(stride), set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        used.add(f)
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            up = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 0:
                pred = 0
            elif f == 1:
                pred = a
            elif f == 2:
                pred = up
            elif f == 3:
                pred = (a + up) // 2
            elif f == 4:
                pa, pb, pc = abs(up - c), abs(a - c), abs(a + up - 2 * c)
                pred = a if pa <= pb and pa <= pc else up if pb <= pc else c
            else:
                raise AssertionError("filter type %d" % f)
            line[i] = (line[i] + pred) & 255
        out += line
        prev = line
    return w, h, ch, bytes(out), used
# check PNG FRAME W H CHANNELS BGR MIN_FILTERS
png, frame = sys.argv[1], open(sys.argv[2], "rb").read()
w, h, ch, bgr, min_filters = (int(v) for v in sys.argv[3:8])
if bgr:
    frame = bytes(frame[i + k] for i in range(0, len(frame), 3) for k in (2, 1, 0))
got = read_png(png)
assert got[:3] == (w, h, ch), got[:3]
assert got[3] == frame, "pixels differ"
assert len(got[4]) >= min_filters, got[4]
PY
  run 0 snapshot "$p" "$dir/out.png"
  "$py" "$dir/png.py" "$dir/out.png" "$dir/px" 41 27 3 1 2 || fail "bad RGB PNG"
  # Any case of ".png"; grey images are grey PNGs.
  run 0 snapshot "$dir/g" "$dir/G.PnG"
  "$py" "$dir/png.py" "$dir/G.PnG" "$dir/gpx" 4 3 1 0 1 || fail "bad grey PNG"
  # Any other name is still PPM.
  run 0 snapshot "$dir/g" "$dir/g.pngx"
  [ "$(cat "$dir/g.pngx")" = "$(printf 'P5\n4 3\n255\nabcdefghijkl')" ] || fail "not a PPM"
  # Wider than libpng's default limit of 10^6 pixels a side.
  run 0 create "$dir/wide" --capacity 1100000 --slots 1 --format "gray8 1100000x1"
  head -c 1100000 /dev/urandom >"$dir/wpx"
  run 0 put "$dir/wide" "$dir/wpx"
  run 0 snapshot "$dir/wide" "$dir/wide.png"
  "$py" "$dir/png.py" "$dir/wide.png" "$dir/wpx" 1100000 1 1 0 1 || fail "bad wide PNG"
  # Names the tool cannot write: an error that says why, exit 1, no file.
  run 1 snapshot "$p" "$dir/no-such-dir/x.png"
  contains "$err" "mmpool: $p: cannot write '$dir/no-such-dir/x.png': No such file or directory"
  mkdir "$dir/d.png"
  run 1 snapshot "$p" "$dir/d.png"
  contains "$err" "cannot write '$dir/d.png': Is a directory"
  # A write that fails half-way (the device is full): libpng's error path,
  # reported with the system's reason.
  run 0 create "$dir/n" --capacity 12288 --slots 1 --format "rgb8 64x64"
  head -c 12288 /dev/urandom >"$dir/npx"
  run 0 put "$dir/n" "$dir/npx"
  if [ -w /dev/full ]; then
    ln -s /dev/full "$dir/full.png"
    run 1 snapshot "$dir/n" "$dir/full.png"
    contains "$err" "cannot write '$dir/full.png': No space left on device"
  fi
  # Half-way through, under a file size limit: the old image stays as it
  # was, and no temporary file is left behind. The same for PPM.
  for ext in png ppm; do
    run 0 snapshot "$dir/g" "$dir/keep.$ext"
    cp "$dir/keep.$ext" "$dir/keep.orig"
    (trap '' XFSZ; ulimit -f 1; exec "$MMPOOL" snapshot "$dir/n" "$dir/keep.$ext") 2>"$dir/.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "snapshot past the file size limit exited $rc: $(cat "$dir/.err")"
    contains "$(cat "$dir/.err")" "cannot write '$dir/keep.$ext': File too large"
    cmp "$dir/keep.$ext" "$dir/keep.orig" || fail "a failed snapshot changed the old $ext"
    no_temp_files
  done
  # A good snapshot replaces the old file.
  run 0 snapshot "$dir/n" "$dir/keep.png"
  "$py" "$dir/png.py" "$dir/keep.png" "$dir/npx" 64 64 3 0 1 || fail "bad replaced PNG"
  no_temp_files
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
clean_users)
  # clean as root takes only root's pools unless --all-users; a user's
  # clean leaves pools that other users own, even those it could open; a
  # user may not use --all-users.
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP tool_clean_users: needs root, to make pools owned by another uid (CI runs as root)"
    exit 77
  fi
  command -v setpriv >/dev/null || { echo "SKIP tool_clean_users: needs setpriv (util-linux)"; exit 77; }
  other=54321
  as_other=(setpriv --reuid="$other" --regid="$other" --clear-groups)
  u=$dir/users
  mkdir "$u"
  chmod 1777 "$u" # like /dev/shm
  chmod 755 "$dir"
  # Root's own unused pools, one of them open to everybody (mode 0666).
  run 0 create "$u/mine" --capacity 100 --slots 2
  run 0 create "$u/shared" --capacity 100 --slots 2 --mode 0666
  # The other user's pool, with a handle of a process of theirs that died.
  "${as_other[@]}" "$MMPOOL" create "$u/theirs" --capacity 100 --slots 2 >/dev/null ||
    fail "create as uid $other"
  holder_as=("${as_other[@]}")
  start_holder "$u/theirs" attach
  holder_as=()
  kill -9 "$holder_pid"
  wait "$holder_pid" 2>/dev/null
  [ "$(stat -c %u "$u/theirs")" = "$other" ] || fail "theirs is not owned by uid $other"
  run 0 info "$u/theirs"
  contains "$out" "pid $holder_pid (dead)"
  # A user may not ask for other users' pools, not even for a dry run.
  for flags in "--all-users" "--all-users --dry-run"; do
    # shellcheck disable=SC2086 # the flags are meant to split into words
    "${as_other[@]}" "$MMPOOL" clean $flags "$u" >"$dir/.out" 2>"$dir/.err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "clean $flags as uid $other exited $rc, want 1"
    contains "$(cat "$dir/.err")" "mmpool: clean: --all-users is for root only"
    [ ! -s "$dir/.out" ] || fail "a refused clean printed: $(cat "$dir/.out")"
  done
  [ -e "$u/mine" ] && [ -e "$u/shared" ] && [ -e "$u/theirs" ] || fail "a refused clean removed a pool"
  # Root without --all-users: its own pools only; the other one counted.
  run 0 clean --dry-run "$u"
  contains "$out" "would remove $u/mine (no live process)"
  contains "$out" "would remove $u/shared (no live process)"
  lacks "$out" "$u/theirs"
  contains "$out" "skipped 1 pool of other users that no live process holds (--all-users, as root, would remove them)"
  run 0 clean "$u"
  contains "$out" "removed $u/mine"
  contains "$out" "removed $u/shared"
  lacks "$out" "$u/theirs"
  contains "$out" "skipped 1 pool of other users"
  [ -e "$u/theirs" ] || fail "clean without --all-users removed another user's pool"
  run 0 clean "$u"
  contains "$out" "nothing to remove in $u"
  contains "$out" "skipped 1 pool of other users"
  # Root with --all-users: everybody's.
  run 0 clean --all-users "$u"
  contains "$out" "removed $u/theirs (no live process, 1 dead handle)"
  lacks "$out" "skipped"
  [ ! -e "$u/theirs" ] || fail "clean --all-users left another user's unused pool"
  # A user's clean: its own pool goes; root's pool stays although the user
  # could open it (mode 0666), and is not even retired.
  run 0 create "$u/shared" --capacity 100 --slots 2 --mode 0666
  "${as_other[@]}" "$MMPOOL" create "$u/theirs" --capacity 100 --slots 2 >/dev/null ||
    fail "create as uid $other"
  "${as_other[@]}" "$MMPOOL" clean "$u" >"$dir/.out" 2>"$dir/.err" ||
    fail "clean as uid $other: $(cat "$dir/.err")"
  out=$(cat "$dir/.out")
  contains "$out" "removed $u/theirs (no live process)"
  lacks "$out" "$u/shared"
  contains "$out" "skipped 1 pool of other users that no live process holds (--all-users, as root, removes them)"
  [ ! -e "$u/theirs" ] || fail "a user's clean left its own unused pool"
  run 0 info --json "$u/shared"
  json 'assert d["retired"] is False, d'
  ;;
owner)
  # A pool that another user put first in a world-writable sticky directory
  # (like /dev/shm): the commands that open it refuse it, naming its owner,
  # unless --any-owner; info (which only inspects) shows the owner.
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP tool_owner: needs root, to make pools owned by another uid (CI runs as root)"
    exit 77
  fi
  command -v setpriv >/dev/null || { echo "SKIP tool_owner: needs setpriv (util-linux)"; exit 77; }
  other=64125
  as_other=(setpriv --reuid="$other" --regid="$other" --clear-groups)
  s=$dir/sticky
  mkdir "$s"
  chmod 1777 "$s"
  chmod 755 "$dir"
  q=$s/cam0
  "${as_other[@]}" "$MMPOOL" create "$q" --capacity 16 --slots 2 --format "gray8 2x2" --mode 0666 \
    >/dev/null || fail "create as uid $other"
  printf forged | "${as_other[@]}" "$MMPOOL" put "$q" || fail "put as uid $other"
  [ "$(stat -c %u "$q")" = "$other" ] || fail "the pool is not owned by uid $other"
  name=$(getent passwd "$other" | cut -d: -f1)
  owner="uid $other${name:+ ($name)}"
  run 0 info "$q"
  contains "$out" "owner        $owner"
  run 0 info --json "$q"
  json "assert d['owner'] == $other, d"
  printf 'abcd' >"$dir/frame"
  for c in "put $q $dir/frame" "get $q $dir/got" "snapshot $q $dir/snap.ppm" "flush $q"; do
    # shellcheck disable=SC2086 # the command is meant to split into words
    run 1 $c
    contains "$err" "mmpool: $q: permission denied: owned by $owner (MMPOOL_EACCES)"
  done
  [ ! -e "$dir/got" ] && [ ! -e "$dir/snap.ppm" ] || fail "a refused command wrote a file"
  run 0 info --json "$q"
  json 'assert d["last_seq"] == 1 and not d["handles"], d'
  # --any-owner opens it, for each of them.
  run 0 get --any-owner "$q" "$dir/got"
  [ "$(cat "$dir/got")" = forged ] || fail "get --any-owner did not read the pool's frame"
  run 0 put --any-owner "$q" "$dir/frame"
  run 0 snapshot --any-owner "$q" "$dir/snap.ppm"
  [ "$(tail -c 4 "$dir/snap.ppm")" = abcd ] || fail "snapshot --any-owner did not save the frame"
  run 0 flush --any-owner "$q"
  run 0 info --json "$q"
  json 'assert d["last_seq"] == 2 and all(x["state"] == "empty" for x in d["slots"]), d'
  # With a user the system knows, the message names it too.
  chown 65534 "$q"
  nobody=$(getent passwd 65534 | cut -d: -f1)
  run 1 get "$q" --timeout 0
  contains "$err" "owned by uid 65534${nobody:+ ($nobody)} (MMPOOL_EACCES)"
  # The caller's own pool in the same directory needs no flag.
  run 0 create "$s/mine" --capacity 16 --slots 1
  run 0 put "$s/mine" "$dir/frame"
  run 0 info "$s/mine"
  contains "$out" "owner        uid 0 (root)"
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
