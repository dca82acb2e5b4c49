/*
 * Crash recovery: processes killed with SIGKILL while they hold slots, write
 * loans, waiter registrations or the commit lock must never leave the pool
 * torn, stuck or short of a slot. Whoever is still alive cleans up after the
 * dead, which the kernel identifies through the entry locks.
 *
 * The kill storm runs writers and readers as children (this binary
 * re-executed), kills them at random and starts replacements; the children
 * check every frame and count what they verified in a small shared file that
 * survives them. Those roles and that file are in kill_storm.c. The
 * single-kill tests then prove one kind of hold each, with their roles in
 * kill_roles.c.
 *
 * Children die with the test process (PR_SET_PDEATHSIG; on Windows, a job
 * that kills its processes when the test process ends), and on Linux the
 * test process is a child subreaper, so a grandchild whose parent was
 * killed can be reaped here too. On Windows a kill is TerminateProcess, and
 * a "zombie" is a child that has ended while its process handle is still
 * open: its id stays taken until the handle is closed.
 *
 * Sections: fixture, process helpers, kill storm, single kills, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "kill.h"

#define PARENT_ENV "MMPT_KILL_PARENT"
#define KILLED MMPT_KILLED /* what mmpt_reap reports for a killed child */

/* Header words of a pool (docs/format.md): the frame wait word, which a
 * notifier bumps just before its wake-up system call, and the mask of
 * handles waiting for a frame. */
enum { FRAME_WORD_OFFSET = 320, READ_WAITERS_OFFSET = 324 };
/* The commit lock: entry index + 1 of the committing handle, 0 = free. */
enum { COMMIT_LOCK_OFFSET = 264 };

/* ---- fixture ---- */

/* What a test owns beyond the cross-process fixture: the storm's counter
 * file and handles past the fixture's four. */
typedef struct kfx {
    xp *x;
    char stats_path[256];
    void *stats;
    size_t stats_size;
    void *buf; /* a frame buffer, freed by teardown */
    mmpool *extra[8];
} kfx;

static int kill_setup(void **state) {
    void *inner = NULL;
    if (xp_setup(&inner) != 0) {
        return -1;
    }
    kfx *k = calloc(1, sizeof *k);
    if (k == NULL) {
        xp_teardown(&inner);
        return -1;
    }
    k->x = inner;
    mmpt_path(k->stats_path, sizeof k->stats_path, "killstats");
    *state = k;
    return 0;
}

/* Kills every child first: storm children never end by themselves, and a
 * failed test may leave holders waiting to be killed. */
static int kill_teardown(void **state) {
    kfx *k = *state;
    for (size_t i = 0; i < sizeof k->extra / sizeof k->extra[0]; i++) {
        mmpool_close(k->extra[i]);
    }
    if (k->stats != NULL) {
        ks_stats_unmap(k->stats);
    }
    unlink(k->stats_path);
    free(k->buf);
    for (int i = 0; i < XP_PIDS; i++) {
        if (k->x->pids[i] != 0) {
            mmpt_kill(k->x->pids[i]);
        }
    }
    void *inner = k->x;
    xp_teardown(&inner);
#ifndef _WIN32
    /* Grandchildren orphaned to us that no test tracked. */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
#endif
    free(k);
    return 0;
}

static mmpool *extra_open(kfx *k, uint32_t read_mode) {
    mmpool_options o = {.read_mode = read_mode};
    for (size_t i = 0; i < sizeof k->extra / sizeof k->extra[0]; i++) {
        if (k->extra[i] == NULL) {
            ASSERT_RC(mmpool_open(&k->extra[i], k->x->path, &o), 0);
            return k->extra[i];
        }
    }
    fail_msg("too many extra handles");
    return NULL;
}

/* ---- process helpers ---- */

#ifndef _WIN32
/* The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), '?' if unknown. */
static char proc_state(mmpt_proc pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return '?';
    }
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: the state is the
     * field after the last ')'. */
    const char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] != '\0' ? p[2] : '?';
}
#endif

/* Whether the killed child is dead but not reaped: a zombie, or on Windows
 * an ended process whose handle is still open. Wine may still open an
 * ended process, so its exit code is what tells. */
static bool is_zombie(mmpt_proc child) {
#ifdef _WIN32
    DWORD code;
    return WaitForSingleObject((HANDLE)child, 0) == WAIT_OBJECT_0 &&
           GetExitCodeProcess((HANDLE)child, &code) && code != STILL_ACTIVE;
#else
    return proc_state(child) == 'Z';
#endif
}

/* Waits until the killed child pid is a zombie: dead, its descriptors and
 * locks gone, but not reaped. */
static bool wait_zombie(mmpt_proc pid, int timeout_ms) {
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * MS_NS;
    while (!is_zombie(pid)) {
        if (mmpool_now_ns() >= deadline) {
            return false;
        }
        ks_sleep_us(200);
    }
    return true;
}

