/*
 * mmpool_inspect() and the path helpers: what a pool reports while handles
 * write, read and die, that inspecting changes nothing and needs no entry,
 * and that hostile files are refused without harm.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmpool.h"

/* Offsets from docs/format.md, written out here so that a test can forge
 * any field without the library's help. */
#define OFF_VERSION_MAJOR 8
#define OFF_BYTE_ORDER 12
#define OFF_SLOT_CAPACITY 16
#define OFF_SLOT_COUNT 24
#define OFF_HANDLE_COUNT 28
#define OFF_SLOT_STRIDE 32
#define OFF_DATA_OFFSET 40
#define OFF_FILE_SIZE 48
#define OFF_CREATED_NS 56
#define OFF_HANDLES_OFFSET 64
#define OFF_SLOTS_OFFSET 68
#define OFF_FORMAT 80
#define OFF_CHECKSUM 144
#define OFF_RETIRED 268
#define SLOTS_OFFSET 4096
#define DESC_BYTES 64
#define PAGE 4096

typedef struct fixture {
    char dir[64];
    char pool[128];
    pid_t child; /* a helper process, killed and reaped by teardown */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/dev/shm/mmpool-inspect-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->pool, sizeof f->pool, "%s/pool", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    /* Also after a failed assertion: a child left running would keep the
     * test's output pipe open. */
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static mmpool *create(const char *path, uint64_t cap, uint32_t count, const char *format) {
    mmpool_options o = {
        .slot_capacity = cap, .slot_count = count, .flags = MMPOOL_CREATE, .format = format};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

static void inspect(const char *path, mmpool_info *info, mmpool_slot_info *slots, size_t ns,
                    mmpool_handle_info *handles) {
    assert_int_equal(mmpool_inspect(path, info, slots, ns, handles, MMPOOL_MAX_HANDLES), MMPOOL_OK);
}

/* ---- what it reports ---- */

static void test_inspect_reports_geometry_and_format_of_a_new_pool(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 5000, 3, "gray8 100x50");
    mmpool_info info;
    mmpool_slot_info slots[3];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 3, handles);
    assert_int_equal(info.version_major, 2);
    assert_int_equal(info.slot_capacity, 5000);
    assert_int_equal(info.slot_count, 3);
    assert_int_equal(info.handle_count, MMPOOL_MAX_HANDLES);
    assert_int_equal(info.slot_stride, 8192);
    assert_int_equal(info.file_size, 8192 + 3 * 8192);
    assert_string_equal(info.format, "gray8 100x50");
    assert_int_equal(info.last_seq, 0);
    assert_int_equal(info.retired, 0);
    assert_int_equal(info.commit_lock, 0);
    assert_true(info.created_ns > UINT64_C(1600000000) * 1000000000u);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(slots[i].state, MMPOOL_SLOT_EMPTY);
        assert_int_equal(slots[i].pins, 0);
    }
    mmpool_close(p);
}

static void test_inspect_reports_committed_frames_with_seq_len_and_time(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 4, NULL);
    uint64_t before = mmpool_now_ns();
    assert_int_equal(mmpool_write(p, "abc", 3, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write(p, "hello", 5, 0), MMPOOL_OK);
    uint64_t after = mmpool_now_ns();
    mmpool_info info;
    mmpool_slot_info slots[4];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 4, handles);
    assert_int_equal(info.last_seq, 2);
    int seen = 0;
    for (int i = 0; i < 4; i++) {
        if (slots[i].state == MMPOOL_SLOT_COMMITTED) {
            assert_int_equal(slots[i].len, slots[i].seq == 1 ? 3 : 5);
            assert_in_range(slots[i].timestamp_ns, before, after);
            seen |= 1 << slots[i].seq;
        } else {
            assert_int_equal(slots[i].state, MMPOOL_SLOT_EMPTY);
        }
    }
    assert_int_equal(seen, (1 << 1) | (1 << 2));
    mmpool_close(p);
}

/* The entry of a handle: the one that is alive and has our pid among
 * entries that were free before it opened. */
static int entry_of(const char *path, const mmpool_handle_info *before) {
    mmpool_info info;
    mmpool_handle_info now[MMPOOL_MAX_HANDLES];
    inspect(path, &info, NULL, 0, now);
    int found = -1;
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        if (now[i].alive && !before[i].alive) {
            assert_int_equal(found, -1);
            found = i;
        }
    }
    assert_true(found >= 0);
    return found;
}

