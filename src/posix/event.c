/*
 * Event handles on Linux. A handle's event is three descriptors: a
 * non-blocking datagram socket bound to "mmpool-ev-KEY" in the abstract
 * namespace, through which any process can signal it knowing only the key;
 * an eventfd, which processes of the same user signal directly once the
 * event has handed it to them (event_line.c); and an epoll set of the two,
 * which is the descriptor the user polls. An abstract name is no file and
 * the kernel drops it with the last descriptor, so a killed process leaves
 * nothing behind: a later signal to its name fails at once (ECONNREFUSED)
 * and is ignored. Sections: opening and closing, signaling, clearing,
 * waiting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

/* Bind attempts under fresh keys before giving up: a key already in use
 * means another event (or a squatter that guessed it) has it. */
#define MMP__EVENT_BIND_TRIES 8
/* Datagrams drained per clear: a queue fuller than this (only a flood from
 * another process can make one) stays readable, a spurious readiness. */
#define MMP__EVENT_DRAIN_MAX 256

/* ---- opening and closing ---- */

/* A random non-zero key; the kernel's generator, or, where it cannot give
 * one at once, a clock-and-address mix (a collision is still caught by
 * bind). */
uint64_t mmp__event_new_key(void) {
    uint64_t k = 0;
    if (getrandom(&k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
        static _Atomic uint64_t counter;
        k = mmp__monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&k ^
            (atomic_fetch_add(&counter, 1) * UINT64_C(0x9e3779b97f4a7c15));
    }
    return k != 0 ? k : 1;
}

/* Binds fd to a fresh "PREFIX-KEY" name; 0 and *key, or MMPOOL_ESYS. */
int mmp__event_bind(int fd, const char *prefix, uint64_t *key) {
    for (int i = 0; i < MMP__EVENT_BIND_TRIES; i++) {
        uint64_t k = mmp__event_new_key();
        struct sockaddr_un a;
        socklen_t len = mmp__event_name(&a, prefix, k);
        if (bind(fd, (struct sockaddr *)&a, len) == 0) {
            *key = k;
            return 0;
        }
        if (errno != EADDRINUSE) {
            break;
        }
    }
    return MMPOOL_ESYS;
}

/* The socket, the eventfd and the epoll set over both, or MMPOOL_ESYS
 * with none of them left open. */
static int make_event(mmp__file *f, uint64_t *key) {
    int sock = mmp__event_socket(), line = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC),
        set = epoll_create1(EPOLL_CLOEXEC);
    /* SO_PASSCRED: every datagram comes with its sender's pid and uid, by
     * which a request for the eventfd is judged (event_line.c). */
    int one = 1;
    bool ok = sock >= 0 && line >= 0 && set >= 0 &&
              setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0 &&
              mmp__event_bind(sock, "mmpool-ev", key) == 0;
    struct epoll_event ev = {.events = EPOLLIN};
    ok = ok && epoll_ctl(set, EPOLL_CTL_ADD, sock, &ev) == 0 &&
         epoll_ctl(set, EPOLL_CTL_ADD, line, &ev) == 0;
    if (!ok) {
        int fds[] = {sock, line, set};
        for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
            if (fds[i] >= 0) {
                close(fds[i]);
            }
        }
        return MMPOOL_ESYS;
    }
    f->event_sock = sock;
    f->event_line = line;
    f->event_key = *key;
    /* Published last: event_sock, event_line and event_key are read by
     * whoever has seen event_fd (seq_cst). */
    atomic_store(&f->event_fd, set);
    return 0;
}

int mmp__event_open(mmp__file *f, uint64_t *key) {
    if (atomic_load(&f->event_fd) >= 0) {
        *key = f->event_key;
        return 0;
    }
    /* Under the files lock, like every descriptor a pool owns, so that a
     * fork() in another thread sees it recorded (fork.c closes it). */
    if (mmp__files_lock() != 0) {
        return MMPOOL_ESYS;
    }
    int rc = make_event(f, key);
    mmp__files_unlock();
    return rc;
}

