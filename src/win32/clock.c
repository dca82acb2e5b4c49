/* Clocks: QueryPerformanceCounter for frame times and timeouts (system-wide,
 * so comparable between processes), the tick count for rate limits, the
 * precise system time for display. */
#include "win32.h"

uint64_t mmp__monotonic_ns(void) {
    static volatile LONGLONG freq;
    LONGLONG hz = freq;
    if (hz == 0) {
        LARGE_INTEGER q;
        QueryPerformanceFrequency(&q); /* never fails since Windows XP */
        hz = q.QuadPart;
        freq = hz;
    }
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    uint64_t t = (uint64_t)now.QuadPart;
    uint64_t f = (uint64_t)hz;
    /* In two parts, so that counter * 1e9 cannot overflow. */
    return t / f * 1000000000u + t % f * 1000000000u / f;
}

uint64_t mmp__coarse_ns(void) {
    return GetTickCount64() * 1000000u;
}

uint64_t mmp__realtime_ns(void) {
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    /* 100 ns units since 1601-01-01; the Unix epoch is 11644473600 s later. */
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return (t - UINT64_C(116444736000000000)) * 100u;
}
