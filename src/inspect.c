/*
 * Inspection without attaching: reads a pool's header, handle table and slot
 * descriptors with plain reads of the file, and asks the kernel which entry
 * locks are held (mmp__lock_test). Takes no entry, pins nothing, maps
 * nothing, so neither a full handle table nor a hostile file can make it
 * fail badly.
 */
#include <string.h>

#include "core.h"

/* Slot descriptors read per system call. */
#define MMP__SLOT_CHUNK 16
/* Re-reads of a descriptor that looks damaged: the reads of one snapshot
 * are not atomic, and a commit landing between them can look like damage. */
#define MMP__DAMAGE_RETRIES 3

/* The public structs are ABI: their sizes may never change (new fields go
 * into reserved ones), and the public constants are the file's values,
 * passed through unchanged. */
_Static_assert(sizeof(mmpool_info) == 160, "mmpool_info is ABI");
_Static_assert(sizeof(mmpool_slot_info) == 56, "mmpool_slot_info is ABI");
_Static_assert(sizeof(mmpool_handle_info) == 56, "mmpool_handle_info is ABI");
_Static_assert(MMPOOL_MAX_HANDLES == MMP__HANDLES, "handle table size");
_Static_assert(MMPOOL_ROLE_FIFO == MMP__ROLE_FIFO && MMPOOL_ROLE_READ == MMP__ROLE_READ &&
                   MMPOOL_ROLE_WRITE == MMP__ROLE_WRITE,
               "role bits are the file's");
_Static_assert(sizeof(((mmpool_info *)0)->format) == sizeof(((mmp__header *)0)->format),
               "format size");

static void fill_info(mmpool_info *info, mmp__header *h, const mmp__geometry *g) {
    memset(info, 0, sizeof *info);
    info->version_major = h->version_major;
    info->version_minor = h->version_minor;
    info->slot_capacity = g->capacity;
    info->slot_count = g->count;
    info->handle_count = MMP__HANDLES;
    info->slot_stride = g->stride;
    info->file_size = g->file_size;
    info->created_ns = h->created_ns;
    /* The mutable fields come from our private copy of the header; relaxed
     * loads suffice, nothing else is read through them. */
    info->last_seq = atomic_load_explicit(&h->last_seq, memory_order_relaxed);
    /* The holder's entry index + 1 from the lock word; a word naming no
     * entry is damage, shown as its raw value (above 32, which names
     * none). */
    uint32_t lock = atomic_load_explicit(&h->commit_lock, memory_order_relaxed);
    uint32_t holder = lock & MMP__LOCK_ENTRY_MASK;
    info->commit_lock = lock == 0 || (holder != 0 && holder <= MMP__HANDLES) ? holder : lock;
    info->retired = atomic_load_explicit(&h->retired, memory_order_relaxed) != 0;
    /* NUL-terminated within 64 bytes: mmp__header_check demands it. */
    memcpy(info->format, h->format, sizeof info->format);
}

/* Classifies one descriptor copy. Values come from the file, so each is
 * checked the way a reader would before trusting it. */
static void classify(mmpool_slot_info *out, mmp__slot *d, uint64_t capacity) {
    uint64_t state = atomic_load_explicit(&d->state, memory_order_relaxed);
    memset(out, 0, sizeof *out);
    out->pins = state & MMP__PIN_MASK;
    out->writer = (uint32_t)((state & MMP__WRITER_MASK) >> MMP__WRITER_SHIFT);
    out->seq = atomic_load_explicit(&d->seq, memory_order_relaxed);
    out->len = atomic_load_explicit(&d->len, memory_order_relaxed);
    out->timestamp_ns = atomic_load_explicit(&d->time, memory_order_relaxed);
    if (mmp__state_junk(state) != 0) {
        out->state = MMPOOL_SLOT_DAMAGED;
    } else if (out->writer != 0) {
        /* seq, len and time belong to the frame being written over; they
         * mean nothing until the commit. */
        out->state = MMPOOL_SLOT_WRITING;
    } else if (out->seq == 0) {
        out->state = MMPOOL_SLOT_EMPTY;
    } else if (!mmp__slot_valid(d, out->seq, capacity)) {
        out->state = MMPOOL_SLOT_DAMAGED;
    } else {
        out->state = MMPOOL_SLOT_COMMITTED;
    }
}

