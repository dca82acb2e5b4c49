/*
 * Direct lines to event handles (Linux): a committer that signals an event
 * by name asks for its eventfd, and the event hands it over when it next
 * clears, to processes of its own user only; a committer takes a line
 * from its own user only. Each refusal is checked next to the same
 * exchange between processes of one user, which must succeed, so a test
 * cannot pass because nothing was exchanged at all. The wire format
 * (docs/design.md "Event handles"): a request is 16 bytes, magic "mmoopask"
 * then the asker's mailbox key; an answer is magic "mmoogive" then the
 * event's key, with the eventfd attached. POSIX only (test_fork's rule).
 * Sections: helpers, lines, other users, main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abstract_names.h"
#include "mmpool.h"
#include "support.h"

enum { GIVE_UP_MS = 5000, ANSWER_MS = 1000, OTHER_UID = 64125, OTHER_GID = 64125 };

#define ASK_MAGIC UINT64_C(0x6b7361706f6f6d6d)  /* "mmoopask" */
#define GIVE_MAGIC UINT64_C(0x657669676f6f6d6d) /* "mmoogive" */

/* ---- helpers ---- */

static int setup(void **state) {
    char *path = malloc(256);
    if (path == NULL) {
        return -1;
    }
    mmpt_path(path, 256, "lines");
    *state = path;
    return 0;
}

static int teardown(void **state) {
    mmpool_unlink(*state);
    free(*state);
    return 0;
}

static mmpool *create(const char *path) {
    mmpool_options o = {.slot_capacity = 64,
                        .slot_count = 4,
                        .flags = MMPOOL_CREATE,
                        .read_mode = MMPOOL_READ_FIFO,
                        .mode = 0666};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

static bool ready_within(intptr_t h, int ms) {
    struct pollfd pf = {.fd = (int)h, .events = POLLIN, .revents = 0};
    return poll(&pf, 1, ms) == 1 && (pf.revents & POLLIN) != 0;
}

/* Eventfds this process holds. */
static int eventfds(void) {
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        char link[300], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            n += strcmp(target, "anon_inode:[eventfd]") == 0;
        }
    }
    closedir(d);
    return n;
}

/* The key in an abstract name "mmpool-xx-KEY" (16 hex digits, no
 * terminator). */
static uint64_t name_key(const struct sockaddr_un *a) {
    char hex[17];
    memcpy(hex, a->sun_path + 1 + strlen("mmpool-xx-"), 16);
    hex[16] = '\0';
    return strtoull(hex, NULL, 16);
}

/* In a forked child: become uid (and gid) unless uid is our own. */
static bool become(uid_t uid, gid_t gid) {
    if (uid == getuid()) {
        return true;
    }
    return setgroups(0, NULL) == 0 && setgid(gid) == 0 && setuid(uid) == 0;
}

/* Reaps pid and returns its exit status (-1 if it did not exit). */
static int reap(pid_t pid) {
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* One message with a descriptor attached, or none if fd < 0. */
static bool send_with_fd(int sock, const struct sockaddr_un *to, socklen_t to_len, uint64_t magic,
                         uint64_t key, int fd) {
    uint64_t msg[2] = {magic, key};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    memset(&c, 0, sizeof c);
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof msg};
    struct msghdr m = {.msg_name = (void *)to,
                       .msg_namelen = to_len,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = fd >= 0 ? c.buf : NULL,
                       .msg_controllen = fd >= 0 ? sizeof c.buf : 0};
    if (fd >= 0) {
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof fd);
    }
    return sendmsg(sock, &m, 0) == (ssize_t)sizeof msg;
}

/* ---- lines ---- */

/* The first frame's signal asks; the reader's next clear answers; the
 * writer's next commit takes the eventfd and signals through it, and
 * every later frame still makes the reader ready. */