#ifndef _WIN32
/* Forgets pid in the fixture without reaping it (it was reaped already). */
static void forget_pid(xp *st, mmpt_proc pid) {
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] == pid) {
            st->pids[i] = 0;
        }
    }
}
#endif

/* A 32-bit header word of the pool file, read through the file: what
 * another process, or a tool, sees without attaching. */
static uint32_t header_word(const char *path, long offset) {
    FILE *fp = mmpt_fopen(path, "rb");
    assert_non_null(fp);
    uint32_t w = 0;
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    assert_int_equal(fread(&w, 1, sizeof w, fp), sizeof w);
    fclose(fp);
    return w;
}

/* ---- kill storm ---- */

enum {
    DELIVER_MS = 1000, /* after a kill, a new frame within this */
    MAX_ZOMBIES = 4
};

typedef struct place {
    const char *role;
    const char *mode;
    const char *how;
} place;

static const place places[STORM_PLACES] = {
    {"storm_writer", "", "copy"},       {"storm_writer", "", "loan"},
    {"storm_reader", "latest", "copy"}, {"storm_reader", "latest", "loan"},
    {"storm_reader", "fifo", "copy"},   {"storm_reader", "fifo", "loan"}};

typedef struct storm {
    kfx *k;
    storm_stats *stats;
    mmpool *reader; /* the parent's own LATEST handle */
    uint8_t *buf;
    uint64_t seed, rng;
    mmpt_proc pids[STORM_PLACES];
    uint32_t ids[STORM_PLACES]; /* writer ids, 0 for readers */
    uint32_t next_id;
    mmpt_proc zombies[MAX_ZOMBIES]; /* killed, not yet reaped */
    int zombie_rounds[MAX_ZOMBIES];
    int zombie_kills;
    uint64_t worst_ns; /* longest wait from a death to a new frame */
    uint64_t last_seq; /* newest seq the parent read */
    int round;
} storm;

/* Fails the test, saying where in the storm and how to repeat it. */
__attribute__((format(printf, 2, 3))) static void storm_fail(storm *sm, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *first = atomic_load(&sm->stats->msg_state) == 2 ? sm->stats->msg : "none";
    fail_msg("kill storm round %d: %s (first child violation: %s; MMPOOL_KILL_SEED=%llu)",
             sm->round, msg, first, (unsigned long long)sm->seed);
}

static const char *place_name(int i) {
    static char name[STORM_PLACES][32];
    snprintf(name[i], sizeof name[i], "%s %s%s%s", i < STORM_WRITERS ? "writer" : "reader",
             places[i].mode, places[i].mode[0] != '\0' ? "/" : "", places[i].how);
    return name[i];
}

static void spawn_place(storm *sm, int i) {
    xp *st = sm->k->x;
    char place_s[16], id_s[16];
    if (i < STORM_WRITERS) {
        sm->ids[i] = ++sm->next_id;
        sm->pids[i] = XP_SPAWN(st, places[i].role, st->path, sm->k->stats_path, NUM(place_s, i),
                               NUM(id_s, sm->ids[i]), places[i].how);
    } else {
        sm->pids[i] = XP_SPAWN(st, places[i].role, st->path, sm->k->stats_path, places[i].mode,
                               places[i].how);
    }
}

/* A child that ended without being killed has failed (children run until
 * killed), and so has any recorded violation. */
