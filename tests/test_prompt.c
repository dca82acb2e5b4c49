/*
 * Promptness of the wake-ups that end a blocked call from outside:
 * mmpool_interrupt and mmpool_unlink wake every sleeper on the pool at once.
 * Without those wake-ups a sleeper would still find out by itself, at the
 * end of its re-check slice (100 ms in src/io.c), so each test bounds the
 * delay well below a slice: the call is blocked, the wake-up comes SLEEP_MS
 * later (a sleeper not woken would return about a slice after it began),
 * and the median of SAMPLES delays must stay under PROMPT_MS. The median
 * keeps one sample delayed by a loaded machine from failing the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmpool.h"
#include "support.h"

enum {
    SLICE_MS = 100,    /* a sleeper's re-check period (MMP__WAIT_SLICE_MS) */
    SLEEP_MS = 20,     /* from the blocked call's start to the wake-up */
    PROMPT_MS = 40,    /* bound on the median delay: unwoken, it is ~80 ms */
    SAMPLES = 7,       /* delays measured per test */
    GIVE_UP_MS = 10000 /* a blocked call's timeout: a lost wake-up fails, not hangs */
};

#define MS_NS UINT64_C(1000000)

typedef struct fixture {
    char path[256];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) {
        return -1;
    }
    mmpt_path(fx->path, sizeof fx->path, "prompt");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->path);
    free(fx);
    return 0;
}

/* A pool of count slots of 64 bytes at path; with count 1 and a frame in
 * it, held is a second handle holding that frame as a read loan, so a
 * write on the pool has to wait. */
typedef struct pool_pair {
    mmpool *user;   /* the handle whose call blocks */
    mmpool *holder; /* holds the only slot, for blocked writes */
    mmpool_view loan;
} pool_pair;

static void open_pair(pool_pair *pp, const char *path, bool full) {
    mmpool_options o = {.slot_capacity = 64, .slot_count = full ? 1 : 2, .flags = MMPOOL_CREATE};
    memset(pp, 0, sizeof *pp);
    assert_int_equal(mmpool_open(&pp->user, path, &o), MMPOOL_OK);
    if (full) {
        assert_int_equal(mmpool_open(&pp->holder, path, NULL), MMPOOL_OK);
        assert_int_equal(mmpool_try_write(pp->user, "held", 4), MMPOOL_OK);
        assert_int_equal(mmpool_read_acquire(pp->holder, &pp->loan, 0), MMPOOL_OK);
        /* Full: a write now has to wait for the loan. */
        assert_int_equal(mmpool_try_write(pp->user, "x", 1), MMPOOL_EBUSY);
    }
}

static void close_pair(pool_pair *pp) {
    if (pp->holder != NULL) {
        mmpool_close(pp->holder); /* gives back the loan, also on a removed pool */
    }
    mmpool_close(pp->user);
}

/* A call blocked in another thread: a read on an empty pool, or a write on
 * a full one. */
typedef struct blocked {
    mmpool *pool;
    bool write;
    int rc;
    uint64_t returned_ns;
} blocked;

static void *run_blocked(void *arg) {
    blocked *b = arg;
    char buf[64];
    b->rc = b->write ? mmpool_write(b->pool, "x", 1, GIVE_UP_MS)
                     : mmpool_read(b->pool, buf, sizeof buf, NULL, GIVE_UP_MS);
    b->returned_ns = mmpool_now_ns();
    return NULL;
}

typedef enum wake_by { BY_INTERRUPT, BY_UNLINK } wake_by;

/* Blocks a call on pp->user, wakes it by `by` SLEEP_MS later, and returns
 * how long the call took to return after the wake-up began, in ns. */
static uint64_t one_delay(pool_pair *pp, const char *path, bool write, wake_by by, int want) {
    blocked b = {.pool = pp->user, .write = write};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_blocked, &b), 0);
    mmpt_sleep_ms(SLEEP_MS); /* asleep in its wait by now, on a machine not too loaded */
    uint64_t t0 = mmpool_now_ns();
    int rc = by == BY_INTERRUPT ? mmpool_interrupt(pp->user) : mmpool_unlink(path);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, MMPOOL_OK);
    if (b.rc != want) {
        fail_msg("blocked %s returned %s, want %s", write ? "write" : "read", mmpool_err_name(b.rc),
                 mmpool_err_name(want));
    }
    return b.returned_ns > t0 ? b.returned_ns - t0 : 0;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Prints the samples as a summary line and asserts their median. */
static void assert_prompt(const char *what, uint64_t *ns) {
    qsort(ns, SAMPLES, sizeof *ns, by_value);
    uint64_t median = ns[SAMPLES / 2];
    printf(
        "prompt: %s: median %.2f ms, min %.2f, max %.2f (%d samples; slice %d ms, bound %d ms)\n",
        what, (double)median / 1e6, (double)ns[0] / 1e6, (double)ns[SAMPLES - 1] / 1e6, SAMPLES,
        SLICE_MS, PROMPT_MS);
    if (median >= (uint64_t)PROMPT_MS * MS_NS) {
        fail_msg("%s: median delay %.2f ms, not under %d ms: the sleeper was not woken", what,
                 (double)median / 1e6, PROMPT_MS);
    }
}

static void test_interrupt_wakes_a_blocked_read_at_once(void **state) {
    fixture *fx = *state;
    pool_pair pp;
    open_pair(&pp, fx->path, false);
    uint64_t ns[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        ns[i] = one_delay(&pp, fx->path, false, BY_INTERRUPT, MMPOOL_ECANCELED);
    }
    close_pair(&pp);
    assert_prompt("interrupt of a blocked read", ns);
}

static void test_interrupt_wakes_a_writer_blocked_on_a_full_pool_at_once(void **state) {
    fixture *fx = *state;
    pool_pair pp;
    open_pair(&pp, fx->path, true);
    uint64_t ns[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        ns[i] = one_delay(&pp, fx->path, true, BY_INTERRUPT, MMPOOL_ECANCELED);
    }
    /* The interrupt was the writer's only way out: the loan still holds. */
    assert_int_equal(mmpool_try_write(pp.user, "x", 1), MMPOOL_EBUSY);
    assert_int_equal(mmpool_read_release(pp.holder, &pp.loan), MMPOOL_OK);
    assert_int_equal(mmpool_write(pp.user, "x", 1, GIVE_UP_MS), MMPOOL_OK);
    close_pair(&pp);
    assert_prompt("interrupt of a write blocked on a full pool", ns);
}

static void test_unlink_wakes_a_blocked_read_at_once(void **state) {
    fixture *fx = *state;
    uint64_t ns[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        pool_pair pp;
        open_pair(&pp, fx->path, false);
        ns[i] = one_delay(&pp, fx->path, false, BY_UNLINK, MMPOOL_ESTALE);
        close_pair(&pp);
    }
    assert_prompt("unlink under a blocked read", ns);
}

static void test_unlink_wakes_a_writer_blocked_on_a_full_pool_at_once(void **state) {
    fixture *fx = *state;
    uint64_t ns[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        pool_pair pp;
        open_pair(&pp, fx->path, true);
        ns[i] = one_delay(&pp, fx->path, true, BY_UNLINK, MMPOOL_ESTALE);
        close_pair(&pp);
    }
    assert_prompt("unlink under a write blocked on a full pool", ns);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_interrupt_wakes_a_blocked_read_at_once),
        T(test_interrupt_wakes_a_writer_blocked_on_a_full_pool_at_once),
        T(test_unlink_wakes_a_blocked_read_at_once),
        T(test_unlink_wakes_a_writer_blocked_on_a_full_pool_at_once),
    };
#undef T
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
