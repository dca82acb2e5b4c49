/*
 * Who may do what to a pool (docs/robustness.md, "Threat model"): the
 * permission bits a pool may have, other users (as root, through setuid in
 * forked children), processes that hold the pool's locks, and pools removed
 * or replaced under their handles.
 *
 * Sections: helpers, permission bits, child roles, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#endif

#include "mmpool.h"
#include "xproc.h"
#ifndef _WIN32
#include "abstract_names.h"
#endif

/* ---- helpers ---- */

static mmpool_options create_opts(uint32_t mode) {
    mmpool_options o = {.slot_capacity = 64, .slot_count = 2, .flags = MMPOOL_CREATE, .mode = mode};
    return o;
}

/* mmpool_open of path with o; the handle, if any, is closed at once. */
static int open_close(const char *path, const mmpool_options *o) {
    mmpool *p = NULL;
    int rc = mmpool_open(&p, path, o);
    mmpool_close(p);
    return rc;
}

/* Adopts the pool at path and closes the handle again. */
static int adopt(const char *path) {
    return open_close(path, NULL);
}

/* Offset of the retired field (docs/format.md). */
#define OFF_RETIRED 268
/* The exit status of a child role that reports the mmpool code rc. */
#define EXIT_OF(rc) (-(rc))
/* Longest a call without a timeout may wait for another process, and the
 * slack allowed on top for starting and reaping a child that makes it. */
#define BLOCK_MS 2000
#define SLACK_MS 2000

/* The retired field of the pool file at path: 1 once retired. */
static uint32_t retired_field(const char *path) {
    FILE *fp = mmpt_fopen(path, "rb");
    assert_non_null(fp);
    uint32_t v = 0;
    assert_int_equal(fseek(fp, OFF_RETIRED, SEEK_SET), 0);
    assert_int_equal(fread(&v, sizeof v, 1, fp), 1);
    fclose(fp);
    return v;
}

/* Marks the pool at path retired, as an unlinker that died between
 * retiring and removing it leaves it. */
static void set_retired(const char *path) {
    FILE *fp = mmpt_fopen(path, "r+b");
    assert_non_null(fp);
    uint32_t one = 1;
    assert_int_equal(fseek(fp, OFF_RETIRED, SEEK_SET), 0);
    assert_int_equal(fwrite(&one, sizeof one, 1, fp), 1);
    assert_int_equal(fclose(fp), 0);
}

/* Starts child role, which gets the write end of a pipe as its last
 * argument, and returns once it has written a byte to it. */
static mmpt_proc start_ready(xp *st, const char *role, const char *path) {
    int fds[2];
    char fd[16];
    xp_pipe(st, fds, 1);
    mmpt_proc child = XP_SPAWN(st, role, path, NUM(fd, fds[1]));
    xp_close(st, &fds[1]);
    char c;
    assert_true(xp_read_full(fds[0], &c, 1, READY_MS));
    xp_close(st, &fds[0]);
    return child;
}

/* Runs child role on path and returns its exit status; *ms is how long it
 * took, start and reaping included. A child that runs for 10 s is killed
 * (status -1). */
static int run_role(const char *role, const char *path, uint64_t *ms) {
    uint64_t t0 = mmpool_now_ns();
    int status = mmpt_reap(mmpt_spawn(role, path, (const char *)NULL), 10000);
    *ms = (mmpool_now_ns() - t0) / MS_NS;
    return status;
}

/* POSIX only: other users, through fork() and setuid as root. */
#ifndef _WIN32
/* Users the tests become: ids that no account of a test machine uses. */
enum { OTHER_UID = 64123, OTHER_GID = 64123, THIRD_UID = 64124, THIRD_GID = 64124 };

/* Whether this process may become other users; if not, the test says why
 * and is skipped. */
static bool can_become_others(void) {
    if (geteuid() == 0) {
        return true;
    }
    printf("skipped: becoming other users (setuid in a forked child) needs root\n");
    return false;
}

