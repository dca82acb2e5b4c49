/*
 * The child roles of the cross-process tests: test_xproc.c starts them with
 * mmpt_spawn, and mmpt_child_main runs them from xproc_roles.
 *
 * A role reports through its exit status: 0 when every check held,
 * otherwise a code unique to the failed check, with a line on stderr. It
 * meets the parent through the pool itself or through pipes passed by fd
 * number (see xp_pipe).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xproc.h"

static long long arg_num(const char *s) {
    return strtoll(s, NULL, 10);
}

static bool verbose(void) {
    return getenv("MMPT_VERBOSE") != NULL;
}

static int open_reader(mmpool **out, const char *path, uint32_t read_mode) {
    mmpool_options o = {.read_mode = read_mode};
    return mmpool_open(out, path, &o);
}

/* hold_read PATH FD HOLD_MS KEY: takes a read loan on frame KEY and holds
 * it for HOLD_MS. Sends on FD the time it got the loan, then the time just
 * before it lets go. */
static int role_hold_read(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 10);
    int fd = (int)arg_num(argv[2]);
    int hold_ms = (int)arg_num(argv[3]);
    uint64_t key = (uint64_t)arg_num(argv[4]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 11);
    mmpool_view v;
    CHILD_RC(mmpool_read_acquire(p, &v, BLOCK_MS), 0, 12);
    CHILD_CHECK(v.frame.seq == key && xp_keyed_ok(v.data, v.frame.len, key), 13);
    uint64_t t = mmpool_now_ns();
    CHILD_CHECK(xp_write_full(fd, &t, sizeof t), 14);
    xp_sleep_ms(hold_ms);
    /* Nobody may have written into the slot while we held it. */
    CHILD_CHECK(xp_keyed_ok(v.data, v.frame.len, key), 15);
    t = mmpool_now_ns();
    CHILD_CHECK(xp_write_full(fd, &t, sizeof t), 16);
    CHILD_RC(mmpool_read_release(p, &v), 0, 17);
    mmpool_close(p);
    return 0;
}

/* hold_write PATH FD HOLD_MS KEY: takes a write loan, fills it with frame
 * KEY, sends on FD the time, and commits HOLD_MS later. */
static int role_hold_write(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 20);
    int fd = (int)arg_num(argv[2]);
    int hold_ms = (int)arg_num(argv[3]);
    uint64_t key = (uint64_t)arg_num(argv[4]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 21);
    void *data;
    size_t cap;
    CHILD_RC(mmpool_write_acquire(p, &data, &cap, BLOCK_MS), 0, 22);
    size_t len = xp_keyed_len(key);
    CHILD_CHECK(cap >= len, 23);
    xp_fill_pattern(data, len, key);
    uint64_t t = mmpool_now_ns();
    CHILD_CHECK(xp_write_full(fd, &t, sizeof t), 24);
    xp_sleep_ms(hold_ms);
    CHILD_RC(mmpool_write_commit(p, len), 0, 25);
    mmpool_close(p);
    return 0;
}

/* write_range PATH FROM TO: writes keyed frames FROM..TO, in try mode: the
 * callers leave a slot free, so a write must never have to wait. */
static int role_write_range(int argc, char **argv) {
    CHILD_CHECK(argc == 4, 30);
    uint64_t from = (uint64_t)arg_num(argv[2]);
    uint64_t to = (uint64_t)arg_num(argv[3]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 31);
    for (uint64_t k = from; k <= to; k++) {
        CHILD_RC(xp_write_keyed(p, k, 0), 0, 32);
    }
    mmpool_close(p);
    return 0;
}

/* tagged_writer PATH ID COUNT MINLEN MAXLEN GO_FD END: waits for GO_FD
 * (unless -1), then writes COUNT tagged frames of pseudo-random lengths,
 * alternating copy and loan, in try mode: every other handle pins at most one
 * slot at a time and there are fewer of them than slots, so a slot is always
 * free (a try write may still meet another writer's commit in progress).
 * END 1: finishes with an end marker. */
