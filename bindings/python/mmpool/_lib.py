"""Finds libmmpool and declares the C API to ctypes.

The library is looked for in this order: the file named by the environment
variable MMPOOL_LIBRARY; libmmpool.so.0, libmmpool.so or mmpool.dll in this
package's directory; the system's library path (ctypes.util.find_library,
then the soname libmmpool.so.0). A wheel built with pip carries the
libmmpool it compiled in the package directory. `path` is the file or name
that was loaded. The structures below mirror include/mmpool.h field by
field.
"""

import ctypes
import ctypes.util
import os

# The C library's major version this binding was written for: the
# structures below follow its header.
ABI_MAJOR = 0

# Error codes (include/mmpool.h; values fixed).
OK = 0
EINVAL = -1
ENOENT = -2
EEXIST = -3
EACCES = -4
EFORMAT = -5
EMISMATCH = -6
E2BIG = -7
ENOSPC = -8
EAGAIN = -9
EBUSY = -10
ETIMEDOUT = -11
ESYS = -12
ECANCELED = -13
ESTALE = -14
ETOOMANY = -15

CREATE = 1 << 0
EXCL = 1 << 1
ANY_OWNER = 1 << 2
READ_LATEST = 0
READ_FIFO = 1
WAIT_FOREVER = -1
FORMAT_MAX = 63
POLL_MAX = 64  # pools one mmpool_poll() takes: the bits of its *ready


class Options(ctypes.Structure):
    _fields_ = [
        ("slot_capacity", ctypes.c_uint64),
        ("slot_count", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("read_mode", ctypes.c_uint32),
        ("format", ctypes.c_char_p),
        ("spin_ns", ctypes.c_uint64),  # watch before sleeping (mmpool_options.spin_ns)
        ("reserved", ctypes.c_uint64 * 3),
    ]


class FrameInfo(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("timestamp_ns", ctypes.c_uint64),
        ("len", ctypes.c_uint64),
        ("dropped", ctypes.c_uint64),
        ("reserved", ctypes.c_uint64 * 2),
    ]


class View(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("frame", FrameInfo),
        ("reserved_", ctypes.c_uint64 * 2),
    ]


class Stats(ctypes.Structure):
    _fields_ = [
        ("slot_capacity", ctypes.c_uint64),
        ("slot_count", ctypes.c_uint32),
        ("read_mode", ctypes.c_uint32),
        ("last_seq", ctypes.c_uint64),
        ("format", ctypes.c_char * 64),
        ("owner", ctypes.c_uint64),  # the file's owner at open: uid (Windows: the SID's RID)
        ("created", ctypes.c_uint32),  # 1 if this handle created the pool
        ("handles", ctypes.c_uint32),  # live handles attached now
        ("writers", ctypes.c_uint32),  # of those, the ones that have committed a frame
        ("reserved1", ctypes.c_uint32),
        ("reserved", ctypes.c_uint64 * 1),
    ]


class Info(ctypes.Structure):
    """mmpool_info: a pool's header as mmpool_inspect() found it."""

    _fields_ = [
        ("version_major", ctypes.c_uint32),
        ("version_minor", ctypes.c_uint32),
        ("slot_capacity", ctypes.c_uint64),
        ("slot_count", ctypes.c_uint32),
        ("handle_count", ctypes.c_uint32),
        ("slot_stride", ctypes.c_uint64),
        ("file_size", ctypes.c_uint64),
        ("created_ns", ctypes.c_uint64),
        ("last_seq", ctypes.c_uint64),
        ("commit_lock", ctypes.c_uint32),
        ("retired", ctypes.c_uint32),
        ("format", ctypes.c_char * 64),
        ("owner", ctypes.c_uint64),  # the file's owner: uid (Windows: the SID's RID)
        ("reserved", ctypes.c_uint64 * 3),
    ]


def _check_layout():
    """The sizes and offsets that include/mmpool.h checks with
    _Static_assert: a field added here in the wrong place would read another
    field's bytes. Not an assert, which python -O drops."""
    for struct, size, offsets in (
        (Stats, 120, {"format": 24, "owner": 88, "created": 96, "handles": 100, "writers": 104,
                      "reserved": 112}),
        (Info, 160, {"owner": 128}),
    ):
        wrong = [name for name, offset in offsets.items() if getattr(struct, name).offset != offset]
        if ctypes.sizeof(struct) != size or wrong:
            raise ImportError("mmpool: %s does not match mmpool.h (size %d, want %d; fields %s)"
                              % (struct.__name__, ctypes.sizeof(struct), size, wrong))


_check_layout()


_P = ctypes.c_void_p  # mmpool *
_INT = ctypes.c_int
_SIZE = ctypes.c_size_t

_PROTOTYPES = {
    "mmpool_open": (_INT, [ctypes.POINTER(_P), ctypes.c_char_p, ctypes.POINTER(Options)]),
    "mmpool_close": (None, [_P]),
    "mmpool_unlink": (_INT, [ctypes.c_char_p]),
    "mmpool_flush": (_INT, [_P]),
    "mmpool_stat": (_INT, [_P, ctypes.POINTER(Stats)]),
    "mmpool_last_seq": (_INT, [_P, ctypes.POINTER(ctypes.c_uint64)]),
    "mmpool_interrupt": (_INT, [_P]),
    # intptr_t *out: a file descriptor on POSIX, a HANDLE on Windows.
    "mmpool_event_handle": (_INT, [_P, ctypes.POINTER(ctypes.c_ssize_t)]),
    "mmpool_poll": (_INT, [ctypes.POINTER(_P), _SIZE, _INT, ctypes.POINTER(ctypes.c_uint64)]),
    "mmpool_write": (_INT, [_P, ctypes.c_void_p, _SIZE, _INT]),
    "mmpool_try_write": (_INT, [_P, ctypes.c_void_p, _SIZE]),
    "mmpool_read": (_INT, [_P, ctypes.c_void_p, _SIZE, ctypes.POINTER(FrameInfo), _INT]),
    "mmpool_try_read": (_INT, [_P, ctypes.c_void_p, _SIZE, ctypes.POINTER(FrameInfo)]),
    "mmpool_write_acquire": (_INT, [_P, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_SIZE), _INT]),
    "mmpool_write_commit": (_INT, [_P, _SIZE]),
    "mmpool_write_abort": (_INT, [_P]),
    "mmpool_read_acquire": (_INT, [_P, ctypes.POINTER(View), _INT]),
    "mmpool_read_release": (_INT, [_P, ctypes.POINTER(View)]),
    "mmpool_now_ns": (ctypes.c_uint64, []),
    "mmpool_strerror": (ctypes.c_char_p, [_INT]),
    "mmpool_err_name": (ctypes.c_char_p, [_INT]),
    "mmpool_version": (ctypes.c_char_p, []),
    # Slots and handles are not asked for (NULL, 0): only the header is used.
    "mmpool_inspect": (
        _INT,
        [ctypes.c_char_p, ctypes.POINTER(Info), ctypes.c_void_p, _SIZE, ctypes.c_void_p, _SIZE],
    ),
}


