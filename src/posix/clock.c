/* Clocks: CLOCK_MONOTONIC for frame times and timeouts (system-wide, so
 * comparable between processes), its coarse variant for rate limits (a
 * third of the cost where the C library reads both without a system call),
 * CLOCK_REALTIME for display. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "../platform.h"

static uint64_t read_clock(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mmp__monotonic_ns(void) {
    return read_clock(CLOCK_MONOTONIC);
}

uint64_t mmp__coarse_ns(void) {
#ifdef CLOCK_MONOTONIC_COARSE
    return read_clock(CLOCK_MONOTONIC_COARSE);
#else
    return read_clock(CLOCK_MONOTONIC);
#endif
}

uint64_t mmp__realtime_ns(void) {
    return read_clock(CLOCK_REALTIME);
}
