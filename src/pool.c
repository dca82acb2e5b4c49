/*
 * Pool life cycle: open (checking or creating the file), attach to the
 * handle table, close, unlink, flush, stat. Reclaiming the entries of dead
 * processes is the protocol's (slots.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Bounds the retries of mmpool_open when other processes keep creating and
 * removing the same path under it. */
#define MMP__OPEN_RACES 16
/* Longest that a call without a timeout (opening, unlinking) waits for
 * another process, here for the path lock, before MMPOOL_EBUSY: removing
 * a path under the lock takes microseconds, so a holder past this is stuck
 * or hostile. */
#define MMP__BLOCK_MS 2000
/* Longest pause between two tries of a lock held by another process. */
#define MMP__POLL_MAX_MS 16

/* Takes the path lock of f, waiting at most MMP__BLOCK_MS for another
 * process to let go of it: MMPOOL_EBUSY then, and nothing was changed. */
static int path_lock(mmp__file *f) {
    uint64_t deadline = mmp__monotonic_ns() + (uint64_t)MMP__BLOCK_MS * 1000000u;
    int pause_ms = 1;
    for (;;) {
        int rc = mmp__lock_try(f, MMP__PATH_LOCK_BYTE);
        if (rc != MMPOOL_EBUSY || mmp__monotonic_ns() >= deadline) {
            return rc;
        }
        mmp__sleep_ms(pause_ms);
        pause_ms = pause_ms < MMP__POLL_MAX_MS ? pause_ms * 2 : MMP__POLL_MAX_MS;
    }
}

/* Removes path if it still names f, a retired pool, under the path lock of
 * f, so that two processes replacing or unlinking the same pool cannot
 * remove a newer pool that took its place. */
static int remove_retired(mmp__file *f, const char *path) {
    int rc = path_lock(f);
    if (rc != 0) {
        return rc;
    }
    rc = mmp__file_is_at(f, path);
    if (rc == 1) {
        rc = mmp__path_remove(path);
    } else if (rc == 0) {
        rc = MMPOOL_ENOENT; /* someone else removed or replaced it */
    }
    mmp__lock_release(f, MMP__PATH_LOCK_BYTE);
    return rc;
}

/* Removes the pool at path, which f has open with its header mapped at hdr,
 * in an order that a refusal cannot disturb: under the path lock, the name
 * is first moved aside to a private one, the one step that needs the right
 * to remove it; only then is the pool retired and are its sleepers woken;
 * the private name goes last. */
static int unlink_pool(mmp__file *f, const char *path, mmp__header *hdr) {
    int rc = path_lock(f);
    if (rc != 0) {
        return rc;
    }
    char aside[MMP__PATH_MAX];
    rc = mmp__file_move_aside(f, path, aside, sizeof aside);
    if (rc == 0) {
        /* Every handle on the pool sees ESTALE from now on; sleepers are
         * woken so they look. */
        atomic_store(&hdr->retired, 1);
        mmp__wake_everyone(f, hdr);
        rc = mmp__path_remove(aside);
    }
    mmp__lock_release(f, MMP__PATH_LOCK_BYTE);
    return rc;
}

static void set_pointers(mmpool *p, void *base, const mmp__geometry *g) {
    p->base = base;
    p->map_size = g->file_size;
    p->hdr = base;
    p->slots = (mmp__slot *)(p->base + MMP__SLOTS_OFFSET);
    p->data = p->base + g->data_offset;
    p->capacity = g->capacity;
    p->stride = g->stride;
    p->count = g->count;
}

/* Takes a free entry of the handle table for p: the first whose lock
 * nobody holds. A previous owner of that entry is dead, so whatever it still holds
 * is cleared before the entry is reused. */
