/*
 * POSIX pool files: path resolution, opening and creating (an unnamed file
 * linked into place), reserving storage, mapping, and per-byte advisory
 * locks that belong to an open file description (Linux OFD locks).
 *
 * Sections: paths, open/create/link, size and mapping, locks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

/* Where bare names live: tmpfs, so frames never cause disk write-back. */
#define MMP__SHM_DIR "/dev/shm/"

int mmp__from_errno(int err) {
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return MMPOOL_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return MMPOOL_EACCES;
    case EEXIST:
        return MMPOOL_EEXIST;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return MMPOOL_ENOSPC;
    case ELOOP: /* a symbolic link, refused by O_NOFOLLOW */
    case EISDIR:
    case ENXIO: /* a socket or device */
        return MMPOOL_EFORMAT;
    case ENAMETOOLONG:
    case EINVAL:
        return MMPOOL_EINVAL;
    default:
        return MMPOOL_ESYS;
    }
}

/* ---- paths ---- */

int mmp__resolve_path(char *out, size_t cap, const char *path) {
    if (path[0] == '\0') {
        return MMPOOL_EINVAL;
    }
    int n = strchr(path, '/') != NULL ? snprintf(out, cap, "%s", path)
                                      : snprintf(out, cap, "%s%s", MMP__SHM_DIR, path);
    return n < 0 || (size_t)n >= cap ? MMPOOL_EINVAL : 0;
}

/* ---- open/create/link ---- */

/* A copy of path made absolute against the working directory, so that the
 * file's name can be looked at again after a chdir(); NULL on failure. */
static char *absolute_copy(const char *path) {
    char cwd[MMP__PATH_MAX];
    bool relative = path[0] != '/';
    if (relative && getcwd(cwd, sizeof cwd) == NULL) {
        return NULL;
    }
    size_t n = (relative ? strlen(cwd) + 1 : 0) + strlen(path) + 1;
    char *copy = malloc(n);
    if (copy != NULL) {
        snprintf(copy, n, "%s%s%s", relative ? cwd : "", relative ? "/" : "", path);
    }
    return copy;
}

/* open(2) and recording the descriptor happen as one step under the list's
 * lock: a fork() in another thread must not copy a pool descriptor that the
 * child handler does not know about. */
static int open_tracked(mmp__file **out, const char *path, int flags, mode_t mode) {
    mmp__file *f = calloc(1, sizeof *f);
    if (f == NULL || mmp__files_lock() != 0) {
        free(f);
        return MMPOOL_ESYS;
    }
    int fd = open(path, flags, mode);
    int err = errno;
    if (fd >= 0) {
        f->fd = fd;
        mmp__files_add(f);
    }
    mmp__files_unlock();
    if (fd < 0) {
        free(f);
        return mmp__from_errno(err);
    }
    *out = f;
    return 0;
}

int mmp__file_open(mmp__file **out, const char *path) {
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
    mmp__file *f;
    int rc = open_tracked(&f, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (rc != 0) {
        return rc;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        mmp__file_close(f);
        return MMPOOL_EFORMAT;
    }
    f->path = absolute_copy(path);
    if (f->path == NULL) {
        mmp__file_close(f);
        return MMPOOL_ESYS;
    }
    *out = f;
    return 0;
}

int mmp__dir_of(char *dir, size_t cap, const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return snprintf(dir, cap, ".") < (int)cap ? 0 : MMPOOL_EINVAL;
    }
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= cap) {
        return MMPOOL_EINVAL;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    return 0;
}

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
    mmp__file *f;
    rc = open_tracked(&f, dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
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
    char *named = absolute_copy(path);
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

void mmp__file_close(mmp__file *f) {
    if (f == NULL) {
        return;
    }
    /* Never fails once the handler is installed, which it is: f exists. */
    mmp__files_lock();
    mmp__files_remove(f);
    if (f->fd >= 0) {
        close(f->fd);
    }
    mmp__files_unlock();
    free(f->path);
    free(f);
}

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

/* ---- size and mapping ---- */

int mmp__file_size(mmp__file *f, uint64_t *size) {
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        return mmp__from_errno(errno);
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int mmp__file_read(mmp__file *f, uint64_t offset, void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return mmp__from_errno(errno);
        }
        if (n == 0) {
            return MMPOOL_EFORMAT; /* the file ends early */
        }
        done += (size_t)n;
    }
    return 0;
}

int mmp__file_map(mmp__file *f, uint64_t size, void **addr) {
    if (size > SIZE_MAX) {
        return MMPOOL_ENOSPC;
    }
    /* MAP_POPULATE faults every page in now: a first frame into fresh pages
     * costs ten times a frame into faulted ones. Under the list's lock, so
     * that no fork() comes between mmap and madvise. */
    if (mmp__files_lock() != 0) {
        return MMPOOL_ESYS;
    }
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, f->fd, 0);
    int err = errno;
    if (p != MAP_FAILED) {
        /* A forked child gets no copy of the pool (see fork.c); this also
         * keeps fork() of a process with large pools cheap. */
        madvise(p, (size_t)size, MADV_DONTFORK);
    }
    mmp__files_unlock();
    if (p == MAP_FAILED) {
        return err == ENOMEM ? MMPOOL_ENOSPC : mmp__from_errno(err);
    }
    *addr = p;
    return 0;
}

void mmp__file_unmap(mmp__file *f, void *addr, uint64_t size) {
    /* In a forked child the address range is not ours: the mapping was
     * never inherited, and the child may have mapped something else there. */
    if (addr != NULL && !f->inherited) {
        munmap(addr, (size_t)size);
    }
}

/* ---- locks ---- */

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
