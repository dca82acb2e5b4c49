/*
 * Event loops: a handle's event handle (mmpool_event_handle) and the wait
 * on several pools at once (mmpool_poll). The event itself is the
 * platform's (mmp__event_*); arming it and signaling it are wake.c's and
 * slots.c's. docs/design.md "Event handles" tells why it works this way.
 */
#include "core.h"

/* Pools one mmpool_poll takes: the bits of *ready. */
#define MMP__POLL_MAX 64u

/* Gives p its event on first use; armed, and signaled if a frame is
 * already waiting. */
static int ensure_event(mmpool *p) {
    if (p->event_on) {
        return 0;
    }
    int rc = mmp__event_attach(p);
    if (rc == 0) {
        p->event_on = true;
        mmp__event_rearm(p);
    }
    return rc;
}

int mmpool_event_handle(mmpool *pool, intptr_t *out) {
    if (!mmp__usable(pool) || out == NULL) {
        return MMPOOL_EINVAL;
    }
    int rc = ensure_event(pool);
    if (rc != 0) {
        return rc;
    }
    *out = mmp__event_handle(pool->file);
    return 0;
}

/* Uses up a pending interrupt of any of the pools (all of them: one
 * ECANCELED answers every interrupt that reached this call). */
static bool take_interrupts(mmpool *const pools[], size_t count) {
    bool taken = false;
    for (size_t i = 0; i < count; i++) {
        taken |= atomic_exchange(&pools[i]->interrupt, 0) != 0;
    }
    return taken;
}

/* One look at every pool: ESTALE if one is retired (or, when force, gone
 * from its path), else 0 with the bits of those with an unread frame. */
static int look(mmpool *const pools[], size_t count, bool force, uint64_t *ready) {
    uint64_t mask = 0;
    for (size_t i = 0; i < count; i++) {
        if (mmp__stale(pools[i], force) != 0) {
            return MMPOOL_ESTALE;
        }
        if (mmp__slot_unread(pools[i])) {
            mask |= UINT64_C(1) << i;
        }
    }
    *ready = mask;
    return 0;
}

static int check_args(mmpool *const pools[], size_t count, int timeout_ms, const uint64_t *ready) {
    if (pools == NULL || ready == NULL || count == 0 || count > MMP__POLL_MAX ||
        mmp__timeout_check(timeout_ms) != 0) {
        return MMPOOL_EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        if (!mmp__usable(pools[i])) {
            return MMPOOL_EINVAL;
        }
    }
    return 0;
}

int mmpool_poll(mmpool *const pools[], size_t count, int timeout_ms, uint64_t *ready) {
    int rc = check_args(pools, count, timeout_ms, ready);
    mmp__file *files[MMP__POLL_MAX];
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = ensure_event(pools[i]);
        files[i] = pools[i]->file;
    }
    if (rc != 0) {
        return rc;
    }
    uint64_t deadline = 0;
    if (timeout_ms > 0) {
        deadline = mmp__monotonic_ns() + (uint64_t)timeout_ms * 1000000u;
    }
    bool force = false; /* a quiet slice passed: check the paths too */
    for (;;) {
        /* As for every blocking call, a pending interrupt cancels a poll
         * with a timeout even if a pool is ready. */
        if (timeout_ms != 0 && take_interrupts(pools, count)) {
            return MMPOOL_ECANCELED;
        }
        uint64_t mask = 0;
        rc = look(pools, count, force, &mask);
        if (rc != 0 || mask != 0) {
            *ready = mask;
            return rc;
        }
        if (timeout_ms == 0) {
            return MMPOOL_EAGAIN;
        }
        /* Arm every event, then look again: a frame committed before a
         * bit was set is seen by this look, one committed after signals. */
        for (size_t i = 0; i < count; i++) {
            mmp__event_arm(pools[i]);
        }
        /* An interrupt or unlink before our bits were set signaled nothing
         * (or what the arming drained): look for them too. */
        if (take_interrupts(pools, count)) {
            return MMPOOL_ECANCELED;
        }
        rc = look(pools, count, false, &mask);
        if (rc != 0 || mask != 0) {
            *ready = mask;
            return rc;
        }
        int slice;
        rc = mmp__wait_slice(deadline, &slice);
        if (rc == 0) {
            rc = mmp__event_wait(files, count, slice);
        }
        force = rc == MMPOOL_ETIMEDOUT;
        if (rc == MMPOOL_ETIMEDOUT && deadline != 0 && mmp__monotonic_ns() >= deadline) {
            return MMPOOL_ETIMEDOUT;
        }
        if (rc != 0 && rc != MMPOOL_ETIMEDOUT) {
            return rc;
        }
    }
}
