/*
 * Hostile input: pool files crafted to be refused at open (docs/format.md,
 * "Validating a file"), damaged slot metadata of a live pool, and a process
 * that scribbles over a live pool's metadata while others use it.
 *
 * Sections: helpers, hostile files, damaged metadata, scribbler roles,
 * scribbler test, main. test_api.c covers the simpler cases (empty, zeros,
 * random, magic only, version, checksum, non-regular files).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmpool.h"
#include "support.h"

/* Offsets and constants from docs/format.md. */
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
#define OFF_COMMIT_LOCK 264
#define HEADER_BYTES 1024
#define PAGE 4096
#define SLOTS_OFFSET 4096
#define DESC_BYTES 64
#define DESC_STATE 0
#define DESC_LEN 16
#define FNV_BASIS UINT64_C(0xcbf29ce484222325)

/* The scribbler's pool and its pacing. */
#define SCRIB_CAPACITY 65536
#define SCRIB_SLOTS 4
#define SCRIB_CALL_MS 10        /* timeout of every blocking call */
#define SCRIB_PAUSE_US 500      /* between two scribbles */
#define SCRIB_HEADER_EVERY 16   /* one header scribble per this many */
#define WRITER_FRAMES 16        /* distinct frames a writer cycles through */
#define TORN_CAPACITY (1 << 20) /* long copies: a wide window for a thief */
#define TORN_SLOTS 2            /* the writer wants the slot being read half the time */

typedef struct fixture {
    char path[256];
    char round_path[300];
    pid_t pids[8];
} fixture;

static unsigned hostile_tried;
static unsigned hostile_refused;

/* ---- helpers ---- */

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    mmpt_path(fx->path, sizeof fx->path, "hostile");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof fx->pids / sizeof fx->pids[0]; i++) {
        if (fx->pids[i] != 0) {
            mmpt_reap(fx->pids[i], 100);
        }
    }
    unlink(fx->path);
    if (fx->round_path[0] != '\0') {
        unlink(fx->round_path);
    }
    free(fx);
    return 0;
}

static uint64_t fnv1a(uint64_t h, const void *bytes, size_t n) {
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

/* Stores v as a native integer of width bytes at img + off. */
static void put(unsigned char *img, size_t off, uint64_t v, int width) {
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    memcpy(img + off,
           width == 2   ? (void *)&v16
           : width == 4 ? (void *)&v32
                        : (void *)&v,
           (size_t)width);
}

static void fix_checksum(unsigned char *img) {
    put(img, OFF_CHECKSUM, fnv1a(FNV_BASIS, img, OFF_CHECKSUM), 8);
}

static void reverse(unsigned char *b, size_t n) {
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

static uint64_t round_page(uint64_t x) {
    return (x + PAGE - 1) / PAGE * PAGE;
}

/* The geometry of docs/format.md computed the careless way, wrapping
 * modulo 2^64: what a header forged against a naive reader would carry. */
static void wrapped_geometry(uint64_t cap, uint32_t count, uint64_t *stride, uint64_t *data_offset,
                             uint64_t *file_size) {
    *stride = round_page(cap);
    *data_offset = round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    *file_size = *data_offset + (uint64_t)count * *stride;
}

/* A pool file of len bytes (>= 1024) built by hand from docs/format.md:
 * header for (cap, count) with a valid checksum, zeros elsewhere. */
static unsigned char *build_image(uint64_t cap, uint32_t count, size_t len, const char *format) {
    unsigned char *img = calloc(1, len);
    assert_non_null(img);
    uint64_t stride, data_offset, file_size;
    wrapped_geometry(cap, count, &stride, &data_offset, &file_size);
    memcpy(img, "MMPOOL\r\n", 8);
    put(img, OFF_VERSION_MAJOR, 1, 2);
    put(img, OFF_BYTE_ORDER, 0x01020304, 4);
    put(img, OFF_SLOT_CAPACITY, cap, 8);
    put(img, OFF_SLOT_COUNT, count, 4);
    put(img, OFF_HANDLE_COUNT, 32, 4);
    put(img, OFF_SLOT_STRIDE, stride, 8);
    put(img, OFF_DATA_OFFSET, data_offset, 8);
    put(img, OFF_FILE_SIZE, file_size, 8);
    put(img, OFF_CREATED_NS, UINT64_C(1700000000000000000), 8);
    put(img, OFF_HANDLES_OFFSET, 1024, 4);
    put(img, OFF_SLOTS_OFFSET, 4096, 4);
    memcpy(img + OFF_FORMAT, format, strlen(format));
    fix_checksum(img);
    return img;
}

static void write_file(const char *path, const unsigned char *bytes, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    for (size_t done = 0; done < n;) {
        ssize_t w = write(fd, bytes + done, n - done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    close(fd);
}

/* The whole file; *len its size. */
static unsigned char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    for (size_t done = 0; done < *len;) {
        ssize_t r = read(fd, b + done, *len - done);
        assert_true(r > 0);
        done += (size_t)r;
    }
    close(fd);
    return b;
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

static int mapped_anywhere(const char *path) {
    FILE *fp = fopen("/proc/self/maps", "r");
    assert_non_null(fp);
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, fp) != NULL) {
        found |= strstr(line, path) != NULL;
    }
    fclose(fp);
    return found;
}

static void create_pool(const char *path, uint64_t cap, uint32_t count) {
    mmpool_options o = {.slot_capacity = cap, .slot_count = count, .flags = MMPOOL_CREATE};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    mmpool_close(p);
}

static void expect_opens(const char *path, const unsigned char *img, size_t len) {
    write_file(path, img, len);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, NULL), MMPOOL_OK);
    mmpool_close(p);
}

