/*
 * Helpers of the cross-process tests, declared in xproc.h.
 *
 * Sections: fixture, pipes and sleeping, pools, frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <io.h>
#include <windows.h>
#else
#include <poll.h>
#endif

#include "xproc.h"

/* ---- fixture ---- */

int xp_setup(void **state) {
    xp *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return -1;
    }
    mmpt_path(st->path, sizeof st->path, "xproc");
    for (int i = 0; i < XP_FDS; i++) {
        st->fds[i] = -1;
    }
    *state = st;
    return 0;
}

int xp_teardown(void **state) {
    xp *st = *state;
    for (int i = 0; i < XP_POOLS; i++) {
        mmpool_close(st->pools[i]);
    }
    /* Unlinking wakes children still blocked on the pool (ESTALE); closing
     * the pipes ends their waits on us. Only then are they reaped. */
    mmpool_unlink(st->path);
    if (st->round_path[0] != '\0') {
        mmpool_unlink(st->round_path);
    }
    for (int i = 0; i < XP_FDS; i++) {
        if (st->fds[i] >= 0) {
            close(st->fds[i]);
        }
    }
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] != 0) {
            mmpt_reap(st->pids[i], 5000);
        }
    }
    free(st);
    return 0;
}

const char *xp_num(char *buf, size_t cap, long long v) {
    snprintf(buf, cap, "%lld", v);
    return buf;
}

mmpt_proc xp_track_pid(xp *st, mmpt_proc pid) {
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] == 0) {
            st->pids[i] = pid;
            return pid;
        }
    }
    fail_msg("more than %d children at once", XP_PIDS);
    return pid;
}

int xp_reap(xp *st, mmpt_proc pid) {
    for (int i = 0; i < XP_PIDS; i++) {
        if (st->pids[i] == pid) {
            st->pids[i] = 0;
        }
    }
    return mmpt_reap(pid, REAP_MS);
}

/* ---- pipes and sleeping ---- */

void xp_sleep_ms(int ms) {
    mmpt_sleep_ms(ms);
}

#ifdef _WIN32
/* Windows pipes cannot be polled: PeekNamedPipe says how many bytes wait,
 * and fails once the writing end is closed everywhere (EOF). 1 readable,
 * 0 not yet, -1 EOF or error. */
static int pipe_state(int fd) {
    DWORD avail = 0;
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE || !PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) {
        return -1;
    }
    return avail > 0;
}

bool xp_read_full(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * MS_NS;
    size_t done = 0;
    while (done < n) {
        int st = pipe_state(fd);
        if (st < 0) {
            return false;
        }
        if (st == 0) {
            if (mmpool_now_ns() >= deadline) {
                return false;
            }
            Sleep(1);
            continue;
        }
        int got = _read(fd, (char *)buf + done, (unsigned)(n - done));
        if (got <= 0) {
            return false;
        }
        done += (size_t)got;
    }
    return true;
}

bool xp_await_go(int fd, int timeout_ms) {
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * MS_NS;
    while (pipe_state(fd) == 0) {
        if (mmpool_now_ns() >= deadline) {
            return false;
        }
        Sleep(1);
    }
    return true;
}
#else

bool xp_read_full(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * MS_NS;
    size_t done = 0;
    while (done < n) {
        uint64_t now = mmpool_now_ns();
        if (now >= deadline) {
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)((deadline - now + MS_NS - 1) / MS_NS));
        if (rc < 0 && errno != EINTR) {
            return false;
        }
        if (rc <= 0) {
            continue;
        }
        ssize_t got = read(fd, (char *)buf + done, n - done);
        if (got == 0 || (got < 0 && errno != EINTR)) {
            return false;
        }
        if (got > 0) {
            done += (size_t)got;
        }
    }
    return true;
}

#endif

bool xp_write_full(int fd, const void *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(fd, (const char *)buf + done, n - done);
        if (put < 0 && errno != EINTR) {
            return false;
        }
        if (put > 0) {
            done += (size_t)put;
        }
    }
    return true;
}

#ifndef _WIN32
bool xp_await_go(int fd, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}
#endif

/* The parent's end stays close-on-exec (not inheritable on Windows), so
 * no child holds a copy of it: when the parent closes it, every child sees
 * EOF. On Windows the child end keeps its number in the children through
 * the C runtime's descriptor inheritance (see mmpt_spawn). */
void xp_pipe(xp *st, int fds[2], int child_end) {
#ifdef _WIN32
    assert_int_equal(_pipe(fds, 65536, _O_BINARY | _O_NOINHERIT), 0);
    assert_true(SetHandleInformation((HANDLE)_get_osfhandle(fds[child_end]), HANDLE_FLAG_INHERIT,
                                     HANDLE_FLAG_INHERIT));
#else
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    int flags = fcntl(fds[child_end], F_GETFD);
    assert_int_equal(fcntl(fds[child_end], F_SETFD, flags & ~FD_CLOEXEC), 0);
#endif
    for (int k = 0; k < 2; k++) {
        int i = 0;
        while (i < XP_FDS && st->fds[i] >= 0) {
            i++;
        }
        assert_true(i < XP_FDS);
        st->fds[i] = fds[k];
    }
}