/* In a forked child: become uid, with primary group gid and no others. */
static bool become(uid_t uid, gid_t gid) {
    return setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(uid) == 0;
}

/* Runs fn(path) in a forked child as uid and gid, and returns what fn
 * returned (an mmpool code). */
static int as_user(uid_t uid, gid_t gid, int (*fn)(const char *path), const char *path) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(become(uid, gid) ? -fn(path) : 100);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 100);
    return -WEXITSTATUS(status);
}

/* Starts a child that, as uid and gid, opens the file at path read-only and
 * takes open-file-description read locks on the path lock byte (384) and on
 * every entry byte (1024 + 64 i) no live handle holds, as a user who may
 * only read the file can.
 * It holds them until killed. Returns its pid once the locks are held, or
 * -1 if it could not take them. */
static pid_t start_read_locker(const char *path, uid_t uid, gid_t gid) {
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        int fd = become(uid, gid) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 384, .l_len = 1};
        bool locked = fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) == 0;
        /* Entries of live handles are write-locked: those are skipped. */
        for (int i = 0; locked && i < MMPOOL_MAX_HANDLES; i++) {
            fl.l_start = 1024 + 64 * i;
            fcntl(fd, F_OFD_SETLK, &fl);
        }
        if (!locked || write(ready[1], "L", 1) != 1) {
            _exit(1);
        }
        for (;;) {
            pause();
        }
    }
    close(ready[1]);
    char c;
    bool ok = xp_read_full(ready[0], &c, 1, READY_MS);
    close(ready[0]);
    if (!ok) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void stop_child(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
#endif

/* ---- permission bits ---- */

static void test_mode_beyond_read_write_bits_is_einval(void **state) {
    xp *st = *state;
    /* Set-user-ID, set-group-ID, sticky and execute bits, alone or with
     * read and write bits, and bits outside 07777. */
    const uint32_t bad[] = {04777, 04600, 02660, 01666, 07777, 0700, 0670, 0607, 0100, 010000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mmpool_options o = create_opts(bad[i]);
        if (open_close(st->path, &o) != MMPOOL_EINVAL) {
            fail_msg("mode 0%o was accepted", (unsigned)bad[i]);
        }
        assert_int_equal(access(st->path, F_OK), -1); /* nothing was created */
    }
}

static void test_mode_granting_read_without_write_is_einval(void **state) {
    xp *st = *state;
    /* Readers need write access: read without write serves nobody and
     * lets its holders lock the pool's bytes. */
    const uint32_t bad[] = {0640, 0644, 0604, 0646, 0664, 0440, 0404, 0444};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mmpool_options o = create_opts(bad[i]);
        if (open_close(st->path, &o) != MMPOOL_EINVAL) {
            fail_msg("mode 0%o was accepted", (unsigned)bad[i]);
        }
        assert_int_equal(access(st->path, F_OK), -1);
    }
    const uint32_t good[] = {0600, 0660, 0666, 0620, 0602, 0400, 0200};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        mmpool_options o = create_opts(good[i]);
        if (open_close(st->path, &o) != MMPOOL_OK) {
            fail_msg("mode 0%o was refused", (unsigned)good[i]);
        }
        assert_int_equal(mmpool_unlink(st->path), MMPOOL_OK);
    }
}

#ifndef _WIN32
static void test_pool_granting_read_without_write_is_refused_at_open(void **state) {
    xp *st = *state;
    mmpool_options o = create_opts(0600);
    assert_int_equal(open_close(st->path, &o), MMPOOL_OK);
    const mode_t bad[] = {0644, 0640, 0604};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(st->path, bad[i]), 0);
        assert_int_equal(adopt(st->path), MMPOOL_EACCES);
        assert_int_equal(open_close(st->path, &o), MMPOOL_EACCES);
    }
    assert_int_equal(chmod(st->path, 0660), 0);
    assert_int_equal(adopt(st->path), MMPOOL_OK);
}