static int role_tagged_writer(int argc, char **argv) {
    CHILD_CHECK(argc == 8, 40);
    uint32_t id = (uint32_t)arg_num(argv[2]);
    uint64_t count = (uint64_t)arg_num(argv[3]);
    size_t minlen = (size_t)arg_num(argv[4]);
    size_t maxlen = (size_t)arg_num(argv[5]);
    int go_fd = (int)arg_num(argv[6]);
    bool end = arg_num(argv[7]) != 0;
    CHILD_CHECK(minlen <= maxlen && maxlen >= sizeof(frame_tag), 41);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 42);
    uint8_t *buf = malloc(maxlen);
    CHILD_CHECK(buf != NULL, 43);
    if (go_fd >= 0) {
        CHILD_CHECK(xp_await_go(go_fd, READY_MS), 44);
    }
    uint64_t rng = 0x5eed0000u + id;
    for (uint64_t k = 1; k <= count; k++) {
        uint64_t r = xp_next_rand(&rng);
        size_t len = minlen + (size_t)(r % (maxlen - minlen + 1));
        if (minlen == 0 && k % 16 == 0) {
            len = (size_t)(r % sizeof(frame_tag)); /* empty and short frames too */
        }
        if (k % 2 == 0) {
            void *data;
            size_t cap;
            CHILD_RC(mmpool_write_acquire(p, &data, &cap, 0), 0, 45);
            CHILD_CHECK(cap >= maxlen && (uintptr_t)data % 4096 == 0, 46);
            xp_tagged_build(data, len, id, k, TAG_DATA);
            CHILD_RC(mmpool_write_commit(p, len), 0, 47);
        } else {
            xp_tagged_build(buf, len, id, k, TAG_DATA);
            /* Try mode reports a commit lock held by another writer that
             * was preempted mid-commit for longer than the try's spin (tens
             * of microseconds) as busy, and publishes nothing: the
             * same counter goes again, and a reader would see it twice if
             * the failed try had published it. */
            int rc;
            while ((rc = mmpool_try_write(p, buf, len)) == MMPOOL_EBUSY) {
            }
            CHILD_RC(rc, 0, 48);
        }
    }
    if (end) {
        xp_tagged_build(buf, sizeof(frame_tag), id, count + 1, TAG_END);
        CHILD_RC(mmpool_write(p, buf, sizeof(frame_tag), BLOCK_MS), 0, 49);
    }
    free(buf);
    mmpool_close(p);
    return 0;
}

/* tagged_reader PATH FD MODE HOW NWRITERS: MODE latest|fifo, HOW
 * copy|loan|mixed. Opens the pool, says so on FD, then reads tagged frames
 * with blocking reads until an end marker, checking each: intact, seq
 * strictly increasing, dropped = seq - previous seq - 1, each writer's
 * counter strictly increasing and, with one writer, equal to the seq. A
 * read that times out is a stall, reported rather than hanging the test. */
