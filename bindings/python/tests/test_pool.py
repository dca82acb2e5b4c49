"""Copies in and out, timeouts, interrupt, stats, flush, unlink, closing."""

import array
import math
import os
import shutil
import tempfile
import threading
import time
import unittest

import mmpool
from tests.support import PoolTest, run_child


class RoundTripTest(PoolTest):
    def test_read_returns_the_written_bytes_with_seq_and_time(self):
        pool = self.create()
        before = mmpool.now_ns()
        pool.write(b"hello, mmpool")
        after = mmpool.now_ns()
        frame = pool.read(timeout=1)
        self.assertIsInstance(frame, mmpool.Frame)
        self.assertEqual(frame.data, b"hello, mmpool")
        self.assertEqual(frame.seq, 1)
        self.assertEqual(frame.dropped, 0)
        self.assertTrue(before <= frame.timestamp_ns <= after)

    def test_any_contiguous_bytes_like_object_is_written(self):
        pool = self.create(count=8, read_mode="fifo")
        items = [
            bytearray(b"bytearray"),
            memoryview(b"xxsliceyy")[2:7],
            array.array("H", [1, 2, 3]),
            memoryview(bytearray(b"read-only")).toreadonly(),
            b"",
        ]
        for item in items:
            pool.write(item)
        for item in items:
            self.assertEqual(pool.read(timeout=0).data, bytes(item))

    def test_a_second_handle_sees_frames_in_fifo_order(self):
        writer = self.create(read_mode="fifo")
        reader = self.adopt(read_mode="fifo")
        for i in range(3):
            writer.write(bytes([i]) * 10)
        got = [reader.read(timeout=1) for _ in range(3)]
        self.assertEqual([f.data for f in got], [bytes([i]) * 10 for i in range(3)])
        self.assertEqual([f.seq for f in got], [1, 2, 3])
        self.assertIsNone(reader.try_read())

    def test_latest_mode_returns_the_newest_frame_and_counts_dropped(self):
        writer = self.create(count=4)
        reader = self.adopt()
        writer.write(b"1")
        self.assertEqual(reader.read(timeout=0).seq, 1)
        for data in (b"2", b"3", b"4"):
            writer.write(data)
        frame = reader.read(timeout=0)
        self.assertEqual((frame.data, frame.seq, frame.dropped), (b"4", 4, 2))

    def test_try_read_on_an_empty_pool_returns_none(self):
        self.assertIsNone(self.create().try_read())

    def test_try_write_returns_false_while_the_only_slot_is_held(self):
        writer = self.create(count=1)
        reader = self.adopt()
        writer.write(b"x")
        with reader.read_loan():
            self.assertFalse(writer.try_write(b"y"))
        self.assertTrue(writer.try_write(b"y"))
        self.assertEqual(reader.read(timeout=0).data, b"y")

    def test_non_contiguous_and_non_buffer_data_are_refused(self):
        pool = self.create()
        with self.assertRaises(TypeError):
            pool.write("text is not bytes")
        with self.assertRaises((ValueError, BufferError, TypeError)):
            pool.write(memoryview(b"abcdef")[::2])
        self.assertIsNone(pool.try_read())


