/*
 * The child roles of the scribbler and pin-thief tests in test_hostile.c:
 * a writer and readers that check every frame they get, a scribbler that
 * writes junk over the pool's metadata, and an unpinner that steals the
 * pins of readers. test_hostile.c starts them with mmpt_spawn, and
 * mmpt_child_main runs them from hs_roles.
 *
 * A role returns 0 when it ran to its deadline, otherwise a code of its own
 * saying what failed. What the writer and readers saw goes back to the
 * parent as a child_stats on a pipe.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#endif

#include "mmpool.h"
#include "hostile.h"

#define SCRIB_PAUSE_US 500    /* between two scribbles */
#define SCRIB_HEADER_EVERY 16 /* one header scribble per this many */
#define WRITER_FRAMES 16      /* distinct frames a writer cycles through */

/* ---- frames and time ---- */

/* Every frame starts with this tag; sum covers counter, len and the rest
 * of the frame, so a torn or mis-sized copy does not verify. */
typedef struct frame_tag {
    uint64_t counter;
    uint64_t len;
    uint64_t sum;
} frame_tag;

static uint64_t splitmix(uint64_t *s) {
    uint64_t x = (*s += UINT64_C(0x9e3779b97f4a7c15));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

#ifdef _WIN32
void *hs_map(const char *path, size_t len) {
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return NULL;
    }
    HANDLE m = CreateFileMappingA(h, NULL, PAGE_READWRITE, 0, 0, NULL);
    CloseHandle(h);
    void *p = m == NULL ? NULL : MapViewOfFile(m, FILE_MAP_WRITE, 0, 0, len);
    if (m != NULL) {
        CloseHandle(m); /* the view keeps the mapping and the file */
    }
    return p;
}

void hs_unmap(void *m, size_t len) {
    (void)len;
    UnmapViewOfFile(m);
}
#else
void *hs_map(const char *path, size_t len) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    void *m = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0) {
        close(fd); /* the mapping keeps the file */
    }
    return m == MAP_FAILED ? NULL : m;
}

void hs_unmap(void *m, size_t len) {
    munmap(m, len);
}
#endif

uint64_t hs_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_us(long us) {
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* FNV-1a over 64-bit words (then the tail bytes): eight times faster than
 * byte-wise, so readers spend their time reading, not checking. */
static uint64_t frame_sum(const frame_tag *t, const unsigned char *frame, size_t len) {
    uint64_t h = hs_fnv1a(FNV_BASIS, t, offsetof(frame_tag, sum));
    size_t i = sizeof *t;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, frame + i, sizeof w);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    return hs_fnv1a(h, frame + i, len - i);
}

static void make_frame(unsigned char *frame, size_t len, uint64_t counter) {
    frame_tag t = {.counter = counter, .len = len};
    uint64_t s = counter;
    for (size_t i = sizeof t; i < len; i += 8) {
        uint64_t r = splitmix(&s);
        memcpy(frame + i, &r, len - i < 8 ? len - i : 8);
    }
    t.sum = frame_sum(&t, frame, len);
    memcpy(frame, &t, sizeof t);
}

int hs_frame_ok(const unsigned char *frame, uint64_t len) {
    frame_tag t;
    if (len < sizeof t) {
        return 0;
    }
    memcpy(&t, frame, sizeof t);
    return t.len == len && t.sum == frame_sum(&t, frame, (size_t)len);
}

/* ---- roles ---- */

/* Sends the stats and closes the pool. */
static int child_end(mmpool *p, int stats_fd, const child_stats *st) {
    mmpool_close(p);
    return write(stats_fd, st, sizeof *st) == (ssize_t)sizeof *st ? 0 : 2;
}

/* writer PATH MS READY_FD STATS_FD SEED: writes frames of random length for
 * MS milliseconds, as fast as it can: the frames are made beforehand, so a
 * write is little more than a claim, a copy and a commit. */