static void check_children(storm *sm) {
    for (int i = 0; i < STORM_PLACES; i++) {
#ifdef _WIN32
        DWORD code;
        if (WaitForSingleObject((HANDLE)sm->pids[i], 0) == WAIT_OBJECT_0 &&
            GetExitCodeProcess((HANDLE)sm->pids[i], &code) && code != STILL_ACTIVE) {
            long id = mmpt_proc_id(sm->pids[i]);
            xp_reap(sm->k->x, sm->pids[i]);
            storm_fail(sm, "%s (pid %ld) ended by itself with exit status %lu", place_name(i), id,
                       (unsigned long)code);
        }
#else
        int status;
        if (waitpid(sm->pids[i], &status, WNOHANG) == sm->pids[i]) {
            forget_pid(sm->k->x, sm->pids[i]);
            storm_fail(sm, "%s (pid %ld) ended by itself with %s %d", place_name(i),
                       (long)sm->pids[i], WIFEXITED(status) ? "exit status" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
#endif
    }
    if (atomic_load(&sm->stats->violations) != 0) {
        storm_fail(sm, "a child found a broken invariant");
    }
}

/* Reaps a killed child; a status other than SIGKILL means it had ended by
 * itself before the kill landed. */
static void reap_killed(storm *sm, mmpt_proc pid, const char *what) {
    int status = xp_reap(sm->k->x, pid);
    if (status != KILLED) {
        storm_fail(sm, "%s (pid %ld) ended with status %d, not by the kill", what,
                   mmpt_proc_id(pid), status);
    }
}

/* Reads with the parent's handle until a frame newer than before arrives,
 * checking each; fails if none arrives within limit_ms of since, the moment
 * of event. */
static void await_new_frame(storm *sm, uint64_t before, uint64_t since, int limit_ms,
                            const char *event) {
    uint64_t deadline = since + (uint64_t)limit_ms * MS_NS;
    for (;;) {
        uint64_t now = mmpool_now_ns();
        int rc = MMPOOL_ETIMEDOUT;
        mmpool_frame f;
        if (now < deadline) {
            rc = mmpool_read(sm->reader, sm->buf, STORM_CAP, &f,
                             (int)((deadline - now + MS_NS - 1) / MS_NS));
        }
        if (rc == MMPOOL_ETIMEDOUT) {
            storm_fail(sm, "no frame after seq %llu within %d ms %s", (unsigned long long)before,
                       limit_ms, event);
        }
        if (rc != 0) {
            storm_fail(sm, "parent read: %s", mmpool_err_name(rc));
        }
        frame_tag t;
        const char *bad = ks_frame_check(sm->buf, f.len, &t);
        if (bad != NULL || f.seq <= sm->last_seq) {
            storm_fail(sm, "parent read seq %llu after %llu: %s", (unsigned long long)f.seq,
                       (unsigned long long)sm->last_seq, bad != NULL ? bad : "seq not rising");
        }
        sm->last_seq = f.seq;
        atomic_fetch_add_explicit(&sm->stats->verified, 1, memory_order_relaxed);
        if (f.seq > before) {
            uint64_t took = mmpool_now_ns() - since;
            sm->worst_ns = took > sm->worst_ns ? took : sm->worst_ns;
            if (took > 50 * MS_NS && getenv("MMPT_VERBOSE") != NULL) {
                fprintf(stderr, "kill storm round %d: %.1f ms to a new frame %s\n", sm->round,
                        (double)took / 1e6, event);
            }
            return;
        }
    }
}

/* A random victim, but never the only writer known to be writing: a writer
 * may go only once the other one has committed a frame. */
static int pick_victim(storm *sm) {
    int i = (int)(xp_next_rand(&sm->rng) % STORM_PLACES);
    if (i < STORM_WRITERS) {
        int other = STORM_WRITERS - 1 - i;
        if (atomic_load(&sm->stats->committed_by[other]) != sm->ids[other]) {
            i = STORM_WRITERS + (int)(xp_next_rand(&sm->rng) % (STORM_PLACES - STORM_WRITERS));
        }
    }
    return i;
}

static void age_zombies(storm *sm, bool all) {
    for (int z = 0; z < MAX_ZOMBIES; z++) {
        if (sm->zombies[z] != 0 && (all || --sm->zombie_rounds[z] <= 0)) {
            reap_killed(sm, sm->zombies[z], "zombie");
            sm->zombies[z] = 0;
        }
    }
}

/* Leaves the killed child pid unreaped for a few rounds if there is room;
 * returns whether it did. */
static bool park_zombie(storm *sm, mmpt_proc pid) {
    for (int z = 0; z < MAX_ZOMBIES; z++) {
        if (sm->zombies[z] == 0) {
            if (!wait_zombie(pid, READY_MS)) {
                storm_fail(sm, "pid %ld did not die of SIGKILL", mmpt_proc_id(pid));
            }
            sm->zombies[z] = pid;
            sm->zombie_rounds[z] = 1 + (int)(xp_next_rand(&sm->rng) % 5);
            sm->zombie_kills++;
            return true;
        }
    }
    return false;
}

/* One round: kill a random child, make sure it is dead (reaped, or a
 * zombie), require a new frame within 1 s, and start a replacement. */
static void storm_round(storm *sm) {
    ks_sleep_us(xp_next_rand(&sm->rng) % 15001);
    check_children(sm);
    int i = pick_victim(sm);
    mmpt_proc pid = sm->pids[i];
    assert_int_equal(mmpt_kill(pid), 0);
    bool zombie = xp_next_rand(&sm->rng) % 4 == 0 && park_zombie(sm, pid);
    if (!zombie) {
        reap_killed(sm, pid, place_name(i));
    }
    uint64_t dead_at = mmpool_now_ns();
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(sm->reader, &s), 0);
    /* The replacement starts after the check, so the check measures what
     * the survivors do, not how long a fork takes on a loaded machine. */
    char event[64];
    snprintf(event, sizeof event, "after killing the %s", place_name(i));
    await_new_frame(sm, s.last_seq, dead_at, DELIVER_MS, event);
    spawn_place(sm, i);
    age_zombies(sm, false);
}

/* After the storm: with every child dead, all N slots can be loaned at
 * once, and readers get frames again. */
static void storm_check_slots(storm *sm) {
    kfx *k = sm->k;
    void *data[STORM_SLOTS];
    size_t cap;
    for (int i = 0; i < STORM_SLOTS; i++) {
        mmpool *w = extra_open(k, MMPOOL_READ_LATEST);
        int rc = mmpool_write_acquire(w, &data[i], &cap, DELIVER_MS);
        if (rc != 0) {
            storm_fail(sm, "slot %d of %d after the storm: write_acquire = %s", i + 1, STORM_SLOTS,
                       mmpool_err_name(rc));
        }
    }
    for (int i = 0; i < STORM_SLOTS; i++) {
        xp_tagged_build(data[i], 4096, ++sm->next_id, 1, TAG_DATA);
        ASSERT_RC(mmpool_write_commit(k->extra[i], 4096), 0);
    }
    mmpool_frame f;
    frame_tag t;
    ASSERT_RC(mmpool_read(sm->reader, sm->buf, STORM_CAP, &f, DELIVER_MS), 0);
    assert_true(f.seq > sm->last_seq);
    assert_null(ks_frame_check(sm->buf, f.len, &t));
    assert_int_equal(t.writer, sm->next_id);
    /* A new FIFO reader finds exactly the four new frames, in order. */
    uint64_t newest = f.seq;
    mmpool *fifo = extra_open(k, MMPOOL_READ_FIFO);
    for (int i = 0; i < STORM_SLOTS; i++) {
        ASSERT_RC(mmpool_try_read(fifo, sm->buf, STORM_CAP, &f), 0);
        assert_int_equal(f.seq, newest - STORM_SLOTS + 1 + (uint64_t)i);
        assert_null(ks_frame_check(sm->buf, f.len, &t));
        assert_int_equal(t.writer, sm->next_id - STORM_SLOTS + 1 + (uint32_t)i);
    }
    ASSERT_RC(mmpool_try_read(fifo, sm->buf, STORM_CAP, &f), MMPOOL_EAGAIN);
}

static int storm_kills(void) {
    const char *e = getenv("MMPOOL_KILLS");
    if (e == NULL || e[0] == '\0') {
        return 200;
    }
    char *end;
    long v = strtol(e, &end, 10);
    if (*end != '\0' || v < 1 || v > 100000) {
        fail_msg("MMPOOL_KILLS=%s: want a count from 1 to 100000", e);
    }
    return (int)v;
}

static uint64_t storm_seed(void) {
    const char *e = getenv("MMPOOL_KILL_SEED");
    if (e != NULL && e[0] != '\0') {
        return strtoull(e, NULL, 10);
    }
    return mmpool_now_ns() ^ (uint64_t)mmpt_self_id();
}

static void test_kill_storm_loses_no_slot_and_tears_no_frame(void **state) {
    kfx *k = *state;
    storm sm = {.k = k, .seed = storm_seed()};
    sm.rng = sm.seed;
    int kills = storm_kills();
    sm.stats = ks_stats_map(k->stats_path, true);
    assert_non_null(sm.stats);
    k->stats = sm.stats;
    k->stats_size = sizeof *sm.stats;
    sm.reader = xp_create(k->x, STORM_CAP, STORM_SLOTS, MMPOOL_READ_LATEST);
    sm.buf = k->buf = malloc(STORM_CAP);
    assert_non_null(sm.buf);
    for (int i = 0; i < STORM_PLACES; i++) {
        spawn_place(&sm, i);
    }
    /* Before the first kill, the writers are up. */
    await_new_frame(&sm, 0, mmpool_now_ns(), READY_MS, "after starting the children");
    sm.worst_ns = 0;
    for (sm.round = 1; sm.round <= kills; sm.round++) {
        storm_round(&sm);
    }
    check_children(&sm);
    for (int i = 0; i < STORM_PLACES; i++) {
        assert_int_equal(mmpt_kill(sm.pids[i]), 0);
    }
    for (int i = 0; i < STORM_PLACES; i++) {
        reap_killed(&sm, sm.pids[i], place_name(i));
    }
    age_zombies(&sm, true);
    storm_check_slots(&sm);
    uint64_t violations = atomic_load(&sm.stats->violations);
    printf("kill storm: %d kills, %llu frames verified, %llu violations\n", kills,
           (unsigned long long)atomic_load(&sm.stats->verified), (unsigned long long)violations);
    if (getenv("MMPT_VERBOSE") != NULL) {
        fprintf(stderr,
                "kill storm: %llu frames written, %d kills left zombies, longest wait for a "
                "frame after a death %.1f ms, seed %llu\n",
                (unsigned long long)atomic_load(&sm.stats->written), sm.zombie_kills,
                (double)sm.worst_ns / 1e6, (unsigned long long)sm.seed);
    }
    fflush(stdout);
    assert_int_equal(violations, 0);
}

/* ---- single kills ---- */

/* Starts hold_read_loan on the test's pool and returns once it holds a
 * loan on frame want_seq. */
static mmpt_proc start_read_holder(xp *st, uint64_t want_seq) {
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_read_loan", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    uint64_t seq = 0;
    assert_true(xp_read_full(ready[0], &seq, sizeof seq, READY_MS));
    assert_int_equal(seq, want_seq);
    xp_close(st, &ready[0]);
    return pid;
}

/* Reads the next frame with r and checks it is keyed frame key at seq. */
static void expect_keyed(mmpool *r, uint64_t seq, uint64_t key) {
    uint8_t buf[KEYED_CAP];
    mmpool_frame f;
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, &f), 0);
    assert_int_equal(f.seq, seq);
    assert_true(xp_keyed_ok(buf, f.len, key));
}

