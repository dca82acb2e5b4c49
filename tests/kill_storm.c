/*
 * The kill storm's child roles (see test_kill.c): writers and readers that
 * run until killed, check every frame, and count what they verified in the
 * counter file they share with the parent, which survives them. A child
 * that finds a broken invariant records it there and exits with a code of
 * its own.
 *
 * Sections: shared with the parent, roles.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "kill.h"

enum {
    STALL_MS = 5000,    /* a child that waits this long for a slot or frame: stall */
    WRITER_TABLE = 4096 /* readers' per-writer counters, by id modulo this */
};

/* ---- shared with the parent ---- */

#ifdef _WIN32
storm_stats *ks_stats_map(const char *path, bool create) {
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           create ? CREATE_NEW : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return NULL;
    }
    /* The mapping sizes a new file; the view keeps the file open. */
    HANDLE m = CreateFileMappingA(h, NULL, PAGE_READWRITE, 0, sizeof(storm_stats), NULL);
    CloseHandle(h);
    void *p = m == NULL ? NULL : MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, sizeof(storm_stats));
    if (m != NULL) {
        CloseHandle(m);
    }
    return p;
}

void ks_stats_unmap(storm_stats *s) {
    UnmapViewOfFile(s);
}
#else
storm_stats *ks_stats_map(const char *path, bool create) {
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) {
        return NULL;
    }
    if (create && ftruncate(fd, sizeof(storm_stats)) != 0) {
        close(fd);
        return NULL;
    }
    void *m = mmap(NULL, sizeof(storm_stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return m == MAP_FAILED ? NULL : m;
}

void ks_stats_unmap(storm_stats *s) {
    munmap(s, sizeof *s);
}
#endif

const char *ks_frame_check(const void *data, uint64_t len, frame_tag *t) {
    if (len < sizeof(frame_tag)) {
        return "frame shorter than its tag";
    }
    const char *bad = xp_tagged_check(data, len, t);
    if (bad != NULL) {
        return bad;
    }
    if (t->kind != TAG_DATA || t->writer == 0 || t->counter == 0) {
        return "not a storm writer's frame";
    }
    return NULL;
}

void ks_sleep_us(uint64_t us) {
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                          .tv_nsec = (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- roles ---- */

/* In a child: records a broken invariant (the first one's text is kept),
 * says it on stderr, and returns code for the child to exit with. */
__attribute__((format(printf, 3, 4))) static int violation(storm_stats *s, int code,
                                                           const char *fmt, ...) {
    char msg[sizeof s->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "kill storm child %ld: %s\n", mmpt_self_id(), msg);
    uint32_t none = 0;
    if (atomic_compare_exchange_strong(&s->msg_state, &none, 1)) {
        memcpy(s->msg, msg, sizeof msg);
        atomic_store_explicit(&s->msg_state, 2, memory_order_release);
    }
    atomic_fetch_add(&s->violations, 1);
    return code;
}

/* Random frame lengths: half of them up to a page, half up to the slot. */
static size_t storm_len(uint64_t r) {
    size_t span = (r & 1) != 0 ? 4096 : STORM_CAP;
    return sizeof(frame_tag) + (size_t)((r >> 1) % (span - sizeof(frame_tag) + 1));
}

/* storm_writer POOL STATS PLACE ID HOW: writes tagged frames of writer ID,
 * counters from 1, through mmpool_write (HOW copy) or a write loan held a
 * random while (HOW loan), pausing a random while between frames, until
 * killed. */
static int role_storm_writer(int argc, char **argv) {
    if (argc != 6) {
        return 40;
    }
    storm_stats *s = ks_stats_map(argv[2], false);
    if (s == NULL) {
        return 41;
    }
    int place = (int)strtol(argv[3], NULL, 10);
    uint32_t id = (uint32_t)strtoul(argv[4], NULL, 10);
    bool loan = strcmp(argv[5], "loan") == 0;
    if (place < 0 || place >= STORM_WRITERS || id == 0) {
        return violation(s, 42, "writer: bad arguments");
    }
    mmpool *p;
    int rc = mmpool_open(&p, argv[1], NULL);
    if (rc != 0) {
        return violation(s, 43, "writer %u: open: %s", id, mmpool_err_name(rc));
    }
    uint8_t *buf = malloc(STORM_CAP);
    if (buf == NULL) {
        return 44;
    }
    uint64_t rng = mmpool_now_ns() ^ ((uint64_t)mmpt_self_id() << 32);
    for (uint64_t counter = 1;; counter++) {
        uint64_t r = xp_next_rand(&rng);
        size_t len = storm_len(r);
        if (loan) {
            void *data;
            size_t cap;
            rc = mmpool_write_acquire(p, &data, &cap, STALL_MS);
            if (rc == 0) {
                xp_tagged_build(data, len, id, counter, TAG_DATA);
                if (r % 4 == 0) {
                    ks_sleep_us((r >> 20) % 3000); /* so kills land on a held loan */
                }
                rc = mmpool_write_commit(p, len);
            }
        } else {
            xp_tagged_build(buf, len, id, counter, TAG_DATA);
            rc = mmpool_write(p, buf, len, STALL_MS);
        }
        if (rc == MMPOOL_ETIMEDOUT) {
            return violation(s, 45, "writer %u: no free slot for %d ms", id, STALL_MS);
        }
        if (rc != 0) {
            return violation(s, 46, "writer %u: write: %s", id, mmpool_err_name(rc));
        }
        atomic_store_explicit(&s->committed_by[place], id, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->written, 1, memory_order_relaxed);
        ks_sleep_us((r >> 40) % 500);
    }
}

typedef struct writer_seen {
    uint32_t id;
    uint64_t counter;
} writer_seen;

/* storm_reader POOL STATS MODE HOW: MODE latest|fifo, HOW copy|loan. Reads
 * until killed, checking every frame: intact, seq rising, dropped = seq -
 * previous seq - 1, each writer's counter rising. A loan is held a random
 * while and must be unchanged when released. */
static int role_storm_reader(int argc, char **argv) {
    if (argc != 5) {
        return 50;
    }
    storm_stats *s = ks_stats_map(argv[2], false);
    if (s == NULL) {
        return 51;
    }
    mmpool_options o = {.read_mode =
                            strcmp(argv[3], "fifo") == 0 ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST};
    bool loan = strcmp(argv[4], "loan") == 0;
    const char *name = loan ? "loan" : "copy";
    mmpool *p;
    int rc = mmpool_open(&p, argv[1], &o);
    if (rc != 0) {
        return violation(s, 52, "%s/%s reader: open: %s", argv[3], name, mmpool_err_name(rc));
    }
    uint8_t *buf = malloc(STORM_CAP);
    writer_seen *seen = calloc(WRITER_TABLE, sizeof *seen);
    if (buf == NULL || seen == NULL) {
        return 53;
    }
    uint64_t rng = mmpool_now_ns() ^ ((uint64_t)mmpt_self_id() << 32);
    uint64_t prev = 0;
    for (;;) {
        mmpool_view v;
        mmpool_frame f;
        const void *data = buf;
        if (loan) {
            rc = mmpool_read_acquire(p, &v, STALL_MS);
            f = v.frame;
            data = v.data;
        } else {
            rc = mmpool_read(p, buf, STORM_CAP, &f, STALL_MS);
        }
        if (rc == MMPOOL_ETIMEDOUT) {
            return violation(s, 54, "%s/%s reader: no frame for %d ms after seq %llu", argv[3],
                             name, STALL_MS, (unsigned long long)prev);
        }
        if (rc != 0) {
            return violation(s, 55, "%s/%s reader: read: %s", argv[3], name, mmpool_err_name(rc));
        }
        if (f.seq <= prev) {
            return violation(s, 56, "%s/%s reader: seq %llu after %llu", argv[3], name,
                             (unsigned long long)f.seq, (unsigned long long)prev);
        }
        if (f.dropped != (prev == 0 ? 0 : f.seq - prev - 1)) {
            return violation(s, 57, "%s/%s reader: seq %llu after %llu reports %llu dropped",
                             argv[3], name, (unsigned long long)f.seq, (unsigned long long)prev,
                             (unsigned long long)f.dropped);
        }
        frame_tag t;
        const char *bad = ks_frame_check(data, f.len, &t);
        if (bad != NULL) {
            return violation(s, 58, "%s/%s reader: seq %llu len %llu: %s", argv[3], name,
                             (unsigned long long)f.seq, (unsigned long long)f.len, bad);
        }
        /* A replacement writer gets a new id, so one id's counters only
         * rise. Ids a table size apart are thousands of kills apart. */
        writer_seen *w = &seen[t.writer % WRITER_TABLE];
        if (w->id != t.writer) {
            w->id = t.writer;
            w->counter = 0;
        }
        if (t.counter <= w->counter) {
            return violation(s, 59, "%s/%s reader: seq %llu: writer %u counter %llu after %llu",
                             argv[3], name, (unsigned long long)f.seq, t.writer,
                             (unsigned long long)t.counter, (unsigned long long)w->counter);
        }
        w->counter = t.counter;
        if (loan) {
            uint64_t r = xp_next_rand(&rng);
            ks_sleep_us(r % 3000); /* so kills land on a held loan */
            if (ks_frame_check(data, f.len, &t) != NULL) {
                return violation(s, 60, "%s/%s reader: seq %llu changed while loaned", argv[3],
                                 name, (unsigned long long)f.seq);
            }
            rc = mmpool_read_release(p, &v);
            if (rc != 0) {
                return violation(s, 61, "%s/%s reader: release: %s", argv[3], name,
                                 mmpool_err_name(rc));
            }
        }
        prev = f.seq;
        atomic_fetch_add_explicit(&s->verified, 1, memory_order_relaxed);
    }
}

const mmpt_role ks_roles[] = {
    {"storm_writer", role_storm_writer}, {"storm_reader", role_storm_reader}, {NULL, NULL}};
