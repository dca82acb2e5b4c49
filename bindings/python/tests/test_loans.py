"""Zero-copy loans, and views that try to outlive them or their pool."""

import gc
import os
import unittest

import mmpool
from tests.support import PoolTest, needs_numpy, numpy


class WriteLoanTest(PoolTest):
    def test_loan_commits_the_length_set_inside_the_block(self):
        pool = self.create()
        loan = pool.write_loan()
        with loan as buf:
            self.assertEqual(len(buf), pool.slot_capacity)
            self.assertFalse(buf.readonly)
            buf[:5] = b"hello"
            loan.length = 5
        self.assertEqual(pool.read(timeout=0).data, b"hello")

    def test_loan_with_a_length_yields_and_commits_exactly_that_many_bytes(self):
        pool = self.create()
        with pool.write_loan(length=3) as buf:
            self.assertEqual(len(buf), 3)
            buf[:] = b"abc"
        self.assertEqual(pool.read(timeout=0).data, b"abc")

    def test_loan_without_a_length_commits_the_whole_capacity(self):
        pool = self.create(capacity=4096)
        with pool.write_loan() as buf:
            buf[-1] = 7
        frame = pool.read(timeout=0)
        self.assertEqual(len(frame.data), 4096)
        self.assertEqual(frame.data[-1], 7)

    def test_an_exception_in_the_block_aborts_the_loan(self):
        pool = self.create()
        with self.assertRaises(KeyError):
            with pool.write_loan() as buf:
                buf[:4] = b"lost"
                raise KeyError("fill failed")
        self.assertIsNone(pool.try_read())
        pool.write(b"next")  # the slot was given back
        self.assertEqual(pool.read(timeout=0).seq, 1)

    def test_explicit_commit_and_abort_end_the_loan(self):
        pool = self.create()
        loan = pool.write_loan()
        with loan as buf:
            buf[:2] = b"ok"
            loan.commit(2)
            with self.assertRaises(RuntimeError):
                loan.commit(2)
        self.assertEqual(pool.read(timeout=0).data, b"ok")
        loan = pool.write_loan()
        with loan:
            loan.abort()
        self.assertIsNone(pool.try_read())

    def test_a_length_past_the_capacity_is_e2big_and_aborts(self):
        pool = self.create(capacity=4096)
        loan = pool.write_loan()
        with self.assertRaises(mmpool.Error) as ctx:
            with loan as buf:
                buf[0] = 1
                loan.length = 4097
        self.assertEqual(ctx.exception.code, mmpool.E2BIG)
        self.assertFalse(loan.active)
        with self.assertRaises(mmpool.Error) as ctx:
            with pool.write_loan(length=5000):
                pass
        self.assertEqual(ctx.exception.code, mmpool.E2BIG)
        self.assertIsNone(pool.try_read())
        with self.assertRaises(ValueError):
            pool.write_loan(length=-1)

    def test_an_explicit_commit_past_the_capacity_keeps_the_loan(self):
        pool = self.create(capacity=4096, count=1)
        reader = self.adopt()
        loan = pool.write_loan(length=2)
        with loan as buf:
            buf[:2] = b"ok"
            with self.assertRaises(mmpool.Error) as ctx:
                loan.commit(4097)
            self.assertEqual(ctx.exception.code, mmpool.E2BIG)
            self.assertTrue(loan.active)
            buf[:2] = b"OK"  # its view is still the slot's
            loan.commit(2)
        self.assertFalse(loan.active)
        self.assertEqual(reader.read(timeout=0).data, b"OK")

    def assert_commit_ended_the_loan(self, loan, buf, code):
        with self.assertRaises(mmpool.Error) as ctx:
            loan.commit(1)
        self.assertEqual(ctx.exception.code, code)
        self.assertFalse(loan.active)
        with self.assertRaises(ValueError):
            buf[0] = 1  # its view was released: it cannot reach the slot
        with self.assertRaises(RuntimeError):
            loan.abort()

    def test_a_commit_on_a_damaged_pool_ends_the_loan(self):
        pool = self.create(capacity=64, count=1)
        other = self.adopt()
        reader = self.adopt()
        loan = pool.write_loan(length=1)
        buf = loan.__enter__()
        _scribble(self.path, _OFF_LAST_SEQ, 2**64 - 1, 8)  # no seq left to give
        self.assert_commit_ended_the_loan(loan, buf, mmpool.EFORMAT)
        _scribble(self.path, _OFF_LAST_SEQ, 7, 8)
        other.write(b"hello")  # the one slot came back
        frame = reader.read(timeout=0)
        self.assertEqual((frame.seq, frame.data), (8, b"hello"))

    def test_a_commit_on_an_unlinked_pool_ends_the_loan(self):
        pool = self.create(capacity=64, count=1)
        loan = pool.write_loan(length=1)
        buf = loan.__enter__()
        mmpool.unlink(self.path)
        self.assert_commit_ended_the_loan(loan, buf, mmpool.ESTALE)

    def test_an_interrupted_commit_ends_the_loan(self):
        # A fresh pool gives its first handles entries 0 and 1; the commit
        # lock is made to look held by the live second one, so the commit
        # waits for it until interrupt().
        pool = self.create(capacity=64, count=2)
        self.adopt()  # the holder
        reader = self.adopt()
        loan = pool.write_loan(length=1)
        buf = loan.__enter__()
        _scribble(self.path, _OFF_HOLDER_MARK, _HELD_BY_ENTRY_1, 4)
        _scribble(self.path, _OFF_COMMIT_LOCK, _HELD_BY_ENTRY_1, 4)
        pool.interrupt()
        self.assert_commit_ended_the_loan(loan, buf, mmpool.ECANCELED)
        _scribble(self.path, _OFF_COMMIT_LOCK, 0, 4)
        _scribble(self.path, _OFF_HOLDER_MARK, 0, 4)
        self.assertIsNone(reader.try_read())  # nothing was published
        pool.write(b"x", timeout=0)  # the slot came back

    def test_view_is_released_when_the_loan_ends(self):
        pool = self.create()
        with pool.write_loan(length=1) as buf:
            buf[0] = 1
        with self.assertRaises(ValueError):
            buf[0] = 2


