"""The Pool class: one mmpool handle."""

import contextlib
import ctypes
import io
import math
import os
import threading
from typing import NamedTuple

from . import _errors
from . import _events
from . import _lib
from . import _loans
from ._buffer import borrowed

_L = _lib.lib
_INT_MAX = 2**31 - 1
_READ_MODES = {"latest": _lib.READ_LATEST, "fifo": _lib.READ_FIFO}
_READ_MODE_NAMES = {v: k for k, v in _READ_MODES.items()}


class Frame(NamedTuple):
    """One frame returned by Pool.read()."""

    data: bytes
    seq: int  # 1, 2, 3, ... per pool, given at commit
    timestamp_ns: int  # commit time, on the clock of now_ns()
    dropped: int  # frames this handle never saw before this one


class Stats(NamedTuple):
    slot_capacity: int
    slot_count: int
    read_mode: str  # "latest" or "fifo"
    last_seq: int  # newest committed seq, 0 if none
    format: str
    # Added later, with defaults so that Stats(...) of the first five works.
    owner: int = 0  # the pool file's owner when opened: uid (Windows: the owner SID's RID)
    created: bool = False  # this handle created the pool (False: it opened one that was there)
    handles: int = 0  # live handles attached to the pool now, this one included
    writers: int = 0  # of those, the ones that have committed a frame (0: every writer is gone)


class _Handle:
    """Owns the C handle; mmpool_close runs when the last reference goes:
    the Pool's, or that of an object exporting slot memory."""

    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        if self.ptr:
            _L.mmpool_close(self.ptr)
            self.ptr = None


def _timeout_ms(timeout):
    """Seconds (float) to the C timeout: None or inf wait forever, 0 does
    not wait, anything else is rounded up to whole milliseconds so a wait
    is never shorter than asked."""
    if timeout is None:
        return _lib.WAIT_FOREVER
    t = float(timeout)
    if not t >= 0:
        raise ValueError("mmpool: timeout must be >= 0 seconds or None, not %r" % (timeout,))
    if t == math.inf:
        return _lib.WAIT_FOREVER
    ms = math.ceil(t * 1000)
    if ms > _INT_MAX:
        raise OverflowError("mmpool: timeout above %d ms; use None to wait forever" % _INT_MAX)
    return ms


def _encode_path(path):
    raw = os.fsencode(path)
    if b"\0" in raw:
        raise ValueError("mmpool: path contains a NUL byte")
    return raw


def _check_uint(name, value, bits):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("mmpool: %s must be an int, not %s" % (name, type(value).__name__))
    if value < 0 or value >= 1 << bits:
        raise ValueError("mmpool: %s out of range: %d" % (name, value))
    return value


