/*
 * The commit lock word and last_seq: the lowest steps of the slot protocol.
 * Taking, releasing and clearing the lock, and raising or repairing
 * last_seq. Calls only the platform contract: deciding that a holder is
 * dead, and waking anyone, is the business of the files above (slots.c).
 */
#include "core.h"

/* The commit lock word names its holder's entry and that holder's nonce
 * for this hold (layout.h). A holder first stores the whole value in its
 * entry's lock_mark and only then takes the lock, so a lock value is a real
 * hold only while the entry it names carries it: anything else is damage
 * (a scribble, a bit flip, a value naming a handle that is not committing),
 * which any waiter clears. Nonces count up per handle; the 26 bits wrap
 * after 2^26 holds by one entry, far more than a waiter can sleep through
 * between its two looks (see mmp__commit_lock_clear_damaged). */
uint32_t mmp__lock_holder(uint32_t value) {
    uint32_t e = value & MMP__LOCK_ENTRY_MASK;
    return e <= MMP__HANDLES ? e : 0;
}

bool mmp__commit_lock_free_from(mmpool *p, uint32_t value) {
    /* release: orders our stores under the lock before the next owner's
     * acquire. */
    return atomic_compare_exchange_strong_explicit(&p->hdr->commit_lock, &value, 0,
                                                   memory_order_release, memory_order_relaxed);
}

/* Whether the lock value seen (with an acquire load) is a real hold: it
 * names an entry, and that entry carries it in lock_mark. The holder
 * stored the mark before its acquire-release CAS put the value in the
 * lock, so our acquire load of that value makes the mark visible. */
static bool real_hold(const mmpool *p, uint32_t value) {
    uint32_t e = mmp__lock_holder(value);
    if (e == 0) {
        return false;
    }
    return atomic_load_explicit(&mmp__entry_at(p, e - 1)->lock_mark, memory_order_relaxed) == value;
}

/* A compare-and-swap from exactly the value seen: if the holder released
 * in between and the same entry took the lock again, the value differs (a
 * new nonce), so a real hold is never cleared unless that entry took the
 * lock 2^26 times between our two looks, which at a commit per hundred
 * nanoseconds is seconds of nothing but commits while this thread sits
 * between two adjacent instructions. */
bool mmp__commit_lock_clear_damaged(mmpool *p, uint32_t value) {
    return value != 0 && !real_hold(p, value) && mmp__commit_lock_free_from(p, value);
}

bool mmp__commit_lock_take(mmpool *p, uint32_t *seen) {
    uint32_t mine = p->locked;
    if (mine == 0) {
        p->nonce = (p->nonce + 1) & MMP__LOCK_NONCE_MASK;
        mine = (p->index + 1) | (p->nonce << MMP__LOCK_NONCE_SHIFT);
        atomic_store_explicit(&p->entry->lock_mark, mine, memory_order_relaxed);
        p->locked = mine;
    }
    *seen = 0;
    /* acquire: pairs with the previous owner's release, so we see its
     * last_seq. release: our mark is visible to whoever sees our value. */
    return atomic_compare_exchange_strong_explicit(&p->hdr->commit_lock, seen, mine,
                                                   memory_order_acq_rel, memory_order_acquire);
}

void mmp__commit_lock_forget(mmpool *p) {
    p->locked = 0;
    atomic_store_explicit(&p->entry->lock_mark, 0, memory_order_relaxed);
}

/* It cannot have been taken from us: a real hold is only freed by others
 * once its owner is dead. Then our mark goes. */
void mmp__commit_unlock(mmpool *p) {
    mmp__commit_lock_free_from(p, p->locked);
    mmp__commit_lock_forget(p);
}

/* With the lock held, seq is last_seq + 1 or a repair's; a compare-and-swap
 * still keeps a damaged header from being lowered by a stale value. */
bool mmp__last_seq_raise(mmpool *p, uint64_t seq) {
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    for (int race = 0; race < MMP__MAX_RACES && last < seq; race++) {
        /* release: a reader that sees last_seq >= seq also sees the slot
         * free with this seq. */
        if (atomic_compare_exchange_weak_explicit(&p->hdr->last_seq, &last, seq,
                                                  memory_order_release, memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

bool mmp__last_seq_repair(mmpool *p) {
    /* Called with the commit lock held (or taken over from a dead owner):
     * at most one commit was in flight, so at most one frame, last_seq + 1,
     * can be published but not announced. Only a descriptor whose check
     * word holds counts: a scribbled seq must not move last_seq. */
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    for (uint32_t i = 0; last != UINT64_MAX && i < p->count; i++) {
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_acquire);
        if ((state & MMP__WRITER_MASK) == 0 &&
            mmp__slot_valid(&p->slots[i], last + 1, p->capacity)) {
            return mmp__last_seq_raise(p, last + 1);
        }
    }
    return false;
}
