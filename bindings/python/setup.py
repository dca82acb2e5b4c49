"""Builds the mmpool wheel: the pure-Python package (metadata in
pyproject.toml) plus libmmpool, compiled from this repository's sources
with CMake (build_support/mmpool_cmake.py) and copied into the package, so
that an installed mmpool needs no system library and no environment
variable.

The wheel is tagged py3-none-<platform>: it runs on any Python 3 (ctypes,
no extension module) but carries a native library for one platform.
"""

import os
import shutil
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "build_support"))
import mmpool_cmake  # noqa: E402

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel  # older setuptools (Debian 12: 66) + wheel
    except ImportError:
        bdist_wheel = None  # no wheels: setup.py sdist etc. still work


class BinaryDistribution(Distribution):
    """Has a native part, so it installs to platlib and gets a platform tag."""

    def has_ext_modules(self):
        return True


class BuildPy(build_py):
    """build_py, then libmmpool compiled into the package's build copy."""

    def run(self):
        editable = getattr(self, "editable_mode", False)
        package_dir = os.path.join(self.build_lib, "mmpool")
        if not editable and os.path.isdir(package_dir):
            # pip builds this directory in place and setuptools reuses its
            # build directory: start the package over, so that nothing an
            # earlier build left (a removed module, a library) is shipped.
            shutil.rmtree(package_dir)
        super().run()
        if editable:
            # An editable install runs the package from this directory;
            # the library then comes from MMPOOL_LIBRARY or the system.
            return
        root = mmpool_cmake.find_source_root(HERE)
        cmake = mmpool_cmake.find_cmake()
        build_temp = self.get_finalized_command("build").build_temp
        library = mmpool_cmake.build_library(
            root, os.path.join(os.path.abspath(build_temp), "libmmpool"), cmake)
        copy = mmpool_cmake.bundle(library, package_dir)
        print("mmpool: bundled %s as %s" % (library, copy))

    def get_outputs(self, include_bytecode=1):
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            outputs.append(os.path.join(self.build_lib, "mmpool", mmpool_cmake.LIBRARY))
        return outputs


cmdclass = {"build_py": BuildPy}
if bdist_wheel is not None:

    class BdistWheel(bdist_wheel):
        def get_tag(self):
            # The platform from the native-wheel tag; any Python 3, any ABI.
            _, _, platform = super().get_tag()
            return self.python_tag, "none", platform

    cmdclass["bdist_wheel"] = BdistWheel

setup(distclass=BinaryDistribution, cmdclass=cmdclass)