static void test_dead_reader_loan_is_released_for_next_writer(void **state) {
    kfx *k = *state;
    mmpool *w = xp_create(k->x, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    mmpt_proc pid = start_read_holder(k->x, 1);
    ASSERT_RC(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY); /* the loan pins the only slot */
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(k->x, pid), KILLED);
    /* Try mode: no wait slice, no flush; the writer itself finds the dead
     * pin and clears it. */
    ASSERT_RC(xp_write_keyed(w, 2, 0), 0);
    expect_keyed(xp_open(k->x, k->x->path, MMPOOL_READ_FIFO), 2, 2);
}

static void test_zombie_holder_counts_as_dead(void **state) {
    kfx *k = *state;
    mmpool *w = xp_create(k->x, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    mmpt_proc pid = start_read_holder(k->x, 1);
    ASSERT_RC(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    assert_int_equal(mmpt_kill(pid), 0);
    /* Killed but not reaped: its pid still exists, as a zombie. */
    assert_true(wait_zombie(pid, READY_MS));
    ASSERT_RC(xp_write_keyed(w, 2, 0), 0);
    assert_true(is_zombie(pid));
    assert_int_equal(xp_reap(k->x, pid), KILLED);
    expect_keyed(xp_open(k->x, k->x->path, MMPOOL_READ_FIFO), 2, 2);
}

/* Starts hold_write_loan and returns once it has filled its loan. */
static mmpt_proc start_write_holder(xp *st) {
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_write_loan", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    xp_close(st, &ready[0]);
    return pid;
}

static void test_dead_writer_loan_is_discarded(void **state) {
    kfx *k = *state;
    mmpool *w = xp_create(k->x, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    mmpool *r = xp_open(k->x, k->x->path, MMPOOL_READ_FIFO);
    uint8_t buf[KEYED_CAP];
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    /* The loan overwrites frame 1, the only one; the half-written frame
     * (which would even pass for keyed frame 2) is never handed out. */
    mmpt_proc pid = start_write_holder(k->x);
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(k->x, pid), KILLED);
    ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    /* The next writer finds no free slot, discards the dead loan, and its
     * frame is seq 2: the dead loan never got a seq. */
    ASSERT_RC(xp_write_keyed(w, 3, 0), 0);
    expect_keyed(r, 2, 3);

    /* Again, with a reader waiting across the death: its wait slices
     * reclaim the dead writer, and still nothing is delivered. */
    pid = start_write_holder(k->x);
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(k->x, pid), KILLED);
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(mmpool_read(r, buf, sizeof buf, NULL, 250), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 250);
    ASSERT_RC(xp_write_keyed(w, 4, 0), 0);
    expect_keyed(r, 3, 4);
}

/*
 * A notifier bumps the wait word and makes the wake-up system call only
 * when the waiter mask is non-zero (docs/format.md, "Waiting and waking").
 * A dead waiter's bit left in the mask would therefore cost the writer a
 * system call per frame for ever. So the observable form is: once the dead
 * waiter's registration is cleared the mask is 0, and further commits leave
 * the frame wait word alone, because the bump and the call go together.
 */
static void test_dead_waiter_registration_is_cleared(void **state) {
    kfx *k = *state;
    xp *st = k->x;
    /* Every handle of the test is opened before the kill: attaching
     * reclaims the entry it takes, which would hide what writes do. */
    mmpool *w = xp_create(st, KEYED_CAP, 2, MMPOOL_READ_LATEST);
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "block_read", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    char c;
    assert_true(xp_read_full(ready[0], &c, 1, READY_MS));
    uint64_t deadline = mmpool_now_ns() + (uint64_t)READY_MS * MS_NS;
    uint32_t mask;
    while ((mask = header_word(st->path, READ_WAITERS_OFFSET)) == 0) {
        assert_true(mmpool_now_ns() < deadline);
        ks_sleep_us(500);
    }
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(st, pid), KILLED);
    assert_int_equal(header_word(st->path, READ_WAITERS_OFFSET), mask); /* still registered */
    /* Frames spread over 200 ms, so a clean-up driven by time would run
     * as well as one driven by counting. */
    for (uint64_t key = 1; key <= 200; key++) {
        ASSERT_RC(xp_write_keyed(w, key, 0), 0);
        ks_sleep_us(1000);
    }
    assert_int_equal(header_word(st->path, READ_WAITERS_OFFSET), 0);
    uint32_t word = header_word(st->path, FRAME_WORD_OFFSET);
    for (uint64_t key = 201; key <= 250; key++) {
        ASSERT_RC(xp_write_keyed(w, key, 0), 0);
    }
    assert_int_equal(header_word(st->path, FRAME_WORD_OFFSET), word);
}

