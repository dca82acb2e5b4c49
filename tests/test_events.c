/*
 * Event loops: mmpool_event_handle's readiness, mmpool_poll, and the
 * handles/writers counts of mmpool_stat, across processes. A missed
 * wake-up must fail, not merely slow down: the stream test waits on the
 * raw descriptor (poll(), WaitForSingleObject), which has no re-check
 * slice, so a lost signal stalls it until GIVE_UP_MS.
 * Sections: helpers, child roles, readiness, poll, counts, main.
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

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "mmpool.h"
#include "support.h"

enum {
    GIVE_UP_MS = 5000, /* a wait that should end: a lost wake-up fails */
    QUIET_MS = 200,    /* a wait that should not end */
    STREAM_FRAMES = 10000,
    STREAM_AHEAD = 32, /* frames the stream writer may be ahead of acks */
    STREAM_SLOTS = 64, /* more than STREAM_AHEAD: nothing is overwritten */
    SAMPLES = 5,       /* promptness: delays measured */
    PROMPT_MS = 40,    /* bound on their median; unwoken, a poll looks
                          again only after its 100 ms slice */
    WAKE_AFTER_MS = 20
};

#define MS_NS UINT64_C(1000000)
#define OFF_EVENT_WAITERS 336 /* docs/format.md, header */
#define OFF_LAST_SEQ 256
#define OFF_ENTRIES 1024 /* entry i at 1024 + 64 i */
#define OFF_EVENT_KEY 40 /* in an entry */

/* ---- helpers ---- */

typedef struct fixture {
    char path[256];
    char ack_path[256];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) {
        return -1;
    }
    mmpt_path(fx->path, sizeof fx->path, "events");
    mmpt_path(fx->ack_path, sizeof fx->ack_path, "events-ack");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->path);
    mmpool_unlink(fx->ack_path);
    free(fx);
    return 0;
}

