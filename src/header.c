/*
 * The pool header: geometry, building and checking the immutable part,
 * opening a file and checking its header, and whether the pool is still in
 * use (its retired flag, its path).
 */
#include <string.h>

#include "core.h"

/* How often a handle that keeps succeeding looks whether its file is still
 * at its path: a writer into a file that was removed would otherwise write
 * for ever into a pool that nobody can open. */
#define MMP__PATH_CHECK_NS UINT64_C(1000000000)

static uint64_t checksum(const void *bytes, size_t len) {
    /* FNV-1a 64: cheap, byte-order independent, catches a scribbled or
     * half-written header; it is no defence against a forger, and need not
     * be, since every field is range-checked as well. */
    const unsigned char *b = bytes;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int mmp__geometry_make(mmp__geometry *g, uint64_t capacity, uint32_t count, uint64_t unit) {
    if (capacity == 0 || count == 0 || count > MMPOOL_MAX_SLOTS) {
        return MMPOOL_EINVAL;
    }
    if (capacity > MMP__MAX_FILE_SIZE) {
        return MMPOOL_EINVAL;
    }
    uint64_t stride = (capacity + unit - 1) / unit * unit;
    uint64_t table = MMP__SLOTS_OFFSET + (uint64_t)count * sizeof(mmp__slot);
    uint64_t data_offset = (table + unit - 1) / unit * unit;
    /* count <= MMPOOL_MAX_SLOTS and stride <= 2^62, so this division-based
     * test is the whole overflow check. */
    if (stride > (MMP__MAX_FILE_SIZE - data_offset) / count) {
        return MMPOOL_EINVAL;
    }
    g->capacity = capacity;
    g->count = count;
    g->stride = stride;
    g->data_offset = data_offset;
    g->file_size = data_offset + stride * count;
    return 0;
}

uint64_t mmp__geometry_unit(const char *path, uint64_t capacity) {
    bool required = false;
    uint64_t huge = mmp__path_huge_page(path, &required);
    if (huge != MMP__HUGE_PAGE) {
        return MMP__PAGE;
    }
    return required || capacity >= MMP__HUGE_PAGE ? MMP__HUGE_PAGE : MMP__PAGE;
}

void mmp__header_init(mmp__header *h, const mmp__geometry *g, const char *format,
                      uint64_t created_ns) {
    memcpy(h->magic, MMP__MAGIC, sizeof h->magic);
    h->version_major = MMP__VERSION_MAJOR;
    h->version_minor = MMP__VERSION_MINOR;
    h->byte_order = MMP__BYTE_ORDER;
    h->slot_capacity = g->capacity;
    h->slot_count = g->count;
    h->handle_count = MMP__HANDLES;
    h->slot_stride = g->stride;
    h->data_offset = g->data_offset;
    h->file_size = g->file_size;
    h->created_ns = created_ns;
    h->handles_offset = MMP__HANDLES_OFFSET;
    h->slots_offset = MMP__SLOTS_OFFSET;
    if (format != NULL) {
        memcpy(h->format, format, strlen(format));
    }
    h->checksum = checksum(h, MMP__CHECKSUMMED);
}

int mmp__header_check(const mmp__header *h, uint64_t file_size, mmp__geometry *g) {
    if (memcmp(h->magic, MMP__MAGIC, sizeof h->magic) != 0) {
        return MMPOOL_EFORMAT;
    }
    /* A pool made on a machine of the other byte order cannot be shared
     * through memory anyway. */
    if (h->byte_order != MMP__BYTE_ORDER) {
        return MMPOOL_EFORMAT;
    }
    /* A newer minor version only adds meaning to reserved bytes; a newer
     * major changes what we would misread. */
    if (h->version_major != MMP__VERSION_MAJOR) {
        return MMPOOL_EFORMAT;
    }
    if (h->checksum != checksum(h, MMP__CHECKSUMMED)) {
        return MMPOOL_EFORMAT;
    }
    if (h->handle_count != MMP__HANDLES || h->handles_offset != MMP__HANDLES_OFFSET ||
        h->slots_offset != MMP__SLOTS_OFFSET) {
        return MMPOOL_EFORMAT;
    }
    /* Recompute the geometry from capacity and count alone, in each of the
     * two units, and demand that the stored offsets agree with one of them:
     * nothing stored is used to address memory. */
    mmp__geometry want;
    const uint64_t units[] = {MMP__PAGE, MMP__HUGE_PAGE};
    bool found = false;
    for (size_t i = 0; i < sizeof units / sizeof units[0] && !found; i++) {
        found = mmp__geometry_make(&want, h->slot_capacity, h->slot_count, units[i]) == 0 &&
                h->slot_stride == want.stride && h->data_offset == want.data_offset &&
                h->file_size == want.file_size;
    }
    if (!found) {
        return MMPOOL_EFORMAT;
    }
    /* Mapping past the end of the file would fault on first touch. */
    if (file_size < want.file_size) {
        return MMPOOL_EFORMAT;
    }
    if (memchr(h->format, '\0', sizeof h->format) == NULL) {
        return MMPOOL_EFORMAT;
    }
    *g = want;
    return 0;
}

int mmp__header_read(mmp__file *f, mmp__header *h, mmp__geometry *g) {
    uint64_t size;
    int rc = mmp__file_size(f, &size);
    if (rc != 0) {
        return rc;
    }
    if (size < sizeof *h) {
        return MMPOOL_EFORMAT;
    }
    rc = mmp__file_read(f, 0, h, sizeof *h);
    if (rc != 0) {
        return rc;
    }
    return mmp__header_check(h, size, g);
}

int mmp__header_open(const char *path, char *full, size_t cap, mmp__file **f, mmp__header *h,
                     mmp__geometry *g) {
    int rc = mmp__resolve_path(full, cap, path);
    if (rc != 0) {
        return rc;
    }
    rc = mmp__file_open(f, full);
    if (rc != 0) {
        return rc;
    }
    rc = mmp__header_read(*f, h, g);
    if (rc != 0) {
        mmp__file_close(*f);
        *f = NULL;
    }
    return rc;
}

int mmp__stale(mmpool *p, bool force) {
    /* acquire: pairs with the unlinker's store; nothing is read through it,
     * but a retired pool must not take new frames. */
    if (p->gone || atomic_load_explicit(&p->hdr->retired, memory_order_acquire) != 0) {
        return MMPOOL_ESTALE;
    }
    /* Every call looks here: the coarse clock is enough for a once a
     * second check, and costs a third of the fine one. */
    uint64_t now = mmp__coarse_ns();
    if (!force && now - p->path_seen_ns < MMP__PATH_CHECK_NS) {
        return 0;
    }
    /* An error telling where the file is proves nothing: not stale. A
     * file found away from its path was removed or replaced, or is being
     * unlinked: mmpool_unlink moves the file aside before it sets the
     * retired flag, so a call that looked at the path in between would
     * otherwise be told ESTALE and the next one, not looking for another
     * second, would go on (a write committed into a pool being retired).
     * Remembered, so the handle stays stale, as it would once retired. */
    if (mmp__file_at_path(p->file) == 0) {
        p->gone = true;
        return MMPOOL_ESTALE;
    }
    p->path_seen_ns = now;
    return 0;
}
