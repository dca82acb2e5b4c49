/*
 * The public reads, writes and loans, and the loop that waits between their
 * tries (sleeping and waking are wake.c's, the slot protocol slots.c's).
 */
#include <string.h>

#include "core.h"

typedef int (*mmp__attempt)(mmpool *p, void *ctx);

/* What a call may still wait: its timeout, and the deadline its first sleep
 * fixes. A write waits for a slot and then for the commit lock; both waits
 * come out of the one timeout. */
typedef struct budget {
    int timeout_ms;
    uint64_t deadline; /* monotonic ns; 0 until the call first sleeps */
} budget;

/* A pending interrupt cancels the next blocking call (timeout not 0), even
 * one that would not have had to wait. */
static int begin_call(mmpool *p, const budget *b) {
    if (b->timeout_ms != 0 && atomic_exchange(&p->interrupt, 0) != 0) {
        return MMPOOL_ECANCELED;
    }
    return 0;
}

/* One sleep within the budget: 0 after a wake-up or a slice nobody woke
 * us in (then a holder may have died, and dead entries are reclaimed),
 * MMPOOL_ETIMEDOUT once the deadline has passed, or why we cannot sleep
 * (reported rather than spinning). */
static int sleep_once(mmpool *p, const budget *b, mmp__channel c, uint32_t seen) {
    int slice;
    int rc = mmp__wait_slice(b->deadline, &slice);
    if (rc == 0) {
        rc = mmp__wait_sleep(p, c, seen, slice);
        if (rc == MMPOOL_ETIMEDOUT) {
            mmp__reclaim_dead(p);
            rc = 0;
        }
    }
    return rc;
}

/* Pause instructions between two looks at the clock while spinning. */
#define MMP__SPIN_LOOKS 64u

/*
 * Before the first sleep of a call on a handle with spin_ns: watches the
 * channel's shared state (mmp__spin_look) for up to spin_ns, never past
 * the deadline, and tries again the moment it changes. Stops at once for an
 * interrupt or a retired pool; checks the clock, and the path (at most once
 * a second), every MMP__SPIN_LOOKS pauses. Returns again if nothing came.
 */
static int spin(mmpool *p, const budget *b, int again, mmp__attempt attempt, void *ctx,
                mmp__channel c) {
    uint64_t start = mmp__monotonic_ns();
    /* Saturated: a spin_ns near 2^64 means "as long as the timeout". */
    uint64_t until = p->spin_ns > UINT64_MAX - start ? UINT64_MAX : start + p->spin_ns;
    if (b->deadline != 0 && until > b->deadline) {
        until = b->deadline;
    }
    uint64_t seen = mmp__spin_look(p, c);
    for (;;) {
        uint64_t look = seen;
        for (unsigned i = 0; i < MMP__SPIN_LOOKS && look == seen; i++) {
            mmp__cpu_pause();
            look = mmp__spin_look(p, c);
        }
        if (look != seen) {
            seen = look;
            int rc = attempt(p, ctx);
            if (rc != again) {
                return rc;
            }
        }
        if (atomic_load_explicit(&p->interrupt, memory_order_relaxed) != 0) {
            return atomic_exchange(&p->interrupt, 0) != 0 ? MMPOOL_ECANCELED : again;
        }
        if (mmp__stale(p, false) != 0) {
            return MMPOOL_ESTALE;
        }
        if (mmp__monotonic_ns() >= until) {
            return again;
        }
    }
}

/*
 * Calls attempt until it returns something other than again, spinning
 * first if the handle asks for it, then sleeping on channel c between
 * tries, within the call's budget.
 */
static int wait_loop(mmpool *p, budget *b, int again, mmp__attempt attempt, void *ctx,
                     mmp__channel c) {
    int rc = attempt(p, ctx);
    if (rc != again || b->timeout_ms == 0) {
        return rc;
    }
    if (b->deadline == 0 && b->timeout_ms != MMPOOL_WAIT_FOREVER) {
        b->deadline = mmp__monotonic_ns() + (uint64_t)b->timeout_ms * 1000000u;
    }
    if (p->spin_ns != 0) {
        rc = spin(p, b, again, attempt, ctx, c);
        if (rc != again) {
            return rc;
        }
    }
    mmp__wait_register(p, c);
    for (;;) {
        uint32_t seen = mmp__wait_look(p, c);
        rc = atomic_exchange(&p->interrupt, 0) != 0 ? MMPOOL_ECANCELED : attempt(p, ctx);
        if (rc != again) {
            break;
        }
        rc = sleep_once(p, b, c, seen);
        if (rc != 0) {
            break;
        }
    }
    mmp__wait_unregister(p, c);
    return rc;
}

