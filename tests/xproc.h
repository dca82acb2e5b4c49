/*
 * Shared by the cross-process tests (test_xproc.c), their child roles
 * (xproc_roles.c) and the helpers both use (xproc_util.c): the fixture,
 * pipes to and from children, and frames whose contents a reader can check.
 *
 * ASSERT_RC, XP_SPAWN and the fixture functions report through cmocka, so
 * they are for the parent; include <cmocka.h> before using them.
 */
#ifndef MMPOOL_TEST_XPROC_H
#define MMPOOL_TEST_XPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#ifndef _WIN32
#include <sys/types.h>
#endif

#include "mmpool.h"
#include "support.h"

#define MS_NS UINT64_C(1000000)

enum {
    REAP_MS = 30000,  /* a child still running after this is killed: fail */
    READY_MS = 10000, /* longest wait for a child's report */
    BLOCK_MS = 5000,  /* timeout of waits that another party will end */
    KEYED_CAP = 256,  /* capacity of pools holding keyed frames */
    XP_PIDS = 16,
    XP_FDS = 16,
    XP_POOLS = 4
};

/* Geometry shared by a test and its child roles. */
enum { RACE_PROCS = 8, RACE_ROUNDS = 20, RACE_CAP = 1024 };
#define RACE_FORMAT "race"
enum { FILL_PROCS = 8, FILL_FRAMES = 16, FILL_ROUNDS = 40 };

/* ---- fixture ---- */

/* What a test owns; teardown releases whatever the test did not. */
typedef struct xp {
    char path[256];
    char round_path[300]; /* a second pool path, for tests that need one */
    mmpt_proc pids[XP_PIDS];
    int fds[XP_FDS];
    mmpool *pools[XP_POOLS];
} xp;

#define ASSERT_RC(expr, want)                                                                      \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fail_msg("%s = %s, want %s", #expr, mmpool_err_name(rc_), mmpool_err_name(want));      \
        }                                                                                          \
    } while (0)

/* Formats v into the array buf, for a child's argument list. */
#define NUM(buf, v) xp_num((buf), sizeof(buf), (long long)(v))
/* Starts child role ROLE with its arguments and has the fixture track it. */
#define XP_SPAWN(st, ...) xp_track_pid((st), mmpt_spawn(__VA_ARGS__, (const char *)NULL))

/* cmocka setup: a fresh fixture with a unique pool path, nothing created;
 * -1 if out of memory. */
int xp_setup(void **state);

/* cmocka teardown: closes the fixture's handles, unlinks its pools, closes
 * its pipes, then reaps its children; always returns 0. */
int xp_teardown(void **state);

/* Writes v in decimal into buf (cap bytes) and returns buf. */
const char *xp_num(char *buf, size_t cap, long long v);

/* Records pid in the fixture, so teardown reaps it; returns pid. */
mmpt_proc xp_track_pid(xp *st, mmpt_proc pid);

/* Reaps pid (at most REAP_MS) and forgets it; returns what mmpt_reap does. */
int xp_reap(xp *st, mmpt_proc pid);

/* ---- pipes and sleeping ---- */

/* Sleeps ms milliseconds, through signals. */
void xp_sleep_ms(int ms);

/* Reads exactly n bytes within timeout_ms. false on timeout, or on EOF: the
 * writing child is gone. */
bool xp_read_full(int fd, void *buf, size_t n, int timeout_ms);

/* Writes all n bytes; false on an error other than EINTR. */
bool xp_write_full(int fd, const void *buf, size_t n);

/* In a child: waits until the parent closes (or writes to) the other end of
 * fd, which is how it starts several children at once. */
bool xp_await_go(int fd, int timeout_ms);

/* A pipe for talking to children: fds[child_end] (0 read, 1 write) is
 * inherited across exec, the other end is not. The parent closes its copy
 * of the child end once the children are started. Both ends belong to the
 * fixture until xp_close. */
