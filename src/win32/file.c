/*
 * Windows pool files: opening and creating (under a temporary name in the
 * same directory, moved into place by a rename that never replaces),
 * the owner-only security descriptor, removing a name while the file stays
 * mapped, reserving storage and mapping.
 *
 * Sections: records, security, open/create/link, names, size and mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mmpool.h"
#include "win32.h"

/* Every pool file is opened with all three: another process may read,
 * write, rename or delete it while we have it mapped, which is what makes
 * mmpool_unlink of a pool in use possible. */
#define MMP__SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* FileDispositionInfoEx, which MinGW's headers declare only for a
 * _WIN32_WINNT no build uses; its value is fixed by the Windows ABI. */
#define MMP__DISPOSITION_EX ((FILE_INFO_BY_HANDLE_CLASS)21)

/* Names of files in passing, in the pool's directory: a pool being
 * created, and a removed pool that some process still maps. */
#define MMP__NEW_PREFIX ".mmpool-new-"
#define MMP__GONE_PREFIX ".mmpool-gone-"
/* Room for a pool path and a temporary name's suffix. */
#define MMP__TEMP_MAX (MMP__PATH_MAX + 64)

/* ---- records ---- */

static bool set_delete_handle(HANDLE h, bool del) {
    FILE_DISPOSITION_INFO d = {.DeleteFile = del};
    return SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d) != 0;
}

/* Renames the file of h to path (UTF-8), failing if path exists. Through
 * the handle, so the file keeps its identity whatever its name was. */
