"""Event loops: a Pool's event handle and reads awaited on asyncio
(docs/guide.md "Event loops").

The event is level-style: ready while the handle has a frame it has not
read; a read that finds none (MMPOOL_EAGAIN, MMPOOL_ETIMEDOUT) re-arms it.
So an awaited read first tries a read that does not wait, and only when
that finds nothing waits for readiness, reads, and waits again if the
readiness was spurious. The Pool's lock is held by the reads alone, never
across an await.
"""

import asyncio
import ctypes
import os

from . import _errors
from . import _lib

_L = _lib.lib

# The read made once the event is ready waits up to 1 ms rather than not at
# all: a pending interrupt() is reported (and used up) only by a call that
# may wait, and it makes the event ready only once, so a read that did not
# wait would lose it. A frame or an interrupt returns at once; the
# millisecond is spent only on a spurious readiness.
READY_MS = 1
# Windows: one wait on the event HANDLE, in a thread of the loop's executor.
_WIN_SLICE_MS = 100


def event_handle(pool):
    """The handle's event (a file descriptor, on Windows a HANDLE), made on
    first use and the same for the handle's life."""
    out = ctypes.c_ssize_t()
    with pool._lock:
        h = pool._live_handle()
        _errors.check(_L.mmpool_event_handle(h.ptr, ctypes.byref(out)), pool.path)
    return out.value


class Waiter:
    """The wait of one read_async() for its Pool's event on one loop."""

    def __init__(self, loop):
        self.loop = loop
        self._fut = None

    def wake_threadsafe(self):
        """Any thread (Pool.close()): ends the current wait, so the read
        after it sees the Pool closed."""
        self.loop.call_soon_threadsafe(self._wake)

    def _wake(self):
        if self._fut is not None and not self._fut.done():
            self._fut.set_result(None)

    async def ready(self, handle, keep, deadline):
        """Returns once the event is ready, or at deadline (loop time, None
        for never). Leaves nothing registered on the loop, cancelled or not."""
        if os.name == "nt":
            ms = _WIN_SLICE_MS
            if deadline is not None:
                ms = max(0, min(ms, int((deadline - self.loop.time()) * 1000) + 1))
            await self.loop.run_in_executor(None, _wait_handle, keep, handle, ms)
            return
        self._fut = self.loop.create_future()
        self.loop.add_reader(handle, self._wake)
        timer = None if deadline is None else self.loop.call_at(deadline, self._wake)
        try:
            await self._fut
        finally:
            self.loop.remove_reader(handle)
            if timer is not None:
                timer.cancel()
            self._fut = None


def _wait_handle(keep, handle, ms):
    """Windows, in an executor thread: waits up to ms for the event HANDLE.
    keep (the pool's C handle) keeps the HANDLE open meanwhile, even when
    the awaiting task is cancelled and the Pool closed."""
    ctypes.windll.kernel32.WaitForSingleObject(ctypes.c_void_p(handle), ms)
    del keep


async def read(pool, attempt, timeout):
    """Awaits a read: attempt(ms), called with pool._lock held, returns
    (rc, value); this returns value once rc is 0 and raises for any other
    rc than MMPOOL_EAGAIN/MMPOOL_ETIMEDOUT, on which it waits for the event.
    timeout as for Pool.read(): None waits forever, 0 does not wait
    (WouldBlockError), else TimedOutError once it has passed."""
    ms = pool._ms(timeout)
    loop = asyncio.get_running_loop()
    deadline = None if ms == _lib.WAIT_FOREVER else loop.time() + ms / 1000
    with pool._lock:
        # Held until the end: the event (and the C handle that owns it)
        # stays open while registered on the loop, even if the Pool closes.
        keep = pool._live_handle()
        rc, value = attempt(0)
        if rc != _lib.EAGAIN or ms == 0:
            _errors.check(rc)
            return value
        if pool._waiter is not None:
            raise RuntimeError("mmpool: another read_async() is already waiting on this Pool")
        handle = event_handle(pool)
        waiter = pool._waiter = Waiter(loop)
    try:
        # A frame that came between the read and the event's creation made
        # the event ready already: nothing is missed.
        while rc in (_lib.EAGAIN, _lib.ETIMEDOUT):
            if deadline is not None and loop.time() >= deadline:
                rc = _lib.ETIMEDOUT
                break
            await waiter.ready(handle, keep, deadline)
            with pool._lock:
                rc, value = attempt(READY_MS)
    finally:
        pool._waiter = None
    _errors.check(rc)
    return value
