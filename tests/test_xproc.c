/*
 * Cross-process behaviour. Every other party of a test is a child process:
 * this same binary re-executed as a named role (mmpt_spawn), so slots, pins,
 * wake-ups and retirement are exercised between address spaces.
 *
 * Children report through their exit status: 0 when every check held,
 * otherwise a code unique to the failed check, with a line on stderr. They
 * meet the parent through the pool itself or through pipes passed by fd
 * number: the child's end of a pipe survives exec, the parent's end is
 * close-on-exec, so a closed parent end is seen by every child as EOF.
 *
 * The roles are in xproc_roles.c, the fixture and frame helpers in
 * xproc_util.c. Sections here: tests, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>

#include "xproc.h"

/* ---- tests ---- */

static void test_n1_write_waits_for_reader_loan(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(p, 1, 0), 0);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_read", st->path, NUM(fd_s, ready[1]), "200", "1");
    xp_close(st, &ready[1]);
    uint64_t held, released;
    assert_true(xp_read_full(ready[0], &held, sizeof held, READY_MS));
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_EBUSY);
    ASSERT_RC(xp_write_keyed(p, 2, BLOCK_MS), 0);
    uint64_t done = mmpool_now_ns();
    assert_true(xp_read_full(ready[0], &released, sizeof released, READY_MS));
    /* The child held the only slot for 200 ms and checked it unchanged. */
    assert_true(done >= released);
    assert_true(done - held >= 150 * MS_NS);
    assert_int_equal(xp_reap(st, pid), 0);
    mmpool *r = xp_open(st, st->path, MMPOOL_READ_FIFO);
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, &f), 0);
    assert_int_equal(f.seq, 2);
    assert_true(xp_keyed_ok(buf, f.len, 2));
}

static void test_n1_read_waits_for_writer_commit(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(p, 1, 0), 0);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_write", st->path, NUM(fd_s, ready[1]), "200", "2");
    xp_close(st, &ready[1]);
    uint64_t held;
    assert_true(xp_read_full(ready[0], &held, sizeof held, READY_MS));
    /* The child writes into the only slot: frame 1 is gone, and the frame
     * being written must not be handed out, to a fresh reader or not. */
    mmpool *r = xp_open(st, st->path, MMPOOL_READ_FIFO);
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_EAGAIN);
    ASSERT_RC(mmpool_try_read(p, buf, sizeof buf, &f), MMPOOL_EAGAIN);
    ASSERT_RC(mmpool_read(r, buf, sizeof buf, &f, BLOCK_MS), 0);
    uint64_t done = mmpool_now_ns();
    assert_int_equal(f.seq, 2);
    assert_int_equal(f.dropped, 0);
    assert_true(xp_keyed_ok(buf, f.len, 2));
    assert_true(f.timestamp_ns >= held + 200 * MS_NS);
    assert_true(done >= f.timestamp_ns);
    assert_true(done - held >= 150 * MS_NS);
    assert_int_equal(xp_reap(st, pid), 0);
}

static void write_range_in_child(xp *st, uint64_t from, uint64_t to) {
    char from_s[24], to_s[24];
    mmpt_proc pid = XP_SPAWN(st, "write_range", st->path, NUM(from_s, from), NUM(to_s, to));
    assert_int_equal(xp_reap(st, pid), 0);
}

static void expect_keyed(mmpool *p, uint64_t seq, uint64_t dropped) {
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(p, buf, sizeof buf, &f), 0);
    assert_int_equal(f.seq, seq);
    assert_int_equal(f.dropped, dropped);
    assert_true(xp_keyed_ok(buf, f.len, seq));
}

static void expect_no_frame(mmpool *p) {
    uint8_t buf[KEYED_CAP];
    ASSERT_RC(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
}

static void test_n3_latest_reader_gets_newest_frame(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 3, MMPOOL_READ_LATEST);
    write_range_in_child(st, 1, 10);
    expect_keyed(p, 10, 0);
    expect_no_frame(p);
    write_range_in_child(st, 11, 13);
    expect_keyed(p, 13, 2);
    expect_no_frame(p);
}

