/*
 * fork() safety. A child inherits every descriptor, and with it the open
 * file description that holds the parent's handle-table lock: a parent
 * killed while its child lives on would look alive, and its pins would never
 * be reclaimed. So the child closes its copies of every pool descriptor at
 * once (pthread_atfork), with its event sockets, and the mappings are not inherited at all
 * (MADV_DONTFORK, in file.c). A handle used in the child then reports
 * MMPOOL_EINVAL.
 *
 * This is the library's only process-wide state: the list of open pool
 * files, guarded by a mutex, and the fork handler installed once.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "posix.h"
#include "mmpool.h"

static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static mmp__file *files;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_rc;

/* Before fork: no thread may be changing the list while it is copied. */
static void before_fork(void) {
    pthread_mutex_lock(&files_lock);
}

static void after_fork_parent(void) {
    pthread_mutex_unlock(&files_lock);
}

/* In the child, only the forking thread exists; close() is safe here. The
 * records stay allocated: the child's handles still point to them. */
static void after_fork_child(void) {
    for (mmp__file *f = files; f != NULL; f = f->next) {
        if (f->fd >= 0) {
            close(f->fd);
            f->fd = -1;
        }
        /* The event socket too: its name is the parent's. */
        mmp__event_close(f);
        f->inherited = true;
    }
    files = NULL;
    pthread_mutex_unlock(&files_lock);
}

static void install(void) {
    handler_rc = pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int mmp__files_lock(void) {
    pthread_once(&handler_once, install);
    if (handler_rc != 0) {
        return MMPOOL_ESYS;
    }
    pthread_mutex_lock(&files_lock);
    return 0;
}

void mmp__files_unlock(void) {
    pthread_mutex_unlock(&files_lock);
}

void mmp__files_add(mmp__file *f) {
    f->prev = NULL;
    f->next = files;
    if (files != NULL) {
        files->prev = f;
    }
    files = f;
}

void mmp__files_remove(mmp__file *f) {
    if (f->inherited) {
        return; /* dropped from the child's list at fork */
    }
    if (f->prev != NULL) {
        f->prev->next = f->next;
    } else {
        files = f->next;
    }
    if (f->next != NULL) {
        f->next->prev = f->prev;
    }
}

bool mmp__file_inherited(const mmp__file *f) {
    return f->inherited;
}