class Pool:
    """A handle on the pool at path; a context manager that closes it.

    path: a path with "/" is used as given; a bare name lives in the
    platform's shared-memory place (Linux: /dev/shm/NAME).
    slot_capacity, slot_count: 0 takes the existing pool's values; other
    values must equal them (else MMPOOL_EMISMATCH, whose message names both
    geometries) and are needed to create.
    create: create the pool when it is missing (never overwrites).
    read_mode: "latest" (newest frame) or "fifo" (oldest unread frame).
    format: payload description stored at creation (<= 63 bytes).
    mode: permission bits of a new pool file (0 means 0o600).
    any_owner: open the pool even when it lies in a world-writable sticky
    directory (/dev/shm, /tmp) and belongs to another user (MMPOOL_ANY_OWNER);
    without it such a pool raises MMPOOL_EACCES, whose message names the
    file's owner. For deliberate sharing; a group-owned directory is better.
    spin_ns: how long a blocked call of this Pool watches the pool, burning
    a CPU, before it sleeps (mmpool_options.spin_ns; 0, the default, never
    spins). For a reader on a core of its own.

    Timeouts are seconds: None waits forever, 0 does not wait. Calls on one
    Pool are serialized by a lock, so threads may share it; interrupt()
    does not take the lock and makes a blocked call raise MMPOOL_ECANCELED.
    The awaited reads (read_async and the like) take the lock only to read,
    never while they wait.
    """

    _ms = staticmethod(_timeout_ms)

    def __init__(
        self, path, slot_capacity=0, slot_count=0, create=False, read_mode="latest",
        format=None, mode=0o600, any_owner=False, spin_ns=0,
    ):
        self._h = None
        self._loans = set()
        self._lock = threading.RLock()
        self._waiter = None  # the read_async() waiting for the event, if any
        self.path = os.fsdecode(path) if isinstance(path, bytes) else os.fspath(path)
        opts = _lib.Options()
        opts.slot_capacity = _check_uint("slot_capacity", slot_capacity, 64)
        opts.slot_count = _check_uint("slot_count", slot_count, 32)
        opts.flags = (_lib.CREATE if create else 0) | (_lib.ANY_OWNER if any_owner else 0)
        opts.mode = _check_uint("mode", mode, 32)
        opts.spin_ns = _check_uint("spin_ns", spin_ns, 64)
        if read_mode not in _READ_MODES:
            raise ValueError("mmpool: read_mode must be 'latest' or 'fifo', not %r" % (read_mode,))
        opts.read_mode = _READ_MODES[read_mode]
        if format is not None:
            raw = format.encode("utf-8") if isinstance(format, str) else bytes(format)
            if b"\0" in raw or len(raw) > _lib.FORMAT_MAX:
                raise ValueError(
                    "mmpool: format must be at most %d bytes without NUL" % _lib.FORMAT_MAX
                )
            opts.format = raw
        ptr = ctypes.c_void_p()
        raw_path = _encode_path(path)
        rc = _L.mmpool_open(ctypes.byref(ptr), raw_path, ctypes.byref(opts))
        if rc == _lib.EMISMATCH:
            raise _errors.error_for(rc, "%s: %s" % (
                self.path, _geometry_mismatch(raw_path, slot_capacity, slot_count)))
        if rc == _lib.EACCES:
            owner = _owner_of(raw_path)
            raise _errors.error_for(rc, self.path if owner is None else "%s: %s" % (
                self.path, owner))
        _errors.check(rc, self.path)
        self._h = _Handle(ptr.value)
        st = self.stats()
        self.slot_capacity = st.slot_capacity
        self.slot_count = st.slot_count
        self.read_mode = st.read_mode
        self.format = st.format
        # One exporter type per pool, sized to a slot (see _loans).
        self._slot_type = type("SlotMemory", (ctypes.c_ubyte * self.slot_capacity,), {})

    def __repr__(self):
        state = "closed" if self._h is None else "%d x %d bytes" % (
            self.slot_count, self.slot_capacity)
        return "<mmpool.Pool %r %s>" % (self.path, state)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _live_handle(self):
        h = self._h
        if h is None:
            raise ValueError("mmpool: operation on a closed Pool")
        return h

    @property
    def closed(self):
        return self._h is None

    def close(self):
        """Ends this handle's loans and closes it. BufferError (and the pool
        stays open) while views of a loan are still alive. Idempotent."""
        with self._lock:
            if self._h is None:
                return
            _loans.end_all(self._loans)
            if self._waiter is not None:
                # It holds the C handle until it has left the loop; woken,
                # it finds the Pool closed.
                self._waiter.wake_threadsafe()
            # The C handle closes now, unless an object exporting slot
            # memory still holds it; then when that object goes.
            self._h = None

    def __del__(self):
        # Unreachable: any loan views hold the handle, not the Pool.
        self._h = None

    # ---- copies ----

    def write(self, data, timeout=None):
        """Writes a bytes-like object (C-contiguous) as one frame."""
        ms = _timeout_ms(timeout)
        with self._lock:
            h = self._live_handle()
            with borrowed(data) as (address, length):
                _errors.check(_L.mmpool_write(h.ptr, address, length, ms))

    def try_write(self, data):
        """write() without waiting: False when no slot is free."""
        with self._lock:
            h = self._live_handle()
            with borrowed(data) as (address, length):
                rc = _L.mmpool_try_write(h.ptr, address, length)
        if rc == _lib.EBUSY:
            return False
        _errors.check(rc)
        return True

    def _read(self, ms):
        h = self._live_handle()
        view = _lib.View()
        rc = _L.mmpool_read_acquire(h.ptr, ctypes.byref(view), ms)
        if rc < 0:
            return rc, None
        info = view.frame  # shares view's memory, which release clears
        seq, timestamp_ns, dropped, length = info.seq, info.timestamp_ns, info.dropped, info.len
        try:
            # One copy, straight from the slot into the bytes object.
            data = ctypes.string_at(view.data, length) if length else b""
        finally:
            _errors.check(_L.mmpool_read_release(h.ptr, ctypes.byref(view)))
        return 0, Frame(data, seq, timestamp_ns, dropped)

    def read(self, timeout=None):
        """The next frame (newest or oldest unread, per read_mode)."""
        ms = _timeout_ms(timeout)
        with self._lock:
            rc, frame = self._read(ms)
        _errors.check(rc)
        return frame

    def try_read(self):
        """read() without waiting: None when there is no new frame."""
        with self._lock:
            rc, frame = self._read(0)
        if rc == _lib.EAGAIN:
            return None
        _errors.check(rc)
        return frame

    # ---- loans ----

    def write_loan(self, length=None, timeout=None):
        """A zero-copy write: `with pool.write_loan() as buf:` acquires a
        free slot and yields a writable memoryview on it; leaving the block
        normally commits loan.length bytes, an exception aborts.

        length given: buf has exactly that many bytes and they are
        committed. length None: buf spans the slot capacity and the whole
        capacity is committed unless loan.length is set inside the block:
            loan = pool.write_loan()
            with loan as buf:
                n = fill(buf)
                loan.length = n
        """
        return _loans.WriteLoan(self, length, timeout)

    def read_loan(self, timeout=None):
        """A zero-copy read: `with pool.read_loan() as buf:` yields a
        read-only memoryview on the next frame in place; the slot is not
        overwritten until the block ends. The loan object carries seq,
        timestamp_ns, dropped and length."""
        return _loans.ReadLoan(self, timeout)

    # ---- NumPy ----

    def write_array(self, a, timeout=None):
        """Writes the bytes of an ndarray (copied to C order first if it is
        not C-contiguous) as one frame."""
        np = _numpy()
        self.write(np.ascontiguousarray(a), timeout)

    def read_array(self, dtype, shape, timeout=None):
        """The next frame as a new ndarray of dtype and shape, copied once
        from the slot. A frame of another size raises ShapeError: a larger
        one stays unread (the next read returns it), a smaller one counts
        as read."""
        out = _numpy().empty(shape, dtype)
        ms = _timeout_ms(timeout)
        with self._lock:
            rc, out = self._read_array(out, ms)
        _errors.check(rc)
        return out

    def _read_array(self, out, ms):
        info = _lib.FrameInfo()
        h = self._live_handle()
        rc = _L.mmpool_read(h.ptr, out.ctypes.data, out.nbytes, ctypes.byref(info), ms)
        # MMPOOL_ENOSPC from a read only means the buffer is too small.
        if rc == _lib.ENOSPC or (rc == 0 and info.len != out.nbytes):
            raise _errors.ShapeError(info.seq, info.len, out.dtype, out.shape, out.nbytes,
                                     unread=rc == _lib.ENOSPC)
        return rc, out

    def write_array_loan(self, dtype, shape, timeout=None):
        """A write loan that yields a writable ndarray of dtype and shape on
        the slot (no copy); its nbytes are committed at the end of the
        block: `with pool.write_array_loan(np.uint8, (h, w, 3)) as img:`."""
        np = _numpy()
        nbytes = np.dtype(dtype).itemsize * _loans._count(shape)
        return _loans.WriteLoan(self, nbytes, timeout, array=(dtype, shape))

    def read_array_loan(self, dtype, shape, timeout=None):
        """A read loan that yields a read-only ndarray of dtype and shape on
        the next frame in place. A frame of another size raises ShapeError
        (the frame counts as read)."""
        _numpy()
        return _loans.ReadLoan(self, timeout, array=(dtype, shape))

    # ---- event loops ----

    def fileno(self):
        """The handle's event descriptor, for select, poll, epoll or asyncio's
        add_reader: readable (POLLIN) while this handle has a frame it has
        not read; a read that finds none re-arms it. Readiness may be
        spurious (the read then finds nothing); unlink() and interrupt()
        make it ready too. Owned by the Pool: never read from it or close
        it, and remove it from the loop before close(). Windows has no
        descriptor (the event is a HANDLE): io.UnsupportedOperation."""
        if os.name == "nt":
            raise io.UnsupportedOperation(
                "mmpool: no file descriptor on Windows (the event is a HANDLE); "
                "use read_async(), frames() or mmpool.poll()")
        return _events.event_handle(self)

    async def read_async(self, timeout=None):
        """read() for asyncio: waits on the event without blocking the loop
        and returns the next Frame. Timeouts as for read() (TimedOutError,
        WouldBlockError for 0). Cancelled, it leaves nothing behind: no
        frame is taken, nothing stays registered on the loop. One at a time
        per Pool (RuntimeError). interrupt() makes a waiting one raise
        MMPOOL_ECANCELED, unlink() MMPOOL_ESTALE; a pending interrupt()
        cancels the next one that has to wait (a frame already there is
        returned first)."""
        return await _events.read(self, self._read, timeout)

    async def read_array_async(self, dtype, shape, timeout=None):
        """read_array() for asyncio, waiting as read_async() does."""
        out = _numpy().empty(shape, dtype)
        return await _events.read(self, lambda ms: self._read_array(out, ms), timeout)

    async def frames(self, timeout=None):
        """`async for frame in pool.frames():` each frame as read_async()
        returns it (timeout: per frame). Ends only by an exception:
        MMPOOL_ESTALE once the pool is unlinked, and so on."""
        while True:
            yield await self.read_async(timeout)

    # ---- other calls ----

    def interrupt(self):
        """Any thread: a blocked call on this Pool raises MMPOOL_ECANCELED
        at once; if none is blocked, the next blocking call does."""
        h = self._live_handle()  # a close meanwhile cannot free it under us
        _errors.check(_L.mmpool_interrupt(h.ptr))

    def last_seq(self):
        """The newest committed seq, one load from the shared header and no
        system call (mmpool_last_seq): a hint for a loop that watches for
        the next frame itself; the read that follows checks it. Raises
        MMPOOL_ESTALE once the pool was unlinked. Any thread, without
        waiting for a call running on this Pool."""
        h = self._live_handle()  # a close meanwhile cannot free it under us
        seq = ctypes.c_uint64()
        _errors.check(_L.mmpool_last_seq(h.ptr, ctypes.byref(seq)))
        return seq.value

    def flush(self):
        """Drops every frame that no handle holds."""
        with self._lock:
            h = self._live_handle()
            _errors.check(_L.mmpool_flush(h.ptr))

    def stats(self):
        with self._lock:
            h = self._live_handle()
            st = _lib.Stats()
            _errors.check(_L.mmpool_stat(h.ptr, ctypes.byref(st)))
        return Stats(
            st.slot_capacity, st.slot_count, _READ_MODE_NAMES.get(st.read_mode, "?"),
            st.last_seq, st.format.decode("utf-8", "replace"), st.owner, bool(st.created),
            st.handles, st.writers,
        )