static void test_n3_fifo_reader_gets_oldest_frames_in_order(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 3, MMPOOL_READ_FIFO);
    write_range_in_child(st, 1, 10);
    expect_keyed(p, 8, 0);
    expect_keyed(p, 9, 0);
    expect_keyed(p, 10, 0);
    expect_no_frame(p);
}

static void test_n3_fifo_reader_counts_overwritten_frames(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 3, MMPOOL_READ_FIFO);
    write_range_in_child(st, 1, 2);
    expect_keyed(p, 1, 0);
    expect_keyed(p, 2, 0);
    write_range_in_child(st, 3, 10);
    expect_keyed(p, 8, 5);
    expect_keyed(p, 9, 0);
    expect_keyed(p, 10, 0);
    expect_no_frame(p);
}

enum { STREAM_FRAMES = 20000, STREAM_CAP = 65536, STREAM_SLOTS = 4 };

static void test_stream_readers_see_no_torn_or_repeated_frames(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, STREAM_CAP, STREAM_SLOTS, MMPOOL_READ_LATEST);
    static const char *const kinds[3][2] = {
        {"latest", "mixed"}, {"fifo", "loan"}, {"fifo", "copy"}};
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    NUM(fd_s, ready[1]);
    mmpt_proc readers[3];
    for (int i = 0; i < 3; i++) {
        readers[i] = XP_SPAWN(st, "tagged_reader", st->path, fd_s, kinds[i][0], kinds[i][1], "1");
    }
    xp_close(st, &ready[1]);
    char got[3];
    assert_true(xp_read_full(ready[0], got, sizeof got, READY_MS));
    char count_s[24], max_s[24];
    mmpt_proc writer = XP_SPAWN(st, "tagged_writer", st->path, "0", NUM(count_s, STREAM_FRAMES),
                                "0", NUM(max_s, STREAM_CAP), "-1", "1");
    assert_int_equal(xp_reap(st, writer), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xp_reap(st, readers[i]), 0);
    }
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(p, &s), 0);
    assert_int_equal(s.last_seq, STREAM_FRAMES + 1);
}

enum { DUO_FRAMES = 5000, DUO_MAXLEN = 4096 };

static void test_two_writers_keep_seq_and_counters_increasing(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, DUO_MAXLEN, 4, MMPOOL_READ_LATEST);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc reader =
        XP_SPAWN(st, "tagged_reader", st->path, NUM(fd_s, ready[1]), "fifo", "mixed", "2");
    xp_close(st, &ready[1]);
    char got;
    assert_true(xp_read_full(ready[0], &got, 1, READY_MS));
    int go[2];
    xp_pipe(st, go, 0);
    char count_s[24], max_s[24];
    NUM(fd_s, go[0]);
    NUM(count_s, DUO_FRAMES);
    NUM(max_s, DUO_MAXLEN);
    mmpt_proc w0 = XP_SPAWN(st, "tagged_writer", st->path, "0", count_s, "32", max_s, fd_s, "0");
    mmpt_proc w1 = XP_SPAWN(st, "tagged_writer", st->path, "1", count_s, "32", max_s, fd_s, "0");
    xp_close(st, &go[0]);
    xp_close(st, &go[1]); /* both writers start at once */
    assert_int_equal(xp_reap(st, w0), 0);
    assert_int_equal(xp_reap(st, w1), 0);
    /* The end marker comes last, so no FIFO reader can miss it. */
    uint8_t end[sizeof(frame_tag)];
    xp_tagged_build(end, sizeof end, END_WRITER, 0, TAG_END);
    ASSERT_RC(mmpool_write(p, end, sizeof end, BLOCK_MS), 0);
    assert_int_equal(xp_reap(st, reader), 0);
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(p, &s), 0);
    assert_int_equal(s.last_seq, 2 * DUO_FRAMES + 1);
}

