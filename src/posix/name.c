/*
 * The name of a POSIX pool file: whether a path still names it, removing a
 * name, and moving a pool's name aside to a private one (mmpool_unlink).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

int mmp__file_is_at(mmp__file *f, const char *path) {
    struct stat mine;
    struct stat there;
    if (fstat(f->fd, &mine) != 0) {
        return mmp__from_errno(errno);
    }
    if (lstat(path, &there) != 0) {
        return errno == ENOENT ? 0 : mmp__from_errno(errno);
    }
    return mine.st_dev == there.st_dev && mine.st_ino == there.st_ino;
}

int mmp__file_at_path(mmp__file *f) {
    return f->path == NULL ? 1 : mmp__file_is_at(f, f->path);
}

int mmp__path_remove(const char *path) {
    return unlink(path) == 0 ? 0 : mmp__from_errno(errno);
}

/* Renames from to to unless to exists. */
static int rename_new(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS) {
        return mmp__from_errno(errno);
    }
    /* A file system without RENAME_NOREPLACE: link never replaces either. */
    if (link(from, to) != 0) {
        return mmp__from_errno(errno);
    }
    if (unlink(from) != 0) {
        int err = errno;
        unlink(to);
        return mmp__from_errno(err);
    }
    return 0;
}

int mmp__file_move_aside(mmp__file *f, const char *path, char *out, size_t cap) {
    static _Atomic unsigned counter;
    char dir[MMP__PATH_MAX];
    int rc = mmp__dir_of(dir, sizeof dir, path);
    for (int attempt = 0; rc == 0 && attempt < 16; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int n = snprintf(out, cap, "%s/.mmpool-gone-%ld-%u-%ld", dir, (long)getpid(),
                         atomic_fetch_add(&counter, 1), (long)ts.tv_nsec);
        if (n < 0 || (size_t)n >= cap) {
            return MMPOOL_EINVAL;
        }
        rc = mmp__file_is_at(f, path);
        if (rc == 1) {
            rc = rename_new(path, out);
        } else if (rc == 0) {
            rc = MMPOOL_ENOENT;
        }
        if (rc == MMPOOL_EEXIST) {
            rc = 0; /* somebody else's name: try another */
            continue;
        }
        if (rc == 0 && mmp__file_is_at(f, out) != 1) {
            /* Between the check and the rename another file took path (its
             * name was removed without the path lock): it goes back. */
            rename_new(out, path);
            rc = MMPOOL_ENOENT;
        }
        return rc;
    }
    return rc != 0 ? rc : MMPOOL_EEXIST;
}
