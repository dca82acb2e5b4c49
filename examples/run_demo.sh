#!/usr/bin/env bash
# Streams Full-HD frames from stream_send to stream_recv through a fresh
# pool in the shared-memory place (Linux: /dev/shm), then removes the pool.
# Usage: run_demo.sh BUILD_DIR [stream_send options, e.g. --fps 60 --seconds 2]
# The last frame received goes to $MMPOOL_DEMO_OUT, by default
# BUILD_DIR/examples/demo_last.ppm.
set -euo pipefail

if [[ $# -lt 1 || ! -x $1/examples/stream_send || ! -x $1/examples/stream_recv ]]; then
    echo "usage: $0 BUILD_DIR [stream_send options]  (BUILD_DIR/examples holds the demo)" >&2
    exit 2
fi
bin=$1/examples
shift
pool=mmpool-demo-$$-$RANDOM
out=${MMPOOL_DEMO_OUT:-$bin/demo_last.ppm}
send_pid=
recv_pid=

cleanup() {
    for pid in $send_pid $recv_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -f "/dev/shm/$pool"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # runs cleanup through the EXIT trap

"$bin/stream_recv" --pool "$pool" --out "$out" &
recv_pid=$!

# Both run in the background: a signal to this script is handled at once,
# not after a foreground child finishes.
"$bin/stream_send" --pool "$pool" "$@" &
send_pid=$!
send_status=0
wait "$send_pid" || send_status=$?
send_pid=
if [[ $send_status -ne 0 ]]; then
    echo "run_demo: stream_send failed (exit $send_status)" >&2
    exit 1
fi

recv_status=0
wait "$recv_pid" || recv_status=$?
recv_pid=
if [[ $recv_status -ne 0 ]]; then
    echo "run_demo: stream_recv failed (exit $recv_status)" >&2
    exit 1
fi
echo "run_demo: last frame received is in $out"
