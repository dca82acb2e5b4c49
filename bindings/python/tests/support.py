"""Helpers shared by the test modules: unique pool paths, child processes."""

import os
import subprocess
import sys
import tempfile
import unittest

import mmpool

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_DIR = os.path.dirname(HERE)
CHILD_TIMEOUT = 60

try:
    import numpy
except ImportError:
    numpy = None

needs_numpy = unittest.skipIf(numpy is None, "NumPy not importable")


class PoolTest(unittest.TestCase):
    """Gives each test a unique pool path under /dev/shm (or the temp
    directory elsewhere) and removes it afterwards."""

    def setUp(self):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
        self.path = os.path.join(base, "mmpool-py-%d-%s" % (os.getpid(), self.id().split(".")[-1]))
        self._remove()
        self.addCleanup(self._remove)

    def _remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def create(self, capacity=4096, count=3, **kw):
        pool = mmpool.Pool(self.path, capacity, count, create=True, **kw)
        self.addCleanup(pool.close)
        return pool

    def adopt(self, **kw):
        pool = mmpool.Pool(self.path, **kw)
        self.addCleanup(pool.close)
        return pool


def start_child(code, *args, preexec_fn=None):
    """Starts Python code in a child process of this interpreter (NumPy
    hidden there too when it is here), stdout and stderr piped; the caller
    reaps it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (BINDING_DIR, env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-c", "import tests\n" + code] + list(args),
        cwd=BINDING_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=preexec_fn,
    )


def run_child(code, *args, preexec_fn=None):
    """Runs code as start_child() does and waits for it (CHILD_TIMEOUT, then
    it is killed and subprocess.TimeoutExpired raised); returns (exit
    status, stdout, stderr)."""
    with start_child(code, *args, preexec_fn=preexec_fn) as proc:
        try:
            out, err = proc.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    return proc.returncode, out, err
