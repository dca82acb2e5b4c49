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
    uint32_t index;  /* our entry's index */
    uint64_t pin;    /* 1 << index: our bit in slot state words */
    uint64_t writer; /* (index + 1) << MMP__WRITER_SHIFT */
    uint32_t nonce;  /* of our last commit-lock hold; see lock_value() */
    uint32_t locked; /* the commit-lock value we hold, 0 if none */
    uint32_t read_mode;
    uint64_t owner;        /* the file's owner at open, for mmpool_stat */
    uint64_t path_seen_ns; /* when the file was last found at its path */
    bool created;          /* this handle created the pool */
    uint64_t cursor;       /* seq of the last frame this handle returned */
    int64_t write_slot;    /* slot of our write loan, -1 if none */
    uint64_t *loans;       /* per slot: seq of our read loan there, 0 = none */
    _Atomic int interrupt; /* set by mmpool_interrupt() */
    uint32_t wakes;        /* wake-ups issued, to pace liveness checks */
    char format[MMPOOL_FORMAT_MAX + 1];
};

/* header.c: building and checking the immutable header. */
typedef struct mmp__geometry {
    uint64_t capacity;
    uint32_t count;
    uint64_t stride;
    uint64_t data_offset;
    uint64_t file_size;
} mmp__geometry;

/* Computes the geometry of a pool; MMPOOL_EINVAL if out of range or if a
 * size would overflow. */
int mmp__geometry_make(mmp__geometry *g, uint64_t capacity, uint32_t count);
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
/* pool.c: opens the pool file at a user path (resolved into full, cap
 * bytes) and reads and checks its header. On failure nothing stays open. */
int mmp__open_checked(const char *path, char *full, size_t cap, mmp__file **f, mmp__header *h,
                      mmp__geometry *g);

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

/* slots.c: the lock-free slot protocol (see docs/format.md). */
/* Claims the oldest free slot for writing; -1 if every slot is held. */
int64_t mmp__slot_claim(mmpool *p);
/* Takes the commit lock: 0, or MMPOOL_EBUSY if a live handle holds it
 * (after a brief spin; a dead owner's lock is freed and taken at once).
 * Never blocks; the caller waits as a slot waiter, since every release
 * notifies slot waiters. */
int mmp__commit_lock_try(mmpool *p);
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
/* Pins the frame a read should return next (per read mode and cursor).
 * Returns the slot and fills seq, or -1 if there is no new frame. */
int64_t mmp__slot_pin_next(mmpool *p, uint64_t *seq);
/* Drops our pin on slot. */
void mmp__slot_unpin(mmpool *p, int64_t slot);
/* After a failed claim: clears garbage from state words, drops stale holds
 * of our own, and reclaims the entries of dead holders. True if anything
 * was freed, so a claim is worth another try. */
bool mmp__slot_recover(mmpool *p);
/* Empties every slot nobody holds. */
void mmp__slot_flush(mmpool *p);
/* Clears whatever the handle-table entry index still holds: pins, a write
 * claim, waiter bits, the commit lock. Called when an entry is taken over. */
void mmp__slot_clear_entry(mmpool *p, uint32_t index);

/* pool.c */
/* File byte whose lock marks handle-table entry index as taken. */
static inline uint64_t mmp__entry_lock_byte(uint32_t index) {
    return MMP__HANDLES_OFFSET + (uint64_t)index * sizeof(mmp__entry);
}
/* If entry index belongs to no live handle, clears what it still holds and
 * frees it; true if it did. Never touches our own entry or a live one. */
bool mmp__reclaim_entry(mmpool *p, uint32_t index);
/* mmp__reclaim_entry() for every entry but ours. */
void mmp__reclaim_dead(mmpool *p);
/* MMPOOL_ESTALE if the pool was retired, or if its file is no longer at its
 * path (removed or replaced by other means than mmpool_unlink); else 0.
 * The path is looked at (system calls) when force is set, or when a second
 * has passed since the last look: a call that succeeds makes none for it,
 * one that would report "nothing there" forces it. */
int mmp__stale(mmpool *p, bool force);

/* Wakes writers waiting for a free slot, if there are any, and now and
 * then reclaims the waiters it woke if they are dead (mmp__wake_*). */
void mmp__notify_slot_freed(mmpool *p);
/* The same for every waiter: readers and writers. */
void mmp__notify_all(mmpool *p);

/* wake.c: waiter masks, wait words, sleeping and waking. Calls nothing in
 * the files above it; see the file's comment. */
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

/* A handle the caller may use: not NULL, and not inherited through fork()
 * (a child's copy of a parent's handle refers to the parent's holds). */
static inline bool mmp__usable(const mmpool *p) {
    return p != NULL && !mmp__file_inherited(p->file);
}

static inline unsigned char *mmp__slot_data(const mmpool *p, int64_t slot) {
    return p->data + (uint64_t)slot * p->stride;
}

#endif /* MMP_CORE_H */
