"""Who owns a pool: stats().owner and .created, the owner rule for pools in
world-writable sticky directories, any_owner=True, and the MMPOOL_EACCES
message that names the owner."""

import ctypes
import errno
import os
import shutil
import tempfile
import unittest

import mmpool
from mmpool import _lib
from tests.support import PoolTest, run_child

try:
    import pwd
except ImportError:  # Windows
    pwd = None

# A uid that no account uses, for the squatter: its pools belong to nobody
# the test knows, and the message cannot name it.
SQUATTER_UID = 64125

_CREATE_AS_SQUATTER = (
    "import sys, mmpool\n"
    "with mmpool.Pool(sys.argv[1], 4096, 2, create=True, mode=0o666) as p:\n"
    "    p.write(b'forged')\n"
    "    print(p.stats().owner, p.stats().created)\n"
)


def _become_squatter():
    os.setgroups([])
    os.setgid(SQUATTER_UID)
    os.setuid(SQUATTER_UID)


class OwnerStatsTest(PoolTest):
    def test_structs_have_the_headers_sizes_and_offsets(self):
        self.assertEqual(ctypes.sizeof(_lib.Stats), 120)
        self.assertEqual((_lib.Stats.owner.offset, _lib.Stats.created.offset), (88, 96))
        self.assertEqual(ctypes.sizeof(_lib.Info), 160)
        self.assertEqual(_lib.Info.owner.offset, 128)

    def test_any_owner_is_the_flag_of_the_header(self):
        self.assertEqual(mmpool.ANY_OWNER, 1 << 2)

    def test_stats_give_the_callers_uid_and_whether_this_handle_created_the_pool(self):
        creator = self.create()
        adopter = self.adopt()
        also_create = self.create()  # create=True on a pool that is there: adopts it
        self.assertEqual(creator.stats().owner, os.geteuid())
        self.assertEqual(adopter.stats().owner, os.geteuid())
        self.assertIs(creator.stats().created, True)
        self.assertIs(adopter.stats().created, False)
        self.assertIs(also_create.stats().created, False)

    def test_any_owner_opens_the_callers_own_pool_as_usual(self):
        self.create().write(b"x")
        pool = self.adopt(any_owner=True)
        self.assertEqual(pool.read(timeout=0).data, b"x")
        self.assertEqual(pool.stats().owner, os.geteuid())

    def test_stats_built_from_the_first_five_fields_still_work(self):
        st = mmpool.Stats(4096, 3, "latest", 0, "")
        self.assertEqual((st.owner, st.created), (0, False))


@unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0,
                     "needs root, to make a pool as another uid (CI runs as root)")
class SquatterTest(unittest.TestCase):
    """Another user put a pool at the name first, in a directory like
    /dev/shm (world-writable, sticky, owned by root)."""

    def setUp(self):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = tempfile.mkdtemp(prefix="mmpool-py-sticky-", dir=base)
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o1777)
        self.path = os.path.join(self.dir, "cam0")
        status, out, err = run_child(_CREATE_AS_SQUATTER, self.path,
                                     preexec_fn=_become_squatter)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.split(), [str(SQUATTER_UID), "True"])
        self.assertEqual(os.stat(self.path).st_uid, SQUATTER_UID)

    def test_another_users_pool_in_a_sticky_directory_is_refused(self):
        for create in (False, True):
            with self.subTest(create=create):
                with self.assertRaises(PermissionError) as ctx:
                    mmpool.Pool(self.path, 4096, 2, create=create)
                exc = ctx.exception
                self.assertIsInstance(exc, mmpool.AccessError)
                self.assertEqual((exc.code, exc.name), (mmpool.EACCES, "MMPOOL_EACCES"))
        self.assertEqual(os.stat(self.path).st_uid, SQUATTER_UID)  # not replaced either

    def test_the_refusal_names_the_owner(self):
        with self.assertRaises(mmpool.AccessError) as ctx:
            mmpool.Pool(self.path)
        self.assertTrue(str(ctx.exception).endswith(
            "(%s: owned by uid %d)" % (self.path, SQUATTER_UID)), str(ctx.exception))
        self.assertEqual(ctx.exception.errno, errno.EACCES)

    def test_the_refusal_names_the_owner_by_name_when_the_system_knows_it(self):
        try:
            name = pwd.getpwuid(65534).pw_name
        except KeyError:
            self.skipTest("uid 65534 has no name here")
        os.chown(self.path, 65534, 65534)
        with self.assertRaises(mmpool.AccessError) as ctx:
            mmpool.Pool(self.path)
        self.assertIn("owned by uid 65534 (%s)" % name, str(ctx.exception))

    def test_any_owner_opens_it_and_stats_name_the_owner(self):
        with mmpool.Pool(self.path, any_owner=True) as pool:
            self.assertEqual(pool.read(timeout=0).data, b"forged")
            st = pool.stats()
            self.assertEqual((st.owner, st.created), (SQUATTER_UID, False))
        with mmpool.Pool(self.path, 4096, 2, create=True, any_owner=True) as pool:
            self.assertIs(pool.stats().created, False)

    def test_a_pool_of_the_directorys_owner_opens_without_any_owner(self):
        os.chown(self.dir, SQUATTER_UID, SQUATTER_UID)
        with mmpool.Pool(self.path) as pool:
            self.assertEqual(pool.stats().owner, SQUATTER_UID)


if __name__ == "__main__":
    unittest.main()
