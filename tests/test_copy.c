/*
 * The copy of a frame into its slot (mmp__copy_to_slot): streaming stores
 * for large frames where the CPU has them, memcpy otherwise. Every way of
 * copying must deliver exactly the bytes given, at every size, from every
 * misalignment of the source, and write nothing past the frame's end.
 * Frames written while a reader holds a loan (copied through the cache)
 * are checked too. Each copy mode is chosen once per process from
 * $MMPOOL_COPY, so each runs in a child of its own: unset (by size:
 * streaming from 3 MiB, unless a reader is right behind), "memcpy", and
 * "sse2" and "avx", which stream at every size.
 * Sections: the check, child role, tests, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmpool.h"
#include "support.h"

#define MIB (UINT64_C(1) << 20)
#define FULL_HD UINT64_C(6220800)
#define CAPACITY (8 * MIB)
#define GUARD 256      /* bytes after the frame that must stay untouched */
#define ALIGN_MAX 64   /* source misalignments tried: 0..ALIGN_MAX-1 */
#define SMALL_ALL 1100 /* every size below this is tried */

/* ---- the check ---- */

typedef struct copier {
    mmpool *w; /* one slot: the write loan shows the slot's bytes */
    mmpool *r;
    unsigned char *src; /* CAPACITY + ALIGN_MAX random bytes */
    unsigned char *out;
    unsigned long copies;
} copier;

/* Writes len bytes from src + skew and checks what a reader gets and that
 * the GUARD bytes after them in the slot are as they were. 0 if exact. */
static int check_one(copier *c, size_t len, size_t skew) {
    void *slot = NULL;
    if (mmpool_write_acquire(c->w, &slot, NULL, 0) != MMPOOL_OK) {
        return 1;
    }
    size_t guard = len + GUARD <= CAPACITY ? GUARD : CAPACITY - len;
    memset((unsigned char *)slot + len, 0xA5, guard);
    if (mmpool_write_abort(c->w) != MMPOOL_OK ||
        mmpool_try_write(c->w, c->src + skew, len) != MMPOOL_OK) {
        return 2;
    }
    mmpool_frame info;
    if (mmpool_try_read(c->r, c->out, CAPACITY, &info) != MMPOOL_OK || info.len != len) {
        return 3;
    }
    if (memcmp(c->out, c->src + skew, len) != 0) {
        fprintf(stderr, "copy: %zu bytes from offset %zu differ\n", len, skew);
        return 4;
    }
    if (mmpool_write_acquire(c->w, &slot, NULL, 0) != MMPOOL_OK) {
        return 5;
    }
    for (size_t i = 0; i < guard; i++) {
        if (((unsigned char *)slot)[len + i] != 0xA5) {
            fprintf(stderr, "copy: %zu bytes from offset %zu wrote byte %zu past the end\n", len,
                    skew, i);
            mmpool_write_abort(c->w);
            return 6;
        }
    }
    c->copies++;
    return mmpool_write_abort(c->w) == MMPOOL_OK ? 0 : 7;
}

/* Every size 0..SMALL_ALL-1, from an aligned source and from one misaligned
 * by the size (the forced streaming modes run their head, body and tail at
 * each of them); every source misalignment at two small sizes; and, for
 * the switch at the threshold and for real frame sizes, a few sizes at and
 * just past 3 MiB, 4 MiB and Full-HD, and Full-HD from a few misaligned
 * sources. Large copies are few: sanitizers make each one slow. */
static int check_all(copier *c) {
    int rc = 0;
    for (size_t len = 0; rc == 0 && len < SMALL_ALL; len++) {
        rc = check_one(c, len, 0);
        if (rc == 0) {
            rc = check_one(c, len, len % ALIGN_MAX);
        }
    }
    for (size_t skew = 0; rc == 0 && skew < ALIGN_MAX; skew++) {
        rc = check_one(c, skew, skew);
        if (rc == 0) {
            rc = check_one(c, 1000 + skew, skew);
        }
    }
    const uint64_t edges[] = {3 * MIB, 4 * MIB, FULL_HD};
    const uint64_t past[] = {0, 1, 63, 127};
    for (size_t e = 0; rc == 0 && e < sizeof edges / sizeof edges[0]; e++) {
        rc = check_one(c, (size_t)(edges[e] - 1), 0);
        for (size_t k = 0; rc == 0 && k < sizeof past / sizeof past[0]; k++) {
            size_t len = (size_t)(edges[e] + past[k]);
            rc = check_one(c, len, len % ALIGN_MAX);
        }
    }
    const size_t skews[] = {1, 17, 33, 63};
    for (size_t k = 0; rc == 0 && k < sizeof skews / sizeof skews[0]; k++) {
        rc = check_one(c, (size_t)FULL_HD, skews[k]);
    }
    return rc;
}

/* Frames written while another handle holds a read loan, which the writer
 * copies through the cache in every mode but the forced streaming ones
 * (docs/design.md, "Unless a reader is right behind"): a Full-HD frame and
 * a small one from misaligned sources arrive exact, and the loaned frame
 * stays as it was. A pool of two slots at PATH-behind. 0 if so. */