static void test_a_writer_gets_a_direct_line_after_the_first_frame(void **state) {
    mmpool *r = create(*state);
    mmpool *w = create(*state);
    intptr_t h;
    char buf[64];
    assert_int_equal(mmpool_event_handle(r, &h), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    int before = eventfds();
    assert_int_equal(mmpool_try_write(w, "1", 1), MMPOOL_OK);
    assert_true(ready_within(h, GIVE_UP_MS));
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN); /* answers */
    assert_int_equal(eventfds(), before);
    for (int i = 2; i <= 100; i++) {
        assert_false(ready_within(h, 0));
        assert_int_equal(mmpool_try_write(w, "n", 1), MMPOOL_OK);
        assert_int_equal(eventfds(), before + 1); /* the writer holds the line */
        assert_true(ready_within(h, GIVE_UP_MS));
        mmpool_frame info;
        assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &info), MMPOOL_OK);
        assert_int_equal(info.seq, (uint64_t)i);
        assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    }
    mmpool_close(w);
    assert_int_equal(eventfds(), before);
    mmpool_close(r);
}

/* A reader that closes and a new one in its entry: the writer's line to
 * the old event is dropped, and the new one is signaled by name until it
 * answers. */
static void test_a_line_follows_the_entry_to_its_next_handle(void **state) {
    mmpool *w = create(*state);
    char buf[64];
    int base = eventfds();
    for (int round = 0; round < 3; round++) {
        mmpool *r = create(*state);
        intptr_t h;
        assert_int_equal(mmpool_event_handle(r, &h), MMPOOL_OK);
        while (mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK) {
        }
        for (int i = 0; i < 3; i++) {
            assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_OK);
            /* A line kept to the closed reader's eventfd would wake
             * nobody here. */
            assert_true(ready_within(h, GIVE_UP_MS));
            while (mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK) {
            }
        }
        /* The reader's eventfd and the writer's line to it; none left
         * over from earlier rounds. */
        assert_int_equal(eventfds(), base + 2);
        mmpool_close(r);
    }
    mmpool_close(w);
}

/* ---- other users ---- */

/* As uid, in a forked child: binds a mailbox with SO_PASSCRED and asks
 * the event at ev for its line. Exits 1 if an answer with a descriptor
 * came within ANSWER_MS, 0 if none, 2 on failure. go is written once the
 * request is sent. */
static void ask_for_line(uid_t uid, const struct sockaddr_un *ev, socklen_t ev_len, int go) {
    int one = 1;
    int mb = become(uid, OTHER_GID) ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    uint64_t key = ((uint64_t)getpid() << 20) ^ (uint64_t)mmpool_now_ns();
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "mmpool-mb-%016llx",
                     (unsigned long long)key);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (mb < 0 || setsockopt(mb, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0 ||
        bind(mb, (struct sockaddr *)&a, len) != 0 ||
        !send_with_fd(mb, ev, ev_len, ASK_MAGIC, key, -1) || write(go, "g", 1) != 1) {
        _exit(2);
    }
    struct pollfd pf = {.fd = mb, .events = POLLIN, .revents = 0};
    if (poll(&pf, 1, ANSWER_MS) != 1) {
        _exit(0);
    }
    uint64_t msg[2];
    union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } c;
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof msg};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    bool line = recvmsg(mb, &m, MSG_DONTWAIT) == (ssize_t)sizeof msg && msg[0] == GIVE_MAGIC;
    bool rights = false;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); line && h != NULL; h = CMSG_NXTHDR(&m, h)) {
        rights |= h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS;
    }
    _exit(line && rights ? 1 : 0);
}

/* Runs ask_for_line as uid against r's event; true if it got the line. */
static bool asker_gets_line(mmpool *r, intptr_t h, uid_t uid) {
    struct sockaddr_un ev;
    socklen_t ev_len;
    assert_true(mmpt_abstract_socket("mmpool-ev-", &ev, &ev_len) >= 0);
    int go[2];
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[0]);
        ask_for_line(uid, &ev, ev_len, go[1]);
    }
    close(go[1]);
    char g;
    assert_int_equal(read(go[0], &g, 1), 1);
    close(go[0]);
    /* The request is a signal too; the read that finds nothing clears
     * the event, which answers the request or not. */
    assert_true(ready_within(h, GIVE_UP_MS));
    char buf[64];
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    int status = reap(pid);
    assert_true(status == 0 || status == 1);
    return status == 1;
}

static void test_an_event_gives_its_line_to_its_own_user_only(void **state) {
    if (geteuid() != 0) {
        printf("skipped: becoming another user (setuid in a forked child) needs root\n");
        skip();
    }
    mmpool *r = create(*state);
    intptr_t h;
    assert_int_equal(mmpool_event_handle(r, &h), MMPOOL_OK);
    assert_false(asker_gets_line(r, h, OTHER_UID));
    assert_true(asker_gets_line(r, h, getuid()));
    mmpool_close(r);
}

