/*
 * mmpool_options.spin_ns: a blocked call watches the pool before it sleeps.
 * What is proved here is behaviour, not speed (bench/ measures that): a
 * spinning call still gets its frame or slot, never outlasts its timeout,
 * ends at once on an interrupt or an unlink, and stops spinning after
 * spin_ns (its thread's CPU time, with bounds far from the values a broken
 * spin would give). mmpool_last_seq(), for a caller that watches the
 * pool itself, follows commits and may run beside other calls.
 * Sections: helpers, results, bounds, watching the newest seq oneself,
 * main.
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
#include <time.h>

#include "mmpool.h"
#include "support.h"

#define MS_NS UINT64_C(1000000)
#define LONG_SPIN_NS (UINT64_C(10000) * MS_NS) /* 10 s: a call must end long before */

enum {
    GIVE_UP_MS = 5000, /* a call that should end: generous for a loaded machine */
    LATER_MS = 50,     /* when the other side acts */
    PROMPT_MS = 1000   /* far below LONG_SPIN_NS, far above a prompt end */
};

/* ---- helpers ---- */

typedef struct fixture {
    char path[256];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) {
        return -1;
    }
    mmpt_path(fx->path, sizeof fx->path, "spin");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->path);
    free(fx);
    return 0;
}

static mmpool *open_spinning(const char *path, uint32_t slots, uint64_t spin_ns) {
    mmpool_options o = {
        .slot_capacity = 64, .slot_count = slots, .flags = MMPOOL_CREATE, .spin_ns = spin_ns};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

/* A blocking call run in a thread: a read (buf) or a write of "w". */
typedef struct call {
    mmpool *p;
    bool write;
    int timeout_ms;
    int rc;
    uint64_t ms;     /* how long it took */
    uint64_t cpu_ms; /* CPU time its thread used meanwhile */
    char buf[64];
} call;

static uint64_t thread_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *run_call(void *arg) {
    call *c = arg;
    uint64_t t0 = mmpool_now_ns();
    uint64_t cpu0 = thread_cpu_ms();
    c->rc = c->write ? mmpool_write(c->p, "w", 1, c->timeout_ms)
                     : mmpool_read(c->p, c->buf, sizeof c->buf, NULL, c->timeout_ms);
    c->cpu_ms = thread_cpu_ms() - cpu0;
    c->ms = (mmpool_now_ns() - t0) / MS_NS;
    return NULL;
}

static pthread_t start(call *c) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_call, c), 0);
    return t;
}

/* ---- results ---- */

static void test_spinning_read_gets_a_frame_written_later(void **state) {
    fixture *fx = *state;
    mmpool *r = open_spinning(fx->path, 2, LONG_SPIN_NS);
    mmpool *w = open_spinning(fx->path, 2, 0);
    call c = {.p = r, .timeout_ms = GIVE_UP_MS};
    pthread_t t = start(&c);
    mmpt_sleep_ms(LATER_MS);
    assert_int_equal(mmpool_try_write(w, "spun", 4), MMPOOL_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, MMPOOL_OK);
    assert_memory_equal(c.buf, "spun", 4);
    assert_true(c.ms < PROMPT_MS);
    mmpool_close(w);
    mmpool_close(r);
}

static void test_spinning_write_gets_a_slot_a_reader_gives_back(void **state) {
    fixture *fx = *state;
    mmpool *w = open_spinning(fx->path, 1, LONG_SPIN_NS);
    mmpool *r = open_spinning(fx->path, 1, 0);
    mmpool_view v;
    assert_int_equal(mmpool_try_write(w, "held", 4), MMPOOL_OK);
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    call c = {.p = w, .write = true, .timeout_ms = GIVE_UP_MS};
    pthread_t t = start(&c);
    mmpt_sleep_ms(LATER_MS);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, MMPOOL_OK);
    assert_true(c.ms < PROMPT_MS);
    mmpool_close(r);
    mmpool_close(w);
}

typedef enum { BY_INTERRUPT, BY_UNLINK } ender;

static void ends_a_spinning_read(fixture *fx, ender how, int want) {
    mmpool *r = open_spinning(fx->path, 2, LONG_SPIN_NS);
    call c = {.p = r, .timeout_ms = MMPOOL_WAIT_FOREVER};
    pthread_t t = start(&c);
    mmpt_sleep_ms(LATER_MS);
    if (how == BY_INTERRUPT) {
        assert_int_equal(mmpool_interrupt(r), MMPOOL_OK);
    } else {
        assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    }
    pthread_join(t, NULL);
    assert_int_equal(c.rc, want);
    /* Still spinning (it would spin for 10 s) when the end came. */
    assert_true(c.ms < LATER_MS + PROMPT_MS);
    mmpool_close(r);
}

static void test_interrupt_ends_a_spinning_read_at_once(void **state) {
    ends_a_spinning_read(*state, BY_INTERRUPT, MMPOOL_ECANCELED);
}

static void test_unlink_ends_a_spinning_read_at_once(void **state) {
    ends_a_spinning_read(*state, BY_UNLINK, MMPOOL_ESTALE);
}

/* ---- bounds ---- */

static void test_spin_never_outlasts_the_timeout(void **state) {
    fixture *fx = *state;
    mmpool *r = open_spinning(fx->path, 2, LONG_SPIN_NS);
    call c = {.p = r, .timeout_ms = 100};
    run_call(&c);
    assert_int_equal(c.rc, MMPOOL_ETIMEDOUT);
    assert_true(c.ms >= 100);
    assert_true(c.ms < PROMPT_MS);
    mmpool_close(r);
}

