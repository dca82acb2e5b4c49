/*
 * Per-byte advisory locks of a POSIX pool file. They are open-file
 * description locks (F_OFD_SETLK), owned by the open file rather than the
 * process, and the kernel drops them when the file closes or its process dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "mmpool.h"
#include "posix.h"

static int lock_op(mmp__file *f, int cmd, short type, uint64_t byte, struct flock *fl) {
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = (off_t)byte;
    fl->l_len = 1;
    return fcntl(f->fd, cmd, fl);
}

int mmp__lock_try(mmp__file *f, uint64_t byte) {
    struct flock fl;
    if (lock_op(f, F_OFD_SETLK, F_WRLCK, byte, &fl) == 0) {
        return 0;
    }
    return errno == EAGAIN || errno == EACCES ? MMPOOL_EBUSY : mmp__from_errno(errno);
}

int mmp__lock_test(mmp__file *f, uint64_t byte) {
    /* F_OFD_GETLK reports a conflicting lock of any other open file
     * description, also one in this process, and places nothing. */
    struct flock fl;
    if (lock_op(f, F_OFD_GETLK, F_WRLCK, byte, &fl) != 0) {
        return mmp__from_errno(errno);
    }
    return fl.l_type == F_UNLCK ? 0 : MMPOOL_EBUSY;
}

void mmp__lock_release(mmp__file *f, uint64_t byte) {
    struct flock fl;
    lock_op(f, F_OFD_SETLK, F_UNLCK, byte, &fl);
}