static int rename_handle(HANDLE h, const char *path) {
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

/* Whether h is the file f (same volume and index). */
static bool same_file(const mmp__file *f, HANDLE h) {
    BY_HANDLE_FILE_INFORMATION info;
    return GetFileInformationByHandle(h, &info) && info.dwVolumeSerialNumber == f->volume &&
           (((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow) == f->index;
}

/* Marks the file at name (UTF-16) for deletion if it is f. */
static bool delete_if_same(const mmp__file *f, const wchar_t *name) {
    HANDLE d = CreateFileW(name, DELETE | FILE_READ_ATTRIBUTES, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (d == INVALID_HANDLE_VALUE) {
        return false;
    }
    bool same = same_file(f, d);
    if (same) {
        set_delete_handle(d, true); /* fails while another process maps it */
    }
    CloseHandle(d);
    return same;
}

/* A copy of the UTF-8 string s, or NULL. */
static char *copy_of(const char *s) {
    size_t len = strlen(s) + 1;
    char *c = malloc(len);
    if (c != NULL) {
        memcpy(c, s, len);
    }
    return c;
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

/*
 * A removed pool whose deletion had to wait (a file another process maps
 * cannot be marked for deletion) carries a name starting with
 * MMP__GONE_PREFIX, in the directory it was opened in. Whoever closes it
 * last, after unmapping, deletes it. The handle cannot tell its file's
 * name reliably (Wine does not follow a rename made through another
 * handle), so when f is no longer at the path it was opened with, the
 * removed pools of that directory are searched for f.
 */
static void delete_if_gone(mmp__file *f) {
    if (f->path == NULL) {
        return;
    }
    wchar_t *w;
    if (mmp__win_path(f->path, &w) != 0) {
        return;
    }
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    bool here = h != INVALID_HANDLE_VALUE && same_file(f, h);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
    }
    size_t dir = dir_len(f->path);
    char name[MMP__TEMP_MAX];
    if (here || dir + strlen(MMP__GONE_PREFIX) + 2 > sizeof name) {
        return;
    }
    snprintf(name, sizeof name, "%.*s%s*", (int)dir, f->path, MMP__GONE_PREFIX);
    if (mmp__win_path(name, &w) != 0) {
        return;
    }
    WIN32_FIND_DATAW found;
    HANDLE search = FindFirstFileW(w, &found);
    free(w);
    bool done = search == INVALID_HANDLE_VALUE;
    while (!done) {
        char base[MAX_PATH * 4];
        if (WideCharToMultiByte(CP_UTF8, 0, found.cFileName, -1, base, sizeof base, NULL, NULL) >
                0 &&
            snprintf(name, sizeof name, "%.*s%s", (int)dir, f->path, base) < (int)sizeof name &&
            mmp__win_path(name, &w) == 0) {
            done = delete_if_same(f, w);
            free(w);
        }
        done = done || !FindNextFileW(search, &found);
    }
    if (search != INVALID_HANDLE_VALUE) {
        FindClose(search);
    }
}

/* The record of the open file h, opened at path (UTF-8). */
static int new_record(mmp__file **out, HANDLE h, const char *path) {
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(h, &info)) {
        return mmp__win_error(GetLastError());
    }
    mmp__file *f = calloc(1, sizeof *f);
    char *copy = copy_of(path);
    if (f == NULL || copy == NULL) {
        free(f);
        free(copy);
        return MMPOOL_ESYS;
    }
    f->h = h;
    f->path = copy;
    f->volume = info.dwVolumeSerialNumber;
    f->index = ((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow;
    InitializeSRWLock(&f->held_lock);
    *out = f;
    return 0;
}

void mmp__file_close(mmp__file *f) {
    if (f == NULL) {
        return;
    }
    /* The system drops the locks of a closed handle only "when resources
     * allow"; an explicit unlock frees our entry at once. */
    while (f->held_count > 0) {
        mmp__lock_release(f, f->held[f->held_count - 1]);
    }
    for (uint32_t i = 0; i < MMP__WIN_ENTRIES; i++) {
        if (f->events[i] != NULL) {
            CloseHandle(f->events[i]);
        }
    }
    /* The caller has unmapped f: a file never linked can be deleted now if
     * marking it failed while it was mapped, and so can a removed one. */
    if (f->temp != NULL) {
        set_delete_handle(f->h, true);
    } else {
        delete_if_gone(f);
    }
    CloseHandle(f->h);
    free(f->temp);
    free(f->path);
    free(f);
}

bool mmp__file_inherited(const mmp__file *f) {
    (void)f;
    return false; /* no fork() on Windows */
}

/* ---- security ---- */

/* An owner-only descriptor: one entry granting the current user full
 * access, and protected, so that the directory's inheritable entries are
 * not added to it. The counterpart of mode 0600. buf holds the ACL and the
 * user's SID. */
typedef struct owner_only {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    union {
        unsigned char bytes[512];
        ACL align; /* an ACL must be DWORD aligned */
    } acl;
    union {
        unsigned char bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
        TOKEN_USER user;
    } token;
} owner_only;

static int owner_only_init(owner_only *o) {
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        return MMPOOL_ESYS;
    }
    DWORD len;
    BOOL ok = GetTokenInformation(token, TokenUser, &o->token, sizeof o->token, &len);
    CloseHandle(token);
    PACL acl = &o->acl.align;
    if (!ok || !InitializeAcl(acl, sizeof o->acl, ACL_REVISION) ||
        !AddAccessAllowedAce(acl, ACL_REVISION, GENERIC_ALL, o->token.user.User.Sid) ||
        !InitializeSecurityDescriptor(&o->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&o->sd, TRUE, acl, FALSE) ||
        !SetSecurityDescriptorControl(&o->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED)) {
        return MMPOOL_ESYS;
    }
    o->sa.nLength = sizeof o->sa;
    o->sa.lpSecurityDescriptor = &o->sd;
    o->sa.bInheritHandle = FALSE;
    return 0;
}

/* ---- open/create/link ---- */

int mmp__file_open(mmp__file **out, const char *path) {
    wchar_t *w;
    int rc = mmp__win_path(path, &w);
    if (rc != 0) {
        return rc;
    }
    /* FILE_FLAG_OPEN_REPARSE_POINT: a symbolic link is opened itself, not
     * followed, and refused below. */
    HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, MMP__SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        /* A directory cannot be opened this way; it is not a pool either. */
        DWORD attrs = GetFileAttributesW(w);
        free(w);
        if (err == ERROR_ACCESS_DENIED && attrs != INVALID_FILE_ATTRIBUTES &&
            (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0) {
            return MMPOOL_EFORMAT;
        }
        return mmp__win_error(err);
    }
    free(w);
    BY_HANDLE_FILE_INFORMATION info;
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
        (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0) {
        CloseHandle(h);
        return MMPOOL_EFORMAT;
    }
    rc = new_record(out, h, path);
    if (rc != 0) {
        CloseHandle(h);
    }
    return rc;
}

/* Marks f to be deleted when its last handle closes, or clears the mark. */
static bool set_delete(mmp__file *f, bool del) {
    return set_delete_handle(f->h, del);
}

/* A name in the directory of path (UTF-8) that no other creator picks:
 * the process id, a per-process counter and the tick count. */
static int temp_name(const char *path, const char *kind, char *out, size_t cap) {
    static volatile LONG counter;
    int n = snprintf(out, cap, "%.*s%s%lu-%ld-%llu", (int)dir_len(path), path, kind,
                     (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&counter),
                     (unsigned long long)GetTickCount64());
    return n < 0 || (size_t)n >= cap ? MMPOOL_EINVAL : 0;
}

int mmp__file_reserve(mmp__file *f, uint64_t size) {
    FILE_STANDARD_INFO st;
    if (!GetFileInformationByHandleEx(f->h, FileStandardInfo, &st, sizeof st)) {
        return mmp__win_error(GetLastError());
    }
    /* An allocation below the end of file would truncate the file. */
    if ((uint64_t)st.AllocationSize.QuadPart >= size || (uint64_t)st.EndOfFile.QuadPart > size) {
        return 0;
    }
    FILE_ALLOCATION_INFO a = {.AllocationSize.QuadPart = (LONGLONG)size};
    if (SetFileInformationByHandle(f->h, FileAllocationInfo, &a, sizeof a)) {
        return 0;
    }
    DWORD err = GetLastError();
    /* Without support the pool still works; only the early ENOSPC is lost. */
    if (err == ERROR_INVALID_PARAMETER || err == ERROR_NOT_SUPPORTED ||
        err == ERROR_INVALID_FUNCTION || err == ERROR_CALL_NOT_IMPLEMENTED) {
        return 0;
    }
    return mmp__win_error(err);
}

int mmp__file_create_unnamed(mmp__file **out, const char *path, uint64_t size, uint32_t mode) {
    owner_only sec;
    SECURITY_ATTRIBUTES *sa = NULL;
    /* Mode bits for group or others: the directory's inherited ACL decides
     * who else may open the pool. Owner bits only: nobody else may. */
    if ((mode & 077) == 0) {
        int rc = owner_only_init(&sec);
        if (rc != 0) {
            return rc;
        }
        sa = &sec.sa;
    }
    char tmp[MMP__TEMP_MAX];
    HANDLE h = INVALID_HANDLE_VALUE;
    int rc = 0;
    for (int attempt = 0; attempt < 16 && h == INVALID_HANDLE_VALUE; attempt++) {
        wchar_t *w;
        rc = temp_name(path, MMP__NEW_PREFIX, tmp, sizeof tmp);
        if (rc == 0) {
            rc = mmp__win_path(tmp, &w);
        }
        if (rc != 0) {
            return rc;
        }
        /* DELETE access: the file is renamed into place later. */
        h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE | DELETE, MMP__SHARE_ALL, sa, CREATE_NEW,
                        FILE_ATTRIBUTE_NORMAL, NULL);
        DWORD err = GetLastError();
        free(w);
        if (h == INVALID_HANDLE_VALUE && err != ERROR_FILE_EXISTS) {
            return mmp__win_error(err);
        }
    }
    if (h == INVALID_HANDLE_VALUE) {
        return MMPOOL_EEXIST;
    }
    /* Deleted on close until linked: a creator that dies before linking
     * leaves nothing behind, like an unnamed file. */
    set_delete_handle(h, true);
    mmp__file *f;
    size_t len = strlen(tmp) + 1;
    char *temp = malloc(len);
    rc = temp == NULL ? MMPOOL_ESYS : new_record(&f, h, tmp);
    if (rc != 0) {
        free(temp);
        CloseHandle(h);
        return rc;
    }
    /* With the temporary name recorded, mmp__file_close deletes the file
     * on every failure below, also where the mark above was refused. */
    memcpy(temp, tmp, len);
    f->temp = temp;
    FILE_END_OF_FILE_INFO eof = {.EndOfFile.QuadPart = (LONGLONG)size};
    rc = SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof)
             ? mmp__file_reserve(f, size)
             : mmp__win_error(GetLastError());
    if (rc != 0) {
        mmp__file_close(f);
        return rc;
    }
    *out = f;
    return 0;
}

int mmp__file_link(mmp__file *f, const char *path) {
    if (f->temp == NULL) {
        return MMPOOL_EINVAL; /* not made by mmp__file_create_unnamed */
    }
    /* A rename that fails if path exists: whoever renames first wins, the
     * others get MMPOOL_EEXIST. A file marked for deletion cannot be
     * renamed, so the mark goes first and comes back if the rename fails
     * (or at close, if the file is mapped by then). */
    int rc = set_delete(f, false) ? 0 : mmp__win_error(GetLastError());
    if (rc == 0) {
        rc = rename_handle(f->h, path);
    }
    if (rc != 0) {
        set_delete(f, true);
        return rc;
    }
    /* From now on f is at path; a copy that cannot be made only costs the
     * clean-up after a later removal. */
    char *copy = copy_of(path);
    free(f->path);
    f->path = copy;
    free(f->temp);
    f->temp = NULL;
    return 0;
}

/* ---- names ---- */

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

int mmp__path_remove(const char *path) {
    HANDLE h;
    int rc = open_name(path, DELETE | FILE_READ_ATTRIBUTES, &h);
    if (rc != 0) {
        return rc;
    }
    BY_HANDLE_FILE_INFORMATION info;
    if (!GetFileInformationByHandle(h, &info)) {
        DWORD err = GetLastError();
        CloseHandle(h);
        return mmp__win_error(err);
    }
    /* POSIX semantics (Windows 10 1709 and later, NTFS): the name goes at
     * once, while the file lives on for those who have it open. A creator
     * may put a new pool at path the moment it goes, so what is checked is
     * that path no longer names this file, not that path is free. */
    FILE_DISPOSITION_INFO_EX posix = {.Flags = FILE_DISPOSITION_FLAG_DELETE |
                                               FILE_DISPOSITION_FLAG_POSIX_SEMANTICS};
    if (SetFileInformationByHandle(h, MMP__DISPOSITION_EX, &posix, sizeof posix) &&
        !still_named(&info, path)) {
        CloseHandle(h);
        return 0;
    }
    /* Otherwise a file marked for deletion keeps its name until its last
     * handle closes, and a new pool could not be created there meanwhile;
     * and a file that another process maps cannot even be marked. So it
     * moves out of the way under a temporary name first, then is marked
     * for deletion, or, if it is mapped, deleted by its last user's
     * mmp__file_close. */
    char tmp[MMP__TEMP_MAX];
    rc = temp_name(path, MMP__GONE_PREFIX, tmp, sizeof tmp);
    if (rc == 0) {
        set_delete_handle(h, false);
        rc = rename_handle(h, tmp);
    }
    if (rc == 0) {
        set_delete_handle(h, true);
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
    } else if ((rc = temp_name(path, MMP__GONE_PREFIX, tmp, sizeof tmp)) == 0) {
        rc = strlen(tmp) < cap ? rename_handle(h, tmp) : MMPOOL_EINVAL;
    }
    CloseHandle(h);
    if (rc == 0) {
        memcpy(out, tmp, strlen(tmp) + 1);
    }
    return rc;
}

/* ---- size and mapping ---- */

int mmp__file_size(mmp__file *f, uint64_t *size) {
    LARGE_INTEGER s;
    if (!GetFileSizeEx(f->h, &s)) {
        return mmp__win_error(GetLastError());
    }
    *size = (uint64_t)s.QuadPart;
    return 0;
}

int mmp__file_read(mmp__file *f, uint64_t offset, void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        OVERLAPPED at = {.Offset = (DWORD)(offset + done),
                         .OffsetHigh = (DWORD)((offset + done) >> 32)};
        DWORD want = len - done > 1u << 30 ? 1u << 30 : (DWORD)(len - done);
        DWORD got = 0;
        if (!ReadFile(f->h, (char *)buf + done, want, &got, &at)) {
            DWORD err = GetLastError();
            return err == ERROR_HANDLE_EOF ? MMPOOL_EFORMAT : mmp__win_error(err);
        }
        if (got == 0) {
            return MMPOOL_EFORMAT; /* the file ends early */
        }
        done += got;
    }
    return 0;
}

int mmp__file_map(mmp__file *f, uint64_t size, void **addr) {
    if (size > SIZE_MAX || size == 0) {
        return size == 0 ? MMPOOL_EINVAL : MMPOOL_ENOSPC;
    }
    HANDLE m =
        CreateFileMappingW(f->h, NULL, PAGE_READWRITE, (DWORD)(size >> 32), (DWORD)size, NULL);
    if (m == NULL) {
        return mmp__win_error(GetLastError());
    }
    void *p = MapViewOfFile(m, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)size);
    DWORD err = GetLastError();
    /* The view keeps the section alive. */
    CloseHandle(m);
    if (p == NULL) {
        return err == ERROR_NOT_ENOUGH_MEMORY ? MMPOOL_ENOSPC : mmp__win_error(err);
    }
    /* Fault the pages in now, as MAP_POPULATE does on Linux: a first frame
     * into fresh pages costs much more than one into faulted pages. A hint
     * only; its failure changes nothing. */
    WIN32_MEMORY_RANGE_ENTRY range = {.VirtualAddress = p, .NumberOfBytes = (SIZE_T)size};
    PrefetchVirtualMemory(GetCurrentProcess(), 1, &range, 0);
    *addr = p;
    return 0;
}

void mmp__file_unmap(mmp__file *f, void *addr, uint64_t size) {
    (void)f;
    (void)size;
    if (addr != NULL) {
        UnmapViewOfFile(addr);
    }
}
