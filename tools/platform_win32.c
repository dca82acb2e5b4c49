/* Windows side of the tool's platform helpers: FindFirstFile, a console
 * control handler, Sleep, binary stdio. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

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