/* ---- writing ---- */

static int try_slot(mmpool *p, void *ctx) {
    if (mmp__stale(p, false) != 0) {
        return MMPOOL_ESTALE;
    }
    int64_t slot = mmp__slot_claim(p);
    if (slot < 0 && mmp__slot_recover(p)) {
        /* Every slot looked held, but some holder was dead or some state
         * word damaged, and that is mended now. */
        slot = mmp__slot_claim(p);
    }
    if (slot < 0) {
        /* Nothing free may mean nobody is left on a pool that is gone. */
        return mmp__stale(p, true) != 0 ? MMPOOL_ESTALE : MMPOOL_EBUSY;
    }
    *(int64_t *)ctx = slot;
    return 0;
}

/* Claims a free slot for writing, waiting for one within the budget. */
static int wait_for_slot(mmpool *p, budget *b, int64_t *slot) {
    int rc = begin_call(p, b);
    if (rc != 0) {
        return rc;
    }
    return wait_loop(p, b, MMPOOL_EBUSY, try_slot, slot, MMP__SLOTS);
}

static int try_commit_lock(mmpool *p, void *ctx) {
    (void)ctx;
    int rc = mmp__commit_lock_try(p);
    /* A holder stopped for good must not keep us from seeing an unlink,
     * or that the file is gone from its path. */
    if (rc == MMPOOL_EBUSY && mmp__stale(p, true) != 0) {
        return MMPOOL_ESTALE;
    }
    return rc;
}

/* Publishes the claimed slot as the next frame and wakes readers and
 * writers; on failure gives it back unpublished. A live
 * handle committing at the same moment is waited for as a slot waiter
 * (every release of the commit lock notifies them), within the budget:
 * try mode gets MMPOOL_EBUSY once a brief spin is over. */
static int publish(mmpool *p, int64_t slot, size_t len, budget *b) {
    int rc = wait_loop(p, b, MMPOOL_EBUSY, try_commit_lock, NULL, MMP__SLOTS);
    if (rc == 0) {
        /* Read with the lock held (one vDSO call), so that frame times
         * never decrease with seq, whatever a writer waited for. */
        rc = mmp__slot_commit(p, slot, len, mmp__monotonic_ns());
    }
    if (rc != 0) {
        mmp__slot_abort(p, slot);
        mmp__notify_slot_freed(p);
        return rc;
    }
    if ((atomic_load_explicit(&p->entry->role, memory_order_relaxed) & MMP__ROLE_WRITE) == 0) {
        atomic_fetch_or_explicit(&p->entry->role, MMP__ROLE_WRITE, memory_order_relaxed);
    }
    /* A commit publishes a frame and also frees the slot it was written
     * in, for writers waiting on a full pool. */
    mmp__notify_all(p);
    return 0;
}

int mmpool_write(mmpool *pool, const void *data, size_t len, int timeout_ms) {
    if (!mmp__usable(pool) || (data == NULL && len != 0) || mmp__timeout_check(timeout_ms) != 0) {
        return MMPOOL_EINVAL;
    }
    if (len > pool->capacity) {
        return MMPOOL_E2BIG;
    }
    budget b = {.timeout_ms = timeout_ms, .deadline = 0};
    int64_t slot = -1; /* set by a successful wait_for_slot */
    int rc = wait_for_slot(pool, &b, &slot);
    if (rc != 0) {
        return rc;
    }
    if (len != 0) {
        mmp__copy_to_slot(mmp__slot_data(pool, slot), data, len, pool->readers_busy);
    }
    return publish(pool, slot, len, &b);
}

int mmpool_try_write(mmpool *pool, const void *data, size_t len) {
    return mmpool_write(pool, data, len, 0);
}

int mmpool_write_acquire(mmpool *pool, void **data, size_t *cap, int timeout_ms) {
    if (!mmp__usable(pool) || data == NULL || mmp__timeout_check(timeout_ms) != 0) {
        return MMPOOL_EINVAL;
    }
    if (pool->write_slot >= 0) {
        return MMPOOL_EINVAL; /* one write loan per handle */
    }
    budget b = {.timeout_ms = timeout_ms, .deadline = 0};
    int64_t slot = -1; /* set by a successful wait_for_slot */
    int rc = wait_for_slot(pool, &b, &slot);
    if (rc != 0) {
        return rc;
    }
    pool->write_slot = slot;
    *data = mmp__slot_data(pool, slot);
    if (cap != NULL) {
        *cap = (size_t)pool->capacity;
    }
    return 0;
}