static int role_writer(int argc, char **argv) {
    if (argc != 6) {
        return 10;
    }
    uint64_t seed = strtoull(argv[5], NULL, 10);
    mmpool *p = NULL;
    if (mmpool_open(&p, argv[1], NULL) != MMPOOL_OK) {
        return 11;
    }
    mmpool_stats info;
    if (mmpool_stat(p, &info) != MMPOOL_OK) {
        return 14;
    }
    size_t cap = (size_t)info.slot_capacity;
    unsigned char *frames = malloc(WRITER_FRAMES * cap);
    size_t lens[WRITER_FRAMES];
    if (frames == NULL) {
        return 12;
    }
    for (int i = 0; i < WRITER_FRAMES; i++) {
        lens[i] = sizeof(frame_tag) + splitmix(&seed) % (cap - sizeof(frame_tag) + 1);
        make_frame(frames + i * cap, lens[i], (uint64_t)i + 1);
    }
    if (write(atoi(argv[3]), "w", 1) != 1) {
        return 13;
    }
    uint64_t deadline = hs_now_ms() + strtoull(argv[2], NULL, 10);
    child_stats st = {.writer = 1};
    for (unsigned i = 0; hs_now_ms() < deadline; i = (i + 1) % WRITER_FRAMES) {
        int rc = mmpool_write(p, frames + i * cap, lens[i], SCRIB_CALL_MS);
        st.ok += rc == MMPOOL_OK;
        st.errors += rc != MMPOOL_OK;
        if (rc == MMPOOL_ESTALE) {
            sleep_us(1000); /* the scribbler retired the pool: nothing to do */
        }
    }
    free(frames);
    return child_end(p, atoi(argv[4]), &st);
}

/* One read in mode "latest", "fifo" (copies) or "loan" (LATEST, in place). */
static int read_one(mmpool *p, int loan, unsigned char *buf, child_stats *st) {
    if (!loan) {
        mmpool_frame info;
        int rc = mmpool_read(p, buf, SCRIB_CAPACITY, &info, SCRIB_CALL_MS);
        if (rc == MMPOOL_OK && !hs_frame_ok(buf, info.len)) {
            fprintf(stderr, "bad copy: seq %llu len %llu\n", (unsigned long long)info.seq,
                    (unsigned long long)info.len);
            st->bad++;
        }
        return rc;
    }
    mmpool_view v;
    int rc = mmpool_read_acquire(p, &v, SCRIB_CALL_MS);
    if (rc != MMPOOL_OK) {
        return rc;
    }
    size_t n = v.frame.len <= SCRIB_CAPACITY ? (size_t)v.frame.len : 0;
    memcpy(buf, v.data, n);
    if (!hs_frame_ok(buf, v.frame.len)) {
        /* A writer took the slot after the scribbler cleared our pin, which
         * no library can prevent: the bytes change under the loan, or are
         * already a whole frame of another length. Bytes that are no frame
         * at all and stay so were handed out wrong. */
        frame_tag t;
        memcpy(&t, v.data, sizeof t);
        int replaced =
            t.len != v.frame.len && t.len <= SCRIB_CAPACITY && hs_frame_ok(v.data, t.len);
        if (replaced || (n != 0 && memcmp(buf, v.data, n) != 0)) {
            st->moved++;
        } else {
            fprintf(stderr, "bad loan: seq %llu len %llu\n", (unsigned long long)v.frame.seq,
                    (unsigned long long)v.frame.len);
            st->bad++;
        }
    }
    int rel = mmpool_read_release(p, &v);
    return rel != MMPOOL_OK ? rel : rc;
}

/* reader PATH MODE MS READY_FD STATS_FD: reads and verifies frames for MS
 * milliseconds. */
static int role_reader(int argc, char **argv) {
    if (argc != 6) {
        return 20;
    }
    int loan = strcmp(argv[2], "loan") == 0;
    mmpool_options o = {.read_mode =
                            strcmp(argv[2], "fifo") == 0 ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST};
    uint64_t deadline = hs_now_ms() + strtoull(argv[3], NULL, 10);
    mmpool *p = NULL;
    if (mmpool_open(&p, argv[1], &o) != MMPOOL_OK || write(atoi(argv[4]), "r", 1) != 1) {
        return 21;
    }
    static unsigned char buf[SCRIB_CAPACITY];
    child_stats st = {0};
    while (hs_now_ms() < deadline) {
        int rc = read_one(p, loan, buf, &st);
        st.ok += rc == MMPOOL_OK;
        st.errors += rc != MMPOOL_OK;
        if (rc == MMPOOL_ESTALE) {
            sleep_us(1000);
        }
    }
    return child_end(p, atoi(argv[5]), &st);
}

