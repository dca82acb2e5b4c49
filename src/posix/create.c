/*
 * Creating a POSIX pool file: an unnamed file (O_TMPFILE) in the target
 * directory, sized and reserved, then linked into place by a link that
 * never replaces, so a pool file only ever appears complete.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

int mmp__file_reserve(mmp__file *f, uint64_t size) {
    /* fallocate(2), not posix_fallocate(3): where the file system cannot
     * reserve, glibc's fallback writes a byte into every block, which
     * could overwrite a frame another process is writing. Without support
     * the pool still works; only the early ENOSPC is lost. */
    int rc;
    do {
        rc = fallocate(f->fd, 0, 0, (off_t)size);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno == EOPNOTSUPP) {
        return 0;
    }
    return rc == 0 ? 0 : mmp__from_errno(errno);
}

int mmp__file_create_unnamed(mmp__file **out, const char *path, uint64_t size, uint32_t mode) {
    char dir[MMP__PATH_MAX];
    int rc = mmp__dir_of(dir, sizeof dir, path);
    if (rc != 0) {
        return rc;
    }
    /* An unnamed file: a creator killed before linking leaves nothing. */
    mmp__file *f = NULL;
    rc = mmp__open_tracked(&f, dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
    if (rc != 0) {
        return rc;
    }
    /* The umask must not narrow the mode the caller asked for. */
    if (fchmod(f->fd, (mode_t)mode) != 0 || ftruncate(f->fd, (off_t)size) != 0) {
        rc = mmp__from_errno(errno);
    } else {
        rc = mmp__file_reserve(f, size);
    }
    if (rc != 0) {
        mmp__file_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* Gives the unnamed file f the name path; never replaces. */
static int link_unnamed(mmp__file *f, const char *path) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    /* linkat never replaces an existing name: EEXIST if someone was first. */
    if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
        return 0;
    }
    int err = errno;
    if (err == ENOENT && access("/proc/self/fd", F_OK) != 0) {
        /* No /proc: AT_EMPTY_PATH does the same, given the privilege. */
        if (linkat(f->fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) {
            return 0;
        }
        err = errno;
    }
    return mmp__from_errno(err);
}

int mmp__file_link(mmp__file *f, const char *path) {
    char *named = mmp__absolute_copy(path);
    if (named == NULL) {
        return MMPOOL_ESYS;
    }
    int rc = link_unnamed(f, path);
    if (rc == 0) {
        free(f->path);
        f->path = named;
    } else {
        free(named);
    }
    return rc;
}
