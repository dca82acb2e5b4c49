/*
 * Internals shared by the core files: the private handle, the header codec
 * and the slot protocol. Pure C11; the OS is reached through platform.h.
 */
#ifndef MMP_CORE_H
#define MMP_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "layout.h"
#include "mmpool.h"
#include "platform.h"

/*
 * A handle. Geometry is copied out of the header once, after the header was
 * validated, and only these private copies are used to compute addresses:
 * another process that scribbles over the header cannot move us outside the
 * mapping.
 */
struct mmpool {
    mmp__file *file;
    unsigned char *base; /* the mapping */
    uint64_t map_size;
    mmp__header *hdr;
    mmp__entry *entry; /* our entry in the handle table */
    mmp__slot *slots;
    unsigned char *data;
    uint64_t capacity;
    uint64_t stride;
    uint32_t count;
    uint32_t index;       /* our entry's index */
    uint64_t pin_bit;     /* 1 << index: our pin in slot state words */
    bool readers_busy;    /* another handle pinned a slot at our last claim */
    uint64_t writer_bits; /* (index + 1) << MMP__WRITER_SHIFT: our claim */
    uint32_t nonce;       /* of our last commit-lock hold; see lock_value() */
    uint32_t locked;      /* the commit-lock value we hold, 0 if none */
    uint32_t read_mode;
    uint64_t owner;        /* the file's owner at open, for mmpool_stat */
    uint64_t path_seen_ns; /* when the file was last found at its path */
    bool gone;             /* the file was found away from its path: stale for good */
    bool created;          /* this handle created the pool */
    uint64_t cursor;       /* seq of the last frame this handle returned */
    int64_t write_slot;    /* slot of our write loan, -1 if none */
    uint64_t *loans;       /* per slot: seq of our read loan there, 0 = none */
    _Atomic int interrupt; /* set by mmpool_interrupt() */
    uint32_t wakes;        /* wake-ups issued, to pace liveness checks */
    bool event_on;         /* mmpool_event_handle gave this handle its event */
    uint64_t spin_ns;      /* mmpool_options.spin_ns: watch before sleeping */
    char format[MMPOOL_FORMAT_MAX + 1];
};

/* header.c: building and checking the immutable header, and whether the
 * pool it heads is still in use (retired, or gone from its path). */
typedef struct mmp__geometry {
    uint64_t capacity;
    uint32_t count;
    uint64_t stride;
    uint64_t data_offset;
    uint64_t file_size;
} mmp__geometry;

/* Computes the geometry of a pool whose data offset and slot stride are
 * rounded up to unit (MMP__PAGE or MMP__HUGE_PAGE); MMPOOL_EINVAL if out of
 * range or if a size would overflow. */
int mmp__geometry_make(mmp__geometry *g, uint64_t capacity, uint32_t count, uint64_t unit);
/* The unit a new pool at path gets: MMP__HUGE_PAGE on a file system that
 * maps files with 2 MiB pages (always on hugetlbfs, which needs it; on a
 * huge tmpfs only for frames of at least 2 MiB, as a smaller frame could
 * not fill one), else MMP__PAGE. */
uint64_t mmp__geometry_unit(const char *path, uint64_t capacity);
/* Fills a zeroed header for a new pool. */
void mmp__header_init(mmp__header *h, const mmp__geometry *g, const char *format,
                      uint64_t created_ns);
/* Checks a header copied out of a file of file_size bytes and returns its
 * geometry. MMPOOL_EFORMAT for anything not exactly right. */
int mmp__header_check(const mmp__header *h, uint64_t file_size, mmp__geometry *g);
/* Reads the header of an open file into h and checks it as above, before
 * anything is mapped, so a short or hostile file cannot make the caller
 * touch memory past its end (mmpool_open and mmpool_inspect alike). */
int mmp__header_read(mmp__file *f, mmp__header *h, mmp__geometry *g);
/* rules.c: what calls demand of their arguments. */
/* MMPOOL_EINVAL unless timeout_ms is 0, MMPOOL_WAIT_FOREVER or positive. */
int mmp__timeout_check(int timeout_ms);
/* MMPOOL_EINVAL unless the options are valid (flags, read mode, mode
 * bits, format length). */