/* Writes the hostile file to path; adopting, creating over and unlinking it
 * must each report MMPOOL_EFORMAT, leave the file as it was, and leave no
 * descriptor or mapping behind. */
static void expect_refused(const char *path, const char *what, const unsigned char *img,
                           size_t len) {
    hostile_tried++;
    write_file(path, img, len);
    int fds = open_fds();
    static char dummy;
    mmpool *p[2] = {(mmpool *)(void *)&dummy, (mmpool *)(void *)&dummy};
    mmpool_options create = {.slot_capacity = 64, .slot_count = 1, .flags = MMPOOL_CREATE};
    int rc[3];
    rc[0] = mmpool_open(&p[0], path, NULL);
    rc[1] = mmpool_open(&p[1], path, &create);
    rc[2] = mmpool_unlink(path);
    for (int i = 0; i < 2; i++) {
        if (rc[i] == MMPOOL_OK) {
            mmpool_close(p[i]);
        } else {
            assert_null(p[i]); /* a failed open leaves no handle */
        }
    }
    for (int i = 0; i < 3; i++) {
        if (rc[i] != MMPOOL_EFORMAT) {
            fail_msg("%s: %s gave %s, want MMPOOL_EFORMAT", what,
                     i == 0   ? "adopt"
                     : i == 1 ? "create"
                              : "unlink",
                     mmpool_err_name(rc[i]));
        }
    }
    size_t back_len;
    unsigned char *back = read_file(path, &back_len);
    if (back_len != len || (len != 0 && memcmp(back, img, len) != 0)) {
        fail_msg("%s: the file was changed (%zu bytes, was %zu)", what, back_len, len);
    }
    free(back);
    assert_int_equal(open_fds(), fds);
    assert_false(mapped_anywhere(path));
    hostile_refused++;
}

/* ---- hostile files ---- */

static void test_hand_built_header_per_format_md_opens(void **state) {
    fixture *fx = *state;
    /* The worked example of docs/format.md: the builder below agrees with
     * the document byte for byte, so the variants differ only where meant. */
    unsigned char *img = build_image(6220800, 3, HEADER_BYTES, "bgr8 1920x1080");
    uint64_t sum;
    memcpy(&sum, img + OFF_CHECKSUM, sizeof sum);
    assert_int_equal(sum, UINT64_C(0x4e0f462766c18337));
    free(img);
    img = build_image(64, 2, 16384, "hand made");
    expect_opens(fx->path, img, 16384);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.slot_capacity, 64);
    assert_int_equal(st.slot_count, 2);
    assert_string_equal(st.format, "hand made");
    mmpool_close(p);
    free(img);
}

