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
 * Sections: helpers, frames, child roles, tests, main.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmpool.h"
#include "support.h"

#define MS_NS UINT64_C(1000000)

enum {
    REAP_MS = 30000,  /* a child still running after this is killed: fail */
    READY_MS = 10000, /* longest wait for a child's report */
    BLOCK_MS = 5000,  /* timeout of waits that another party will end */
    KEYED_CAP = 256,  /* capacity of pools holding keyed frames */
    XP_PIDS = 16,
    XP_FDS = 16,
    XP_POOLS = 4
};

/* ---- helpers ---- */

/* What a test owns; teardown releases whatever the test did not. */
typedef struct xp {
    char path[256];
    char round_path[300]; /* a second pool path, for tests that need one */
    pid_t pids[XP_PIDS];
    int fds[XP_FDS];
    mmpool *pools[XP_POOLS];
} xp;

#define ASSERT_RC(expr, want)                                                                      \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fail_msg("%s = %s, want %s", #expr, mmpool_err_name(rc_), mmpool_err_name(want));      \
        }                                                                                          \
    } while (0)

/* In a child role: on failure, say what and where, and exit with code. */
#define CHILD_CHECK(cond, code)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "child %s:%d: failed: %s\n", argv[0], __LINE__, #cond);                \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

#define CHILD_RC(expr, want, code)                                                                 \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "child %s:%d: %s = %s, want %s\n", argv[0], __LINE__, #expr,           \
                    mmpool_err_name(rc_), mmpool_err_name(want));                                  \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

#define NUM(buf, v) num((buf), sizeof(buf), (long long)(v))
#define XP_SPAWN(st, ...) xp_track_pid((st), mmpt_spawn(__VA_ARGS__, (const char *)NULL))

static const char *num(char *buf, size_t cap, long long v) {
    snprintf(buf, cap, "%lld", v);
    return buf;
}

static long long arg_num(const char *s) {
    return strtoll(s, NULL, 10);
}

static bool verbose(void) {
    return getenv("MMPT_VERBOSE") != NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Reads exactly n bytes within timeout_ms. false on timeout, or on EOF: the
 * writing child is gone. */
static bool read_full(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * MS_NS;
    size_t done = 0;
    while (done < n) {
        uint64_t now = mmpool_now_ns();
        if (now >= deadline) {
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)((deadline - now + MS_NS - 1) / MS_NS));
        if (rc < 0 && errno != EINTR) {
            return false;
        }
        if (rc <= 0) {
            continue;
        }
        ssize_t got = read(fd, (char *)buf + done, n - done);
        if (got == 0 || (got < 0 && errno != EINTR)) {
            return false;
        }
        if (got > 0) {
            done += (size_t)got;
        }
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(fd, (const char *)buf + done, n - done);
        if (put < 0 && errno != EINTR) {
            return false;
        }
        if (put > 0) {
            done += (size_t)put;
        }
    }
    return true;
}

/* In a child: waits until the parent closes (or writes to) the other end of
 * fd, which is how it starts several children at once. */
static bool await_go(int fd, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

static pid_t xp_track_pid(xp *st, pid_t pid) {
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] == 0) {
            st->pids[i] = pid;
            return pid;
        }
    }
    fail_msg("more than %d children at once", XP_PIDS);
    return pid;
}

static int xp_reap(xp *st, pid_t pid) {
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] == pid) {
            st->pids[i] = 0;
        }
    }
    return mmpt_reap(pid, REAP_MS);
}

/* A pipe for talking to children: fds[child_end] (0 read, 1 write) is
 * inherited across exec, the other end is not. The parent closes its copy
 * of the child end once the children are started. */
static void xp_pipe(xp *st, int fds[2], int child_end) {
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    int flags = fcntl(fds[child_end], F_GETFD);
    assert_int_equal(fcntl(fds[child_end], F_SETFD, flags & ~FD_CLOEXEC), 0);
    for (int k = 0; k < 2; k++) {
        int i = 0;
        while (i < XP_FDS && st->fds[i] >= 0) {
            i++;
        }
        assert_true(i < XP_FDS);
        st->fds[i] = fds[k];
    }
}

static void xp_close(xp *st, int *fd) {
    for (int i = 0; i < XP_FDS; i++) {
        if (st->fds[i] == *fd) {
            st->fds[i] = -1;
        }
    }
    close(*fd);
    *fd = -1;
}