int mmp__options_check(const mmpool_options *o);
/* The rules an existing pool file must meet before a handle attaches to
 * it (docs/guide.md, "Permissions across users"); *owner is its owner. */
int mmp__access_check(mmp__file *f, uint32_t flags, uint64_t *owner);

/* Opens the pool file at a user path (resolved into full, cap bytes) and
 * reads and checks its header: the preamble of mmpool_unlink and
 * mmpool_inspect. On failure nothing stays open. */
int mmp__header_open(const char *path, char *full, size_t cap, mmp__file **f, mmp__header *h,
                     mmp__geometry *g);
/* MMPOOL_ESTALE if the pool was retired, or if its file is no longer at its
 * path (removed or replaced by other means than mmpool_unlink, or being
 * unlinked); else 0. The path is looked at (system calls) when force is
 * set, or when a second has passed since the last look: a call that
 * succeeds makes none for it, one that would report "nothing there" forces
 * it. A look that found the file gone is remembered: stale for good. */
int mmp__stale(mmpool *p, bool force);

/* The bits of a slot state word that no protocol step ever sets: reserved
 * bits, and a writer field naming no entry of the table. Non-zero means
 * another process damaged the word; such a slot is neither pinned nor
 * claimed. A claim clears reserved bits; a damaged writer field may hide a
 * live writer's claim, so only a recovery that finds no live handle
 * recording a claim of the slot clears it (mmp__slot_recover). */
static inline uint64_t mmp__state_junk(uint64_t state) {
    uint64_t junk = state & MMP__STATE_RESERVED;
    if ((state & MMP__WRITER_MASK) > ((uint64_t)MMP__HANDLES << MMP__WRITER_SHIFT)) {
        junk |= MMP__WRITER_MASK;
    }
    return junk;
}

/* A hostile process flipping state words could otherwise keep a CAS loop
 * spinning forever; after this many lost races a protocol step reports
 * "nothing found". */
#define MMP__MAX_RACES 1000

/* Entry index of the handle table (index < MMP__HANDLES). */
static inline mmp__entry *mmp__entry_at(const mmpool *p, uint32_t index) {
    return (mmp__entry *)(p->base + MMP__HANDLES_OFFSET) + index;
}

/* File byte whose lock marks handle-table entry index as taken. */
static inline uint64_t mmp__entry_lock_byte(uint32_t index) {
    return MMP__HANDLES_OFFSET + (uint64_t)index * sizeof(mmp__entry);
}

/*
 * The core's layers, each calling only those below it (docs/design.md,
 * "Layers"; scripts/check-layers.sh checks it):
 *   io.c, pool.c, inspect.c   public calls
 *   slots.c                   the protocol: retries, repair, reclaim
 *   state.c                   slot state words, one step each
 *   commit.c                  the commit lock word and last_seq
 *   wake.c, header.c, rules.c waiting and waking; the header; open's rules
 *   platform.h                the platform contract
 */

/* wake.c: waiter masks, wait words, sleeping and waking; no reclaim. */
typedef enum mmp__channel {
    MMP__FRAMES, /* readers wait for a new frame: frame_word, read_waiters */
    MMP__SLOTS   /* writers wait for a free slot or the commit lock:
                    slot_word, write_waiters */
} mmp__channel;
/* Wakes the writers waiting for a free slot, if the mask has any. Returns
 * the entries woken if their liveness is due for a check (every so many
 * wake-ups), else 0: the caller reclaims those that are dead. */
uint32_t mmp__wake_slot_waiters(mmpool *p);
/* The same for both channels: readers and writers. */
uint32_t mmp__wake_waiters(mmpool *p);
/* Bumps both wait words and wakes every entry, whatever the masks say: for
 * a flag every sleeper must see (retired, interrupt), stored before. */
