"""Runs the Python example of the README's "## Python" section, so that it
cannot rot: it must exit 0 and print the frame it read back.

Usage: python3 tests/readme_example.py README.md (with the environment of
the other tests: MMPOOL_LIBRARY, PYTHONPATH).
"""

import re
import subprocess
import sys


def example(readme):
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def main(path):
    with open(path, encoding="utf-8") as f:
        code = example(f.read())
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0 or not proc.stdout.startswith("frame 1: b'hello, mmpool'"):
        print("readme_example: the README's Python example failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
