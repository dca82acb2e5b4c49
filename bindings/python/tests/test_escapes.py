"""Views that escape their loan: no sequence of calls crashes the interpreter.

Each case runs in a child process, so that a crash (SIGSEGV) fails the test
instead of killing the runner. A view that outlives its loan may show later
frames' bytes, but the mapping stays until the last such view is gone, and
then goes (checked in /proc/self/maps, Linux).
"""

import os
import unittest

from tests.support import PoolTest, needs_numpy, run_child

# What every child starts with: the pool path is argv[1]; mapped() tells
# whether this process maps the pool's file (by inode).
_PRELUDE = '''
import gc, os, sys
import mmpool
path = sys.argv[1]

def mapped():
    if not os.path.exists("/proc/self/maps"):
        return "n/a"
    inode = str(os.stat(path).st_ino)
    with open("/proc/self/maps") as maps:
        return any(len(f) > 4 and f[4] == inode for f in map(str.split, maps))

def gone():
    gc.collect()
    return mapped() in (False, "n/a")

pool = mmpool.Pool(path, 4096, 1, create=True)
pool.write(b"frame one!")
'''


class EscapeTest(PoolTest):
    def run_case(self, body):
        status, out, err = run_child(_PRELUDE + body, self.path)
        self.assertEqual(status, 0, "child exit status %d\n%s" % (status, err))
        return out.split()

    @needs_numpy
    def test_a_memoryview_of_an_array_loan_survives_close(self):
        # The sequence from the issue: the name deleted in the block, so the
        # memoryview is the array's one other holder.
        out = self.run_case('''
import numpy as np
with pool.read_array_loan(np.uint8, 10) as a:
    m = memoryview(a)
    del a
pool.close()
print(bytes(m[:5]).decode(), mapped())
del m
print(gone())
''')
        self.assertEqual(out, ["frame", str(True if os.path.exists("/proc/self/maps") else "n/a"),
                               "True"])

    @needs_numpy
    def test_a_numpy_array_made_from_an_escaped_view_survives_close(self):
        out = self.run_case('''
import numpy as np
with pool.read_array_loan(np.uint8, 10) as a:
    b = np.asarray(memoryview(a))
    del a
pool.close()
print(bytes(b[:5]).decode())
del b
print(gone())
''')
        self.assertEqual(out, ["frame", "True"])

    @needs_numpy
    def test_an_escaped_view_survives_the_pool_being_collected(self):
        out = self.run_case('''
import numpy as np
def leak():
    p = mmpool.Pool(path)
    with p.read_array_loan(np.uint8, 10) as a:
        m = memoryview(a)
        del a
    return m
m = leak()
pool.close()
del pool
gc.collect()
print(bytes(m[:5]).decode())
del m
print(gone())
''')
        self.assertEqual(out, ["frame", "True"])

    @needs_numpy
    def test_an_escaped_view_of_a_write_array_loan_writes_no_unmapped_memory(self):
        # The commit goes through (the escape is not seen); writing through
        # the view afterwards changes shared bytes, never unmapped ones.
        out = self.run_case('''
import numpy as np
with pool.write_array_loan(np.uint8, 4) as a:
    a[:] = (1, 2, 3, 4)
    m = memoryview(a)
    del a
pool.close()
m[0] = 9
print(m[0])
del m
print(gone())
''')
        self.assertEqual(out, ["9", "True"])

    def test_a_memoryview_of_a_write_loan_keeps_the_loan_and_the_mapping(self):
        out = self.run_case('''
try:
    with pool.write_loan(length=4) as w:
        m = memoryview(w)
        del w
except BufferError:
    print("refused")
try:
    pool.close()
except BufferError:
    print("refused")
m[:4] = b"abcd"
del pool
gc.collect()
print(bytes(m[:4]).decode(), mapped() is not False)
del m
print(gone())
''')
        self.assertEqual(out, ["refused", "refused", "abcd", "True", "True"])

    def test_a_memoryview_of_a_read_loan_keeps_the_loan_and_the_mapping(self):
        out = self.run_case('''
try:
    with pool.read_loan() as r:
        m = memoryview(r)
        del r
except BufferError:
    print("refused")
del pool
gc.collect()
print(bytes(m[:5]).decode())
del m
print(gone())
''')
        self.assertEqual(out, ["refused", "frame", "True"])


if __name__ == "__main__":
    unittest.main()