void mmp__wake_everyone(mmp__file *f, mmp__header *hdr);
/* Sets (clears) our bit in the channel's waiter mask. */
void mmp__wait_register(mmpool *p, mmp__channel c);
void mmp__wait_unregister(mmpool *p, mmp__channel c);
/* Clears entry index's bits from every waiter mask and its event key (a
 * dead or closing entry). */
void mmp__wait_forget(mmpool *p, uint32_t index);
/* Gives the handle its event (mmp__event_open) and publishes the event's
 * key in our entry; idempotent. */
int mmp__event_attach(mmpool *p);
/* Unsignals our event and arms it: the next commit (or unlink, or
 * interrupt) signals it. The caller then looks for an unread frame and,
 * finding one, signals the event itself. */
void mmp__event_arm(mmpool *p);
/* The channel's word, read after a seq_cst fence, to pass to
 * mmp__wait_sleep once a look at the state found nothing. */
uint32_t mmp__wait_look(mmpool *p, mmp__channel c);
/* The next sleep's length: the wait slice, shortened to what is left until
 * deadline (monotonic ns; 0 = none). MMPOOL_ETIMEDOUT once it has passed. */
int mmp__wait_slice(uint64_t deadline, int *slice_ms);
/* Sleeps while the channel's word is seen, at most slice_ms: 0 if woken
 * (or the word had changed), MMPOOL_ETIMEDOUT if the slice passed unwoken,
 * else the error that kept us from sleeping. */
int mmp__wait_sleep(mmpool *p, mmp__channel c, uint32_t seen, int slice_ms);

/* commit.c: the commit lock word and last_seq. */
/* The entry index + 1 that a lock value names, or 0 if it names none. */
uint32_t mmp__lock_holder(uint32_t value);
/* Frees the lock if it still holds value (one compare-and-swap); true if
 * it did. Every release is this: our own value at the end of a commit, or
 * a value nobody can hold any more. The caller wakes slot waiters. */
bool mmp__commit_lock_free_from(mmpool *p, uint32_t value);
/* Frees the lock if value, seen in it, is no real hold (damage); true if
 * it did. The caller wakes slot waiters. */
bool mmp__commit_lock_clear_damaged(mmpool *p, uint32_t value);
/* Takes the lock if it is free: marks our entry with a fresh value (kept
 * for the next try if this one fails), then puts it in the lock word.
 * *seen gets the value found there. */
bool mmp__commit_lock_take(mmpool *p, uint32_t *seen);
/* Forgets a mark whose value never made it into the lock. */
void mmp__commit_lock_forget(mmpool *p);
/* Releases the lock we hold, and our mark. */
void mmp__commit_unlock(mmpool *p);
/* Raises last_seq to seq; never lowers it. True if it rose. */
bool mmp__last_seq_raise(mmpool *p, uint64_t seq);
/* Raises last_seq to the newest published frame, with the lock held: a
 * committer that died between publishing its slot and storing last_seq
 * leaves it behind. True if it rose. */
bool mmp__last_seq_repair(mmpool *p);

/* state.c: the slot state words, one protocol step each. */
typedef enum mmp__claim_result {
    MMP__CLAIM_TAKEN,     /* *slot is ours, its seq zeroed */
    MMP__CLAIM_NONE_FREE, /* every slot is held */
    MMP__CLAIM_LOST,      /* another process took the chosen slot: retry */
    MMP__CLAIM_GAVE_BACK  /* the slot changed between scan and claim and was
                             given back: wake slot waiters, retry */
} mmp__claim_result;
/* One try at claiming the oldest free slot for writing, recorded in our
 * entry's claim field while it may hold. */
mmp__claim_result mmp__slot_claim_once(mmpool *p, int64_t *slot);
/* With the commit lock held: publishes the claimed slot as the next seq,
 * with the frame's length and commit time, and releases the lock.
 * MMPOOL_EFORMAT, with the lock released, if the header is damaged beyond
 * giving a seq (the slot stays claimed), or if the slot's writer field no
 * longer names us (damage let it go): then neither its descriptor nor its
 * state word is touched. */
int mmp__slot_commit(mmpool *p, int64_t slot, uint64_t len, uint64_t time);
/* Gives the claimed slot back empty, if it is still ours: a slot whose
 * writer field another process changed is left alone. */
