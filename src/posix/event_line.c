/*
 * Direct lines to events (Linux). A datagram to an event's socket wakes
 * its poller only after the sender has gone back to sleep (sockets wake
 * "sync"), which costs a waiting reader tens of microseconds; a write to an
 * eventfd wakes it at once. So a committer that signals an event by name
 * also asks for its eventfd: the signal carries the name of a mailbox
 * socket of the committer's. The event, when it next clears, answers with
 * the eventfd (SCM_RIGHTS); from then on the committer writes to it. Both
 * sides judge the other by the credentials the kernel attaches
 * (SO_PASSCRED): a line is given to, and taken from, processes of our own
 * user only, so a process of another user can neither drain an event's
 * eventfd nor hand a committer a false one. docs/design.md "Event handles"
 * has the failure modes. Sections: names, mailbox, asking, answering.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mmpool.h"
#include "posix.h"

/* Requests of one line before giving up on it: an event that does not
 * answer (another user's, or one whose answers find no room) is then
 * signaled by name only, one system call per signal. */
#define MMP__EVENT_ASKS 3
/* Answers collected per look at the mailbox. */
#define MMP__EVENT_COLLECT_MAX 64

/* ---- names ---- */

socklen_t mmp__event_name(struct sockaddr_un *a, const char *prefix, uint64_t key) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    /* sun_path[0] = 0: the abstract namespace; the name is the bytes after
     * it, without a terminator, so the length given counts exactly them. */
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s-%016llx", prefix,
                     (unsigned long long)key);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int mmp__event_socket(void) {
    return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* True if the sender's credentials are our own user's, and we run as
 * that user (a set-user-ID process neither gives nor takes lines). */
static bool own_user(const struct ucred *cred) {
    return cred != NULL && cred->uid == getuid() && cred->uid == geteuid();
}

/* The control part of a received message: up to 4 descriptors (any more
 * are cut, MSG_CTRUNC) and the sender's credentials. */
typedef union {
    char buf[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
} control;

/* Receives one message into payload (its size in *len), the descriptors
 * it carried into fds (their count in *nfds, all close-on-exec) and its
 * sender's credentials into *cred (NULL if none came). -1 with errno if
 * nothing was received. */
static ssize_t receive(int fd, mmp__event_message *payload, int fds[4], int *nfds,
                       struct ucred *cred_buf, struct ucred **cred) {
    control c;
    struct iovec iov = {.iov_base = payload, .iov_len = sizeof *payload};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    *nfds = 0;
    *cred = NULL;
    ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
        return -1;
    }
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h)) {
        if (h->cmsg_level != SOL_SOCKET) {
            continue;
        }
        if (h->cmsg_type == SCM_RIGHTS) {
            size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k && *nfds < 4; i++) {
                memcpy(&fds[(*nfds)++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
            }
        } else if (h->cmsg_type == SCM_CREDENTIALS &&
                   h->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            memcpy(cred_buf, CMSG_DATA(h), sizeof *cred_buf);
            *cred = cred_buf;
        }
    }
    /* A message cut short is no message of ours. */
    return (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ? 0 : n;
}

static void close_all(const int *fds, int n) {
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

/* ---- mailbox ---- */

/* The committer's mailbox, bound to "mmpool-mb-KEY" with SO_PASSCRED;
 * made on first use under the files lock (fork.c closes it). */
static int mailbox(mmp__file *f) {
    if (f->mailbox_fd >= 0) {
        return 0;
    }
    if (mmp__files_lock() != 0) {
        return MMPOOL_ESYS;
    }
    int fd = mmp__event_socket(), one = 1, rc = MMPOOL_ESYS;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0 &&
        mmp__event_bind(fd, "mmpool-mb", &f->mailbox_key) == 0) {
        f->mailbox_fd = fd;
        rc = 0;
    } else if (fd >= 0) {
        close(fd);
    }
    mmp__files_unlock();
    return rc;
}

/* Takes the answers waiting in the mailbox: an eventfd from our own user,
 * for a line we asked for and have not got, is kept; anything else is
 * closed. Under the files lock, so that a fork() meanwhile never copies a
 * received descriptor that fork.c does not know of. */
static void collect(mmp__file *f) {
    if (mmp__files_lock() != 0) {
        return;
    }
    for (int i = 0; i < MMP__EVENT_COLLECT_MAX; i++) {
        mmp__event_message msg;
        int fds[4], nfds;
        struct ucred cred_buf, *cred;
        ssize_t n = receive(f->mailbox_fd, &msg, fds, &nfds, &cred_buf, &cred);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            f->replies_due = false; /* EAGAIN: all taken */
            break;
        }
        bool taken = false;
        if (n == (ssize_t)sizeof msg && msg.magic == MMP__EVENT_GIVE && nfds == 1 &&
            own_user(cred)) {
            for (uint32_t j = 0; j < MMP__EVENT_LINES; j++) {
                if (f->lines[j].key == msg.key && f->lines[j].fd < 0) {
                    f->lines[j].fd = fds[0];
                    taken = true;
                    break;
                }
            }
        }
        close_all(fds + (taken ? 1 : 0), nfds - (taken ? 1 : 0));
    }
    mmp__files_unlock();
}