int mmpool_write_commit(mmpool *pool, size_t len) {
    if (!mmp__usable(pool) || pool->write_slot < 0) {
        return MMPOOL_EINVAL;
    }
    if (len > pool->capacity) {
        return MMPOOL_E2BIG; /* the loan stays held */
    }
    int64_t slot = pool->write_slot;
    pool->write_slot = -1;
    if (mmp__stale(pool, false) != 0) {
        mmp__slot_abort(pool, slot);
        return MMPOOL_ESTALE;
    }
    /* No timeout to honour: waits while a live handle holds the commit
     * lock, until mmpool_interrupt. Unlike the other blocking calls it
     * skips begin_call: a pending interrupt is consumed (ECANCELED) only
     * if the commit has to wait, so a loan that can be published is. */
    budget b = {.timeout_ms = MMPOOL_WAIT_FOREVER, .deadline = 0};
    return publish(pool, slot, len, &b);
}

int mmpool_write_abort(mmpool *pool) {
    if (!mmp__usable(pool) || pool->write_slot < 0) {
        return MMPOOL_EINVAL;
    }
    mmp__slot_abort(pool, pool->write_slot);
    pool->write_slot = -1;
    mmp__notify_slot_freed(pool);
    return 0;
}

/* ---- reading ---- */

typedef struct read_ctx {
    void *buf; /* copy destination, or NULL for a loan */
    size_t cap;
    mmpool_frame *frame;
    mmpool_view *view; /* loan destination, or NULL for a copy */
} read_ctx;

static void mark_read(mmpool *p) {
    if ((atomic_load_explicit(&p->entry->role, memory_order_relaxed) & MMP__ROLE_READ) == 0) {
        atomic_fetch_or_explicit(&p->entry->role, MMP__ROLE_READ, memory_order_relaxed);
    }
}

/* Lets go of a frame found damaged; the cursor moves past it. */
static int skip_damaged(mmpool *p, int64_t slot, uint64_t seq) {
    mmp__slot_unpin(p, slot);
    mmp__notify_slot_freed(p);
    p->cursor = seq;
    return MMPOOL_EFORMAT;
}

/* Copies the pinned frame out and unpins it: ENOSPC if it does not fit
 * (unread, the cursor stays), EFORMAT if the copy overlapped a write. */
static int copy_out(mmpool *p, read_ctx *ctx, int64_t slot, const mmpool_frame *info) {
    if (info->len > ctx->cap) {
        mmp__slot_unpin(p, slot);
        mmp__notify_slot_freed(p);
        if (ctx->frame != NULL) {
            *ctx->frame = *info;
        }
        return MMPOOL_ENOSPC;
    }
    if (info->len != 0) {
        memcpy(ctx->buf, mmp__slot_data(p, slot), (size_t)info->len);
    }
    /* Our pin keeps writers out, unless another process damaged the state
     * word: then a writer may have claimed the slot (zeroing its seq)
     * during the copy, or even committed a new frame into it. The whole
     * descriptor is compared, not the seq alone: a damaged last_seq or a
     * seq given back can let a new frame carry the same seq, but not the
     * same length and commit time too. The fence orders the copy's loads
     * before this check, as in a seqlock. */
    atomic_thread_fence(memory_order_acquire);
    mmp__slot *d = &p->slots[slot];
    if (atomic_load_explicit(&d->seq, memory_order_relaxed) != info->seq ||
        atomic_load_explicit(&d->len, memory_order_relaxed) != info->len ||
        atomic_load_explicit(&d->time, memory_order_relaxed) != info->timestamp_ns) {
        return skip_damaged(p, slot, info->seq);
    }
    mmp__slot_unpin(p, slot);
    mmp__notify_slot_freed(p);
    return 0;
}

/* Lends the pinned frame: the pin stays until mmpool_read_release. */
static void lend(mmpool *p, read_ctx *ctx, int64_t slot, const mmpool_frame *info) {
    p->loans[slot] = info->seq;
    memset(ctx->view, 0, sizeof *ctx->view);
    ctx->view->data = mmp__slot_data(p, slot);
    ctx->view->frame = *info;
    ctx->view->reserved_[0] = (uint64_t)slot + 1;
    ctx->view->reserved_[1] = info->seq;
}

