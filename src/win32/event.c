/*
 * Event handles on Windows: a manual-reset named event per handle,
 * "Local\mmpool-ev-KEY", signaled with SetEvent by whoever opens it by
 * name, reset by its owner. The owner's process holds the only lasting
 * reference, so the event goes when it dies; a later signal finds no event
 * and is dropped. Sections: names, opening, signaling, waiting.
 */
#define _CRT_RAND_S
#include <stdlib.h>
#include <wchar.h>

#include "mmpool.h"
#include "win32.h"

/* Creation attempts under fresh keys: a name that exists already belongs
 * to another event (or to a squatter that guessed it). */
#define MMP__EVENT_CREATE_TRIES 8

/* ---- names ---- */

static void event_name(wchar_t *name, size_t cap, uint64_t key) {
    _snwprintf(name, cap, L"Local\\mmpool-ev-%016llx", (unsigned long long)key);
    name[cap - 1] = L'\0';
}

/* A random non-zero key from the system's generator (rand_s), or a clock
 * mix where that fails (a collision is still caught at creation). */
static uint64_t new_key(void) {
    unsigned int lo = 0;
    unsigned int hi = 0;
    uint64_t k;
    if (rand_s(&lo) == 0 && rand_s(&hi) == 0) {
        k = ((uint64_t)hi << 32) | lo;
    } else {
        k = mmp__monotonic_ns() ^ ((uint64_t)GetCurrentProcessId() << 32);
    }
    return k != 0 ? k : 1;
}

/* ---- opening ---- */

int mmp__event_open(mmp__file *f, uint64_t *key) {
    if (f->event != NULL) {
        *key = f->event_key;
        return 0;
    }
    for (int i = 0; i < MMP__EVENT_CREATE_TRIES; i++) {
        uint64_t k = new_key();
        wchar_t name[48];
        event_name(name, sizeof name / sizeof name[0], k);
        HANDLE e = CreateEventW(NULL, TRUE, FALSE, name);
        if (e == NULL) {
            return MMPOOL_ESYS;
        }
        if (GetLastError() == ERROR_ALREADY_EXISTS) {
            CloseHandle(e); /* somebody else's: never share it */
            continue;
        }
        f->event_key = k;
        /* The key is written before the handle is published, for
         * mmp__event_signal_self in another thread. */
        MemoryBarrier();
        f->event = e;
        *key = k;
        return 0;
    }
    return MMPOOL_ESYS;
}

intptr_t mmp__event_handle(mmp__file *f) {
    HANDLE e = f->event;
    return e != NULL ? (intptr_t)e : -1;
}

/* ---- signaling ---- */

void mmp__event_signal(mmp__file *f, uint32_t index, uint64_t key, bool direct) {
    /* Setting a named event wakes its waiter at once: no direct lines. */
    (void)f;
    (void)index;
    (void)direct;
    wchar_t name[48];
    event_name(name, sizeof name / sizeof name[0], key);
    /* A missing event (its owner died) is nothing to signal. */
    HANDLE e = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
    if (e != NULL) {
        SetEvent(e);
        CloseHandle(e);
    }
}

void mmp__event_signal_self(mmp__file *f) {
    HANDLE e = f->event;
    if (e != NULL) {
        SetEvent(e);
    }
}

void mmp__event_clear(mmp__file *f) {
    HANDLE e = f->event;
    if (e != NULL) {
        ResetEvent(e);
    }
}

/* ---- waiting ---- */

int mmp__event_wait(mmp__file *const files[], size_t count, int timeout_ms) {
    HANDLE h[MAXIMUM_WAIT_OBJECTS];
    if (count == 0 || count > MAXIMUM_WAIT_OBJECTS) {
        return MMPOOL_ESYS;
    }
    /* WaitForMultipleObjects refuses a handle listed twice; the same
     * pool handle may be. */
    DWORD n = 0;
    for (size_t i = 0; i < count; i++) {
        DWORD j = 0;
        while (j < n && h[j] != files[i]->event) {
            j++;
        }
        if (j == n) {
            h[n++] = files[i]->event;
        }
    }
    DWORD rc = WaitForMultipleObjects(n, h, FALSE, (DWORD)timeout_ms);
    if (rc < WAIT_OBJECT_0 + n) {
        return 0;
    }
    return rc == WAIT_TIMEOUT ? MMPOOL_ETIMEDOUT : MMPOOL_ESYS;
}
