"""Building the package: where setup.py finds the C sources and cmake, what
the build backend asks for, and that the wheel carries only the library
just built. (tests/venv_install.py, CTest python_venv_install, runs the
whole pip install.)"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(BINDING_DIR, "build_support"))
try:
    import mmpool_cmake
    from setuptools.errors import SetupError
except ImportError:  # no setuptools: nothing here can run
    mmpool_cmake = None

REPO_ROOT = os.path.dirname(os.path.dirname(BINDING_DIR))
needs_setuptools = unittest.skipIf(mmpool_cmake is None, "setuptools not importable")


def _env(**values):
    """os.environ with the build's variables replaced (None removes)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MMPOOL_SOURCE_DIR", "MMPOOL_CMAKE")}
    env.update({k: v for k, v in values.items() if v is not None})
    return mock.patch.dict(os.environ, env, clear=True)


@needs_setuptools
class SourceRootTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mmpool-build-test-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_the_root_is_two_levels_above_bindings_python(self):
        with _env():
            self.assertEqual(mmpool_cmake.find_source_root(BINDING_DIR), REPO_ROOT)

    def test_mmpool_source_dir_names_the_root_from_anywhere(self):
        with _env(MMPOOL_SOURCE_DIR=REPO_ROOT):
            self.assertEqual(mmpool_cmake.find_source_root(self.tmp), REPO_ROOT)

    def test_a_package_directory_outside_the_repository_is_a_clear_error(self):
        with _env(), self.assertRaises(SetupError) as ctx:
            mmpool_cmake.find_source_root(os.path.join(self.tmp, "a", "b"))
        self.assertIn("cannot find the C sources", str(ctx.exception))
        self.assertIn("MMPOOL_SOURCE_DIR", str(ctx.exception))

    def test_mmpool_source_dir_must_hold_mmpool(self):
        with open(os.path.join(self.tmp, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.16)\nproject(other C)\n")
        with _env(MMPOOL_SOURCE_DIR=self.tmp), self.assertRaises(SetupError) as ctx:
            mmpool_cmake.find_source_root(BINDING_DIR)
        self.assertIn("MMPOOL_SOURCE_DIR=" + self.tmp, str(ctx.exception))


@needs_setuptools
class CMakeTest(unittest.TestCase):
    def test_a_missing_cmake_is_a_clear_error(self):
        with _env(MMPOOL_CMAKE="/nonexistent/cmake"):
            self.assertIsNone(mmpool_cmake.usable_cmake())
            with self.assertRaises(SetupError) as ctx:
                mmpool_cmake.find_cmake()
        self.assertIn("compiles libmmpool with CMake", str(ctx.exception))
        self.assertIn("MMPOOL_CMAKE=/nonexistent/cmake", str(ctx.exception))

    @unittest.skipIf(shutil.which("cmake") is None, "no cmake on PATH")
    def test_the_backend_asks_for_cmake_only_when_none_is_usable(self):
        # In a copy, so that setup.py's egg-info lands outside the tree.
        tmp = tempfile.mkdtemp(prefix="mmpool-backend-test-")
        self.addCleanup(shutil.rmtree, tmp)
        project = os.path.join(tmp, "python")
        shutil.copytree(BINDING_DIR, project, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "tests", "__pycache__"))
        code = ("import sys; sys.path.insert(0, 'build_support'); import mmpool_backend; "
                "print(repr(mmpool_backend.get_requires_for_build_wheel()))")
        asked = {}
        for cmake in ("cmake", "/nonexistent/cmake"):
            env = dict(os.environ, MMPOOL_CMAKE=cmake, PYTHONDONTWRITEBYTECODE="1")
            proc = subprocess.run([sys.executable, "-c", code], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=120)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            asked[cmake] = proc.stdout.strip().splitlines()[-1]
        self.assertNotIn("cmake", asked["cmake"])
        self.assertIn("'cmake>=3.16'", asked["/nonexistent/cmake"])


@needs_setuptools
class BundleTest(unittest.TestCase):
    def test_only_the_library_just_built_is_bundled(self):
        tmp = tempfile.mkdtemp(prefix="mmpool-bundle-test-")
        self.addCleanup(shutil.rmtree, tmp)
        built = os.path.join(tmp, "libmmpool.so.0.1.0")
        with open(built, "wb") as f:
            f.write(b"fresh")
        link = os.path.join(tmp, "libmmpool.so.0")
        os.symlink(built, link)
        package = os.path.join(tmp, "package")
        os.mkdir(package)
        for name in mmpool_cmake.BUNDLED_NAMES:
            with open(os.path.join(package, name), "wb") as f:
                f.write(b"stale")
        copy = mmpool_cmake.bundle(link, package)
        self.assertEqual(sorted(os.listdir(package)), [mmpool_cmake.LIBRARY])
        self.assertFalse(os.path.islink(copy))
        with open(copy, "rb") as f:
            self.assertEqual(f.read(), b"fresh")


if __name__ == "__main__":
    unittest.main()