/* scribbler PATH MS SEED COUNT: writes random bytes at random offsets of
 * the header page and the slot table, through its own mapping, for MS
 * milliseconds. Most go to the slot table: a header scribble every
 * SCRIB_HEADER_EVERY keeps the retired flag (4 of 4096 bytes) intact for
 * seconds at a time, so a round is not over as soon as it starts. */
static int role_scribbler(int argc, char **argv) {
    if (argc != 5) {
        return 30;
    }
    uint64_t deadline = hs_now_ms() + strtoull(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    size_t table = (size_t)strtoul(argv[4], NULL, 10) * DESC_BYTES;
    size_t len = (size_t)hs_round_page(SLOTS_OFFSET + table);
    void *m = hs_map(argv[1], len);
    if (m == NULL) {
        return 31;
    }
    volatile unsigned char *b = m;
    for (uint64_t i = 0; hs_now_ms() < deadline; i++) {
        uint64_t r = splitmix(&seed);
        int header = i % SCRIB_HEADER_EVERY == 0;
        size_t start = header ? 0 : SLOTS_OFFSET;
        size_t end = header ? PAGE : SLOTS_OFFSET + table;
        size_t off = start + (size_t)(r % (end - start));
        size_t n = 1 + (size_t)((r >> 32) % 8);
        for (size_t k = 0; k < n && off + k < end; k++) {
            b[off + k] = (unsigned char)splitmix(&seed);
        }
        sleep_us(SCRIB_PAUSE_US);
    }
    hs_unmap(m, len);
    return 0;
}

/* unpinner PATH MS COUNT: for MS milliseconds, sets every slot state word
 * that holds only pins back to 0, so that a writer can claim a slot while
 * its reader is still copying out of it. */
static int role_unpinner(int argc, char **argv) {
    if (argc != 4) {
        return 40;
    }
    uint64_t deadline = hs_now_ms() + strtoull(argv[2], NULL, 10);
    uint32_t count = (uint32_t)strtoul(argv[3], NULL, 10);
    size_t len = (size_t)hs_round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    void *m = hs_map(argv[1], len);
    if (m == NULL) {
        return 41;
    }
    _Atomic uint64_t *state = (_Atomic uint64_t *)((unsigned char *)m + SLOTS_OFFSET);
    const size_t stride = DESC_BYTES / sizeof *state;
    while (hs_now_ms() < deadline) {
        for (uint32_t i = 0; i < count; i++) {
            uint64_t s = atomic_load(&state[i * stride]);
            if (s != 0 && (s & ~UINT64_C(0xffffffff)) == 0) {
                atomic_compare_exchange_strong(&state[i * stride], &s, 0);
            }
        }
    }
    hs_unmap(m, len);
    return 0;
}

/* flipper PATH MS SLOT LEN_A LEN_B: for MS milliseconds, stores LEN_A and
 * LEN_B by turns into the len field of descriptor SLOT and flips bit 40 of
 * its time field (18 minutes), as fast as it can: a descriptor that
 * changes between two looks of a reader. */
static int role_flipper(int argc, char **argv) {
    if (argc != 6) {
        return 50;
    }
    uint64_t deadline = hs_now_ms() + strtoull(argv[2], NULL, 10);
    uint32_t slot = (uint32_t)strtoul(argv[3], NULL, 10);
    uint64_t lens[2] = {strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10)};
    size_t len = (size_t)hs_round_page(SLOTS_OFFSET + (uint64_t)(slot + 1) * DESC_BYTES);
    void *m = hs_map(argv[1], len);
    if (m == NULL) {
        return 51;
    }
    unsigned char *desc = (unsigned char *)m + SLOTS_OFFSET + slot * DESC_BYTES;
    _Atomic uint64_t *len_field = (_Atomic uint64_t *)(desc + DESC_LEN);
    _Atomic uint64_t *time_field = (_Atomic uint64_t *)(desc + DESC_TIME);
    while (hs_now_ms() < deadline) {
        for (int i = 0; i < 4096; i++) {
            atomic_store_explicit(len_field, lens[i & 1], memory_order_relaxed);
            atomic_fetch_xor_explicit(time_field, UINT64_C(1) << 40, memory_order_relaxed);
        }
    }
    hs_unmap(m, len);
    return 0;
}

const mmpt_role hs_roles[] = {{"writer", role_writer},       {"reader", role_reader},
                              {"scribbler", role_scribbler}, {"unpinner", role_unpinner},
                              {"flipper", role_flipper},     {NULL, NULL}};
