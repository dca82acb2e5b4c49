/*
 * What the demo's sender and receiver share: the frame layout and its
 * checksum, a parser for numeric options, and the percentile statistics
 * both print. Header-only, so each program stays one source file.
 *
 * A frame is a 1920x1080 BGR image, 3 bytes per pixel, rows top to bottom
 * without padding. Its first 32 bytes (the top-left 11 pixels) carry a
 * header, in host byte order since both ends share a machine:
 *
 *   offset  0  uint32  magic     FRAME_MAGIC
 *   offset  4  uint32  flags     FRAME_END on the frame that ends a stream
 *   offset  8  uint64  number    1, 2, 3, ... in the order drawn
 *   offset 16  uint64  total     on the end frame: frames sent; else 0
 *   offset 24  uint64  checksum  FNV-1a 64 of every other byte of the frame
 *
 * The end frame is the header alone.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_WIDTH 1920
#define FRAME_HEIGHT 1080
#define FRAME_STRIDE (FRAME_WIDTH * 3)
#define FRAME_BYTES ((size_t)FRAME_STRIDE * FRAME_HEIGHT) /* 6,220,800 */
#define FRAME_FORMAT "bgr8 1920x1080"
#define FRAME_MAGIC UINT32_C(0x4d4d5044) /* "DPMM" in memory on little-endian */
#define FRAME_END UINT32_C(1)

typedef struct frame_header {
    uint32_t magic;
    uint32_t flags;
    uint64_t number;
    uint64_t total;
    uint64_t checksum;
} frame_header;

_Static_assert(sizeof(frame_header) == 32, "frame_header must have no padding");
_Static_assert(offsetof(frame_header, checksum) == 24, "checksum is the last field");

static inline uint64_t fnv1a64(uint64_t hash, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        hash = (hash ^ p[i]) * UINT64_C(0x100000001b3);
    }
    return hash;
}

/* Covers the whole frame except the checksum field itself; len >= 32. */
static inline uint64_t frame_checksum(const uint8_t *data, size_t len) {
    uint64_t hash = fnv1a64(UINT64_C(0xcbf29ce484222325), data, offsetof(frame_header, checksum));
    return fnv1a64(hash, data + sizeof(frame_header), len - sizeof(frame_header));
}

/* Stores *h at the start of data with the checksum of the len bytes filled
 * in. The rest of the frame must already be drawn. */
static inline void frame_seal(uint8_t *data, size_t len, frame_header h) {
    h.checksum = 0;
    memcpy(data, &h, sizeof h);
    h.checksum = frame_checksum(data, len);
    memcpy(data + offsetof(frame_header, checksum), &h.checksum, sizeof h.checksum);
}

/* True if data holds a whole data frame or end frame whose checksum
 * matches; *h gets its header either way when len allows. */
static inline bool frame_verify(const uint8_t *data, size_t len, frame_header *h) {
    if (len < sizeof *h) {
        return false;
    }
    memcpy(h, data, sizeof *h);
    size_t expect = (h->flags & FRAME_END) != 0 ? sizeof *h : FRAME_BYTES;
    return h->magic == FRAME_MAGIC && len == expect && h->checksum == frame_checksum(data, len);
}

/* Parses a decimal number in [min, max]; false if text is anything else. */
static inline bool parse_uint(const char *text, unsigned long min, unsigned long max,
                              unsigned *out) {
    char *end;
    unsigned long value = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || value < min || value > max) {
        return false;
    }
    *out = (unsigned)value;
    return true;
}

/* A growing list of durations in nanoseconds. Zero-initialise to start. */
typedef struct samples {
    uint64_t *v;
    size_t n, cap;
} samples;

/* Appends ns; when memory runs out the sample is skipped, which only makes
 * the statistics coarser. */
static inline void samples_add(samples *s, uint64_t ns) {
    if (s->n == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 256;
        uint64_t *v = realloc(s->v, cap * sizeof *v);
        if (v == NULL) {
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ns;
}

static inline int samples_order(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank, 0 < p <= 100) in microseconds; 0 when
 * empty. Sorts the samples in place. */
static inline double samples_percentile_us(samples *s, double p) {
    if (s->n == 0) {
        return 0.0;
    }
    qsort(s->v, s->n, sizeof s->v[0], samples_order);
    double exact = p / 100.0 * (double)s->n;
    size_t rank = (size_t)exact;
    if ((double)rank < exact) {
        rank++;
    }
    rank = rank < 1 ? 1 : rank > s->n ? s->n : rank;
    return (double)s->v[rank - 1] / 1000.0;
}

static inline void samples_free(samples *s) {
    free(s->v);
    *s = (samples){0};
}

#endif /* FRAME_H */
