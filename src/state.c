/*
 * The slot state words: one step each of the slot protocol. Each slot has
 * one 64-bit state word: bits 0..31 are pins (bit i: handle-table entry i
 * holds the frame), bits 32..39 the entry index + 1 of a writer holding the
 * slot. Every change of ownership is one compare-and-swap on that word, so
 * a pin and a claim can never both win.
 *
 *   free (0) --claim--> writing (writer) --commit--> free, seq = s
 *   free, seq = s --pin--> pinned (pins) --unpin--> free, seq = s
 *
 * A slot's seq, len and time change only while a writer holds the slot, and
 * are read only while the reader holds a pin (which excludes writers), so a
 * pinned frame is stable. Everything read from shared memory before the pin
 * is only a hint and is checked again after it. The retries around these
 * steps, and the reclaim of dead holders, are slots.c's; this file calls
 * only commit.c and the platform contract.
 */
#include "core.h"

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
 * into that slot (mmp__slot_mend decides on those). seq stays: a frame
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

/* The oldest free slot (empty slots have seq 0 and go first), or -1;
 * *seq gets its seq. Mends reserved bits on the way. */
static int64_t oldest_free(mmpool *p, uint64_t *seq) {
    int64_t best = -1;
    uint64_t best_seq = UINT64_MAX;
    uint64_t pins = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_relaxed);
        if ((state & MMP__STATE_RESERVED) != 0) {
            /* Damaged by another process: readers pass the slot over,
             * and every writer that meets it mends it. */
            state = repair_reserved(p, i, state);
        }
        if (state != 0) {
            pins |= state & MMP__PIN_MASK;
            continue;
        }
        uint64_t s = atomic_load_explicit(&p->slots[i].seq, memory_order_relaxed);
        if (best < 0 || s < best_seq) {
            best = i;
            best_seq = s;
        }
    }
    /* A hint for the copy into the slot (mmp__copy_to_slot): a reader
     * holding a slot now is copying or using a recent frame, and will take
     * the next one as soon as it is done. Damage can only mislead it. */
    p->readers_busy = (pins & ~p->pin_bit) != 0;
    *seq = best_seq;
    return best;
}

mmp__claim_result mmp__slot_claim_once(mmpool *p, int64_t *slot) {
    uint64_t seq;
    int64_t best = oldest_free(p, &seq);
    if (best < 0) {
        atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
        return MMP__CLAIM_NONE_FREE;
    }
    /* Record the claim in our entry before making it: a repairer that
     * finds this slot's writer field damaged then sees that a live handle
     * may be writing it, and leaves the field alone. */
    atomic_store_explicit(&p->entry->claim, (uint32_t)best + 1, memory_order_relaxed);
    uint64_t expect = 0;
    /* acquire: pairs with the release of the last reader's unpin, so its
     * copy out of the slot is complete before we overwrite it. release:
     * orders the record above before the claim, for a repairer that reads
     * our writer value (or a scribble over it). */
    if (!atomic_compare_exchange_strong_explicit(&p->slots[best].state, &expect, p->writer_bits,
                                                 memory_order_acq_rel, memory_order_relaxed)) {
        atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
        return MMP__CLAIM_LOST;
    }
    /* Between scan and claim another writer may have claimed, filled and
     * committed this slot: the state is 0 again, but the slot now holds the
     * newest frame, not the one we chose. Give it back untouched. */
    if (atomic_load_explicit(&p->slots[best].seq, memory_order_relaxed) != seq) {
        mmp__slot_abort(p, best);
        return MMP__CLAIM_GAVE_BACK;
    }
    /* The frame that was here is gone from this moment. A reader that
     * chose this slot before our claim cannot pin it until we commit or
     * abort, and then finds another seq (or 0) and looks again. */
    atomic_store_explicit(&p->slots[best].seq, 0, memory_order_relaxed);
    /* Makes seq 0 visible before any of the new data, as a seqlock writer
     * does: a copy that a damaged state word let overlap with this write
     * then sees the seq change. Free on x86. */
    atomic_thread_fence(memory_order_release);
    *slot = best;
    return MMP__CLAIM_TAKEN;
}

/* Gives slot back if its writer field still names us: one compare-and-swap
 * from the value we see, so a slot that damage handed to someone else is
 * never freed by us. release: our writes to the slot happen before the next
 * owner's acquire. False if the slot is no longer ours. */