class TimeoutTest(PoolTest):
    def test_read_times_out_no_earlier_than_asked(self):
        pool = self.create()
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            pool.read(timeout=0.05)
        self.assertGreaterEqual(time.monotonic() - start, 0.05)

    def test_read_waits_for_a_frame_written_by_another_thread(self):
        reader = self.create()
        writer = self.adopt()
        timer = threading.Timer(0.05, writer.write, args=(b"late",))
        timer.start()
        self.addCleanup(timer.join)
        self.assertEqual(reader.read(timeout=None).data, b"late")

    def test_bad_timeouts_are_refused(self):
        pool = self.create()
        for bad in (-1, -0.001, math.nan):
            with self.assertRaises(ValueError):
                pool.read(timeout=bad)
        with self.assertRaises(OverflowError):
            pool.read(timeout=1e10)
        with self.assertRaises((TypeError, ValueError)):
            pool.read(timeout="soon")

    def test_spin_ns_makes_a_blocked_read_spin_within_its_timeout(self):
        # Thread CPU time tells a spinning wait from a sleeping one: 0.3 s of
        # spin_ns in a 0.3 s wait keeps the thread busy for much of it (a
        # sixth at least, on a busy machine); without spin_ns it sleeps.
        spinning = self.create(spin_ns=300_000_000)
        sleeping = self.adopt()
        for pool, spins in ((spinning, True), (sleeping, False)):
            cpu, start = time.thread_time(), time.monotonic()
            with self.assertRaises(TimeoutError):
                pool.read(timeout=0.3)
            cpu, wall = time.thread_time() - cpu, time.monotonic() - start
            self.assertLess(wall, 2.0)  # never past the timeout by much
            if spins:
                self.assertGreater(cpu, 0.05)
            else:
                self.assertLess(cpu, 0.05)
        # A frame that comes while it spins is taken.
        timer = threading.Timer(0.05, sleeping.write, args=(b"spun",))
        timer.start()
        self.addCleanup(timer.join)
        self.assertEqual(spinning.read(timeout=5).data, b"spun")
        with self.assertRaises((ValueError, OverflowError)):
            mmpool.Pool(self.path, spin_ns=-1)

    def test_interrupt_from_another_thread_stops_a_blocked_read(self):
        pool = self.create()
        timer = threading.Timer(0.05, pool.interrupt)
        timer.start()
        self.addCleanup(timer.join)
        with self.assertRaises(mmpool.Error) as ctx:
            pool.read()
        self.assertEqual(ctx.exception.code, mmpool.ECANCELED)
        self.assertEqual(ctx.exception.name, "MMPOOL_ECANCELED")


class PoolStateTest(PoolTest):
    def test_stats_report_the_geometry_mode_format_and_last_seq(self):
        pool = self.create(capacity=8192, count=5, read_mode="fifo", format="gray8 64x128")
        pool.write(b"a")
        pool.write(b"b")
        st = pool.stats()
        self.assertEqual(
            st, mmpool.Stats(8192, 5, "fifo", 2, "gray8 64x128", os.geteuid(), True, 1, 1)
        )
        adopted = self.adopt()
        # The adopting handle counts, and has not written: one writer of two.
        self.assertEqual((pool.stats().handles, pool.stats().writers), (2, 1))
        self.assertEqual((adopted.slot_capacity, adopted.slot_count), (8192, 5))
        self.assertEqual((adopted.read_mode, adopted.format), ("latest", "gray8 64x128"))

    def test_last_seq_follows_commits_and_raises_once_unlinked(self):
        pool = self.create()
        reader = self.adopt()
        self.assertEqual(reader.last_seq(), 0)
        pool.write(b"a")
        pool.write(b"b")
        self.assertEqual(reader.last_seq(), 2)
        mmpool.unlink(self.path)
        with self.assertRaises(mmpool.Error) as ctx:
            reader.last_seq()
        self.assertEqual(ctx.exception.code, mmpool.ESTALE)

    def test_flush_drops_frames_nobody_holds(self):
        pool = self.create()
        pool.write(b"old")
        pool.flush()
        self.assertIsNone(pool.try_read())
        pool.write(b"new")
        self.assertEqual(pool.read(timeout=0).seq, 2)

    def test_mode_sets_the_permission_bits_of_a_new_pool(self):
        old = os.umask(0)
        try:
            self.create(mode=0o660)
        finally:
            os.umask(old)
        self.assertEqual(os.stat(self.path).st_mode & 0o7777, 0o660)

    def test_mode_granting_read_without_write_is_refused(self):
        for mode in (0o640, 0o644, 0o4600, 0o700):
            with self.subTest(mode=oct(mode)):
                with self.assertRaises(mmpool.Error) as ctx:
                    self.create(mode=mode)
                self.assertEqual(ctx.exception.code, mmpool.EINVAL)
                self.assertFalse(os.path.exists(self.path))

    def test_a_bare_name_lives_in_the_shared_memory_place(self):
        if not os.path.isdir("/dev/shm"):
            self.skipTest("no /dev/shm")
        name = "mmpool-py-bare-%d" % os.getpid()
        with mmpool.Pool(name, 64, 1, create=True) as pool:
            pool.write(b"x")
            self.assertTrue(os.path.exists("/dev/shm/" + name))
        mmpool.unlink(name)
        self.assertFalse(os.path.exists("/dev/shm/" + name))

    def test_closed_pool_refuses_calls_and_close_is_idempotent(self):
        pool = self.create()
        with pool:
            pass
        self.assertTrue(pool.closed)
        pool.close()
        with self.assertRaises(ValueError):
            pool.write(b"x")
        with self.assertRaises(ValueError):
            pool.try_read()
        # The handle is really gone: the file is no longer mapped.
        if os.path.exists("/proc/self/maps"):
            self.assertFalse(_mapped(self.path))

    def test_bad_arguments_raise_before_anything_is_created(self):
        cases = [
            dict(read_mode="newest"),
            dict(slot_count=-1),
            dict(slot_capacity=2**64),
            dict(slot_capacity=1.5),
            dict(format="x" * 64),
            dict(format="a\0b"),
            dict(mode=-1),
        ]
        for kw in cases:
            args = dict(slot_capacity=64, slot_count=1, create=True)
            args.update(kw)
            with self.subTest(kw=kw), self.assertRaises((ValueError, TypeError)):
                mmpool.Pool(self.path, **args)
        with self.assertRaises(ValueError):
            mmpool.Pool(self.path + "\0x", 64, 1, create=True)
        self.assertFalse(os.path.exists(self.path))