static int role_tagged_reader(int argc, char **argv) {
    CHILD_CHECK(argc == 6, 50);
    int fd = (int)arg_num(argv[2]);
    uint32_t mode = strcmp(argv[3], "fifo") == 0 ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST;
    int how = strcmp(argv[4], "copy") == 0 ? 0 : strcmp(argv[4], "loan") == 0 ? 1 : 2;
    uint32_t nwriters = (uint32_t)arg_num(argv[5]);
    CHILD_CHECK(nwriters >= 1 && nwriters <= 8, 51);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], mode), 0, 52);
    mmpool_stats s;
    CHILD_RC(mmpool_stat(p, &s), 0, 53);
    uint8_t *buf = malloc((size_t)s.slot_capacity);
    CHILD_CHECK(buf != NULL, 54);
    CHILD_CHECK(xp_write_full(fd, "r", 1), 55);
    uint64_t prev = 0, frames = 0, dropped = 0, last[8] = {0};
    for (;;) {
        bool loan = how == 1 || (how == 2 && frames % 2 == 1);
        mmpool_view v;
        mmpool_frame f;
        const void *data = buf;
        int rc;
        memset(&v, 0, sizeof v);
        memset(&f, 0, sizeof f);
        if (loan) {
            rc = mmpool_read_acquire(p, &v, BLOCK_MS);
            f = v.frame;
            data = v.data;
        } else {
            rc = mmpool_read(p, buf, (size_t)s.slot_capacity, &f, BLOCK_MS);
        }
        if (rc == MMPOOL_ETIMEDOUT) {
            fprintf(stderr, "child %s: stalled: no frame for %d ms after seq %llu\n", argv[0],
                    BLOCK_MS, (unsigned long long)prev);
            return 56;
        }
        CHILD_RC(rc, 0, 57);
        if (f.seq <= prev) {
            fprintf(stderr, "child %s: seq %llu after %llu: repeated or out of order\n", argv[0],
                    (unsigned long long)f.seq, (unsigned long long)prev);
            return 58;
        }
        if (f.dropped != (prev == 0 ? 0 : f.seq - prev - 1)) {
            fprintf(stderr, "child %s: seq %llu after %llu reports %llu dropped\n", argv[0],
                    (unsigned long long)f.seq, (unsigned long long)prev,
                    (unsigned long long)f.dropped);
            return 59;
        }
        frame_tag t;
        const char *bad = xp_tagged_check(data, f.len, &t);
        if (bad != NULL) {
            fprintf(stderr, "child %s: seq %llu len %llu (%s): %s\n", argv[0],
                    (unsigned long long)f.seq, (unsigned long long)f.len, loan ? "loan" : "copy",
                    bad);
            return 60;
        }
        if (t.kind == TAG_DATA) {
            CHILD_CHECK(t.writer < nwriters, 61);
            if (t.counter <= last[t.writer] || (nwriters == 1 && t.counter != f.seq)) {
                fprintf(stderr, "child %s: seq %llu: writer %u counter %llu after %llu\n", argv[0],
                        (unsigned long long)f.seq, t.writer, (unsigned long long)t.counter,
                        (unsigned long long)last[t.writer]);
                return 62;
            }
            last[t.writer] = t.counter;
        }
        if (loan) {
            CHILD_RC(mmpool_read_release(p, &v), 0, 63);
        }
        prev = f.seq;
        frames++;
        dropped += f.dropped;
        if (t.kind == TAG_END) {
            break;
        }
    }
    if (verbose()) {
        fprintf(stderr, "%s %s/%s: %llu frames read, %llu dropped, last seq %llu\n", argv[0],
                argv[3], argv[4], (unsigned long long)frames, (unsigned long long)dropped,
                (unsigned long long)prev);
    }
    free(buf);
    mmpool_close(p);
    return 0;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* wake_reader PATH FD ROUNDS: ROUNDS times, says on FD that it is about to
 * block, then blocks in mmpool_read (forever and timed, alternately) until
 * the parent's next frame. A waiter that is not woken only finds the frame
 * at the end of its wait slice (100 ms), so a median latency from commit to
 * return above 25 ms means lost wake-ups. */
static int role_wake_reader(int argc, char **argv) {
    CHILD_CHECK(argc == 4, 100);
    int fd = (int)arg_num(argv[2]);
    int rounds = (int)arg_num(argv[3]);
    CHILD_CHECK(rounds >= 1 && rounds <= 64, 101);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 102);
    uint64_t latency[64];
    for (int r = 1; r <= rounds; r++) {
        CHILD_CHECK(xp_write_full(fd, "r", 1), 103);
        uint8_t buf[KEYED_CAP];
        mmpool_frame f;
        int timeout = r % 2 != 0 ? MMPOOL_WAIT_FOREVER : 10000;
        CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, timeout), 0, 104);
        uint64_t now = mmpool_now_ns();
        CHILD_CHECK(f.seq == (uint64_t)r && f.dropped == 0 && xp_keyed_ok(buf, f.len, f.seq), 105);
        CHILD_CHECK(now >= f.timestamp_ns, 106);
        latency[r - 1] = now - f.timestamp_ns;
    }
    qsort(latency, (size_t)rounds, sizeof latency[0], compare_u64);
    uint64_t median = latency[rounds / 2];
    if (verbose() || median >= 25 * MS_NS) {
        fprintf(stderr, "%s: wake-up latency median %.3f ms, max %.3f ms\n", argv[0],
                (double)median / 1e6, (double)latency[rounds - 1] / 1e6);
    }
    CHILD_CHECK(median < 25 * MS_NS, 107);
    mmpool_close(p);
    return 0;
}

typedef struct interrupter {
    mmpool *pool;
    uint64_t at_ns; /* when mmpool_interrupt was called */
    int rc;
} interrupter;

static void *interrupt_later(void *arg) {
    interrupter *it = arg;
    xp_sleep_ms(100);
    it->at_ns = mmpool_now_ns();
    it->rc = mmpool_interrupt(it->pool);
    return NULL;
}