def _geometry_mismatch(raw_path, slot_capacity, slot_count):
    """Why mmpool_open() said MMPOOL_EMISMATCH: the pool's geometry and the
    one asked, read from the header without attaching. Only the capacity
    and the count are compared (the format is ignored for an existing pool,
    the read mode is the handle's); 0 asks for the pool's own value."""
    asked = "%s x %s B" % (slot_count or "any", slot_capacity or "any")
    info = _lib.Info()
    rc = _L.mmpool_inspect(raw_path, ctypes.byref(info), None, 0, None, 0)
    if rc < 0:  # removed or replaced since the open
        return "asked %s" % asked
    text = "pool has %d %s x %d B, asked %s" % (
        info.slot_count, "slot" if info.slot_count == 1 else "slots", info.slot_capacity, asked)
    if slot_capacity in (0, info.slot_capacity) and slot_count in (0, info.slot_count):
        text += " (the pool was replaced since the open)"
    return text


def _owner_of(raw_path):
    """Who owns the pool that mmpool_open() refused with MMPOOL_EACCES:
    "owned by uid 1234 (alice)" (without the name when the password
    database has none; Windows: the RID of the owner's SID), read from the
    header without attaching. None when it cannot be inspected either (no
    permission to open the file at all, or removed meanwhile)."""
    info = _lib.Info()
    if _L.mmpool_inspect(raw_path, ctypes.byref(info), None, 0, None, 0) < 0:
        return None
    if os.name == "nt":
        return "owned by RID %d" % info.owner
    try:
        import pwd

        return "owned by uid %d (%s)" % (info.owner, pwd.getpwuid(info.owner).pw_name)
    except (ImportError, KeyError, OverflowError):
        return "owned by uid %d" % info.owner


