/* What the Windows backend's files share: the open-file record, error
 * translation and UTF-8 to UTF-16 path conversion. */
#ifndef MMP_WIN32_H
#define MMP_WIN32_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdint.h>

#include "../platform.h"

/* Handle-table entries that can wait (the waiter masks have 32 bits). */
#define MMP__WIN_ENTRIES 32
/* Locks held at once by one open file: its entry, the path lock and an
 * entry being reclaimed; a few more for safety. */
#define MMP__WIN_HELD 8

struct mmp__file {
    HANDLE h;
    /* The temporary name (UTF-8) of a file made by create_unnamed and not
     * yet linked; NULL otherwise. */
    char *temp;
    /* The path (UTF-8) the file was opened, created or linked at; NULL if
     * unknown. */
    char *path;
    /* Identity of the file, part of the names of its wake-up events. */
    DWORD volume;
    uint64_t index;
    /* Wake-up events of the handle-table entries, opened on first use;
     * swapped in atomically, as another thread may wake through the same
     * file (mmpool_interrupt). */
    HANDLE volatile events[MMP__WIN_ENTRIES];
    /* Bytes this open file holds locked: Windows locks of one handle do
     * conflict with each other, the contract's do not. */
    SRWLOCK held_lock;
    uint64_t held[MMP__WIN_HELD];
    unsigned held_count;
};

/* Translates GetLastError() after a failed file operation. */
int mmp__win_error(DWORD err);

/*
 * Converts the UTF-8 path into a NUL-terminated UTF-16 path for the file
 * functions, made absolute and given the \\?\ prefix so that it is not
 * limited to MAX_PATH. *out is freed by the caller with free(). MMPOOL_EINVAL
 * for invalid UTF-8.
 */
int mmp__win_path(const char *path, wchar_t **out);

/* The event that wakes entry (< MMP__WIN_ENTRIES) of the pool in f; NULL if
 * it cannot be opened. Owned by f. */
HANDLE mmp__win_event(mmp__file *f, uint32_t entry);

#endif /* MMP_WIN32_H */