enum { WAKE_ROUNDS = 20 };

static void test_blocking_read_woken_by_write_promptly(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 4, MMPOOL_READ_LATEST);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16], rounds_s[16];
    mmpt_proc pid =
        XP_SPAWN(st, "wake_reader", st->path, NUM(fd_s, ready[1]), NUM(rounds_s, WAKE_ROUNDS));
    xp_close(st, &ready[1]);
    for (uint64_t r = 1; r <= WAKE_ROUNDS; r++) {
        char c;
        assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
        /* Time for the child to fall asleep; if it has not yet, it finds
         * the frame at once, which proves less but is not wrong. */
        xp_sleep_ms(20);
        ASSERT_RC(xp_write_keyed(p, r, 0), 0);
    }
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_blocking_read_woken_by_interrupt(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "interrupt_reader", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    /* We sleep on the same words as the child: its interrupt wakes us too,
     * but must not cancel our read; the frame it writes afterwards ends it. */
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0);
    assert_int_equal(f.seq, 1);
    assert_true(xp_keyed_ok(buf, f.len, 1));
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_read_times_out_on_empty_pool(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    uint8_t buf[KEYED_CAP];
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_read(p, buf, sizeof buf, NULL, 50), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 50);
    mmpool_view v;
    t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_read_acquire(p, &v, 50), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 50);
}

static void test_write_times_out_while_other_process_holds_all_slots(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(p, 1, 0), 0);
    ASSERT_RC(xp_write_keyed(p, 2, 0), 0);
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    char ready_s[16], go_s[16];
    mmpt_proc pid =
        XP_SPAWN(st, "hold_loans", st->path, NUM(ready_s, ready[1]), NUM(go_s, go[0]), "2", "3");
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_EBUSY);
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_write(p, "x", 1, 50), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 50);
    void *data;
    size_t cap;
    t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_write_acquire(p, &data, &cap, 50), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 50);
    /* The child lets go and then reads frame 3, which this write makes. */
    xp_close(st, &go[1]);
    ASSERT_RC(xp_write_keyed(p, 3, BLOCK_MS), 0);
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_unlink_wakes_waiting_reader_with_estale(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    char ready_s[16], go_s[16], cap_s[16];
    mmpt_proc pid = XP_SPAWN(st, "estale_reader", st->path, NUM(ready_s, ready[1]),
                             NUM(go_s, go[0]), NUM(cap_s, 2 * KEYED_CAP));
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    /* Time for the child to fall asleep; if it has not yet, it finds the
     * pool retired at once, which is also right. */
    xp_sleep_ms(100);
    ASSERT_RC(mmpool_unlink(st->path), 0);
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_ESTALE);
    xp_close_pool(st, p);
    mmpool_options o = {
        .slot_capacity = 2 * KEYED_CAP, .slot_count = 2, .flags = MMPOOL_CREATE | MMPOOL_EXCL};
    mmpool *q = xp_open_opts(st, st->path, &o);
    ASSERT_RC(xp_write_keyed(q, 7, 0), 0);
    xp_close(st, &go[1]);
    assert_int_equal(xp_reap(st, pid), 0);
}

enum { BURST = 1000 };

static void test_read_loans_survive_writer_burst(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 4, MMPOOL_READ_LATEST);
    for (uint64_t k = 1; k <= 3; k++) {
        ASSERT_RC(xp_write_keyed(p, k, 0), 0);
    }
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    /* The child pins frames 1 and 2; the burst (frames 4..1003) churns the
     * other two slots, which end up holding the two newest frames: its
     * next FIFO read is frame 1002, with 999 dropped. */
    char ready_s[16], go_s[16], next_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_loans", st->path, NUM(ready_s, ready[1]), NUM(go_s, go[0]),
                             "2", NUM(next_s, 3 + BURST - 1));
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    write_range_in_child(st, 4, 3 + BURST);
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(p, &s), 0);
    assert_int_equal(s.last_seq, 3 + BURST);
    xp_close(st, &go[1]);
    assert_int_equal(xp_reap(st, pid), 0);
}