static int take_entry(mmpool *p) {
    uint32_t i;
    int rc = MMPOOL_EBUSY;
    for (i = 0; i < MMP__HANDLES; i++) {
        rc = mmp__lock_try(p->file, mmp__entry_lock_byte(i));
        if (rc != MMPOOL_EBUSY) {
            break;
        }
    }
    if (rc == MMPOOL_EBUSY) {
        return MMPOOL_ETOOMANY;
    }
    if (rc != 0) {
        return rc; /* the file system cannot lock: no liveness, no pool */
    }
    p->index = i;
    p->pin_bit = UINT64_C(1) << i;
    p->writer_bits = (uint64_t)(i + 1) << MMP__WRITER_SHIFT;
    /* Commit-lock nonces start where the clock is, not at 0, so a new
     * owner of this entry does not retrace its predecessor's nonces. */
    p->nonce = (uint32_t)(mmp__monotonic_ns() >> 10);
    mmp__entry *e = mmp__entry_at(p, i);
    p->entry = e;
    mmp__slot_clear_entry(p, i);
    e->pid = mmp__process_id();
    e->proc_start = mmp__process_start();
    e->open_ns = mmp__realtime_ns();
    atomic_store_explicit(&e->role, p->read_mode == MMPOOL_READ_FIFO ? MMP__ROLE_FIFO : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&e->state, MMP__ENTRY_ATTACHED, memory_order_release);
    /* A dead predecessor may have held slots a writer is waiting for. */
    mmp__notify_slot_freed(p);
    return 0;
}

/* Builds a handle around an open, mapped, checked file and attaches it to
 * the handle table. Takes ownership of f and the mapping, also on failure. */
static int handle_new(mmpool **out, mmp__file *f, void *base, const mmp__geometry *g,
                      const char *format, uint32_t read_mode, uint64_t owner, bool created) {
    mmpool *p = calloc(1, sizeof *p);
    uint64_t *loans = calloc(g->count, sizeof *loans);
    if (p == NULL || loans == NULL) {
        free(p);
        free(loans);
        mmp__file_unmap(f, base, g->file_size);
        mmp__file_close(f);
        return MMPOOL_ESYS;
    }
    p->file = f;
    p->loans = loans;
    p->read_mode = read_mode;
    p->owner = owner;
    p->created = created;
    p->path_seen_ns = mmp__coarse_ns(); /* the clock of mmp__stale */
    p->write_slot = -1;
    set_pointers(p, base, g);
    /* format is NUL-terminated within 64 bytes (checked or built by us). */
    memcpy(p->format, format, strlen(format) + 1);
    int rc = take_entry(p);
    if (rc != 0) {
        free(loans);
        free(p);
        mmp__file_unmap(f, base, g->file_size);
        mmp__file_close(f);
        return rc;
    }
    *out = p;
    return 0;
}

/* Creates and initialises a new pool file, not yet linked to its path. On
 * success *f is open and *base mapped. */
static int create_new(const char *path, const mmpool_options *o, mmp__file **f, void **base,
                      mmp__geometry *g) {
    int rc = mmp__geometry_make(g, o->slot_capacity, o->slot_count,
                                mmp__geometry_unit(path, o->slot_capacity));
    if (rc != 0) {
        return rc;
    }
    uint32_t mode = o->mode != 0 ? o->mode : 0600;
    rc = mmp__file_create_unnamed(f, path, g->file_size, mode);
    if (rc != 0) {
        return rc;
    }
    rc = mmp__file_map(*f, g->file_size, base);
    if (rc != 0) {
        mmp__file_close(*f);
        return rc;
    }
    /* The file is new and zero-filled; only the immutable fields need
     * writing. It gets its name only once complete. */
    mmp__header_init(*base, g, o->format, mmp__realtime_ns());
    return 0;
}

/* What one look at the path came to. */
typedef enum open_try {
    OPEN_DONE,    /* the answer is in *rc: 0 (and *out set) or an error */
    OPEN_RETIRED, /* the file at the path is a retired pool: absent */
    OPEN_AGAIN    /* the path changed under us: look again */
} open_try;

/* Checks the existing pool in f and, unless it is retired (f stays open
 * then), builds the handle. Takes ownership of f otherwise. */
static open_try open_existing(mmpool **out, mmp__file *f, const mmpool_options *o, int *rc) {
    mmp__header h;
    mmp__geometry g;
    *rc = mmp__header_read(f, &h, &g);
    /* Our private copy of the header: relaxed suffices. */
    if (*rc == 0 && atomic_load_explicit(&h.retired, memory_order_relaxed) != 0) {
        return OPEN_RETIRED;
    }
    if (*rc == 0 && (o->flags & MMPOOL_EXCL) != 0) {
        *rc = MMPOOL_EEXIST;
    }
    uint64_t owner = 0;
    if (*rc == 0) {
        *rc = mmp__access_check(f, o->flags, &owner);
    }
    if (*rc == 0 && ((o->slot_capacity != 0 && o->slot_capacity != g.capacity) ||
                     (o->slot_count != 0 && o->slot_count != g.count))) {
        *rc = MMPOOL_EMISMATCH;
    }
    /* Reserve what the creator reserved, in case another tool made the
     * file sparse: a fault for lack of space would be SIGBUS later. */
    if (*rc == 0) {
        *rc = mmp__file_reserve(f, g.file_size);
    }
    void *base = NULL;
    if (*rc == 0) {
        *rc = mmp__file_map(f, g.file_size, &base);
    }
    if (*rc != 0) {
        mmp__file_close(f);
        return OPEN_DONE;
    }
    *rc = handle_new(out, f, base, &g, h.format, o->read_mode, owner, false);
    return OPEN_DONE;
}