/* interrupt_reader PATH FD: blocks forever reading an empty pool while a
 * second thread interrupts it after 100 ms; then checks the interrupt was
 * used up, and writes keyed frame 1 for the parent. */
static int role_interrupt_reader(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 110);
    int fd = (int)arg_num(argv[2]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 111);
    CHILD_CHECK(xp_write_full(fd, "r", 1), 112);
    interrupter it = {.pool = p};
    pthread_t thread;
    CHILD_CHECK(pthread_create(&thread, NULL, interrupt_later, &it) == 0, 113);
    uint8_t buf[KEYED_CAP];
    int rc = mmpool_read(p, buf, sizeof buf, NULL, MMPOOL_WAIT_FOREVER);
    uint64_t returned = mmpool_now_ns();
    CHILD_CHECK(pthread_join(thread, NULL) == 0, 114);
    CHILD_RC(it.rc, 0, 115);
    CHILD_RC(rc, MMPOOL_ECANCELED, 116);
    CHILD_CHECK(returned >= it.at_ns, 117);
    /* Used up: the next wait runs its course. */
    CHILD_RC(mmpool_read(p, buf, sizeof buf, NULL, 50), MMPOOL_ETIMEDOUT, 118);
    CHILD_RC(xp_write_keyed(p, 1, BLOCK_MS), 0, 119);
    mmpool_close(p);
    return 0;
}

/* hold_loans PATH READY_FD GO_FD COUNT NEXT: takes FIFO read loans on
 * frames 1..COUNT and copies them, says so on READY_FD, holds them until
 * GO_FD, checks that they did not change, lets go, and expects the next
 * read to be frame NEXT (with the frames between counted as dropped). */
static int role_hold_loans(int argc, char **argv) {
    CHILD_CHECK(argc == 6, 120);
    int ready_fd = (int)arg_num(argv[2]);
    int go_fd = (int)arg_num(argv[3]);
    uint64_t count = (uint64_t)arg_num(argv[4]);
    uint64_t next = (uint64_t)arg_num(argv[5]);
    CHILD_CHECK(count >= 1 && count <= 8 && next > count, 121);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_FIFO), 0, 122);
    mmpool_view v[8];
    uint8_t copy[8][KEYED_CAP];
    for (uint64_t i = 0; i < count; i++) {
        CHILD_RC(mmpool_read_acquire(p, &v[i], BLOCK_MS), 0, 123);
        CHILD_CHECK(v[i].frame.seq == i + 1 && xp_keyed_ok(v[i].data, v[i].frame.len, i + 1), 124);
        memcpy(copy[i], v[i].data, (size_t)v[i].frame.len);
    }
    CHILD_CHECK(xp_write_full(ready_fd, "r", 1), 125);
    CHILD_CHECK(xp_await_go(go_fd, REAP_MS), 126);
    for (uint64_t i = 0; i < count; i++) {
        CHILD_CHECK(memcmp(v[i].data, copy[i], (size_t)v[i].frame.len) == 0, 127);
        CHILD_RC(mmpool_read_release(p, &v[i]), 0, 128);
    }
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0, 129);
    CHILD_CHECK(f.seq == next && f.dropped == next - count - 1 && xp_keyed_ok(buf, f.len, next),
                130);
    mmpool_close(p);
    return 0;
}

/* estale_reader PATH READY_FD GO_FD NEW_CAP: blocks reading until the pool
 * is unlinked, which must end the wait with ESTALE at once; after GO_FD,
 * opens the pool that replaced it (capacity NEW_CAP) and reads its frame 1
 * (key 7). */
static int role_estale_reader(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 135);
    int ready_fd = (int)arg_num(argv[2]);
    int go_fd = (int)arg_num(argv[3]);
    uint64_t new_cap = (uint64_t)arg_num(argv[4]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 136);
    CHILD_CHECK(xp_write_full(ready_fd, "r", 1), 137);
    uint8_t buf[KEYED_CAP];
    uint64_t t0 = mmpool_now_ns();
    CHILD_RC(mmpool_read(p, buf, sizeof buf, NULL, 10000), MMPOOL_ESTALE, 138);
    CHILD_CHECK(mmpool_now_ns() - t0 < 3000 * MS_NS, 139);
    /* Retired for good: every call on the old handle says so. */
    CHILD_RC(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_ESTALE, 140);
    CHILD_RC(mmpool_try_write(p, "x", 1), MMPOOL_ESTALE, 141);
    mmpool_close(p);
    CHILD_CHECK(xp_await_go(go_fd, READY_MS), 142);
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 143);
    mmpool_stats s;
    CHILD_RC(mmpool_stat(p, &s), 0, 144);
    CHILD_CHECK(s.slot_capacity == new_cap, 145);
    mmpool_frame f;
    CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0, 146);
    CHILD_CHECK(f.seq == 1 && xp_keyed_ok(buf, f.len, 7), 147);
    mmpool_close(p);
    return 0;
}

