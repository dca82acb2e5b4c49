"""Zero-copy loans: a slot of the pool seen as a memoryview or an ndarray.

The rule that keeps Python from touching memory it no longer owns: a loan
ends (commit, abort, release, or the end of its with block) only when
nothing but the loan itself still refers to the slot's memory. Its own
memoryview is released first (later use raises ValueError); if slices of
it, memoryviews made from it, NumPy arrays made from it, or its .obj are
still alive, ending raises BufferError and the loan stays held: drop them
and end it again. The ndarray that an array loan yields is emptied when the
loan ends (shape (0,)), so the name bound by "with ... as a" cannot reach
the slot afterwards; arrays derived from it count as live views. One
reference to that ndarray besides ours is taken to be the "as" name; if it
is instead a memoryview of the array (the name deleted in the block), that
memoryview escapes the check: it then sees whatever the slot holds later,
but never unmapped memory, since the emptied array keeps the C handle
(a finalizer's reference) until the array itself is gone.

Detection: every loan exports the slot through its own ctypes object, and
every view made from the slot, however indirectly (memoryview slices share
one managed buffer, NumPy arrays keep that buffer or an ndarray base alive),
holds a reference to it. Once our memoryview is released, a reference count
above the one taken at creation means some view is still alive. Each such
object also holds the pool's C handle, so the mapping stays until it is
gone, whatever happens to the Pool object.
"""

import ctypes
import sys
import weakref

from . import _errors
from . import _lib

try:
    import numpy as _np
except ImportError:  # the binding works without NumPy; array loans need it
    _np = None

_L = _lib.lib
_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1


def _empty_state(dtype):
    return (1, (0,), dtype, False, b"")


class _Loan:
    """Common part: the exporter object, our memoryview, the checks."""

    def __init__(self, pool, timeout):
        self._pool = pool
        self._timeout = timeout
        self._handle = None  # the pool's C handle while the loan is held
        self._arr = None  # ctypes exporter of the slot memory
        self._arr_refs = 0
        self._mv = None  # the loan's own memoryview
        self._nd = None  # array loans: the yielded ndarray,
        self._nd_refs = 0
        self._base = None  # its base, which derived arrays reference too
        self._base_refs = 0

    @property
    def active(self):
        """True between a successful acquire and the end of the loan."""
        return self._handle is not None

    def _export(self, address, length, readonly):
        self._arr = self._pool._slot_type.from_address(address)
        self._arr.mmpool_handle = self._handle  # keeps the mapping while it lives
        self._arr_refs = sys.getrefcount(self._arr)  # ours alone
        mv = memoryview(self._arr).cast("B")[:length]
        self._mv = mv.toreadonly() if readonly else mv

    def _make_array(self, dtype, shape):
        # reshape makes a second array whose base is the flat one; arrays
        # derived from ours also take the flat one as base, so its count
        # tells whether any exist.
        self._nd = _np.frombuffer(self._mv, dtype=dtype, count=_count(shape)).reshape(shape)
        self._nd_refs = sys.getrefcount(self._nd)
        self._base = self._nd.base  # derived arrays collapse their base to it
        self._base_refs = sys.getrefcount(self._base)

    def _check_views_gone(self):
        """Raises BufferError while anything else refers to the slot."""
        if self._nd is not None:
            if sys.getrefcount(self._base) > self._base_refs:
                raise BufferError("mmpool: arrays made from the loan's ndarray are still alive")
            # One reference more than ours is allowed: the name bound by
            # "with ... as a", which Python keeps after the block.
            refs = sys.getrefcount(self._nd)
            if refs > self._nd_refs + 1:
                raise BufferError("mmpool: the loan's ndarray is still referenced elsewhere")
            if refs > self._nd_refs:
                # That one holder may instead be a buffer export of the array
                # (m = memoryview(a); del a), which keeps the slot's address
                # after the array is emptied but no longer reaches the mapping
                # through it. Whichever it is, the array keeps the C handle,
                # and so the mapping, until the array itself is gone. Not at
                # exit: atexit handlers run before such objects are freed.
                weakref.finalize(self._nd, _keep, self._handle).atexit = False
            # Empties the array in place: whoever holds it sees shape (0,).
            self._nd.__setstate__(_empty_state(self._nd.dtype))
            self._nd = self._base = None
        if self._mv is not None:
            try:
                self._mv.release()
            except BufferError:
                raise BufferError("mmpool: the loan's memoryview is still exported") from None
            self._mv = None
        if sys.getrefcount(self._arr) > self._arr_refs:
            raise BufferError(
                "mmpool: views of the loan's memory (slices, memoryviews or NumPy arrays "
                "made from it) are still alive"
            )

    def _finish(self):
        self._arr = None
        self._handle = None
        self._pool._loans.discard(self)

    def _enter_checked(self):
        if self._handle is not None:
            raise RuntimeError("mmpool: this loan is already held")
        self._handle = self._pool._live_handle()


