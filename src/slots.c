/*
 * The slot protocol as the public calls use it: claiming, taking the commit
 * lock, picking and pinning the next frame, each retried against other
 * processes' races, and the repair of what dead or damaging processes left
 * behind: reclaiming a dead handle's entry and its holds, mending state
 * words, catching last_seq up. The single steps are state.c's (slot state
 * words) and commit.c's (commit lock, last_seq); waking is wake.c's. See
 * docs/format.md for the protocol.
 */
#include "core.h"

/* How long a held commit lock is watched before asking whether its owner
 * is alive, and before try mode gives up with MMPOOL_EBUSY: a running
 * committer holds the lock for a handful of stores, so a longer hold means
 * it was preempted, stopped or killed. The spin pauses the CPU between
 * looks and yields now and then, so a holder preempted on our core gets
 * to finish; tens of microseconds cover a short preemption, while a holder
 * that stays costs a try call no more than that. */
#define MMP__COMMIT_SPIN_NS 50000u
/* Looks between two readings of the clock (and two yields). */
#define MMP__COMMIT_LOOKS 64u

int64_t mmp__slot_claim(mmpool *p) {
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        int64_t slot;
        mmp__claim_result r = mmp__slot_claim_once(p, &slot);
        if (r == MMP__CLAIM_TAKEN) {
            return slot;
        }
        if (r == MMP__CLAIM_NONE_FREE) {
            break;
        }
        if (r == MMP__CLAIM_GAVE_BACK) {
            /* The slot, holding the newest frame, looked held for a
             * moment: a writer may have given up on it meanwhile, and a
             * reader may have looked past the frame and gone to sleep or
             * armed its event. Both are told. */
            mmp__notify_all(p);
        }
    }
    return -1;
}

/* Clears value from the lock if it is not a real hold, and wakes those
 * waiting for the lock (they sleep as slot waiters). */
static void clear_if_damaged(mmpool *p, uint32_t value) {
    if (mmp__commit_lock_clear_damaged(p, value)) {
        mmp__notify_slot_freed(p);
    }
}

/* The lock holds owner, or something that names no live handle: a damaged
 * value is cleared, a dead owner's entry reclaimed (which frees the lock). A
 * live owner keeps it: the kernel decides through its entry lock, as for
 * every other hold. */
static void free_if_abandoned(mmpool *p, uint32_t owner) {
    clear_if_damaged(p, owner);
    if (mmp__lock_holder(owner) != 0) {
        mmp__reclaim_entry(p, mmp__lock_holder(owner) - 1);
    }
}

/* Watches the lock for MMP__COMMIT_SPIN_NS: true once we took it. */
static bool commit_lock_spin(mmpool *p, uint32_t *owner) {
    uint32_t judged = 0; /* the last value looked at for damage */
    uint64_t until = 0;
    *owner = 0;
    for (unsigned look = 1;; look++) {
        /* Only tried when the lock looked free, so waiters do not bounce
         * the line while it is held. */
        if (*owner == 0 && mmp__commit_lock_take(p, owner)) {
            return true;
        }
        if (*owner != judged) {
            judged = *owner;
            clear_if_damaged(p, *owner);
        }
        if (look % MMP__COMMIT_LOOKS == 0) {
            uint64_t now = mmp__monotonic_ns();
            if (until == 0) {
                until = now + MMP__COMMIT_SPIN_NS;
            } else if (now >= until) {
                return false;
            }
            mmp__yield();
        } else {
            mmp__cpu_pause();
        }
        /* acquire: see real_hold in commit.c. */
        *owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    }
}

int mmp__commit_lock_try(mmpool *p) {
    uint32_t owner;
    if (commit_lock_spin(p, &owner)) {
        return 0;
    }
    /* Held longer than a commit takes. */
    free_if_abandoned(p, owner);
    if (mmp__commit_lock_take(p, &owner)) {
        return 0;
    }
    mmp__commit_lock_forget(p);
    return MMPOOL_EBUSY;
}

/* A published frame lies beyond last_seq. If a committer holds the lock,
 * reclaim it if it is dead (that repairs last_seq); if nobody does,
 * last_seq was left behind or damaged: repair it under the lock. */
static void catch_up_last_seq(mmpool *p) {
    /* acquire: see real_hold in commit.c. */
    uint32_t owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    if (owner != 0) {
        free_if_abandoned(p, owner);
        return;
    }
    if (!mmp__commit_lock_take(p, &owner)) {
        mmp__commit_lock_forget(p);
        return;
    }
    bool rose = mmp__last_seq_repair(p);
    mmp__commit_unlock(p);
    /* Frame waiters only if last_seq rose (else every reader that found
     * nothing would wake all the others, over and over); writers, which
     * may have started waiting for the lock meanwhile, in any case. */
    if (rose) {
        mmp__notify_all(p);
    } else {
        mmp__notify_slot_freed(p);
    }
}

