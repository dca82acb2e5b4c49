/*
 * The C side of the Python binding's cross-process tests: writes or reads
 * a numbered run of frames whose contents both languages can check.
 *
 *   mmpool_py_peer write PATH COUNT   writes frames 1..COUNT
 *   mmpool_py_peer read PATH COUNT    reads until frame COUNT, checking each
 *
 * Frame k has 100 + 37 * k bytes: an 8-byte little-endian k, then byte j is
 * (k * 31 + j) & 0xff. The pool must exist (the test creates it, with
 * enough slots for every frame); the reader reads it in FIFO order. Exit
 * status 0 when everything matched; the reader prints "read N frames".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmpool.h>

#define PEER_TIMEOUT_MS 10000

static size_t frame_len(uint64_t k) {
    return (size_t)(100 + 37 * k);
}

static void fill(unsigned char *buf, uint64_t k) {
    size_t len = frame_len(k);
    for (size_t j = 0; j < 8; j++) {
        buf[j] = (unsigned char)(k >> (8 * j));
    }
    for (size_t j = 8; j < len; j++) {
        buf[j] = (unsigned char)((k * 31 + j) & 0xff);
    }
}

static int write_frames(mmpool *pool, uint64_t count, unsigned char *buf) {
    for (uint64_t k = 1; k <= count; k++) {
        fill(buf, k);
        int rc = mmpool_write(pool, buf, frame_len(k), PEER_TIMEOUT_MS);
        if (rc != 0) {
            fprintf(stderr, "peer: write of frame %" PRIu64 ": %s\n", k, mmpool_err_name(rc));
            return 1;
        }
    }
    return 0;
}

static int read_frames(mmpool *pool, uint64_t count, unsigned char *buf, size_t cap) {
    unsigned char *want = malloc(cap);
    uint64_t seen = 0;
    int status = want == NULL ? 1 : 0;
    while (status == 0 && seen < count) {
        mmpool_frame frame;
        int rc = mmpool_read(pool, buf, cap, &frame, PEER_TIMEOUT_MS);
        if (rc != 0) {
            fprintf(stderr, "peer: read after frame %" PRIu64 ": %s\n", seen, mmpool_err_name(rc));
            status = 1;
            break;
        }
        uint64_t k = 0;
        for (size_t j = 0; j < 8 && j < frame.len; j++) {
            k |= (uint64_t)buf[j] << (8 * j);
        }
        fill(want, k < count + 1 ? k : 0);
        if (k != seen + 1 || frame.len != frame_len(k) || memcmp(buf, want, frame.len) != 0) {
            fprintf(stderr, "peer: frame %" PRIu64 " (%" PRIu64 " bytes) after %" PRIu64 "\n", k,
                    frame.len, seen);
            status = 1;
        }
        seen = k;
    }
    free(want);
    if (status == 0) {
        printf("read %" PRIu64 " frames\n", seen);
    }
    return status;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: %s write|read PATH COUNT\n", argv[0]);
        return 2;
    }
    uint64_t count = strtoull(argv[3], NULL, 10);
    /* Adopts the test's pool; the reader takes every frame in order. */
    const mmpool_options opts = {.read_mode = MMPOOL_READ_FIFO};
    mmpool *pool = NULL;
    int rc = mmpool_open(&pool, argv[2], &opts);
    if (rc != 0) {
        fprintf(stderr, "peer: open %s: %s\n", argv[2], mmpool_err_name(rc));
        return 1;
    }
    mmpool_stats st;
    mmpool_stat(pool, &st);
    unsigned char *buf = malloc((size_t)st.slot_capacity);
    int status = 1;
    if (buf == NULL || frame_len(count) > st.slot_capacity) {
        fprintf(stderr, "peer: slots of %" PRIu64 " bytes are too small\n", st.slot_capacity);
    } else if (argv[1][0] == 'w') {
        status = write_frames(pool, count, buf);
    } else {
        status = read_frames(pool, count, buf, (size_t)st.slot_capacity);
    }
    free(buf);
    mmpool_close(pool);
    return status;
}
