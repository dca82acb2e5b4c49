/* Test helpers: see support.h. Sections: POSIX, Windows. */
#include "support.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>

#include <cmocka.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <fcntl.h>
#include <io.h>
#include <stdbool.h>
#include <windows.h>
#else
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

void mmpt_select_tests(void) {
    const char *only = getenv("MMPOOL_TEST_ONLY");
    if (only != NULL && only[0] != '\0') {
        cmocka_set_test_filter(only);
    }
}

int mmpt_child_main(int argc, char **argv, const mmpt_role *roles) {
    if (argc < 3 || strcmp(argv[1], "--child") != 0) {
        return -1;
    }
    for (const mmpt_role *r = roles; r->name != NULL; r++) {
        if (strcmp(r->name, argv[2]) == 0) {
            return r->run(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "unknown child role %s\n", argv[2]);
    return 99;
}

/* The role and its arguments, NULL-ended, after "self --child". */
static int collect_args(char **args, int max, const char *role, va_list ap) {
    int n = 0;
    args[n++] = "self";
    args[n++] = "--child";
    args[n++] = (char *)role;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < max - 1) {
        args[n++] = (char *)a;
    }
    args[n] = NULL;
    return n;
}

#ifndef _WIN32
/* ---- POSIX ---- */

void mmpt_path(char *out, size_t cap, const char *tag) {
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(out, cap, "/dev/shm/mmpool-test-%s-%ld-%u-%ld", tag, (long)getpid(), counter++,
             (long)ts.tv_nsec);
}

mmpt_proc mmpt_spawn(const char *role, ...) {
    char *args[32];
    va_list ap;
    va_start(ap, role);
    collect_args(args, 32, role, ap);
    va_end(ap);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0) {
        execv("/proc/self/exe", args);
        perror("execv");
        _exit(98);
    }
    return pid;
}

int mmpt_reap(mmpt_proc pid, int timeout_ms) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) {
                return WEXITSTATUS(status);
            }
            return 128 + WTERMSIG(status);
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms > timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(1000);
    }
}

int mmpt_kill(mmpt_proc pid) {
    return kill(pid, SIGKILL);
}

long mmpt_proc_id(mmpt_proc pid) {
    return (long)pid;
}

long mmpt_self_id(void) {
    return (long)getpid();
}

FILE *mmpt_fopen(const char *path, const char *mode) {
    return fopen(path, mode);
}

int mmpt_setenv(const char *name, const char *value) {
    return value != NULL ? setenv(name, value, 1) : unsetenv(name);
}

void mmpt_sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

#else
/* ---- Windows ---- */

void mmpt_path(char *out, size_t cap, const char *tag) {
    static unsigned counter;
    char dir[MAX_PATH + 1];
    DWORD n = GetTempPathA(sizeof dir, dir);
    if (n == 0 || n > MAX_PATH) {
        snprintf(dir, sizeof dir, ".\\");
    }
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    snprintf(out, cap, "%smmpool-test-%s-%lu-%u-%lld", dir, tag,
             (unsigned long)GetCurrentProcessId(), counter++, (long long)(t.QuadPart % 1000000000));
}

/* Appends arg to the command line cmd (cap bytes), quoted the way the C
 * runtime splits it back: backslashes double only before a quote. */
static void append_arg(char *cmd, size_t cap, const char *arg) {
    size_t n = strlen(cmd);
    if (n != 0 && n + 1 < cap) {
        cmd[n++] = ' ';
    }
    if (n + 1 < cap) {
        cmd[n++] = '"';
    }
    size_t slashes = 0;
    for (const char *c = arg; *c != '\0' && n + 4 < cap; c++) {
        if (*c == '\\') {
            slashes++;
        } else {
            if (*c == '"') {
                for (size_t i = 0; i <= slashes && n + 2 < cap; i++) {
                    cmd[n++] = '\\';
                }
            }
            slashes = 0;
        }
        cmd[n++] = *c;
    }
    for (size_t i = 0; i < slashes && n + 2 < cap; i++) {
        cmd[n++] = '\\'; /* before the closing quote */
    }
    if (n + 1 < cap) {
        cmd[n++] = '"';
    }
    cmd[n] = '\0';
}

/* The C runtime's descriptor inheritance: in lpReserved2, a count n, n
 * flag bytes, then n handles. The child's runtime opens descriptor i on
 * handle i, so a pipe keeps its number across CreateProcess as it does
 * across exec. Descriptors 0-2 are left out: the child takes the standard
 * handles. Only inheritable handles are listed. */
enum { FD_SLOTS = 64, FD_OPEN = 0x01, FD_PIPE = 0x08, FD_DEV = 0x40 };
static unsigned char fd_block[sizeof(int) + FD_SLOTS * (1 + sizeof(HANDLE))];