/* Starts n children of role on st->round_path (arguments: path, id 0..n-1,
 * ready fd, go fd), waits until every one reported ready, releases them all
 * at once and asserts that each exits 0. */
static void run_together(xp *st, const char *role, int n) {
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    char ready_s[16], go_s[16], id_s[16];
    NUM(ready_s, ready[1]);
    NUM(go_s, go[0]);
    mmpt_proc pids[64];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++) {
        pids[i] = XP_SPAWN(st, role, st->round_path, NUM(id_s, i), ready_s, go_s);
    }
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char got[64];
    assert_true(xp_read_full(ready[0], got, (size_t)n, READY_MS));
    xp_close(st, &go[1]); /* every child sees EOF at once */
    xp_close(st, &ready[0]);
    for (int i = 0; i < n; i++) {
        assert_int_equal(xp_reap(st, pids[i]), 0);
    }
}

static void test_concurrent_create_yields_one_pool(void **state) {
    xp *st = *state;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        snprintf(st->round_path, sizeof st->round_path, "%s-r%02d", st->path, round);
        run_together(st, "race_create", RACE_PROCS);
        assert_int_equal(xp_count_entries(st->round_path), 1);
        mmpool *p = xp_open(st, st->round_path, MMPOOL_READ_FIFO);
        mmpool_stats s;
        ASSERT_RC(mmpool_stat(p, &s), 0);
        assert_int_equal(s.slot_capacity, RACE_CAP);
        assert_int_equal(s.slot_count, RACE_PROCS);
        assert_int_equal(s.last_seq, RACE_PROCS);
        assert_string_equal(s.format, RACE_FORMAT);
        /* One pool got every child's frame: ids 0..7, each once. */
        bool seen[RACE_PROCS] = {false};
        for (int i = 0; i < RACE_PROCS; i++) {
            uint64_t id;
            mmpool_frame f;
            ASSERT_RC(mmpool_try_read(p, &id, sizeof id, &f), 0);
            assert_int_equal(f.len, sizeof id);
            assert_true(id < RACE_PROCS && !seen[id]);
            seen[id] = true;
        }
        expect_no_frame(p);
        xp_close_pool(st, p);
        ASSERT_RC(mmpool_unlink(st->round_path), 0);
        assert_int_equal(xp_count_entries(st->round_path), 0);
        st->round_path[0] = '\0';
    }
}

/* Writers racing into a pool with a slot for every frame: no frame may be
 * overwritten while an empty slot exists ("the oldest slot no handle holds",
 * and empty slots are the oldest). */
static void test_racing_writers_fill_empty_slots_before_overwriting(void **state) {
    xp *st = *state;
    for (int round = 0; round < FILL_ROUNDS; round++) {
        snprintf(st->round_path, sizeof st->round_path, "%s-r%02d", st->path, round);
        mmpool_options o = {.slot_capacity = 16,
                            .slot_count = FILL_PROCS * FILL_FRAMES,
                            .flags = MMPOOL_CREATE | MMPOOL_EXCL,
                            .read_mode = MMPOOL_READ_FIFO};
        mmpool *p = xp_open_opts(st, st->round_path, &o);
        run_together(st, "fill_writer", FILL_PROCS);
        uint64_t last[FILL_PROCS] = {0};
        uint64_t dropped = 0;
        int frames = 0;
        bool in_order = true;
        uint64_t frame[2];
        mmpool_frame f;
        int rc;
        while ((rc = mmpool_try_read(p, frame, sizeof frame, &f)) == 0) {
            dropped += f.dropped;
            if (frame[0] >= FILL_PROCS || frame[1] <= last[frame[0]]) {
                in_order = false;
            } else {
                last[frame[0]] = frame[1];
            }
            frames++;
        }
        ASSERT_RC(rc, MMPOOL_EAGAIN);
        if (frames != FILL_PROCS * FILL_FRAMES || dropped != 0) {
            fail_msg("round %d: %d of %d frames left, %llu overwritten, in a pool with a slot "
                     "for each",
                     round, frames, FILL_PROCS * FILL_FRAMES, (unsigned long long)dropped);
        }
        assert_true(in_order);
        xp_close_pool(st, p);
        ASSERT_RC(mmpool_unlink(st->round_path), 0);
        st->round_path[0] = '\0';
    }
}

