/*
 * The shared-memory layout of a pool file, byte by byte. docs/format.md
 * describes the same layout in prose; keep the two in step.
 *
 * Every multi-byte field is in the creator's byte order (the byte-order mark
 * tells), naturally aligned, and at the offset checked below. Fields marked
 * "atomic" are only ever accessed with C11 atomics; the rest of the header is
 * written once, before the file gets its name, and never again.
 */
#ifndef MMP_LAYOUT_H
#define MMP_LAYOUT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMP__MAGIC "MMPOOL\r\n" /* 8 bytes, no NUL */
#define MMP__VERSION_MAJOR 2    /* another major is refused */
#define MMP__VERSION_MINOR 1    /* a newer minor opens */
#define MMP__BYTE_ORDER 0x01020304u
#define MMP__PAGE 4096u /* alignment of the slot table and data */
/* The other alignment unit of data_offset and slot_stride: the 2 MiB pages
 * of a file system that maps files with them (since 2.1). */
#define MMP__HUGE_PAGE (UINT64_C(2) << 20)
#define MMP__HANDLES 32u       /* = MMPOOL_MAX_HANDLES */
#define MMP__HEADER_SIZE 4096u /* header page: header + handle table */
#define MMP__HANDLES_OFFSET 1024u
#define MMP__SLOTS_OFFSET 4096u /* slot descriptors start on page 1 */
#define MMP__CHECKSUMMED 144u   /* bytes covered by the header checksum */
/* File byte whose advisory lock serialises removing or replacing the path. */
#define MMP__PATH_LOCK_BYTE 384u

/* Largest file a pool may need: keeps every offset a valid signed 64-bit
 * file offset with room to spare. Also bounds the slot capacity. */
#define MMP__MAX_FILE_SIZE (UINT64_C(1) << 62)

/* Slot state word: who holds the slot. A single 64-bit word so that a
 * reader's pin and a writer's claim are one compare-and-swap each. */
#define MMP__PIN_MASK 0x00000000ffffffffull /* bit i: handle i pins it */
#define MMP__WRITER_SHIFT 32
#define MMP__WRITER_MASK 0x000000ff00000000ull /* handle index + 1; 0 = none */
#define MMP__STATE_RESERVED 0xffffff0000000000ull

/* Commit lock word: who holds the lock, and which of its holds this is.
 * The holder first stores the whole value in its entry's lock_mark, so a
 * value whose entry does not carry it is damage, not a hold. */
#define MMP__LOCK_ENTRY_MASK 0x0000003fu /* entry index + 1; 0 = free */
#define MMP__LOCK_NONCE_SHIFT 6
#define MMP__LOCK_NONCE_MASK 0x03ffffffu /* 26 bits, per hold */

typedef struct mmp__header {
    /* Immutable part, covered by checksum. */
    char magic[8];           /*   0 MMP__MAGIC */
    uint16_t version_major;  /*   8 MMP__VERSION_MAJOR */
    uint16_t version_minor;  /*  10 MMP__VERSION_MINOR */
    uint32_t byte_order;     /*  12 MMP__BYTE_ORDER in the creator's order */
    uint64_t slot_capacity;  /*  16 bytes a frame may hold, as requested */
    uint32_t slot_count;     /*  24 N, 1..MMPOOL_MAX_SLOTS */
    uint32_t handle_count;   /*  28 entries in the handle table (32) */
    uint64_t slot_stride;    /*  32 capacity rounded up to MMP__PAGE */
    uint64_t data_offset;    /*  40 first slot's data, page aligned */
    uint64_t file_size;      /*  48 data_offset + N * slot_stride */
    uint64_t created_ns;     /*  56 creation, ns since the Unix epoch */
    uint32_t handles_offset; /*  64 MMP__HANDLES_OFFSET */
    uint32_t slots_offset;   /*  68 MMP__SLOTS_OFFSET */
    uint64_t reserved0;      /*  72 zero */
    char format[64];         /*  80 payload description, NUL padded */
    /* End of the checksummed bytes. */
    uint64_t checksum; /* 144 FNV-1a 64 of bytes 0..143 */
    uint8_t pad0[104]; /* 152 zero */
    /* Mutable part. Commit state on its own cache line. */
    _Atomic uint64_t last_seq;    /* 256 atomic: newest committed seq */
    _Atomic uint32_t commit_lock; /* 264 atomic: 0 = free; else bits 0..5
                                     the holder's entry index + 1, bits
                                     6..31 its nonce for this hold */
    _Atomic uint32_t retired;     /* 268 atomic: 1 once mmpool_unlink ran */
    uint8_t pad1[48];             /* 272 zero */
    /* Wait/wake words on another line, so commits do not bounce it. */
    _Atomic uint32_t frame_word;    /* 320 atomic futex word: new frames */
    _Atomic uint32_t read_waiters;  /* 324 atomic: bit i, handle i waits
                                       for a frame */
    _Atomic uint32_t slot_word;     /* 328 atomic futex word: freed slots */
    _Atomic uint32_t write_waiters; /* 332 atomic: bit i, handle i waits
                                       for a free slot */
    _Atomic uint32_t event_waiters; /* 336 atomic: bit i, handle i has
                                       armed its event handle (since 2.1) */
    uint8_t pad2[684];              /* 340 zero; byte 384 is the path lock */
} mmp__header;

