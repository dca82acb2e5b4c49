/*
 * Who owns a pool file and who else may read it: the facts behind the
 * core's access rules (docs/guide.md, "Permissions across users").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

int mmp__file_access_get(mmp__file *f, mmp__file_access *out) {
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        return mmp__from_errno(errno);
    }
    memset(out, 0, sizeof *out);
    out->owner = st.st_uid;
    out->mode = (uint32_t)(st.st_mode & 07777);
    out->mine = st.st_uid == geteuid();
    if (f->path == NULL) {
        return 0; /* unnamed: in no directory yet */
    }
    char dir[MMP__PATH_MAX];
    struct stat ds;
    int rc = mmp__dir_of(dir, sizeof dir, f->path);
    if (rc != 0) {
        return rc;
    }
    if (stat(dir, &ds) != 0) {
        return mmp__from_errno(errno);
    }
    out->dir_owner = ds.st_uid == st.st_uid;
    out->shared_dir = (ds.st_mode & S_ISVTX) != 0 && (ds.st_mode & S_IWOTH) != 0;
    return 0;
}
