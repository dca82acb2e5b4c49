"""Every error code the binding can surface, each made to happen.

MMPOOL_EEXIST is the one code it cannot: Pool has no exclusive-create
option, and the C library resolves concurrent creation itself.
"""

import errno
import os
import pickle
import unittest

import mmpool
from tests.support import PoolTest, run_child

_OPEN_IN_CHILD = (
    "import sys, mmpool\n"
    "try:\n"
    "    mmpool.Pool(sys.argv[1])\n"
    "except mmpool.Error as e:\n"
    "    print(e.name, isinstance(e, PermissionError))\n"
    "else:\n"
    "    print('opened')\n"
)


class ErrorCodeTest(PoolTest):
    def assertCode(self, ctx, code, *classes):
        exc = ctx.exception
        self.assertIsInstance(exc, mmpool.Error)
        self.assertEqual(exc.code, code)
        for cls in classes:
            self.assertIsInstance(exc, cls)
        return exc

    def test_einval_for_arguments_only_the_library_can_judge(self):
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path, 64, 100000, create=True)  # above MMPOOL_MAX_SLOTS
        self.assertCode(ctx, mmpool.EINVAL)
        self.assertFalse(os.path.exists(self.path))

    def test_einval_for_a_second_write_loan_on_one_handle(self):
        pool = self.create()
        with pool.write_loan():
            with self.assertRaises(mmpool.Error) as ctx:
                with pool.write_loan():
                    pass
            self.assertCode(ctx, mmpool.EINVAL)

    def test_enoent_is_a_file_not_found_error(self):
        with self.assertRaises(FileNotFoundError) as ctx:
            mmpool.Pool(self.path)
        exc = self.assertCode(ctx, mmpool.ENOENT, mmpool.NotFoundError)
        self.assertEqual(exc.name, "MMPOOL_ENOENT")
        self.assertEqual(exc.errno, errno.ENOENT)
        self.assertIn(self.path, str(exc))

    def test_eacces_is_a_permission_error(self):
        self.create(mode=0o600)
        if os.geteuid() == 0:
            # Root passes permission checks; another user does not.
            status, out, err = run_child(_OPEN_IN_CHILD, self.path, preexec_fn=_become_nobody)
            self.assertEqual(status, 0, err)
            self.assertEqual(out.split(), ["MMPOOL_EACCES", "True"])
        else:
            os.chmod(self.path, 0)
            with self.assertRaises(PermissionError) as ctx:
                mmpool.Pool(self.path)
            self.assertCode(ctx, mmpool.EACCES, mmpool.AccessError)

    def test_eformat_for_a_file_that_is_not_a_pool(self):
        with open(self.path, "wb") as f:
            f.write(b"not a pool" * 1000)
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path)
        self.assertCode(ctx, mmpool.EFORMAT)

    def test_emismatch_for_another_geometry_names_both(self):
        self.create(capacity=65536, count=2)
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path, 6220800, 3)
        exc = self.assertCode(ctx, mmpool.EMISMATCH)
        self.assertTrue(str(exc).endswith(
            "(%s: pool has 2 slots x 65536 B, asked 3 x 6220800 B)" % self.path), str(exc))

    def test_emismatch_for_one_differing_value_shows_the_other_as_any(self):
        self.create(capacity=65536, count=2)
        for capacity, count, asked in ((4096, 0, "any x 4096 B"), (0, 3, "3 x any B"),
                                       (65536, 3, "3 x 65536 B")):
            with self.subTest(asked=asked):
                with self.assertRaises(mmpool.Error) as ctx:
                    mmpool.Pool(self.path, capacity, count)
                exc = self.assertCode(ctx, mmpool.EMISMATCH)
                self.assertIn("pool has 2 slots x 65536 B, asked %s" % asked, str(exc))

    def test_emismatch_says_slot_for_a_pool_of_one(self):
        self.create(capacity=4096, count=1)
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path, 4096, 2)
        exc = self.assertCode(ctx, mmpool.EMISMATCH)
        self.assertIn("pool has 1 slot x 4096 B, asked 2 x 4096 B", str(exc))

    def test_the_format_is_not_part_of_the_geometry(self):
        self.create(capacity=4096, count=2, format="bgr8 4x4")
        pool = self.adopt(format="rgb8 8x8")  # ignored for an existing pool
        self.assertEqual(pool.format, "bgr8 4x4")

    def test_e2big_for_a_frame_larger_than_a_slot(self):
        pool = self.create(capacity=4096)
        with self.assertRaises(mmpool.Error) as ctx:
            pool.write(bytes(4097))
        self.assertCode(ctx, mmpool.E2BIG)
        with self.assertRaises(mmpool.Error) as ctx:
            pool.try_write(bytes(4097))
        self.assertCode(ctx, mmpool.E2BIG)
        self.assertIsNone(pool.try_read())

    def test_enospc_for_a_pool_larger_than_the_file_system(self):
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path, 1 << 40, 1, create=True)
        self.assertCode(ctx, mmpool.ENOSPC)
        self.assertFalse(os.path.exists(self.path))

    def test_eagain_when_told_not_to_wait_for_a_frame(self):
        pool = self.create()
        with self.assertRaises(BlockingIOError) as ctx:
            pool.read(timeout=0)
        self.assertCode(ctx, mmpool.EAGAIN, mmpool.WouldBlockError)
        with self.assertRaises(BlockingIOError) as ctx:
            with pool.read_loan(timeout=0):
                pass
        self.assertCode(ctx, mmpool.EAGAIN)

    def test_ebusy_when_told_not_to_wait_for_a_slot(self):
        writer = self.create(count=1)
        reader = self.adopt()
        writer.write(b"x")
        with reader.read_loan():
            with self.assertRaises(BlockingIOError) as ctx:
                writer.write(b"y", timeout=0)
            self.assertCode(ctx, mmpool.EBUSY, mmpool.WouldBlockError)
            with self.assertRaises(BlockingIOError) as ctx:
                with writer.write_loan(timeout=0):
                    pass
            self.assertCode(ctx, mmpool.EBUSY)

    def test_etimedout_is_a_timeout_error(self):
        writer = self.create(count=1)
        reader = self.adopt()
        with self.assertRaises(TimeoutError) as ctx:
            reader.read(timeout=0.02)
        self.assertCode(ctx, mmpool.ETIMEDOUT, mmpool.TimedOutError)
        writer.write(b"x")
        with reader.read_loan():
            with self.assertRaises(TimeoutError) as ctx:
                writer.write(b"y", timeout=0.02)
            self.assertCode(ctx, mmpool.ETIMEDOUT)

    def test_esys_for_another_operating_system_failure(self):
        self.create()
        # No file descriptor left to open the pool with (EMFILE).
        code = (
            "import os, resource, sys, mmpool\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"
            "fds = []\n"
            "try:\n"
            "    while True:\n"
            "        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
            "except OSError:\n"
            "    pass\n"
            "try:\n"
            "    mmpool.Pool(sys.argv[1])\n"
            "except mmpool.Error as e:\n"
            "    print(e.name)\n"
        )
        status, out, err = run_child(code, self.path)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.strip(), "MMPOOL_ESYS")

    def test_ecanceled_after_interrupt(self):
        pool = self.create()
        pool.interrupt()
        with self.assertRaises(mmpool.Error) as ctx:
            pool.read(timeout=1)
        self.assertCode(ctx, mmpool.ECANCELED)
        # Used up: the next blocking call waits normally.
        with self.assertRaises(TimeoutError):
            pool.read(timeout=0.01)

    def test_estale_after_the_pool_is_unlinked(self):
        pool = self.create()
        mmpool.unlink(self.path)
        with self.assertRaises(mmpool.Error) as ctx:
            pool.write(b"x")
        self.assertCode(ctx, mmpool.ESTALE)
        with self.assertRaises(FileNotFoundError):
            mmpool.unlink(self.path)

    def test_etoomany_when_the_handle_table_is_full(self):
        first = self.create()
        handles = [first] + [self.adopt() for _ in range(31)]
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.Pool(self.path)
        self.assertCode(ctx, mmpool.ETOOMANY)
        handles.pop().close()
        self.adopt().write(b"room again")


