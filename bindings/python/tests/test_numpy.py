"""NumPy helpers: array copies, array loans, and arrays outliving loans."""

import unittest

import mmpool
from tests.support import PoolTest, needs_numpy, numpy as np


@needs_numpy
class ArrayCopyTest(PoolTest):
    def test_write_array_and_read_array_round_trip(self):
        pool = self.create(capacity=1 << 16)
        a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
        pool.write_array(a)
        b = pool.read_array(np.float32, (3, 4, 5), timeout=1)
        np.testing.assert_array_equal(a, b)
        self.assertTrue(b.flags.owndata)

    def test_a_non_contiguous_array_is_written_in_c_order(self):
        pool = self.create()
        a = np.arange(32, dtype=np.uint16).reshape(4, 8)[:, ::2]
        pool.write_array(a)
        np.testing.assert_array_equal(pool.read_array(np.uint16, (4, 4), timeout=0), a)
        with self.assertRaises((ValueError, BufferError)):
            pool.write(a)  # plain write wants contiguous memory

    def test_a_frame_larger_than_the_array_is_a_shape_error_and_stays_unread(self):
        pool = self.create(read_mode="fifo")
        pool.write(bytes(range(16)))
        with self.assertRaises(mmpool.ShapeError) as ctx:
            pool.read_array(np.uint8, (2, 4), timeout=0)
        exc = ctx.exception
        self.assertEqual((exc.code, exc.name), (mmpool.EMISMATCH, "MMPOOL_EMISMATCH"))
        self.assertEqual((exc.seq, exc.frame_length, exc.shape, exc.nbytes, exc.unread),
                         (1, 16, (2, 4), 8, True))
        self.assertEqual(exc.dtype, np.uint8)
        self.assertEqual(str(exc), "MMPOOL_EMISMATCH: frame 1 has 16 B, asked dtype uint8 "
                                   "shape (2, 4) = 8 B (it stays unread)")
        self.assertEqual(pool.read_array(np.uint8, 16, timeout=0)[15], 15)

    def test_a_frame_smaller_than_the_array_is_a_shape_error_and_counts_as_read(self):
        pool = self.create(read_mode="fifo")
        pool.write(bytes(6))
        with self.assertRaises(ValueError) as ctx:
            pool.read_array(np.uint32, 2, timeout=0)
        exc = ctx.exception
        self.assertIsInstance(exc, mmpool.ShapeError)
        self.assertIsInstance(exc, mmpool.Error)
        self.assertEqual(exc.code, mmpool.EMISMATCH)
        self.assertEqual((exc.frame_length, exc.shape, exc.nbytes, exc.unread), (6, (2,), 8, False))
        self.assertIn("frame 1 has 6 B, asked dtype uint32 shape (2,) = 8 B", str(exc))
        self.assertNotIn("unread", str(exc))
        self.assertIsNone(pool.try_read())


@needs_numpy
class ArrayLoanTest(PoolTest):
    def test_write_array_loan_fills_the_slot_in_place(self):
        pool = self.create(capacity=1 << 16)
        src = np.random.default_rng(1).integers(0, 255, (16, 32, 3), dtype=np.uint8)
        with pool.write_array_loan(np.uint8, (16, 32, 3)) as img:
            self.assertFalse(img.flags.owndata)
            self.assertEqual(img.ctypes.data % 4096, 0)  # slot memory is page aligned
            np.copyto(img, src)
        frame = pool.read(timeout=0)
        self.assertEqual(frame.data, src.tobytes())

    def test_read_array_loan_is_a_read_only_view_of_the_frame(self):
        pool = self.create()
        pool.write_array(np.arange(12, dtype=np.int64))
        with pool.read_array_loan(np.int64, (3, 4)) as a:
            self.assertEqual(a.shape, (3, 4))
            self.assertEqual(int(a.sum()), 66)
            self.assertFalse(a.flags.writeable)
            self.assertFalse(a.flags.owndata)
            self.assertEqual(a.ctypes.data % 4096, 0)
            with self.assertRaises(ValueError):
                a[0, 0] = 1
            with self.assertRaises(ValueError):
                a.flags.writeable = True

    def test_read_array_loan_of_another_size_is_a_shape_error(self):
        pool = self.create()
        pool.write(bytes(10))
        with self.assertRaises(mmpool.ShapeError) as ctx:
            with pool.read_array_loan(np.float64, [3, 3]):
                pass
        exc = ctx.exception
        self.assertIsInstance(exc, ValueError)
        self.assertEqual(exc.code, mmpool.EMISMATCH)
        self.assertEqual((exc.frame_length, exc.shape, exc.nbytes, exc.unread),
                         (10, (3, 3), 72, False))
        self.assertIn("frame 1 has 10 B, asked dtype float64 shape (3, 3) = 72 B", str(exc))
        self.assertFalse(pool._loans)  # released, not leaked
        self.assertIsNone(pool.try_read())  # the frame counts as read

    def test_the_yielded_array_is_emptied_when_the_loan_ends(self):
        pool = self.create()
        pool.write_array(np.ones(8, dtype=np.uint8))
        with pool.read_array_loan(np.uint8, 8) as a:
            self.assertEqual(int(a.sum()), 8)
        self.assertEqual(a.shape, (0,))
        kept = []
        with pool.write_array_loan(np.uint8, 8) as b:
            kept.append(b)
            del b
        self.assertEqual(kept[0].shape, (0,))

    def test_arrays_derived_from_the_loan_array_keep_the_loan(self):
        derive = [
            lambda a: a[2:],
            lambda a: a.reshape(2, 4),
            lambda a: a.view(np.int8),
            lambda a: a.T,
            lambda a: a.base,
            lambda a: memoryview(a),
            lambda a: [a, a],
        ]
        pool = self.create(count=1)
        probe = self.adopt()
        for make in derive:
            with self.subTest(make=make):
                pool.write_array(np.arange(8, dtype=np.uint8))
                loan = pool.read_array_loan(np.uint8, 8)
                with self.assertRaises(BufferError):
                    with loan as a:
                        keep = make(a)
                self.assertTrue(loan.active)
                self.assertFalse(probe.try_write(b"x"))
                del keep, a
                loan.release()
                self.assertFalse(loan.active)

    def test_closing_the_pool_under_a_derived_array_raises(self):
        pool = self.create()
        pool.write_array(np.arange(4, dtype=np.uint8))
        loan = pool.read_array_loan(np.uint8, 4)
        part = loan.__enter__()[1:]
        with self.assertRaises(BufferError):
            pool.close()
        self.assertEqual(part.tolist(), [1, 2, 3])
        del part
        pool.close()
        self.assertTrue(pool.closed)


class WithoutNumpyTest(PoolTest):
    @unittest.skipIf(np is not None, "NumPy is importable")
    def test_array_helpers_say_numpy_is_missing(self):
        pool = self.create()
        for call in (
            lambda: pool.write_array([1, 2]),
            lambda: pool.read_array("u1", 2),
            lambda: pool.write_array_loan("u1", 2),
            lambda: pool.read_array_loan("u1", 2),
        ):
            with self.assertRaises(ImportError):
                call()
        # Everything else works.
        pool.write(b"no numpy")
        self.assertEqual(pool.read(timeout=0).data, b"no numpy")


if __name__ == "__main__":
    unittest.main()
