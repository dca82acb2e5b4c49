/*
 * frame_writer: writes frames in the layout of the cross-language demo
 * (examples/xlang: 32-byte header with magic, flags, number, send time and
 * a word-sum checksum, then a pattern), then the end frame. The C side of
 * the C# cross-process test, and a stand-in sender for the demo's
 * receivers.
 *
 * Usage: frame_writer --pool NAME --frames N [--size BYTES] [--fps F] [--loan]
 *
 * Opens the pool with "create if missing": slot capacity BYTES (default
 * 6,220,800, a BGR Full-HD frame, which also sets the demo's format string),
 * 3 slots. --fps 0 writes as fast as the pool takes frames (default 30).
 * Exits 0 when every frame was written.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmpool.h>

#define FRAME_MAGIC UINT32_C(0x4d4d5044)
#define FRAME_END UINT32_C(1)
#define FULL_HD_BYTES 6220800u
#define HEADER_BYTES 32u

typedef struct writer_args {
    const char *pool;
    unsigned long frames, size, fps;
    int loan;
} writer_args;

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* Fills a frame of len bytes (a multiple of 8, >= 32) in place: header,
 * a pattern that depends on the number, then the checksum, which is the
 * wrapping sum of all little-endian u64 words with its own word as 0. */
static void fill_frame(uint8_t *data, size_t len, uint32_t flags, uint64_t number) {
    put_u32(data, FRAME_MAGIC);
    put_u32(data + 4, flags);
    put_u64(data + 8, number);
    put_u64(data + 16, mmpool_now_ns());
    put_u64(data + 24, 0);
    uint64_t sum = get_u64(data) + get_u64(data + 8) + get_u64(data + 16);
    for (size_t off = HEADER_BYTES; off < len; off += 8) {
        uint64_t word = number * UINT64_C(0x9e3779b97f4a7c15) + off;
        put_u64(data + off, word);
        sum += word;
    }
    put_u64(data + 24, sum);
}

static int write_one(mmpool *pool, uint8_t *buf, size_t len, uint32_t flags, uint64_t number,
                     int loan) {
    if (!loan) {
        fill_frame(buf, len, flags, number);
        return mmpool_write(pool, buf, len, 5000);
    }
    void *slot;
    size_t cap;
    int rc = mmpool_write_acquire(pool, &slot, &cap, 5000);
    if (rc != 0) {
        return rc;
    }
    fill_frame(slot, len, flags, number);
    return mmpool_write_commit(pool, len);
}

static int parse(int argc, char **argv, writer_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--loan") == 0) {
            a->loan = 1;
            continue;
        }
        if (value == NULL) {
            return -1;
        }
        if (strcmp(argv[i], "--pool") == 0) {
            a->pool = value;
        } else if (strcmp(argv[i], "--frames") == 0) {
            a->frames = strtoul(value, &end, 10);
        } else if (strcmp(argv[i], "--size") == 0) {
            a->size = strtoul(value, &end, 10);
        } else if (strcmp(argv[i], "--fps") == 0) {
            a->fps = strtoul(value, &end, 10);
        } else {
            return -1;
        }
        if (end != NULL && (*end != '\0' || end == value)) {
            return -1;
        }
        i++;
    }
    return a->pool != NULL && a->size >= HEADER_BYTES && a->size % 8 == 0 && a->fps <= 1000 ? 0
                                                                                            : -1;
}

static void sleep_until(uint64_t when_ns) {
    uint64_t now = mmpool_now_ns();
    if (when_ns > now) {
        uint64_t d = when_ns - now;
        struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv) {
    writer_args a = {NULL, 0, FULL_HD_BYTES, 30, 0};
    if (parse(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: frame_writer --pool NAME --frames N [--size BYTES (multiple of 8, "
                        ">= 32)] [--fps 0..1000] [--loan]\n");
        return 2;
    }
    mmpool_options opts = {.slot_capacity = a.size,
                           .slot_count = 3,
                           .flags = MMPOOL_CREATE,
                           .format = a.size == FULL_HD_BYTES ? "bgr8 1920x1080" : NULL};
    mmpool *pool;
    int rc = mmpool_open(&pool, a.pool, &opts);
    if (rc != 0) {
        fprintf(stderr, "frame_writer: open %s: %s\n", a.pool, mmpool_strerror(rc));
        return 1;
    }
    uint8_t *buf = a.loan ? NULL : malloc(a.size);
    if (!a.loan && buf == NULL) {
        fprintf(stderr, "frame_writer: out of memory\n");
        mmpool_close(pool);
        return 1;
    }
    uint64_t start = mmpool_now_ns();
    for (unsigned long i = 1; rc == 0 && i <= a.frames; i++) {
        if (a.fps != 0) {
            sleep_until(start + (uint64_t)(i - 1) * 1000000000u / a.fps);
        }
        rc = write_one(pool, buf, a.size, 0, i, a.loan);
    }
    if (rc == 0) {
        uint8_t end[HEADER_BYTES];
        fill_frame(end, sizeof end, FRAME_END, a.frames);
        rc = mmpool_write(pool, end, sizeof end, 5000);
    }
    if (rc != 0) {
        fprintf(stderr, "frame_writer: write: %s\n", mmpool_strerror(rc));
    }
    free(buf);
    mmpool_close(pool);
    return rc == 0 ? 0 : 1;
}
