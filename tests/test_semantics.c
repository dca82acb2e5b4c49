/*
 * Pool semantics in one process: slots, cursors and read modes, loans,
 * flush, interrupts. Handles are independent even within one process, so
 * a writer and its readers are simply separate handles here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "mmpool.h"
#include "support.h"

#define CAP 4096

typedef struct fixture {
    char path[256];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    mmpt_path(fx->path, sizeof fx->path, "sem");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->path);
    free(fx);
    return 0;
}

static mmpool *open_pool(const char *path, uint32_t count, uint32_t read_mode) {
    mmpool_options o = {
        .slot_capacity = CAP, .slot_count = count, .flags = MMPOOL_CREATE, .read_mode = read_mode};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

/* Writes frame number n: n as text, so contents tell frames apart. */
static void put(mmpool *w, int n) {
    char text[32];
    int len = snprintf(text, sizeof text, "frame %d", n);
    assert_int_equal(mmpool_try_write(w, text, (size_t)len), MMPOOL_OK);
}

/* Reads one frame and checks it is frame number n with the given drop
 * count. */
static void expect(mmpool *r, int n, uint64_t dropped) {
    char buf[CAP];
    char want[32];
    mmpool_frame f;
    int len = snprintf(want, sizeof want, "frame %d", n);
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
    assert_int_equal(f.len, (uint64_t)len);
    assert_memory_equal(buf, want, (size_t)len);
    assert_int_equal(f.dropped, dropped);
}

static void expect_none(mmpool *r) {
    char buf[CAP];
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
}

static void test_seqs_count_up_from_one(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_FIFO);
    char buf[CAP];
    mmpool_frame f;
    for (uint64_t i = 1; i <= 5; i++) {
        uint64_t before = mmpool_now_ns();
        put(w, (int)i);
        uint64_t after = mmpool_now_ns();
        assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
        assert_int_equal(f.seq, i);
        assert_true(f.timestamp_ns >= before && f.timestamp_ns <= after);
    }
    mmpool_stats st;
    assert_int_equal(mmpool_stat(r, &st), MMPOOL_OK);
    assert_int_equal(st.last_seq, 5);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_latest_returns_newest_and_counts_dropped(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    expect_none(r);
    for (int i = 1; i <= 5; i++) {
        put(w, i);
    }
    expect(r, 5, 0); /* first read: dropped is 0 */
    expect_none(r);  /* never the same frame twice */
    put(w, 6);
    put(w, 7);
    put(w, 8);
    expect(r, 8, 2);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_fifo_returns_oldest_and_counts_overwritten_frames(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_FIFO);
    put(w, 1);
    put(w, 2);
    expect(r, 1, 0);
    for (int i = 3; i <= 10; i++) {
        put(w, i); /* frames 2..7 are overwritten before r looks */
    }
    expect(r, 8, 6);
    expect(r, 9, 0);
    expect(r, 10, 0);
    expect_none(r);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_fresh_fifo_reader_starts_at_oldest_frame(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    for (int i = 1; i <= 10; i++) {
        put(w, i);
    }
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_FIFO);
    expect(r, 8, 0);
    expect(r, 9, 0);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_readers_have_independent_cursors(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 4, MMPOOL_READ_LATEST);
    mmpool *a = open_pool(fx->path, 4, MMPOOL_READ_FIFO);
    mmpool *b = open_pool(fx->path, 4, MMPOOL_READ_FIFO);
    put(w, 1);
    put(w, 2);
    expect(a, 1, 0);
    expect(a, 2, 0);
    expect(b, 1, 0); /* a's reads did not move b */
    put(w, 3);
    expect(b, 2, 0);
    expect(b, 3, 0);
    expect(a, 3, 0);
    mmpool_close(a);
    mmpool_close(b);
    mmpool_close(w);
}

static void test_zero_length_frames_are_frames(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_FIFO);
    assert_int_equal(mmpool_try_write(w, NULL, 0), MMPOOL_OK);
    mmpool_frame f;
    assert_int_equal(mmpool_try_read(r, NULL, 0, &f), MMPOOL_OK);
    assert_int_equal(f.len, 0);
    assert_int_equal(f.seq, 1);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_frame_larger_than_capacity_is_e2big(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    static char big[CAP + 1];
    assert_int_equal(mmpool_try_write(w, big, CAP + 1), MMPOOL_E2BIG);
    assert_int_equal(mmpool_try_write(w, big, CAP), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(w, &st), MMPOOL_OK);
    assert_int_equal(st.last_seq, 1); /* the refused frame wrote nothing */
    mmpool_close(w);
}

