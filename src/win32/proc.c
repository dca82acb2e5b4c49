/* Process identity (id and creation time, for display in the handle table)
 * and yielding the processor, for a moment or a few milliseconds. */
#include "win32.h"

uint64_t mmp__process_id(void) {
    return GetCurrentProcessId();
}

/* The creation time in 100 ns units since 1601; 0 if unknown. Only ever
 * shown, never trusted: liveness comes from the entry's lock. */
uint64_t mmp__process_start(void) {
    FILETIME created;
    FILETIME exited;
    FILETIME kernel;
    FILETIME user;
    if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) {
        return 0;
    }
    return ((uint64_t)created.dwHighDateTime << 32) | created.dwLowDateTime;
}

void mmp__yield(void) {
    SwitchToThread();
}

void mmp__cpu_pause(void) {
    YieldProcessor();
}

void mmp__sleep_ms(int ms) {
    Sleep((DWORD)ms);
}