class ReadLoanTest(PoolTest):
    def test_loan_yields_the_frame_read_only_with_its_metadata(self):
        pool = self.create()
        pool.write(b"in place")
        loan = pool.read_loan()
        with loan as buf:
            self.assertEqual(bytes(buf), b"in place")
            self.assertTrue(buf.readonly)
            with self.assertRaises(TypeError):
                buf[0] = 0
            self.assertEqual((loan.seq, loan.length, loan.dropped), (1, 8, 0))
            self.assertGreater(loan.timestamp_ns, 0)
        self.assertIsNone(pool.try_read())

    def test_held_frame_is_not_overwritten_until_release(self):
        writer = self.create(count=1)
        reader = self.adopt()
        writer.write(b"first")
        with reader.read_loan() as buf:
            self.assertFalse(writer.try_write(b"second"))
            self.assertEqual(bytes(buf), b"first")
        self.assertTrue(writer.try_write(b"second"))

    def test_a_handle_may_hold_several_read_loans(self):
        writer = self.create(count=3, read_mode="fifo")
        reader = self.adopt(read_mode="fifo")
        for data in (b"a", b"b"):
            writer.write(data)
        with reader.read_loan() as first, reader.read_loan() as second:
            self.assertEqual((bytes(first), bytes(second)), (b"a", b"b"))