/* One entry of the table of attached handles (at MMP__HANDLES_OFFSET). An
 * entry belongs to the handle that holds the advisory lock on its first
 * byte; the kernel drops that lock when the process dies. */
typedef struct mmp__entry {
    _Atomic uint32_t state;     /*  0 atomic: 0 free, 1 attached */
    _Atomic uint32_t role;      /*  4 atomic: MMP__ROLE_* bits */
    uint64_t pid;               /*  8 process id, for display */
    uint64_t proc_start;        /* 16 process start time, for display */
    uint64_t open_ns;           /* 24 attach time, ns since the Unix epoch */
    _Atomic uint32_t claim;     /* 32 atomic: slot index + 1 of the slot this
                                   entry has claimed, or is about to claim, for
                                   writing; 0 = none. Lets a repairer prove that
                                   a damaged writer field hides no live claim. */
    _Atomic uint32_t lock_mark; /* 36 atomic: the commit-lock value this
                                   entry holds or is about to take; 0 =
                                   none. A lock value its entry does not
                                   carry is damage. */
    _Atomic uint64_t event_key; /* 40 atomic: names this handle's event
                                   (mmp__event_signal); 0 = none (since 2.1) */
    uint8_t reserved[16];       /* 48 zero */
} mmp__entry;

#define MMP__ENTRY_FREE 0u
#define MMP__ENTRY_ATTACHED 1u
#define MMP__ROLE_FIFO 1u  /* opened with MMPOOL_READ_FIFO */
#define MMP__ROLE_READ 2u  /* has read a frame */
#define MMP__ROLE_WRITE 4u /* has committed a frame */

/* One slot descriptor (at MMP__SLOTS_OFFSET + i * 64). */
typedef struct mmp__slot {
    _Atomic uint64_t state; /*  0 atomic: pins and writer, see above */
    _Atomic uint64_t seq;   /*  8 atomic: seq of the frame held, 0 = none */
    _Atomic uint64_t len;   /* 16 atomic: payload bytes of that frame */
    _Atomic uint64_t time;  /* 24 atomic: commit time, monotonic ns */
    _Atomic uint64_t check; /* 32 atomic: mmp__slot_check(seq, len, time),
                               so a scribbled descriptor is detected */
    uint8_t reserved[24];   /* 40 zero */
} mmp__slot;

_Static_assert(sizeof(mmp__header) == MMP__HANDLES_OFFSET, "header size");
_Static_assert(offsetof(mmp__header, magic) == 0, "layout");
_Static_assert(offsetof(mmp__header, version_major) == 8, "layout");
_Static_assert(offsetof(mmp__header, version_minor) == 10, "layout");
_Static_assert(offsetof(mmp__header, byte_order) == 12, "layout");
_Static_assert(offsetof(mmp__header, slot_capacity) == 16, "layout");
_Static_assert(offsetof(mmp__header, slot_count) == 24, "layout");
_Static_assert(offsetof(mmp__header, handle_count) == 28, "layout");
_Static_assert(offsetof(mmp__header, slot_stride) == 32, "layout");
_Static_assert(offsetof(mmp__header, data_offset) == 40, "layout");
_Static_assert(offsetof(mmp__header, file_size) == 48, "layout");
_Static_assert(offsetof(mmp__header, created_ns) == 56, "layout");
_Static_assert(offsetof(mmp__header, handles_offset) == 64, "layout");
_Static_assert(offsetof(mmp__header, slots_offset) == 68, "layout");
_Static_assert(offsetof(mmp__header, reserved0) == 72, "layout");
_Static_assert(offsetof(mmp__header, format) == 80, "layout");
_Static_assert(offsetof(mmp__header, pad0) == 152, "layout");
_Static_assert(offsetof(mmp__header, checksum) == MMP__CHECKSUMMED, "layout");
_Static_assert(offsetof(mmp__header, last_seq) == 256, "layout");
_Static_assert(offsetof(mmp__header, commit_lock) == 264, "layout");
_Static_assert(offsetof(mmp__header, retired) == 268, "layout");
_Static_assert(offsetof(mmp__header, pad1) == 272, "layout");
_Static_assert(offsetof(mmp__header, frame_word) == 320, "layout");
_Static_assert(offsetof(mmp__header, read_waiters) == 324, "layout");
_Static_assert(offsetof(mmp__header, slot_word) == 328, "layout");
_Static_assert(offsetof(mmp__header, write_waiters) == 332, "layout");
_Static_assert(offsetof(mmp__header, event_waiters) == 336, "layout");
_Static_assert(offsetof(mmp__header, pad2) == 340, "layout");
_Static_assert(MMP__PATH_LOCK_BYTE >= 340 && MMP__PATH_LOCK_BYTE < MMP__HANDLES_OFFSET,
               "the path lock byte lies in padding");
