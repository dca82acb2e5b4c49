/*
 * The slot protocol. Each slot has one 64-bit state word: bits 0..31 are
 * pins (bit i: handle-table entry i holds the frame), bits 32..39 the entry
 * index + 1 of a writer holding the slot. Every change of ownership is one
 * compare-and-swap on that word, so a pin and a claim can never both win.
 *
 *   free (0) --claim--> writing (writer) --commit--> free, seq = s
 *   free, seq = s --pin--> pinned (pins) --unpin--> free, seq = s
 *
 * A slot's seq, len and time change only while a writer holds the slot, and
 * are read only while the reader holds a pin (which excludes writers), so a
 * pinned frame is stable. Everything read from shared memory before the pin
 * is only a hint and is checked again after it.
 */
#include "core.h"

/* A hostile process flipping state words could otherwise keep a CAS loop
 * spinning forever; after this many lost races we report "nothing found". */
#define MMP__MAX_RACES 1000

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

static uint64_t writer_field(uint64_t state) {
    return (state & MMP__WRITER_MASK) >> MMP__WRITER_SHIFT;
}

/* Whether a reader may pin a slot in this state: no writer holds it and
 * nothing in it is damaged. The pick applies the same rule as the pin, so
 * a read never chooses a slot that it cannot pin. */
static bool pinnable(uint64_t state) {
    return (state & (MMP__WRITER_MASK | MMP__STATE_RESERVED)) == 0;
}

/* Clears the reserved bits of slot i's state word, and returns the word as
 * it is then. Only reserved bits: a writer field naming no entry may be a
 * live writer's scribbled claim, and clearing it would let a second writer
 * into that slot (mmp__slot_recover decides on those). seq stays: a frame
 * never committed there fails its check word, and zeroing it could wipe a
 * frame that a writer committed after another repairer cleared the same
 * bits. */
static uint64_t repair_reserved(mmpool *p, uint32_t i, uint64_t state) {
    uint64_t junk = state & MMP__STATE_RESERVED;
    /* release: the slot may come free by this, like by an unpin. */
    if (junk != 0 &&
        atomic_compare_exchange_strong_explicit(&p->slots[i].state, &state, state & ~junk,
                                                memory_order_release, memory_order_relaxed)) {
        return state & ~junk;
    }
    return state; /* unchanged, or what another process made of it */
}

int64_t mmp__slot_claim(mmpool *p) {
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        /* Oldest free slot: empty slots have seq 0 and go first. */
        int64_t best = -1;
        uint64_t best_seq = UINT64_MAX;
        for (uint32_t i = 0; i < p->count; i++) {
            uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_relaxed);
            if ((state & MMP__STATE_RESERVED) != 0) {
                /* Damaged by another process: readers pass the slot over,
                 * and every writer that meets it mends it. */
                state = repair_reserved(p, i, state);
            }
            if (state != 0) {
                continue;
            }
            uint64_t seq = atomic_load_explicit(&p->slots[i].seq, memory_order_relaxed);
            if (best < 0 || seq < best_seq) {
                best = i;
                best_seq = seq;
            }
        }
        if (best < 0) {
            break;
        }
        /* Record the claim in our entry before making it: a repairer that
         * finds this slot's writer field damaged then sees that a live
         * handle may be writing it, and leaves the field alone. */
        atomic_store_explicit(&p->entry->claim, (uint32_t)best + 1, memory_order_relaxed);
        uint64_t expect = 0;
        /* acquire: pairs with the release of the last reader's unpin, so
         * its copy out of the slot is complete before we overwrite it.
         * release: orders the record above before the claim, for a
         * repairer that reads our writer value (or a scribble over it). */
        if (atomic_compare_exchange_strong_explicit(&p->slots[best].state, &expect, p->writer,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            /* Between scan and claim another writer may have claimed,
             * filled and committed this slot: the state is 0 again, but
             * the slot now holds the newest frame, not the one we chose.
             * Give it back untouched and choose again. */
            if (atomic_load_explicit(&p->slots[best].seq, memory_order_relaxed) != best_seq) {
                mmp__slot_abort(p, best);
                mmp__notify_slot_freed(p);
                continue;
            }
            /* The frame that was here is gone from this moment. A reader
             * that chose this slot before our claim cannot pin it until we
             * commit or abort, and then finds another seq (or 0) and
             * looks again. */
            atomic_store_explicit(&p->slots[best].seq, 0, memory_order_relaxed);
            /* Makes seq 0 visible before any of the new data, as a seqlock
             * writer does: a copy that a damaged state word let overlap
             * with this write then sees the seq change. Free on x86. */
            atomic_thread_fence(memory_order_release);
            return best;
        }
    }
    atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
    return -1;
}

