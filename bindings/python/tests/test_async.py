"""Event loops: fileno(), the asyncio reads (read_async, read_array_async,
frames), mmpool.poll(), and stats().writers as a sign that writers left.

Frames come from other threads or a child process. "Should arrive" waits
are seconds long, "should not arrive" ones a few hundred milliseconds, so
that a loaded machine slows the tests down without failing them.
"""

import asyncio
import os
import select
import signal
import threading
import time
import unittest

import mmpool
from tests.support import CHILD_TIMEOUT, PoolTest, needs_numpy, numpy, start_child

ARRIVES = 10  # seconds: a frame that must come
QUIET = 0.2  # seconds: a wait in which nothing must come
LATER = 0.1  # seconds: how long another thread waits before it acts

# A child writing count frames b"frame K" to the pool at argv[1], pausing
# now and then so that the reader has to wait for some of them.
_WRITE_FRAMES = """
import sys, time, mmpool
with mmpool.Pool(sys.argv[1]) as pool:
    for k in range(1, int(sys.argv[2]) + 1):
        pool.write(b"frame %d" % k, timeout=10)
        if k % 5 == 0:
            time.sleep(0.05)
"""

# A child that writes one frame and then stays until killed.
_WRITE_AND_STAY = """
import sys, time, mmpool
pool = mmpool.Pool(sys.argv[1])
pool.write(b"from the child")
time.sleep(60)
"""


def later(action, *args):
    """Runs action(*args) in another thread after LATER seconds."""
    timer = threading.Timer(LATER, action, args=args)
    timer.start()
    return timer


class EventLoopTest(PoolTest):
    def run_loop(self, coro):
        """Runs coro on a new asyncio loop; a hang fails instead of blocking."""
        return asyncio.run(asyncio.wait_for(coro, 60))

    def later(self, action, *args):
        self.addCleanup(later(action, *args).join)

    def pair(self, suffix, **kw):
        """A reader and a writer handle on a second pool next to self.path."""
        path = self.path + suffix
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        reader = mmpool.Pool(path, 4096, 4, create=True, **kw)
        self.addCleanup(reader.close)
        writer = mmpool.Pool(path)
        self.addCleanup(writer.close)
        return reader, writer


class FilenoTest(EventLoopTest):
    def test_fileno_is_readable_while_a_frame_is_unread(self):
        reader = self.create()
        writer = self.adopt()
        fd = reader.fileno()
        self.assertEqual(reader.fileno(), fd)
        self.assertEqual(select.select([fd], [], [], QUIET)[0], [])
        writer.write(b"x")
        self.assertEqual(select.select([fd], [], [], ARRIVES)[0], [fd])
        self.assertEqual(reader.read(timeout=0).data, b"x")
        # Level-style: the read that finds nothing re-arms it.
        self.assertIsNone(reader.try_read())
        self.assertEqual(select.select([fd], [], [], QUIET)[0], [])

    def test_fileno_of_a_closed_pool_raises_value_error(self):
        pool = self.create()
        pool.close()
        with self.assertRaises(ValueError):
            pool.fileno()


