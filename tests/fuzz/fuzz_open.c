/*
 * libFuzzer target: the fuzzer's bytes become a pool file, which is opened
 * and, if it opens, driven through the whole API.
 *
 * Input: one control byte, then the file. Control bits: 1 = fix up the
 * header checksum (docs/format.md) so the fuzzer gets past it; 2 = unlink
 * the pool at the end; 4 = open in FIFO mode; 8 = open with MMPOOL_CREATE
 * (capacity 64, one slot); 16 = keep a second handle's read loan across the
 * writes. Besides crashes, it aborts when the library breaks a promise: a
 * failed open that leaves a handle or changes the file, a geometry that does
 * not fit the file, a frame longer than the capacity, a loan that cannot be
 * released.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmpool.h"

#define CTL_FIX_CHECKSUM 1u
#define CTL_UNLINK 2u
#define CTL_FIFO 4u
#define CTL_CREATE 8u
#define CTL_SECOND_HANDLE 16u

#define OFF_CHECKSUM 144 /* FNV-1a 64 of bytes 0..143 lives here */
#define PAGE 4096u       /* geometry, from docs/format.md */
#define SLOTS_OFFSET 4096u
#define DESC_BYTES 64u
#define MAX_BUFFER (64u << 20) /* no read buffer larger than this */

static char path[64];
static int fd = -1;
static unsigned char *back; /* the file read back after a refused open */
static size_t back_cap;

static void remove_file(void) {
    unlink(path);
}

/* fd names the file at path, which is (re)created when missing or when a
 * create replaced it. 0 on success. */
static int ensure_file(void) {
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/dev/shm/mmpool-fuzz-%ld", (long)getpid());
        atexit(remove_file);
    }
    struct stat at, mine;
    if (fd >= 0 && (stat(path, &at) != 0 || fstat(fd, &mine) != 0 || at.st_ino != mine.st_ino ||
                    at.st_dev != mine.st_dev)) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        unlink(path);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    return fd < 0 ? -1 : 0;
}

static void put_file(const unsigned char *data, size_t size) {
    if (ftruncate(fd, 0) != 0 || (size != 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        abort(); /* /dev/shm full or gone: nothing to learn from this input */
    }
}

static int file_is(const unsigned char *data, size_t size) {
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != size) {
        return 0;
    }
    if (back_cap < size) {
        free(back);
        back = malloc(size);
        back_cap = back != NULL ? size : 0;
    }
    return size == 0 || (back != NULL && pread(fd, back, size, 0) == (ssize_t)size &&
                         memcmp(back, data, size) == 0);
}

static void fix_checksum(unsigned char *file, size_t size) {
    if (size < OFF_CHECKSUM + 8) {
        return;
    }
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < OFF_CHECKSUM; i++) {
        h = (h ^ file[i]) * UINT64_C(0x100000001b3);
    }
    memcpy(file + OFF_CHECKSUM, &h, sizeof h);
}

/* An open pool's geometry must fit the file it was opened from. */
static void check_geometry(const mmpool_stats *st, size_t size) {
    if (st->slot_capacity == 0 || st->slot_count == 0 || st->slot_count > MMPOOL_MAX_SLOTS) {
        abort();
    }
    uint64_t stride = (st->slot_capacity + PAGE - 1) / PAGE * PAGE;
    uint64_t data_offset = (SLOTS_OFFSET + st->slot_count * DESC_BYTES + PAGE - 1) / PAGE * PAGE;
    if (data_offset > size || stride > (size - data_offset) / st->slot_count) {
        abort();
    }
    if (memchr(st->format, '\0', sizeof st->format) == NULL) {
        abort();
    }
}

static void try_copy(mmpool *p, uint64_t capacity) {
    if (capacity > MAX_BUFFER) {
        return;
    }
    void *buf = malloc((size_t)capacity);
    mmpool_frame fr;
    if (buf != NULL && mmpool_try_read(p, buf, (size_t)capacity, &fr) == MMPOOL_OK &&
        fr.len > capacity) {
        abort();
    }
    free(buf);
}

/* Takes a loan and reads every byte of it, so a view outside the mapping
 * faults. Returns 1 if the loan is held. */
static int take_loan(mmpool *p, uint64_t capacity, mmpool_view *v) {
    if (mmpool_read_acquire(p, v, 0) != MMPOOL_OK) {
        return 0;
    }
    if (v->frame.len > capacity) {
        abort();
    }
    volatile unsigned char sum = 0;
    for (uint64_t i = 0; i < v->frame.len; i++) {
        sum ^= ((const unsigned char *)v->data)[i];
    }
    (void)sum;
    return 1;
}

static void release_loan(mmpool *p, mmpool_view *v) {
    if (mmpool_read_release(p, v) != MMPOOL_OK) {
        abort();
    }
}

static void exercise(mmpool *p, unsigned ctl, size_t size) {
    mmpool_stats st;
    if (mmpool_stat(p, &st) != MMPOOL_OK) {
        abort();
    }
    check_geometry(&st, size);
    mmpool *second = NULL;
    mmpool_view held;
    int holding = 0;
    if ((ctl & CTL_SECOND_HANDLE) != 0 && mmpool_open(&second, path, NULL) == MMPOOL_OK) {
        holding = take_loan(second, st.slot_capacity, &held);
    }
    try_copy(p, st.slot_capacity);
    mmpool_view v;
    if (take_loan(p, st.slot_capacity, &v)) {
        release_loan(p, &v);
    }
    static const char frame[] = "fuzz frame";
    mmpool_try_write(p, frame, sizeof frame);
    void *data;
    size_t cap;
    if (mmpool_write_acquire(p, &data, &cap, 0) == MMPOOL_OK) {
        if (cap != st.slot_capacity) {
            abort();
        }
        memset(data, 0xa5, cap); /* the whole slot must be mapped */
        if (mmpool_write_commit(p, cap) != MMPOOL_OK) {
            mmpool_write_abort(p);
        }
    }
    try_copy(p, st.slot_capacity);
    mmpool_flush(p);
    if (holding) {
        release_loan(second, &held);
    }
    mmpool_close(second);
    mmpool_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || ensure_file() != 0) {
        return 0;
    }
    unsigned ctl = data[0];
    size_t len = size - 1;
    unsigned char *file = malloc(len + 1);
    if (file == NULL) {
        return 0;
    }
    memcpy(file, data + 1, len);
    if ((ctl & CTL_FIX_CHECKSUM) != 0) {
        fix_checksum(file, len);
    }
    put_file(file, len);
    mmpool_options o = {.read_mode = (ctl & CTL_FIFO) != 0 ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST};
    if ((ctl & CTL_CREATE) != 0) {
        o.flags = MMPOOL_CREATE;
        o.slot_capacity = 64;
        o.slot_count = 1;
    }
    mmpool *p = NULL;
    int rc = mmpool_open(&p, path, &o);
    if (rc == MMPOOL_OK) {
        /* A create may have replaced a retired pool with a new file. */
        struct stat st;
        exercise(p, ctl, stat(path, &st) == 0 ? (size_t)st.st_size : len);
    } else if (p != NULL || !file_is(file, len)) {
        abort(); /* a refused file is left alone (a retired one may lose its
                    name, never its bytes), and no handle escapes */
    }
    if ((ctl & CTL_UNLINK) != 0) {
        mmpool_unlink(path); /* the file is re-created for the next input */
    }
    free(file);
    return 0;
}
