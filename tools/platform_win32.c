/* Windows side of the tool's platform helpers: FindFirstFile, owner SIDs
 * and MoveFileEx, a console control handler, Sleep, binary stdio. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <windows.h>
#include <aclapi.h>

#include "platform.h"

static volatile LONG interrupted;

static BOOL WINAPI on_ctrl(DWORD type) {
    if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
        InterlockedExchange(&interrupted, 1);
        return TRUE;
    }
    return FALSE;
}

void tool_catch_interrupt(void) {
    SetConsoleCtrlHandler(on_ctrl, TRUE);
}

int tool_interrupted(void) {
    return InterlockedCompareExchange(&interrupted, 0, 0) != 0;
}

void tool_sleep_ms(unsigned ms) {
    /* Slices of 50 ms, so that Ctrl-C ends a sleep promptly. */
    while (ms > 0 && !tool_interrupted()) {
        unsigned step = ms < 50 ? ms : 50;
        Sleep(step);
        ms -= step;
    }
}

void tool_binary_stdio(void) {
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
}

/* ---- owners, kinds of path, replacing a file ---- */

const char tool_admin_name[] = "an elevated administrator";
const char tool_owner_kind[] = "RID";

int tool_user_name(uint64_t owner, char *out, size_t cap) {
    /* The RID is all mmpool_info gives; without the rest of the SID (the
     * domain or machine) it names no account. */
    (void)owner;
    if (cap > 0) {
        out[0] = '\0';
    }
    return -1;
}

/* Opens path to read its attributes or security descriptor, not following
 * a reparse point (a symbolic link is judged itself); BACKUP_SEMANTICS
 * lets it open a directory too. */
static HANDLE open_for_metadata(const char *path, DWORD access) {
    return CreateFileA(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
                       NULL);
}

/* Whether sid is the token's user or the token's default owner for new
 * objects: an elevated administrator's files are owned by the
 * Administrators group, not by the user. */
static int sid_is_caller(PSID sid) {
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        return 0;
    }
    union {
        unsigned char bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
        TOKEN_USER user;
    } user;
    union {
        unsigned char bytes[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_OWNER)];
        TOKEN_OWNER owner;
    } owner;
    DWORD len;
    int mine = (GetTokenInformation(token, TokenUser, &user, sizeof user, &len) &&
                EqualSid(sid, user.user.User.Sid)) ||
               (GetTokenInformation(token, TokenOwner, &owner, sizeof owner, &len) &&
                EqualSid(sid, owner.owner.Owner));
    CloseHandle(token);
    return mine;
}

tool_owner tool_file_owner(const char *path) {
    HANDLE h = open_for_metadata(path, READ_CONTROL);
    if (h == INVALID_HANDLE_VALUE) {
        return TOOL_OWNER_UNKNOWN;
    }
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD err = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL,
                                NULL, &sd);
    CloseHandle(h);
    tool_owner who = TOOL_OWNER_UNKNOWN;
    if (err == ERROR_SUCCESS && owner != NULL) {
        who = sid_is_caller(owner) ? TOOL_OWNER_CALLER : TOOL_OWNER_OTHER;
    }
    LocalFree(sd);
    return who;
}

int tool_caller_is_admin(void) {
    /* DWORDs: a SID must be DWORD aligned. */
    DWORD sid[SECURITY_MAX_SID_SIZE / sizeof(DWORD) + 1];
    DWORD size = sizeof sid;
    BOOL member = FALSE;
    /* Without elevation (UAC) the group is in the token for denying only,
     * and CheckTokenMembership() says no. */
    if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid, &size) ||
        !CheckTokenMembership(NULL, sid, &member)) {
        return 0;
    }
    return member != FALSE;
}

tool_path_kind tool_path_kind_of(const char *path) {
    HANDLE h = open_for_metadata(path, 0);
    if (h == INVALID_HANDLE_VALUE) {
        return GetLastError() == ERROR_FILE_NOT_FOUND ? TOOL_PATH_ABSENT : TOOL_PATH_OTHER;
    }
    /* A device such as NUL or CON is not a disk file. */
    BY_HANDLE_FILE_INFORMATION fi;
    int regular = GetFileType(h) == FILE_TYPE_DISK && GetFileInformationByHandle(h, &fi) &&
                  (fi.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT |
                                          FILE_ATTRIBUTE_DEVICE)) == 0;
    CloseHandle(h);
    return regular ? TOOL_PATH_REGULAR : TOOL_PATH_OTHER;
}

FILE *tool_create_new(const char *path) {
    int fd = _open(path, _O_WRONLY | _O_CREAT | _O_EXCL | _O_BINARY | _O_NOINHERIT,
                   _S_IREAD | _S_IWRITE);
    if (fd < 0) {
        return NULL;
    }
    FILE *f = _fdopen(fd, "wb");
    if (f == NULL) {
        _close(fd);
        _unlink(path);
    }
    return f;
}

int tool_replace_file(const char *from, const char *to, char *err, size_t errcap) {
    if (MoveFileExA(from, to, MOVEFILE_REPLACE_EXISTING)) {
        return 0;
    }
    DWORD e = GetLastError();
    if (e == ERROR_ACCESS_DENIED || e == ERROR_SHARING_VIOLATION) {
        snprintf(err, errcap, "Permission denied (the file may be open elsewhere)");
    } else {
        snprintf(err, errcap, "cannot rename into place (Windows error %lu)", (unsigned long)e);
    }
    return -1;
}

/* ---- directories ---- */

int tool_list_dir(const char *dir, char ***names, size_t *count, char *err, size_t errcap) {
    char pattern[MAX_PATH + 3];
    if (snprintf(pattern, sizeof pattern, "%s\\*", dir) >= (int)sizeof pattern) {
        snprintf(err, errcap, "path too long");
        return -1;
    }
    WIN32_FIND_DATAA fd;
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND) { /* an empty directory */
            *names = NULL;
            *count = 0;
            return 0;
        }
        snprintf(err, errcap, "%s",
                 e == ERROR_PATH_NOT_FOUND  ? "No such file or directory"
                 : e == ERROR_ACCESS_DENIED ? "Permission denied"
                                            : "cannot list the directory");
        return -1;
    }
    char **list = NULL;
    size_t n = 0;
    size_t cap = 0;
    int failed = 0;
    do {
        /* Regular files only (this also drops "." and ".."). */
        if ((fd.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT |
                                    FILE_ATTRIBUTE_DEVICE)) != 0) {
            continue;
        }
        if (n == cap) {
            size_t more = cap == 0 ? 64 : cap * 2;
            char **bigger = realloc(list, more * sizeof *list);
            if (bigger == NULL) {
                failed = 1;
                break;
            }
            list = bigger;
            cap = more;
        }
        list[n] = malloc(strlen(fd.cFileName) + 1);
        if (list[n] == NULL) {
            failed = 1;
            break;
        }
        strcpy(list[n], fd.cFileName);
        n++;
    } while (FindNextFileA(h, &fd));
    FindClose(h);
    if (failed) {
        for (size_t i = 0; i < n; i++) {
            free(list[i]);
        }
        free(list);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    *names = list;
    *count = n;
    return 0;
}
