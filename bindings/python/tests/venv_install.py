"""Installs the package with pip into a fresh virtual environment and
checks that it works there on its own: pip compiles libmmpool from this
repository with CMake and bundles it, so `import mmpool` needs no
MMPOOL_LIBRARY, no PYTHONPATH and no system library.

Usage: python3 tests/venv_install.py WORK_DIR (CTest: python_venv_install).
WORK_DIR is emptied, then holds the venv and setuptools' build directory
(pointed there with DIST_EXTRA_CONFIG, so the source tree stays clean).
Needs Debian's python3-venv, python3-setuptools, python3-wheel, cmake and
a C compiler; installs with --no-build-isolation and --no-index, so it
never touches the network.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING_DIR = os.path.dirname(HERE)

# CHECK: runs inside the venv, from a directory outside the source tree.
CHECK = r'''
import os, re, sys, uuid
import mmpool, mmpool._lib

venv = os.path.realpath(sys.argv[1])
package = os.path.realpath(os.path.dirname(mmpool.__file__))
bundled = os.path.join(package, "libmmpool.so.0")
assert package.startswith(venv + os.sep), "mmpool imported from %s, not the venv" % package
assert os.path.realpath(mmpool._lib.path) == bundled, (
    "libmmpool loaded from %s, not from the package (%s)" % (mmpool._lib.path, bundled))
with open("/proc/self/maps") as f:
    mapped = {line.split()[-1] for line in f if "libmmpool" in line}
assert mapped == {bundled}, "libmmpool files mapped: %s" % sorted(mapped)

name = "mmpool-venv-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
payload = bytes(range(256)) * 64
try:
    with mmpool.Pool(name, slot_capacity=1 << 16, slot_count=2, create=True) as writer, \
            mmpool.Pool(name) as reader:
        writer.write(payload)
        frame = reader.read(timeout=5)
        assert frame.data == payload and frame.seq == 1, frame[1:]
finally:
    mmpool.unlink(name)
print("python_venv_install: mmpool %s from %s, libmmpool %s: round trip of %d bytes ok"
      % (mmpool.__version__, package, mmpool.version(), len(payload)))
'''


def run(cmd, **kw):
    shown = " ".join("CHECK" if "\n" in arg else arg for arg in cmd)
    print("+ " + shown, flush=True)
    status = subprocess.run(cmd, **kw).returncode
    if status != 0:
        raise SystemExit("python_venv_install: exit status %d from %s" % (status, shown))


def installed_wheel_tag(venv_python):
    """The Tag line of the installed dist-info's WHEEL file, and RECORD."""
    out = subprocess.run(
        [venv_python, "-c",
         "import importlib.metadata as m; d = m.distribution('mmpool');"
         "print(d.read_text('WHEEL')); print(d.read_text('RECORD'))"],
        check=True, capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout
    tags = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Tag:")]
    return tags, out


def main(work):
    work = os.path.abspath(work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    venv = os.path.join(work, "venv")
    run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    python = os.path.join(venv, "bin", "python")

    config = os.path.join(work, "setuptools.cfg")
    with open(config, "w") as f:
        f.write("[build]\nbuild_base = %s\n[egg_info]\negg_base = %s\n"
                % (os.path.join(work, "build"), work))
    env = {k: v for k, v in os.environ.items()
           if k not in ("MMPOOL_LIBRARY", "PYTHONPATH", "PYTHONHOME", "MMPOOL_SOURCE_DIR")}
    env["DIST_EXTRA_CONFIG"] = config
    env["PYTHONNOUSERSITE"] = "1"
    run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps",
         "--no-cache-dir", "--disable-pip-version-check", BINDING_DIR], env=env)

    tags, text = installed_wheel_tag(python)
    if len(tags) != 1 or not tags[0].startswith("py3-none-") or tags[0].endswith("-any"):
        print(text)
        raise SystemExit("python_venv_install: wheel tags %s, expected py3-none-<platform>"
                         % tags)
    if "mmpool/libmmpool.so.0," not in text:
        print(text)
        raise SystemExit("python_venv_install: the wheel's RECORD has no mmpool/libmmpool.so.0")
    print("python_venv_install: installed wheel tag %s" % tags[0], flush=True)

    del env["DIST_EXTRA_CONFIG"]
    outside = tempfile.mkdtemp(prefix="mmpool-venv-cwd-")
    try:
        run([python, "-s", "-c", CHECK, venv], env=env, cwd=outside)
    finally:
        shutil.rmtree(outside, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1]))