/* ---- main ---- */

enum { INSPECT_MS = 1500 };

/* The last free entry of the table is taken and given back over and over
 * while another process inspects the pool: looking at the table must never
 * make an attach fail (on Windows, a look takes a lock for an instant), and
 * must never see a live handle as dead. */
static void test_inspection_never_makes_attach_fail(void **state) {
    xp *st = *state;
    mmpool *h[MMPOOL_MAX_HANDLES - 1];
    h[0] = xp_create(st, 64, 2, MMPOOL_READ_LATEST);
    for (int i = 1; i < MMPOOL_MAX_HANDLES - 1; i++) {
        ASSERT_RC(mmpool_open(&h[i], st->path, NULL), 0);
    }
    char ms_s[24], alive_s[24];
    mmpt_proc pid = XP_SPAWN(st, "inspector", st->path, NUM(ms_s, INSPECT_MS),
                             NUM(alive_s, MMPOOL_MAX_HANDLES - 1));
    unsigned rounds = 0, failed = 0;
    int first_rc = 0;
    for (uint64_t until = mmpool_now_ns() + INSPECT_MS * MS_NS; mmpool_now_ns() < until;) {
        mmpool *last = NULL;
        int rc = mmpool_open(&last, st->path, NULL);
        if (rc != 0) {
            failed++;
            first_rc = first_rc != 0 ? first_rc : rc;
        }
        mmpool_close(last);
        rounds++;
    }
    int status = xp_reap(st, pid);
    for (int i = 1; i < MMPOOL_MAX_HANDLES - 1; i++) {
        mmpool_close(h[i]);
    }
    if (failed != 0) {
        fail_msg("%u of %u attaches failed during inspection, the first with %s", failed, rounds,
                 mmpool_err_name(first_rc));
    }
    assert_int_equal(status, 0);
}

#define XP_TEST(f) cmocka_unit_test_setup_teardown(f, xp_setup, xp_teardown)

int main(int argc, char **argv) {
    int rc = mmpt_child_main(argc, argv, xproc_roles);
    if (rc >= 0) {
        return rc;
    }
    const struct CMUnitTest tests[] = {
        XP_TEST(test_n1_write_waits_for_reader_loan),
        XP_TEST(test_n1_read_waits_for_writer_commit),
        XP_TEST(test_n3_latest_reader_gets_newest_frame),
        XP_TEST(test_n3_fifo_reader_gets_oldest_frames_in_order),
        XP_TEST(test_n3_fifo_reader_counts_overwritten_frames),
        XP_TEST(test_stream_readers_see_no_torn_or_repeated_frames),
        XP_TEST(test_two_writers_keep_seq_and_counters_increasing),
        XP_TEST(test_blocking_read_woken_by_write_promptly),
        XP_TEST(test_blocking_read_woken_by_interrupt),
        XP_TEST(test_read_times_out_on_empty_pool),
        XP_TEST(test_write_times_out_while_other_process_holds_all_slots),
        XP_TEST(test_unlink_wakes_waiting_reader_with_estale),
        XP_TEST(test_read_loans_survive_writer_burst),
        XP_TEST(test_concurrent_create_yields_one_pool),
        XP_TEST(test_racing_writers_fill_empty_slots_before_overwriting),
        XP_TEST(test_inspection_never_makes_attach_fail),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
