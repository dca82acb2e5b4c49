/*
 * Waiting on a 32-bit word in the shared mapping: Linux futexes, keyed on
 * the physical page (not FUTEX_PRIVATE), so any process mapping the file
 * can wake any other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../platform.h"
#include "mmpool.h"

int mmp__wait(mmp__file *f, _Atomic uint32_t *word, uint32_t expected, uint32_t entry,
              int timeout_ms) {
    (void)f;
    (void)entry;
    struct timespec rel = {.tv_sec = timeout_ms / 1000,
                           .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    /* FUTEX_WAIT's timeout is relative, measured on CLOCK_MONOTONIC. */
    long rc = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &rel, NULL, 0);
    if (rc == 0 || errno == EAGAIN || errno == EINTR) {
        /* EAGAIN (the word changed) and EINTR are wake-ups like any other:
         * the caller checks its condition again. */
        return 0;
    }
    /* EFAULT, EINVAL, ENOSYS: the wait cannot work, and retrying would
     * only spin. */
    return errno == ETIMEDOUT ? MMPOOL_ETIMEDOUT : MMPOOL_ESYS;
}

void mmp__wake_all(mmp__file *f, _Atomic uint32_t *word, uint32_t entries) {
    (void)f;
    (void)entries;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