static void test_truncated_pool_is_refused_at_every_size(void **state) {
    fixture *fx = *state;
    const struct {
        uint64_t cap;
        uint32_t count;
    } pools[] = {{65536, 4}, {100, 65}}; /* data_offset 8192 and 12288 */
    for (size_t k = 0; k < sizeof pools / sizeof pools[0]; k++) {
        uint64_t stride, data_offset, file_size;
        wrapped_geometry(pools[k].cap, pools[k].count, &stride, &data_offset, &file_size);
        create_pool(fx->path, pools[k].cap, pools[k].count);
        size_t len;
        unsigned char *img = read_file(fx->path, &len);
        assert_int_equal(len, file_size);
        const size_t sizes[] = {0,
                                100,
                                HEADER_BYTES - 1,
                                HEADER_BYTES,
                                PAGE,
                                SLOTS_OFFSET + DESC_BYTES * pools[k].count,
                                data_offset,
                                file_size - stride,
                                file_size - 1};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char what[96];
            snprintf(what, sizeof what, "pool %zu truncated to %zu bytes", k, sizes[i]);
            expect_refused(fx->path, what, img, sizes[i]);
        }
        expect_opens(fx->path, img, len); /* untruncated, the same bytes open */
        free(img);
        unlink(fx->path);
    }
}