static mmpool *xp_open_opts(xp *st, const char *path, const mmpool_options *o) {
    mmpool *p = NULL;
    ASSERT_RC(mmpool_open(&p, path, o), 0);
    for (int i = 0; i < XP_POOLS; i++) {
        if (st->pools[i] == NULL) {
            st->pools[i] = p;
            return p;
        }
    }
    mmpool_close(p);
    fail_msg("more than %d handles at once", XP_POOLS);
    return NULL;
}

/* Adopts the existing pool at path. */
static mmpool *xp_open(xp *st, const char *path, uint32_t read_mode) {
    mmpool_options o = {.read_mode = read_mode};
    return xp_open_opts(st, path, &o);
}

/* Creates the test's pool; EXCL, so a leftover would show. */
static mmpool *xp_create(xp *st, uint64_t cap, uint32_t count, uint32_t read_mode) {
    mmpool_options o = {.slot_capacity = cap,
                        .slot_count = count,
                        .flags = MMPOOL_CREATE | MMPOOL_EXCL,
                        .read_mode = read_mode};
    return xp_open_opts(st, st->path, &o);
}

static void xp_close_pool(xp *st, mmpool *p) {
    for (int i = 0; i < XP_POOLS; i++) {
        if (st->pools[i] == p) {
            st->pools[i] = NULL;
        }
    }
    mmpool_close(p);
}

static int setup(void **state) {
    xp *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return -1;
    }
    mmpt_path(st->path, sizeof st->path, "xproc");
    for (int i = 0; i < XP_FDS; i++) {
        st->fds[i] = -1;
    }
    *state = st;
    return 0;
}

static int teardown(void **state) {
    xp *st = *state;
    for (int i = 0; i < XP_POOLS; i++) {
        mmpool_close(st->pools[i]);
    }
    /* Unlinking wakes children still blocked on the pool (ESTALE); closing
     * the pipes ends their waits on us. Only then are they reaped. */
    mmpool_unlink(st->path);
    if (st->round_path[0] != '\0') {
        mmpool_unlink(st->round_path);
    }
    for (int i = 0; i < XP_FDS; i++) {
        if (st->fds[i] >= 0) {
            close(st->fds[i]);
        }
    }
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] != 0) {
            mmpt_reap(st->pids[i], 5000);
        }
    }
    free(st);
    return 0;
}

/* Entries in path's directory whose name starts with path's last part. */
static int count_entries(const char *path) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';
    const char *base = path + (slash - dir) + 1;
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, strlen(base)) == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Asserts that a call started at t0 timed out after ms, and not very late. */
static void assert_timed_out_after(uint64_t t0, int ms) {
    uint64_t took = mmpool_now_ns() - t0;
    assert_true(took >= (uint64_t)ms * MS_NS);
    assert_true(took < 5000 * MS_NS);
}

/* ---- frames ---- */

/* splitmix64: a fast stream of pseudo-random words from a seed. */
static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void fill_pattern(void *buf, size_t len, uint64_t key) {
    uint8_t *p = buf;
    uint64_t s = key;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = next_rand(&s);
        memcpy(p + i, &w, len - i < 8 ? len - i : 8);
    }
}

static bool pattern_ok(const void *buf, size_t len, uint64_t key) {
    const uint8_t *p = buf;
    uint64_t s = key;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = next_rand(&s);
        if (memcmp(p + i, &w, len - i < 8 ? len - i : 8) != 0) {
            return false;
        }
    }
    return true;
}

/* Keyed frames: frame `key` has a length and contents that follow from the
 * key, so a reader knows exactly what it must find. In a fresh pool with
 * one writer, the frame with key k is seq k. */
static size_t keyed_len(uint64_t key) {
    return 40 + (size_t)(key * 13 % 200);
}

static int write_keyed(mmpool *p, uint64_t key, int timeout_ms) {
    uint8_t buf[KEYED_CAP];
    size_t len = keyed_len(key);
    fill_pattern(buf, len, key);
    return mmpool_write(p, buf, len, timeout_ms);
}

static bool keyed_ok(const void *data, uint64_t len, uint64_t key) {
    return len == keyed_len(key) && pattern_ok(data, (size_t)len, key);
}

