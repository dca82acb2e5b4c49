"""Compiles libmmpool with CMake for the Python package (used by setup.py
and by the build backend next to this file).

The package is ctypes over libmmpool, so a wheel is the Python files plus
the shared library built from the repository this directory belongs to:
bindings/python is two levels below the root, or MMPOOL_SOURCE_DIR names
the root. MMPOOL_CMAKE names the cmake to use (default: cmake on PATH).
Failures raise SetupError, which setuptools prints as "error: ...".
"""

import os
import re
import shutil
import subprocess

from setuptools.errors import SetupError

CMAKE_MIN = (3, 16)  # the root CMakeLists.txt's cmake_minimum_required
LIBRARY = "mmpool.dll" if os.name == "nt" else "libmmpool.so.0"
# Names under which a libmmpool may sit in the package directory
# (mmpool/_lib.py looks for these); all are replaced by the fresh build.
BUNDLED_NAMES = ("libmmpool.so.0", "libmmpool.so", "mmpool.dll")

_CONFIGURE = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DMMPOOL_BUILD_TESTS=OFF",
    "-DMMPOOL_BUILD_TOOLS=OFF",
    "-DMMPOOL_BUILD_EXAMPLES=OFF",
    "-DMMPOOL_BUILD_BINDINGS=OFF",
    "-DMMPOOL_INSTALL=OFF",
]


def cmake_version(cmake):
    """(major, minor) of the cmake program, or None if it does not run."""
    try:
        out = subprocess.run([cmake, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"version (\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else None


def usable_cmake():
    """The path of a cmake >= CMAKE_MIN, or None."""
    cmake = shutil.which(os.environ.get("MMPOOL_CMAKE") or "cmake")
    if cmake is None:
        return None
    version = cmake_version(cmake)
    return cmake if version is not None and version >= CMAKE_MIN else None


def find_cmake():
    """usable_cmake(), or SetupError saying what is missing."""
    cmake = usable_cmake()
    if cmake is None:
        asked = os.environ.get("MMPOOL_CMAKE")
        where = "MMPOOL_CMAKE=%s" % asked if asked else "cmake on PATH"
        raise SetupError(
            "mmpool: building this package compiles libmmpool with CMake, and %s is missing "
            "or older than %d.%d; install CMake (Debian: apt-get install cmake) or set "
            "MMPOOL_CMAKE to its path" % ((where,) + CMAKE_MIN)
        )
    return cmake


def is_source_root(path):
    """True when path is the root of an mmpool source tree."""
    try:
        with open(os.path.join(path, "CMakeLists.txt"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return False
    return (re.search(r"^\s*project\s*\(\s*mmpool\b", text, re.M) is not None
            and os.path.isfile(os.path.join(path, "include", "mmpool.h")))


def find_source_root(package_dir):
    """The mmpool repository to build: MMPOOL_SOURCE_DIR, else two levels
    above package_dir (bindings/python). SetupError when neither is one."""
    env = os.environ.get("MMPOOL_SOURCE_DIR")
    if env:
        root = os.path.abspath(env)
        if not is_source_root(root):
            raise SetupError(
                "mmpool: MMPOOL_SOURCE_DIR=%s is not the root of the mmpool sources "
                "(it needs the CMakeLists.txt with project(mmpool) and include/mmpool.h)" % env
            )
        return root
    root = os.path.dirname(os.path.dirname(os.path.abspath(package_dir)))
    if not is_source_root(root):
        raise SetupError(
            "mmpool: cannot find the C sources of libmmpool: %s, two levels above %s, has no "
            "mmpool CMakeLists.txt. Build from bindings/python inside the mmpool repository "
            "(pip >= 21.3 builds a local directory in place; an sdist, or an older pip that "
            "copies the directory, leaves the repository behind), or set MMPOOL_SOURCE_DIR "
            "to the repository's root" % (root, os.path.abspath(package_dir))
        )
    return root


def _cached_source(build_dir):
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("CMAKE_HOME_DIRECTORY:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def _run(cmd, what):
    print("mmpool: " + " ".join(cmd), flush=True)
    try:
        subprocess.run(cmd, check=True)
    except OSError as exc:
        raise SetupError("mmpool: cannot run %s: %s" % (cmd[0], exc)) from None
    except subprocess.CalledProcessError as exc:
        raise SetupError(
            "mmpool: %s libmmpool failed (exit status %d); cmake's output is above"
            % (what, exc.returncode)
        ) from None


def build_library(source_root, build_dir, cmake):
    """Configures source_root in build_dir (Release, only the library) and
    builds libmmpool; returns the path of the shared library."""
    cached = _cached_source(build_dir)
    if cached is not None and os.path.realpath(cached) != os.path.realpath(source_root):
        # A cache made for another checkout would make cmake refuse.
        shutil.rmtree(build_dir)
    _run([cmake, "-S", source_root, "-B", build_dir] + _CONFIGURE, "configuring")
    build = [cmake, "--build", build_dir, "--target", "mmpool", "--config", "Release"]
    if not os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL"):
        build += ["--parallel", str(os.cpu_count() or 1)]
    _run(build, "building")
    for sub in ("", "Release"):  # single- and multi-configuration generators
        path = os.path.join(build_dir, sub, LIBRARY)
        if os.path.isfile(path):
            return path
    raise SetupError("mmpool: the build made no %s in %s" % (LIBRARY, build_dir))


def bundle(library, package_build_dir):
    """Copies library (its contents, not a symlink) into the package's
    build directory as LIBRARY, after removing any libmmpool already there
    (a copy left by an earlier build or copied in by hand), so the wheel
    carries exactly the library just built. Returns the copy's path."""
    for name in BUNDLED_NAMES:
        stale = os.path.join(package_build_dir, name)
        if os.path.lexists(stale):
            os.remove(stale)
    dest = os.path.join(package_build_dir, LIBRARY)
    shutil.copy2(library, dest)  # follows the libmmpool.so.0 symlink
    return dest