class ReadAsyncTest(EventLoopTest):
    def test_read_async_on_two_pools_gets_each_its_frame_while_the_loop_runs(self):
        reader_a, writer_a = self.pair("-a")
        reader_b, writer_b = self.pair("-b")
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        def write_b_then_a():
            writer_b.write(b"to b")
            time.sleep(LATER)
            writer_a.write(b"to a")

        async def main():
            ticker = asyncio.create_task(tick())
            self.later(write_b_then_a)
            got = await asyncio.gather(reader_a.read_async(timeout=ARRIVES),
                                       reader_b.read_async(timeout=ARRIVES))
            ticker.cancel()
            return got

        got_a, got_b = self.run_loop(main())
        self.assertEqual((got_a.data, got_a.seq), (b"to a", 1))
        self.assertEqual((got_b.data, got_b.seq), (b"to b", 1))
        # The loop kept running while both reads waited.
        self.assertGreater(ticks, 0)

    def test_read_async_returns_a_frame_already_there_without_waiting(self):
        pool = self.create()
        pool.write(b"there")
        self.assertEqual(self.run_loop(pool.read_async(timeout=0)).data, b"there")

    def test_frames_yields_a_child_processes_frames_in_fifo_order(self):
        count = 20
        pool = self.create(count=count + 1, read_mode="fifo")
        child = start_child(_WRITE_FRAMES, self.path, str(count))
        self.addCleanup(child.communicate)
        self.addCleanup(child.kill)

        async def main():
            got = []
            async for frame in pool.frames(timeout=ARRIVES):
                got.append(frame)
                if len(got) == count:
                    return got

        got = self.run_loop(main())
        self.assertEqual([f.seq for f in got], list(range(1, count + 1)))
        self.assertEqual([f.data for f in got], [b"frame %d" % k for k in range(1, count + 1)])
        self.assertEqual(child.wait(CHILD_TIMEOUT), 0)

    @needs_numpy
    def test_read_array_async_copies_the_frame_into_a_new_array(self):
        reader = self.create(read_mode="fifo")
        writer = self.adopt()
        a = numpy.arange(20, dtype=numpy.uint16).reshape(4, 5)
        self.later(writer.write_array, a)
        got = self.run_loop(reader.read_array_async(numpy.uint16, (4, 5), timeout=ARRIVES))
        self.assertEqual((got.dtype, got.shape), (numpy.dtype(numpy.uint16), (4, 5)))
        self.assertTrue(numpy.array_equal(got, a))
        # A larger frame: ShapeError, and it stays unread as with read_array.
        writer.write(bytes(50))
        with self.assertRaises(mmpool.ShapeError) as ctx:
            self.run_loop(reader.read_array_async(numpy.uint8, 40, timeout=ARRIVES))
        self.assertTrue(ctx.exception.unread)
        self.assertEqual(reader.read(timeout=0).data, bytes(50))

    def test_a_cancelled_read_async_leaves_no_reader_and_takes_no_frame(self):
        reader = self.create(read_mode="fifo")
        writer = self.adopt()
        fd = reader.fileno()

        async def main():
            loop = asyncio.get_running_loop()
            task = asyncio.create_task(reader.read_async())
            await asyncio.sleep(QUIET)
            self.assertFalse(task.done())
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            # remove_reader says whether anything was still registered.
            self.assertFalse(loop.remove_reader(fd))
            self.assertEqual(reader._loans, set())
            self.later(writer.write, b"next")
            return await reader.read_async(timeout=ARRIVES)

        frame = self.run_loop(main())
        self.assertEqual((frame.data, frame.seq), (b"next", 1))

    def test_read_async_times_out_no_earlier_than_asked(self):
        pool = self.create()
        fd = pool.fileno()

        async def main():
            start = time.monotonic()
            with self.assertRaises(mmpool.TimedOutError) as ctx:
                await pool.read_async(timeout=QUIET)
            self.assertGreaterEqual(time.monotonic() - start, QUIET)
            self.assertFalse(asyncio.get_running_loop().remove_reader(fd))
            return ctx.exception

        exc = self.run_loop(main())
        self.assertIsInstance(exc, TimeoutError)
        self.assertEqual(exc.code, mmpool.ETIMEDOUT)
        with self.assertRaises(mmpool.WouldBlockError):
            self.run_loop(pool.read_async(timeout=0))
        with self.assertRaises(ValueError):
            self.run_loop(pool.read_async(timeout=-1))

    def test_other_threads_use_the_pool_while_its_read_async_waits(self):
        pool = self.create()

        async def main():
            loop = asyncio.get_running_loop()
            task = asyncio.create_task(pool.read_async(timeout=ARRIVES))
            await asyncio.sleep(QUIET)
            # The lock is free while the read waits: a write on the same
            # Pool from another thread neither blocks nor fails.
            await asyncio.wait_for(loop.run_in_executor(None, pool.write, b"mine"), ARRIVES)
            return await task

        self.assertEqual(self.run_loop(main()).data, b"mine")

    def test_a_second_read_async_on_one_pool_is_refused_while_one_waits(self):
        pool = self.create()
        writer = self.adopt()

        async def main():
            first = asyncio.create_task(pool.read_async(timeout=ARRIVES))
            await asyncio.sleep(QUIET)
            with self.assertRaises(RuntimeError):
                await pool.read_async(timeout=ARRIVES)
            writer.write(b"one")
            return await first

        self.assertEqual(self.run_loop(main()).data, b"one")

    def test_interrupt_makes_a_waiting_read_async_raise_ecanceled_once(self):
        reader = self.create()
        writer = self.adopt()
        self.later(reader.interrupt)
        with self.assertRaises(mmpool.Error) as ctx:
            self.run_loop(reader.read_async(timeout=ARRIVES))
        self.assertEqual(ctx.exception.code, mmpool.ECANCELED)
        # Used up: the next wait times out instead.
        with self.assertRaises(mmpool.TimedOutError):
            reader.read(timeout=QUIET)
        self.later(writer.write, b"after")
        self.assertEqual(self.run_loop(reader.read_async(timeout=ARRIVES)).data, b"after")

    def test_unlink_makes_a_waiting_read_async_raise_estale(self):
        reader = self.create()
        self.later(mmpool.unlink, self.path)
        with self.assertRaises(mmpool.Error) as ctx:
            self.run_loop(reader.read_async(timeout=ARRIVES))
        self.assertEqual(ctx.exception.code, mmpool.ESTALE)

    def test_close_ends_a_waiting_read_async_with_value_error(self):
        pool = self.create()

        async def main():
            task = asyncio.create_task(pool.read_async())
            await asyncio.sleep(QUIET)
            pool.close()
            with self.assertRaises(ValueError):
                await asyncio.wait_for(task, ARRIVES)

        self.run_loop(main())
        self.assertTrue(pool.closed)