static void test_small_buffer_is_enospc_and_frame_stays_unread(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_FIFO);
    put(w, 12345);
    char small[4];
    mmpool_frame f;
    assert_int_equal(mmpool_try_read(r, small, sizeof small, &f), MMPOOL_ENOSPC);
    assert_int_equal(f.len, strlen("frame 12345"));
    expect(r, 12345, 0);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_n1_write_is_busy_while_reader_holds_loan(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    put(w, 1);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    assert_int_equal(mmpool_write(w, "x", 1, 30), MMPOOL_ETIMEDOUT);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_OK);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_n1_read_finds_nothing_while_writer_holds_loan(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    put(w, 1);
    void *data;
    size_t cap;
    assert_int_equal(mmpool_write_acquire(w, &data, &cap, 0), MMPOOL_OK);
    /* Starting a write invalidated frame 1, the only frame. */
    expect_none(r);
    memcpy(data, "frame 2", 7);
    assert_int_equal(mmpool_write_commit(w, 7), MMPOOL_OK);
    expect(r, 2, 0);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_write_loan_is_page_aligned_and_commits_in_place(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    void *data;
    size_t cap = 0;
    assert_int_equal(mmpool_write_acquire(w, &data, &cap, 0), MMPOOL_OK);
    assert_int_equal(cap, CAP);
    assert_int_equal((uintptr_t)data % 4096, 0);
    void *second;
    assert_int_equal(mmpool_write_acquire(w, &second, NULL, 0), MMPOOL_EINVAL);
    memcpy(data, "frame 1", 7);
    assert_int_equal(mmpool_write_commit(w, CAP + 1), MMPOOL_E2BIG);
    expect_none(r);                                         /* nothing published... */
    assert_int_equal(mmpool_write_commit(w, 7), MMPOOL_OK); /* ...loan still held */
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    assert_int_equal((uintptr_t)v.data % 4096, 0);
    assert_int_equal(v.frame.len, 7);
    assert_memory_equal(v.data, "frame 1", 7);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_write_abort_publishes_nothing(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    void *data;
    assert_int_equal(mmpool_write_acquire(w, &data, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write_abort(w), MMPOOL_OK);
    assert_int_equal(mmpool_write_abort(w), MMPOOL_EINVAL);
    expect_none(r);
    put(w, 1); /* the slot is free again */
    expect(r, 1, 0);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_read_loans_are_never_overwritten(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_FIFO);
    put(w, 1);
    put(w, 2);
    mmpool_view v1;
    mmpool_view v2;
    assert_int_equal(mmpool_read_acquire(r, &v1, 0), MMPOOL_OK);
    assert_int_equal(mmpool_read_acquire(r, &v2, 0), MMPOOL_OK);
    assert_int_equal(v1.frame.seq, 1);
    assert_int_equal(v2.frame.seq, 2);
    for (int i = 3; i <= 50; i++) {
        put(w, i); /* all go through the one free slot */
    }
    assert_memory_equal(v1.data, "frame 1", 7);
    assert_memory_equal(v2.data, "frame 2", 7);
    mmpool_view v3;
    assert_int_equal(mmpool_read_acquire(r, &v3, 0), MMPOOL_OK);
    assert_int_equal(v3.frame.seq, 50);
    assert_int_equal(v3.frame.dropped, 47);
    /* Every slot is now pinned: a writer has nowhere to go. */
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    assert_int_equal(mmpool_read_release(r, &v1), MMPOOL_OK);
    assert_int_equal(mmpool_read_release(r, &v2), MMPOOL_OK);
    assert_int_equal(mmpool_read_release(r, &v3), MMPOOL_OK);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_release_twice_or_foreign_view_is_einval(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *a = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *b = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    put(w, 1);
    mmpool_view va;
    mmpool_view vb;
    assert_int_equal(mmpool_read_acquire(a, &va, 0), MMPOOL_OK);
    assert_int_equal(mmpool_read_acquire(b, &vb, 0), MMPOOL_OK);
    mmpool_view copy = va;
    assert_int_equal(mmpool_read_release(b, &copy), MMPOOL_EINVAL); /* not b's */
    assert_int_equal(mmpool_read_release(a, &va), MMPOOL_OK);
    assert_null(va.data);
    assert_int_equal(mmpool_read_release(a, &va), MMPOOL_EINVAL);
    assert_int_equal(mmpool_read_release(a, &copy), MMPOOL_EINVAL);
    /* b's pin survived all of that: the only other slot takes one write,
     * the pinned one none. */
    put(w, 2);
    put(w, 3);
    assert_memory_equal(vb.data, "frame 1", 7);
    assert_int_equal(mmpool_read_release(b, &vb), MMPOOL_OK);
    mmpool_close(a);
    mmpool_close(b);
    mmpool_close(w);
}

static void test_close_gives_back_loans(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_FIFO);
    put(w, 1);
    put(w, 2);
    mmpool_view v1;
    mmpool_view v2;
    assert_int_equal(mmpool_read_acquire(r, &v1, 0), MMPOOL_OK);
    assert_int_equal(mmpool_read_acquire(r, &v2, 0), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    mmpool_close(r);
    void *data;
    mmpool *w2 = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    assert_int_equal(mmpool_write_acquire(w2, &data, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write_acquire(w, &data, NULL, 0), MMPOOL_OK);
    mmpool_close(w2); /* aborts its write loan */
    put(w, 9);        /* into the slot w2 gave back */
    mmpool_close(w);
}

static void test_flush_drops_frames_but_not_seqs(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 3, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 3, MMPOOL_READ_FIFO);
    mmpool *holder = open_pool(fx->path, 3, MMPOOL_READ_FIFO);
    put(w, 1);
    put(w, 2);
    put(w, 3);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(holder, &v, 0), MMPOOL_OK);
    assert_int_equal(mmpool_flush(w), MMPOOL_OK);
    /* Frame 1 is held, so it stays; 2 and 3 are gone. */
    expect(r, 1, 0);
    expect_none(r);
    assert_memory_equal(v.data, "frame 1", 7);
    put(w, 4);
    char buf[CAP];
    mmpool_frame f;
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
    assert_int_equal(f.seq, 4);
    assert_int_equal(mmpool_read_release(holder, &v), MMPOOL_OK);
    mmpool_close(holder);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_timed_read_waits_at_least_its_timeout(void **state) {
    fixture *fx = *state;
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    char buf[16];
    uint64_t t0 = mmpool_now_ns();
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, 50), MMPOOL_ETIMEDOUT);
    uint64_t waited = mmpool_now_ns() - t0;
    assert_true(waited >= 50000000u);
    assert_true(waited < 5000000000u); /* generous: shared machines */
    mmpool_close(r);
}

/* POSIX only: Windows has no fork(). */
#ifndef _WIN32
static void test_close_in_forked_child_keeps_parent_holds(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 1, MMPOOL_READ_LATEST);
    put(w, 1);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    pid_t pid = fork();
    if (pid == 0) {
        mmpool_close(r); /* the child's copy of the parent's handle */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status)); /* the child's close did not crash it */
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent's loan still pins the only slot. */
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    assert_memory_equal(v.data, "frame 1", 7);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_OK);
    mmpool_close(r);
    mmpool_close(w);
}
#endif