/* As uid, in a forked child: offers the writer's mailbox at mb a pipe as
 * the line to the event key. Exits 1 if the writer wrote into the pipe
 * within ANSWER_MS after go2 arrives, 0 if not, 2 on failure. */
static void offer_false_line(uid_t uid, const struct sockaddr_un *mb, socklen_t mb_len,
                             uint64_t key, int go, int go2) {
    int p[2];
    int s = become(uid, OTHER_GID) ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
    if (s < 0 || pipe(p) != 0 || !send_with_fd(s, mb, mb_len, GIVE_MAGIC, key, p[1]) ||
        write(go, "g", 1) != 1) {
        _exit(2);
    }
    close(p[1]);
    char g;
    if (read(go2, &g, 1) != 1) {
        _exit(2);
    }
    struct pollfd pf = {.fd = p[0], .events = POLLIN, .revents = 0};
    char byte[8];
    _exit(poll(&pf, 1, ANSWER_MS) == 1 && read(p[0], byte, sizeof byte) == 8 ? 1 : 0);
}

/* Runs offer_false_line as uid against w's mailbox for r's event, then has
 * r answer w's request and w commit; true if w signaled through the false
 * line. *woken: whether the commit made r ready. */
static bool writer_takes_false_line(mmpool *r, intptr_t h, mmpool *w, uid_t uid, bool *woken) {
    char buf[64];
    /* w's first commit to this event asks, which makes its mailbox. */
    assert_int_equal(mmpool_try_write(w, "1", 1), MMPOOL_OK);
    assert_true(ready_within(h, GIVE_UP_MS));
    struct sockaddr_un mb, ev;
    socklen_t mb_len, ev_len;
    assert_true(mmpt_abstract_socket("mmpool-mb-", &mb, &mb_len) >= 0);
    assert_true(mmpt_abstract_socket("mmpool-ev-", &ev, &ev_len) >= 0);
    int go[2], go2[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(go2), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[0]);
        close(go2[1]);
        offer_false_line(uid, &mb, mb_len, name_key(&ev), go[1], go2[0]);
    }
    close(go[1]);
    close(go2[0]);
    char g;
    assert_int_equal(read(go[0], &g, 1), 1);
    /* The reader reads and clears, answering w with the real line, which
     * reaches the mailbox after the offer. */
    while (mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK) {
    }
    assert_false(ready_within(h, 0));
    assert_int_equal(mmpool_try_write(w, "2", 1), MMPOOL_OK);
    *woken = ready_within(h, ANSWER_MS);
    assert_int_equal(write(go2[1], "g", 1), 1);
    close(go[0]);
    close(go2[1]);
    int status = reap(pid);
    assert_true(status == 0 || status == 1);
    while (mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK) {
    }
    return status == 1;
}

static void test_a_writer_takes_a_line_from_its_own_user_only(void **state) {
    if (geteuid() != 0) {
        printf("skipped: becoming another user (setuid in a forked child) needs root\n");
        skip();
    }
    char buf[64];
    mmpool *r = create(*state);
    intptr_t h;
    assert_int_equal(mmpool_event_handle(r, &h), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, NULL), MMPOOL_EAGAIN);
    bool woken;
    mmpool *w = create(*state);
    /* Refused, the offer leaves the real line to be taken: the reader is
     * woken by the second frame. */
    assert_false(writer_takes_false_line(r, h, w, OTHER_UID, &woken));
    assert_true(woken);
    mmpool_close(w);
    /* From our own user, the same offer is taken (and the reader, whose
     * line it is not, is not woken): the exchange above did happen. */
    w = create(*state);
    assert_true(writer_takes_false_line(r, h, w, getuid(), &woken));
    assert_false(woken);
    mmpool_close(w);
    mmpool_close(r);
}

/* ---- main ---- */

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_writer_gets_a_direct_line_after_the_first_frame,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_line_follows_the_entry_to_its_next_handle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_event_gives_its_line_to_its_own_user_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_writer_takes_a_line_from_its_own_user_only, setup,
                                        teardown),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
