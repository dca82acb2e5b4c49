/*
 * Waiting across processes. WaitOnAddress only wakes threads of the same
 * process, so every handle-table entry of a pool has a named auto-reset
 * event, "Local\mmpool-VOLUME-FILEINDEX-ENTRY": a waiter sleeps on its own
 * entry's event, a waker sets the events of the entries in the waiter mask
 * it was given. An event stays set until its waiter consumes it, so a wake
 * between the waiter's last look at the word and its sleep is not lost.
 */
#include <wchar.h>

#include "mmpool.h"
#include "win32.h"

/* The event that wakes entry (< MMP__WIN_ENTRIES) of the pool in f; NULL if
 * it cannot be opened. Owned by f. */
static HANDLE entry_event(mmp__file *f, uint32_t entry) {
    HANDLE e = f->events[entry];
    if (e != NULL) {
        return e;
    }
    wchar_t name[64];
    _snwprintf(name, sizeof name / sizeof name[0], L"Local\\mmpool-%08lx-%016llx-%u",
               (unsigned long)f->volume, (unsigned long long)f->index, (unsigned)entry);
    name[sizeof name / sizeof name[0] - 1] = L'\0';
    /* Opens the event if another process made it, else makes it. */
    e = CreateEventW(NULL, FALSE, FALSE, name);
    if (e == NULL) {
        return NULL;
    }
    /* Another thread waking through f may have opened it meanwhile. */
    HANDLE was = InterlockedCompareExchangePointer((PVOID volatile *)&f->events[entry], e, NULL);
    if (was != NULL) {
        CloseHandle(e);
        return was;
    }
    return e;
}

int mmp__wait(mmp__file *f, _Atomic uint32_t *word, uint32_t expected, uint32_t entry,
              int timeout_ms) {
    if (entry >= MMP__WIN_ENTRIES) {
        return MMPOOL_EINVAL;
    }
    HANDLE e = entry_event(f, entry);
    if (e == NULL) {
        /* Nothing to sleep on (the name is taken by another kind of
         * object, or access is denied): an error for the caller to report,
         * not a poll that would look like a wait. */
        return mmp__win_error(GetLastError());
    }
    /* acquire: pairs with the waker's release increment. The event is open
     * before this look, so a wake after it leaves the event set. */
    if (atomic_load_explicit(word, memory_order_acquire) != expected) {
        return 0;
    }
    switch (WaitForSingleObject(e, (DWORD)timeout_ms)) {
    case WAIT_OBJECT_0:
        return 0;
    case WAIT_TIMEOUT:
        return MMPOOL_ETIMEDOUT;
    case WAIT_FAILED:
        return mmp__win_error(GetLastError());
    default:
        return MMPOOL_ESYS; /* WAIT_ABANDONED is for mutexes, not events */
    }
}

void mmp__wake_all(mmp__file *f, _Atomic uint32_t *word, uint32_t entries) {
    (void)word; /* an entry sleeps on one word at a time: its event is enough */
    for (uint32_t i = 0; i < MMP__WIN_ENTRIES; i++) {
        if ((entries & ((uint32_t)1 << i)) != 0) {
            HANDLE e = entry_event(f, i);
            if (e != NULL) {
                SetEvent(e);
            }
        }
    }
}
