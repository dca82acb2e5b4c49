"""Runs the Python examples of the README's "## Python" section, so that
they cannot rot: each must exit 0 and print what EXPECTED says, in order.

Usage: python3 tests/readme_example.py README.md (with the environment of
the other tests: MMPOOL_LIBRARY, PYTHONPATH).
"""

import re
import subprocess
import sys

# The start of each example's output: the hello round trip, then asyncio.
EXPECTED = [
    "frame 1: b'hello, mmpool'",
    "frame 1: b'tick 0'\nframe 2: b'tick 1'\nframe 3: b'tick 2'\n",
]


def examples(readme):
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def main(path):
    with open(path, encoding="utf-8") as f:
        codes = examples(f.read())
    if len(codes) != len(EXPECTED):
        print("readme_example: %d Python examples, expected %d" % (len(codes), len(EXPECTED)),
              file=sys.stderr)
        return 1
    status = 0
    for number, (code, expected) in enumerate(zip(codes, EXPECTED), 1):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0 or not proc.stdout.startswith(expected):
            print("readme_example: the README's Python example %d failed" % number,
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
