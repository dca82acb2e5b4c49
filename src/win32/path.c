/*
 * Windows paths: the per-user directory of bare pool names, UTF-8 to
 * UTF-16 conversion with the \\?\ prefix for long paths, and translating
 * Win32 errors into MMPOOL_E* codes.
 *
 * Sections: errors, conversion, bare names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mmpool.h"
#include "win32.h"

/* ---- errors ---- */

int mmp__win_error(DWORD err) {
    switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_NOT_READY:
        return MMPOOL_ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
    case ERROR_SHARING_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
        return MMPOOL_EACCES;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return MMPOOL_EEXIST;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_FILE_TOO_LARGE:
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_COMMITMENT_LIMIT:
        return MMPOOL_ENOSPC;
    case ERROR_CANT_RESOLVE_FILENAME: /* a loop of links, as ELOOP */
        return MMPOOL_EFORMAT;
    case ERROR_LOCK_VIOLATION:
        return MMPOOL_EBUSY;
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_INVALID_PARAMETER:
    case ERROR_DIRECTORY:
        return MMPOOL_EINVAL;
    default:
        return MMPOOL_ESYS;
    }
}

/* ---- conversion ---- */

/* UTF-8 to a freshly allocated UTF-16 string. */
static int widen(const char *s, wchar_t **out) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        return MMPOOL_EINVAL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w == NULL) {
        return MMPOOL_ESYS;
    }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return MMPOOL_EINVAL;
    }
    *out = w;
    return 0;
}

int mmp__win_path(const char *path, wchar_t **out) {
    wchar_t *w;
    int rc = widen(path, &w);
    if (rc != 0) {
        return rc;
    }
    /* Already a device or \\?\ path: the caller meant it exactly. */
    if (wcsncmp(w, L"\\\\?\\", 4) == 0 || wcsncmp(w, L"\\\\.\\", 4) == 0) {
        *out = w;
        return 0;
    }
    /* \\?\ paths are not normalised by the system: make the path absolute
     * first, with its '/' turned into '\' and its '.' and '..' resolved. */
    DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = n == 0 ? NULL : malloc(((size_t)n + 8) * sizeof *full);
    if (full == NULL) {
        free(w);
        return n == 0 ? mmp__win_error(GetLastError()) : MMPOOL_ESYS;
    }
    /* Room before the path for the longest prefix, \\?\UNC\ (8). */
    DWORD got = GetFullPathNameW(w, n, full + 8, NULL);
    free(w);
    if (got == 0 || got >= n) {
        free(full);
        return MMPOOL_EINVAL;
    }
    wchar_t *p = full + 8;
    if (wcsncmp(p, L"\\\\?\\", 4) == 0 || wcsncmp(p, L"\\\\.\\", 4) == 0) {
        /* Already a device path: "//?/x" spelt with slashes, or a DOS
         * device name such as NUL (\\.\NUL). No prefix goes before it. */
    } else if (p[0] == L'\\' && p[1] == L'\\') {
        /* \\server\share\x becomes \\?\UNC\server\share\x. */
        p -= 6;
        memcpy(p, L"\\\\?\\UNC", 7 * sizeof *p);
    } else {
        p -= 4;
        memcpy(p, L"\\\\?\\", 4 * sizeof *p);
    }
    memmove(full, p, (wcslen(p) + 1) * sizeof *p);
    *out = full;
    return 0;
}

/* ---- bare names ---- */

/* Characters a Windows file name cannot hold, besides controls. */
static bool valid_name(const char *name) {
    for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++) {
        if (*c < 0x20 || strchr("<>:\"|?*", *c) != NULL) {
            return false;
        }
    }
    return true;
}

/* The directory of bare names, "%LOCALAPPDATA%\mmpool\" or, without that
 * variable, "%TEMP%\mmpool\", in UTF-8. Created when missing. */
static int name_dir(char *out, size_t cap) {
    wchar_t base[MAX_PATH + 1];
    DWORD n = GetEnvironmentVariableW(L"LOCALAPPDATA", base, MAX_PATH + 1);
    if (n == 0 || n > MAX_PATH) {
        n = GetTempPathW(MAX_PATH + 1, base);
        if (n == 0 || n > MAX_PATH) {
            return MMPOOL_ESYS;
        }
    }
    wchar_t dir[MAX_PATH + 16];
    size_t len = wcslen(base);
    bool sep = len > 0 && (base[len - 1] == L'\\' || base[len - 1] == L'/');
    _snwprintf(dir, sizeof dir / sizeof dir[0], L"%ls%lsmmpool\\", base, sep ? L"" : L"\\");
    dir[sizeof dir / sizeof dir[0] - 1] = L'\0';
    /* The parent is the user's own: the new directory inherits its ACL. */
    if (!CreateDirectoryW(dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) {
        return mmp__win_error(GetLastError());
    }
    int got = WideCharToMultiByte(CP_UTF8, 0, dir, -1, out,
                                  (int)(cap > INT32_MAX ? INT32_MAX : cap), NULL, NULL);
    return got > 0 ? 0 : MMPOOL_EINVAL;
}

int mmp__resolve_path(char *out, size_t cap, const char *path) {
    if (path[0] == '\0') {
        return MMPOOL_EINVAL;
    }
    if (strchr(path, '/') != NULL || strchr(path, '\\') != NULL) {
        int n = snprintf(out, cap, "%s", path);
        return n < 0 || (size_t)n >= cap ? MMPOOL_EINVAL : 0;
    }
    if (!valid_name(path)) {
        return MMPOOL_EINVAL;
    }
    int rc = name_dir(out, cap);
    if (rc != 0) {
        return rc;
    }
    size_t used = strlen(out);
    int n = snprintf(out + used, cap - used, "%s", path);
    return n < 0 || (size_t)n >= cap - used ? MMPOOL_EINVAL : 0;
}
