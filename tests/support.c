/* Test helpers: see support.h. */
#define _GNU_SOURCE
#include "support.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void mmpt_path(char *out, size_t cap, const char *tag) {
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(out, cap, "/dev/shm/mmpool-test-%s-%ld-%u-%ld", tag, (long)getpid(), counter++,
             (long)ts.tv_nsec);
}

int mmpt_child_main(int argc, char **argv, const mmpt_role *roles) {
    if (argc < 3 || strcmp(argv[1], "--child") != 0) {
        return -1;
    }
    for (const mmpt_role *r = roles; r->name != NULL; r++) {
        if (strcmp(r->name, argv[2]) == 0) {
            return r->run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "unknown child role %s\n", argv[2]);
    return 99;
}

pid_t mmpt_spawn(const char *role, ...) {
    char *args[32];
    int n = 0;
    args[n++] = "self";
    args[n++] = "--child";
    args[n++] = (char *)role;
    va_list ap;
    va_start(ap, role);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31) {
        args[n++] = (char *)a;
    }
    va_end(ap);
    args[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0) {
        execv("/proc/self/exe", args);
        perror("execv");
        _exit(98);
    }
    return pid;
}

int mmpt_reap(pid_t pid, int timeout_ms) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) {
                return WEXITSTATUS(status);
            }
            return 128 + WTERMSIG(status);
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms > timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(1000);
    }
}
