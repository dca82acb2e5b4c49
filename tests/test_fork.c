/*
 * fork() while other threads open and close pools: a child must never get
 * a pool descriptor that it keeps (it would keep a dead parent's handle
 * alive). Children check their own descriptors with async-signal-safe calls
 * only, since they are forked from a multithreaded process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmpool.h"
#include "support.h"

/* Forks per run; MMPOOL_FORKS overrides it (sanitizers make fork slow). */
#define FORKS 2000
#define FD_SCAN 256

typedef struct race {
    char path[256];
    atomic_bool stop;
    int opens;
} race;

static void *open_close_loop(void *arg) {
    race *r = arg;
    while (!atomic_load(&r->stop)) {
        mmpool *p = NULL;
        if (mmpool_open(&p, r->path, NULL) == MMPOOL_OK) {
            r->opens++;
        }
        mmpool_close(p);
    }
    return NULL;
}

/* In the child: 1 if any descriptor refers to the pool file. */
static int child_holds_pool(const char *path) {
    char link[32] = "/proc/self/fd/";
    char target[512];
    size_t plen = strlen(path);
    for (int fd = 3; fd < FD_SCAN; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            continue;
        }
        /* "/proc/self/fd/" is 14 bytes; append the number by hand. */
        char digits[8];
        int n = 0;
        for (int v = fd; v > 0; v /= 10) {
            digits[n++] = (char)('0' + v % 10);
        }
        for (int i = 0; i < n; i++) {
            link[14 + i] = digits[n - 1 - i];
        }
        link[14 + n] = '\0';
        ssize_t len = readlink(link, target, sizeof target);
        if (len >= (ssize_t)plen && memcmp(target, path, plen) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_fork_during_open_and_close_leaks_no_descriptor(void **state) {
    (void)state;
    race r = {.stop = false, .opens = 0};
    mmpt_path(r.path, sizeof r.path, "fork");
    mmpool_options o = {.slot_capacity = 64, .slot_count = 1, .flags = MMPOOL_CREATE};
    mmpool *keep = NULL;
    assert_int_equal(mmpool_open(&keep, r.path, &o), MMPOOL_OK);
    mmpool_close(keep);

    const char *env = getenv("MMPOOL_FORKS");
    int forks = env != NULL ? atoi(env) : FORKS;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, open_close_loop, &r), 0);
    int leaked = 0;
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            _exit(child_holds_pool(r.path));
        }
        assert_true(pid > 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        leaked += WEXITSTATUS(status);
    }
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
    mmpool_unlink(r.path);
    printf("fork race: %d forks during %d opens, %d children kept a pool descriptor\n", forks,
           r.opens, leaked);
    assert_true(r.opens > 0);
    assert_int_equal(leaked, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_during_open_and_close_leaks_no_descriptor),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