static void test_read_only_user_cannot_disable_pool(void **state) {
    xp *st = *state;
    if (!can_become_others()) {
        skip();
    }
    /* The pool's others may read it (a 0644 file), or its group may (0640,
     * the locker in that group): such a file is refused, so the locker's
     * read locks never stand for live handles. */
    const struct {
        mode_t mode;
        uid_t uid;
        gid_t gid;
    } cases[] = {{0644, OTHER_UID, OTHER_GID}, {0640, THIRD_UID, OTHER_GID}};
    snprintf(st->round_path, sizeof st->round_path, "%s.made", st->path);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mmpool_options o = create_opts(0);
        mmpool *owner = xp_open_opts(st, st->path, &o);
        assert_int_equal(chown(st->path, 0, OTHER_GID), 0);
        assert_int_equal(chmod(st->path, cases[i].mode), 0);
        pid_t locker = start_read_locker(st->path, cases[i].uid, cases[i].gid);
        assert_true(locker > 0);
        int rc = adopt(st->path);
        stop_child(locker);
        ASSERT_RC(rc, MMPOOL_EACCES); /* not MMPOOL_ETOOMANY */
        o.mode = cases[i].mode;       /* and no pool can be made so */
        assert_int_equal(open_close(st->round_path, &o), MMPOOL_EINVAL);
        xp_close_pool(st, owner);
        assert_int_equal(mmpool_unlink(st->path), MMPOOL_OK);
    }
}
#endif

/* ---- owners ---- */