/* ---- the commit lock ---- */

/* A try call that meets a held commit lock reports it within this: a brief
 * spin and one liveness check, never a wait for the holder. A generous
 * bound for loaded machines and sanitizers, not a speed target. */
enum { TRY_BOUND_MS = 100 };

/* Starts hold_commit_lock; returns once the child holds the commit lock,
 * with the lock's value in *owner. */
static mmpt_proc start_commit_holder(xp *st, uint32_t *owner) {
    int ready[2];
    xp_pipe(st, ready, 1);
    char fd_s[16];
    mmpt_proc pid = XP_SPAWN(st, "hold_commit_lock", st->path, NUM(fd_s, ready[1]));
    xp_close(st, &ready[1]);
    assert_true(xp_read_full(ready[0], owner, sizeof *owner, READY_MS));
    xp_close(st, &ready[0]);
    assert_int_equal(header_word(st->path, COMMIT_LOCK_OFFSET), *owner);
    return pid;
}

typedef struct interrupter {
    mmpool *pool;
    int delay_ms;
} interrupter;

static void *interrupt_later(void *arg) {
    interrupter *it = arg;
    ks_sleep_us((uint64_t)it->delay_ms * 1000u);
    mmpool_interrupt(it->pool);
    return NULL;
}

typedef struct timed_write {
    mmpool *pool;
    uint64_t key;
    int timeout_ms;
    int rc;
    uint64_t done_ns;
} timed_write;

