/* What the POSIX backend's files share: the open-file record, the list of
 * open files that fork.c closes in a child, and the helpers of path.c and
 * file.c that other files call. */
#ifndef MMP_POSIX_H
#define MMP_POSIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "../platform.h"

/* A committer's direct line to the event of one entry (event_line.c). */
typedef struct mmp__event_line {
    uint64_t key; /* the event's key when the line was asked for; 0: none */
    int fd;       /* its eventfd, -1 until the event answered */
    uint8_t asks; /* requests sent for this key */
} mmp__event_line;

/* The payload of a request (magic MMP__EVENT_ASK, key: the asker's
 * mailbox) and of an answer (MMP__EVENT_GIVE, key: the event's own, with
 * its eventfd attached). A bare signal is one byte. */
typedef struct mmp__event_message {
    uint64_t magic;
    uint64_t key;
} mmp__event_message;
#define MMP__EVENT_ASK UINT64_C(0x6b7361706f6f6d6d)  /* "mmoopask" */
#define MMP__EVENT_GIVE UINT64_C(0x657669676f6f6d6d) /* "mmoogive" */

struct mmp__file {
    int fd;               /* -1 once closed in a forked child */
    char *path;           /* absolute path it was opened or named at;
                             NULL while unnamed */
    bool inherited;       /* this process got the record through fork() */
    _Atomic int event_fd; /* the handle's event: the epoll set over
                             event_sock and event_line, -1 if none
                             (event.c); atomic: mmpool_interrupt reads it
                             from another thread */
    uint64_t event_key;   /* its key, once event_fd is set */
    int event_sock;       /* its socket, named by event_key */
    int event_line;       /* its eventfd */
    _Atomic int send_fd;  /* socket that signals other events, -1 until
                             first used */
    int mailbox_fd;       /* where answers to our requests come, -1
                             until first asked (event_line.c) */
    uint64_t mailbox_key; /* its name's key */
    bool replies_due;     /* a request went out since the mailbox was
                             last emptied */
    mmp__event_line lines[MMP__EVENT_LINES];
    struct mmp__file *prev; /* the list of open files (fork.c) */
    struct mmp__file *next;
};

/*
 * The list of open files and its lock. Whatever creates or destroys a pool
 * descriptor or mapping does so while holding the lock, so that a fork() in
 * another thread sees either none of it or all of it, recorded.
 * mmp__files_lock installs the fork handler on first use; MMPOOL_ESYS if
 * that is impossible (then nothing is locked).
 */
int mmp__files_lock(void);
void mmp__files_unlock(void);
/* Closes f's event, sender, mailbox and lines, if any (event.c); with the
 * lock held. Only close(): fork.c calls it in a child. */
void mmp__event_close(mmp__file *f);

/* Event names and sockets (event_line.c, event.c). mmp__event_name writes
 * the abstract name "PREFIX-KEY" into a and returns its length;
 * mmp__event_socket makes a non-blocking close-on-exec datagram socket
 * (-1 on failure); mmp__event_bind binds fd to "PREFIX-KEY" under a fresh
 * random key, 0 and *key or MMPOOL_ESYS. */
socklen_t mmp__event_name(struct sockaddr_un *a, const char *prefix, uint64_t key);
int mmp__event_socket(void);
int mmp__event_bind(int fd, const char *prefix, uint64_t *key);
/* Direct lines, used by the thread that owns f only (event_line.c).
 * mmp__event_line_signal signals the event of entry index through its
 * line if f has one for key: true if it did. Otherwise
 * mmp__event_line_request fills *req with a request for one, to be sent
 * with the signal by name: false once enough requests went unanswered.
 * mmp__event_line_answer takes one message off f's own event socket and
 * answers it if it is a request from our user: false once the socket is
 * empty. mmp__event_lines_close closes the lines and the mailbox. */
bool mmp__event_line_signal(mmp__file *f, uint32_t index, uint64_t key);
bool mmp__event_line_request(mmp__file *f, uint32_t index, uint64_t key, mmp__event_message *req);
bool mmp__event_line_answer(mmp__file *f);
void mmp__event_lines_close(mmp__file *f);
/* Add f to, or remove it from, the list; with the lock held. */
void mmp__files_add(mmp__file *f);
void mmp__files_remove(mmp__file *f);

/* Translates errno after a failed file operation into MMPOOL_E* (path.c). */
int mmp__from_errno(int err);
/* The directory part of path into dir (cap bytes): "." if it has none. */
int mmp__dir_of(char *dir, size_t cap, const char *path);
/* A malloc'd copy of path made absolute against the working directory, so
 * that the file's name can be looked at again after a chdir(); NULL on
 * failure. */
char *mmp__absolute_copy(const char *path);

/*
 * open(2) of path with flags and mode into a new record (file.c). Opening
 * and recording the descriptor happen as one step under the list's lock: a
 * fork() in another thread must not copy a pool descriptor that the child
 * handler does not know about.
 */
int mmp__open_tracked(mmp__file **out, const char *path, int flags, mode_t mode);

#endif /* MMP_POSIX_H */
