/*
 * Per-byte locks of a pool file with LockFileEx, released by the system
 * when the handle closes or the process dies. Windows byte-range locks are
 * mandatory (ReadFile of a locked range fails), so the lock of byte B is
 * taken at MMP__WIN_LOCK_BASE + B: far past the end of any pool, where it
 * gets in the way of no read or write of the file's contents.
 *
 * Owners hold their bytes exclusively. Windows cannot ask whether a lock is
 * held without trying to take it, so a test takes a shared lock for an
 * instant: it fails exactly when an owner holds the byte, and an owner's
 * try that fails meanwhile tells the test apart from an owner (a shared
 * lock of its own succeeds) and tries again.
 */
#include "mmpool.h"
#include "win32.h"

#define MMP__WIN_LOCK_BASE (UINT64_C(1) << 62)
/* How long a try waits out tests of its byte in progress elsewhere: a test
 * holds its shared lock for two system calls, so this is only reached if
 * a tester stopped in between, or tests never pause. */
#define MMP__WIN_TEST_WAIT_MS 200

static OVERLAPPED at_byte(uint64_t byte) {
    uint64_t off = MMP__WIN_LOCK_BASE + byte;
    OVERLAPPED o = {.Offset = (DWORD)off, .OffsetHigh = (DWORD)(off >> 32)};
    return o;
}

/* Whether f holds byte; with held_lock taken. */
static int held_at(const mmp__file *f, uint64_t byte) {
    for (unsigned i = 0; i < f->held_count; i++) {
        if (f->held[i] == byte) {
            return (int)i;
        }
    }
    return -1;
}

/* Takes the system's lock of byte on f's handle, exclusive or shared as
 * flags say: 0, MMPOOL_EBUSY if another handle's lock is in the way, or the
 * translated error. */
static int lock_byte(mmp__file *f, uint64_t byte, DWORD flags) {
    OVERLAPPED o = at_byte(byte);
    if (LockFileEx(f->h, flags, 0, 1, 0, &o)) {
        return 0;
    }
    DWORD err = GetLastError();
    return err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING ? MMPOOL_EBUSY
                                                                  : mmp__win_error(err);
}

static void unlock_byte(mmp__file *f, uint64_t byte) {
    OVERLAPPED o = at_byte(byte);
    UnlockFileEx(f->h, 0, 1, 0, &o);
}

static int lock(mmp__file *f, uint64_t byte, DWORD flags) {
    AcquireSRWLockExclusive(&f->held_lock);
    int rc = 0;
    /* Two locks of one handle on one byte conflict on Windows; in the
     * contract they do not, so a byte held already is simply held. */
    if (held_at(f, byte) < 0) {
        if (f->held_count == MMP__WIN_HELD) {
            rc = MMPOOL_ESYS;
        } else if ((rc = lock_byte(f, byte, flags)) == 0) {
            f->held[f->held_count++] = byte;
        }
    }
    ReleaseSRWLockExclusive(&f->held_lock);
    return rc;
}

/* After an exclusive try failed: whether only shared locks, which are
 * tests in progress, are in the way. A shared lock of our own is refused
 * exactly when an owner holds the byte. */
static bool only_tested(mmp__file *f, uint64_t byte) {
    AcquireSRWLockExclusive(&f->held_lock);
    bool tested = lock_byte(f, byte, LOCKFILE_FAIL_IMMEDIATELY) == 0;
    if (tested) {
        unlock_byte(f, byte);
    }
    ReleaseSRWLockExclusive(&f->held_lock);
    return tested;
}

int mmp__lock_try(mmp__file *f, uint64_t byte) {
    ULONGLONG start = GetTickCount64();
    for (unsigned round = 0;; round++) {
        int rc = lock(f, byte, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY);
        if (rc != MMPOOL_EBUSY || !only_tested(f, byte) ||
            GetTickCount64() - start >= MMP__WIN_TEST_WAIT_MS) {
            return rc;
        }
        /* A test holds the byte for an instant: let it finish. */
        if (round < 16) {
            SwitchToThread();
        } else {
            Sleep(1);
        }
    }
}

void mmp__lock_release(mmp__file *f, uint64_t byte) {
    AcquireSRWLockExclusive(&f->held_lock);
    int i = held_at(f, byte);
    if (i >= 0) {
        unlock_byte(f, byte);
        f->held[i] = f->held[--f->held_count];
    }
    ReleaseSRWLockExclusive(&f->held_lock);
}

int mmp__lock_test(mmp__file *f, uint64_t byte) {
    AcquireSRWLockExclusive(&f->held_lock);
    int rc = 0;
    /* A shared lock, given back at once: refused exactly when an owner
     * holds the byte exclusively. An owner trying in that instant sees a
     * shared lock in its way and waits it out (mmp__lock_try). Locks of f
     * itself do not count. */
    if (held_at(f, byte) < 0 && (rc = lock_byte(f, byte, LOCKFILE_FAIL_IMMEDIATELY)) == 0) {
        unlock_byte(f, byte);
    }
    ReleaseSRWLockExclusive(&f->held_lock);
    return rc;
}
