"""The package's build backend: setuptools' own, except that cmake joins
the build requirements when no usable cmake is installed, so that a build
with isolation (pip's default) fetches one from the package index and a
machine with CMake downloads nothing more."""

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 (the other hooks, unchanged)

import mmpool_cmake


def get_requires_for_build_wheel(config_settings=None):
    requires = _setuptools.get_requires_for_build_wheel(config_settings)
    if mmpool_cmake.usable_cmake() is None:
        requires.append("cmake>=%d.%d" % mmpool_cmake.CMAKE_MIN)
    return requires