_Static_assert(sizeof(mmp__entry) == 64, "entry size");
_Static_assert(offsetof(mmp__entry, state) == 0, "layout");
_Static_assert(offsetof(mmp__entry, role) == 4, "layout");
_Static_assert(offsetof(mmp__entry, pid) == 8, "layout");
_Static_assert(offsetof(mmp__entry, proc_start) == 16, "layout");
_Static_assert(offsetof(mmp__entry, open_ns) == 24, "layout");
_Static_assert(offsetof(mmp__entry, claim) == 32, "layout");
_Static_assert(offsetof(mmp__entry, lock_mark) == 36, "layout");
_Static_assert(offsetof(mmp__entry, event_key) == 40, "layout");
_Static_assert(offsetof(mmp__entry, reserved) == 48, "layout");
_Static_assert(MMP__HANDLES <= MMP__LOCK_ENTRY_MASK, "the lock word names every entry");
_Static_assert(sizeof(mmp__slot) == 64, "slot size");
_Static_assert(offsetof(mmp__slot, state) == 0, "layout");
_Static_assert(offsetof(mmp__slot, seq) == 8, "layout");
_Static_assert(offsetof(mmp__slot, len) == 16, "layout");
_Static_assert(offsetof(mmp__slot, time) == 24, "layout");
_Static_assert(offsetof(mmp__slot, check) == 32, "layout");
_Static_assert(offsetof(mmp__slot, reserved) == 40, "layout");
_Static_assert(MMP__HANDLES_OFFSET + MMP__HANDLES * sizeof(mmp__entry) <= MMP__HEADER_SIZE,
               "handle table fits the header page");
_Static_assert(MMP__HANDLES <= 32, "pin mask and waiter masks are 32 bits");
/* The file is shared with other processes: its atomics must not hide a lock
 * in one process's private memory. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "64- and 32-bit atomics must be lock-free");

/* SplitMix64's finaliser: every input bit affects every output bit. */
static inline uint64_t mmp__mix(uint64_t x) {
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* The check word of a committed frame's descriptor (docs/format.md). */
static inline uint64_t mmp__slot_check(uint64_t seq, uint64_t len, uint64_t time) {
    return mmp__mix(seq ^ mmp__mix(len ^ mmp__mix(time)));
}

/* The one rule for "descriptor s holds a committed frame numbered seq" in a
 * pool of the given slot capacity: its seq is seq (not 0), its length fits
 * the capacity and its check word matches. Every reader of a descriptor
 * (a pick, a read, a repair, inspection) applies it before trusting one;
 * on an unpinned slot the answer is only a hint. Each field is loaded
 * once, and *len and *time get the values that were checked: another
 * process may change the descriptor at any moment, even under a pin, so a
 * caller that loaded them again could hand out a length it never checked. */
static inline bool mmp__slot_load(const mmp__slot *s, uint64_t seq, uint64_t capacity,
                                  uint64_t *len, uint64_t *time) {
    *len = atomic_load_explicit(&s->len, memory_order_relaxed);
    *time = atomic_load_explicit(&s->time, memory_order_relaxed);
    return seq != 0 && atomic_load_explicit(&s->seq, memory_order_relaxed) == seq &&
           *len <= capacity &&
           atomic_load_explicit(&s->check, memory_order_relaxed) ==
               mmp__slot_check(seq, *len, *time);
}

/* mmp__slot_load for a caller that needs only the answer. */
static inline bool mmp__slot_valid(const mmp__slot *s, uint64_t seq, uint64_t capacity) {
    uint64_t len, time;
    return mmp__slot_load(s, seq, capacity, &len, &time);
}

#endif /* MMP_LAYOUT_H */
