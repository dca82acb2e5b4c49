"""Python and C in two processes on one pool (the C side is tests/peer.c)."""

import os
import subprocess
import unittest

import mmpool
from tests.support import CHILD_TIMEOUT, PoolTest

PEER = os.environ.get("MMPOOL_PY_PEER")
COUNT = 20


def frame(k):
    """Frame k of the run both sides agree on (see tests/peer.c)."""
    length = 100 + 37 * k
    body = bytes((k * 31 + j) & 0xFF for j in range(8, length))
    return k.to_bytes(8, "little") + body


@unittest.skipUnless(PEER, "MMPOOL_PY_PEER (the C peer program) not set")
class CrossLanguageTest(PoolTest):
    def peer(self, role):
        return subprocess.Popen(
            [PEER, role, self.path, str(COUNT)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )

    def finish(self, proc):
        try:
            out, err = proc.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail("the C peer did not finish")
        self.assertEqual(proc.returncode, 0, err)
        return out

    def test_c_reader_gets_every_frame_of_a_python_writer(self):
        pool = self.create(capacity=4096, count=COUNT + 1, read_mode="fifo")
        reader = self.peer("read")
        for k in range(1, COUNT + 1):
            pool.write(frame(k), timeout=10)
        self.assertEqual(self.finish(reader).strip(), "read %d frames" % COUNT)

    def test_python_reader_gets_every_frame_of_a_c_writer(self):
        pool = self.create(capacity=4096, count=COUNT + 1, read_mode="fifo")
        writer = self.peer("write")
        got = [pool.read(timeout=10) for _ in range(COUNT)]
        self.finish(writer)
        self.assertEqual([f.seq for f in got], list(range(1, COUNT + 1)))
        self.assertEqual([f.dropped for f in got], [0] * COUNT)
        for k, f in enumerate(got, 1):
            self.assertEqual(f.data, frame(k), "frame %d" % k)
        stamps = [f.timestamp_ns for f in got]
        self.assertEqual(stamps, sorted(stamps))
        self.assertLessEqual(stamps[-1], mmpool.now_ns())

    def test_python_read_loans_see_a_c_writers_frames_in_place(self):
        pool = self.create(capacity=4096, count=COUNT + 1, read_mode="fifo")
        writer = self.peer("write")
        for k in range(1, COUNT + 1):
            loan = pool.read_loan(timeout=10)
            with loan as buf:
                self.assertEqual(loan.seq, k)
                self.assertEqual(bytes(buf), frame(k))
        self.finish(writer)


if __name__ == "__main__":
    unittest.main()