/* Tagged frames, for streams: a tag, then pseudo-random payload. The
 * checksum covers the tag and the payload, so a frame torn between two
 * writes, or a tag from one frame on the payload of another, shows. Frames
 * shorter than a tag hold a pattern that follows from their length. */
enum { TAG_DATA = 1, TAG_END = 2 };
#define END_WRITER 255u

typedef struct frame_tag {
    uint64_t counter; /* the writer's own count, from 1 */
    uint64_t len;     /* the whole frame, tag included */
    uint32_t writer;  /* writer id */
    uint32_t kind;    /* TAG_DATA or TAG_END */
    uint64_t sum;     /* FNV-1a of the fields above and the payload */
} frame_tag;
_Static_assert(sizeof(frame_tag) == 32, "frame_tag has no padding");

/* FNV-1a taken a 64-bit word at a time: the byte-wise original is too slow
 * for a gigabyte of frames. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    for (; len > 0; p++, len--) {
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t tag_sum(const frame_tag *t, const uint8_t *payload, size_t n) {
    uint64_t h = fnv1a(UINT64_C(0xcbf29ce484222325), t, offsetof(frame_tag, sum));
    return fnv1a(h, payload, n);
}

static uint8_t short_byte(uint64_t len, size_t i) {
    return (uint8_t)(len * 37 + i * 11 + 5);
}

static void tagged_build(void *buf, size_t len, uint32_t writer, uint64_t counter, uint32_t kind) {
    uint8_t *p = buf;
    if (len < sizeof(frame_tag)) {
        for (size_t i = 0; i < len; i++) {
            p[i] = short_byte(len, i);
        }
        return;
    }
    frame_tag t = {.counter = counter, .len = len, .writer = writer, .kind = kind};
    fill_pattern(p + sizeof t, len - sizeof t, counter * 1000003u + writer);
    t.sum = tag_sum(&t, p + sizeof t, len - sizeof t);
    memcpy(p, &t, sizeof t);
}

/* Checks a frame made by tagged_build and returns its tag in *t (kind 0 for
 * a frame too short for one). NULL if intact, else what is wrong. */
static const char *tagged_check(const void *data, uint64_t len, frame_tag *t) {
    const uint8_t *p = data;
    memset(t, 0, sizeof *t);
    if (len < sizeof *t) {
        for (size_t i = 0; i < len; i++) {
            if (p[i] != short_byte(len, i)) {
                return "short frame does not match its length";
            }
        }
        return NULL;
    }
    memcpy(t, p, sizeof *t);
    if (t->len != len) {
        return "tag length differs from frame length";
    }
    if (t->kind != TAG_DATA && t->kind != TAG_END) {
        return "bad kind";
    }
    if (tag_sum(t, p + sizeof *t, (size_t)len - sizeof *t) != t->sum) {
        return "checksum mismatch (torn frame)";
    }
    return NULL;
}

/* ---- child roles ---- */

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
    CHILD_CHECK(v.frame.seq == key && keyed_ok(v.data, v.frame.len, key), 13);
    uint64_t t = mmpool_now_ns();
    CHILD_CHECK(write_full(fd, &t, sizeof t), 14);
    sleep_ms(hold_ms);
    /* Nobody may have written into the slot while we held it. */
    CHILD_CHECK(keyed_ok(v.data, v.frame.len, key), 15);
    t = mmpool_now_ns();
    CHILD_CHECK(write_full(fd, &t, sizeof t), 16);
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
    size_t len = keyed_len(key);
    CHILD_CHECK(cap >= len, 23);
    fill_pattern(data, len, key);
    uint64_t t = mmpool_now_ns();
    CHILD_CHECK(write_full(fd, &t, sizeof t), 24);
    sleep_ms(hold_ms);
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
        CHILD_RC(write_keyed(p, k, 0), 0, 32);
    }
    mmpool_close(p);
    return 0;
}