def _candidates():
    """(description, name to load) in search order."""
    found = []
    env = os.environ.get("MMPOOL_LIBRARY")
    if env:
        found.append(("MMPOOL_LIBRARY", env))
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libmmpool.so.0", "libmmpool.so", "mmpool.dll"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            found.append(("package directory", path))
        else:
            found.append(("package directory", path + " (absent)"))
    system = ctypes.util.find_library("mmpool")
    if system:
        found.append(("ctypes.util.find_library", system))
    else:
        found.append(("ctypes.util.find_library", "mmpool (not found)"))
    found.append(("system library path", "libmmpool.so.0"))
    return found


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load():
    """Loads and declares libmmpool; returns (library, what was loaded).
    ImportError lists every place tried."""
    tried = []
    for where, name in _candidates():
        if name.endswith(("(absent)", "(not found)")):
            tried.append("%s: %s" % (where, name))
            continue
        try:
            lib = ctypes.CDLL(name)
            _declare(lib)
        except (OSError, AttributeError) as exc:
            tried.append("%s: %s (%s)" % (where, name, exc))
            continue
        version = lib.mmpool_version().decode("ascii")
        if int(version.split(".")[0]) != ABI_MAJOR:
            tried.append(
                "%s: %s (version %s; this binding needs %d.x)" % (where, name, version, ABI_MAJOR)
            )
            continue
        return lib, name
    raise ImportError(
        "mmpool: cannot load libmmpool; set MMPOOL_LIBRARY to its path. Tried:\n  "
        + "\n  ".join(tried)
    )


lib, path = load()