static void test_stats_tell_owner_and_creator(void **state) {
    xp *st = *state;
    mmpool_options o = create_opts(0);
    mmpool *creator = xp_open_opts(st, st->path, &o);
    mmpool *opener = xp_open_opts(st, st->path, &o); /* CREATE, but it was there */
    mmpool_stats s1, s2;
    assert_int_equal(mmpool_stat(creator, &s1), MMPOOL_OK);
    assert_int_equal(mmpool_stat(opener, &s2), MMPOOL_OK);
    assert_int_equal(s1.created, 1);
    assert_int_equal(s2.created, 0);
    assert_int_equal(s1.owner, s2.owner);
    mmpool_info info;
    assert_int_equal(mmpool_inspect(st->path, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    assert_int_equal(info.owner, s1.owner);
#ifndef _WIN32
    assert_int_equal(s1.owner, geteuid());
#endif
}

#ifndef _WIN32
static int create_0666(const char *path) {
    mmpool_options o = create_opts(0666);
    return open_close(path, &o);
}

/* The owner of the pool at path, as mmpool_inspect tells it. */
static uint64_t inspected_owner(const char *path) {
    mmpool_info info;
    assert_int_equal(mmpool_inspect(path, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    return info.owner;
}

static void test_pool_squatted_in_sticky_dir_is_refused(void **state) {
    xp *st = *state;
    if (!can_become_others()) {
        skip();
    }
    /* Another user was first at the name in /dev/shm (world-writable,
     * sticky), with a valid pool that anyone may use. */
    ASSERT_RC(as_user(OTHER_UID, OTHER_GID, create_0666, st->path), MMPOOL_OK);
    mmpool_options o = create_opts(0666);
    ASSERT_RC(open_close(st->path, &o), MMPOOL_EACCES);
    ASSERT_RC(adopt(st->path), MMPOOL_EACCES);
    assert_int_equal(inspected_owner(st->path), OTHER_UID); /* who it is */
    /* Deliberate sharing opts out, and stat says whose pool it is. */
    o.flags |= MMPOOL_ANY_OWNER;
    mmpool *p = xp_open_opts(st, st->path, &o);
    mmpool_stats s;
    assert_int_equal(mmpool_stat(p, &s), MMPOOL_OK);
    assert_int_equal(s.owner, OTHER_UID);
    assert_int_equal(s.created, 0);
    xp_close_pool(st, p);
}

/* The abstract name of the event socket under test, "@mmpool-ev-KEY" as
 * /proc/net/unix writes it; set before the fork. Only it is poked, so that
 * tests running at the same time are not disturbed. */
static char poke_target[128];

/* As another user with no access to the pool: finds the event socket in
 * /proc/net/unix (abstract names are listed there for everybody) and sends
 * it one byte; MMPOOL_OK if it did, and if the pool stays closed to it. */
static int poke_event_sockets(const char *path) {
    mmpool *p = NULL;
    if (mmpool_open(&p, path, NULL) != MMPOOL_EACCES) {
        return MMPOOL_EINVAL;
    }
    FILE *f = fopen("/proc/net/unix", "r");
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    int sent = 0;
    char line[512];
    while (f != NULL && fd >= 0 && fgets(line, sizeof line, f) != NULL) {
        char *name = strstr(line, "@mmpool-ev-");
        if (name == NULL) {
            continue;
        }
        name[strcspn(name, "\r\n")] = '\0';
        if (strcmp(name, poke_target) != 0) {
            continue;
        }
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        size_t n = strlen(name + 1); /* '@' stands for the leading NUL */
        memcpy(a.sun_path + 1, name + 1, n);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
        sent += sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&a, len) == 1;
    }
    if (f != NULL) {
        fclose(f);
    }
    return sent > 0 ? MMPOOL_OK : MMPOOL_ENOENT;
}

static bool fd_ready(int fd, int ms) {
    struct pollfd pf = {.fd = fd, .events = POLLIN, .revents = 0};
    return poll(&pf, 1, ms) == 1;
}

static void test_other_user_can_only_wake_an_event_handle_spuriously(void **state) {
    xp *st = *state;
    if (!can_become_others()) {
        skip();
    }
    mmpool_options o = create_opts(0600);
    mmpool *p = xp_open_opts(st, st->path, &o);
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(p, &h), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_false(fd_ready((int)h, 0));
    struct sockaddr_un own;
    socklen_t own_len;
    assert_true(mmpt_abstract_socket("mmpool-ev-", &own, &own_len) >= 0);
    size_t n = own_len - offsetof(struct sockaddr_un, sun_path) - 1;
    assert_true(n + 2 <= sizeof poke_target);
    poke_target[0] = '@';
    memcpy(poke_target + 1, own.sun_path + 1, n);
    poke_target[n + 1] = '\0';
    /* What it can do: make the handle ready for nothing. */
    ASSERT_RC(as_user(OTHER_UID, OTHER_GID, poke_event_sockets, st->path), MMPOOL_OK);
    assert_true(fd_ready((int)h, 5000));
    /* What it cannot: the read finds no frame, and the next one from the
     * owner arrives as usual. */
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    assert_false(fd_ready((int)h, 200));
    mmpool *w = xp_open_opts(st, st->path, &o);
    assert_int_equal(mmpool_try_write(w, "real", 4), MMPOOL_OK);
    assert_true(fd_ready((int)h, 5000));
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_OK);
    assert_int_equal(info.seq, 1);
    assert_memory_equal(buf, "real", 4);
    xp_close_pool(st, w);
    xp_close_pool(st, p);
}

static void test_owner_rule_in_other_directories(void **state) {
    xp *st = *state;
    if (!can_become_others()) {
        skip();
    }
    char dir[280], pool[300];
    snprintf(dir, sizeof dir, "%s.dir", st->path);
    snprintf(pool, sizeof pool, "%s/pool", dir);
    memcpy(st->round_path, pool, sizeof pool); /* for teardown */
    mmpool_options o = create_opts(0666);
    /* A sticky world-writable directory of another user: a pool of the
     * directory's owner opens, one of a third user does not. */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chown(dir, OTHER_UID, OTHER_GID), 0);
    assert_int_equal(chmod(dir, 01777), 0);
    ASSERT_RC(as_user(OTHER_UID, OTHER_GID, create_0666, pool), MMPOOL_OK);
    ASSERT_RC(open_close(pool, &o), MMPOOL_OK);
    assert_int_equal(unlink(pool), 0);
    ASSERT_RC(as_user(THIRD_UID, THIRD_GID, create_0666, pool), MMPOOL_OK);
    ASSERT_RC(open_close(pool, &o), MMPOOL_EACCES);
    assert_int_equal(unlink(pool), 0);
    /* A group-owned directory, as the guide recommends for sharing: any
     * member's pool opens. */
    assert_int_equal(chown(dir, 0, OTHER_GID), 0);
    assert_int_equal(chmod(dir, 02770), 0);
    ASSERT_RC(as_user(THIRD_UID, OTHER_GID, create_0666, pool), MMPOOL_OK);
    ASSERT_RC(open_close(pool, &o), MMPOOL_OK);
    assert_int_equal(unlink(pool), 0);
    assert_int_equal(rmdir(dir), 0);
}
#endif

/* ---- removing ---- */

#ifndef _WIN32
/* A read that blocks until a frame comes, in a thread of its own. */
typedef struct blocked_read {
    mmpool *pool;
    int rc;
    char buf[64];
    mmpool_frame frame;
} blocked_read;

static void *read_blocking(void *arg) {
    blocked_read *r = arg;
    r->rc = mmpool_read(r->pool, r->buf, sizeof r->buf, &r->frame, BLOCK_MS * 5);
    return NULL;
}

static void test_refused_unlink_changes_nothing(void **state) {
    xp *st = *state;
    if (!can_become_others()) {
        skip();
    }
    /* In the sticky /dev/shm, another user who may use a 0666 pool, or a
     * group member of a 0660 pool, may not remove it. */
    const uint32_t modes[] = {0666, 0660};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        mmpool_options o = create_opts(modes[i]);
        mmpool *writer = xp_open_opts(st, st->path, &o);
        assert_int_equal(chown(st->path, 0, OTHER_GID), 0);
        blocked_read r = {.pool = xp_open(st, st->path, MMPOOL_READ_LATEST)};
        pthread_t reader;
        assert_int_equal(pthread_create(&reader, NULL, read_blocking, &r), 0);
        void *loan;
        assert_int_equal(mmpool_write_acquire(writer, &loan, NULL, 0), MMPOOL_OK);
        xp_sleep_ms(100); /* the reader is asleep by now */
        for (int k = 0; k < 5; k++) {
            ASSERT_RC(as_user(OTHER_UID, OTHER_GID, mmpool_unlink, st->path), MMPOOL_EACCES);
        }
        /* The loan in flight commits, and the sleeping reader gets it. */
        memcpy(loan, "kept", 4);
        ASSERT_RC(mmpool_write_commit(writer, 4), MMPOOL_OK);
        assert_int_equal(pthread_join(reader, NULL), 0);
        ASSERT_RC(r.rc, MMPOOL_OK);
        assert_memory_equal(r.buf, "kept", 4);
        /* A writer that opens the name again finds the same pool. */
        mmpool *again = xp_open_opts(st, st->path, &o);
        ASSERT_RC(mmpool_try_write(again, "same", 4), MMPOOL_OK);
        ASSERT_RC(mmpool_try_read(r.pool, r.buf, sizeof r.buf, &r.frame), MMPOOL_OK);
        assert_memory_equal(r.buf, "same", 4);
        xp_close_pool(st, again);
        xp_close_pool(st, r.pool);
        xp_close_pool(st, writer);
        assert_int_equal(mmpool_unlink(st->path), MMPOOL_OK);
    }
}
#endif