/* tagged_writer PATH ID COUNT MINLEN MAXLEN GO_FD END: waits for GO_FD
 * (unless -1), then writes COUNT tagged frames of pseudo-random lengths,
 * alternating copy and loan, in try mode: every other handle pins at most one
 * slot at a time and there are fewer of them than slots, so a slot is always
 * free. END 1: finishes with an end marker. */
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
        CHILD_CHECK(await_go(go_fd, READY_MS), 44);
    }
    uint64_t rng = 0x5eed0000u + id;
    for (uint64_t k = 1; k <= count; k++) {
        uint64_t r = next_rand(&rng);
        size_t len = minlen + (size_t)(r % (maxlen - minlen + 1));
        if (minlen == 0 && k % 16 == 0) {
            len = (size_t)(r % sizeof(frame_tag)); /* empty and short frames too */
        }
        if (k % 2 == 0) {
            void *data;
            size_t cap;
            CHILD_RC(mmpool_write_acquire(p, &data, &cap, 0), 0, 45);
            CHILD_CHECK(cap >= maxlen && (uintptr_t)data % 4096 == 0, 46);
            tagged_build(data, len, id, k, TAG_DATA);
            CHILD_RC(mmpool_write_commit(p, len), 0, 47);
        } else {
            tagged_build(buf, len, id, k, TAG_DATA);
            CHILD_RC(mmpool_try_write(p, buf, len), 0, 48);
        }
    }
    if (end) {
        tagged_build(buf, sizeof(frame_tag), id, count + 1, TAG_END);
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
    CHILD_CHECK(write_full(fd, "r", 1), 55);
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
        const char *bad = tagged_check(data, f.len, &t);
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
        CHILD_CHECK(write_full(fd, "r", 1), 103);
        uint8_t buf[KEYED_CAP];
        mmpool_frame f;
        int timeout = r % 2 != 0 ? MMPOOL_WAIT_FOREVER : 10000;
        CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, timeout), 0, 104);
        uint64_t now = mmpool_now_ns();
        CHILD_CHECK(f.seq == (uint64_t)r && f.dropped == 0 && keyed_ok(buf, f.len, f.seq), 105);
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
    sleep_ms(100);
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
    CHILD_CHECK(write_full(fd, "r", 1), 112);
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
    CHILD_RC(write_keyed(p, 1, BLOCK_MS), 0, 119);
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
        CHILD_CHECK(v[i].frame.seq == i + 1 && keyed_ok(v[i].data, v[i].frame.len, i + 1), 124);
        memcpy(copy[i], v[i].data, (size_t)v[i].frame.len);
    }
    CHILD_CHECK(write_full(ready_fd, "r", 1), 125);
    CHILD_CHECK(await_go(go_fd, REAP_MS), 126);
    for (uint64_t i = 0; i < count; i++) {
        CHILD_CHECK(memcmp(v[i].data, copy[i], (size_t)v[i].frame.len) == 0, 127);
        CHILD_RC(mmpool_read_release(p, &v[i]), 0, 128);
    }
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0, 129);
    CHILD_CHECK(f.seq == next && f.dropped == next - count - 1 && keyed_ok(buf, f.len, next), 130);
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
    CHILD_CHECK(write_full(ready_fd, "r", 1), 137);
    uint8_t buf[KEYED_CAP];
    uint64_t t0 = mmpool_now_ns();
    CHILD_RC(mmpool_read(p, buf, sizeof buf, NULL, 10000), MMPOOL_ESTALE, 138);
    CHILD_CHECK(mmpool_now_ns() - t0 < 3000 * MS_NS, 139);
    /* Retired for good: every call on the old handle says so. */
    CHILD_RC(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_ESTALE, 140);
    CHILD_RC(mmpool_try_write(p, "x", 1), MMPOOL_ESTALE, 141);
    mmpool_close(p);
    CHILD_CHECK(await_go(go_fd, READY_MS), 142);
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 143);
    mmpool_stats s;
    CHILD_RC(mmpool_stat(p, &s), 0, 144);
    CHILD_CHECK(s.slot_capacity == new_cap, 145);
    mmpool_frame f;
    CHILD_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0, 146);
    CHILD_CHECK(f.seq == 1 && keyed_ok(buf, f.len, 7), 147);
    mmpool_close(p);
    return 0;
}

enum { RACE_PROCS = 8, RACE_ROUNDS = 20, RACE_CAP = 1024 };
#define RACE_FORMAT "race"

/* race_create PATH ID READY_FD GO_FD: on GO_FD, opens PATH with
 * MMPOOL_CREATE and the race geometry, and writes its id as one frame. */
static int role_race_create(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 150);
    uint64_t id = (uint64_t)arg_num(argv[2]);
    int ready_fd = (int)arg_num(argv[3]);
    int go_fd = (int)arg_num(argv[4]);
    CHILD_CHECK(write_full(ready_fd, "r", 1), 151);
    CHILD_CHECK(await_go(go_fd, READY_MS), 152);
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