void mmp__slot_abort(mmpool *p, int64_t slot);
/* One scan: the slot whose frame the read mode wants next, or -1; *seq
 * gets its seq. Sets *beyond_last if a published frame lies beyond
 * last_seq (which then needs catching up). */
int64_t mmp__slot_pick(mmpool *p, uint64_t *seq, bool *beyond_last);
/* Whether a slot a reader could pin holds a valid frame last_seq + 1: the
 * one frame a repair of last_seq would make visible. */
bool mmp__slot_next_published(mmpool *p);
/* Pins slot if it still holds frame seq; false if a writer took it or it
 * changed since the pick. */
bool mmp__slot_pin(mmpool *p, int64_t slot, uint64_t seq);
/* Drops our pin on slot. */
void mmp__slot_unpin(mmpool *p, int64_t slot);
/* Empties every slot nobody holds. */
void mmp__slot_flush(mmpool *p);
/* Clears whatever the handle-table entry index still holds: pins, a write
 * claim, waiter bits, the commit lock (repairing last_seq). Called when an
 * entry is taken over; the caller wakes waiters. */
void mmp__slot_clear_entry(mmpool *p, uint32_t index);
/* Clears bits no live protocol step can have set from every state word
 * (see junk_of); true if that freed anything. *holders gets the other
 * entries that hold a slot. */
bool mmp__slot_mend(mmpool *p, uint32_t *holders);

/* slots.c: the protocol as the public calls use it. */
/* Claims the oldest free slot for writing; -1 if every slot is held. */
int64_t mmp__slot_claim(mmpool *p);
/* Takes the commit lock: 0, or MMPOOL_EBUSY if a live handle holds it
 * (after a brief spin; a dead owner's lock is freed and taken at once).
 * Never blocks; the caller waits as a slot waiter, since every release
 * notifies slot waiters. */
int mmp__commit_lock_try(mmpool *p);
/* Pins the frame a read should return next (per read mode and cursor).
 * Returns the slot and fills seq, or -1 if there is no new frame. */
int64_t mmp__slot_pin_next(mmpool *p, uint64_t *seq);
/* After a failed claim: clears garbage from state words, drops stale holds
 * of our own, and reclaims the entries of dead holders. True if anything
 * was freed, so a claim is worth another try. */
bool mmp__slot_recover(mmpool *p);
/* If entry index belongs to no live handle, clears what it still holds and
 * frees it; true if it did. Never touches our own entry or a live one. */
bool mmp__reclaim_entry(mmpool *p, uint32_t index);
/* mmp__reclaim_entry() for every entry but ours. */
void mmp__reclaim_dead(mmpool *p);
/* Wakes writers waiting for a free slot, if there are any, and now and
 * then reclaims the waiters it woke if they are dead (mmp__wake_*). */
void mmp__notify_slot_freed(mmpool *p);
/* The same for every waiter: readers and writers. */
void mmp__notify_all(mmpool *p);
/* Whether a read could find a frame this handle has not read (a frame
 * beyond last_seq, which the read repairs, counts). Changes nothing. */
bool mmp__slot_unread(mmpool *p);
/* A value that changes whenever a blocked call on channel c may have
 * something new to find: last_seq for frames; for slots, a fold of every
 * slot's state word and the commit lock. Loads only: a spinning call
 * watches it between tries. */
uint64_t mmp__spin_look(mmpool *p, mmp__channel c);
/* Arms the handle's event, then signals it at once if a frame is unread
 * or the pool retired: the event is then signaled exactly when a read may
 * have something to return. */
void mmp__event_rearm(mmpool *p);

/* A handle the caller may use: not NULL, and not inherited through fork()
 * (a child's copy of a parent's handle refers to the parent's holds). */
static inline bool mmp__usable(const mmpool *p) {
    return p != NULL && !mmp__file_inherited(p->file);
}

static inline unsigned char *mmp__slot_data(const mmpool *p, int64_t slot) {
    return p->data + (uint64_t)slot * p->stride;
}

#endif /* MMP_CORE_H */
