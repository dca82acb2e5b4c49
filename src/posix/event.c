/*
 * Event handles on Linux: a non-blocking datagram socket per handle, bound
 * to "mmpool-ev-KEY" in the abstract namespace. Signaling is one sendto()
 * of one byte; the socket is readable while a byte is queued. An abstract
 * name is no file (nothing is left in any directory) and the kernel drops
 * it with the last descriptor, so a killed process leaves nothing behind:
 * a later signal to its name fails at once (ECONNREFUSED), and is ignored.
 * Sections: names, opening and closing, signaling, waiting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

/* Bind attempts under fresh keys before giving up: a key already in use
 * means another event (or a squatter that guessed it) has it. */
#define MMP__EVENT_BIND_TRIES 8
/* Signals drained per clear: a queue fuller than this (only a flood from
 * another process can make one) stays readable, a spurious readiness. */
#define MMP__EVENT_DRAIN_MAX 256

/* ---- names ---- */

static socklen_t event_name(struct sockaddr_un *a, uint64_t key) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    /* sun_path[0] = 0: the abstract namespace; the name is the bytes after
     * it, without a terminator, so the length given counts exactly them. */
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "mmpool-ev-%016llx",
                     (unsigned long long)key);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* A random non-zero key; the kernel's generator, or, where it cannot give
 * one at once, a clock-and-address mix (a collision is still caught by
 * bind). */
static uint64_t new_key(void) {
    uint64_t k = 0;
    if (getrandom(&k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
        static _Atomic uint64_t counter;
        k = mmp__monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&k ^
            (atomic_fetch_add(&counter, 1) * UINT64_C(0x9e3779b97f4a7c15));
    }
    return k != 0 ? k : 1;
}

static int dgram_socket(void) {
    return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* ---- opening and closing ---- */

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
    int rc = MMPOOL_ESYS;
    int fd = dgram_socket();
    for (int i = 0; fd >= 0 && i < MMP__EVENT_BIND_TRIES; i++) {
        uint64_t k = new_key();
        struct sockaddr_un a;
        socklen_t len = event_name(&a, k);
        if (bind(fd, (struct sockaddr *)&a, len) == 0) {
            f->event_key = k;
            atomic_store(&f->event_fd, fd);
            *key = k;
            rc = 0;
            break;
        }
        if (errno != EADDRINUSE) {
            break;
        }
    }
    if (rc != 0 && fd >= 0) {
        close(fd);
    }
    mmp__files_unlock();
    return rc;
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
}

intptr_t mmp__event_handle(mmp__file *f) {
    return atomic_load(&f->event_fd);
}

/* ---- signaling ---- */

/* False only when the sender itself had no room (EAGAIN, ENOBUFS).
 * ECONNREFUSED and ENOENT (nobody has the name: its process is gone) leave
 * nothing to do. */
static bool send_to(int fd, uint64_t key) {
    struct sockaddr_un a;
    socklen_t len = event_name(&a, key);
    const char byte = 1;
    if (sendto(fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, len) == 1) {
        return true;
    }
    return errno != EAGAIN && errno != ENOBUFS;
}

/* Sends from a socket of its own, made for this one datagram. */
static void send_once(uint64_t key) {
    int fd = dgram_socket();
    if (fd >= 0) {
        send_to(fd, key);
        close(fd);
    }
}

void mmp__event_signal(mmp__file *f, uint64_t key) {
    int fd = atomic_load(&f->send_fd);
    if (fd < 0) {
        /* Made once; two threads may race here (mmpool_interrupt wakes
         * through the handle's file): the loser closes its socket. */
        if (mmp__files_lock() != 0) {
            return;
        }
        int mine = dgram_socket();
        int none = -1;
        if (mine >= 0 && !atomic_compare_exchange_strong(&f->send_fd, &none, mine)) {
            close(mine);
        }
        mmp__files_unlock();
        fd = atomic_load(&f->send_fd);
        if (fd < 0) {
            return; /* no socket now: the waiter's next look finds the frame */
        }
    }
    /* A datagram's memory is charged to its sender until it is read: a
     * process with write access to the pool could name sockets of its own
     * that never read, until our sender has no room left and every signal
     * fails. Then this one goes from a fresh socket (closed at once, so a
     * shared descriptor is never swapped under another thread). */
    if (!send_to(fd, key)) {
        send_once(key);
    }
}

void mmp__event_signal_self(mmp__file *f) {
    int fd = atomic_load(&f->event_fd);
    if (fd >= 0) {
        /* event_key was written before event_fd was published (seq_cst).
         * Our own queue full means we are signaled already. */
        (void)send_to(fd, f->event_key);
    }
}

void mmp__event_clear(mmp__file *f) {
    int fd = atomic_load(&f->event_fd);
    char buf[16];
    for (int i = 0; fd >= 0 && i < MMP__EVENT_DRAIN_MAX; i++) {
        if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0) {
            break; /* EAGAIN: empty */
        }
    }
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