enum { FILL_PROCS = 8, FILL_FRAMES = 16, FILL_ROUNDS = 40 };

/* fill_writer PATH ID READY_FD GO_FD: on GO_FD, writes FILL_FRAMES frames
 * {ID, k} into the existing pool as fast as it can. */
static int role_fill_writer(int argc, char **argv) {
    CHILD_CHECK(argc == 5, 160);
    uint64_t id = (uint64_t)arg_num(argv[2]);
    int ready_fd = (int)arg_num(argv[3]);
    int go_fd = (int)arg_num(argv[4]);
    mmpool *p;
    CHILD_RC(open_reader(&p, argv[1], MMPOOL_READ_LATEST), 0, 161);
    CHILD_CHECK(write_full(ready_fd, "r", 1), 162);
    CHILD_CHECK(await_go(go_fd, READY_MS), 163);
    for (uint64_t k = 1; k <= FILL_FRAMES; k++) {
        uint64_t frame[2] = {id, k};
        CHILD_RC(mmpool_write(p, frame, sizeof frame, BLOCK_MS), 0, 164);
    }
    mmpool_close(p);
    return 0;
}

static const mmpt_role roles[] = {{"hold_read", role_hold_read},
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
                                  {NULL, NULL}};

/* ---- tests ---- */

static void test_n1_write_waits_for_reader_loan(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(write_keyed(p, 1, 0), 0);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    pid_t pid = XP_SPAWN(st, "hold_read", st->path, NUM(fd_s, ready[1]), "200", "1");
    xp_close(st, &ready[1]);
    uint64_t held, released;
    assert_true(read_full(ready[0], &held, sizeof held, READY_MS));
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_EBUSY);
    ASSERT_RC(write_keyed(p, 2, BLOCK_MS), 0);
    uint64_t done = mmpool_now_ns();
    assert_true(read_full(ready[0], &released, sizeof released, READY_MS));
    /* The child held the only slot for 200 ms and checked it unchanged. */
    assert_true(done >= released);
    assert_true(done - held >= 150 * MS_NS);
    assert_int_equal(xp_reap(st, pid), 0);
    mmpool *r = xp_open(st, st->path, MMPOOL_READ_FIFO);
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, &f), 0);
    assert_int_equal(f.seq, 2);
    assert_true(keyed_ok(buf, f.len, 2));
}

static void test_n1_read_waits_for_writer_commit(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(write_keyed(p, 1, 0), 0);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    pid_t pid = XP_SPAWN(st, "hold_write", st->path, NUM(fd_s, ready[1]), "200", "2");
    xp_close(st, &ready[1]);
    uint64_t held;
    assert_true(read_full(ready[0], &held, sizeof held, READY_MS));
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
    assert_true(keyed_ok(buf, f.len, 2));
    assert_true(f.timestamp_ns >= held + 200 * MS_NS);
    assert_true(done >= f.timestamp_ns);
    assert_true(done - held >= 150 * MS_NS);
    assert_int_equal(xp_reap(st, pid), 0);
}

static void write_range_in_child(xp *st, uint64_t from, uint64_t to) {
    char from_s[24], to_s[24];
    pid_t pid = XP_SPAWN(st, "write_range", st->path, NUM(from_s, from), NUM(to_s, to));
    assert_int_equal(xp_reap(st, pid), 0);
}

