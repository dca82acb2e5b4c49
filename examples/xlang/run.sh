#!/usr/bin/env bash
# Runs the cross-language demo: a C++ or C# receiver and the Python sender
# (send_frames.py) on one pool, then removes the pool.
# Usage: run.sh BUILD_DIR cpp|csharp [--seconds S] [--pool NAME] [sender options]
#   BUILD_DIR holds libmmpool and examples/xlang (recv_frames_cpp,
#   RecvFrames.exe). --seconds (default 5) and --pool (default a name unique
#   to this run) go to both programs; other options (--fps, --frames,
#   --loan) go to the sender. Exits non-zero if either program failed.
# Environment: PYTHON (default /usr/bin/python3, which needs NumPy), MONO.
set -euo pipefail

usage() {
    echo "usage: $0 BUILD_DIR cpp|csharp [--seconds S] [--pool NAME] [sender options]" >&2
    exit 2
}
[[ $# -ge 2 ]] || usage
build=$(cd "$1" && pwd)
receiver=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-/usr/bin/python3}

seconds=5
pool=mmpool-xlang-$$-$RANDOM
sender_args=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --seconds)
        [[ $# -ge 2 ]] || usage
        seconds=$2
        shift 2
        ;;
    --pool)
        [[ $# -ge 2 ]] || usage
        pool=$2
        shift 2
        ;;
    *)
        sender_args+=("$1")
        shift
        ;;
    esac
done

case $receiver in
cpp)
    recv_cmd=("$build/examples/xlang/recv_frames_cpp")
    [[ -x ${recv_cmd[0]} ]] || { echo "run.sh: ${recv_cmd[0]} is not built" >&2; exit 2; }
    ;;
csharp)
    recv_cmd=("${MONO:-mono}" "$build/examples/xlang/RecvFrames.exe")
    [[ -f ${recv_cmd[1]} ]] || { echo "run.sh: ${recv_cmd[1]} is not built" >&2; exit 2; }
    ;;
*)
    usage
    ;;
esac

# The sender finds the in-tree package and the library just built; the
# C# receiver finds libmmpool through LD_LIBRARY_PATH.
for lib in "$build/libmmpool.so.0" "$build/libmmpool.so"; do
    if [[ -e $lib ]]; then
        export MMPOOL_LIBRARY=$lib
        break
    fi
done
export PYTHONPATH=$here/../../bindings/python${PYTHONPATH:+:$PYTHONPATH}
export LD_LIBRARY_PATH=$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

case $pool in
*/*) pool_file=$pool ;;
*) pool_file=/dev/shm/$pool ;;
esac
send_pid=
recv_pid=
cleanup() {
    for pid in $send_pid $recv_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -f "$pool_file"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # runs cleanup through the EXIT trap

# The receiver gets more time than the sender: it stops at the end frame.
recv_seconds=$(awk -v s="$seconds" 'BEGIN { print s + 10 }')
"${recv_cmd[@]}" --pool "$pool" --seconds "$recv_seconds" &
recv_pid=$!

# Start order does not matter for the pool (both create it if missing), but
# a LATEST reader that attaches after the end frame sees nothing else: wait
# until the receiver has the pool open (at most 20 s; mono starts slowly).
for _ in $(seq 200); do
    [[ -e $pool_file ]] && break
    kill -0 "$recv_pid" 2>/dev/null || break
    sleep 0.1
done

# Both run in the background: a signal to this script is handled at once.
"$python" "$here/send_frames.py" --pool "$pool" --seconds "$seconds" ${sender_args[@]+"${sender_args[@]}"} &
send_pid=$!
send_status=0
wait "$send_pid" || send_status=$?
send_pid=

recv_status=0
wait "$recv_pid" || recv_status=$?
recv_pid=

if [[ $send_status -ne 0 ]]; then
    echo "run.sh: send_frames.py failed (exit $send_status)" >&2
fi
if [[ $recv_status -ne 0 ]]; then
    echo "run.sh: the $receiver receiver failed (exit $recv_status)" >&2
fi
[[ $send_status -eq 0 && $recv_status -eq 0 ]]