void xp_close(xp *st, int *fd) {
    for (int i = 0; i < XP_FDS; i++) {
        if (st->fds[i] == *fd) {
            st->fds[i] = -1;
        }
    }
    close(*fd);
    *fd = -1;
}

/* ---- pools ---- */

mmpool *xp_open_opts(xp *st, const char *path, const mmpool_options *o) {
    mmpool *p = NULL;
    ASSERT_RC(mmpool_open(&p, path, o), 0);
    for (int i = 0; i < XP_POOLS; i++) {
        if (st->pools[i] == NULL) {
            st->pools[i] = p;
            return p;
        }
    }
    mmpool_close(p);
    fail_msg("more than %d handles at once", XP_POOLS);
    return NULL;
}

mmpool *xp_open(xp *st, const char *path, uint32_t read_mode) {
    mmpool_options o = {.read_mode = read_mode};
    return xp_open_opts(st, path, &o);
}

mmpool *xp_create(xp *st, uint64_t cap, uint32_t count, uint32_t read_mode) {
    mmpool_options o = {.slot_capacity = cap,
                        .slot_count = count,
                        .flags = MMPOOL_CREATE | MMPOOL_EXCL,
                        .read_mode = read_mode};
    return xp_open_opts(st, st->path, &o);
}

void xp_close_pool(xp *st, mmpool *p) {
    for (int i = 0; i < XP_POOLS; i++) {
        if (st->pools[i] == p) {
            st->pools[i] = NULL;
        }
    }
    mmpool_close(p);
}

int xp_count_entries(const char *path) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
#ifdef _WIN32
    char *back = strrchr(dir, '\\');
    if (slash == NULL || (back != NULL && back > slash)) {
        slash = back;
    }
#endif
    assert_non_null(slash);
    *slash = '\0';
    const char *base = path + (slash - dir) + 1;
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, strlen(base)) == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

void xp_assert_timed_out_after(uint64_t t0, int ms) {
    uint64_t took = mmpool_now_ns() - t0;
    assert_true(took >= (uint64_t)ms * MS_NS);
    assert_true(took < 5000 * MS_NS);
}

/* ---- frames ---- */

uint64_t xp_next_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void xp_fill_pattern(void *buf, size_t len, uint64_t key) {
    uint8_t *p = buf;
    uint64_t s = key;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = xp_next_rand(&s);
        memcpy(p + i, &w, len - i < 8 ? len - i : 8);
    }
}

static bool pattern_ok(const void *buf, size_t len, uint64_t key) {
    const uint8_t *p = buf;
    uint64_t s = key;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = xp_next_rand(&s);
        if (memcmp(p + i, &w, len - i < 8 ? len - i : 8) != 0) {
            return false;
        }
    }
    return true;
}

size_t xp_keyed_len(uint64_t key) {
    return 40 + (size_t)(key * 13 % 200);
}

int xp_write_keyed(mmpool *p, uint64_t key, int timeout_ms) {
    uint8_t buf[KEYED_CAP];
    size_t len = xp_keyed_len(key);
    xp_fill_pattern(buf, len, key);
    return mmpool_write(p, buf, len, timeout_ms);
}

bool xp_keyed_ok(const void *data, uint64_t len, uint64_t key) {
    return len == xp_keyed_len(key) && pattern_ok(data, (size_t)len, key);
}

/* FNV-1a taken a 64-bit word at a time: the byte-wise original is too slow
 * for a gigabyte of frames. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    for (; len > 0; p++, len--) {
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    }
    return h;
}

static uint64_t tag_sum(const frame_tag *t, const uint8_t *payload, size_t n) {
    uint64_t h = fnv1a(UINT64_C(0xcbf29ce484222325), t, offsetof(frame_tag, sum));
    return fnv1a(h, payload, n);
}

static uint8_t short_byte(uint64_t len, size_t i) {
    return (uint8_t)(len * 37 + i * 11 + 5);
}

void xp_tagged_build(void *buf, size_t len, uint32_t writer, uint64_t counter, uint32_t kind) {
    uint8_t *p = buf;
    if (len < sizeof(frame_tag)) {
        for (size_t i = 0; i < len; i++) {
            p[i] = short_byte(len, i);
        }
        return;
    }
    frame_tag t = {.counter = counter, .len = len, .writer = writer, .kind = kind};
    xp_fill_pattern(p + sizeof t, len - sizeof t, counter * 1000003u + writer);
    t.sum = tag_sum(&t, p + sizeof t, len - sizeof t);
    memcpy(p, &t, sizeof t);
}

const char *xp_tagged_check(const void *data, uint64_t len, frame_tag *t) {
    const uint8_t *p = data;
    memset(t, 0, sizeof *t);
    if (len < sizeof *t) {
        for (size_t i = 0; i < len; i++) {
            if (p[i] != short_byte(len, i)) {
                return "short frame does not match its length";
            }
        }
        return NULL;
    }
    memcpy(t, p, sizeof *t);
    if (t->len != len) {
        return "tag length differs from frame length";
    }
    if (t->kind != TAG_DATA && t->kind != TAG_END) {
        return "bad kind";
    }
    if (tag_sum(t, p + sizeof *t, (size_t)len - sizeof *t) != t->sum) {
        return "checksum mismatch (torn frame)";
    }
    return NULL;
}