def _numpy():
    if _loans._np is None:
        raise ImportError("mmpool: this call needs NumPy, which cannot be imported")
    return _loans._np


def poll(pools, timeout=None):
    """Waits until at least one of pools (1 to 64 Pool objects; one may be
    listed twice) has a frame it has not read; returns those that have, in
    the order given, or [] when the timeout passes (as select() does; 0
    does not wait). Raises MMPOOL_ECANCELED after interrupt() on any of
    them, MMPOOL_ESTALE when one was unlinked. Holds the lock of each while
    it waits, like a blocking read."""
    pools = list(pools)
    if not 1 <= len(pools) <= _lib.POLL_MAX:
        raise ValueError("mmpool: poll takes 1 to %d pools, not %d" % (_lib.POLL_MAX, len(pools)))
    for p in pools:
        if not isinstance(p, Pool):
            raise TypeError("mmpool: poll takes Pool objects, not %s" % type(p).__name__)
    ms = _timeout_ms(timeout)
    ready = ctypes.c_uint64()
    with contextlib.ExitStack() as locks:
        # One order for every caller, so that two polls on shared pools
        # cannot deadlock; each lock once.
        for p in sorted({id(p): p for p in pools}.values(), key=id):
            locks.enter_context(p._lock)
        handles = [p._live_handle() for p in pools]
        ptrs = (ctypes.c_void_p * len(pools))(*[h.ptr for h in handles])
        rc = _L.mmpool_poll(ptrs, len(pools), ms, ctypes.byref(ready))
    if rc in (_lib.EAGAIN, _lib.ETIMEDOUT):
        return []
    _errors.check(rc, "poll")
    return [p for i, p in enumerate(pools) if ready.value >> i & 1]


def unlink(path):
    """Retires the pool at path (its handles get MMPOOL_ESTALE) and
    removes it."""
    _errors.check(_L.mmpool_unlink(_encode_path(path)), os.fsdecode(os.fspath(path)))


def now_ns():
    """The monotonic clock of frame timestamps, in nanoseconds."""
    return _L.mmpool_now_ns()


def version():
    """The C library's version, e.g. "0.1.0"."""
    return _L.mmpool_version().decode("ascii")