static void test_inspect_shows_write_loan_as_writing_by_its_entry(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 2, NULL);
    mmpool_info info;
    mmpool_handle_info none[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, NULL, 0, none);
    mmpool *w = NULL;
    assert_int_equal(mmpool_open(&w, f->pool, NULL), MMPOOL_OK);
    int e = entry_of(f->pool, none);
    void *data;
    size_t cap;
    assert_int_equal(mmpool_write_acquire(w, &data, &cap, 0), MMPOOL_OK);
    mmpool_slot_info slots[2];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 2, handles);
    int writing = 0;
    for (int i = 0; i < 2; i++) {
        if (slots[i].state == MMPOOL_SLOT_WRITING) {
            assert_int_equal(slots[i].writer, e + 1);
            writing++;
        }
    }
    assert_int_equal(writing, 1);
    assert_int_equal(handles[e].pid, (uint64_t)getpid());
    assert_int_equal(mmpool_write_commit(w, 1), MMPOOL_OK);
    inspect(f->pool, &info, slots, 2, handles);
    assert_true(slots[0].state != MMPOOL_SLOT_WRITING && slots[1].state != MMPOOL_SLOT_WRITING);
    assert_true(handles[e].role & MMPOOL_ROLE_WRITE);
    mmpool_close(w);
    mmpool_close(p);
}

static void test_inspect_shows_read_loans_as_pins_of_their_entry(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 3, NULL);
    assert_int_equal(mmpool_write(p, "x", 1, 0), MMPOOL_OK);
    mmpool_info info;
    mmpool_handle_info none[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, NULL, 0, none);
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&r, f->pool, NULL), MMPOOL_OK);
    int e = entry_of(f->pool, none);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    mmpool_slot_info slots[3];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 3, handles);
    for (int i = 0; i < 3; i++) {
        uint64_t want = slots[i].seq == 1 ? UINT64_C(1) << e : 0;
        assert_int_equal(slots[i].pins, want);
    }
    assert_true(handles[e].role & MMPOOL_ROLE_READ);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    inspect(f->pool, &info, slots, 3, handles);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(slots[i].pins, 0);
    }
    mmpool_close(r);
    mmpool_close(p);
}

static void test_inspect_marks_open_handles_alive_and_closed_ones_free(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 1, NULL);
    mmpool *q = NULL;
    assert_int_equal(mmpool_open(&q, f->pool, NULL), MMPOOL_OK);
    mmpool_info info;
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, NULL, 0, h);
    int alive = 0;
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        if (h[i].alive) {
            assert_true(h[i].in_use);
            assert_int_equal(h[i].pid, (uint64_t)getpid());
            alive++;
        }
    }
    assert_int_equal(alive, 2);
    mmpool_close(q);
    mmpool_close(p);
    inspect(f->pool, &info, NULL, 0, h);
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        assert_false(h[i].alive);
        assert_false(h[i].in_use);
    }
}

static void test_inspect_marks_a_killed_holder_dead(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 2, NULL);
    assert_int_equal(mmpool_write(p, "x", 1, 0), MMPOOL_OK);
    mmpool_close(p);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    f->child = child;
    if (child == 0) {
        mmpool *r = NULL;
        mmpool_view v;
        if (mmpool_open(&r, f->pool, NULL) != 0 || mmpool_read_acquire(r, &v, 0) != 0) {
            _exit(1);
        }
        (void)!write(ready[1], "r", 1);
        for (;;) {
            pause();
        }
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    mmpool_info info;
    mmpool_slot_info slots[2];
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 2, h);
    int e = -1;
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        if (h[i].alive) {
            e = i;
        }
    }
    assert_true(e >= 0);
    assert_int_equal(h[e].pid, (uint64_t)child);
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    f->child = 0;
    inspect(f->pool, &info, slots, 2, h);
    assert_true(h[e].in_use);
    assert_false(h[e].alive);
    assert_int_equal(h[e].pid, (uint64_t)child);
    uint64_t pins = slots[0].pins | slots[1].pins;
    assert_int_equal(pins, UINT64_C(1) << e);
}

/* A writer in another process commits as fast as it can while the pool is
 * inspected: the snapshots are not atomic, but a commit landing in the
 * middle of one must never be reported as damage, and what is reported
 * must be consistent. */
