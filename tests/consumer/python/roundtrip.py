"""Uses an installed mmpool package: creates the pool named by argv[1],
writes one frame, reads it back, removes the pool, and prints where the
module and the native library were loaded from:
    module PATH
    library PATH
Exits 0 on success.
"""

import sys

import mmpool


def native_library():
    """The file the dynamic loader mapped for libmmpool, or None."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line[line.find("/"):].strip() if "/" in line else ""
            if "libmmpool" in path:
                return path
    return None


def main():
    if len(sys.argv) != 2:
        print("usage: python3 roundtrip.py POOL_NAME", file=sys.stderr)
        return 2
    name = sys.argv[1]
    sent = b"frame from an installed mmpool"
    with mmpool.Pool(name, slot_capacity=4096, slot_count=2, create=True) as pool:
        pool.write(sent, timeout=1.0)
        frame = pool.read(timeout=1.0)
    mmpool.unlink(name)
    if frame.seq != 1 or frame.data != sent:
        print("read back seq %d, %r: not the frame written" % (frame.seq, frame.data), file=sys.stderr)
        return 1
    print("module", mmpool.__file__)
    print("library", native_library())
    return 0


if __name__ == "__main__":
    sys.exit(main())