static mmpool *create(const char *path, uint32_t slots, uint32_t read_mode) {
    mmpool_options o = {
        .slot_capacity = 64, .slot_count = slots, .flags = MMPOOL_CREATE, .read_mode = read_mode};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

/* Whether the event handle h becomes ready within ms. */
static bool ready_within(intptr_t h, int ms) {
#ifdef _WIN32
    return WaitForSingleObject((HANDLE)h, (DWORD)ms) == WAIT_OBJECT_0;
#else
    struct pollfd pf = {.fd = (int)h, .events = POLLIN, .revents = 0};
    return poll(&pf, 1, ms) == 1 && (pf.revents & POLLIN) != 0;
#endif
}

static uint64_t now_ms(void) {
    return mmpool_now_ns() / MS_NS;
}

/* The header's event_waiters word, read from the file as another process
 * sees it. */
static uint32_t event_waiters(const char *path) {
    FILE *f = mmpt_fopen(path, "rb");
    assert_non_null(f);
    uint32_t v = 0;
    assert_int_equal(fseek(f, OFF_EVENT_WAITERS, SEEK_SET), 0);
    assert_int_equal(fread(&v, sizeof v, 1, f), 1);
    fclose(f);
    return v;
}

/* Overwrites the header's last_seq in the file, as a damaging process can. */
static void set_last_seq(const char *path, uint64_t v) {
    FILE *f = mmpt_fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, OFF_LAST_SEQ, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
    fclose(f);
}

/* ---- child roles ---- */

/* write_later PATH MS: writes one frame MS milliseconds after opening. */
static int role_write_later(int argc, char **argv) {
    mmpool *p = NULL;
    if (argc != 3 || mmpool_open(&p, argv[1], NULL) != MMPOOL_OK) {
        return 10;
    }
    mmpt_sleep_ms(atoi(argv[2]));
    int rc = mmpool_write(p, "later", 5, GIVE_UP_MS);
    mmpool_close(p);
    return rc == MMPOOL_OK ? 0 : 11;
}

/* stream PATH ACK_PATH: writes seqs 1..STREAM_FRAMES (each frame holds its
 * number), never more than STREAM_AHEAD ahead of the last number the
 * reader acknowledged in ACK_PATH. */
static int role_stream(int argc, char **argv) {
    mmpool *p = NULL;
    mmpool *ack = NULL;
    if (argc != 3 || mmpool_open(&p, argv[1], NULL) != MMPOOL_OK ||
        mmpool_open(&ack, argv[2], NULL) != MMPOOL_OK) {
        return 20;
    }
    uint64_t acked = 0;
    for (uint64_t n = 1; n <= STREAM_FRAMES; n++) {
        while (n > acked + STREAM_AHEAD) {
            if (mmpool_read(ack, &acked, sizeof acked, NULL, GIVE_UP_MS) != MMPOOL_OK) {
                return 21;
            }
        }
        if (mmpool_write(p, &n, sizeof n, GIVE_UP_MS) != MMPOOL_OK) {
            return 22;
        }
    }
    mmpool_close(ack);
    mmpool_close(p);
    return 0;
}

/* stay PATH MODE: attaches, then either commits one frame ("write") or
 * arms an event handle ("arm"), and waits to be killed. */
static int role_stay(int argc, char **argv) {
    mmpool *p = NULL;
    if (argc != 3 || mmpool_open(&p, argv[1], NULL) != MMPOOL_OK) {
        return 30;
    }
    if (strcmp(argv[2], "write") == 0) {
        if (mmpool_try_write(p, "w", 1) != MMPOOL_OK) {
            return 31;
        }
    } else {
        intptr_t h;
        char buf[64];
        if (mmpool_event_handle(p, &h) != MMPOOL_OK ||
            mmpool_try_read(p, buf, sizeof buf, NULL) != MMPOOL_EAGAIN) {
            return 32;
        }
    }
    mmpt_sleep_ms(30000);
    return 33;
}

static const mmpt_role roles[] = {
    {"write_later", role_write_later}, {"stream", role_stream}, {"stay", role_stay}, {NULL, NULL}};

/* ---- readiness ---- */

static void test_event_handle_becomes_ready_after_a_commit_in_another_process(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    intptr_t again;
    assert_int_equal(mmpool_event_handle(p, &again), MMPOOL_OK);
    assert_true(again == h);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_false(ready_within(h, 0));
    mmpt_proc child = mmpt_spawn("write_later", fx->path, "100", NULL);
    assert_true(ready_within(h, GIVE_UP_MS));
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_OK);
    assert_memory_equal(buf, "later", 5);
    assert_int_equal(mmpt_reap(child, GIVE_UP_MS), 0);
    mmpool_close(p);
}

static void test_event_handle_stays_quiet_without_a_commit(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    uint64_t ready = 99;
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    assert_false(ready_within(h, QUIET_MS));
    assert_int_equal(mmpool_poll(&p, 1, 0, &ready), MMPOOL_EAGAIN);
    assert_int_equal(mmpool_poll(&p, 1, QUIET_MS, &ready), MMPOOL_ETIMEDOUT);
    /* Another handle's frame flush leaves nothing to read: still quiet. */
    mmpool *w = create(fx->path, 2, MMPOOL_READ_LATEST);
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_OK);
    assert_int_equal(mmpool_flush(w), MMPOOL_OK);
    char buf[64];
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_false(ready_within(h, QUIET_MS));
    mmpool_close(w);
    mmpool_close(p);
}

static void test_event_handle_stays_ready_until_a_read_finds_nothing(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 4, MMPOOL_READ_FIFO);
    mmpool *w = create(fx->path, 4, MMPOOL_READ_LATEST);
    /* Frames written before the event handle existed count too. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mmpool_try_write(w, "abc", 3), MMPOOL_OK);
    }
    intptr_t h;
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    mmpool_view v;
    for (int i = 0; i < 3; i++) {
        assert_true(ready_within(h, GIVE_UP_MS)); /* level: unread frames left */
        assert_int_equal(mmpool_read_acquire(p, &v, 0), MMPOOL_OK);
        assert_int_equal(mmpool_read_release(p, &v), MMPOOL_OK);
    }
    assert_int_equal(mmpool_read_acquire(p, &v, 0), MMPOOL_EAGAIN);
    assert_false(ready_within(h, QUIET_MS));
    /* A timed read that times out re-arms it as well. */
    assert_int_equal(mmpool_try_write(w, "d", 1), MMPOOL_OK);
    assert_true(ready_within(h, GIVE_UP_MS));
    assert_int_equal(mmpool_read_acquire(p, &v, 0), MMPOOL_OK);
    assert_int_equal(mmpool_read_release(p, &v), MMPOOL_OK);
    assert_int_equal(mmpool_read_acquire(p, &v, 10), MMPOOL_ETIMEDOUT);
    assert_false(ready_within(h, QUIET_MS));
    mmpool_close(w);
    mmpool_close(p);
}

