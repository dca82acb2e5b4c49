/* What the POSIX backend's files share: the open-file record, and the list
 * of open files that fork.c closes in a child. */
#ifndef MMP_POSIX_H
#define MMP_POSIX_H

#include <stdbool.h>

#include "../platform.h"

struct mmp__file {
    int fd;                 /* -1 once closed in a forked child */
    bool inherited;         /* this process got the record through fork() */
    struct mmp__file *prev; /* the list of open files (fork.c) */
    struct mmp__file *next;
};

/* Adds f to the list of open files; returns MMPOOL_ESYS if the fork handler
 * cannot be installed. */
int mmp__fork_track(mmp__file *f);
/* Removes f from the list. */
void mmp__fork_untrack(mmp__file *f);

#endif /* MMP_POSIX_H */