/* ---- pools removed or replaced under their handles ---- */

/* How the pool at path stops being there, other than by mmpool_unlink. */
typedef enum gone_how { GONE_REMOVED, GONE_REPLACED, GONE_MOVED } gone_how;

/* Makes the pool at path go away as how says; other is a second path. */
static void make_gone(const char *path, const char *other, gone_how how) {
    if (how == GONE_REMOVED) {
        assert_int_equal(unlink(path), 0); /* rm */
    } else if (how == GONE_MOVED) {
        assert_int_equal(rename(path, other), 0); /* mv */
    } else {
        /* Another pool is renamed over it. */
        mmpool_options o = create_opts(0);
        assert_int_equal(open_close(other, &o), MMPOOL_OK);
        assert_int_equal(rename(other, path), 0);
    }
}

static void test_pool_gone_from_its_path_is_stale(void **state) {
    xp *st = *state;
#ifdef _WIN32
    /* A mapped file cannot be deleted or replaced on Windows, only moved. */
    const gone_how hows[] = {GONE_MOVED};
#else
    const gone_how hows[] = {GONE_REMOVED, GONE_REPLACED, GONE_MOVED};
#endif
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        mmpool_options o = create_opts(0);
        mmpool *w = xp_open_opts(st, st->path, &o);
        mmpool *r = xp_open(st, st->path, MMPOOL_READ_LATEST);
        ASSERT_RC(mmpool_try_write(w, "x", 1), MMPOOL_OK);
        mmpt_proc sleeper = start_ready(st, "read_blocking", st->path);
        xp_sleep_ms(100); /* asleep in its read by now */
        snprintf(st->round_path, sizeof st->round_path, "%s.other", st->path);
        make_gone(st->path, st->round_path, hows[i]);
        uint64_t t0 = mmpool_now_ns();
        /* The blocked read in the other process ends within a second. */
        ASSERT_RC(-xp_reap(st, sleeper), MMPOOL_ESTALE);
        uint64_t ms = (mmpool_now_ns() - t0) / MS_NS;
        if (ms > 1000 + SLACK_MS) {
            fail_msg("the blocked read took %llu ms to notice", (unsigned long long)ms);
        }
        /* What would find nothing says so at once. */
        char buf[8];
        ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_OK); /* the old frame */
        ASSERT_RC(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_ESTALE);
        ASSERT_RC(mmpool_read(r, buf, sizeof buf, NULL, 50), MMPOOL_ESTALE);
        /* A writer that keeps succeeding learns it within a second. */
        t0 = mmpool_now_ns();
        int rc;
        while ((rc = mmpool_try_write(w, "y", 1)) == MMPOOL_OK &&
               mmpool_now_ns() - t0 < (uint64_t)(1000 + SLACK_MS) * MS_NS) {
            xp_sleep_ms(10);
        }
        ASSERT_RC(rc, MMPOOL_ESTALE);
        xp_close_pool(st, r);
        xp_close_pool(st, w);
        mmpool_unlink(st->path);
        mmpool_unlink(st->round_path);
    }
}

