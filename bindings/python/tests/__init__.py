"""Tests of the mmpool Python binding (unittest).

Run from bindings/python with MMPOOL_LIBRARY set to a built libmmpool:
    python3 -m unittest discover -v -s tests -t .
MMPOOL_TEST_NO_NUMPY=1 makes "import numpy" fail before mmpool is imported,
so the suite also proves the binding works without NumPy. MMPOOL_PY_PEER
names the C peer program (tests/peer.c) for the cross-process tests.
"""

import importlib.abc
import os
import sys


class _NoNumpy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError("numpy hidden by MMPOOL_TEST_NO_NUMPY")
        return None


if os.environ.get("MMPOOL_TEST_NO_NUMPY"):
    if "numpy" in sys.modules:
        raise RuntimeError("numpy was imported before the tests could hide it")
    sys.meta_path.insert(0, _NoNumpy())