class WriteLoan(_Loan):
    """A free slot to fill in place; see Pool.write_loan()."""

    def __init__(self, pool, length, timeout, array=None):
        super().__init__(pool, timeout)
        self._array = array  # (dtype, shape) for write_array_loan
        if length is not None:
            self.length = length
        else:
            self._length = None
        self.capacity = pool.slot_capacity

    @property
    def length(self):
        """Bytes committed when the loan ends normally (default: the length
        given to write_loan(), else the whole capacity)."""
        return self.capacity if self._length is None else self._length

    @length.setter
    def length(self, value):
        value = int(value)
        if value < 0:
            raise ValueError("mmpool: a frame length cannot be negative")
        self._length = value

    def __enter__(self):
        pool = self._pool
        with pool._lock:
            self._enter_checked()
            ptr = ctypes.c_void_p()
            cap = ctypes.c_size_t()
            rc = _L.mmpool_write_acquire(
                self._handle.ptr, ctypes.byref(ptr), ctypes.byref(cap),
                pool._ms(self._timeout),
            )
            if rc < 0:
                self._handle = None
                raise _errors.error_for(rc, "write loan")
            pool._loans.add(self)
            try:
                size = self.length
                if size > cap.value:
                    raise _errors.error_for(_lib.E2BIG, "loan of %d bytes" % size)
                self._export(ptr.value, size, False)
                if self._array is not None:
                    self._make_array(*self._array)
            except BaseException:
                self._nd = self._base = None
                self._mv = None
                self._abort_now()
                raise
        return self._nd if self._array is not None else self._mv

    def __exit__(self, exc_type, exc, tb):
        if self._handle is None:
            return False  # ended inside the block
        if exc_type is not None:
            self.abort()
            return False
        try:
            self.commit()
        except _errors.Error as e:
            if e.code == _lib.E2BIG and self._handle is not None:
                self.abort()  # the block is over: the loan ends with it
            raise
        return False

    def commit(self, length=None):
        """Publishes the frame: the first `length` bytes (default
        self.length) and ends the loan. BufferError while views are alive,
        MMPOOL_E2BIG past the capacity: the loan stays held, views and all
        (the end of a with block then aborts it). MMPOOL_ESTALE,
        MMPOOL_EFORMAT, MMPOOL_ECANCELED: ended, unpublished."""
        if length is not None:
            self.length = length
        with self._pool._lock:
            self._require()
            if self.length > self.capacity:
                raise _errors.error_for(_lib.E2BIG, "commit of %d bytes" % self.length)
            self._check_views_gone()
            rc = _L.mmpool_write_commit(self._handle.ptr, min(self.length, _SIZE_MAX))
            if commit_ends_loan(rc):
                self._finish()
            _errors.check(rc, "commit of %d bytes" % self.length)

    def abort(self):
        """Gives the slot back without publishing. BufferError while views
        are alive (loan kept)."""
        with self._pool._lock:
            self._require()
            self._check_views_gone()
            self._abort_now()

    def _abort_now(self):
        rc = _L.mmpool_write_abort(self._handle.ptr)
        self._finish()
        _errors.check(rc, "abort")

    def _require(self):
        if self._handle is None:
            raise RuntimeError("mmpool: this write loan is not held")


class ReadLoan(_Loan):
    """A frame read in place; see Pool.read_loan()."""

    def __init__(self, pool, timeout, array=None):
        super().__init__(pool, timeout)
        self._array = array
        self._view = _lib.View()
        self.seq = self.timestamp_ns = self.dropped = self.length = None

    def __enter__(self):
        pool = self._pool
        with pool._lock:
            self._enter_checked()
            rc = _L.mmpool_read_acquire(
                self._handle.ptr, ctypes.byref(self._view), pool._ms(self._timeout)
            )
            if rc < 0:
                self._handle = None
                raise _errors.error_for(rc, "read loan")
            pool._loans.add(self)
            info = self._view.frame
            self.seq, self.timestamp_ns = info.seq, info.timestamp_ns
            self.dropped, self.length = info.dropped, info.len
            try:
                self._export(self._view.data, info.len, True)
                if self._array is not None:
                    dtype, shape = self._array
                    need = _np.dtype(dtype).itemsize * _count(shape)
                    if need != info.len:
                        raise _errors.ShapeError(info.seq, info.len, _np.dtype(dtype),
                                                 _shape_tuple(shape), need, unread=False)
                    self._make_array(dtype, shape)
            except BaseException:
                self._nd = self._base = None
                self._mv = None
                self._release_now()
                raise
        return self._nd if self._array is not None else self._mv

    def __exit__(self, exc_type, exc, tb):
        if self._handle is not None:
            self.release()
        return False

    def release(self):
        """Lets the slot be written again. BufferError while views are
        alive (loan kept)."""
        with self._pool._lock:
            if self._handle is None:
                raise RuntimeError("mmpool: this read loan is not held")
            self._check_views_gone()
            self._release_now()

    def _release_now(self):
        rc = _L.mmpool_read_release(self._handle.ptr, ctypes.byref(self._view))
        self._finish()
        _errors.check(rc, "release")


def _keep(handle):
    """Finalizer of an emptied ndarray: drops the C handle it kept."""


def commit_ends_loan(rc):
    """Whether mmpool_write_commit ended the write loan, by its return code
    (mmpool.h; src/io.c). The one table of this binding:

        0                 published, ended
        MMPOOL_ESTALE     pool unlinked: ended, unpublished
        MMPOOL_EFORMAT    damaged pool: ended, unpublished
        MMPOOL_ECANCELED  interrupted waiting for the commit lock: ended
        MMPOOL_EINVAL     the C handle holds no loan: nothing left to end
        MMPOOL_E2BIG      length past the capacity: NOT ended, still held

    Every code but MMPOOL_E2BIG ends it (also one from a failed wait, which
    the C side aborts as well). mmpool_write_abort and mmpool_read_release
    end their loan whatever they return.
    """
    return rc != _lib.E2BIG


def _count(shape):
    if isinstance(shape, int):
        return shape
    n = 1
    for dim in shape:
        n *= int(dim)
    return n


def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, int) else tuple(int(dim) for dim in shape)


def end_all(loans):
    """Ends every loan of a closing pool; BufferError (nothing ended) if
    any still has views."""
    for loan in loans:
        loan._check_views_gone()
    for loan in list(loans):
        if isinstance(loan, WriteLoan):
            loan._abort_now()
        else:
            loan._release_now()