static void test_interrupt_makes_an_armed_handle_ready_once(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    assert_int_equal(mmpool_interrupt(p), MMPOOL_OK);
    assert_true(ready_within(h, GIVE_UP_MS));
    /* A try read neither sees nor uses the interrupt; the handle must not
     * stay ready for it, or a loop reading until EAGAIN would spin. */
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_false(ready_within(h, QUIET_MS));
    /* The interrupt is still pending for the next call that may wait. */
    assert_int_equal(mmpool_read(p, buf, sizeof buf, NULL, 10), MMPOOL_ECANCELED);
    assert_int_equal(mmpool_read(p, buf, sizeof buf, NULL, 10), MMPOOL_ETIMEDOUT);
    mmpool_close(p);
}

static void test_fifo_reader_driven_by_its_event_handle_sees_every_seq(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, STREAM_SLOTS, MMPOOL_READ_FIFO);
    mmpool *ack = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    mmpt_proc child = mmpt_spawn("stream", fx->path, fx->ack_path, NULL);
    uint64_t next = 1;
    unsigned long waits = 0;
    while (next <= STREAM_FRAMES) {
        if (!ready_within(h, GIVE_UP_MS)) {
            fail_msg("no readiness for %llu ms with frame %llu due: a lost wake-up",
                     (unsigned long long)GIVE_UP_MS, (unsigned long long)next);
        }
        waits++;
        uint64_t n;
        mmpool_frame info;
        int rc;
        while ((rc = mmpool_try_read(p, &n, sizeof n, &info)) == MMPOOL_OK) {
            assert_int_equal(n, next);
            assert_int_equal(info.seq, next);
            assert_int_equal(info.dropped, 0);
            next++;
        }
        assert_int_equal(rc, MMPOOL_EAGAIN);
        uint64_t done = next - 1;
        assert_int_equal(mmpool_try_write(ack, &done, sizeof done), MMPOOL_OK);
    }
    assert_int_equal(mmpt_reap(child, GIVE_UP_MS), 0);
    printf("events: %d frames, every seq once and in order, after %lu readiness waits\n",
           STREAM_FRAMES, waits);
    mmpool_close(ack);
    mmpool_close(p);
}

#ifndef _WIN32
static void test_event_handle_belongs_to_the_parent_after_fork(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        intptr_t hc;
        uint64_t ready;
        /* The child does not hold the parent's event socket: the fork
         * handler closed its copy, so the child cannot drain it. */
        int ok = mmpool_event_handle(p, &hc) == MMPOOL_EINVAL &&
                 mmpool_poll(&p, 1, 0, &ready) == MMPOOL_EINVAL && fcntl((int)h, F_GETFD) == -1 &&
                 errno == EBADF;
        mmpool_close(p);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's event still works once the child is gone. */
    mmpool *w = create(fx->path, 2, MMPOOL_READ_LATEST);
    assert_int_equal(mmpool_try_write(w, "f", 1), MMPOOL_OK);
    assert_true(ready_within(h, GIVE_UP_MS));
    mmpool_close(w);
    mmpool_close(p);
}
#endif

static void test_killed_event_waiter_costs_writers_one_signal(void **state) {
    fixture *fx = *state;
    mmpool *w = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpt_proc child = mmpt_spawn("stay", fx->path, "arm", NULL);
    uint64_t until = now_ms() + GIVE_UP_MS;
    while (event_waiters(fx->path) == 0 && now_ms() < until) {
        mmpt_sleep_ms(5);
    }
    assert_int_not_equal(event_waiters(fx->path), 0);
    assert_int_equal(mmpt_kill(child), 0);
    assert_int_equal(mmpt_reap(child, GIVE_UP_MS), MMPT_KILLED);
    /* The first commit signals the dead event (nobody receives it) and
     * disarms it; later commits find nothing to signal. */
    assert_int_equal(mmpool_try_write(w, "a", 1), MMPOOL_OK);
    assert_int_equal(event_waiters(fx->path), 0);
    assert_int_equal(mmpool_try_write(w, "b", 1), MMPOOL_OK);
    assert_int_equal(event_waiters(fx->path), 0);
    mmpool_close(w);
}