static bool release_claim(mmpool *p, int64_t slot) {
    _Atomic uint64_t *word = &p->slots[slot].state;
    uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
    for (int race = 0; race < MMP__MAX_RACES; race++) {
        if ((state & MMP__WRITER_MASK) != p->writer_bits) {
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

/* Ends a commit that cannot publish: the lock goes, and so does our claim
 * record (the slot itself stays as it is). */
static int commit_refused(mmpool *p) {
    mmp__commit_unlock(p);
    atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
    return MMPOOL_EFORMAT;
}

int mmp__slot_commit(mmpool *p, int64_t slot, uint64_t len, uint64_t time) {
    mmp__slot *s = &p->slots[slot];
    /* Only a claim of ours is published. Another process may have changed
     * the writer field (damage), and a repairer may then have given the
     * slot to another writer: its descriptor is not ours to write. */
    uint64_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    if ((state & MMP__WRITER_MASK) != p->writer_bits) {
        return commit_refused(p);
    }
    /* Seqs are given out and published under one lock, so frames become
     * visible in seq order even with several writers. */
    atomic_store_explicit(&s->len, len, memory_order_relaxed);
    atomic_store_explicit(&s->time, time, memory_order_relaxed);
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_relaxed);
    if (last == UINT64_MAX) {
        /* Only a damaged header gets here; wrapping to seq 0 would hide
         * every frame from then on. The slot stays claimed. */
        mmp__commit_unlock(p);
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
        return commit_refused(p);
    }
    atomic_store_explicit(&p->entry->claim, 0, memory_order_relaxed);
    /* Readers consider only frames up to last_seq, which keeps visibility
     * in seq order. */
    mmp__last_seq_raise(p, seq);
    mmp__commit_unlock(p);
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

int64_t mmp__slot_pick(mmpool *p, uint64_t *pick_seq, bool *beyond_last) {
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
        if (seq > last && !*beyond_last && mmp__slot_valid(&p->slots[i], seq, p->capacity)) {
            *beyond_last = true;
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

bool mmp__slot_next_published(mmpool *p) {
    uint64_t last = atomic_load_explicit(&p->hdr->last_seq, memory_order_acquire);
    for (uint32_t i = 0; last != UINT64_MAX && i < p->count; i++) {
        uint64_t state = atomic_load_explicit(&p->slots[i].state, memory_order_relaxed);
        if (pinnable(state) && mmp__slot_valid(&p->slots[i], last + 1, p->capacity)) {
            return true;
        }
    }
    return false;
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
        if (atomic_compare_exchange_weak_explicit(word, &state, state | p->pin_bit,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

bool mmp__slot_pin(mmpool *p, int64_t slot, uint64_t seq) {
    if (!pin(p, slot)) {
        return false; /* a writer took the slot since the pick */
    }
    /* The slot may have been rewritten between pick and pin. */
    if (atomic_load_explicit(&p->slots[slot].seq, memory_order_relaxed) != seq) {
        mmp__slot_unpin(p, slot);
        return false;
    }
    return true;
}

void mmp__slot_unpin(mmpool *p, int64_t slot) {
    /* release: our reads of the frame happen before any writer's claim. */
    atomic_fetch_and_explicit(&p->slots[slot].state, ~p->pin_bit, memory_order_release);
}

void mmp__slot_flush(mmpool *p) {
    for (uint32_t i = 0; i < p->count; i++) {
        if (atomic_load_explicit(&p->slots[i].seq, memory_order_relaxed) == 0) {
            continue;
        }
        /* Emptying a slot is a claim followed by an abort: a pinned or
         * written slot cannot be claimed, so its holder keeps it. */
        uint64_t expect = 0;
        if (atomic_compare_exchange_strong_explicit(&p->slots[i].state, &expect, p->writer_bits,
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
    for (uint32_t j = 0; j < MMP__HANDLES; j++) {
        /* acquire: pairs with the claimer's release CAS of the state word,
         * which it makes after recording the claim here. */
        if (j == p->index || atomic_load_explicit(&mmp__entry_at(p, j)->claim,
                                                  memory_order_acquire) != (uint64_t)slot + 1) {
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
    mmp__entry *e = mmp__entry_at(p, index);
    atomic_store_explicit(&e->claim, 0, memory_order_relaxed);
    mmp__wait_forget(p, index);
    /* acquire: pairs with the dead owner's last release, if any, so the
     * repair sees what it published before it took the lock. The caller
     * wakes waiters afterwards. */
    uint32_t owner = atomic_load_explicit(&p->hdr->commit_lock, memory_order_acquire);
    if (mmp__lock_holder(owner) == index + 1) {
        mmp__last_seq_repair(p);
        mmp__commit_lock_free_from(p, owner);
    }
    atomic_store_explicit(&e->lock_mark, 0, memory_order_relaxed);
}

/* The bits of slot i's state word that no live protocol step can have set:
 * reserved bits, a pin of ours without a loan (no call of ours is running,
 * so none can be in flight), and a writer field naming no entry, or us while
 * we have no loan there. Such a writer field may have been damaged over a
 * live writer's claim: it counts only if no live handle records a claim of
 * this slot, or a second writer would get a slot the first still fills. */
static uint64_t junk_of(mmpool *p, uint32_t i, uint64_t state) {
    uint64_t junk = state & MMP__STATE_RESERVED;
    if ((state & p->pin_bit) != 0 && p->loans[i] == 0) {
        junk |= p->pin_bit;
    }
    uint64_t writer = writer_field(state);
    if ((writer > MMP__HANDLES || (writer == p->index + 1 && p->write_slot != (int64_t)i)) &&
        !claim_recorded_live(p, i)) {
        junk |= MMP__WRITER_MASK;
    }
    return junk;
}

bool mmp__slot_mend(mmpool *p, uint32_t *holders) {
    bool freed = false;
    *holders = 0;
    for (uint32_t i = 0; i < p->count; i++) {
        _Atomic uint64_t *word = &p->slots[i].state;
        uint64_t state = atomic_load_explicit(word, memory_order_relaxed);
        uint64_t junk = junk_of(p, i, state);
        if (junk != 0) {
            /* seq stays: a frame that was never committed there fails its
             * check word, and zeroing it could wipe a frame that a writer
             * committed after another recoverer cleared the same junk. */
            freed |= atomic_compare_exchange_strong_explicit(
                word, &state, state & ~junk, memory_order_release, memory_order_relaxed);
            continue;
        }
        uint64_t writer = writer_field(state);
        *holders |= (uint32_t)(state & MMP__PIN_MASK);
        if (writer != 0 && writer <= MMP__HANDLES) {
            *holders |= (uint32_t)1 << (writer - 1);
        }
    }
    *holders &= ~((uint32_t)1 << p->index);
    return freed;
}
