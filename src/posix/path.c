/*
 * POSIX paths: where a bare pool name lives, the directory part of a path,
 * a path made absolute, and translating errno into MMPOOL_E* codes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int mmp__resolve_path(char *out, size_t cap, const char *path) {
    if (path[0] == '\0') {
        return MMPOOL_EINVAL;
    }
    int n = strchr(path, '/') != NULL ? snprintf(out, cap, "%s", path)
                                      : snprintf(out, cap, "%s%s", MMP__SHM_DIR, path);
    return n < 0 || (size_t)n >= cap ? MMPOOL_EINVAL : 0;
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

char *mmp__absolute_copy(const char *path) {
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
