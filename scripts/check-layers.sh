#!/bin/sh
# Checks that the core's files call one way (STYLE.md rule 11): a file may
# call functions defined in files of a lower layer, never in its own layer
# or above. Reads the symbols of the library's object files with nm: each
# global symbol an object defines belongs to its file, each one it leaves
# undefined is a call (or a use) of that file.
#
#   usage: scripts/check-layers.sh OBJECT...   (NM=... picks the nm)
#
# The layers, top to bottom (docs/design.md, "Layers"). A new file in src/
# must be added here.
#   5  io.c pool.c inspect.c error.c   the public calls
#      events.c
#   4  slots.c                         the protocol: retries, repair, reclaim
#   3  state.c                         slot state words, one step each
#   2  commit.c                        the commit lock word and last_seq
#   1  wake.c header.c rules.c         waiting and waking; the header; open's rules
#   0  posix/*.c win32/*.c arch/*.c    the platform contract (checked only
#                                      for never calling up into the core)
set -eu
NM=${NM:-nm}
[ $# -gt 0 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }

for obj in "$@"; do
  # The source file an object was compiled from: CMake names it
  # .../src/DIR/FILE.c.o (or .obj).
  src=$(printf '%s\n' "$obj" | sed -e 's|.*/src/||' -e 's|\.o$||' -e 's|\.obj$||')
  "$NM" -P -g "$obj" | awk -v src="$src" '{ print src, $1, $2 }'
done | awk '
function level(f) {
  if (f ~ /^(posix|win32|arch)\//) return 0
  if (f == "wake.c" || f == "header.c" || f == "rules.c") return 1
  if (f == "commit.c") return 2
  if (f == "state.c") return 3
  if (f == "slots.c") return 4
  if (f == "io.c" || f == "pool.c" || f == "inspect.c" || f == "error.c" || f == "events.c") return 5
  return -1
}
{
  file = $1; sym = $2; type = $3
  if (level(file) < 0) { unknown[file] = 1; next }
  if (type == "U") { uses[++n] = file " " sym }
  else if (type != "w" && type != "v") { owner[sym] = file }
}
END {
  bad = 0
  for (f in unknown) {
    printf "check-layers: %s has no layer; add it to scripts/check-layers.sh\n", f
    bad = 1
  }
  for (i = 1; i <= n; i++) {
    split(uses[i], u, " ")
    f = u[1]; sym = u[2]
    if (!(sym in owner) || owner[sym] == f) continue
    d = owner[sym]
    if (level(d) >= level(f) && !(level(f) == 0 && level(d) == 0)) {
      printf "check-layers: %s (layer %d) calls %s, defined in %s (layer %d)\n", \
        f, level(f), sym, d, level(d)
      bad = 1
    }
    checked++
  }
  if (bad) exit 1
  printf "check-layers: %d calls between files, all downward\n", checked
}'
