"""mmpool error codes as Python exceptions."""

import errno as _errno

from . import _lib


class Error(Exception):
    """A negative MMPOOL_E* code returned by libmmpool.

    code: the code (e.g. -7); name: "MMPOOL_E2BIG"; message: the text of
    mmpool_strerror(). Codes with a natural built-in counterpart raise a
    subclass that also derives from it, e.g. MMPOOL_ENOENT is a
    FileNotFoundError and MMPOOL_ETIMEDOUT a TimeoutError.
    """

    def __init__(self, code, context=None, message=None):
        self.code = code
        self.name = _lib.lib.mmpool_err_name(code).decode("ascii")
        if message is None:
            message = _lib.lib.mmpool_strerror(code).decode("ascii")
        self.message = message
        self.context = context
        super().__init__(str(self))

    def __str__(self):
        text = "%s: %s" % (self.name, self.message)
        return text if self.context is None else "%s (%s)" % (text, self.context)

    def __reduce__(self):
        return (error_for, (self.code, self.context))


class NotFoundError(Error, FileNotFoundError):
    """MMPOOL_ENOENT: no pool at the path and create=False."""


class ExistsError(Error, FileExistsError):
    """MMPOOL_EEXIST."""


class AccessError(Error, PermissionError):
    """MMPOOL_EACCES: permission denied."""


class TimedOutError(Error, TimeoutError):
    """MMPOOL_ETIMEDOUT: the timeout passed."""


class WouldBlockError(Error, BlockingIOError):
    """MMPOOL_EAGAIN (no new frame) or MMPOOL_EBUSY (no free slot) from a
    call that was told not to wait (timeout=0)."""


class ShapeError(Error, ValueError):
    """A frame whose length is not the byte size of the array that
    read_array() or read_array_loan() was asked for. Its code is
    MMPOOL_EMISMATCH (what was asked does not match what is there); its
    message names both sizes.

    seq: the frame's seq; frame_length: its bytes; dtype, shape, nbytes:
    what was asked; unread: True when the frame stays unread, so that the
    next read returns it again (read_array() and a larger frame), False when
    it counts as read.
    """

    def __init__(self, seq, frame_length, dtype, shape, nbytes, unread):
        self.seq = seq
        self.frame_length = frame_length
        self.dtype = dtype
        self.shape = shape
        self.nbytes = nbytes
        self.unread = unread
        message = "frame %d has %d B, asked dtype %s shape %r = %d B%s" % (
            seq, frame_length, dtype, shape, nbytes,
            " (it stays unread)" if unread else "")
        super().__init__(_lib.EMISMATCH, message=message)

    def __reduce__(self):
        return (ShapeError, (self.seq, self.frame_length, self.dtype, self.shape, self.nbytes,
                             self.unread))


_CLASSES = {
    _lib.ENOENT: (NotFoundError, _errno.ENOENT),
    _lib.EEXIST: (ExistsError, _errno.EEXIST),
    _lib.EACCES: (AccessError, _errno.EACCES),
    _lib.ETIMEDOUT: (TimedOutError, _errno.ETIMEDOUT),
    _lib.EAGAIN: (WouldBlockError, _errno.EAGAIN),
    _lib.EBUSY: (WouldBlockError, _errno.EBUSY),
}


def error_for(code, context=None):
    """The exception for a negative code (not raised)."""
    cls, os_errno = _CLASSES.get(code, (Error, None))
    exc = cls(code, context)
    if os_errno is not None:
        # Read by code that handles OSError generically.
        exc.errno = os_errno
        exc.strerror = exc.message
    return exc


def check(code, context=None):
    """Raises the exception for code when it is negative."""
    if code < 0:
        raise error_for(code, context)
    return code
