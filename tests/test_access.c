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
#ifndef _WIN32
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#endif

#include "mmpool.h"
#include "xproc.h"

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

/* ---- child roles ---- */

static const mmpt_role roles[] = {{NULL, NULL}};

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
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
