/*
 * Shared by the hostile-input tests (test_hostile.c), the pool files they
 * build by hand and the checks on them (hostile_files.c), and the child
 * roles that write, read and scribble over a live pool (hostile_roles.c).
 *
 * The functions of hostile_files.c report through cmocka, so they are for
 * the parent, inside a test.
 */
#ifndef MMPOOL_TEST_HOSTILE_H
#define MMPOOL_TEST_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

#include "support.h"

/* ---- the pool file, from docs/format.md ---- */

#define OFF_VERSION_MAJOR 8                    /* u16 version_major */
#define OFF_BYTE_ORDER 12                      /* u32 byte-order mark */
#define OFF_SLOT_CAPACITY 16                   /* u64 slot_capacity */
#define OFF_SLOT_COUNT 24                      /* u32 slot_count */
#define OFF_HANDLE_COUNT 28                    /* u32 handle_count */
#define OFF_SLOT_STRIDE 32                     /* u64 slot_stride */
#define OFF_DATA_OFFSET 40                     /* u64 data_offset */
#define OFF_FILE_SIZE 48                       /* u64 file_size */
#define OFF_CREATED_NS 56                      /* u64 created_ns */
#define OFF_HANDLES_OFFSET 64                  /* u32 handles_offset */
#define OFF_SLOTS_OFFSET 68                    /* u32 slots_offset */
#define OFF_FORMAT 80                          /* 64 bytes: format, NUL-ended */
#define OFF_CHECKSUM 144                       /* u64 FNV-1a 64 of bytes 0..143 */
#define OFF_LAST_SEQ 256                       /* u64 last_seq */
#define OFF_COMMIT_LOCK 264                    /* u32 commit_lock */
#define HEADER_BYTES 1024                      /* the header, up to the handle table */
#define PAGE 4096                              /* alignment of slot table, data, slots */
#define SLOTS_OFFSET 4096                      /* the slot descriptor table */
#define DESC_BYTES 64                          /* one slot descriptor */
#define DESC_STATE 0                           /* u64 state, within a descriptor */
#define DESC_SEQ 8                             /* u64 seq, within a descriptor */
#define DESC_LEN 16                            /* u64 len, within a descriptor */
#define DESC_TIME 24                           /* u64 time, within a descriptor */
#define FNV_BASIS UINT64_C(0xcbf29ce484222325) /* FNV-1a 64 offset basis */

/* ---- the scribbler test and its roles ---- */

#define SCRIB_CAPACITY 65536 /* slot capacity of a scribbler round's pool */
#define SCRIB_CALL_MS 10     /* timeout of every blocking call */

/* What a child sends back at the end, in one write (atomic on a pipe). */
typedef struct child_stats {
    uint64_t writer; /* 1 from the writer, 0 from a reader */
    uint64_t ok;     /* frames written, or reads verified */
    uint64_t errors; /* any other return code */
    uint64_t bad;    /* MMPOOL_OK with a frame that does not verify */
    uint64_t moved;  /* loans whose bytes changed while held */
} child_stats;

/* ---- hand-built files and checks on them (hostile_files.c) ---- */

/* Hostile files given to hs_expect_refused so far; main() prints it. */
extern unsigned hs_files_tried;

/* Those of them refused as they must be; main() prints it. */
extern unsigned hs_files_refused;

/* FNV-1a 64 of the n bytes at bytes, continuing from h (FNV_BASIS to
 * start). */
uint64_t hs_fnv1a(uint64_t h, const void *bytes, size_t n);

/* Stores v as a native integer of width bytes (2, 4 or 8) at img + off. */
void hs_put(unsigned char *img, size_t off, uint64_t v, int width);

/* Stores at OFF_CHECKSUM the checksum of the header in img, as it is now. */
void hs_fix_checksum(unsigned char *img);

/* Reverses the order of the n bytes at b. */
void hs_reverse(unsigned char *b, size_t n);

/* x rounded up to a multiple of PAGE. */
uint64_t hs_round_page(uint64_t x);

/* The geometry of docs/format.md for capacity cap and count slots, computed
 * the careless way, wrapping modulo 2^64: what a header forged against a
 * naive reader would carry. */
void hs_wrapped_geometry(uint64_t cap, uint32_t count, uint64_t *stride, uint64_t *data_offset,
                         uint64_t *file_size);

/* A pool file of len bytes (>= 1024) built by hand from docs/format.md:
 * header for (cap, count) with a valid checksum, zeros elsewhere. The
 * caller frees it. */
unsigned char *hs_build_image(uint64_t cap, uint32_t count, size_t len, const char *format);

/* The whole file at path, which the caller frees; *len its size. */
unsigned char *hs_read_file(const char *path, size_t *len);

/* Creates a pool at path with the library, and closes it. */
void hs_create_pool(const char *path, uint64_t cap, uint32_t count);

/* Writes img (len bytes) to path and asserts that the library adopts it. */
void hs_expect_opens(const char *path, const unsigned char *img, size_t len);

/* Writes the hostile file img (len bytes) to path; adopting, creating over
 * and unlinking it must each report MMPOOL_EFORMAT, leave the file as it
 * was, and leave no descriptor or mapping behind. what names the file in a
 * failure message. */
void hs_expect_refused(const char *path, const char *what, const unsigned char *img, size_t len);

/* Maps read-write the header page and slot table of the pool at path, of
 * count slots, as another process scribbling over it would; *len is the
 * length to give hs_unmap. */
unsigned char *hs_map_meta(const char *path, uint32_t count, size_t *len);

/* ---- child roles (hostile_roles.c) ---- */

/* Maps the first len bytes of the file at path shared and read-write,
 * through a mapping of its own; NULL on failure. */
void *hs_map(const char *path, size_t len);
/* Unmaps what hs_map or hs_map_meta returned. */
void hs_unmap(void *m, size_t len);

/* Now, in milliseconds of CLOCK_MONOTONIC. */
uint64_t hs_now_ms(void);

/* Whether frame (len bytes) is intact as the writer role made it: its tag
 * gives its length and a checksum of its contents. */
int hs_frame_ok(const unsigned char *frame, uint64_t len);

/* The roles, ended by {NULL, NULL}:
 *   writer PATH MS READY_FD STATS_FD SEED
 *   reader PATH MODE MS READY_FD STATS_FD   (MODE latest, fifo or loan)
 *   scribbler PATH MS SEED COUNT
 *   unpinner PATH MS COUNT
 * The writer and readers write a byte to READY_FD once the pool is open,
 * and their child_stats to STATS_FD at the end. */
extern const mmpt_role hs_roles[];

#endif