static void test_frames_beyond_a_lowered_last_seq_do_not_keep_a_poll_busy(void **state) {
    fixture *fx = *state;
    mmpool *w = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *r = create(fx->path, 2, MMPOOL_READ_LATEST);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(mmpool_try_write(w, "f", 1), MMPOOL_OK);
    }
    /* The slots hold seqs 5 and 6; last_seq damaged down to 3. A read can
     * repair last_seq only to 4, which no slot holds: nothing is readable,
     * and the poll must sleep, not report the two frames ready for ever. */
    set_last_seq(fx->path, 3);
    uint64_t ready = 0;
    uint64_t t0 = now_ms();
    assert_int_equal(mmpool_poll(&r, 1, 300, &ready), MMPOOL_ETIMEDOUT);
    assert_true(now_ms() - t0 >= 300);
    char buf[64];
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    /* The next commit is seq 4 and readable as usual. */
    assert_int_equal(mmpool_try_write(w, "g", 1), MMPOOL_OK);
    assert_int_equal(mmpool_poll(&r, 1, GIVE_UP_MS, &ready), MMPOOL_OK);
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &info), MMPOOL_OK);
    assert_int_equal(info.seq, 4);
    mmpool_close(r);
    mmpool_close(w);
}

#ifndef _WIN32
/* A socket bound to the abstract name an event with key has, which never
 * reads what it gets. */
static int bind_event_name(uint64_t key) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "mmpool-ev-%016llx",
                     (unsigned long long)key);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
    return fd;
}

static void put_u64(const char *path, long off, uint64_t v) {
    FILE *f = mmpt_fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, off, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
    fclose(f);
}

static void or_event_waiters(const char *path, uint32_t bits) {
    uint32_t v = event_waiters(path) | bits;
    FILE *f = mmpt_fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, OFF_EVENT_WAITERS, SEEK_SET), 0);
    assert_int_equal(fwrite(&v, sizeof v, 1, f), 1);
    fclose(f);
}

enum { HOSTILE_READER = 30, HOSTILE_ROUNDS = 16 };

static void test_receivers_that_never_read_cannot_silence_a_writer(void **state) {
    fixture *fx = *state;
    /* The reader takes the last entry but one (signals go out in entry
     * order, so the hostile ones before it are sent first). */
    mmpool *w = create(fx->path, 2, MMPOOL_READ_LATEST); /* entry 0 */
    mmpool *fill[MMPOOL_MAX_HANDLES];
    for (int i = 1; i < HOSTILE_READER; i++) {
        fill[i] = create(fx->path, 2, MMPOOL_READ_LATEST);
    }
    mmpool *r = create(fx->path, 2, MMPOOL_READ_LATEST); /* entry HOSTILE_READER */
    for (int i = 1; i < HOSTILE_READER; i++) {
        mmpool_close(fill[i]);
    }
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(r, &h), MMPOOL_OK);
    /* A process with write access names, in the free entries, sockets of
     * its own that never read, and arms them before every commit: each
     * datagram the writer sends them stays charged to the writer's socket. */
    int fds[MMPOOL_MAX_HANDLES];
    uint32_t bits = 0;
    for (int i = 1; i < MMPOOL_MAX_HANDLES; i++) {
        if (i == HOSTILE_READER) {
            continue;
        }
        uint64_t key = UINT64_C(0x6d6d706f6f6c0000) + (uint64_t)i + ((uint64_t)getpid() << 8);
        fds[i] = bind_event_name(key);
        put_u64(fx->path, OFF_ENTRIES + 64L * i + OFF_EVENT_KEY, key);
        bits |= (uint32_t)1 << i;
    }
    for (int round = 0; round < HOSTILE_ROUNDS; round++) {
        while (mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK) {
        }
        or_event_waiters(fx->path, bits);
        assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_OK);
        if (!ready_within(h, GIVE_UP_MS)) {
            fail_msg("round %d: the real reader's event was not signaled", round);
        }
    }
    for (int i = 1; i < MMPOOL_MAX_HANDLES; i++) {
        if (i != HOSTILE_READER) {
            close(fds[i]);
        }
    }
    mmpool_close(r);
    mmpool_close(w);
}
#endif

