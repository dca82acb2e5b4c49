/*
 * Writes the seed corpus of fuzz_open into the directory argv[1]: small
 * pools made by the library (capacity 64, N = 1, 2, 3), some with frames,
 * and damaged variants of them. Each file starts with fuzz_open's control
 * byte. Run once; the output is kept in tests/fuzz/corpus/.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmpool.h"

/* Offsets from docs/format.md. */
#define OFF_SLOT_CAPACITY 16
#define OFF_LAST_SEQ 256
#define OFF_COMMIT_LOCK 264
#define OFF_RETIRED 268
#define OFF_WRITE_WAITERS 332
#define ENTRY(i) (1024 + 64 * (i))
#define SLOT(i) (4096 + 64 * (i))
#define DESC_SEQ 8
#define DESC_LEN 16

typedef struct pool_file {
    unsigned char bytes[32768];
    size_t len;
} pool_file;

static const char *out_dir;

static void die(const char *what) {
    fprintf(stderr, "make_corpus: %s\n", what);
    exit(1);
}

/* A pool of capacity 64 and count slots holding frames frames, as bytes. */
static void make_pool(pool_file *f, uint32_t count, int frames) {
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/mmpool-corpus-%ld", (long)getpid());
    mmpool_options o = {.slot_capacity = 64, .slot_count = count, .flags = MMPOOL_CREATE};
    mmpool *p = NULL;
    if (mmpool_open(&p, path, &o) != MMPOOL_OK) {
        die("cannot create a pool");
    }
    for (int i = 0; i < frames; i++) {
        char frame[40];
        int n = snprintf(frame, sizeof frame, "frame %d of a seed pool", i + 1);
        mmpool_write(p, frame, (size_t)n, 0);
    }
    mmpool_close(p);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        die("cannot read the pool back");
    }
    f->len = fread(f->bytes, 1, sizeof f->bytes, fp);
    fclose(fp);
    mmpool_unlink(path);
}

static void put(pool_file *f, size_t off, uint64_t v, size_t width) {
    uint32_t v32 = (uint32_t)v;
    memcpy(f->bytes + off, width == 4 ? (void *)&v32 : (void *)&v, width);
}

static void emit(const char *name, unsigned ctl, const pool_file *f, size_t len) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *fp = fopen(path, "wb");
    unsigned char c = (unsigned char)ctl;
    if (fp == NULL || fwrite(&c, 1, 1, fp) != 1 || fwrite(f->bytes, 1, len, fp) != len ||
        fclose(fp) != 0) {
        die(path);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        die("usage: make_corpus DIR");
    }
    out_dir = argv[1];
    pool_file f;
    make_pool(&f, 1, 0);
    emit("valid-n1-empty", 0x01, &f, f.len);
    make_pool(&f, 2, 2);
    emit("valid-n2-two-frames-second-handle", 0x11, &f, f.len);
    emit("valid-n2-unlink", 0x02, &f, f.len);
    emit("truncated-n2", 0x01, &f, 8192);
    make_pool(&f, 3, 4);
    emit("valid-n3-four-frames-fifo", 0x05, &f, f.len);

    make_pool(&f, 1, 1);
    pool_file d = f;
    put(&d, OFF_SLOT_CAPACITY, 128, 8); /* checksum left stale */
    emit("bad-checksum-n1", 0x00, &d, d.len);
    d = f;
    put(&d, SLOT(0), UINT64_C(0xffffff0000000000), 8);
    emit("garbage-state-n1", 0x01, &d, d.len);
    d = f;
    put(&d, SLOT(0) + DESC_LEN, 65, 8);
    emit("len-past-capacity-n1", 0x01, &d, d.len);
    d = f;
    put(&d, OFF_RETIRED, 1, 4);
    emit("retired-n1-create", 0x09, &d, d.len);
    d = f;
    /* A committer (entry 4) died between publishing its slot and raising
     * last_seq; a reader (entry 3) died holding a pin and waiting. */
    put(&d, OFF_LAST_SEQ, 0, 8);
    put(&d, OFF_COMMIT_LOCK, 5, 4);
    put(&d, ENTRY(4), 1, 4);
    put(&d, ENTRY(3), 1, 4);
    put(&d, SLOT(0), UINT64_C(1) << 3, 8);
    put(&d, OFF_WRITE_WAITERS, UINT64_C(1) << 3, 4);
    emit("dead-holders-n1", 0x11, &d, d.len);
    d = f;
    put(&d, SLOT(0) + DESC_SEQ, 7, 8);
    emit("seq-beyond-last-n1", 0x05, &d, d.len);
    return 0;
}
