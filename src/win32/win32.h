/* What the Windows backend's files share: the open-file record, error
 * translation and UTF-8 to UTF-16 path conversion (path.c), the record's
 * construction (file.c) and the renaming and deleting of names (name.c). */
#ifndef MMP_WIN32_H
#define MMP_WIN32_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdbool.h>
#include <stdint.h>

#include "../platform.h"

/* Handle-table entries that can wait (the waiter masks have 32 bits). */
#define MMP__WIN_ENTRIES 32
/* Locks held at once by one open file: its entry, the path lock and an
 * entry being reclaimed; a few more for safety. */
#define MMP__WIN_HELD 8
/* Every pool file is opened with all three: another process may read,
 * write, rename or delete it while we have it mapped, which is what makes
 * mmpool_unlink of a pool in use possible. */
#define MMP__SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* Room for a pool path and a temporary name's suffix. */
#define MMP__TEMP_MAX (MMP__PATH_MAX + 64)

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
    /* The handle's event handle (event.c), NULL if none, and its key;
     * volatile: mmpool_interrupt reads it from another thread. */
    HANDLE volatile event;
    uint64_t event_key;
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

/* A malloc'd copy of the UTF-8 string s, or NULL (file.c). */
char *mmp__win_copy(const char *s);
/* The record of the open file h, opened at path (UTF-8); h is the caller's
 * to close if this fails (file.c). */
int mmp__win_record(mmp__file **out, HANDLE h, const char *path);

/* Marks the file of h to be deleted when its last handle closes, or clears
 * the mark; false if refused (name.c). */
bool mmp__win_set_delete(HANDLE h, bool del);
/* Renames the file of h to path (UTF-8), MMPOOL_EEXIST if path exists.
 * Through the handle, so the file keeps its identity whatever its name was
 * (name.c). */
int mmp__win_rename(HANDLE h, const char *path);
/* A name in the directory of path (UTF-8), starting with kind, that no
 * other process picks, into out (cap bytes) (name.c). */
int mmp__win_temp_name(const char *path, const char *kind, char *out, size_t cap);
/* Deletes f, unmapped and about to be closed, if it was removed while
 * another process mapped it and so could not be deleted then (name.c). */
void mmp__win_delete_if_gone(mmp__file *f);

#endif /* MMP_WIN32_H */