/* ---- poll ---- */

static void test_poll_reports_each_ready_pool(void **state) {
    fixture *fx = *state;
    mmpool *a = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *b = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
    mmpool *wb = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
    mmpool *set[3] = {a, b, b};
    uint64_t ready = 0;
    assert_int_equal(mmpool_poll(set, 3, 0, &ready), MMPOOL_EAGAIN);
    mmpt_proc child = mmpt_spawn("write_later", fx->path, "50", NULL);
    assert_int_equal(mmpool_poll(set, 3, GIVE_UP_MS, &ready), MMPOOL_OK);
    assert_int_equal(ready, 1);
    assert_int_equal(mmpt_reap(child, GIVE_UP_MS), 0);
    assert_int_equal(mmpool_try_write(wb, "b", 1), MMPOOL_OK);
    assert_int_equal(mmpool_poll(set, 3, 0, &ready), MMPOOL_OK);
    assert_int_equal(ready, 7); /* the same handle twice: both bits */
    char buf[64];
    assert_int_equal(mmpool_try_read(a, buf, sizeof buf, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_poll(set, 3, 0, &ready), MMPOOL_OK);
    assert_int_equal(ready, 6);
    mmpool_close(wb);
    mmpool_close(b);
    mmpool_close(a);
}

static void test_poll_rejects_bad_arguments(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *set[65];
    for (int i = 0; i < 65; i++) {
        set[i] = p;
    }
    mmpool *with_null[2] = {p, NULL};
    uint64_t ready = 42;
    intptr_t h;
    assert_int_equal(mmpool_poll(set, 0, 0, &ready), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(set, 65, 0, &ready), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(NULL, 1, 0, &ready), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(set, 1, 0, NULL), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(with_null, 2, 0, &ready), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(set, 1, -2, &ready), MMPOOL_EINVAL);
    assert_int_equal(ready, 42);
    assert_int_equal(mmpool_event_handle(NULL, &h), MMPOOL_EINVAL);
    assert_int_equal(mmpool_event_handle(p, NULL), MMPOOL_EINVAL);
    assert_int_equal(mmpool_poll(set, 64, 0, &ready), MMPOOL_EAGAIN);
    mmpool_close(p);
}

typedef struct poll_call {
    mmpool *set[2];
    int timeout_ms;
    int rc;
    uint64_t ready;
    uint64_t started_ns;
    uint64_t ended_ns;
} poll_call;

static void *run_poll(void *arg) {
    poll_call *c = arg;
    c->started_ns = mmpool_now_ns();
    c->rc = mmpool_poll(c->set, 2, c->timeout_ms, &c->ready);
    c->ended_ns = mmpool_now_ns();
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef enum { BY_INTERRUPT, BY_UNLINK } ender;

/* Median delay, over SAMPLES polls blocked on two pools, between the end
 * call and the poll's return; every poll must return want. */
static uint64_t median_end_delay_ns(fixture *fx, ender how, int want) {
    uint64_t delay[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        mmpool *a = create(fx->path, 2, MMPOOL_READ_LATEST);
        mmpool *b = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
        poll_call c = {.set = {a, b}, .timeout_ms = MMPOOL_WAIT_FOREVER};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, run_poll, &c), 0);
        mmpt_sleep_ms(WAKE_AFTER_MS);
        uint64_t ended = mmpool_now_ns();
        if (how == BY_INTERRUPT) {
            assert_int_equal(mmpool_interrupt(b), MMPOOL_OK);
        } else {
            assert_int_equal(mmpool_unlink(fx->ack_path), MMPOOL_OK);
        }
        pthread_join(t, NULL);
        assert_int_equal(c.rc, want);
        delay[i] = c.ended_ns - ended;
        mmpool_close(b);
        mmpool_close(a);
        mmpool_unlink(fx->ack_path);
    }
    qsort(delay, SAMPLES, sizeof delay[0], cmp_u64);
    return delay[SAMPLES / 2];
}