/* Gives slot back if its writer field still names us: one compare-and-swap
 * from the value we see, so a slot that damage handed to someone else is
 * never freed by us. release: our writes to the slot happen before the next
 * owner's acquire. False if the slot is no longer ours. */
static bool release_claim(mmpool *p, int64_t slot) {
    _Atomic uint64_t *word = &p->slots[slot].state;
    uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        if ((state & MMP__WRITER_MASK) != p->writer) {
            return false;
        }
        /* Pins and reserved bits cannot coexist with our claim: damage,
         * dropped with it. */
        if (atomic_compare_exchange_weak_explicit(word, &state, 0, memory_order_release,
                                                  memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

/* The commit lock word names its holder's entry and that holder's nonce
 * for this hold (layout.h). A holder first stores the whole value in its
 * entry's lock_mark and only then takes the lock, so a lock value is a real
 * hold only while the entry it names carries it: anything else is damage
 * (a scribble, a bit flip, a value naming a handle that is not committing),
 * which any waiter clears. Nonces count up per handle; the 26 bits wrap
 * after 2^26 holds by one entry, far more than a waiter can sleep through
 * between its two looks (see clear_if_damaged). */
static uint32_t lock_entry(uint32_t value) {
    return value & MMP__LOCK_ENTRY_MASK;
}

static const mmp__entry *entry_at(const mmpool *p, uint32_t index) {
    return (const mmp__entry *)(p->base + MMP__HANDLES_OFFSET) + index;
}

/* Frees the commit lock if it still holds value, and wakes its waiters
 * (they sleep as slot waiters). Every release is this compare-and-swap:
 * our own value at the end of a commit, or a value nobody can hold any
 * more. release: orders our stores under the lock before the next owner's
 * acquire. */
static bool commit_unlock_from(mmpool *p, uint32_t value) {
    return atomic_compare_exchange_strong_explicit(&p->hdr->commit_lock, &value, 0,
                                                   memory_order_release, memory_order_relaxed);
}

/* Whether the lock value seen (with an acquire load) is a real hold: it
 * names an entry, and that entry carries it in lock_mark. The holder
 * stored the mark before its acquire-release CAS put the value in the
 * lock, so our acquire load of that value makes the mark visible. */
static bool real_hold(const mmpool *p, uint32_t value) {
    uint32_t e = lock_entry(value);
    if (e == 0 || e > MMP__HANDLES) {
        return false;
    }
    return atomic_load_explicit(&entry_at(p, e - 1)->lock_mark, memory_order_relaxed) == value;
}

/* Clears value from the lock if it is not a real hold. A compare-and-swap
 * from exactly the value seen: if the holder released in between and the
 * same entry took the lock again, the value differs (a new nonce), so a
 * real hold is never cleared unless that entry took the lock 2^26 times
 * between our two looks, which at a commit per hundred nanoseconds is
 * seconds of nothing but commits while this thread sits between two
 * adjacent instructions. */
static void clear_if_damaged(mmpool *p, uint32_t value) {
    if (value != 0 && !real_hold(p, value) && commit_unlock_from(p, value)) {
        mmp__notify_slot_freed(p);
    }
}

/* Takes the commit lock if it is free: marks our entry with a fresh value,
 * then puts it in the lock word. *seen gets the value found there. */
static bool lock_if_free(mmpool *p, uint32_t *seen) {
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
    if (atomic_compare_exchange_strong_explicit(&p->hdr->commit_lock, seen, mine,
                                                memory_order_acq_rel, memory_order_acquire)) {
        return true;
    }
    return false;
}

/* Forgets a mark whose value never made it into the lock. */
static void lock_give_up(mmpool *p) {
    p->locked = 0;
    atomic_store_explicit(&p->entry->lock_mark, 0, memory_order_relaxed);
}

int mmp__commit_lock_try(mmpool *p) {
    uint32_t owner = 0;
    uint32_t judged = 0; /* the last value looked at for damage */
    uint64_t until = 0;
    for (unsigned look = 1;; look++) {
        /* Only tried when the lock looked free, so waiters do not bounce
         * the line while it is held. */
        if (owner == 0 && lock_if_free(p, &owner)) {
            return 0;
        }
        if (owner != judged) {
            judged = owner;
            clear_if_damaged(p, owner);
        }
        if (look % MMP__COMMIT_LOOKS == 0) {
            uint64_t now = mmp__monotonic_ns();
            if (until == 0) {
                until = now + MMP__COMMIT_SPIN_NS;
            } else if (now >= until) {
                break;
            }
            mmp__yield();
        } else {
            mmp__cpu_pause();
        }
        /* acquire: see real_hold. */
        owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    }
    /* Held longer than a commit takes. A dead owner's entry is reclaimed,
     * which frees the lock at once; a live owner keeps it (the kernel
     * decides through its entry lock, as for every other hold). */
    clear_if_damaged(p, owner);
    if (lock_entry(owner) != 0 && lock_entry(owner) <= MMP__HANDLES) {
        mmp__reclaim_entry(p, lock_entry(owner) - 1);
    }
    if (lock_if_free(p, &owner)) {
        return 0;
    }
    lock_give_up(p);
    return MMPOOL_EBUSY;
}

/* Releases the commit lock at the end of a commit. It cannot have been
 * taken from us: a real hold is only freed by others once its owner is
 * dead. Then our mark goes. */
static void commit_unlock(mmpool *p) {
    commit_unlock_from(p, p->locked);
    lock_give_up(p);
}

/* Raises last_seq to seq; never lowers it. With the lock held, seq is
 * last_seq + 1 or a repair's; a compare-and-swap still keeps a damaged
 * header from being lowered by a stale value. */
static bool raise_last_seq(mmpool *p, uint64_t seq) {
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    for (int race = 0; race < MMP__MAX_RACES && last < seq; race++) {
        if (atomic_compare_exchange_weak_explicit(&p->hdr->last_seq, &last, seq,
                                                  memory_order_release, memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

int mmp__slot_commit(mmpool *p, int64_t slot, uint64_t len, uint64_t time) {
    mmp__slot *s = &p->slots[slot];
    /* Only a claim of ours is published. Another process may have changed
     * the writer field (damage), and a repairer may then have given the
     * slot to another writer: its descriptor is not ours to write. */
    uint64_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if ((state & MMP__WRITER_MASK) != p->writer) {
        commit_unlock(p);
        atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
        return MMPOOL_EFORMAT;
    }
    /* Seqs are given out and published under one lock, so frames become
     * visible in seq order even with several writers. */
    atomic_store_explicit(&s->len, len, memory_order_relaxed);
    atomic_store_explicit(&s->time, time, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    if (last == UINT64_MAX) {
        /* Only a damaged header gets here; wrapping to seq 0 would hide
         * every frame from then on. */
        commit_unlock(p);
        return MMPOOL_EFORMAT;
    }
    uint64_t seq = last + 1;
    atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
    atomic_store_explicit(&s->check, mmp__slot_check(seq, len, time), memory_order_relaxed);
    /* release (in release_claim): publishes data, len, time and seq to
     * every reader whose pin (an acquire CAS on this word) comes later. */
    if (!release_claim(p, slot)) {
        /* Damage changed the writer field since the check above. Nobody
         * can have claimed the slot since (our entry still records the
         * claim, so no repairer clears the field), so take back the seq:
         * a second frame must not carry it. */
        atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
        commit_unlock(p);
        atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
        return MMPOOL_EFORMAT;
    }
    atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
    /* release: a reader that sees last_seq >= seq also sees the slot free
     * with this seq; readers consider only frames up to last_seq, which
     * keeps visibility in seq order. */
    raise_last_seq(p, seq);
    commit_unlock(p);
    return 0;
}

void mmp__slot_abort(mmpool *p, int64_t slot) {
    /* seq was zeroed at claim; the slot goes back empty, if still ours. */
    release_claim(p, slot);
    atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
}

static bool better(const mmpool *p, uint64_t seq, uint64_t best) {
    return best == 0 || (p->read_mode == MMPOOL_READ_FIFO ? seq < best : seq > best);
}

/* One scan: the slot whose frame the read mode wants next, or -1. *stuck
 * tells whether a published frame lay beyond last_seq. */
static int64_t pick(mmpool *p, uint64_t *pick_seq, bool *stuck) {
    /* acquire: every frame up to last is published (its slot release came
     * before this store), so the scan below cannot miss one of them. */
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_acquire);
    int64_t best = -1;
    uint64_t best_seq = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->loans[i] != 0) {
            continue; /* our own loan: older than the cursor already */
        }
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_relaxed);
        if (!pinnable(state)) {
            continue; /* being written, or damaged: the pin would refuse it */
        }
        uint64_t seq = atomic_load_explicit(&p->slots[i].seq, memory_order_relaxed);
        if (seq > last && !*stuck && mmp__slot_valid(&p->slots[i], seq, p->capacity)) {
            *stuck = true;
        }
        if (seq == 0 || seq <= p->cursor || seq > last) {
            continue;
        }
        if (better(p, seq, best_seq)) {
            best = i;
            best_seq = seq;
        }
    }
    *pick_seq = best_seq;
    return best;
}

/* Raises last_seq to the newest published frame: a committer that died
 * between publishing its slot and storing last_seq leaves it behind. */
static bool repair_last_seq(mmpool *p) {
    /* Called with the commit lock held (or taken over from a dead owner):
     * at most one commit was in flight, so at most one frame, last_seq + 1,
     * can be published but not announced. Only a descriptor whose check
     * word holds counts: a scribbled seq must not move last_seq. */
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    for (uint32_t i = 0; last != UINT64_MAX && i < p->count; i++) {
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_acquire);
        if (writer_field(state) == 0 && mmp__slot_valid(&p->slots[i], last + 1, p->capacity)) {
            return raise_last_seq(p, last + 1);
        }
    }
    return false;
}

/* A published frame lies beyond last_seq. If a committer holds the lock,
 * reclaim it if it is dead (that repairs last_seq); if nobody does,
 * last_seq was left behind or damaged: repair it under the lock. */
static void unstick(mmpool *p) {
    /* acquire: see real_hold. */
    uint32_t owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    if (owner != 0) {
        clear_if_damaged(p, owner);
        if (lock_entry(owner) != 0 && lock_entry(owner) <= MMP__HANDLES) {
            mmp__reclaim_entry(p, lock_entry(owner) - 1);
        }
        return;
    }
    if (!lock_if_free(p, &owner)) {
        lock_give_up(p);
        return;
    }
    repair_last_seq(p);
    commit_unlock(p);
    /* Frame waiters, if last_seq rose; writers, which may have started
     * waiting for the lock meanwhile. */
    mmp__notify_all(p);
}

/* Sets our pin bit unless a writer holds the slot. */
static bool pin(mmpool *p, int64_t slot) {
    _Atomic uint64_t *word = &p->slots[slot].state;
    uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        if (!pinnable(state)) {
            return false;
        }
        /* acquire: pairs with the committing writer's release (other
         * readers' pins in between continue its release sequence). */
        if (atomic_compare_exchange_weak_explicit(word, &state, state | p->pin,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

int64_t mmp__slot_pin_next(mmpool *p, uint64_t *seq) {
    bool unstuck = false;
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        uint64_t want;
        bool stuck = false;
        int64_t slot = pick(p, &want, &stuck);
        if (slot < 0 && stuck && !unstuck) {
            /* Usually a commit that finished during our scan; otherwise a
             * committer died between its two stores. Look once more. */
            unstuck = true;
            unstick(p);
            continue;
        }
        if (slot < 0) {
            return -1;
        }
        if (!pin(p, slot)) {
            continue; /* a writer took the slot since the scan */
        }
        /* The slot may have been rewritten between scan and pin. */
        if (atomic_load_explicit(&p->slots[slot].seq, memory_order_relaxed) != want) {
            mmp__slot_unpin(p, slot);
            continue;
        }
        *seq = want;
        return slot;
    }
    return -1;
}

void mmp__slot_unpin(mmpool *p, int64_t slot) {
    /* release: our reads of the frame happen before any writer's claim. */
    atomic_fetch_and_explicit(&p->slots[slot].state, ~p->pin, memory_order_release);
}

void mmp__slot_flush(mmpool *p) {
    for (uint32_t i = 0; i < p->count; i++) {
        if (atomic_load_explicit(&p->slots[i].seq, memory_order_relaxed) == 0) {
            continue;
        }
        /* Emptying a slot is a claim followed by an abort: a pinned or
         * written slot cannot be claimed, so its holder keeps it. */
        uint64_t expect = 0;
        if (atomic_compare_exchange_strong_explicit(&p->slots[i].state, &expect, p->writer,
                                                    memory_order_acquire, memory_order_relaxed)) {
            atomic_store_explicit(&p->slots[i].seq, 0, memory_order_relaxed);
            release_claim(p, i);
        }
    }
}

/* Whether a live handle other than us may be writing slot: one whose entry
 * records a claim of it (its own writer field may have been damaged into
 * what we see). A lock test that fails proves nothing: then it may. */
static bool claim_recorded_live(mmpool *p, int64_t slot) {
    const mmp__entry *table = (const mmp__entry *)(p->base + MMP__HANDLES_OFFSET);
    for (uint32_t j = 0; j < MMP__HANDLES; j++) {
        /* acquire: pairs with the claimer's release CAS of the state word,
         * which it makes after recording the claim here. */
        if (j == p->index ||
            atomic_load_explicit(&table[j].claim, memory_order_acquire) != (uint64_t)slot + 1) {
            continue;
        }
        if (mmp__lock_test(p->file, mmp__entry_lock_byte(j)) != 0) {
            return true;
        }
    }
    return false;
}

void mmp__slot_clear_entry(mmpool *p, uint32_t index) {
    uint64_t bit = UINT64_C(1) << index;
    uint64_t writer = (uint64_t)(index + 1) << MMP__WRITER_SHIFT;
    for (uint32_t i = 0; i < p->count; i++) {
        _Atomic uint64_t *word = &p->slots[i].state;
        uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
        if ((state & bit) != 0) {
            atomic_fetch_and_explicit(word, ~bit, memory_order_release);
        }
        if ((state & MMP__WRITER_MASK) == writer && !claim_recorded_live(p, i)) {
            /* A half-written frame: never delivered. Zero seq first so no
             * reader that pins the slot afterwards mistakes it for a frame.
             * (A live handle recording a claim of the slot means the field
             * was damaged into this entry's value over its claim: left.) */
            atomic_store_explicit(&p->slots[i].seq, 0, memory_order_relaxed);
            atomic_compare_exchange_strong_explicit(word, &state, state & ~MMP__WRITER_MASK,
                                                    memory_order_release, memory_order_relaxed);
        }
    }
    mmp__entry *e = (mmp__entry *)(p->base + MMP__HANDLES_OFFSET) + index;
    atomic_store_explicit(&e->claim, 0, memory_order_relaxed);
    uint32_t mask = ~((uint32_t)1 << index);
    atomic_fetch_and_explicit(&p->hdr->read_waiters, mask, memory_order_relaxed);
    atomic_fetch_and_explicit(&p->hdr->write_waiters, mask, memory_order_relaxed);
    /* acquire: pairs with the dead owner's last release, if any, so the
     * repair sees what it published before it took the lock. The caller
     * wakes waiters afterwards. */
    uint32_t owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    if (lock_entry(owner) == index + 1) {
        repair_last_seq(p);
        commit_unlock_from(p, owner);
    }
    atomic_store_explicit(&e->lock_mark, 0, memory_order_relaxed);
}

bool mmp__slot_recover(mmpool *p) {
    bool freed = false;
    uint32_t holders = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        _Atomic uint64_t *word = &p->slots[i].state;
        uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
        uint64_t writer = writer_field(state);
        /* Bits no live protocol step can have set: reserved bits, and a pin
         * of ours without a loan (no call of ours is running, so none can
         * be in flight). */
        uint64_t junk = state & MMP__STATE_RESERVED;
        if ((state & p->pin) != 0 && p->loans[i] == 0) {
            junk |= p->pin;
        }
        /* A writer field naming no entry, or us while we have no loan
         * there, was damaged, possibly over a live writer's claim: cleared
         * only if no live handle records a claim of this slot, or a second
         * writer would get a slot the first still fills. */
        if ((writer > MMP__HANDLES || (writer == p->index + 1 && p->write_slot != (int64_t)i)) &&
            !claim_recorded_live(p, i)) {
            junk |= MMP__WRITER_MASK;
        }
        if (junk != 0) {
            /* seq stays: a frame that was never committed there fails its
             * check word, and zeroing it could wipe a frame that a writer
             * committed after another recoverer cleared the same junk. */
            freed |= atomic_compare_exchange_strong_explicit(
                word, &state, state & ~junk, memory_order_release, memory_order_relaxed);
            continue;
        }
        holders |= (uint32_t)(state & MMP__PIN_MASK);
        if (writer != 0 && writer <= MMP__HANDLES) {
            holders |= (uint32_t)1 << (writer - 1);
        }
    }
    holders &= ~((uint32_t)1 << p->index);
    for (uint32_t i = 0; i < MMP__HANDLES; i++) {
        if ((holders & ((uint32_t)1 << i)) != 0) {
            freed |= mmp__reclaim_entry(p, i);
        }
    }
    return freed;
}