/* race_create PATH ID READY_FD GO_FD: on GO_FD, opens PATH with
 * MMPOOL_CREATE and the race geometry, and writes its id as one frame. */
static int role_race_create(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 150);
    uint64_t id = (uint64_t)arg_num(argv[2]);
    int ready_fd = (int)arg_num(argv[3]);
    int go_fd = (int)arg_num(argv[4]);
    CHILD_CHECK(xp_write_full(ready_fd, "r", 1), 151);
    CHILD_CHECK(xp_await_go(go_fd, READY_MS), 152);
    mmpool_options o = {.slot_capacity = RACE_CAP,
                        .slot_count = RACE_PROCS,
                        .flags = MMPOOL_CREATE,
                        .format = RACE_FORMAT};
    mmpool *p;
    CHILD_RC(mmpool_open(&p, argv[1], &o), 0, 153);
    CHILD_RC(mmpool_write(p, &id, sizeof id, BLOCK_MS), 0, 154);
    mmpool_stats s;
    CHILD_RC(mmpool_stat(p, &s), 0, 155);
    CHILD_CHECK(s.slot_capacity == RACE_CAP && s.slot_count == RACE_PROCS &&
                    strcmp(s.format, RACE_FORMAT) == 0,
                156);
    mmpool_close(p);
    return 0;
}

/* fill_writer PATH ID READY_FD GO_FD: on GO_FD, writes FILL_FRAMES frames
 * {ID, k} into the existing pool as fast as it can. */
static int role_fill_writer(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 160);
    uint64_t id = (uint64_t)arg_num(argv[2]);
    int ready_fd = (int)arg_num(argv[3]);
    int go_fd = (int)arg_num(argv[4]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 161);
    CHILD_CHECK(xp_write_full(ready_fd, "r", 1), 162);
    CHILD_CHECK(xp_await_go(go_fd, READY_MS), 163);
    for (uint64_t k = 1; k <= FILL_FRAMES; k++) {
        uint64_t frame[2] = {id, k};
        CHILD_RC(mmpool_write(p, frame, sizeof frame, BLOCK_MS), 0, 164);
    }
    mmpool_close(p);
    return 0;
}

/* inspector PATH MS MIN_ALIVE: inspects the pool over and over for MS
 * milliseconds; fails if a look ever finds fewer than MIN_ALIVE live
 * entries, or none was made. */
static int role_inspector(int argc, char **argv) {
    CHILD_CHECK(argc == 4, 170);
    uint64_t until = mmpool_now_ns() + (uint64_t)arg_num(argv[2]) * MS_NS;
    unsigned min_alive = (unsigned)arg_num(argv[3]);
    unsigned looks = 0;
    while (mmpool_now_ns() < until) {
        mmpool_info info;
        mmpool_handle_info h[MMPOOL_MAX_HANDLES];
        CHILD_RC(mmpool_inspect(argv[1], &info, NULL, 0, h, MMPOOL_MAX_HANDLES), 0, 171);
        unsigned alive = 0;
        for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
            alive += h[i].alive != 0;
        }
        CHILD_CHECK(alive >= min_alive, 172);
        looks++;
    }
    CHILD_CHECK(looks > 0, 173);
    return 0;
}

const mmpt_role xproc_roles[] = {{"hold_read", role_hold_read},
                                 {"hold_write", role_hold_write},
                                 {"write_range", role_write_range},
                                 {"tagged_writer", role_tagged_writer},
                                 {"tagged_reader", role_tagged_reader},
                                 {"wake_reader", role_wake_reader},
                                 {"interrupt_reader", role_interrupt_reader},
                                 {"hold_loans", role_hold_loans},
                                 {"estale_reader", role_estale_reader},
                                 {"race_create", role_race_create},
                                 {"fill_writer", role_fill_writer},
                                 {"inspector", role_inspector},
                                 {NULL, NULL}};