typedef struct interrupter {
    mmpool *pool;
    int delay_ms;
} interrupter;

static void *interrupt_later(void *arg) {
    interrupter *it = arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)it->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    mmpool_interrupt(it->pool);
    return NULL;
}

static void test_interrupt_wakes_a_blocked_read(void **state) {
    fixture *fx = *state;
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    interrupter it = {.pool = r, .delay_ms = 50};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, interrupt_later, &it), 0);
    char buf[16];
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, MMPOOL_WAIT_FOREVER), MMPOOL_ECANCELED);
    pthread_join(t, NULL);
    /* Used up: the next wait times out normally. */
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, 10), MMPOOL_ETIMEDOUT);
    mmpool_close(r);
}

static void test_interrupt_cancels_the_next_blocking_call_once(void **state) {
    fixture *fx = *state;
    mmpool *w = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = open_pool(fx->path, 2, MMPOOL_READ_LATEST);
    put(w, 1);
    assert_int_equal(mmpool_interrupt(r), MMPOOL_OK);
    char buf[CAP];
    /* A try call does not block, so it neither sees nor uses it up. */
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_OK);
    put(w, 2);
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, 1000), MMPOOL_ECANCELED);
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, 1000), MMPOOL_OK);
    /* Handles are independent: interrupting w does not touch r. */
    assert_int_equal(mmpool_interrupt(w), MMPOOL_OK);
    put(w, 3);
    assert_int_equal(mmpool_read(r, buf, sizeof buf, NULL, 1000), MMPOOL_OK);
    assert_int_equal(mmpool_write(w, "x", 1, 1000), MMPOOL_ECANCELED);
    mmpool_close(r);
    mmpool_close(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_seqs_count_up_from_one),
        T(test_latest_returns_newest_and_counts_dropped),
        T(test_fifo_returns_oldest_and_counts_overwritten_frames),
        T(test_fresh_fifo_reader_starts_at_oldest_frame),
        T(test_readers_have_independent_cursors),
        T(test_zero_length_frames_are_frames),
        T(test_frame_larger_than_capacity_is_e2big),
        T(test_small_buffer_is_enospc_and_frame_stays_unread),
        T(test_n1_write_is_busy_while_reader_holds_loan),
        T(test_n1_read_finds_nothing_while_writer_holds_loan),
        T(test_write_loan_is_page_aligned_and_commits_in_place),
        T(test_write_abort_publishes_nothing),
        T(test_read_loans_are_never_overwritten),
        T(test_release_twice_or_foreign_view_is_einval),
        T(test_close_gives_back_loans),
        T(test_flush_drops_frames_but_not_seqs),
#ifndef _WIN32
        T(test_close_in_forked_child_keeps_parent_holds),
#endif
        T(test_timed_read_waits_at_least_its_timeout),
        T(test_interrupt_wakes_a_blocked_read),
        T(test_interrupt_cancels_the_next_blocking_call_once),
#undef T
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
