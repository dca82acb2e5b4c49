/*
 * The name of a Windows pool file: whether a path still names it, removing
 * a name while the file stays mapped (a POSIX-semantics delete, or a rename
 * to a .mmpool-gone- name), moving a name aside, and the removed pool's
 * deletion by its last user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mmpool.h"
#include "win32.h"

/* FileDispositionInfoEx, which MinGW's headers declare only for a
 * _WIN32_WINNT no build uses; its value is fixed by the Windows ABI. */
#define MMP__DISPOSITION_EX ((FILE_INFO_BY_HANDLE_CLASS)21)
/* The names of removed pools that some process still maps, in the pool's
 * directory. */
#define MMP__GONE_PREFIX ".mmpool-gone-"

/* ---- renaming and deleting through a handle ---- */

bool mmp__win_set_delete(HANDLE h, bool del) {
    FILE_DISPOSITION_INFO d = {.DeleteFile = del};
    return SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d) != 0;
}

int mmp__win_rename(HANDLE h, const char *path) {
    wchar_t *to;
    int rc = mmp__win_path(path, &to);
    if (rc != 0) {
        return rc;
    }
    size_t bytes = wcslen(to) * sizeof *to;
    FILE_RENAME_INFO *r = calloc(1, sizeof *r + bytes);
    if (r == NULL) {
        free(to);
        return MMPOOL_ESYS;
    }
    r->ReplaceIfExists = FALSE;
    r->FileNameLength = (DWORD)bytes;
    memcpy(r->FileName, to, bytes);
    if (!SetFileInformationByHandle(h, FileRenameInfo, r, (DWORD)(sizeof *r + bytes))) {
        DWORD err = GetLastError();
        rc = err == ERROR_ALREADY_EXISTS || err == ERROR_FILE_EXISTS ? MMPOOL_EEXIST
                                                                     : mmp__win_error(err);
    }
    free(r);
    free(to);
    return rc;
}

/* Length of the directory part of path, separator included; 0 if none. */
static size_t dir_len(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *back = strrchr(path, '\\');
    if (slash == NULL || (back != NULL && back > slash)) {
        slash = back;
    }
    return slash == NULL ? 0 : (size_t)(slash - path + 1);
}

int mmp__win_temp_name(const char *path, const char *kind, char *out, size_t cap) {
    /* The process id, a per-process counter and the tick count. */
    static volatile LONG counter;
    int n = snprintf(out, cap, "%.*s%s%lu-%ld-%llu", (int)dir_len(path), path, kind,
                     (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&counter),
                     (unsigned long long)GetTickCount64());
    return n < 0 || (size_t)n >= cap ? MMPOOL_EINVAL : 0;
}

/* ---- the identity behind a name ---- */