int64_t mmp__slot_pin_next(mmpool *p, uint64_t *seq) {
    bool caught_up = false;
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        uint64_t want;
        bool beyond_last = false;
        int64_t slot = mmp__slot_pick(p, &want, &beyond_last);
        if (slot < 0 && beyond_last && !caught_up) {
            /* Usually a commit that finished during our scan; otherwise a
             * committer died between its two stores. Look once more. */
            caught_up = true;
            catch_up_last_seq(p);
            continue;
        }
        if (slot < 0) {
            return -1;
        }
        if (mmp__slot_pin(p, slot, want)) {
            *seq = want;
            return slot;
        }
    }
    return -1;
}

bool mmp__slot_recover(mmpool *p) {
    uint32_t holders;
    bool freed = mmp__slot_mend(p, &holders);
    if (freed) {
        /* Mending may have uncovered a frame that damage hid from readers. */
        mmp__notify_all(p);
    }
    for (uint32_t i = 0; i < MMP__HANDLES; i++) {
        if ((holders & ((uint32_t)1 << i)) != 0) {
            freed |= mmp__reclaim_entry(p, i);
        }
    }
    return freed;
}

bool mmp__reclaim_entry(mmpool *p, uint32_t index) {
    if (index >= MMP__HANDLES || index == p->index) {
        return false;
    }
    /* Holding the entry's lock while clearing keeps a process that attaches
     * to the entry meanwhile from having its fresh pins cleared. */
    uint64_t byte = mmp__entry_lock_byte(index);
    if (mmp__lock_try(p->file, byte) != 0) {
        return false; /* a live handle owns it */
    }
    mmp__entry *e = mmp__entry_at(p, index);
    mmp__slot_clear_entry(p, index);
    atomic_store_explicit(&e->role, 0, memory_order_relaxed);
    atomic_store_explicit(&e->state, MMP__ENTRY_FREE, memory_order_release);
    mmp__lock_release(p->file, byte);
    /* Slots came free, and a repaired last_seq may have made a frame
     * visible. */
    mmp__notify_all(p);
    return true;
}

void mmp__reclaim_dead(mmpool *p) {
    for (uint32_t i = 0; i < MMP__HANDLES; i++) {
        /* Only attached entries can hold anything; skipping free ones saves
         * a system call each. */
        if (atomic_load_explicit(&mmp__entry_at(p, i)->state, memory_order_relaxed) !=
            MMP__ENTRY_FREE) {
            mmp__reclaim_entry(p, i);
        }
    }
}

/* Reclaims the entries in mask (waiters due for a liveness check) that
 * belong to no live handle. */
static void reclaim_mask(mmpool *p, uint32_t mask) {
    for (uint32_t i = 0; mask != 0 && i < MMP__HANDLES; i++) {
        if ((mask & ((uint32_t)1 << i)) != 0) {
            mmp__reclaim_entry(p, i);
        }
    }
}

void mmp__notify_slot_freed(mmpool *p) {
    reclaim_mask(p, mmp__wake_slot_waiters(p));
}

void mmp__notify_all(mmpool *p) {
    reclaim_mask(p, mmp__wake_waiters(p));
}

uint64_t mmp__spin_look(mmpool *p, mmp__channel c) {
    /* acquire: a change seen here is followed by a try that must see what
     * the changer published. */
    if (c == MMP__FRAMES) {
        return atomic_load_explicit(&p->hdr->last_seq, memory_order_acquire);
    }
    uint64_t fold = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_acquire);
        fold = ((fold << 7) | (fold >> 57)) ^ state;
    }
    return fold;
}

bool mmp__slot_unread(mmpool *p) {
    uint64_t seq;
    bool beyond_last = false;
    if (mmp__slot_pick(p, &seq, &beyond_last) >= 0) {
        return true;
    }
    /* A frame beyond last_seq is readable only once a read can repair
     * last_seq: when it is the next one (last_seq + 1, all a repair
     * raises) and no live committer holds the lock (one that does will
     * announce it itself; a stopped one must not make every reader's event
     * fire for nothing, again and again). A value naming no live entry is
     * damage or a dead owner, which the read clears. */
    if (!beyond_last || !mmp__slot_next_published(p)) {
        return false;
    }
    uint32_t owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    uint32_t holder = mmp__lock_holder(owner);
    return holder == 0 || holder > MMP__HANDLES ||
           mmp__lock_test(p->file, mmp__entry_lock_byte(holder - 1)) != MMPOOL_EBUSY;
}

void mmp__event_rearm(mmpool *p) {
    mmp__event_arm(p);
    /* Not for a pending interrupt: a read that does not wait neither sees
     * nor uses one, so an event loop reading until MMPOOL_EAGAIN would be
     * woken again and again. The interrupt signaled the armed event once
     * when it came; mmpool_poll looks for it itself. */
    if (mmp__slot_unread(p) || atomic_load_explicit(&p->hdr->retired, memory_order_acquire) != 0) {
        mmp__event_signal_self(p->file);
    }
}
