#!/usr/bin/env python3
"""send_frames: the Python sender of the cross-language demo.

Writes Full-HD BGR frames (1920x1080, 6,220,800 bytes) drawn with NumPy into
the pool, at a steady pace, then an end-of-stream frame. Each frame starts
with a 32-byte little-endian header: u32 magic 0x4d4d5044, u32 flags
(1 = end of stream), u64 number (1, 2, ...), u64 send_ns (mmpool.now_ns()
just before the frame is written into the pool), u64 checksum (the
wrapping sum of all u64 words of the frame, the checksum word taken as 0).

Usage: send_frames.py [--pool NAME] [--fps 30] [--seconds S] [--frames N] [--loan]
Copies the frame in with Pool.write by default; --loan writes it into a
write loan's ndarray instead (np.copyto). Prints a line per second and a
summary with the median write time (send_ns to the end of the write).
Needs NumPy and the mmpool package (PYTHONPATH=bindings/python or
installed) with libmmpool (MMPOOL_LIBRARY or the system's library path).
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    import mmpool
except ImportError:  # run from the source tree: use the in-tree package
    sys.path.insert(
        0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python")
    )
    import mmpool

WIDTH, HEIGHT = 1920, 1080
FRAME_BYTES = WIDTH * HEIGHT * 3
SLOTS = 3
FORMAT = "bgr8 1920x1080"
MAGIC = 0x4D4D5044
FLAG_END = 1
HEADER_WORDS = 4
MASK64 = (1 << 64) - 1
PERIOD = 256  # the pattern repeats after this many pixels of motion


def parse_args(argv):
    p = argparse.ArgumentParser(description="Send Full-HD frames through an mmpool pool.")
    p.add_argument("--pool", default="mmpool-xlang", help="pool name or path (default %(default)s)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds")
    p.add_argument("--frames", type=int, help="stop after this many frames")
    p.add_argument("--loan", action="store_true", help="write through a zero-copy write loan")
    a = p.parse_args(argv)
    if not a.fps > 0 or (a.seconds is not None and not a.seconds > 0):
        p.error("--fps and --seconds must be positive")
    if a.frames is not None and a.frames < 1:
        p.error("--frames must be at least 1")
    if a.seconds is None and a.frames is None:
        a.seconds = 10.0
    return a


def make_pattern():
    """A strip wider than the frame: a frame is a window into it that moves
    by a few pixels each time. BGR: blue ramps across, green down, red in
    diagonal stripes."""
    x = np.arange(WIDTH + PERIOD, dtype=np.uint32)
    y = np.arange(HEIGHT, dtype=np.uint32)[:, None]
    strip = np.empty((HEIGHT, WIDTH + PERIOD, 3), dtype=np.uint8)
    strip[..., 0] = (x % PERIOD).astype(np.uint8)
    strip[..., 1] = ((y * 255) // (HEIGHT - 1)).astype(np.uint8)
    strip[..., 2] = (((x + y) // 32) % 2 * 200).astype(np.uint8)
    return strip


def stamp(words, flags, number, body_sum):
    """Fills the header words; returns send_ns. body_sum covers words[4:]."""
    send_ns = mmpool.now_ns()
    first = MAGIC | (flags << 32)
    words[0] = first
    words[1] = number
    words[2] = send_ns
    words[3] = (body_sum + first + number + send_ns) & MASK64
    return send_ns


def median(values):
    s = sorted(values)
    return s[len(s) // 2] if s else 0


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0


def main(argv):
    a = parse_args(argv)
    strip = make_pattern()
    img = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    words = img.reshape(-1).view("<u8")
    end = np.zeros(HEADER_WORDS, dtype="<u8")
    with mmpool.Pool(a.pool, FRAME_BYTES, SLOTS, create=True, read_mode="latest",
                     format=FORMAT) as pool:
        print("send_frames: pool %s, %.0f fps, %s path" % (pool.path, a.fps,
              "loan" if a.loan else "copy"), flush=True)
        write_ns, second_ns = [], []
        sent = 0
        start = time.monotonic()
        next_report = start + 1.0
        status = 0
        try:
            while True:
                now = time.monotonic()
                if a.frames is not None and sent >= a.frames:
                    break
                if a.seconds is not None and now - start >= a.seconds:
                    break
                due = start + sent / a.fps
                if due > now:
                    time.sleep(due - now)
                # Draw the frame and sum its body before the clock starts.
                shift = (sent * 4) % PERIOD
                np.copyto(img, strip[:, shift:shift + WIDTH])
                body_sum = int(words[HEADER_WORDS:].sum(dtype=np.uint64))
                send_ns = stamp(words, 0, sent + 1, body_sum)
                if a.loan:
                    with pool.write_array_loan(np.uint8, img.shape, timeout=1.0) as slot:
                        np.copyto(slot, img)
                else:
                    pool.write(img, timeout=1.0)
                took = mmpool.now_ns() - send_ns
                sent += 1
                write_ns.append(took)
                second_ns.append(took)
                if time.monotonic() >= next_report:
                    print("send_frames: %3.0f s  %4d frames  %5.1f fps  write p50 %.3f ms" % (
                        next_report - start, sent, len(second_ns), median(second_ns) / 1e6),
                        flush=True)
                    second_ns = []
                    next_report += 1.0
        except KeyboardInterrupt:
            print("send_frames: interrupted", flush=True)
        except mmpool.Error as e:
            print("send_frames: frame %d: %s" % (sent + 1, e), file=sys.stderr)
            status = 1
        # End of stream: the header alone, number = frames sent.
        stamp(end, FLAG_END, sent, 0)
        try:
            pool.write(end, timeout=1.0)
        except mmpool.Error as e:
            print("send_frames: end frame: %s" % e, file=sys.stderr)
            status = 1
        elapsed = time.monotonic() - start
        print("send_frames: sent %d frames in %.2f s (%.1f fps), %s path, write median %.3f ms, "
              "p99 %.3f ms" % (sent, elapsed, sent / elapsed if elapsed > 0 else 0,
                               "loan" if a.loan else "copy", median(write_ns) / 1e6,
                               percentile(write_ns, 0.99) / 1e6), flush=True)
    return status if sent > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
