#!/usr/bin/python3
"""python_write: what writing one Full-HD frame from a NumPy array costs in
Python, by copy and by write loan, against a plain NumPy copy.

Usage: python_write.py [--frames 300] [--pool PATH]
Run with the mmpool package importable and libmmpool found, e.g. from the
repository root:
    PYTHONPATH=bindings/python MMPOOL_LIBRARY=build/libmmpool.so.0 \\
        /usr/bin/python3 bench/python_write.py
Cases (each timed per frame, median and p90 over --frames frames after 10
warm-up frames; nobody reads, so a slot is always free):
  numpy copy      np.copyto into a private array of the same shape (baseline)
  numpy copy x3   the same, into three private arrays in turn: as much memory
                  as the pool's three slots, so as cold in the caches
  write_array     Pool.write_array(a)
  try_write       Pool.try_write(a)
  loan + copyto   Pool.write_array_loan(...) as slot: np.copyto(slot, a)
  loan only       acquire and commit a write loan, nothing copied
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    import mmpool
except ImportError:  # run from the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                    "bindings", "python"))
    import mmpool

SHAPE = (1080, 1920, 3)
WARMUP = 10


def timed(fn, frames):
    for _ in range(WARMUP):
        fn()
    ns = []
    for _ in range(frames):
        t0 = time.perf_counter_ns()
        fn()
        ns.append(time.perf_counter_ns() - t0)
    ns.sort()
    return ns[len(ns) // 2], ns[int(len(ns) * 0.9)]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--pool", default="/dev/shm/mmpool-bench-py-%d" % os.getpid())
    a = p.parse_args(argv)
    if a.frames < 1:
        p.error("--frames must be at least 1")

    src = np.random.default_rng(0).integers(0, 256, SHAPE, dtype=np.uint8)
    dst = np.empty_like(src)
    rotating = [np.zeros_like(src) for _ in range(3)]
    turn = [0]

    def copy_rotating():
        turn[0] = (turn[0] + 1) % 3
        np.copyto(rotating[turn[0]], src)
    nbytes = src.nbytes
    try:
        with mmpool.Pool(a.pool, nbytes, 3, create=True) as pool:

            def write_array():
                pool.write_array(src)

            def try_write():
                if not pool.try_write(src):
                    raise RuntimeError("no free slot")

            def loan_copyto():
                with pool.write_array_loan(np.uint8, SHAPE) as slot:
                    np.copyto(slot, src)

            def loan_only():
                with pool.write_loan(length=nbytes):
                    pass

            cases = [
                ("numpy copy", lambda: np.copyto(dst, src)),
                ("numpy copy x3", copy_rotating),
                ("write_array", write_array),
                ("try_write", try_write),
                ("loan + copyto", loan_copyto),
                ("loan only", loan_only),
            ]
            results = [(name, timed(fn, a.frames)) for name, fn in cases]
    finally:  # also when a case fails: no pool left behind
        try:
            mmpool.unlink(a.pool)
        except mmpool.NotFoundError:
            pass

    base = results[0][1][0]
    print("Full-HD frame, %d bytes; %d frames per case; Python %s, NumPy %s, libmmpool %s" % (
        nbytes, a.frames, sys.version.split()[0], np.__version__, mmpool.version()))
    print("%-14s %12s %12s %10s" % ("case", "median us", "p90 us", "x numpy"))
    for name, (med, p90) in results:
        print("%-14s %12.1f %12.1f %10.2f" % (name, med / 1e3, p90 / 1e3, med / base))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