class ErrorObjectTest(unittest.TestCase):
    def test_message_and_name_come_from_the_library(self):
        exc = mmpool._errors.error_for(mmpool.E2BIG, "context")
        self.assertEqual(exc.name, "MMPOOL_E2BIG")
        self.assertTrue(exc.message)
        self.assertEqual(str(exc), "MMPOOL_E2BIG: %s (context)" % exc.message)

    def test_errors_survive_pickling(self):
        exc = mmpool._errors.error_for(mmpool.ETIMEDOUT)
        copy = pickle.loads(pickle.dumps(exc))
        self.assertIsInstance(copy, TimeoutError)
        self.assertEqual((copy.code, str(copy)), (exc.code, str(exc)))

    def test_a_shape_error_is_a_value_error_with_its_own_message(self):
        exc = mmpool.ShapeError(7, 16, "uint8", (2, 4), 8, unread=True)
        self.assertIsInstance(exc, mmpool.Error)
        self.assertIsInstance(exc, ValueError)
        self.assertEqual((exc.code, exc.name), (mmpool.EMISMATCH, "MMPOOL_EMISMATCH"))
        self.assertEqual(exc.message, "frame 7 has 16 B, asked dtype uint8 shape (2, 4) = 8 B "
                                      "(it stays unread)")
        copy = pickle.loads(pickle.dumps(exc))
        self.assertIsInstance(copy, mmpool.ShapeError)
        self.assertEqual((copy.seq, copy.frame_length, copy.shape, copy.unread, str(copy)),
                         (7, 16, (2, 4), True, str(exc)))


def _become_nobody():
    os.setgid(65534)
    os.setuid(65534)

if __name__ == "__main__":
    unittest.main()