class PollTest(EventLoopTest):
    def test_poll_returns_the_pools_with_an_unread_frame_in_the_order_given(self):
        a, wa = self.pair("-a")
        b, wb = self.pair("-b")
        c, wc = self.pair("-c")
        wb.write(b"b")
        self.assertEqual(mmpool.poll([a, b, c], timeout=ARRIVES), [b])
        wc.write(b"c")
        self.assertEqual(mmpool.poll([c, a, b], timeout=ARRIVES), [c, b])
        self.assertEqual(mmpool.poll([b, b], timeout=0), [b, b])
        b.read(timeout=0)
        c.read(timeout=0)
        self.assertEqual(mmpool.poll([a, b, c], timeout=0), [])

    def test_poll_waits_for_a_frame_from_another_thread(self):
        a, wa = self.pair("-a")
        b, wb = self.pair("-b")
        self.later(wb.write, b"late")
        self.assertEqual(mmpool.poll((a, b)), [b])

    def test_poll_returns_an_empty_list_when_the_timeout_passes(self):
        a, _ = self.pair("-a")
        b, _ = self.pair("-b")
        start = time.monotonic()
        self.assertEqual(mmpool.poll([a, b], timeout=QUIET), [])
        self.assertGreaterEqual(time.monotonic() - start, QUIET)

    def test_interrupt_on_any_pool_makes_poll_raise_ecanceled(self):
        a, _ = self.pair("-a")
        b, _ = self.pair("-b")
        self.later(b.interrupt)
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.poll([a, b], timeout=ARRIVES)
        self.assertEqual(ctx.exception.code, mmpool.ECANCELED)

    def test_unlink_of_any_pool_makes_poll_raise_estale(self):
        a, _ = self.pair("-a")
        b, _ = self.pair("-b")
        self.later(mmpool.unlink, b.path)
        with self.assertRaises(mmpool.Error) as ctx:
            mmpool.poll([a, b], timeout=ARRIVES)
        self.assertEqual(ctx.exception.code, mmpool.ESTALE)

    def test_poll_refuses_bad_arguments(self):
        pool = self.create()
        with self.assertRaises(ValueError):
            mmpool.poll([])
        with self.assertRaises(ValueError):
            mmpool.poll([pool] * 65)
        with self.assertRaises(TypeError):
            mmpool.poll([pool, "pool"])
        with self.assertRaises(ValueError):
            mmpool.poll([pool], timeout=-1)
        pool.close()
        with self.assertRaises(ValueError):
            mmpool.poll([pool])


class WritersTest(PoolTest):
    def test_writers_drops_to_zero_when_the_writer_process_is_killed(self):
        pool = self.create()
        child = start_child(_WRITE_AND_STAY, self.path)
        self.addCleanup(child.communicate)
        self.addCleanup(child.kill)
        self.assertEqual(pool.read(timeout=ARRIVES).data, b"from the child")
        st = pool.stats()
        self.assertEqual((st.handles, st.writers), (2, 1))
        child.send_signal(signal.SIGKILL)
        self.assertEqual(child.wait(CHILD_TIMEOUT), -signal.SIGKILL)
        st = pool.stats()
        self.assertEqual((st.handles, st.writers), (1, 0))


if __name__ == "__main__":
    unittest.main()