static void test_geometry_overflowing_64_bits_is_refused(void **state) {
    fixture *fx = *state;
    /* Stored offsets are what wrapping arithmetic gives, and the file is as
     * long as the wrapped file_size claims: only an overflow check stops
     * these. 2^54 * 1024 wraps to 0, (2^54 + 4096) * 1024 to 4 MiB. */
    const struct {
        uint64_t cap;
        uint32_t count;
    } cases[] = {
        {UINT64_MAX, 1024},           {UINT64_MAX - 4095, 1024},
        {UINT64_C(1) << 54, 1024},    {(UINT64_C(1) << 54) + 4096, 1024},
        {UINT64_C(1) << 62, 1024},    {UINT64_C(1) << 63, 2},
        {(UINT64_C(1) << 62) + 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t stride, data_offset, file_size;
        wrapped_geometry(cases[i].cap, cases[i].count, &stride, &data_offset, &file_size);
        size_t len = file_size <= (UINT64_C(8) << 20) && file_size > data_offset
                         ? (size_t)file_size
                         : (size_t)data_offset + PAGE;
        unsigned char *img = build_image(cases[i].cap, cases[i].count, len, "");
        char what[96];
        snprintf(what, sizeof what, "capacity %#llx, count %u", (unsigned long long)cases[i].cap,
                 cases[i].count);
        expect_refused(fx->path, what, img, len);
        free(img);
    }
}

static void test_stored_offsets_must_match_recomputed_geometry(void **state) {
    fixture *fx = *state;
    /* capacity 64, N = 2: stride 4096, data_offset 8192, file_size 16384;
     * the file is longer, so a larger stored file_size would still fit. */
    const size_t len = 32768;
    const struct {
        const char *what;
        size_t off;
        int width;
        uint64_t value;
    } cases[] = {
        {"slot_stride 8192", OFF_SLOT_STRIDE, 8, 8192},
        {"slot_stride 0", OFF_SLOT_STRIDE, 8, 0},
        {"slot_stride 64 (not page aligned)", OFF_SLOT_STRIDE, 8, 64},
        {"data_offset 4096 (on the slot table)", OFF_DATA_OFFSET, 8, 4096},
        {"data_offset 12288", OFF_DATA_OFFSET, 8, 12288},
        {"data_offset 0", OFF_DATA_OFFSET, 8, 0},
        {"file_size 12288 (short)", OFF_FILE_SIZE, 8, 12288},
        {"file_size 20480", OFF_FILE_SIZE, 8, 20480},
        {"file_size 0", OFF_FILE_SIZE, 8, 0},
        {"handles_offset 0", OFF_HANDLES_OFFSET, 4, 0},
        {"handles_offset 2048", OFF_HANDLES_OFFSET, 4, 2048},
        {"handles_offset 4096", OFF_HANDLES_OFFSET, 4, 4096},
        {"slots_offset 0", OFF_SLOTS_OFFSET, 4, 0},
        {"slots_offset 1024", OFF_SLOTS_OFFSET, 4, 1024},
        {"slots_offset 8192", OFF_SLOTS_OFFSET, 4, 8192},
        {"handle_count 0", OFF_HANDLE_COUNT, 4, 0},
        {"handle_count 31", OFF_HANDLE_COUNT, 4, 31},
        {"handle_count 33", OFF_HANDLE_COUNT, 4, 33},
        {"handle_count 64", OFF_HANDLE_COUNT, 4, 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char *img = build_image(64, 2, len, "");
        put(img, cases[i].off, cases[i].value, cases[i].width);
        fix_checksum(img);
        expect_refused(fx->path, cases[i].what, img, len);
        free(img);
    }
    /* Forgeries consistent among the stored fields, but not with capacity
     * and count. */
    unsigned char *img = build_image(64, 2, len, "");
    put(img, OFF_SLOT_STRIDE, 8192, 8);
    put(img, OFF_FILE_SIZE, 8192 + 2 * 8192, 8);
    fix_checksum(img);
    expect_refused(fx->path, "stride 8192 with matching file_size", img, len);
    free(img);
    img = build_image(64, 2, len, "");
    put(img, OFF_DATA_OFFSET, 12288, 8);
    put(img, OFF_FILE_SIZE, 12288 + 2 * 4096, 8);
    fix_checksum(img);
    expect_refused(fx->path, "data_offset 12288 with matching file_size", img, len);
    free(img);
}

static void test_other_byte_order_is_refused(void **state) {
    fixture *fx = *state;
    const size_t len = 16384;
    unsigned char *img = build_image(64, 2, len, "");
    put(img, OFF_BYTE_ORDER, 0x04030201, 4);
    fix_checksum(img);
    expect_refused(fx->path, "byte-order mark swapped", img, len);
    free(img);
    /* The whole header as a creator of the other byte order writes it:
     * every integer field reversed, the checksum taken over those bytes
     * and stored reversed too. */
    img = build_image(64, 2, len, "");
    const struct {
        size_t off;
        size_t width;
    } fields[] = {{8, 2},  {10, 2}, {12, 4}, {16, 8}, {24, 4}, {28, 4},
                  {32, 8}, {40, 8}, {48, 8}, {56, 8}, {64, 4}, {68, 4}};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        reverse(img + fields[f].off, fields[f].width);
    }
    fix_checksum(img);
    reverse(img + OFF_CHECKSUM, 8);
    expect_refused(fx->path, "header of the other byte order", img, len);
    free(img);
}

static void test_format_without_nul_is_refused(void **state) {
    fixture *fx = *state;
    const size_t len = 16384;
    unsigned char *img = build_image(64, 2, len, "");
    memset(img + OFF_FORMAT, 'x', 63); /* control: 63 bytes and a NUL open */
    fix_checksum(img);
    expect_opens(fx->path, img, len);
    memset(img + OFF_FORMAT, 'x', 64);
    fix_checksum(img);
    expect_refused(fx->path, "format of 64 'x'", img, len);
    memset(img + OFF_FORMAT, 0xff, 64);
    fix_checksum(img);
    expect_refused(fx->path, "format of 64 0xff", img, len);
    free(img);
}

static void test_capacity_and_count_out_of_limits_are_refused(void **state) {
    fixture *fx = *state;
    const struct {
        const char *what;
        uint64_t cap;
        uint32_t count;
    } cases[] = {
        {"slot_count 0", 64, 0},
        {"slot_capacity 0", 0, 2},
        {"slot_count 1025", 64, 1025},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t stride, data_offset, file_size;
        wrapped_geometry(cases[i].cap, cases[i].count, &stride, &data_offset, &file_size);
        size_t len = (size_t)file_size + PAGE; /* the geometry fits the file */
        unsigned char *img = build_image(cases[i].cap, cases[i].count, len, "");
        expect_refused(fx->path, cases[i].what, img, len);
        free(img);
    }
}

/* ---- damaged metadata of a live pool ---- */

/* Maps the header page and slot table of the pool at path, as another
 * process scribbling over it would. */
static unsigned char *map_meta(const char *path, uint32_t count, size_t *len) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    *len = (size_t)round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    void *m = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static void test_descriptor_changed_after_commit_is_skipped(void **state) {
    fixture *fx = *state;
    create_pool(fx->path, 4096, 2);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    unsigned char frame[200], buf[4096];
    memset(frame, 0xab, sizeof frame);
    assert_int_equal(mmpool_try_write(p, frame, sizeof frame), MMPOOL_OK);
    size_t len;
    unsigned char *m = map_meta(fx->path, 2, &len);
    /* A shorter length, still within the capacity: only the check word
     * written at commit tells. The first write went to slot 0. */
    put(m, SLOTS_OFFSET + DESC_LEN, 100, 8);
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_EFORMAT);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_EAGAIN); /* skipped */
    assert_int_equal(mmpool_try_write(p, frame, sizeof frame), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_OK);
    assert_int_equal(info.len, sizeof frame);
    assert_memory_equal(buf, frame, sizeof frame);
    munmap(m, len);
    mmpool_close(p);
}