class OutlivingViewsTest(PoolTest):
    """Ending a loan or closing its pool while views of the slot live raises
    BufferError and keeps the loan; once they are gone it ends normally."""

    def check_kept(self, pool, make_keep):
        writer_probe = self.adopt()
        pool.write(b"0123456789")
        keep = None
        loan = pool.read_loan()
        with self.assertRaises(BufferError):
            with loan as buf:
                keep = make_keep(buf)
        self.assertTrue(loan.active)
        # The loan still pins the frame (one slot): nobody may overwrite it.
        self.assertFalse(writer_probe.try_write(b"x"))
        self.assertEqual(bytes(keep)[:2], b"01")
        del keep
        loan.release()
        self.assertFalse(loan.active)
        self.assertTrue(writer_probe.try_write(b"x"))

    def test_a_slice_of_the_view_keeps_the_loan(self):
        self.check_kept(self.create(count=1), lambda buf: buf[:4])

    def test_a_memoryview_of_the_view_keeps_the_loan(self):
        self.check_kept(self.create(count=1), lambda buf: memoryview(buf))

    def test_the_views_exporter_keeps_the_loan(self):
        self.check_kept(self.create(count=1), lambda buf: buf.obj)

    @needs_numpy
    def test_an_ndarray_made_from_the_view_keeps_the_loan(self):
        self.check_kept(self.create(count=1), lambda buf: numpy.frombuffer(buf, numpy.uint8))

    @needs_numpy
    def test_an_asarray_of_the_view_keeps_the_loan(self):
        self.check_kept(self.create(count=1), lambda buf: numpy.asarray(buf)[0:])

    def test_a_write_loan_with_a_live_slice_is_not_committed(self):
        pool = self.create()
        loan = pool.write_loan(length=4)
        with self.assertRaises(BufferError):
            with loan as buf:
                buf[:] = b"data"
                keep = buf[1:]
        self.assertIsNone(pool.try_read())
        self.assertEqual(bytes(keep), b"ata")
        del keep
        loan.commit()
        self.assertEqual(pool.read(timeout=0).data, b"data")

    def test_closing_the_pool_under_a_live_view_raises_and_keeps_it_open(self):
        pool = self.create()
        pool.write(b"abc")
        loan = pool.read_loan()
        buf = loan.__enter__()
        keep = buf[1:]
        with self.assertRaises(BufferError):
            pool.close()
        self.assertFalse(pool.closed)
        self.assertEqual(bytes(keep), b"bc")
        del keep
        pool.close()
        self.assertTrue(pool.closed)
        self.assertFalse(loan.active)

    def test_closing_the_pool_ends_loans_without_views(self):
        pool = self.create(count=1)
        probe = self.adopt()
        pool.write(b"x")
        pool.read_loan().__enter__()
        self.assertFalse(probe.try_write(b"y"))
        pool.close()
        self.assertTrue(probe.try_write(b"y"))

    def test_a_dropped_pool_stays_mapped_while_a_view_lives(self):
        def leak_a_slice():
            pool = mmpool.Pool(self.path, 4096, 2, create=True)
            pool.write(b"still here")
            loan = pool.read_loan()
            buf = loan.__enter__()
            return buf[:10]

        keep = leak_a_slice()
        gc.collect()  # the pool and its loan are garbage now
        self.assertEqual(bytes(keep), b"still here")
        if os.path.exists("/proc/self/maps"):
            self.assertTrue(_mapped(self.path))
        del keep
        gc.collect()
        if os.path.exists("/proc/self/maps"):
            self.assertFalse(_mapped(self.path))


# Words a test scribbles through the pool file (docs/format.md): u64
# last_seq at 256, u32 commit_lock at 264 (entry index + 1 in bits 0-5, the
# hold's nonce above), and the lock_mark of entry 1 (u32 at 1024 + 64 + 36),
# which a real holder sets to the lock's value first. The file's pages are
# those every handle maps, so a write is seen at once.
_OFF_LAST_SEQ = 256
_OFF_COMMIT_LOCK = 264
_OFF_HOLDER_MARK = 1024 + 64 + 36
_HELD_BY_ENTRY_1 = (1 << 6) | 2


def _scribble(path, offset, value, size):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(value.to_bytes(size, "little"))


def _mapped(path):
    """Whether this process maps the file at path (Linux). By inode: a pool
    created through an unnamed file shows under another name."""
    inode = str(os.stat(path).st_ino)
    with open("/proc/self/maps") as maps:
        return any(len(f) > 4 and f[4] == inode for f in map(str.split, maps))

if __name__ == "__main__":
    unittest.main()