static void close_fd(int *fd) {
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void mmp__event_close(mmp__file *f) {
    int fd = atomic_exchange(&f->event_fd, -1);
    if (fd >= 0) {
        close(fd);
    }
    fd = atomic_exchange(&f->send_fd, -1);
    if (fd >= 0) {
        close(fd);
    }
    close_fd(&f->event_sock);
    close_fd(&f->event_line);
    mmp__event_lines_close(f);
}

intptr_t mmp__event_handle(mmp__file *f) {
    return atomic_load(&f->event_fd);
}

/* ---- signaling ---- */

/* Sends len bytes of msg to "mmpool-ev-key". False only when the sender
 * itself had no room (EAGAIN, ENOBUFS); ECONNREFUSED and ENOENT (nobody
 * has the name: its process is gone) leave nothing to do. */
static bool send_to(int fd, uint64_t key, const void *msg, size_t len) {
    struct sockaddr_un a;
    socklen_t alen = mmp__event_name(&a, "mmpool-ev", key);
    if (sendto(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, alen) ==
        (ssize_t)len) {
        return true;
    }
    return errno != EAGAIN && errno != ENOBUFS;
}

/* The sender f owns, made on first use; -1 if none can be made. */
static int sender(mmp__file *f) {
    int fd = atomic_load(&f->send_fd);
    if (fd >= 0) {
        return fd;
    }
    /* Two threads may race here (mmpool_interrupt wakes through the
     * handle's file): the loser closes its socket. */
    if (mmp__files_lock() != 0) {
        return -1;
    }
    int mine = mmp__event_socket();
    int none = -1;
    if (mine >= 0 && !atomic_compare_exchange_strong(&f->send_fd, &none, mine)) {
        close(mine);
    }
    mmp__files_unlock();
    return atomic_load(&f->send_fd);
}

void mmp__event_signal(mmp__file *f, uint32_t index, uint64_t key, bool direct) {
    mmp__event_message req = {0};
    size_t len = 1; /* a bare signal: one byte */
    if (direct) {
        if (mmp__event_line_signal(f, index, key)) {
            return;
        }
        /* No line yet: the signal asks for one (the event answers when
         * it next clears), unless it was asked often enough in vain. */
        if (mmp__event_line_request(f, index, key, &req)) {
            len = sizeof req;
        }
    }
    int fd = sender(f);
    if (fd < 0) {
        return; /* no socket now: the waiter's next look finds the frame */
    }
    /* A datagram's memory is charged to its sender until it is read: a
     * process with write access to the pool could name sockets of its own
     * that never read, until our sender has no room left and every signal
     * fails. Then this one goes from a fresh socket (closed at once, so a
     * shared descriptor is never swapped under another thread). */
    if (!send_to(fd, key, &req, len)) {
        int once = mmp__event_socket();
        if (once >= 0) {
            (void)send_to(once, key, &req, len);
            close(once);
        }
    }
}

void mmp__event_signal_self(mmp__file *f) {
    if (atomic_load(&f->event_fd) >= 0) {
        /* event_line was set before event_fd was published (seq_cst). A
         * full counter (EAGAIN) means we are signaled already. */
        const uint64_t one = 1;
        (void)!write(f->event_line, &one, sizeof one);
    }
}

/* ---- clearing ---- */

void mmp__event_clear(mmp__file *f) {
    if (atomic_load(&f->event_fd) < 0) {
        return;
    }
    for (int i = 0; i < MMP__EVENT_DRAIN_MAX; i++) {
        if (!mmp__event_line_answer(f)) {
            break; /* empty */
        }
    }
    uint64_t count;
    (void)!read(f->event_line, &count, sizeof count);
}

/* ---- waiting ---- */

int mmp__event_wait(mmp__file *const files[], size_t count, int timeout_ms) {
    struct pollfd pf[64];
    if (count == 0 || count > sizeof pf / sizeof pf[0]) {
        return MMPOOL_ESYS;
    }
    for (size_t i = 0; i < count; i++) {
        pf[i].fd = atomic_load(&files[i]->event_fd);
        pf[i].events = POLLIN;
        pf[i].revents = 0;
    }
    int n = poll(pf, (nfds_t)count, timeout_ms);
    if (n > 0 || (n < 0 && errno == EINTR)) {
        return 0; /* a signal, or a spurious return: the caller looks */
    }
    return n == 0 ? MMPOOL_ETIMEDOUT : MMPOOL_ESYS;
}