static int check_behind(const char *path, copier *c) {
    char behind[300];
    snprintf(behind, sizeof behind, "%s-behind", path);
    mmpool_options o = {.slot_capacity = CAPACITY, .slot_count = 2, .flags = MMPOOL_CREATE};
    mmpool *w = NULL, *holder = NULL, *r = NULL;
    int rc = 0;
    if (mmpool_open(&w, behind, &o) != MMPOOL_OK ||
        mmpool_open(&holder, behind, NULL) != MMPOOL_OK ||
        mmpool_open(&r, behind, NULL) != MMPOOL_OK) {
        rc = 30;
    }
    mmpool_view held = {0};
    if (rc == 0 && (mmpool_try_write(w, c->src, (size_t)FULL_HD) != MMPOOL_OK ||
                    mmpool_read_acquire(holder, &held, 0) != MMPOOL_OK)) {
        rc = 31;
    }
    const size_t lens[] = {(size_t)FULL_HD, 4 * MIB + 1, 1000};
    for (size_t k = 0; rc == 0 && k < sizeof lens / sizeof lens[0]; k++) {
        size_t skew = 17 + k;
        mmpool_frame info;
        if (mmpool_try_write(w, c->src + skew, lens[k]) != MMPOOL_OK ||
            mmpool_try_read(r, c->out, CAPACITY, &info) != MMPOOL_OK || info.len != lens[k]) {
            rc = 32;
        } else if (memcmp(c->out, c->src + skew, lens[k]) != 0) {
            fprintf(stderr, "copy: %zu bytes written behind a reader differ\n", lens[k]);
            rc = 33;
        } else {
            c->copies++;
        }
    }
    if (rc == 0 && (held.frame.len != FULL_HD || memcmp(held.data, c->src, (size_t)FULL_HD) != 0)) {
        rc = 34;
    }
    if (held.data != NULL) {
        mmpool_read_release(holder, &held);
    }
    mmpool_close(r);
    mmpool_close(holder);
    mmpool_close(w);
    mmpool_unlink(behind);
    return rc;
}

/* ---- child role ---- */

/* copies PATH: runs check_all on a new one-slot pool at PATH, then
 * check_behind, with the copy mode this process was started with. Exit 0
 * if every copy was exact. */
static int role_copies(int argc, char **argv) {
    if (argc != 2) {
        return 10;
    }
    copier c = {0};
    mmpool_options o = {.slot_capacity = CAPACITY, .slot_count = 1, .flags = MMPOOL_CREATE};
    c.src = malloc(CAPACITY + ALIGN_MAX);
    c.out = malloc(CAPACITY);
    if (c.src == NULL || c.out == NULL || mmpool_open(&c.w, argv[1], &o) != MMPOOL_OK ||
        mmpool_open(&c.r, argv[1], NULL) != MMPOOL_OK) {
        return 11;
    }
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    for (size_t i = 0; i < CAPACITY + ALIGN_MAX; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.src[i] = (unsigned char)x;
    }
    int rc = check_all(&c);
    if (rc == 0) {
        rc = check_behind(argv[1], &c);
    }
    const char *mode = getenv("MMPOOL_COPY");
    printf("copy (%s): %lu frames copied exactly\n", mode != NULL ? mode : "by size", c.copies);
    mmpool_close(c.r);
    mmpool_close(c.w);
    mmpool_unlink(argv[1]);
    free(c.src);
    free(c.out);
    return rc == 0 ? 0 : 20 + rc;
}

static const mmpt_role roles[] = {{"copies", role_copies}, {NULL, NULL}};

/* ---- tests ---- */

static void run_mode(const char *mode) {
    char path[256];
    mmpt_path(path, sizeof path, "copy");
    assert_int_equal(mmpt_setenv("MMPOOL_COPY", mode), 0);
    mmpt_proc child = mmpt_spawn("copies", path, NULL);
    assert_int_equal(mmpt_setenv("MMPOOL_COPY", NULL), 0);
    int rc = mmpt_reap(child, 120000);
    mmpool_unlink(path);
    assert_int_equal(rc, 0);
}

static void test_copies_chosen_by_size_are_exact(void **state) {
    (void)state;
    run_mode(NULL);
}

static void test_memcpy_copies_are_exact(void **state) {
    (void)state;
    run_mode("memcpy");
}

static void test_sse2_streaming_copies_are_exact_at_every_size(void **state) {
    (void)state;
    run_mode("sse2");
}

static void test_avx_streaming_copies_are_exact_at_every_size(void **state) {
    (void)state;
    run_mode("avx");
}

/* ---- main ---- */

int main(int argc, char **argv) {
    int rc = mmpt_child_main(argc, argv, roles);
    if (rc >= 0) {
        return rc;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_chosen_by_size_are_exact),
        cmocka_unit_test(test_memcpy_copies_are_exact),
        cmocka_unit_test(test_sse2_streaming_copies_are_exact_at_every_size),
        cmocka_unit_test(test_avx_streaming_copies_are_exact_at_every_size),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