static void test_inspect_during_live_commits_reports_no_damage(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 2, NULL);
    mmpool_close(p);
    pid_t child = fork();
    assert_true(child >= 0);
    f->child = child;
    if (child == 0) {
        mmpool *w = NULL;
        if (mmpool_open(&w, f->pool, NULL) != 0) {
            _exit(1);
        }
        for (uint64_t n = 0;; n++) {
            mmpool_write(w, &n, 1 + n % sizeof n, 0);
        }
    }
    mmpool_info info;
    mmpool_slot_info slots[2];
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    uint64_t last = 0;
    uint64_t start = mmpool_now_ns();
    unsigned committed = 0;
    while (mmpool_now_ns() - start < UINT64_C(500000000)) {
        inspect(f->pool, &info, slots, 2, h);
        assert_true(info.last_seq >= last);
        last = info.last_seq;
        for (int i = 0; i < 2; i++) {
            assert_int_not_equal(slots[i].state, MMPOOL_SLOT_DAMAGED);
            if (slots[i].state == MMPOOL_SLOT_COMMITTED) {
                assert_in_range(slots[i].len, 1, sizeof(uint64_t));
                committed++;
            }
        }
    }
    assert_true(last > 0);
    assert_true(committed > 0);
}

/* ---- it changes nothing and needs nothing ---- */

static unsigned char *read_all(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(pread(fd, b, *len, 0), (ssize_t)*len);
    close(fd);
    return b;
}

static void test_inspect_works_on_a_full_handle_table_and_changes_nothing(void **state) {
    fixture *f = *state;
    mmpool *h[MMPOOL_MAX_HANDLES];
    h[0] = create(f->pool, 64, 2, NULL);
    assert_int_equal(mmpool_write(h[0], "x", 1, 0), MMPOOL_OK);
    for (int i = 1; i < MMPOOL_MAX_HANDLES; i++) {
        assert_int_equal(mmpool_open(&h[i], f->pool, NULL), MMPOOL_OK);
    }
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(h[1], &v, 0), MMPOOL_OK);
    size_t len0;
    unsigned char *before = read_all(f->pool, &len0);
    mmpool_info info;
    mmpool_slot_info slots[2];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 2, handles);
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        assert_true(handles[i].alive);
    }
    size_t len1;
    unsigned char *after = read_all(f->pool, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    /* No entry was left taken: the table is exactly as full as before. */
    mmpool *extra = NULL;
    assert_int_equal(mmpool_open(&extra, f->pool, NULL), MMPOOL_ETOOMANY);
    mmpool_close(h[MMPOOL_MAX_HANDLES - 1]);
    assert_int_equal(mmpool_open(&extra, f->pool, NULL), MMPOOL_OK);
    mmpool_close(extra);
    free(before);
    free(after);
    for (int i = 0; i < MMPOOL_MAX_HANDLES - 1; i++) {
        mmpool_close(h[i]);
    }
}