void xp_pipe(xp *st, int fds[2], int child_end);

/* Closes *fd, takes it from the fixture and sets *fd to -1. */
void xp_close(xp *st, int *fd);

/* ---- pools ---- */

/* Opens path with o; the handle belongs to the fixture until
 * xp_close_pool. Fails the test on error. */
mmpool *xp_open_opts(xp *st, const char *path, const mmpool_options *o);

/* Adopts the existing pool at path. */
mmpool *xp_open(xp *st, const char *path, uint32_t read_mode);

/* Creates the test's pool; EXCL, so a leftover would show. */
mmpool *xp_create(xp *st, uint64_t cap, uint32_t count, uint32_t read_mode);

/* Closes p and takes it from the fixture. */
void xp_close_pool(xp *st, mmpool *p);

/* Entries in path's directory whose name starts with path's last part. */
int xp_count_entries(const char *path);

/* Asserts that a call started at t0 timed out after ms, and not very late. */
void xp_assert_timed_out_after(uint64_t t0, int ms);

/* ---- frames ---- */

/* splitmix64: the next of a stream of pseudo-random words seeded by *s. */
uint64_t xp_next_rand(uint64_t *s);

/* Fills len bytes of buf with the pseudo-random pattern of key. */
void xp_fill_pattern(void *buf, size_t len, uint64_t key);

/* Keyed frames: frame `key` has a length and contents that follow from the
 * key, so a reader knows exactly what it must find. In a fresh pool with
 * one writer, the frame with key k is seq k. */

/* The length of keyed frame key: 40 to 239 bytes, within KEYED_CAP. */
size_t xp_keyed_len(uint64_t key);

/* Writes keyed frame key with mmpool_write; returns what that does. */
int xp_write_keyed(mmpool *p, uint64_t key, int timeout_ms);

/* Whether data (len bytes) is exactly keyed frame key. */
bool xp_keyed_ok(const void *data, uint64_t len, uint64_t key);

/* Tagged frames, for streams: a tag, then pseudo-random payload. The
 * checksum covers the tag and the payload, so a frame torn between two
 * writes, or a tag from one frame on the payload of another, shows. Frames
 * shorter than a tag hold a pattern that follows from their length. */
enum { TAG_DATA = 1, TAG_END = 2 };
#define END_WRITER 255u

typedef struct frame_tag {
    uint64_t counter; /* the writer's own count, from 1 */
    uint64_t len;     /* the whole frame, tag included */
    uint32_t writer;  /* writer id */
    uint32_t kind;    /* TAG_DATA or TAG_END */
    uint64_t sum;     /* FNV-1a of the fields above and the payload */
} frame_tag;
_Static_assert(sizeof(frame_tag) == 32, "frame_tag has no padding");

/* Builds in buf a tagged frame of len bytes (any length, 0 included). */
void xp_tagged_build(void *buf, size_t len, uint32_t writer, uint64_t counter, uint32_t kind);

/* Checks a frame made by xp_tagged_build and returns its tag in *t (kind 0
 * for a frame too short for one). NULL if intact, else what is wrong. */
const char *xp_tagged_check(const void *data, uint64_t len, frame_tag *t);

/* ---- child roles ---- */

/* The roles this binary can be re-executed as, ended by {NULL, NULL}. */
extern const mmpt_role xproc_roles[];

/* For child roles (functions of argc, argv): on failure, say what and
 * where on stderr and return code as the child's exit status. */
#define CHILD_CHECK(cond, code)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "child %s:%d: failed: %s\n", argv[0], __LINE__, #cond);                \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

/* Likewise when expr does not return the mmpool code want. */
#define CHILD_RC(expr, want, code)                                                                 \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "child %s:%d: %s = %s, want %s\n", argv[0], __LINE__, #expr,           \
                    mmpool_err_name(rc_), mmpool_err_name(want));                                  \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

#endif