static void expect_keyed(mmpool *p, uint64_t seq, uint64_t dropped) {
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(p, buf, sizeof buf, &f), 0);
    assert_int_equal(f.seq, seq);
    assert_int_equal(f.dropped, dropped);
    assert_true(keyed_ok(buf, f.len, seq));
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
    pid_t readers[3];
    for (int i = 0; i < 3; i++) {
        readers[i] = XP_SPAWN(st, "tagged_reader", st->path, fd_s, kinds[i][0], kinds[i][1], "1");
    }
    xp_close(st, &ready[1]);
    char got[3];
    assert_true(read_full(ready[0], got, sizeof got, READY_MS));
    char count_s[24], max_s[24];
    pid_t writer = XP_SPAWN(st, "tagged_writer", st->path, "0", NUM(count_s, STREAM_FRAMES), "0",
                            NUM(max_s, STREAM_CAP), "-1", "1");
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
    pid_t reader =
        XP_SPAWN(st, "tagged_reader", st->path, NUM(fd_s, ready[1]), "fifo", "mixed", "2");
    xp_close(st, &ready[1]);
    char got;
    assert_true(read_full(ready[0], &got, 1, READY_MS));
    int go[2];
    xp_pipe(st, go, 0);
    char count_s[24], max_s[24];
    NUM(fd_s, go[0]);
    NUM(count_s, DUO_FRAMES);
    NUM(max_s, DUO_MAXLEN);
    pid_t w0 = XP_SPAWN(st, "tagged_writer", st->path, "0", count_s, "32", max_s, fd_s, "0");
    pid_t w1 = XP_SPAWN(st, "tagged_writer", st->path, "1", count_s, "32", max_s, fd_s, "0");
    xp_close(st, &go[0]);
    xp_close(st, &go[1]); /* both writers start at once */
    assert_int_equal(xp_reap(st, w0), 0);
    assert_int_equal(xp_reap(st, w1), 0);
    /* The end marker comes last, so no FIFO reader can miss it. */
    uint8_t end[sizeof(frame_tag)];
    tagged_build(end, sizeof end, END_WRITER, 0, TAG_END);
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
    pid_t pid =
        XP_SPAWN(st, "wake_reader", st->path, NUM(fd_s, ready[1]), NUM(rounds_s, WAKE_ROUNDS));
    xp_close(st, &ready[1]);
    for (uint64_t r = 1; r <= WAKE_ROUNDS; r++) {
        char c;
        assert_true(read_full(ready[0], &c, 1, READY_MS));
        /* Time for the child to fall asleep; if it has not yet, it finds
         * the frame at once, which proves less but is not wrong. */
        sleep_ms(20);
        ASSERT_RC(write_keyed(p, r, 0), 0);
    }
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_blocking_read_woken_by_interrupt(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    pid_t pid = XP_SPAWN(st, "interrupt_reader", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    char c;
    assert_true(read_full(ready[0], &c, 1, READY_MS));
    /* We sleep on the same words as the child: its interrupt wakes us too,
     * but must not cancel our read; the frame it writes afterwards ends it. */
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_read(p, buf, sizeof buf, &f, BLOCK_MS), 0);
    assert_int_equal(f.seq, 1);
    assert_true(keyed_ok(buf, f.len, 1));
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_read_times_out_on_empty_pool(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    uint8_t buf[KEYED_CAP];
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_read(p, buf, sizeof buf, NULL, 50), MMPOOL_ETIMEDOUT);
    assert_timed_out_after(t0, 50);
    mmpool_view v;
    t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_read_acquire(p, &v, 50), MMPOOL_ETIMEDOUT);
    assert_timed_out_after(t0, 50);
}

static void test_write_times_out_while_other_process_holds_all_slots(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    ASSERT_RC(write_keyed(p, 1, 0), 0);
    ASSERT_RC(write_keyed(p, 2, 0), 0);
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    char ready_s[16], go_s[16];
    pid_t pid =
        XP_SPAWN(st, "hold_loans", st->path, NUM(ready_s, ready[1]), NUM(go_s, go[0]), "2", "3");
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(read_full(ready[0], &c, 1, READY_MS));
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_EBUSY);
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_write(p, "x", 1, 50), MMPOOL_ETIMEDOUT);
    assert_timed_out_after(t0, 50);
    void *data;
    size_t cap;
    t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_write_acquire(p, &data, &cap, 50), MMPOOL_ETIMEDOUT);
    assert_timed_out_after(t0, 50);
    /* The child lets go and then reads frame 3, which this write makes. */
    xp_close(st, &go[1]);
    ASSERT_RC(write_keyed(p, 3, BLOCK_MS), 0);
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_unlink_wakes_waiting_reader_with_estale(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    char ready_s[16], go_s[16], cap_s[16];
    pid_t pid = XP_SPAWN(st, "estale_reader", st->path, NUM(ready_s, ready[1]), NUM(go_s, go[0]),
                         NUM(cap_s, 2 * KEYED_CAP));
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(read_full(ready[0], &c, 1, READY_MS));
    /* Time for the child to fall asleep; if it has not yet, it finds the
     * pool retired at once, which is also right. */
    sleep_ms(100);
    ASSERT_RC(mmpool_unlink(st->path), 0);
    ASSERT_RC(mmpool_try_write(p, "x", 1), MMPOOL_ESTALE);
    xp_close_pool(st, p);
    mmpool_options o = {
        .slot_capacity = 2 * KEYED_CAP, .slot_count = 2, .flags = MMPOOL_CREATE | MMPOOL_EXCL};
    mmpool *q = xp_open_opts(st, st->path, &o);
    ASSERT_RC(write_keyed(q, 7, 0), 0);
    xp_close(st, &go[1]);
    assert_int_equal(xp_reap(st, pid), 0);
}

