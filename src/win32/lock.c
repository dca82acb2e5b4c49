/*
 * Per-byte locks of a pool file with LockFileEx, released by the system
 * when the handle closes or the process dies. Windows byte-range locks are
 * mandatory (ReadFile of a locked range fails), so the lock of byte B is
 * taken at MMP__WIN_LOCK_BASE + B: far past the end of any pool, where it
 * gets in the way of no read or write of the file's contents.
 */
#include "mmpool.h"
#include "win32.h"

#define MMP__WIN_LOCK_BASE (UINT64_C(1) << 62)

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

/* Takes the system's lock of byte on f's handle: 0, MMPOOL_EBUSY if
 * another handle holds it, or the translated error. */
static int lock_byte(mmp__file *f, uint64_t byte, DWORD flags) {
    OVERLAPPED o = at_byte(byte);
    if (LockFileEx(f->h, LOCKFILE_EXCLUSIVE_LOCK | flags, 0, 1, 0, &o)) {
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

int mmp__lock_try(mmp__file *f, uint64_t byte) {
    return lock(f, byte, LOCKFILE_FAIL_IMMEDIATELY);
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
    /* Windows cannot ask who holds a lock without trying to take it: the
     * lock is taken and given back at once. An owner that tries in that
     * instant sees MMPOOL_EBUSY, as if the byte had been held a moment
     * longer. Locks of f itself do not count. */
    if (held_at(f, byte) < 0 && (rc = lock_byte(f, byte, LOCKFILE_FAIL_IMMEDIATELY)) == 0) {
        unlock_byte(f, byte);
    }
    ReleaseSRWLockExclusive(&f->held_lock);
    return rc;
}