static void *write_in_thread(void *arg) {
    timed_write *tw = arg;
    tw->rc = xp_write_keyed(tw->pool, tw->key, tw->timeout_ms);
    tw->done_ns = mmpool_now_ns();
    return NULL;
}

static void test_live_commit_lock_holder_is_waited_for_never_robbed(void **state) {
    kfx *k = *state;
    xp *st = k->x;
    mmpool *w = xp_create(st, KEYED_CAP, 4, MMPOOL_READ_LATEST);
    mmpool *r = xp_open(st, st->path, MMPOOL_READ_FIFO);
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    uint32_t owner;
    mmpt_proc pid = start_commit_holder(st, &owner);
    /* Try mode: MMPOOL_EBUSY at once, every time; slots are free, so only
     * the commit lock can be why. */
    for (int i = 0; i < 20; i++) {
        uint64_t t0 = mmpool_now_ns();
        ASSERT_RC(xp_write_keyed(w, 2, 0), MMPOOL_EBUSY);
        uint64_t took = mmpool_now_ns() - t0;
        if (took >= TRY_BOUND_MS * MS_NS) {
            fail_msg("try_write %d took %llu ms with the commit lock held", i,
                     (unsigned long long)(took / MS_NS));
        }
    }
    /* A timed write waits for the holder until its own timeout. */
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(xp_write_keyed(w, 2, 250), MMPOOL_ETIMEDOUT);
    xp_assert_timed_out_after(t0, 250);
    /* A write waiting for ever, and a loan's commit (which has no timeout),
     * both end with mmpool_interrupt. */
    interrupter it = {.pool = w, .delay_ms = 100};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, interrupt_later, &it), 0);
    ASSERT_RC(xp_write_keyed(w, 2, MMPOOL_WAIT_FOREVER), MMPOOL_ECANCELED);
    pthread_join(t, NULL);
    void *data;
    ASSERT_RC(mmpool_write_acquire(w, &data, NULL, 0), 0);
    memset(data, 'x', 8);
    assert_int_equal(pthread_create(&t, NULL, interrupt_later, &it), 0);
    ASSERT_RC(mmpool_write_commit(w, 8), MMPOOL_ECANCELED);
    pthread_join(t, NULL);
    ASSERT_RC(mmpool_write_abort(w), MMPOOL_EINVAL); /* the failed commit ended the loan */
    /* The lock was never taken: nothing was published, and the holder
     * still holds it. */
    mmpool_stats s;
    ASSERT_RC(mmpool_stat(w, &s), 0);
    assert_int_equal(s.last_seq, 1);
    assert_int_equal(header_word(st->path, COMMIT_LOCK_OFFSET), owner);
    expect_keyed(r, 1, 1);
    ASSERT_RC(mmpool_try_read(r, NULL, 0, NULL), MMPOOL_EAGAIN);
    /* A write sleeping on the lock when its holder dies: the dead holder
     * wakes nobody, and the sleeper's slice finds it dead. */
    timed_write tw = {.pool = w, .key = 2, .timeout_ms = BLOCK_MS};
    assert_int_equal(pthread_create(&t, NULL, write_in_thread, &tw), 0);
    ks_sleep_us(50000);
    assert_int_equal(mmpt_kill(pid), 0);
    uint64_t killed = mmpool_now_ns();
    assert_int_equal(xp_reap(st, pid), KILLED);
    pthread_join(t, NULL);
    ASSERT_RC(tw.rc, 0);
    assert_true(tw.done_ns - killed < 1000 * MS_NS);
    /* Seqs went on from where they were: none given twice, none skipped. */
    ASSERT_RC(xp_write_keyed(w, 3, 0), 0);
    expect_keyed(r, 2, 2);
    expect_keyed(r, 3, 3);
    ASSERT_RC(mmpool_try_read(r, NULL, 0, NULL), MMPOOL_EAGAIN);
}

