"""mmpool: frames between processes through a pool of slots in one
memory-mapped file (a ctypes binding of libmmpool).

    import mmpool
    with mmpool.Pool("camera0", slot_capacity=1 << 20, slot_count=3, create=True) as pool:
        pool.write(b"hello")
        frame = pool.read(timeout=1.0)

In an event loop, Pool.fileno() is the handle's event descriptor; asyncio
has "await pool.read_async()" and "async for frame in pool.frames()", and
mmpool.poll() waits on several pools without a loop.

libmmpool is loaded at import from MMPOOL_LIBRARY, this package's directory
(where pip puts the library it builds), or the system's library path;
ImportError lists what was tried. Errors are mmpool.Error (with .code,
.name, .message), some also built-in exceptions: MMPOOL_ENOENT is a
FileNotFoundError, MMPOOL_ETIMEDOUT a TimeoutError, and an array read of
the wrong size a ShapeError (a ValueError).
"""

from ._errors import (
    AccessError,
    Error,
    ExistsError,
    NotFoundError,
    ShapeError,
    TimedOutError,
    WouldBlockError,
)
from ._lib import (
    ANY_OWNER,
    E2BIG,
    EACCES,
    EAGAIN,
    EBUSY,
    ECANCELED,
    EEXIST,
    EFORMAT,
    EINVAL,
    EMISMATCH,
    ENOENT,
    ENOSPC,
    ESTALE,
    ESYS,
    ETIMEDOUT,
    ETOOMANY,
)
from ._loans import ReadLoan, WriteLoan
from ._pool import Frame, Pool, Stats, now_ns, poll, unlink, version

__version__ = "0.1.0"

__all__ = [
    "Pool", "Frame", "Stats", "ReadLoan", "WriteLoan", "now_ns", "poll", "unlink", "version",
    "Error", "NotFoundError", "ExistsError", "AccessError", "TimedOutError",
    "WouldBlockError", "ShapeError",
    "EINVAL", "ENOENT", "EEXIST", "EACCES", "EFORMAT", "EMISMATCH", "E2BIG", "ENOSPC",
    "EAGAIN", "EBUSY", "ETIMEDOUT", "ESYS", "ECANCELED", "ESTALE", "ETOOMANY",
    "ANY_OWNER",
]