/* A retired pool counts as absent: MMPOOL_CREATE removes it and looks
 * again. Closes f. */
static open_try replace_retired(mmp__file *f, const char *full, const mmpool_options *o, int *rc) {
    *rc = (o->flags & MMPOOL_CREATE) != 0 ? remove_retired(f, full) : MMPOOL_ENOENT;
    mmp__file_close(f);
    if ((o->flags & MMPOOL_CREATE) == 0) {
        return OPEN_DONE;
    }
    if (*rc == 0 || *rc == MMPOOL_ENOENT) {
        *rc = 0; /* removed, by us or by another process first */
        return OPEN_AGAIN;
    }
    return OPEN_DONE;
}

/* Creates a new pool, attaches to it and only then gives it its name, so
 * that a failure leaves nothing behind. Another creator that linked first
 * wins: then look again, and open its pool. */
static open_try create_linked(mmpool **out, const char *full, const mmpool_options *o, int *rc) {
    mmp__file *f = NULL;
    void *base = NULL;
    mmp__geometry g;
    mmp__file_access made;
    *rc = create_new(full, o, &f, &base, &g);
    if (*rc == 0) {
        *rc = mmp__file_access_get(f, &made);
        if (*rc != 0) {
            mmp__file_unmap(f, base, g.file_size);
            mmp__file_close(f);
        }
    }
    mmpool *p = NULL;
    if (*rc == 0) {
        *rc = handle_new(&p, f, base, &g, o->format != NULL ? o->format : "", o->read_mode,
                         made.owner, true);
    }
    if (*rc == 0) {
        *rc = mmp__file_link(p->file, full);
        if (*rc == 0) {
            *out = p;
            return OPEN_DONE;
        }
        mmpool_close(p);
    }
    if (*rc == MMPOOL_EEXIST) {
        *rc = 0; /* lost the race: open the winner's pool */
        return OPEN_AGAIN;
    }
    return OPEN_DONE;
}

/* One look at the path: open the pool there, replace it if retired, or
 * create it if absent (as the flags allow). */
static open_try open_once(mmpool **out, const char *full, const mmpool_options *o, int *rc) {
    mmp__file *f = NULL;
    *rc = mmp__file_open(&f, full);
    if (*rc == 0) {
        open_try t = open_existing(out, f, o, rc);
        return t == OPEN_RETIRED ? replace_retired(f, full, o, rc) : t;
    }
    if (*rc != MMPOOL_ENOENT || (o->flags & MMPOOL_CREATE) == 0) {
        return OPEN_DONE;
    }
    return create_linked(out, full, o, rc);
}

int mmpool_open(mmpool **out, const char *path, const mmpool_options *opts) {
    if (out == NULL) {
        return MMPOOL_EINVAL;
    }
    *out = NULL;
    const mmpool_options defaults = {0};
    const mmpool_options *o = opts != NULL ? opts : &defaults;
    char full[MMP__PATH_MAX];
    int rc = path == NULL ? MMPOOL_EINVAL : mmp__options_check(o);
    if (rc == 0) {
        rc = mmp__resolve_path(full, sizeof full, path);
    }
    /* Other processes may keep creating and removing the path under us. */
    for (int race = 0; rc == 0 && race < MMP__OPEN_RACES; race++) {
        if (open_once(out, full, o, &rc) == OPEN_DONE) {
            if (rc == 0) {
                (*out)->spin_ns = o->spin_ns;
            }
            return rc;
        }
    }
    return rc != 0 ? rc : MMPOOL_ESYS;
}