static void test_dead_commit_lock_holder_is_replaced_at_once(void **state) {
    kfx *k = *state;
    xp *st = k->x;
    mmpool *w = xp_create(st, KEYED_CAP, 4, MMPOOL_READ_LATEST);
    mmpool *r = xp_open(st, st->path, MMPOOL_READ_FIFO);
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    uint32_t owner;
    mmpt_proc pid = start_commit_holder(st, &owner);
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(st, pid), KILLED);
    assert_int_equal(header_word(st->path, COMMIT_LOCK_OFFSET), owner); /* left behind */
    /* Try mode, no slice, no flush: the writer finds the owner dead and
     * takes the lock in the same call. */
    uint64_t t0 = mmpool_now_ns();
    ASSERT_RC(xp_write_keyed(w, 2, 0), 0);
    assert_true(mmpool_now_ns() - t0 < TRY_BOUND_MS * MS_NS);
    assert_int_equal(header_word(st->path, COMMIT_LOCK_OFFSET), 0);
    expect_keyed(r, 1, 1);
    expect_keyed(r, 2, 2);
}

/* POSIX only: Windows has no fork(). */
#ifndef _WIN32
static void test_parent_dead_with_forked_child_releases_loan(void **state) {
    kfx *k = *state;
    xp *st = k->x;
    mmpool *w = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(w, 1, 0), 0);
    int report[2], life[2];
    xp_pipe(st, report, 1);
    xp_pipe(st, life, 0); /* the grandchild lives until we close life[1] */
    char fd_s[16], life_s[16];
    mmpt_proc pid =
        XP_SPAWN(st, "fork_holder", st->path, NUM(fd_s, report[1]), NUM(life_s, life[0]));
    xp_close(st, &report[1]);
    xp_close(st, &life[0]);
    /* The grandchild itself reports, so its fork handlers have run. */
    int32_t g = 0;
    assert_true(xp_read_full(report[0], &g, sizeof g, READY_MS));
    assert_true(g > 0);
    xp_track_pid(st, (mmpt_proc)g);
    ASSERT_RC(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    assert_int_equal(mmpt_kill(pid), 0);
    assert_int_equal(xp_reap(st, pid), KILLED);
    /* The grandchild still has everything it inherited, yet the dead
     * parent's loan must not look alive. */
    char gstate = proc_state((mmpt_proc)g);
    assert_true(gstate != 'Z' && gstate != '?');
    ASSERT_RC(xp_write_keyed(w, 2, 0), 0);
    expect_keyed(xp_open(st, st->path, MMPOOL_READ_FIFO), 2, 2);
    gstate = proc_state((mmpt_proc)g);
    assert_true(gstate != 'Z' && gstate != '?');
    assert_int_equal(kill((mmpt_proc)g, SIGKILL), 0);
    /* Orphaned to us, the subreaper. */
    assert_int_equal(xp_reap(st, (mmpt_proc)g), KILLED);
}

/* In a child forked with the handle p: every call on p but close is
 * refused, close leaves the parent's holds alone, and a handle of the
 * child's own works. Returns 0 or the number of the failed check. */
