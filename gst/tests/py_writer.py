"""A NumPy writer for the GStreamer tests: py_writer.py POOL FRAMES.

Creates POOL with the older format string "bgr8 64x48", waits until a
reader has attached, then writes FRAMES frames, frame i holding the bytes
(k + i) % 251 for k = 0, 1, ... (gst_test.c makes the same to compare),
and closes: the reader's mmpoolsrc then sees no writer left.
"""
import sys
import time

import numpy as np

import mmpool

pool_name, frames = sys.argv[1], int(sys.argv[2])
shape = (48, 64, 3)
size = 48 * 64 * 3
with mmpool.Pool(pool_name, slot_capacity=size, slot_count=8, create=True,
                 format="bgr8 64x48") as pool:
    deadline = time.monotonic() + 10
    while pool.stats().handles < 2:
        if time.monotonic() > deadline:
            sys.exit("py_writer: no reader attached")
        time.sleep(0.01)
    base = np.arange(size, dtype=np.int64)
    for i in range(frames):
        pool.write_array(((base + i) % 251).astype(np.uint8).reshape(shape), timeout=1)
        time.sleep(0.005)
print("wrote", frames)