/* Whether h is the file f (same volume and index). */
static bool same_file(const mmp__file *f, HANDLE h) {
    BY_HANDLE_FILE_INFORMATION info;
    return GetFileInformationByHandle(h, &info) && info.dwVolumeSerialNumber == f->volume &&
           (((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow) == f->index;
}

/* Opens path itself (a link or directory too) with access, for looking at
 * or removing the name. */
static int open_name(const char *path, DWORD access, HANDLE *out) {
    wchar_t *w;
    int rc = mmp__win_path(path, &w);
    if (rc != 0) {
        return rc;
    }
    HANDLE h = CreateFileW(w, access, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD err = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        return mmp__win_error(err);
    }
    *out = h;
    return 0;
}

int mmp__file_is_at(mmp__file *f, const char *path) {
    HANDLE h;
    int rc = open_name(path, FILE_READ_ATTRIBUTES, &h);
    if (rc != 0) {
        return rc == MMPOOL_ENOENT ? 0 : rc;
    }
    BY_HANDLE_FILE_INFORMATION info;
    BOOL ok = GetFileInformationByHandle(h, &info);
    DWORD err = GetLastError();
    CloseHandle(h);
    if (!ok) {
        return mmp__win_error(err);
    }
    uint64_t index = ((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow;
    return info.dwVolumeSerialNumber == f->volume && index == f->index;
}

int mmp__file_at_path(mmp__file *f) {
    /* A file being created is at its temporary name, which is its own. */
    return f->path == NULL || f->temp != NULL ? 1 : mmp__file_is_at(f, f->path);
}

/* Whether the name path still names the file whose identity was before:
 * true also when it cannot be told (a file marked for deletion cannot be
 * opened), false when the name is gone or a new file took its place. */
static bool still_named(const BY_HANDLE_FILE_INFORMATION *before, const char *path) {
    wchar_t *w;
    if (mmp__win_path(path, &w) != 0) {
        return true;
    }
    DWORD attrs = GetFileAttributesW(w);
    HANDLE now = attrs == INVALID_FILE_ATTRIBUTES
                     ? INVALID_HANDLE_VALUE
                     : CreateFileW(w, FILE_READ_ATTRIBUTES, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                                   FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (now == INVALID_HANDLE_VALUE) {
        return attrs != INVALID_FILE_ATTRIBUTES;
    }
    BY_HANDLE_FILE_INFORMATION info;
    bool same = !GetFileInformationByHandle(now, &info) ||
                (info.dwVolumeSerialNumber == before->dwVolumeSerialNumber &&
                 info.nFileIndexHigh == before->nFileIndexHigh &&
                 info.nFileIndexLow == before->nFileIndexLow);
    CloseHandle(now);
    return same;
}

/* ---- removing a name ---- */

/* Deletes path, opened as h, with POSIX semantics (Windows 10 1709 and
 * later, NTFS): the name goes at once, while the file lives on for those
 * who have it open. A creator may put a new pool at path the moment it
 * goes, so what is checked is that path no longer names this file (info),
 * not that path is free. */
static bool remove_posix(HANDLE h, const BY_HANDLE_FILE_INFORMATION *info, const char *path) {
    FILE_DISPOSITION_INFO_EX posix = {.Flags = FILE_DISPOSITION_FLAG_DELETE |
                                               FILE_DISPOSITION_FLAG_POSIX_SEMANTICS};
    return SetFileInformationByHandle(h, MMP__DISPOSITION_EX, &posix, sizeof posix) &&
           !still_named(info, path);
}

/* Otherwise a file marked for deletion keeps its name until its last
 * handle closes, and a new pool could not be created there meanwhile; and
 * a file that another process maps cannot even be marked. So the file of
 * h, at path, moves out of the way under a removed pool's name first, then
 * is marked for deletion, or, if it is mapped, deleted by its last user's
 * mmp__file_close. */
static int remove_by_rename(HANDLE h, const char *path) {
    char tmp[MMP__TEMP_MAX];
    int rc = mmp__win_temp_name(path, MMP__GONE_PREFIX, tmp, sizeof tmp);
    if (rc == 0) {
        mmp__win_set_delete(h, false);
        rc = mmp__win_rename(h, tmp);
    }
    if (rc == 0) {
        mmp__win_set_delete(h, true);
    }
    return rc;
}

int mmp__path_remove(const char *path) {
    HANDLE h;
    int rc = open_name(path, DELETE | FILE_READ_ATTRIBUTES, &h);
    if (rc != 0) {
        return rc;
    }
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(h, &info)) {
        rc = mmp__win_error(GetLastError());
    } else if (!remove_posix(h, &info, path)) {
        rc = remove_by_rename(h, path);
    }
    CloseHandle(h);
    return rc;
}

int mmp__file_move_aside(mmp__file *f, const char *path, char *out, size_t cap) {
    HANDLE h;
    int rc = open_name(path, DELETE | FILE_READ_ATTRIBUTES, &h);
    if (rc != 0) {
        return rc;
    }
    /* Renamed through a handle on the very file checked: no other file
     * that takes the name meanwhile can be moved by mistake. A removed
     * pool's name, so that a user that closes it last deletes it. */
    char tmp[MMP__TEMP_MAX];
    if (!same_file(f, h)) {
        rc = MMPOOL_ENOENT;
    } else if ((rc = mmp__win_temp_name(path, MMP__GONE_PREFIX, tmp, sizeof tmp)) == 0) {
        rc = strlen(tmp) < cap ? mmp__win_rename(h, tmp) : MMPOOL_EINVAL;
    }
    CloseHandle(h);
    if (rc == 0) {
        memcpy(out, tmp, strlen(tmp) + 1);
    }
    return rc;
}

/* ---- deleting a removed pool at its last close ---- */

/* Marks the file at name (UTF-16) for deletion if it is f. */
static bool delete_if_same(const mmp__file *f, const wchar_t *name) {
    HANDLE d = CreateFileW(name, DELETE | FILE_READ_ATTRIBUTES, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (d == INVALID_HANDLE_VALUE) {
        return false;
    }
    bool same = same_file(f, d);
    if (same) {
        mmp__win_set_delete(d, true); /* fails while another process maps it */
    }
    CloseHandle(d);
    return same;
}

/* Whether f is still at the path it was opened with; true also when that
 * cannot be told, so that nothing is deleted then. */
static bool still_at_path(const mmp__file *f) {
    wchar_t *w;
    if (mmp__win_path(f->path, &w) != 0) {
        return true;
    }
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    bool here = h != INVALID_HANDLE_VALUE && same_file(f, h);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
    }
    return here;
}

/* Deletes the removed pool named base (UTF-16), in the directory that is
 * the first dir bytes of f's path, if it is f; true if it is. */
static bool delete_gone_entry(const mmp__file *f, size_t dir, const wchar_t *base) {
    char utf8[MAX_PATH * 4];
    char name[MMP__TEMP_MAX];
    wchar_t *w;
    if (WideCharToMultiByte(CP_UTF8, 0, base, -1, utf8, sizeof utf8, NULL, NULL) <= 0 ||
        snprintf(name, sizeof name, "%.*s%s", (int)dir, f->path, utf8) >= (int)sizeof name ||
        mmp__win_path(name, &w) != 0) {
        return false;
    }
    bool same = delete_if_same(f, w);
    free(w);
    return same;
}

/*
 * A removed pool whose deletion had to wait (a file another process maps
 * cannot be marked for deletion) carries a name starting with
 * MMP__GONE_PREFIX, in the directory it was opened in. Whoever closes it
 * last, after unmapping, deletes it. The handle cannot tell its file's
 * name reliably (Wine does not follow a rename made through another
 * handle), so when f is no longer at the path it was opened with, the
 * removed pools of that directory are searched for f.
 */
void mmp__win_delete_if_gone(mmp__file *f) {
    if (f->path == NULL || still_at_path(f)) {
        return;
    }
    size_t dir = dir_len(f->path);
    char pattern[MMP__TEMP_MAX];
    wchar_t *w;
    if (dir + strlen(MMP__GONE_PREFIX) + 2 > sizeof pattern) {
        return;
    }
    snprintf(pattern, sizeof pattern, "%.*s%s*", (int)dir, f->path, MMP__GONE_PREFIX);
    if (mmp__win_path(pattern, &w) != 0) {
        return;
    }
    WIN32_FIND_DATAW found;
    HANDLE search = FindFirstFileW(w, &found);
    free(w);
    if (search == INVALID_HANDLE_VALUE) {
        return;
    }
    while (!delete_gone_entry(f, dir, found.cFileName) && FindNextFileW(search, &found)) {
    }
    FindClose(search);
}
