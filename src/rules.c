/*
 * What calls demand of their arguments: the options a caller passes to
 * open, an existing pool file before a handle attaches to it, a timeout.
 * Pure checks; calls only the platform contract.
 */
#include <string.h>

#include "core.h"

/* The permission bits a new pool may get: read and write, nothing else. A
 * set-user-ID, set-group-ID or execute bit on a file that others may write
 * through a mapping would let them plant a program that runs as its owner,
 * and the sticky bit means nothing on a file. */
#define MMP__MODE_BITS UINT32_C(0666)

/* Whether mode lets group or others read the file without writing it.
 * Whoever can open a pool file, even only for reading, can take read locks
 * on its bytes, and a held entry lock means a live handle: such a user
 * could fill the handle table, stall mmpool_unlink and keep a dead
 * reader's slots held for ever. Readers need write access anyway (pins
 * live in the file), so such a grant serves nobody, and it is refused. */
static bool grants_read_only(uint32_t mode) {
    return ((mode & 040) != 0 && (mode & 020) == 0) || ((mode & 04) != 0 && (mode & 02) == 0);
}

int mmp__timeout_check(int timeout_ms) {
    return timeout_ms < MMPOOL_WAIT_FOREVER ? MMPOOL_EINVAL : 0;
}

int mmp__options_check(const mmpool_options *o) {
    for (size_t i = 0; i < sizeof o->reserved / sizeof o->reserved[0]; i++) {
        if (o->reserved[i] != 0) {
            return MMPOOL_EINVAL;
        }
    }
    if ((o->flags & ~(uint32_t)(MMPOOL_CREATE | MMPOOL_EXCL | MMPOOL_ANY_OWNER)) != 0) {
        return MMPOOL_EINVAL;
    }
    if ((o->flags & MMPOOL_EXCL) != 0 && (o->flags & MMPOOL_CREATE) == 0) {
        return MMPOOL_EINVAL;
    }
    if (o->read_mode != MMPOOL_READ_LATEST && o->read_mode != MMPOOL_READ_FIFO) {
        return MMPOOL_EINVAL;
    }
    if ((o->mode & ~MMP__MODE_BITS) != 0 || grants_read_only(o->mode)) {
        return MMPOOL_EINVAL;
    }
    if (o->format != NULL && strlen(o->format) > MMPOOL_FORMAT_MAX) {
        return MMPOOL_EINVAL;
    }
    return 0;
}

/* The rules an existing pool file must meet before a handle attaches to
 * it (docs/guide.md, "Permissions across users"); *owner is its owner. */
int mmp__access_check(mmp__file *f, uint32_t flags, uint64_t *owner) {
    mmp__file_access a;
    int rc = mmp__file_access_get(f, &a);
    if (rc != 0) {
        return rc;
    }
    /* Its permissions were changed after creation (see grants_read_only). */
    if (grants_read_only(a.mode)) {
        return MMPOOL_EACCES;
    }
    /* Anybody may put a file at a name in a world-writable sticky directory
     * first and then read and forge the frames of whoever opens it (and cut
     * the file short under them): the rule the kernel applies to O_CREAT
     * there (fs.protected_regular), to opens of any kind. */
    if (a.shared_dir && !a.mine && !a.dir_owner && (flags & MMPOOL_ANY_OWNER) == 0) {
        return MMPOOL_EACCES;
    }
    *owner = a.owner;
    return 0;
}