static void test_inspect_fills_at_most_the_given_counts(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 4, NULL);
    mmpool_info info;
    mmpool_slot_info slots[3];
    mmpool_handle_info handles[3];
    memset(slots, 0xab, sizeof slots);
    memset(handles, 0xcd, sizeof handles);
    assert_int_equal(mmpool_inspect(f->pool, &info, slots, 2, handles, 2), MMPOOL_OK);
    assert_int_equal(slots[1].state, MMPOOL_SLOT_EMPTY);
    unsigned char guard[sizeof slots[2]];
    memset(guard, 0xab, sizeof guard);
    assert_memory_equal(&slots[2], guard, sizeof guard);
    memset(guard, 0xcd, sizeof guard);
    assert_memory_equal(&handles[2], guard, sizeof handles[2]);
    assert_int_equal(mmpool_inspect(f->pool, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    assert_int_equal(info.slot_count, 4);
    mmpool_close(p);
}

static void test_inspect_rejects_bad_arguments(void **state) {
    fixture *f = *state;
    mmpool_info info;
    mmpool_slot_info slot;
    assert_int_equal(mmpool_inspect(NULL, &info, NULL, 0, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_inspect(f->pool, NULL, NULL, 0, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_inspect(f->pool, &info, NULL, 1, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_inspect(f->pool, &info, &slot, 1, NULL, 1), MMPOOL_EINVAL);
    assert_int_equal(mmpool_inspect("", &info, NULL, 0, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_inspect(f->pool, &info, NULL, 0, NULL, 0), MMPOOL_ENOENT);
}

/* ---- damaged and hostile files ---- */

static unsigned char *map_meta(const char *path) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    void *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static void test_inspect_reports_damaged_descriptors_and_retired_pools(void **state) {
    fixture *f = *state;
    mmpool *p = create(f->pool, 64, 3, NULL);
    assert_int_equal(mmpool_write(p, "x", 1, 0), MMPOOL_OK);
    mmpool_close(p);
    unsigned char *m = map_meta(f->pool);
    mmpool_info info;
    mmpool_slot_info slots[3];
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    inspect(f->pool, &info, slots, 3, h);
    int s = slots[0].state == MMPOOL_SLOT_COMMITTED   ? 0
            : slots[1].state == MMPOOL_SLOT_COMMITTED ? 1
                                                      : 2;
    assert_int_equal(slots[s].state, MMPOOL_SLOT_COMMITTED);
    /* A scribbled check word: the frame no longer matches it. */
    m[SLOTS_OFFSET + s * DESC_BYTES + 32] ^= 1;
    inspect(f->pool, &info, slots, 3, h);
    assert_int_equal(slots[s].state, MMPOOL_SLOT_DAMAGED);
    m[SLOTS_OFFSET + s * DESC_BYTES + 32] ^= 1;
    /* Reserved bits of another slot's state word. */
    int o = (s + 1) % 3;
    m[SLOTS_OFFSET + o * DESC_BYTES + 7] = 0x80;
    inspect(f->pool, &info, slots, 3, h);
    assert_int_equal(slots[s].state, MMPOOL_SLOT_COMMITTED);
    assert_int_equal(slots[o].state, MMPOOL_SLOT_DAMAGED);
    m[SLOTS_OFFSET + o * DESC_BYTES + 7] = 0;
    /* Retired but still at its path, as when its unlinker died. */
    m[OFF_RETIRED] = 1;
    inspect(f->pool, &info, slots, 3, h);
    assert_int_equal(info.retired, 1);
    munmap(m, 2 * PAGE);
}

static uint64_t fnv1a(const unsigned char *b, size_t n) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

static void put(unsigned char *img, size_t off, uint64_t v, size_t width) {
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    memcpy(img + off, width == 2 ? (void *)&v16 : width == 4 ? (void *)&v32 : (void *)&v, width);
}

static void fix_checksum(unsigned char *img) {
    put(img, OFF_CHECKSUM, fnv1a(img, OFF_CHECKSUM), 8);
}

/* A valid 1-slot pool of 64 bytes: 8192 bytes of file. */
#define IMG_SIZE (2 * PAGE + PAGE)
static unsigned char *valid_image(void) {
    unsigned char *img = calloc(1, IMG_SIZE);
    assert_non_null(img);
    memcpy(img, "MMPOOL\r\n", 8);
    put(img, OFF_VERSION_MAJOR, 2, 2);
    put(img, OFF_BYTE_ORDER, 0x01020304, 4);
    put(img, OFF_SLOT_CAPACITY, 64, 8);
    put(img, OFF_SLOT_COUNT, 1, 4);
    put(img, OFF_HANDLE_COUNT, 32, 4);
    put(img, OFF_SLOT_STRIDE, PAGE, 8);
    put(img, OFF_DATA_OFFSET, 2 * PAGE, 8);
    put(img, OFF_FILE_SIZE, 3 * PAGE, 8);
    put(img, OFF_CREATED_NS, UINT64_C(1700000000000000000), 8);
    put(img, OFF_HANDLES_OFFSET, 1024, 4);
    put(img, OFF_SLOTS_OFFSET, SLOTS_OFFSET, 4);
    fix_checksum(img);
    return img;
}

static void write_file(const char *path, const unsigned char *b, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
}

static void expect_refused(const char *path, const char *what, const unsigned char *img, size_t n) {
    write_file(path, img, n);
    mmpool_info info;
    mmpool_slot_info slots[4];
    mmpool_handle_info h[MMPOOL_MAX_HANDLES];
    int rc = mmpool_inspect(path, &info, slots, 4, h, MMPOOL_MAX_HANDLES);
    if (rc != MMPOOL_EFORMAT) {
        fail_msg("%s: inspect gave %s, want MMPOOL_EFORMAT", what, mmpool_err_name(rc));
    }
    size_t len;
    unsigned char *back = read_all(path, &len);
    if (len != n || (n != 0 && memcmp(back, img, n) != 0)) {
        fail_msg("%s: the file was changed", what);
    }
    free(back);
}

static void test_inspect_refuses_hostile_and_truncated_files(void **state) {
    fixture *f = *state;
    unsigned char *img = valid_image();
    /* The unchanged image is accepted: the refusals below are each due to
     * the one change made. */
    write_file(f->pool, img, IMG_SIZE);
    mmpool_info info;
    assert_int_equal(mmpool_inspect(f->pool, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    assert_int_equal(info.slot_capacity, 64);

    expect_refused(f->pool, "empty file", img, 0);
    expect_refused(f->pool, "shorter than the header", img, 1000);
    expect_refused(f->pool, "shorter than file_size", img, IMG_SIZE - 1);

    struct {
        const char *what;
        size_t off;
        uint64_t value;
        size_t width;
        int fix;
    } cases[] = {
        {"bad magic", 0, 'X', 1, 1},
        {"major version 3", OFF_VERSION_MAJOR, 3, 2, 1},
        {"other byte order", OFF_BYTE_ORDER, 0x04030201, 4, 1},
        {"checksum not fixed", OFF_SLOT_CAPACITY, 128, 8, 0},
        {"zero slots", OFF_SLOT_COUNT, 0, 4, 1},
        {"too many slots", OFF_SLOT_COUNT, MMPOOL_MAX_SLOTS + 1, 4, 1},
        {"huge capacity", OFF_SLOT_CAPACITY, UINT64_MAX, 8, 1},
        {"stride disagrees", OFF_SLOT_STRIDE, 2 * PAGE, 8, 1},
        {"data offset disagrees", OFF_DATA_OFFSET, PAGE, 8, 1},
        {"file size disagrees", OFF_FILE_SIZE, 4 * PAGE, 8, 1},
        {"handle count", OFF_HANDLE_COUNT, 64, 4, 1},
        {"slots offset", OFF_SLOTS_OFFSET, 2048, 4, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *bad = valid_image();
        put(bad, cases[i].off, cases[i].value, cases[i].width);
        if (cases[i].fix) {
            fix_checksum(bad);
        }
        expect_refused(f->pool, cases[i].what, bad, IMG_SIZE);
        free(bad);
    }
    unsigned char *bad = valid_image();
    memset(bad + OFF_FORMAT, 'a', 64); /* no terminating NUL */
    fix_checksum(bad);
    expect_refused(f->pool, "format without NUL", bad, IMG_SIZE);
    free(bad);
    free(img);

    /* Not regular files. */
    mmpool_info i2;
    assert_int_equal(mmpool_inspect(f->dir, &i2, NULL, 0, NULL, 0), MMPOOL_EFORMAT);
    char link[160];
    snprintf(link, sizeof link, "%s/link", f->dir);
    assert_int_equal(symlink(f->pool, link), 0);
    assert_int_equal(mmpool_inspect(link, &i2, NULL, 0, NULL, 0), MMPOOL_EFORMAT);
}

/* ---- paths ---- */

static void test_resolve_path_places_bare_names_in_the_default_dir(void **state) {
    (void)state;
    char dir[256];
    char out[256];
    assert_int_equal(mmpool_default_dir(dir, sizeof dir), MMPOOL_OK);
    assert_string_equal(dir, "/dev/shm");
    assert_int_equal(mmpool_resolve_path(out, sizeof out, "cam0"), MMPOOL_OK);
    assert_string_equal(out, "/dev/shm/cam0");
    assert_int_equal(mmpool_resolve_path(out, sizeof out, "./cam0"), MMPOOL_OK);
    assert_string_equal(out, "./cam0");
    assert_int_equal(mmpool_resolve_path(out, sizeof out, ""), MMPOOL_EINVAL);
    assert_int_equal(mmpool_resolve_path(out, 8, "cam0"), MMPOOL_EINVAL);
    assert_string_equal(out, ""); /* not a truncated path */
    assert_int_equal(mmpool_resolve_path(NULL, 8, "cam0"), MMPOOL_EINVAL);
    assert_int_equal(mmpool_default_dir(dir, 4), MMPOOL_EINVAL);
    assert_string_equal(dir, "");
    /* Room for the directory is enough: "/dev/shm" and its NUL. */
    assert_int_equal(mmpool_default_dir(dir, sizeof "/dev/shm"), MMPOOL_OK);
    assert_string_equal(dir, "/dev/shm");
    assert_int_equal(mmpool_default_dir(NULL, 16), MMPOOL_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inspect_reports_geometry_and_format_of_a_new_pool,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_reports_committed_frames_with_seq_len_and_time,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_shows_write_loan_as_writing_by_its_entry,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_shows_read_loans_as_pins_of_their_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inspect_marks_open_handles_alive_and_closed_ones_free,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_marks_a_killed_holder_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_during_live_commits_reports_no_damage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_inspect_works_on_a_full_handle_table_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_fills_at_most_the_given_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_inspect_rejects_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_reports_damaged_descriptors_and_retired_pools,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_refuses_hostile_and_truncated_files, setup,
                                        teardown),
        cmocka_unit_test(test_resolve_path_places_bare_names_in_the_default_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