static void test_garbage_state_words_are_repaired_by_a_writer(void **state) {
    fixture *fx = *state;
    create_pool(fx->path, 64, 2);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = map_meta(fx->path, 2, &len);
    /* Reserved bits; a writer beyond the handle table; the pin of entry 31,
     * which no live handle owns. Each time both slots look held. */
    const uint64_t garbage[] = {UINT64_C(0xffffff0000000000), UINT64_C(0x000000ff00000000),
                                UINT64_C(0x0000000080000000)};
    for (size_t g = 0; g < sizeof garbage / sizeof garbage[0]; g++) {
        for (uint32_t s = 0; s < 2; s++) {
            put(m, SLOTS_OFFSET + s * DESC_BYTES + DESC_STATE, garbage[g], 8);
        }
        if (mmpool_write(p, "x", 1, 1000) != MMPOOL_OK) {
            fail_msg("no slot after state words %#llx", (unsigned long long)garbage[g]);
        }
    }
    munmap(m, len);
    mmpool_close(p);
}

static void test_commit_lock_held_by_live_handle_is_taken(void **state) {
    fixture *fx = *state;
    create_pool(fx->path, 64, 2);
    mmpool *holder = NULL; /* entry 0: alive, but never committing */
    assert_int_equal(mmpool_open(&holder, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = map_meta(fx->path, 2, &len);
    put(m, OFF_COMMIT_LOCK, 1, 4);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mmpool *w = NULL;
        int rc = mmpool_open(&w, fx->path, NULL);
        rc = rc != 0 ? rc : mmpool_write(w, "x", 1, 1000);
        mmpool_close(w);
        _exit(rc == 0 ? 0 : 1);
    }
    fx->pids[0] = pid;
    int status = mmpt_reap(pid, 10000);
    fx->pids[0] = 0;
    assert_int_equal(status, 0); /* -1: the writer spun on the lock */
    char c;
    assert_int_equal(mmpool_try_read(holder, &c, 1, NULL), MMPOOL_OK);
    munmap(m, len);
    mmpool_close(holder);
}

/* ---- scribbler roles ---- */

/* Every frame starts with this tag; sum covers counter, len and the rest
 * of the frame, so a torn or mis-sized copy does not verify. */
typedef struct frame_tag {
    uint64_t counter;
    uint64_t len;
    uint64_t sum;
} frame_tag;

/* What a child sends back at the end, in one write (atomic on a pipe). */
typedef struct child_stats {
    uint64_t writer; /* 1 from the writer, 0 from a reader */
    uint64_t ok;     /* frames written, or reads verified */
    uint64_t errors; /* any other return code */
    uint64_t bad;    /* MMPOOL_OK with a frame that does not verify */
    uint64_t moved;  /* loans whose bytes changed while held */
} child_stats;

static uint64_t splitmix(uint64_t *s) {
    uint64_t x = (*s += UINT64_C(0x9e3779b97f4a7c15));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t now_ms(void) {
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
    uint64_t h = fnv1a(FNV_BASIS, t, offsetof(frame_tag, sum));
    size_t i = sizeof *t;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, frame + i, sizeof w);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    return fnv1a(h, frame + i, len - i);
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

static int frame_ok(const unsigned char *frame, uint64_t len) {
    frame_tag t;
    if (len < sizeof t) {
        return 0;
    }
    memcpy(&t, frame, sizeof t);
    return t.len == len && t.sum == frame_sum(&t, frame, (size_t)len);
}

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
    mmpool_stat(p, &info);
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
    uint64_t deadline = now_ms() + strtoull(argv[2], NULL, 10);
    child_stats st = {.writer = 1};
    for (unsigned i = 0; now_ms() < deadline; i = (i + 1) % WRITER_FRAMES) {
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
        if (rc == MMPOOL_OK && !frame_ok(buf, info.len)) {
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
    if (!frame_ok(buf, v.frame.len)) {
        /* Bytes that change under a loan mean a writer took the slot: the
         * scribbler cleared our pin, which no library can prevent. Bytes
         * that stay wrong were handed out wrong. */
        if (n != 0 && memcmp(buf, v.data, n) != 0) {
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
    uint64_t deadline = now_ms() + strtoull(argv[3], NULL, 10);
    mmpool *p = NULL;
    if (mmpool_open(&p, argv[1], &o) != MMPOOL_OK || write(atoi(argv[4]), "r", 1) != 1) {
        return 21;
    }
    static unsigned char buf[SCRIB_CAPACITY];
    child_stats st = {0};
    while (now_ms() < deadline) {
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
    uint64_t deadline = now_ms() + strtoull(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10);
    size_t table = (size_t)strtoul(argv[4], NULL, 10) * DESC_BYTES;
    size_t len = (size_t)round_page(SLOTS_OFFSET + table);
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    void *m = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        return 31;
    }
    volatile unsigned char *b = m;
    for (uint64_t i = 0; now_ms() < deadline; i++) {
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
    munmap(m, len);
    close(fd);
    return 0;
}

/* unpinner PATH MS COUNT: for MS milliseconds, sets every slot state word
 * that holds only pins back to 0, so that a writer can claim a slot while
 * its reader is still copying out of it. */
static int role_unpinner(int argc, char **argv) {
    if (argc != 4) {
        return 40;
    }
    uint64_t deadline = now_ms() + strtoull(argv[2], NULL, 10);
    uint32_t count = (uint32_t)strtoul(argv[3], NULL, 10);
    size_t len;
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    len = (size_t)round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    void *m = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        return 41;
    }
    _Atomic uint64_t *state = (_Atomic uint64_t *)((unsigned char *)m + SLOTS_OFFSET);
    const size_t stride = DESC_BYTES / sizeof *state;
    while (now_ms() < deadline) {
        for (uint32_t i = 0; i < count; i++) {
            uint64_t s = atomic_load(&state[i * stride]);
            if (s != 0 && (s & ~UINT64_C(0xffffffff)) == 0) {
                atomic_compare_exchange_strong(&state[i * stride], &s, 0);
            }
        }
    }
    munmap(m, len);
    close(fd);
    return 0;
}

/* ---- scribbler test ---- */

static unsigned long env_or(const char *name, unsigned long dflt) {
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : dflt;
}

/* Reads exactly n bytes from fd within timeout_ms; 0 on success. */
static int read_within(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (size_t done = 0; done < n;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = now_ms();
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
            return -1;
        }
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r <= 0) {
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

/* One round on a fresh pool; adds the children's stats to total. */
static void scribble_round(fixture *fx, int round, unsigned long ms, uint64_t seed,
                           child_stats *total, uint64_t *writes) {
    snprintf(fx->round_path, sizeof fx->round_path, "%s.r%d", fx->path, round);
    create_pool(fx->round_path, SCRIB_CAPACITY, SCRIB_SLOTS);
    int ready[2], stats[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(stats), 0);
    char ms_s[24], ready_s[12], stats_s[12], seed_s[24], count_s[12];
    snprintf(ms_s, sizeof ms_s, "%lu", ms + 300); /* outlive the scribbler */
    snprintf(ready_s, sizeof ready_s, "%d", ready[1]);
    snprintf(stats_s, sizeof stats_s, "%d", stats[1]);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    snprintf(count_s, sizeof count_s, "%d", SCRIB_SLOTS);
    const char *const names[] = {"writer", "latest", "fifo", "loan", "scribbler"};
    const char *path = fx->round_path;
    fx->pids[0] = mmpt_spawn("writer", path, ms_s, ready_s, stats_s, seed_s, NULL);
    for (int i = 1; i <= 3; i++) {
        fx->pids[i] = mmpt_spawn("reader", path, names[i], ms_s, ready_s, stats_s, NULL);
    }
    /* Everyone has opened the pool before the header may turn to junk. */
    char hello[4];
    if (read_within(ready[0], hello, sizeof hello, 10000) != 0) {
        fail_msg("round %d: the writer and readers did not all open the pool", round);
    }
    snprintf(ms_s, sizeof ms_s, "%lu", ms);
    fx->pids[4] = mmpt_spawn("scribbler", path, ms_s, seed_s, count_s, NULL);
    for (int i = 4; i >= 0; i--) {
        int status = mmpt_reap(fx->pids[i], (int)ms + 10000);
        fx->pids[i] = 0;
        if (status != 0) {
            fail_msg("round %d (seed %llu): %s %s", round, (unsigned long long)seed, names[i],
                     status < 0      ? "was stuck past its deadline"
                     : status >= 128 ? "died from a signal"
                                     : "failed");
        }
    }
    for (int i = 0; i < 4; i++) {
        child_stats st;
        assert_int_equal(read_within(stats[0], &st, sizeof st, 1000), 0);
        *(st.writer ? writes : &total->ok) += st.ok; /* stats come in any order */
        total->errors += st.errors;
        total->bad += st.bad;
        total->moved += st.moved;
    }
    close(ready[0]);
    close(ready[1]);
    close(stats[0]);
    close(stats[1]);
    if (mmpool_unlink(fx->round_path) != MMPOOL_OK) {
        unlink(fx->round_path); /* a scribbled header is no pool any more */
    }
    fx->round_path[0] = '\0';
}

static void test_scribbled_metadata_never_crashes_or_yields_bad_frames(void **state) {
    fixture *fx = *state;
    int rounds = (int)env_or("MMPOOL_SCRIBBLE_ROUNDS", 3);
    unsigned long ms = env_or("MMPOOL_SCRIBBLE_MS", 2000);
    uint64_t seed = env_or("MMPOOL_SCRIBBLE_SEED", (unsigned long)time(NULL));
    child_stats total = {0};
    uint64_t writes = 0;
    for (int r = 0; r < rounds; r++) {
        scribble_round(fx, r, ms, seed + (uint64_t)r, &total, &writes);
    }
    printf("scribbler: %d rounds, %llu successful reads verified, %llu error returns, "
           "%llu bad successes (%llu frames written, seed %llu)\n",
           rounds, (unsigned long long)total.ok, (unsigned long long)total.errors,
           (unsigned long long)total.bad, (unsigned long long)writes, (unsigned long long)seed);
    if (total.moved != 0) {
        printf("scribbler: %llu loans lost their pin to the scribbler\n",
               (unsigned long long)total.moved);
    }
    assert_int_equal(total.bad, 0);
    assert_true(total.ok > 0); /* otherwise nothing was tested */
}

static void test_copy_overwritten_during_read_is_refused(void **state) {
    fixture *fx = *state;
    snprintf(fx->round_path, sizeof fx->round_path, "%s.torn", fx->path);
    const char *path = fx->round_path;
    create_pool(path, TORN_CAPACITY, TORN_SLOTS);
    mmpool_options o = {.read_mode = MMPOOL_READ_FIFO}; /* reads the slot claimed next */
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&r, path, &o), MMPOOL_OK);
    int ready[2], stats[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(stats), 0);
    const unsigned long ms = env_or("MMPOOL_SCRIBBLE_MS", 2000);
    char ms_s[24], ready_s[12], stats_s[12], count_s[12];
    snprintf(ms_s, sizeof ms_s, "%lu", ms);
    snprintf(ready_s, sizeof ready_s, "%d", ready[1]);
    snprintf(stats_s, sizeof stats_s, "%d", stats[1]);
    snprintf(count_s, sizeof count_s, "%d", TORN_SLOTS);
    fx->pids[0] = mmpt_spawn("writer", path, ms_s, ready_s, stats_s, "1", NULL);
    char hello;
    if (read_within(ready[0], &hello, 1, 10000) != 0) {
        fail_msg("the writer did not start");
    }
    fx->pids[1] = mmpt_spawn("unpinner", path, ms_s, count_s, NULL);
    unsigned char *buf = malloc(TORN_CAPACITY);
    assert_non_null(buf);
    uint64_t ok = 0, refused = 0, bad = 0;
    for (uint64_t deadline = now_ms() + ms; now_ms() < deadline;) {
        mmpool_frame info;
        int rc = mmpool_read(r, buf, TORN_CAPACITY, &info, SCRIB_CALL_MS);
        ok += rc == MMPOOL_OK && frame_ok(buf, info.len);
        bad += rc == MMPOOL_OK && !frame_ok(buf, info.len);
        refused += rc == MMPOOL_EFORMAT;
    }
    for (int i = 1; i >= 0; i--) {
        assert_int_equal(mmpt_reap(fx->pids[i], (int)ms + 10000), 0);
        fx->pids[i] = 0;
    }
    close(ready[0]);
    close(ready[1]);
    close(stats[0]);
    close(stats[1]);
    mmpool_close(r);
    free(buf);
    printf("pin thief: %llu copies verified, %llu torn copies refused, %llu bad successes\n",
           (unsigned long long)ok, (unsigned long long)refused, (unsigned long long)bad);
    assert_int_equal(bad, 0);
    assert_true(ok > 0); /* otherwise nothing was tested */
}

/* ---- main ---- */

int main(int argc, char **argv) {
    static const mmpt_role roles[] = {{"writer", role_writer},
                                      {"reader", role_reader},
                                      {"scribbler", role_scribbler},
                                      {"unpinner", role_unpinner},
                                      {NULL, NULL}};
    int child = mmpt_child_main(argc, argv, roles);
    if (child >= 0) {
        return child;
    }
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_hand_built_header_per_format_md_opens),
        T(test_truncated_pool_is_refused_at_every_size),
        T(test_geometry_overflowing_64_bits_is_refused),
        T(test_stored_offsets_must_match_recomputed_geometry),
        T(test_other_byte_order_is_refused),
        T(test_format_without_nul_is_refused),
        T(test_capacity_and_count_out_of_limits_are_refused),
        T(test_descriptor_changed_after_commit_is_skipped),
        T(test_garbage_state_words_are_repaired_by_a_writer),
        T(test_commit_lock_held_by_live_handle_is_taken),
        T(test_scribbled_metadata_never_crashes_or_yields_bad_frames),
        T(test_copy_overwritten_during_read_is_refused),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("hostile files: %u tried, %u refused\n", hostile_tried, hostile_refused);
    return failed;
}
