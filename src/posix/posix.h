/* What the POSIX backend's files share: the open-file record, the list of
 * open files that fork.c closes in a child, and the helpers of path.c and
 * file.c that other files call. */
#ifndef MMP_POSIX_H
#define MMP_POSIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "../platform.h"

struct mmp__file {
    int fd;                 /* -1 once closed in a forked child */
    char *path;             /* absolute path it was opened or named at;
                               NULL while unnamed */
    bool inherited;         /* this process got the record through fork() */
    _Atomic int event_fd;   /* the handle's event socket, -1 if none
                               (event.c); atomic: mmpool_interrupt reads it
                               from another thread */
    uint64_t event_key;     /* its key, once event_fd is set */
    _Atomic int send_fd;    /* socket that signals other events, -1 until
                               first used */
    struct mmp__file *prev; /* the list of open files (fork.c) */
    struct mmp__file *next;
};

/*
 * The list of open files and its lock. Whatever creates or destroys a pool
 * descriptor or mapping does so while holding the lock, so that a fork() in
 * another thread sees either none of it or all of it, recorded.
 * mmp__files_lock installs the fork handler on first use; MMPOOL_ESYS if
 * that is impossible (then nothing is locked).
 */
int mmp__files_lock(void);
void mmp__files_unlock(void);
/* Closes f's event sockets, if any (event.c); with the lock held. */
void mmp__event_close(mmp__file *f);
/* Add f to, or remove it from, the list; with the lock held. */
void mmp__files_add(mmp__file *f);
void mmp__files_remove(mmp__file *f);

/* Translates errno after a failed file operation into MMPOOL_E* (path.c). */
int mmp__from_errno(int err);
/* The directory part of path into dir (cap bytes): "." if it has none. */
int mmp__dir_of(char *dir, size_t cap, const char *path);
/* A malloc'd copy of path made absolute against the working directory, so
 * that the file's name can be looked at again after a chdir(); NULL on
 * failure. */
char *mmp__absolute_copy(const char *path);

/*
 * open(2) of path with flags and mode into a new record (file.c). Opening
 * and recording the descriptor happen as one step under the list's lock: a
 * fork() in another thread must not copy a pool descriptor that the child
 * handler does not know about.
 */
int mmp__open_tracked(mmp__file **out, const char *path, int flags, mode_t mode);

#endif /* MMP_POSIX_H */