/* ---- asking ---- */

bool mmp__event_line_signal(mmp__file *f, uint32_t index, uint64_t key) {
    if (index >= MMP__EVENT_LINES) {
        return false;
    }
    mmp__event_line *l = &f->lines[index];
    if (l->key != key) {
        /* Another handle in that entry now (or none): forget the old line. */
        if (l->fd >= 0) {
            close(l->fd);
        }
        *l = (mmp__event_line){.key = key, .fd = -1, .asks = 0};
    }
    if (l->fd < 0 && f->replies_due) {
        collect(f);
    }
    if (l->fd < 0) {
        return false;
    }
    const uint64_t one = 1;
    /* EAGAIN: the counter is full, the event is signaled already. */
    if (write(l->fd, &one, sizeof one) == (ssize_t)sizeof one || errno == EAGAIN) {
        return true;
    }
    close(l->fd);
    l->fd = -1;
    return false;
}

bool mmp__event_line_request(mmp__file *f, uint32_t index, uint64_t key, mmp__event_message *req) {
    if (index >= MMP__EVENT_LINES || f->lines[index].key != key ||
        f->lines[index].asks >= MMP__EVENT_ASKS || mailbox(f) != 0) {
        return false;
    }
    f->lines[index].asks++;
    f->replies_due = true;
    *req = (mmp__event_message){.magic = MMP__EVENT_ASK, .key = f->mailbox_key};
    return true;
}

void mmp__event_lines_close(mmp__file *f) {
    for (uint32_t j = 0; j < MMP__EVENT_LINES; j++) {
        if (f->lines[j].fd >= 0) {
            close(f->lines[j].fd);
        }
        f->lines[j] = (mmp__event_line){.key = 0, .fd = -1, .asks = 0};
    }
    if (f->mailbox_fd >= 0) {
        close(f->mailbox_fd);
        f->mailbox_fd = -1;
    }
    f->replies_due = false;
}

/* ---- answering ---- */

/* Sends our eventfd to the mailbox named key, with our event's key. An
 * answer that finds no room is dropped; the committer asks again. */
static void give(mmp__file *f, uint64_t mailbox_key) {
    struct sockaddr_un a;
    socklen_t alen = mmp__event_name(&a, "mmpool-mb", mailbox_key);
    mmp__event_message msg = {.magic = MMP__EVENT_GIVE, .key = f->event_key};
    control c;
    memset(&c, 0, sizeof c);
    struct iovec iov = {.iov_base = &msg, .iov_len = sizeof msg};
    struct msghdr m = {.msg_name = &a,
                       .msg_namelen = alen,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = c.buf,
                       .msg_controllen = CMSG_SPACE(sizeof(int))};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &f->event_line, sizeof(int));
    (void)sendmsg(f->event_sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

bool mmp__event_line_answer(mmp__file *f) {
    mmp__event_message msg;
    int fds[4], nfds;
    struct ucred cred_buf, *cred;
    ssize_t n = receive(f->event_sock, &msg, fds, &nfds, &cred_buf, &cred);
    if (n < 0) {
        return errno == EINTR; /* EAGAIN: drained */
    }
    /* Nobody sends descriptors to an event: whatever came is closed. */
    close_all(fds, nfds);
    if (n == (ssize_t)sizeof msg && msg.magic == MMP__EVENT_ASK && own_user(cred)) {
        give(f, msg.key);
    }
    return true;
}
