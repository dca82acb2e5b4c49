"""Borrowing the memory of any bytes-like object for one C call.

PyObject_GetBuffer works for read-only exporters too (bytes, read-only
memoryviews and arrays), which ctypes' from_buffer does not, and holds the
export for the duration, so a bytearray cannot be resized under the call.
"""

import ctypes


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get = ctypes.pythonapi.PyObject_GetBuffer
_get.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get.restype = ctypes.c_int
_release = ctypes.pythonapi.PyBuffer_Release
_release.argtypes = [ctypes.POINTER(_PyBuffer)]
_release.restype = None

_PYBUF_SIMPLE = 0  # one C-contiguous run of bytes


class borrowed:
    """with borrowed(obj) as (address, length): obj's bytes, in place.

    Raises TypeError for objects without the buffer protocol and the
    exporter's error (ValueError or BufferError) for non-contiguous ones.
    """

    __slots__ = ("_view",)

    def __init__(self, obj):
        self._view = _PyBuffer()
        _get(obj, ctypes.byref(self._view), _PYBUF_SIMPLE)

    def __enter__(self):
        return self._view.buf, self._view.len

    def __exit__(self, *exc):
        _release(ctypes.byref(self._view))
        return False