static int try_read_once(mmpool *p, void *vctx) {
    read_ctx *ctx = vctx;
    if (mmp__stale(p, false) != 0) {
        return MMPOOL_ESTALE;
    }
    uint64_t seq;
    int64_t slot = mmp__slot_pin_next(p, &seq);
    if (slot < 0) {
        /* No new frame may mean no writer is left on a pool that is gone. */
        return mmp__stale(p, true) != 0 ? MMPOOL_ESTALE : MMPOOL_EAGAIN;
    }
    /* Stable while pinned, but written by another process: a descriptor
     * that breaks the rule (mmp__slot_load) was damaged; it is skipped.
     * The frame is described by the very values checked. */
    uint64_t len, time;
    if (!mmp__slot_load(&p->slots[slot], seq, p->capacity, &len, &time)) {
        return skip_damaged(p, slot, seq);
    }
    mmpool_frame info = {.seq = seq,
                         .timestamp_ns = time,
                         .len = len,
                         .dropped = p->cursor == 0 ? 0 : seq - p->cursor - 1};
    if (ctx->view == NULL) {
        int rc = copy_out(p, ctx, slot, &info);
        if (rc != 0) {
            return rc;
        }
    } else {
        lend(p, ctx, slot, &info);
    }
    p->cursor = seq;
    mark_read(p);
    if (ctx->frame != NULL) {
        *ctx->frame = info;
    }
    return 0;
}

static int read_wait(mmpool *p, read_ctx *ctx, int timeout_ms) {
    budget b = {.timeout_ms = timeout_ms, .deadline = 0};
    int rc = begin_call(p, &b);
    if (rc != 0) {
        return rc;
    }
    rc = wait_loop(p, &b, MMPOOL_EAGAIN, try_read_once, ctx, MMP__FRAMES);
    /* Nothing to read: the event handle, if any, is unsignaled until the
     * next frame (level-style readiness, docs/guide.md "Event loops"). */
    if ((rc == MMPOOL_EAGAIN || rc == MMPOOL_ETIMEDOUT) && p->event_on) {
        mmp__event_rearm(p);
    }
    return rc;
}

int mmpool_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame, int timeout_ms) {
    if (!mmp__usable(pool) || (buf == NULL && cap != 0) || mmp__timeout_check(timeout_ms) != 0) {
        return MMPOOL_EINVAL;
    }
    read_ctx ctx = {.buf = buf, .cap = cap, .frame = frame, .view = NULL};
    return read_wait(pool, &ctx, timeout_ms);
}

int mmpool_try_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame) {
    return mmpool_read(pool, buf, cap, frame, 0);
}

int mmpool_read_acquire(mmpool *pool, mmpool_view *view, int timeout_ms) {
    if (!mmp__usable(pool) || view == NULL || mmp__timeout_check(timeout_ms) != 0) {
        return MMPOOL_EINVAL;
    }
    read_ctx ctx = {.buf = NULL, .cap = 0, .frame = NULL, .view = view};
    return read_wait(pool, &ctx, timeout_ms);
}

int mmpool_read_release(mmpool *pool, mmpool_view *view) {
    if (!mmp__usable(pool) || view == NULL) {
        return MMPOOL_EINVAL;
    }
    /* The view is the caller's memory: trust nothing in it beyond what our
     * private loan table confirms, so a stale or forged view can never
     * drop somebody else's pin. */
    uint64_t slot1 = view->reserved_[0];
    if (slot1 == 0 || slot1 > pool->count) {
        return MMPOOL_EINVAL;
    }
    int64_t slot = (int64_t)(slot1 - 1);
    if (pool->loans[slot] == 0 || pool->loans[slot] != view->reserved_[1] ||
        view->data != mmp__slot_data(pool, slot)) {
        return MMPOOL_EINVAL;
    }
    pool->loans[slot] = 0;
    mmp__slot_unpin(pool, slot);
    mmp__notify_slot_freed(pool);
    memset(view, 0, sizeof *view);
    return 0;
}

int mmpool_interrupt(mmpool *pool) {
    if (!mmp__usable(pool)) {
        return MMPOOL_EINVAL;
    }
    /* Set the flag before bumping the words (see mmp__wake_everyone).
     * Everyone sleeping on the pool wakes and looks (armed event handles
     * are signaled too); only this handle finds its flag set. */
    atomic_store(&pool->interrupt, 1);
    mmp__wake_everyone(pool->file, pool->hdr);
    return 0;
}
