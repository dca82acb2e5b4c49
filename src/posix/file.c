/*
 * POSIX pool files: opening an existing file, closing it, reading its size
 * and header, and mapping it shared (faulted in, not inherited by fork()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

int mmp__open_tracked(mmp__file **out, const char *path, int flags, mode_t mode) {
    mmp__file *f = calloc(1, sizeof *f);
    if (f == NULL || mmp__files_lock() != 0) {
        free(f);
        return MMPOOL_ESYS;
    }
    int fd = open(path, flags, mode);
    int err = errno;
    if (fd >= 0) {
        f->fd = fd;
        atomic_init(&f->event_fd, -1);
        atomic_init(&f->send_fd, -1);
        f->event_sock = f->event_line = f->mailbox_fd = -1;
        for (size_t i = 0; i < MMP__EVENT_LINES; i++) {
            f->lines[i].fd = -1;
        }
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
    mmp__file *f = NULL;
    int rc = mmp__open_tracked(&f, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
    if (rc != 0) {
        return rc;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        mmp__file_close(f);
        return MMPOOL_EFORMAT;
    }
    f->path = mmp__absolute_copy(path);
    if (f->path == NULL) {
        mmp__file_close(f);
        return MMPOOL_ESYS;
    }
    *out = f;
    return 0;
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
    mmp__event_close(f);
    mmp__files_unlock();
    free(f->path);
    free(f);
}

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
    if (addr == NULL || f->inherited) {
        return;
    }
    /* On hugetlbfs the kernel made the mapping whole huge pages (the header
     * alone, which mmpool_unlink maps, takes one), and unmaps only whole
     * ones: a shorter length is EINVAL and would leave it mapped, keeping
     * the file system busy. */
    struct statfs sfs;
    if (munmap(addr, (size_t)size) != 0 && errno == EINVAL && fstatfs(f->fd, &sfs) == 0 &&
        sfs.f_bsize > 0) {
        size_t unit = (size_t)sfs.f_bsize;
        munmap(addr, ((size_t)size + unit - 1) / unit * unit);
    }
}