def _mapped(path):
    """Whether this process maps the file at path (Linux). By inode: a pool
    created through an unnamed file shows under another name."""
    inode = str(os.stat(path).st_ino)
    with open("/proc/self/maps") as maps:
        return any(len(f) > 4 and f[4] == inode for f in map(str.split, maps))

class LibrarySearchTest(unittest.TestCase):
    def test_a_library_next_to_the_package_is_found(self):
        lib = os.environ.get("MMPOOL_LIBRARY")
        if not lib:
            self.skipTest("MMPOOL_LIBRARY not set")
        from tests.support import BINDING_DIR

        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        shutil.copytree(os.path.join(BINDING_DIR, "mmpool"), os.path.join(tmp, "mmpool"))
        shutil.copy(lib, os.path.join(tmp, "mmpool", "libmmpool.so.0"))
        code = (
            "import os, sys\n"
            "del os.environ['MMPOOL_LIBRARY']\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import mmpool, mmpool._lib\n"
            "print(mmpool._lib.lib._name, mmpool.__file__)\n"
        )
        status, out, err = run_child(code, tmp)
        self.assertEqual(status, 0, err)
        loaded, package = out.split()
        self.assertEqual(loaded, os.path.join(tmp, "mmpool", "libmmpool.so.0"))
        self.assertTrue(package.startswith(tmp))

        # MMPOOL_LIBRARY still comes first, before the package's copy.
        chosen = os.path.join(tmp, "libmmpool-chosen.so")
        shutil.copy(lib, chosen)
        code = (
            "import os, sys\n"
            "os.environ['MMPOOL_LIBRARY'] = sys.argv[2]\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import mmpool, mmpool._lib\n"
            "print(mmpool._lib.path)\n"
        )
        status, out, err = run_child(code, tmp, chosen)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.strip(), chosen)

    def test_failure_lists_every_place_tried(self):
        code = (
            "try:\n"
            "    import mmpool\n"
            "except ImportError as e:\n"
            "    print(e)\n"
            "else:\n"
            "    print('LOADED', mmpool._lib.lib._name)\n"
        )
        missing = "/nonexistent/libmmpool-test.so"
        env_backup = os.environ.get("MMPOOL_LIBRARY")
        os.environ["MMPOOL_LIBRARY"] = missing
        try:
            status, out, err = run_child(code)
        finally:
            if env_backup is None:
                del os.environ["MMPOOL_LIBRARY"]
            else:
                os.environ["MMPOOL_LIBRARY"] = env_backup
        self.assertEqual(status, 0, err)
        if out.startswith("LOADED"):
            self.skipTest("a system libmmpool is installed: " + out.strip())
        self.assertIn("MMPOOL_LIBRARY: " + missing, out)
        self.assertIn("package directory", out)
        self.assertIn("libmmpool.so.0", out)
        self.assertIn("find_library", out)


class ModuleTest(unittest.TestCase):
    def test_version_matches_the_package(self):
        self.assertEqual(mmpool.version(), mmpool.__version__)

    def test_now_ns_is_monotonic(self):
        a = mmpool.now_ns()
        b = mmpool.now_ns()
        self.assertGreater(a, 0)
        self.assertGreaterEqual(b, a)


if __name__ == "__main__":
    unittest.main()