/* ---- calls without a timeout ---- */

static void test_path_lock_holder_delays_open_and_unlink_at_most_2_s(void **state) {
    xp *st = *state;
    /* A retired pool at the name: a creator must take its path lock to
     * replace it, and so must an unlinker to remove it. */
    mmpool_options o = create_opts(0);
    assert_int_equal(open_close(st->path, &o), MMPOOL_OK);
    set_retired(st->path);
    mmpt_proc locker = start_ready(st, "path_locker", st->path);
    const char *const roles[] = {"create_once", "unlink_once"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        uint64_t ms;
        int status = run_role(roles[i], st->path, &ms);
        if (status != EXIT_OF(MMPOOL_EBUSY) || ms > BLOCK_MS + SLACK_MS) {
            fail_msg("%s: exit status %d after %llu ms, want %d within %d ms", roles[i], status,
                     (unsigned long long)ms, EXIT_OF(MMPOOL_EBUSY), BLOCK_MS + SLACK_MS);
        }
        /* Nothing changed: the retired pool is still there. */
        assert_int_equal(retired_field(st->path), 1);
    }
    assert_int_equal(mmpt_kill(locker), 0);
    assert_int_equal(xp_reap(st, locker), MMPT_KILLED);
    assert_int_equal(open_close(st->path, &o), MMPOOL_OK); /* replaced now */
    assert_int_equal(retired_field(st->path), 0);
    assert_int_equal(adopt(st->path), MMPOOL_OK);
}

/* ---- child roles ---- */

/* path_locker PATH READY_FD: takes the path lock (byte 384) of the file at
 * path the way the library does, reports on READY_FD, holds it until
 * killed. */