enum { BURST = 1000 };

static void test_read_loans_survive_writer_burst(void **state) {
    xp *st = *state;
    mmpool *p = xp_create(st, KEYED_CAP, 4, MMPOOL_READ_LATEST);
    for (uint64_t k = 1; k <= 3; k++) {
        ASSERT_RC(write_keyed(p, k, 0), 0);
    }
    int ready[2], go[2];
    xp_pipe(st, ready, 1);
    xp_pipe(st, go, 0);
    /* The child pins frames 1 and 2; the burst (frames 4..1003) churns the
     * other two slots, which end up holding the two newest frames: its
     * next FIFO read is frame 1002, with 999 dropped. */
    char ready_s[16], go_s[16], next_s[16];
    pid_t pid = XP_SPAWN(st, "hold_loans", st->path, NUM(ready_s, ready[1]), NUM(go_s, go[0]), "2",
                         NUM(next_s, 3 + BURST - 1));
    xp_close(st, &ready[1]);
    xp_close(st, &go[0]);
    char c;
    assert_true(read_full(ready[0], &c, 1, READY_MS));
    write_range_in_child(st, 4, 3 + BURST);
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(p, &s), 0);
    assert_int_equal(s.last_seq, 3 + BURST);
    xp_close(st, &go[1]);
    assert_int_equal(xp_reap(st, pid), 0);
}

static void test_concurrent_create_yields_one_pool(void **state) {
    xp *st = *state;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        snprintf(st->round_path, sizeof st->round_path, "%s-r%02d", st->path, round);
        int ready[2], go[2];
        xp_pipe(st, ready, 1);
        xp_pipe(st, go, 0);
        char ready_s[16], go_s[16], id_s[16];
        NUM(ready_s, ready[1]);
        NUM(go_s, go[0]);
        pid_t pids[RACE_PROCS];
        for (int i = 0; i < RACE_PROCS; i++) {
            pids[i] = XP_SPAWN(st, "race_create", st->round_path, NUM(id_s, i), ready_s, go_s);
        }
        xp_close(st, &ready[1]);
        xp_close(st, &go[0]);
        char got[RACE_PROCS];
        assert_true(read_full(ready[0], got, sizeof got, READY_MS));
        xp_close(st, &go[1]); /* every child sees EOF at once */
        for (int i = 0; i < RACE_PROCS; i++) {
            assert_int_equal(xp_reap(st, pids[i]), 0);
        }
        assert_int_equal(count_entries(st->round_path), 1);
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
        assert_int_equal(count_entries(st->round_path), 0);
        xp_close(st, &ready[0]);
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
        int ready[2], go[2];
        xp_pipe(st, ready, 1);
        xp_pipe(st, go, 0);
        char ready_s[16], go_s[16], id_s[16];
        NUM(ready_s, ready[1]);
        NUM(go_s, go[0]);
        pid_t pids[FILL_PROCS];
        for (int i = 0; i < FILL_PROCS; i++) {
            pids[i] = XP_SPAWN(st, "fill_writer", st->round_path, NUM(id_s, i), ready_s, go_s);
        }
        xp_close(st, &ready[1]);
        xp_close(st, &go[0]);
        char got[FILL_PROCS];
        assert_true(read_full(ready[0], got, sizeof got, READY_MS));
        xp_close(st, &go[1]);
        for (int i = 0; i < FILL_PROCS; i++) {
            assert_int_equal(xp_reap(st, pids[i]), 0);
        }
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
        xp_close(st, &ready[0]);
        st->round_path[0] = '\0';
    }
}

/* ---- main ---- */

#define XP_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv) {
    int rc = mmpt_child_main(argc, argv, roles);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