static void test_interrupt_ends_a_poll_at_once(void **state) {
    uint64_t median = median_end_delay_ns(*state, BY_INTERRUPT, MMPOOL_ECANCELED);
    printf("events: interrupt under a poll: median %.2f ms (bound %d ms)\n", (double)median / 1e6,
           PROMPT_MS);
    assert_true(median < (uint64_t)PROMPT_MS * MS_NS);
}

static void test_unlink_ends_a_poll_at_once_with_estale(void **state) {
    uint64_t median = median_end_delay_ns(*state, BY_UNLINK, MMPOOL_ESTALE);
    printf("events: unlink under a poll: median %.2f ms (bound %d ms)\n", (double)median / 1e6,
           PROMPT_MS);
    assert_true(median < (uint64_t)PROMPT_MS * MS_NS);
}

static void test_closing_another_handle_leaves_a_running_poll_alone(void **state) {
    fixture *fx = *state;
    mmpool *a = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool *b = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
    poll_call c = {.set = {a, b}, .timeout_ms = GIVE_UP_MS};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_poll, &c), 0);
    /* Another handle on a polled pool, with an event of its own, comes and
     * goes while the poll runs. */
    mmpool *other = create(fx->path, 2, MMPOOL_READ_LATEST);
    intptr_t h;
    assert_int_equal(mmpool_event_handle(other, &h), MMPOOL_OK);
    mmpool_close(other);
    mmpt_sleep_ms(WAKE_AFTER_MS);
    mmpool *w = create(fx->ack_path, 2, MMPOOL_READ_LATEST);
    assert_int_equal(mmpool_try_write(w, "b", 1), MMPOOL_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, MMPOOL_OK);
    assert_int_equal(c.ready, 2);
    mmpool_close(w);
    mmpool_close(b);
    mmpool_close(a);
}

/* ---- counts ---- */

static void test_writers_drops_to_zero_when_the_writer_is_killed(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 2, MMPOOL_READ_LATEST);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.handles, 1);
    assert_int_equal(st.writers, 0);
    mmpt_proc child = mmpt_spawn("stay", fx->path, "write", NULL);
    uint64_t until = now_ms() + GIVE_UP_MS;
    do {
        mmpt_sleep_ms(5);
        assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    } while (st.writers == 0 && now_ms() < until);
    assert_int_equal(st.handles, 2);
    assert_int_equal(st.writers, 1);
    assert_int_equal(mmpt_kill(child), 0);
    assert_int_equal(mmpt_reap(child, GIVE_UP_MS), MMPT_KILLED);
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.handles, 1);
    assert_int_equal(st.writers, 0);
    /* Our own commit makes us a writer. */
    assert_int_equal(mmpool_try_write(p, "x", 1), MMPOOL_OK);
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.writers, 1);
    mmpool_close(p);
}

/* ---- main ---- */

int main(int argc, char **argv) {
    int rc = mmpt_child_main(argc, argv, roles);
    if (rc >= 0) {
        return rc;
    }
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_event_handle_becomes_ready_after_a_commit_in_another_process),
        T(test_event_handle_stays_quiet_without_a_commit),
        T(test_event_handle_stays_ready_until_a_read_finds_nothing),
        T(test_interrupt_makes_an_armed_handle_ready_once),
        T(test_fifo_reader_driven_by_its_event_handle_sees_every_seq),
#ifndef _WIN32
        T(test_event_handle_belongs_to_the_parent_after_fork),
#endif
        T(test_killed_event_waiter_costs_writers_one_signal),
        T(test_frames_beyond_a_lowered_last_seq_do_not_keep_a_poll_busy),
#ifndef _WIN32
        T(test_receivers_that_never_read_cannot_silence_a_writer),
#endif
        T(test_poll_reports_each_ready_pool),
        T(test_poll_rejects_bad_arguments),
        T(test_interrupt_ends_a_poll_at_once),
        T(test_unlink_ends_a_poll_at_once_with_estale),
        T(test_closing_another_handle_leaves_a_running_poll_alone),
        T(test_writers_drops_to_zero_when_the_writer_is_killed),
    };
#undef T
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