static int read_slots(mmp__file *f, const mmp__geometry *g, mmpool_slot_info *slots, size_t n) {
    mmp__slot chunk[MMP__SLOT_CHUNK];
    for (size_t first = 0; first < n; first += MMP__SLOT_CHUNK) {
        size_t k = n - first < MMP__SLOT_CHUNK ? n - first : MMP__SLOT_CHUNK;
        uint64_t at = MMP__SLOTS_OFFSET + (uint64_t)first * sizeof(mmp__slot);
        int rc = mmp__file_read(f, at, chunk, k * sizeof(mmp__slot));
        if (rc != 0) {
            return rc;
        }
        for (size_t i = 0; i < k; i++) {
            classify(&slots[first + i], &chunk[i], g->capacity);
            for (int retry = 0;
                 retry < MMP__DAMAGE_RETRIES && slots[first + i].state == MMPOOL_SLOT_DAMAGED;
                 retry++) {
                mmp__slot again;
                rc = mmp__file_read(f, at + i * sizeof(mmp__slot), &again, sizeof again);
                if (rc != 0) {
                    return rc;
                }
                classify(&slots[first + i], &again, g->capacity);
            }
        }
    }
    return 0;
}

static int read_handles(mmp__file *f, mmpool_handle_info *handles, size_t n) {
    mmp__entry table[MMP__HANDLES];
    int rc = mmp__file_read(f, MMP__HANDLES_OFFSET, table, sizeof table);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        mmpool_handle_info *h = &handles[i];
        memset(h, 0, sizeof *h);
        h->in_use =
            atomic_load_explicit(&table[i].state, memory_order_relaxed) == MMP__ENTRY_ATTACHED;
        h->role = atomic_load_explicit(&table[i].role, memory_order_relaxed) &
                  (MMP__ROLE_FIFO | MMP__ROLE_READ | MMP__ROLE_WRITE);
        h->pid = table[i].pid;
        h->proc_start = table[i].proc_start;
        h->open_ns = table[i].open_ns;
        /* Liveness is the kernel's word, not the table's: the entry lock
         * is dropped when its owner closes or dies. Testing never makes an
         * owner attaching or reclaiming meanwhile fail. */
        rc = mmp__lock_test(f, mmp__entry_lock_byte((uint32_t)i));
        if (rc != 0 && rc != MMPOOL_EBUSY) {
            return rc;
        }
        h->alive = rc == MMPOOL_EBUSY;
    }
    return 0;
}

int mmpool_inspect(const char *path, mmpool_info *info, mmpool_slot_info *slots, size_t slot_cap,
                   mmpool_handle_info *handles, size_t handle_cap) {
    if (path == NULL || info == NULL || (slots == NULL && slot_cap != 0) ||
        (handles == NULL && handle_cap != 0)) {
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
    fill_info(info, &h, &g);
    /* Only the owner is wanted: inspecting attaches to nothing, so none of
     * the rules an open applies to the file matters here. */
    mmp__file_access a;
    rc = mmp__file_access_get(f, &a);
    if (rc == 0) {
        info->owner = a.owner;
        rc = read_slots(f, &g, slots, slot_cap < g.count ? slot_cap : g.count);
    }
    if (rc == 0) {
        rc = read_handles(f, handles, handle_cap < MMP__HANDLES ? handle_cap : MMP__HANDLES);
    }
    mmp__file_close(f);
    return rc;
}

int mmpool_resolve_path(char *out, size_t cap, const char *path) {
    if (out == NULL || cap == 0 || path == NULL) {
        return MMPOOL_EINVAL;
    }
    int rc = mmp__resolve_path(out, cap, path);
    if (rc != 0) {
        out[0] = '\0';
    }
    return rc;
}

int mmpool_default_dir(char *out, size_t cap) {
    if (out == NULL || cap == 0) {
        return MMPOOL_EINVAL;
    }
    out[0] = '\0';
    /* The backend knows only how to place a name; the directory is what
     * precedes a placed name's last separator. Placed in a private buffer,
     * so that out need only hold the directory. */
    char placed[MMP__PATH_MAX];
    int rc = mmp__resolve_path(placed, sizeof placed, "x");
    if (rc != 0) {
        return rc;
    }
    size_t len = strlen(placed);
    while (len > 0 && placed[len - 1] != '/' && placed[len - 1] != '\\') {
        len--;
    }
    if (len == 0) {
        return MMPOOL_ESYS; /* the platform keeps bare names in no directory */
    }
    /* Keep a lone root separator ("/"), drop any other trailing one. */
    len = len > 1 ? len - 1 : len;
    if (len >= cap) {
        return MMPOOL_EINVAL;
    }
    memcpy(out, placed, len);
    out[len] = '\0';
    return 0;
}