/* Gives back everything the handle holds and frees its entry. */
static void release_holds(mmpool *pool) {
    if (pool->write_slot >= 0) {
        mmp__slot_abort(pool, pool->write_slot);
    }
    for (uint32_t i = 0; i < pool->count; i++) {
        if (pool->loans[i] != 0) {
            mmp__slot_unpin(pool, i);
        }
    }
    /* Our event goes with the file: no waker may signal its key again. */
    mmp__wait_forget(pool, pool->index);
    atomic_store_explicit(&pool->entry->role, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->entry->state, MMP__ENTRY_FREE, memory_order_release);
    mmp__notify_slot_freed(pool);
    /* The entry lock goes with the file, after this: only then may another
     * handle take the entry. */
}

void mmpool_close(mmpool *pool) {
    if (pool == NULL) {
        return;
    }
    /* In a child that inherited the handle through fork(), the holds and
     * the entry are the parent's: skip straight to freeing our copies. */
    if (!mmp__file_inherited(pool->file)) {
        release_holds(pool);
    }
    mmp__file_unmap(pool->file, pool->base, pool->map_size);
    mmp__file_close(pool->file);
    free(pool->loans);
    free(pool);
}

int mmpool_unlink(const char *path) {
    if (path == NULL) {
        return MMPOOL_EINVAL;
    }
    char full[MMP__PATH_MAX];
    mmp__file *f;
    mmp__header h;
    mmp__geometry g;
    int rc = mmp__header_open(path, full, sizeof full, &f, &h, &g);
    if (rc != 0) {
        return rc;
    }
    /* Only the header page is needed to set the retired flag. */
    void *base = NULL;
    rc = mmp__file_map(f, MMP__HEADER_SIZE, &base);
    if (rc == 0) {
        rc = unlink_pool(f, full, base);
        mmp__file_unmap(f, base, MMP__HEADER_SIZE);
    }
    mmp__file_close(f);
    return rc;
}

int mmpool_flush(mmpool *pool) {
    if (!mmp__usable(pool)) {
        return MMPOOL_EINVAL;
    }
    if (mmp__stale(pool, true) != 0) {
        return MMPOOL_ESTALE;
    }
    mmp__reclaim_dead(pool);
    mmp__slot_flush(pool);
    mmp__notify_slot_freed(pool);
    return 0;
}

/* Counts the live handles attached (ours, and every attached entry whose
 * lock another open file holds) and those among them that have committed
 * a frame. One lock test per attached entry; nothing is changed. */
static void count_handles(const mmpool *pool, uint32_t *handles, uint32_t *writers) {
    *handles = 0;
    *writers = 0;
    for (uint32_t i = 0; i < MMP__HANDLES; i++) {
        const mmp__entry *e = mmp__entry_at(pool, i);
        if (atomic_load_explicit(&e->state, memory_order_acquire) != MMP__ENTRY_ATTACHED) {
            continue;
        }
        if (i != pool->index &&
            mmp__lock_test(pool->file, mmp__entry_lock_byte(i)) != MMPOOL_EBUSY) {
            continue; /* dead (not yet reclaimed), or cannot tell */
        }
        (*handles)++;
        if ((atomic_load_explicit(&e->role, memory_order_relaxed) & MMP__ROLE_WRITE) != 0) {
            (*writers)++;
        }
    }
}

int mmpool_stat(const mmpool *pool, mmpool_stats *out) {
    if (!mmp__usable(pool) || out == NULL) {
        return MMPOOL_EINVAL;
    }
    memset(out, 0, sizeof *out);
    out->slot_capacity = pool->capacity;
    out->slot_count = pool->count;
    out->read_mode = pool->read_mode;
    out->last_seq = atomic_load_explicit(&pool->hdr->last_seq, memory_order_acquire);
    memcpy(out->format, pool->format, sizeof out->format);
    out->owner = pool->owner;
    out->created = pool->created ? 1 : 0;
    count_handles(pool, &out->handles, &out->writers);
    return 0;
}

int mmpool_last_seq(const mmpool *pool, uint64_t *seq) {
    if (!mmp__usable(pool) || seq == NULL) {
        return MMPOOL_EINVAL;
    }
    /* Acquire, as a read's first look: whoever goes on to read after
     * seeing seq N finds at least what the commit of N published. */
    *seq = atomic_load_explicit(&pool->hdr->last_seq, memory_order_acquire);
    /* retired shares the line with last_seq: a watcher learns of an
     * unlink at no extra cost, without the path check a read makes. */
    if (atomic_load_explicit(&pool->hdr->retired, memory_order_acquire) != 0) {
        return MMPOOL_ESTALE;
    }
    return 0;
}
