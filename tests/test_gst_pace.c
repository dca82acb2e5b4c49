/*
 * mmpoolsrc's prediction of a writer's next frame (gst/pace.c), fed
 * commit times directly: the spin window opens around the moment it
 * gives, so a wrong moment means frames missed, which no functional test
 * would see. Pure C, built with or without GStreamer.
 * Sections: helpers, tests, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pace.h"
#include "support.h"

#define US INT64_C(1000)
#define MS INT64_C(1000000)
#define T0 (INT64_C(5000) * MS) /* a monotonic clock some time after boot */

/* ---- helpers ---- */

/* Learns a frame committed at t with nothing dropped, read 20 us later. */
static int64_t learn(mmp__gst_pace *p, int64_t t) {
    return mmp__gst_pace_learn(p, (uint64_t)t, 0, (uint64_t)(t + 20 * US));
}

/* A pace that has seen frames at T0, T0 + 10 ms, ... (n frames). */
static int64_t steady(mmp__gst_pace *p, int n) {
    mmp__gst_pace_forget(p, 0);
    int64_t t = T0;
    for (int i = 0; i < n; i++, t += 10 * MS) {
        learn(p, t);
    }
    return t - 10 * MS; /* the last commit */
}

/* ---- tests ---- */

static void test_pace_is_known_after_two_frames(void **state) {
    (void)state;
    mmp__gst_pace p;
    mmp__gst_pace_forget(&p, 0);
    assert_int_equal(learn(&p, T0), MMP__GST_PACE_NO_ERR);
    assert_int_equal(p.due_ns, 0);
    assert_int_equal(learn(&p, T0 + 10 * MS), MMP__GST_PACE_NO_ERR);
    assert_int_equal(p.due_ns, T0 + 20 * MS);
    /* The third frame is measured against that moment: 50 us late. Of
     * two intervals (10 and 10.05 ms) the median is the upper. */
    assert_int_equal(learn(&p, T0 + 20 * MS + 50 * US), 50 * US);
    assert_int_equal(p.due_ns, T0 + 30 * MS + 100 * US);
}

/* A writer drawing its frames back to back slows down by 20 us a frame,
 * then speeds up again: counted from the last commit, the prediction is
 * never off by more than the drift over the median's lag (3 frames); a
 * fit over the whole history would fall further behind with every frame. */
static void test_pace_follows_a_drifting_writer(void **state) {
    (void)state;
    mmp__gst_pace p;
    mmp__gst_pace_forget(&p, 0);
    int64_t t = T0, d = 3 * MS;
    for (int i = 0; i < 80; i++) {
        int64_t err = learn(&p, t);
        if (i >= 7) {
            assert_true(err != MMP__GST_PACE_NO_ERR);
            assert_in_range(err < 0 ? -err : err, 0, 3 * 20 * US);
        }
        d += i < 40 ? 20 * US : -20 * US;
        t += d;
    }
}

/* One frame late by 40 ms (the writer stalled) and one 4 ms early: the
 * frames after each are due an ordinary interval after it, as before. */
static void test_an_odd_frame_leaves_the_interval_alone(void **state) {
    (void)state;
    mmp__gst_pace p;
    int64_t last = steady(&p, 6);
    int64_t late = last + 50 * MS;
    assert_int_equal(learn(&p, late), 40 * MS);
    assert_int_equal(p.due_ns, late + 10 * MS);
    assert_int_equal(learn(&p, late + 10 * MS), 0);
    int64_t early = late + 16 * MS;
    assert_int_equal(learn(&p, early), -4 * MS);
    assert_int_equal(p.due_ns, early + 10 * MS);
}

/* Frames the reader never saw count as steps: 30 ms with two dropped is
 * an interval of 10 ms, and such a frame on the pace is on time. A
 * dropped count a hostile writer made huge is capped, not overflowed. */
static void test_dropped_frames_count_as_steps(void **state) {
    (void)state;
    mmp__gst_pace p;
    int64_t last = steady(&p, 3);
    int64_t t = last + 30 * MS;
    assert_int_equal(mmp__gst_pace_learn(&p, (uint64_t)t, 2, (uint64_t)t), 0);
    assert_int_equal(p.due_ns, t + 10 * MS);
    assert_int_equal(learn(&p, t + 10 * MS), 0);
    last = t + 10 * MS;
    t = last + 2002 * MS;
    assert_int_not_equal(mmp__gst_pace_learn(&p, (uint64_t)t, UINT64_MAX, (uint64_t)t),
                         MMP__GST_PACE_NO_ERR);
    assert_int_equal(p.due_ns, t + 10 * MS); /* the median holds; 2 ms is one of 5 */
}

/* Commit times come from another process: 0, one in the future, one not
 * after the last, one more than a second per step after it each restart
 * the learning (no window until two good frames again), and none of them
 * is measured against a due moment. */
static void test_commit_times_that_cannot_be_followed_restart_learning(void **state) {
    (void)state;
    const struct {
        const char *what;
        int64_t commit_from_last; /* added to the last commit; INT64_MIN: 0 */
        int64_t now_from_commit;
    } bad[] = {
        {"zero", INT64_MIN, 0},
        {"in the future", 10 * MS, -1},
        {"the same as the last", 0, 0},
        {"before the last", -1 * MS, 0},
        {"more than a second later", MMP__GST_PACE_MAX_NS + 1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mmp__gst_pace p;
        int64_t last = steady(&p, 6);
        assert_int_equal(p.due_ns, last + 10 * MS);
        int64_t t = bad[i].commit_from_last == INT64_MIN ? 0 : last + bad[i].commit_from_last;
        int64_t now = (t == 0 ? last : t) + bad[i].now_from_commit;
        int64_t err = mmp__gst_pace_learn(&p, (uint64_t)t, 0, (uint64_t)now);
        if (err != MMP__GST_PACE_NO_ERR || p.due_ns != 0) {
            fail_msg("a commit time %s was learnt from (err %lld, due %lld)", bad[i].what,
                     (long long)err, (long long)p.due_ns);
        }
        /* Learnt again, from the good frames only: three 7 ms apart give
         * a 7 ms pace whatever the refused one left as the last commit (a
         * ring still holding the 10 ms intervals would not). */
        int64_t next = (t > last ? t : last) + 10 * MS;
        for (int k = 0; k < 3; k++) {
            learn(&p, next + k * 7 * MS);
        }
        assert_int_equal(p.due_ns, next + 21 * MS);
    }
}

/* ---- main ---- */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pace_is_known_after_two_frames),
        cmocka_unit_test(test_pace_follows_a_drifting_writer),
        cmocka_unit_test(test_an_odd_frame_leaves_the_interval_alone),
        cmocka_unit_test(test_dropped_frames_count_as_steps),
        cmocka_unit_test(test_commit_times_that_cannot_be_followed_restart_learning),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
