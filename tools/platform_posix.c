/* POSIX side of the tool's platform helpers: readdir, file owners, user
 * names and rename, sigaction, nanosleep. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

void tool_catch_interrupt(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a sleep ends at once when Ctrl-C is pressed. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int tool_interrupted(void) {
    return interrupted != 0;
}

void tool_sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (!interrupted && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void tool_binary_stdio(void) {}

const char tool_admin_name[] = "root";

tool_owner tool_file_owner(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        return TOOL_OWNER_UNKNOWN;
    }
    /* The effective uid: the one the kernel checks when the tool removes
     * the file. */
    return st.st_uid == geteuid() ? TOOL_OWNER_CALLER : TOOL_OWNER_OTHER;
}

const char tool_owner_kind[] = "uid";

int tool_user_name(uint64_t owner, char *out, size_t cap) {
    struct passwd pw;
    struct passwd *found = NULL;
    char buf[4096];
    out[0] = '\0';
    if (owner != (uint64_t)(uid_t)owner ||
        getpwuid_r((uid_t)owner, &pw, buf, sizeof buf, &found) != 0 || found == NULL ||
        strlen(found->pw_name) >= cap) {
        return -1;
    }
    memcpy(out, found->pw_name, strlen(found->pw_name) + 1);
    return 0;
}

int tool_caller_is_admin(void) {
    return geteuid() == 0;
}

tool_path_kind tool_path_kind_of(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        return errno == ENOENT ? TOOL_PATH_ABSENT : TOOL_PATH_OTHER;
    }
    return S_ISREG(st.st_mode) ? TOOL_PATH_REGULAR : TOOL_PATH_OTHER;
}

FILE *tool_create_new(const char *path) {
    /* O_EXCL: never an existing file, nor the target of a link planted at
     * that name. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        return NULL;
    }
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
    }
    return f;
}

int tool_replace_file(const char *from, const char *to, char *err, size_t errcap) {
    if (rename(from, to) != 0) {
        snprintf(err, errcap, "%s", strerror(errno));
        return -1;
    }
    return 0;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

int tool_list_dir(const char *dir, char ***names, size_t *count, char *err, size_t errcap) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errcap, "%s", strerror(errno));
        return -1;
    }
    char **list = NULL;
    size_t n = 0;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* Regular files only, judged without following a link. A file
         * swapped for something else after this is still refused by the
         * library (O_NOFOLLOW, then S_ISREG), only after opening it. */
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (n == cap) {
            size_t more = cap == 0 ? 64 : cap * 2;
            char **bigger = realloc(list, more * sizeof *list);
            if (bigger == NULL) {
                break;
            }
            list = bigger;
            cap = more;
        }
        list[n] = malloc(strlen(e->d_name) + 1);
        if (list[n] == NULL) {
            break;
        }
        strcpy(list[n], e->d_name);
        n++;
    }
    int failed = e != NULL; /* left the loop early: out of memory */
    closedir(d);
    if (failed) {
        free_names(list, n);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    *names = list;
    *count = n;
    return 0;
}