static int role_path_locker(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 2);
#ifdef _WIN32
    /* The library locks byte B at 2^62 + B (src/win32/lock.c). */
    HANDLE h = CreateFileA(argv[1], GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    CHILD_CHECK(h != INVALID_HANDLE_VALUE, 3);
    OVERLAPPED at = {.Offset = 384, .OffsetHigh = UINT32_C(1) << 30};
    CHILD_CHECK(LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at),
                4);
#else
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    CHILD_CHECK(fd >= 0, 3);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 384, .l_len = 1};
    CHILD_CHECK(fcntl(fd, F_OFD_SETLK, &fl) == 0, 4);
#endif
    CHILD_CHECK(xp_write_full(atoi(argv[2]), "L", 1), 5);
    for (;;) {
        mmpt_sleep_ms(1000);
    }
}

/* read_blocking PATH READY_FD: adopts the pool at path, takes the frame
 * there, reports on READY_FD, then blocks in a read for 5 s; exit status
 * EXIT_OF(what that read returns). */
static int role_read_blocking(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 20);
    mmpool *p = NULL;
    CHILD_RC(mmpool_open(&p, argv[1], NULL), MMPOOL_OK, 21);
    char buf[8];
    CHILD_RC(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_OK, 22);
    CHILD_CHECK(xp_write_full(atoi(argv[2]), "R", 1), 23);
    int rc = mmpool_read(p, buf, sizeof buf, NULL, BLOCK_MS * 5 / 2);
    mmpool_close(p);
    return EXIT_OF(rc);
}

/* create_once PATH: exit status EXIT_OF(what mmpool_open with
 * MMPOOL_CREATE returns). */
static int role_create_once(int argc, char **argv) {
    CHILD_CHECK(argc == 2, 20);
    mmpool_options o = create_opts(0);
    return EXIT_OF(open_close(argv[1], &o));
}

/* unlink_once PATH: exit status EXIT_OF(what mmpool_unlink returns). */
static int role_unlink_once(int argc, char **argv) {
    CHILD_CHECK(argc == 2, 20);
    return EXIT_OF(mmpool_unlink(argv[1]));
}

static const mmpt_role roles[] = {{"path_locker", role_path_locker},
                                  {"create_once", role_create_once},
                                  {"unlink_once", role_unlink_once},
                                  {"read_blocking", role_read_blocking},
                                  {NULL, NULL}};

/* ---- main ---- */

int main(int argc, char **argv) {
    int child = mmpt_child_main(argc, argv, roles);
    if (child >= 0) {
        return child;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode_beyond_read_write_bits_is_einval, xp_setup,
                                        xp_teardown),
        cmocka_unit_test_setup_teardown(test_mode_granting_read_without_write_is_einval, xp_setup,
                                        xp_teardown),
#ifndef _WIN32
        cmocka_unit_test_setup_teardown(test_pool_granting_read_without_write_is_refused_at_open,
                                        xp_setup, xp_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_user_cannot_disable_pool, xp_setup,
                                        xp_teardown),
        cmocka_unit_test_setup_teardown(test_refused_unlink_changes_nothing, xp_setup, xp_teardown),
        cmocka_unit_test_setup_teardown(test_pool_squatted_in_sticky_dir_is_refused, xp_setup,
                                        xp_teardown),
        cmocka_unit_test_setup_teardown(test_owner_rule_in_other_directories, xp_setup,
                                        xp_teardown),
        cmocka_unit_test_setup_teardown(test_other_user_can_only_wake_an_event_handle_spuriously,
                                        xp_setup, xp_teardown),
#endif
        cmocka_unit_test_setup_teardown(test_stats_tell_owner_and_creator, xp_setup, xp_teardown),
        cmocka_unit_test_setup_teardown(test_pool_gone_from_its_path_is_stale, xp_setup,
                                        xp_teardown),
        cmocka_unit_test_setup_teardown(test_path_lock_holder_delays_open_and_unlink_at_most_2_s,
                                        xp_setup, xp_teardown),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
