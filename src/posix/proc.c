/* Process identity (pid and start time, for display in the handle table)
 * and yielding the processor, for a moment or a few milliseconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../platform.h"

/* Field 22 of /proc/self/stat: start time in clock ticks since boot. 0 when
 * /proc is not mounted; the value is only ever shown, never trusted. */
uint64_t mmp__process_start(void) {
    FILE *fp = fopen("/proc/self/stat", "re");
    if (fp == NULL) {
        return 0;
    }
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: count
     * fields from the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    if (p == NULL || sscanf(p + 1,
                            " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                            "%*d %*d %*d %llu",
                            &ticks) != 1) {
        return 0;
    }
    return ticks;
}

uint64_t mmp__process_id(void) {
    return (uint64_t)getpid();
}

void mmp__yield(void) {
    sched_yield();
}

void mmp__cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

void mmp__sleep_ms(int ms) {
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}
