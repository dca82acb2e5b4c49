/*
 * Waiting and waking, the layer under the slot protocol. A waiting handle
 * sets its bit in a channel's waiter mask and sleeps on the channel's
 * futex-style word; a waker bumps the word and wakes only when the mask is
 * non-zero, so a writer makes no system call while nobody waits. Event
 * handles work alike: a handle arms its event by setting its bit in
 * event_waiters, and a waker signals each armed event once and disarms it
 * (one system call per commit per armed handle, none while none is). Nothing
 * here reclaims: a waker only reports which waiters are due for a liveness
 * check, and the protocol above (mmp__notify_*) reclaims them.
 */
#include "core.h"

_Static_assert(MMP__HANDLES <= MMP__EVENT_LINES, "every entry can have a direct line");

/* Longest single sleep: waiters look again at least this often, so a holder
 * that died without waking anyone cannot leave them asleep for long. */
#define MMP__WAIT_SLICE_MS 100
/* Every this many wake-ups, a waker has the waiters it woke checked for
 * liveness: a waiter that died while registered would otherwise cost a
 * system call on every frame. */
#define MMP__WAKES_PER_CHECK 64

static _Atomic uint32_t *word_of(mmpool *p, mmp__channel c) {
    return c == MMP__FRAMES ? &p->hdr->frame_word : &p->hdr->slot_word;
}

static _Atomic uint32_t *waiters_of(mmpool *p, mmp__channel c) {
    return c == MMP__FRAMES ? &p->hdr->read_waiters : &p->hdr->write_waiters;
}

/* Wakes the waiters of one channel, if any; the caller has fenced. Returns
 * the mask woken when a liveness check is due, else 0. */
static uint32_t wake(mmpool *p, mmp__channel c) {
    uint32_t mask = atomic_load_explicit(waiters_of(p, c), memory_order_relaxed);
    if (mask == 0) {
        return 0;
    }
    /* release: a waiter that reads the new word value sees our change. */
    atomic_fetch_add_explicit(word_of(p, c), 1, memory_order_release);
    mmp__wake_all(p->file, word_of(p, c), mask);
    return ++p->wakes % MMP__WAKES_PER_CHECK == 0 ? mask : 0;
}

/* seq_cst fence before loading a waiter mask: orders our state change (a
 * commit, an unpin) before that load. The waiter fences between setting its
 * bit and re-checking the state (mmp__wait_look), so one of the two sees
 * the other. */
uint32_t mmp__wake_slot_waiters(mmpool *p) {
    atomic_thread_fence(memory_order_seq_cst);
    return wake(p, MMP__SLOTS);
}

static mmp__entry *entry_of(mmp__header *hdr, uint32_t index) {
    return (mmp__entry *)((unsigned char *)hdr + MMP__HANDLES_OFFSET) + index;
}

/* Signals and disarms every armed event; the caller has fenced. The
 * exchange makes each arming cost one signal, whoever sends it. A key is a
 * value from shared memory: a wrong one only signals some other event (a
 * spurious readiness there), or nothing. */
static void signal_events(mmp__file *f, mmp__header *hdr, bool direct) {
    if (atomic_load_explicit(&hdr->event_waiters, memory_order_relaxed) == 0) {
        return;
    }
    /* acquire: pairs with the arming handle's release, so its event_key,
     * stored before its bit, is the one loaded below. */
    uint32_t armed = atomic_exchange_explicit(&hdr->event_waiters, 0, memory_order_acquire);
    for (uint32_t i = 0; armed != 0 && i < MMP__HANDLES; i++) {
        if ((armed & ((uint32_t)1 << i)) != 0) {
            uint64_t key = atomic_load_explicit(&entry_of(hdr, i)->event_key, memory_order_relaxed);
            if (key != 0) {
                mmp__event_signal(f, i, key, direct);
            }
        }
    }
}