static int misuse_inherited(mmpool *p, mmpool_view *loan, const char *path) {
    uint8_t buf[KEYED_CAP];
    void *data;
    size_t cap;
    mmpool_view v;
    mmpool_stats s;
    uint64_t seq;
    int calls[11];
    int n = 0;
    calls[n++] = mmpool_try_read(p, buf, sizeof buf, NULL);
    calls[n++] = mmpool_read(p, buf, sizeof buf, NULL, 10);
    calls[n++] = mmpool_try_write(p, "x", 1);
    calls[n++] = mmpool_write(p, "x", 1, 10);
    calls[n++] = mmpool_read_acquire(p, &v, 10);
    calls[n++] = mmpool_write_acquire(p, &data, &cap, 10);
    calls[n++] = mmpool_read_release(p, loan); /* the parent's loan */
    calls[n++] = mmpool_flush(p);
    calls[n++] = mmpool_interrupt(p);
    calls[n++] = mmpool_stat(p, &s);
    calls[n++] = mmpool_last_seq(p, &seq);
    for (int i = 0; i < n; i++) {
        if (calls[i] != MMPOOL_EINVAL) {
            fprintf(stderr, "forked child: call %d on the inherited handle = %s\n", i,
                    mmpool_err_name(calls[i]));
            return 10 + i;
        }
    }
    mmpool_close(p);
    mmpool *own;
    if (mmpool_open(&own, path, NULL) != 0) {
        return 30;
    }
    int rc = mmpool_try_write(own, "x", 1); /* the parent's pin is alive */
    mmpool_close(own);
    return rc == MMPOOL_EBUSY ? 0 : 31;
}

static void test_handle_used_after_fork_is_einval(void **state) {
    kfx *k = *state;
    xp *st = k->x;
    mmpool *p = xp_create(st, KEYED_CAP, 1, MMPOOL_READ_LATEST);
    ASSERT_RC(xp_write_keyed(p, 1, 0), 0);
    mmpool_view loan;
    ASSERT_RC(mmpool_read_acquire(p, &loan, 0), 0);
    fflush(NULL);
    mmpt_proc pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(misuse_inherited(p, &loan, st->path));
    }
    xp_track_pid(st, pid);
    assert_int_equal(xp_reap(st, pid), 0);
    /* The loan is intact and still pins the only slot. */
    assert_true(xp_keyed_ok(loan.data, loan.frame.len, 1));
    mmpool *w = xp_open(st, st->path, MMPOOL_READ_LATEST);
    ASSERT_RC(mmpool_try_write(w, "x", 1), MMPOOL_EBUSY);
    ASSERT_RC(mmpool_read_release(p, &loan), 0);
    ASSERT_RC(xp_write_keyed(w, 2, 0), 0);
    expect_keyed(p, 2, 2);
}
#endif

/* ---- main ---- */

/* A child dies with the test process, so a crashed or timed-out test leaves
 * nothing running; one whose parent is already gone stops at once. */
static void follow_parent(void) {
#ifndef _WIN32
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char *e = getenv(PARENT_ENV);
    if (e != NULL && getppid() != (mmpt_proc)strtol(e, NULL, 10)) {
        _exit(97);
    }
#endif
}

/* In the test process: children die with it. Windows puts them in a job
 * that kills its processes when its last handle, ours, closes; Linux has
 * them ask for SIGKILL at their parent's death (follow_parent). */
static void children_follow(void) {
#ifdef _WIN32
    HANDLE job = CreateJobObjectW(NULL, NULL);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limit = {0};
    limit.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job != NULL) {
        SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limit, sizeof limit);
        AssignProcessToJobObject(job, GetCurrentProcess());
    }
#else
    char pid_s[24];
    snprintf(pid_s, sizeof pid_s, "%ld", (long)getpid());
    setenv(PARENT_ENV, pid_s, 1);
    /* Grandchildren whose parent a test killed are reparented here. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
}

static int child_main(int argc, char **argv) {
    const mmpt_role *tables[] = {ks_roles, kill_roles};
    mmpt_role roles[16];
    size_t n = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const mmpt_role *r = tables[t]; r->name != NULL && n < 15; r++) {
            roles[n++] = *r;
        }
    }
    roles[n] = (mmpt_role){NULL, NULL};
    follow_parent();
    return mmpt_child_main(argc, argv, roles);
}

#define KILL_TEST(f) cmocka_unit_test_setup_teardown(f, kill_setup, kill_teardown)

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--child") == 0) {
        return child_main(argc, argv);
    }
    children_follow();
    const struct CMUnitTest tests[] = {
        KILL_TEST(test_kill_storm_loses_no_slot_and_tears_no_frame),
        KILL_TEST(test_dead_reader_loan_is_released_for_next_writer),
        KILL_TEST(test_dead_writer_loan_is_discarded),
        KILL_TEST(test_dead_waiter_registration_is_cleared),
        KILL_TEST(test_zombie_holder_counts_as_dead),
        KILL_TEST(test_live_commit_lock_holder_is_waited_for_never_robbed),
        KILL_TEST(test_dead_commit_lock_holder_is_replaced_at_once),
#ifndef _WIN32
        KILL_TEST(test_parent_dead_with_forked_child_releases_loan),
        KILL_TEST(test_handle_used_after_fork_is_einval),
#endif
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