static void test_spin_stops_after_spin_ns_and_sleeps(void **state) {
    fixture *fx = *state;
    /* 20 ms of spinning within a 1500 ms wait: the thread sleeps for the
     * rest, so it uses about 20 ms of CPU, never more than the 20 ms of
     * wall time it spun. A spin that ignored spin_ns would use 1500 ms, or
     * its share of a busy machine's CPUs: at a quarter, 375 ms. */
    mmpool *r = open_spinning(fx->path, 2, 20 * MS_NS);
    call c = {.p = r, .timeout_ms = 1500};
    run_call(&c);
    assert_int_equal(c.rc, MMPOOL_ETIMEDOUT);
    printf("spin: 20 ms spin in a 1500 ms wait used %llu ms of CPU\n",
           (unsigned long long)c.cpu_ms);
    assert_true(c.cpu_ms < 150);
    /* And it does spin: 300 ms of spin_ns in a 300 ms wait keeps the CPU
     * busy for most of it (a call that slept at once would use ~0). */
    mmpool_close(r);
    r = open_spinning(fx->path, 2, 300 * MS_NS);
    call busy = {.p = r, .timeout_ms = 300};
    run_call(&busy);
    assert_int_equal(busy.rc, MMPOOL_ETIMEDOUT);
    printf("spin: 300 ms spin in a 300 ms wait used %llu ms of CPU\n",
           (unsigned long long)busy.cpu_ms);
    assert_true(busy.cpu_ms >= 20); /* a sleeping wait uses ~0 */
    mmpool_close(r);
}

static void test_options_with_spin_ns_still_refuse_reserved_bits(void **state) {
    fixture *fx = *state;
    mmpool_options o = {
        .slot_capacity = 64, .slot_count = 2, .flags = MMPOOL_CREATE, .spin_ns = 1000};
    o.reserved[2] = 1;
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    assert_null(p);
    o.reserved[2] = 0;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    mmpool_close(p);
}

/* ---- watching the newest seq oneself ---- */

static void test_last_seq_follows_commits_and_sees_an_unlink(void **state) {
    fixture *fx = *state;
    mmpool *w = open_spinning(fx->path, 2, 0);
    mmpool *r = open_spinning(fx->path, 2, 0);
    uint64_t seq = 99;
    assert_int_equal(mmpool_last_seq(r, &seq), MMPOOL_OK);
    assert_int_equal(seq, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mmpool_try_write(w, "abc", 3), MMPOOL_OK);
    }
    assert_int_equal(mmpool_last_seq(r, &seq), MMPOOL_OK);
    assert_int_equal(seq, 3);
    void *loan = NULL;
    assert_int_equal(mmpool_write_acquire(w, &loan, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write_abort(w), MMPOOL_OK); /* an aborted loan commits nothing */
    assert_int_equal(mmpool_last_seq(r, &seq), MMPOOL_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(mmpool_write_acquire(w, &loan, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write_commit(w, 1), MMPOOL_OK);
    assert_int_equal(mmpool_last_seq(r, &seq), MMPOOL_OK);
    assert_int_equal(seq, 4);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    seq = 0;
    assert_int_equal(mmpool_last_seq(r, &seq), MMPOOL_ESTALE);
    assert_int_equal(seq, 4);
    assert_int_equal(mmpool_last_seq(NULL, &seq), MMPOOL_EINVAL);
    assert_int_equal(mmpool_last_seq(r, NULL), MMPOOL_EINVAL);
    mmpool_close(w);
    mmpool_close(r);
}

/* A thread that watches a handle's newest seq while another thread reads
 * and releases on that same handle (ThreadSanitizer runs this too). */
typedef struct watcher {
    mmpool *p;
    uint64_t want;
    uint64_t seen;
    bool backwards;
} watcher;

static void *run_watcher(void *arg) {
    watcher *wt = arg;
    uint64_t until = mmpool_now_ns() + GIVE_UP_MS * MS_NS;
    while (wt->seen < wt->want && mmpool_now_ns() < until) {
        uint64_t seq = 0;
        if (mmpool_last_seq(wt->p, &seq) != MMPOOL_OK) {
            break;
        }
        wt->backwards |= seq < wt->seen;
        wt->seen = seq;
    }
    return NULL;
}

static void test_last_seq_runs_beside_reads_on_the_same_handle(void **state) {
    fixture *fx = *state;
    enum { FRAMES = 2000 };
    mmpool *w = open_spinning(fx->path, 4, 0);
    mmpool *r = open_spinning(fx->path, 4, 0);
    watcher wt = {.p = r, .want = FRAMES};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_watcher, &wt), 0);
    int got = 0;
    for (uint64_t i = 1; i <= FRAMES; i++) {
        assert_int_equal(mmpool_try_write(w, &i, sizeof i), MMPOOL_OK);
        mmpool_view v;
        if (mmpool_read_acquire(r, &v, 0) == MMPOOL_OK) {
            assert_int_equal(v.frame.seq, i);
            assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
            got++;
        }
    }
    pthread_join(t, NULL);
    assert_int_equal(got, FRAMES);
    assert_int_equal(wt.seen, FRAMES);
    assert_false(wt.backwards);
    mmpool_close(w);
    mmpool_close(r);
}

/* ---- main ---- */

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_spinning_read_gets_a_frame_written_later),
        T(test_spinning_write_gets_a_slot_a_reader_gives_back),
        T(test_interrupt_ends_a_spinning_read_at_once),
        T(test_unlink_ends_a_spinning_read_at_once),
        T(test_spin_never_outlasts_the_timeout),
        T(test_spin_stops_after_spin_ns_and_sleeps),
        T(test_options_with_spin_ns_still_refuse_reserved_bits),
        T(test_last_seq_follows_commits_and_sees_an_unlink),
        T(test_last_seq_runs_beside_reads_on_the_same_handle),
    };
#undef T
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