static WORD fd_table(void) {
    int n = FD_SLOTS;
    memcpy(fd_block, &n, sizeof n);
    unsigned char *flags = fd_block + sizeof n;
    unsigned char *handles = flags + n;
    for (int fd = 0; fd < n; fd++) {
        HANDLE h = INVALID_HANDLE_VALUE;
        unsigned char flag = 0;
        DWORD info;
        if (fd > 2) {
            HANDLE mine = (HANDLE)_get_osfhandle(fd);
            if (mine != INVALID_HANDLE_VALUE && GetHandleInformation(mine, &info) &&
                (info & HANDLE_FLAG_INHERIT) != 0) {
                DWORD type = GetFileType(mine);
                h = mine;
                flag = FD_OPEN | (type == FILE_TYPE_PIPE ? FD_PIPE : 0) |
                       (type == FILE_TYPE_CHAR ? FD_DEV : 0);
            }
        }
        flags[fd] = flag;
        memcpy(handles + (size_t)fd * sizeof h, &h, sizeof h);
    }
    return (WORD)sizeof fd_block;
}

mmpt_proc mmpt_spawn(const char *role, ...) {
    char *args[32];
    va_list ap;
    va_start(ap, role);
    collect_args(args, 32, role, ap);
    va_end(ap);
    wchar_t exe[32768];
    DWORD len = GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]);
    if (len == 0 || len >= sizeof exe / sizeof exe[0]) {
        fprintf(stderr, "GetModuleFileNameW failed: %lu\n", (unsigned long)GetLastError());
        abort();
    }
    static char cmd[32768];
    cmd[0] = '\0';
    for (int i = 0; args[i] != NULL; i++) {
        append_arg(cmd, sizeof cmd, args[i]);
    }
    static wchar_t wcmd[32768];
    if (MultiByteToWideChar(CP_UTF8, 0, cmd, -1, wcmd, sizeof wcmd / sizeof wcmd[0]) == 0) {
        abort();
    }
    fflush(NULL);
    STARTUPINFOW si = {.cb = sizeof si};
    si.cbReserved2 = fd_table();
    si.lpReserved2 = fd_block;
    PROCESS_INFORMATION pi;
    /* Inheriting handles passes the pipes' child ends, which the parent
     * made inheritable; everything else of the parent is not. */
    /* Under load, Wine now and then fails a process creation with
     * ERROR_INTERNAL_ERROR; a second try a moment later succeeds. */
    BOOL ok = FALSE;
    for (int attempt = 0; !ok && attempt < 5; attempt++) {
        ok = CreateProcessW(exe, wcmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
        if (!ok) {
            fprintf(stderr, "CreateProcessW failed: %lu%s\n", (unsigned long)GetLastError(),
                    attempt < 4 ? ", trying again" : "");
            Sleep(50);
        }
    }
    if (!ok) {
        abort();
    }
    CloseHandle(pi.hThread);
    return (mmpt_proc)pi.hProcess;
}

int mmpt_reap(mmpt_proc child, int timeout_ms) {
    HANDLE h = (HANDLE)child;
    int rc = -1;
    if (WaitForSingleObject(h, (DWORD)timeout_ms) == WAIT_OBJECT_0) {
        DWORD code;
        if (GetExitCodeProcess(h, &code) && code != STILL_ACTIVE) {
            rc = (int)code;
        }
    } else {
        TerminateProcess(h, MMPT_KILLED);
        WaitForSingleObject(h, INFINITE);
    }
    CloseHandle(h);
    return rc;
}

int mmpt_kill(mmpt_proc child) {
    HANDLE h = (HANDLE)child;
    if (!TerminateProcess(h, MMPT_KILLED)) {
        return -1;
    }
    /* TerminateProcess only starts the end: wait for it, as SIGKILL of a
     * process is final once its zombie is there. */
    return WaitForSingleObject(h, 30000) == WAIT_OBJECT_0 ? 0 : -1;
}

long mmpt_proc_id(mmpt_proc child) {
    return (long)GetProcessId((HANDLE)child);
}

long mmpt_self_id(void) {
    return (long)GetCurrentProcessId();
}

FILE *mmpt_fopen(const char *path, const char *mode) {
    bool write = strchr(mode, '+') != NULL;
    HANDLE h = CreateFileA(path, GENERIC_READ | (write ? GENERIC_WRITE : 0),
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return NULL;
    }
    int fd = _open_osfhandle((intptr_t)h, write ? _O_RDWR | _O_BINARY : _O_RDONLY | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        return NULL;
    }
    FILE *fp = _fdopen(fd, mode);
    if (fp == NULL) {
        _close(fd);
    }
    return fp;
}

void mmpt_sleep_ms(int ms) {
    Sleep((DWORD)ms);
}

int mmpt_setenv(const char *name, const char *value) {
    /* Both: the C runtime's copy (getenv) and the process's block, which
     * CreateProcess hands to children. */
    int rc = _putenv_s(name, value != NULL ? value : "");
    return rc == 0 && SetEnvironmentVariableA(name, value) ? 0 : -1;
}
#endif