uint32_t mmp__wake_waiters(mmpool *p) {
    atomic_thread_fence(memory_order_seq_cst);
    /* From the handle's own thread: direct lines allowed. */
    signal_events(p->file, p->hdr, true);
    uint32_t due = wake(p, MMP__FRAMES);
    return due | wake(p, MMP__SLOTS);
}

void mmp__wake_everyone(mmp__file *f, mmp__header *hdr) {
    /* seq_cst, like the caller's store before this (a retired flag, an
     * interrupt flag): a waiter that reads the old word value checks that
     * flag afterwards and sees it; one that reads the new value does not
     * sleep. */
    atomic_fetch_add(&hdr->frame_word, 1);
    atomic_fetch_add(&hdr->slot_word, 1);
    mmp__wake_all(f, &hdr->frame_word, UINT32_MAX);
    mmp__wake_all(f, &hdr->slot_word, UINT32_MAX);
    /* As before every load of a waiter mask (mmp__wake_waiters): orders the
     * caller's flag before our look at event_waiters. */
    atomic_thread_fence(memory_order_seq_cst);
    /* Any thread (mmpool_interrupt): by name. */
    signal_events(f, hdr, false);
}

void mmp__wait_register(mmpool *p, mmp__channel c) {
    atomic_fetch_or_explicit(waiters_of(p, c), (uint32_t)1 << p->index, memory_order_relaxed);
}

void mmp__wait_unregister(mmpool *p, mmp__channel c) {
    atomic_fetch_and_explicit(waiters_of(p, c), ~((uint32_t)1 << p->index), memory_order_relaxed);
}

void mmp__wait_forget(mmpool *p, uint32_t index) {
    uint32_t mask = ~((uint32_t)1 << index);
    atomic_fetch_and_explicit(&p->hdr->read_waiters, mask, memory_order_relaxed);
    atomic_fetch_and_explicit(&p->hdr->write_waiters, mask, memory_order_relaxed);
    atomic_fetch_and_explicit(&p->hdr->event_waiters, mask, memory_order_relaxed);
    atomic_store_explicit(&entry_of(p->hdr, index)->event_key, 0, memory_order_relaxed);
}

int mmp__event_attach(mmpool *p) {
    uint64_t key;
    int rc = mmp__event_open(p->file, &key);
    if (rc == 0) {
        /* Published to wakers by the release of our bit in
         * mmp__event_arm, which comes later. */
        atomic_store_explicit(&p->entry->event_key, key, memory_order_relaxed);
    }
    return rc;
}

void mmp__event_arm(mmpool *p) {
    mmp__event_clear(p->file);
    /* release: a waker that sees the bit sees our event_key too. */
    atomic_fetch_or_explicit(&p->hdr->event_waiters, (uint32_t)1 << p->index, memory_order_release);
    /* Like a waiter's: orders the bit before the caller's look for a
     * frame; a committer fences between publishing and loading the mask,
     * so either it signals us or we see its frame. */
    atomic_thread_fence(memory_order_seq_cst);
}

uint32_t mmp__wait_look(mmpool *p, mmp__channel c) {
    atomic_thread_fence(memory_order_seq_cst); /* see mmp__wake_slot_waiters */
    return atomic_load_explicit(word_of(p, c), memory_order_acquire);
}

int mmp__wait_slice(uint64_t deadline, int *slice_ms) {
    *slice_ms = MMP__WAIT_SLICE_MS;
    if (deadline == 0) {
        return 0;
    }
    uint64_t now = mmp__monotonic_ns();
    if (now >= deadline) {
        return MMPOOL_ETIMEDOUT;
    }
    uint64_t left_ms = (deadline - now + 999999u) / 1000000u;
    if (left_ms < (uint64_t)*slice_ms) {
        *slice_ms = (int)left_ms;
    }
    return 0;
}

int mmp__wait_sleep(mmpool *p, mmp__channel c, uint32_t seen, int slice_ms) {
    return mmp__wait(p->file, word_of(p, c), seen, p->index, slice_ms);
}
