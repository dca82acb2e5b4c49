/*
 * The child roles of the single-kill tests in test_kill.c: each takes a hold
 * on the pool (a read loan, a write loan, a waiter registration), says so on
 * a pipe, and then stays put until the test kills it. A role that is not
 * killed in time returns a code of its own, so a test that forgot to kill it
 * shows.
 *
 * The kill storm's roles share a counter file with the parent and live in
 * kill_storm.c.
 */
#ifndef _WIN32
#include <poll.h>
#include <unistd.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xproc.h"

static int arg_fd(const char *s) {
    return (int)strtol(s, NULL, 10);
}

static int open_pool(mmpool **out, const char *path) {
    mmpool_options o = {.read_mode = MMPOOL_READ_LATEST};
    return mmpool_open(out, path, &o);
}

/* hold_read_loan PATH FD: takes a read loan on the newest frame, sends its
 * seq on FD, and holds the loan until killed. */
static int role_hold_read_loan(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 10);
    int fd = arg_fd(argv[2]);
    mmpool *p;
    CHILD_RC(open_pool(&p, argv[1]), 0, 11);
    mmpool_view v;
    CHILD_RC(mmpool_read_acquire(p, &v, BLOCK_MS), 0, 12);
    CHILD_CHECK(xp_write_full(fd, &v.frame.seq, sizeof v.frame.seq), 13);
    xp_sleep_ms(REAP_MS);
    return 14; /* should have been killed long ago */
}

/* hold_write_loan PATH FD: takes a write loan, fills the whole slot with
 * bytes that would pass for a keyed frame, says so on FD, and never
 * commits. */
static int role_hold_write_loan(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 20);
    int fd = arg_fd(argv[2]);
    mmpool *p;
    CHILD_RC(open_pool(&p, argv[1]), 0, 21);
    void *data;
    size_t cap;
    CHILD_RC(mmpool_write_acquire(p, &data, &cap, BLOCK_MS), 0, 22);
    xp_fill_pattern(data, cap, 2);
    CHILD_CHECK(xp_write_full(fd, "w", 1), 23);
    xp_sleep_ms(REAP_MS);
    return 24;
}

/* block_read PATH FD: says on FD that it is about to block, then waits
 * forever for a frame that the test never writes while it lives. */
static int role_block_read(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 30);
    int fd = arg_fd(argv[2]);
    mmpool *p;
    CHILD_RC(open_pool(&p, argv[1]), 0, 31);
    CHILD_CHECK(xp_write_full(fd, "r", 1), 32);
    uint8_t buf[KEYED_CAP];
    int rc = mmpool_read(p, buf, sizeof buf, NULL, MMPOOL_WAIT_FOREVER);
    fprintf(stderr, "child %s: woke with %s\n", argv[0], mmpool_err_name(rc));
    return 33;
}

/* hold_commit_lock PATH FD: attaches, then does what a committer stopped
 * between taking and releasing the commit lock leaves behind (format.md):
 * the lock value, its entry index + 1 with a nonce in bits 6..31, first in
 * its own entry's lock_mark (entry offset 36), then in the pool's commit
 * lock (header offset 264). Sends the value on FD and stays alive, its
 * entry lock held, until killed. */
static int role_hold_commit_lock(int argc, char **argv) {
    CHILD_CHECK(argc == 3, 50);
    int fd = arg_fd(argv[2]);
    mmpool *p;
    CHILD_RC(open_pool(&p, argv[1]), 0, 51);
    mmpool_info info;
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    CHILD_RC(mmpool_inspect(argv[1], &info, NULL, 0, h, MMPOOL_MAX_HANDLES), 0, 52);
    uint32_t owner = 0;
    for (uint32_t i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        if (h[i].in_use && h[i].alive && h[i].pid == (uint64_t)mmpt_self_id()) {
            owner = i + 1;
        }
    }
    CHILD_CHECK(owner != 0, 53);
    long mark_at = 1024 + 64 * (long)(owner - 1) + 36;
    owner |= UINT32_C(0x1234) << 6;
    FILE *fp = mmpt_fopen(argv[1], "r+b");
    CHILD_CHECK(fp != NULL, 54);
    CHILD_CHECK(fseek(fp, mark_at, SEEK_SET) == 0, 55);
    CHILD_CHECK(fwrite(&owner, 1, sizeof owner, fp) == sizeof owner, 56);
    CHILD_CHECK(fflush(fp) == 0, 56);
    CHILD_CHECK(fseek(fp, 264, SEEK_SET) == 0, 55);
    CHILD_CHECK(fwrite(&owner, 1, sizeof owner, fp) == sizeof owner, 56);
    CHILD_CHECK(fclose(fp) == 0, 57);
    CHILD_CHECK(xp_write_full(fd, &owner, sizeof owner), 58);
    xp_sleep_ms(REAP_MS);
    return 59;
}

/* POSIX only: Windows has no fork(). */
#ifndef _WIN32
/* fork_holder PATH FD LIFE_FD: takes a read loan, then forks a grandchild
 * that inherits everything, sends its own pid on FD (so its fork handlers
 * have run) and sleeps until the test closes its end of LIFE_FD (or 30 s
 * pass). Holds the loan until killed. */
static int role_fork_holder(int argc, char **argv) {
    CHILD_CHECK(argc == 4, 40);
    int fd = arg_fd(argv[2]);
    int life_fd = arg_fd(argv[3]);
    mmpool *p;
    CHILD_RC(open_pool(&p, argv[1]), 0, 41);
    mmpool_view v;
    CHILD_RC(mmpool_read_acquire(p, &v, BLOCK_MS), 0, 42);
    pid_t g = fork();
    CHILD_CHECK(g >= 0, 43);
    if (g == 0) {
        /* The grandchild touches nothing of the pool: it only keeps what it
         * inherited for as long as the test wants. */
        int32_t self = (int32_t)getpid();
        if (!xp_write_full(fd, &self, sizeof self)) {
            _exit(44);
        }
        struct pollfd pfd = {.fd = life_fd, .events = POLLIN};
        poll(&pfd, 1, REAP_MS);
        _exit(0);
    }
    xp_sleep_ms(REAP_MS);
    return 45;
}
#endif

const mmpt_role kill_roles[] = {{"hold_read_loan", role_hold_read_loan},
                                {"hold_write_loan", role_hold_write_loan},
                                {"block_read", role_block_read},
                                {"hold_commit_lock", role_hold_commit_lock},
#ifndef _WIN32
                                {"fork_holder", role_fork_holder},
#endif
                                {NULL, NULL}};
