/*
 * Hostile input: pool files crafted to be refused at open (docs/format.md,
 * "Validating a file"), damaged slot metadata of a live pool, and a process
 * that scribbles over a live pool's metadata while others use it.
 *
 * Sections: fixture, hostile files, damaged metadata, scribbler test, main.
 * The files are built by hand in hostile_files.c; the scribbler test's child
 * roles are in hostile_roles.c. test_api.c covers the simpler cases (empty,
 * zeros, random, magic only, version, checksum, non-regular files).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <fcntl.h>
#include <io.h>
#include <windows.h>
#else
#include <poll.h>
#endif

#include "mmpool.h"
#include "hostile.h"

#define SCRIB_SLOTS 4           /* slots of a scribbler round's pool */
#define TORN_CAPACITY (1 << 20) /* long copies: a wide window for a thief */
#define TORN_SLOTS 2            /* the writer wants the slot being read half the time */
#define THIEF_ROUNDS_MAX 10     /* pin-thief races run at most, until the thief wins one */

/* ---- fixture ---- */

/* What a test owns; teardown reaps its children and unlinks its pools. */
typedef struct fixture {
    char path[256];
    char round_path[300]; /* a scribbler round's pool */
    mmpt_proc pids[8];
} fixture;

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

/* ---- hostile files ---- */

static void test_hand_built_header_per_format_md_opens(void **state) {
    fixture *fx = *state;
    /* The worked example of docs/format.md: hs_build_image agrees with
     * the document byte for byte, so the variants differ only where meant. */
    unsigned char *img = hs_build_image(6220800, 3, HEADER_BYTES, "bgr8 1920x1080");
    uint64_t sum;
    memcpy(&sum, img + OFF_CHECKSUM, sizeof sum);
    assert_int_equal(sum, UINT64_C(0xaea4177c07ebb1e0));
    free(img);
    img = hs_build_image(64, 2, 16384, "hand made");
    hs_expect_opens(fx->path, img, 16384);
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
        hs_wrapped_geometry(pools[k].cap, pools[k].count, &stride, &data_offset, &file_size);
        hs_create_pool(fx->path, pools[k].cap, pools[k].count);
        size_t len;
        unsigned char *img = hs_read_file(fx->path, &len);
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
            hs_expect_refused(fx->path, what, img, sizes[i]);
        }
        hs_expect_opens(fx->path, img, len); /* untruncated, the same bytes open */
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
        hs_wrapped_geometry(cases[i].cap, cases[i].count, &stride, &data_offset, &file_size);
        size_t len = file_size <= (UINT64_C(8) << 20) && file_size > data_offset
                         ? (size_t)file_size
                         : (size_t)data_offset + PAGE;
        unsigned char *img = hs_build_image(cases[i].cap, cases[i].count, len, "");
        char what[96];
        snprintf(what, sizeof what, "capacity %#llx, count %u", (unsigned long long)cases[i].cap,
                 cases[i].count);
        hs_expect_refused(fx->path, what, img, len);
        free(img);
    }
}

/* The geometry's other unit (docs/format.md, "Geometry"): 2 MiB, as a
 * creator on a huge-page file system writes it. A header consistent in
 * that unit opens anywhere; one that mixes the units is refused. */
static void test_huge_page_geometry_opens_and_mixed_units_are_refused(void **state) {
    fixture *fx = *state;
    const uint64_t huge = UINT64_C(2) << 20;
    const uint64_t cap = UINT64_C(3) << 20; /* 3 MiB: stride 4 MiB in 2 MiB units */
    const uint32_t count = 2;
    const size_t len = (size_t)(huge + count * 2 * huge); /* data_offset 2 MiB */
    unsigned char *img = hs_build_image(cap, count, len, "huge");
    hs_put(img, OFF_SLOT_STRIDE, 2 * huge, 8);
    hs_put(img, OFF_DATA_OFFSET, huge, 8);
    hs_put(img, OFF_FILE_SIZE, len, 8);
    hs_fix_checksum(img);
    hs_expect_opens(fx->path, img, len);
    mmpool_info info;
    assert_int_equal(mmpool_inspect(fx->path, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    assert_int_equal(info.slot_stride, 2 * huge);
    const struct {
        const char *what;
        uint64_t stride, data_offset;
    } mixed[] = {
        {"2 MiB stride, 4 KiB data_offset", 2 * huge, 8192},
        {"4 KiB stride, 2 MiB data_offset", cap, huge},
    };
    for (size_t i = 0; i < sizeof mixed / sizeof mixed[0]; i++) {
        hs_put(img, OFF_SLOT_STRIDE, mixed[i].stride, 8);
        hs_put(img, OFF_DATA_OFFSET, mixed[i].data_offset, 8);
        hs_put(img, OFF_FILE_SIZE, mixed[i].data_offset + count * mixed[i].stride, 8);
        hs_fix_checksum(img);
        hs_expect_refused(fx->path, mixed[i].what, img, len);
    }
    free(img);
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
        unsigned char *img = hs_build_image(64, 2, len, "");
        hs_put(img, cases[i].off, cases[i].value, cases[i].width);
        hs_fix_checksum(img);
        hs_expect_refused(fx->path, cases[i].what, img, len);
        free(img);
    }
    /* Forgeries consistent among the stored fields, but not with capacity
     * and count. */
    unsigned char *img = hs_build_image(64, 2, len, "");
    hs_put(img, OFF_SLOT_STRIDE, 8192, 8);
    hs_put(img, OFF_FILE_SIZE, 8192 + 2 * 8192, 8);
    hs_fix_checksum(img);
    hs_expect_refused(fx->path, "stride 8192 with matching file_size", img, len);
    free(img);
    img = hs_build_image(64, 2, len, "");
    hs_put(img, OFF_DATA_OFFSET, 12288, 8);
    hs_put(img, OFF_FILE_SIZE, 12288 + 2 * 4096, 8);
    hs_fix_checksum(img);
    hs_expect_refused(fx->path, "data_offset 12288 with matching file_size", img, len);
    free(img);
}

static void test_other_byte_order_is_refused(void **state) {
    fixture *fx = *state;
    const size_t len = 16384;
    unsigned char *img = hs_build_image(64, 2, len, "");
    hs_put(img, OFF_BYTE_ORDER, 0x04030201, 4);
    hs_fix_checksum(img);
    hs_expect_refused(fx->path, "byte-order mark swapped", img, len);
    free(img);
    /* The whole header as a creator of the other byte order writes it:
     * every integer field reversed, the checksum taken over those bytes
     * and stored reversed too. */
    img = hs_build_image(64, 2, len, "");
    const struct {
        size_t off;
        size_t width;
    } fields[] = {{8, 2},  {10, 2}, {12, 4}, {16, 8}, {24, 4}, {28, 4},
                  {32, 8}, {40, 8}, {48, 8}, {56, 8}, {64, 4}, {68, 4}};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        hs_reverse(img + fields[f].off, fields[f].width);
    }
    hs_fix_checksum(img);
    hs_reverse(img + OFF_CHECKSUM, 8);
    hs_expect_refused(fx->path, "header of the other byte order", img, len);
    free(img);
}

static void test_format_without_nul_is_refused(void **state) {
    fixture *fx = *state;
    const size_t len = 16384;
    unsigned char *img = hs_build_image(64, 2, len, "");
    memset(img + OFF_FORMAT, 'x', 63); /* control: 63 bytes and a NUL open */
    hs_fix_checksum(img);
    hs_expect_opens(fx->path, img, len);
    memset(img + OFF_FORMAT, 'x', 64);
    hs_fix_checksum(img);
    hs_expect_refused(fx->path, "format of 64 'x'", img, len);
    memset(img + OFF_FORMAT, 0xff, 64);
    hs_fix_checksum(img);
    hs_expect_refused(fx->path, "format of 64 0xff", img, len);
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
        hs_wrapped_geometry(cases[i].cap, cases[i].count, &stride, &data_offset, &file_size);
        size_t len = (size_t)file_size + PAGE; /* the geometry fits the file */
        unsigned char *img = hs_build_image(cases[i].cap, cases[i].count, len, "");
        hs_expect_refused(fx->path, cases[i].what, img, len);
        free(img);
    }
}

/* ---- damaged metadata of a live pool ---- */

static void test_descriptor_changed_after_commit_is_skipped(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 4096, 2);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    unsigned char frame[200], buf[4096];
    memset(frame, 0xab, sizeof frame);
    assert_int_equal(mmpool_try_write(p, frame, sizeof frame), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    /* A shorter length, still within the capacity: only the check word
     * written at commit tells. The first write went to slot 0. */
    hs_put(m, SLOTS_OFFSET + DESC_LEN, 100, 8);
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_EFORMAT);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_EAGAIN); /* skipped */
    assert_int_equal(mmpool_try_write(p, frame, sizeof frame), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, &info), MMPOOL_OK);
    assert_int_equal(info.len, sizeof frame);
    assert_memory_equal(buf, frame, sizeof frame);
    hs_unmap(m, len);
    mmpool_close(p);
}

/* Writes and reads n frames; returns how many reads succeeded. */
static int stream(mmpool *w, mmpool *r, int n) {
    unsigned char buf[64];
    int got = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(mmpool_try_write(w, &i, sizeof i), MMPOOL_OK);
        got += mmpool_try_read(r, buf, sizeof buf, NULL) == MMPOOL_OK;
    }
    return got;
}

static void test_scribbled_seq_in_free_slot_stops_nobody(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 3);
    mmpool *w = NULL;
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(stream(w, r, 1), 1);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 3, &len);
    /* The largest seq in the empty slot 2: without a matching check word it
     * must neither count as a frame nor move last_seq. */
    hs_put(m, SLOTS_OFFSET + 2 * DESC_BYTES + DESC_SEQ, UINT64_MAX, 8);
    assert_int_equal(stream(w, r, 100), 100);
    mmpool *late = NULL; /* a reader that comes afterwards sees frames too */
    assert_int_equal(mmpool_open(&late, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(stream(w, late, 100), 100);
    mmpool_close(late);
    hs_unmap(m, len);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_exhausted_last_seq_fails_writes_visibly(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 2);
    mmpool *w = NULL;
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    hs_put(m, OFF_LAST_SEQ, UINT64_MAX, 8);
    /* No seq is left to give: an error, not a frame that nobody can see. */
    assert_int_equal(mmpool_try_write(w, "x", 1), MMPOOL_EFORMAT);
    void *data;
    assert_int_equal(mmpool_write_acquire(w, &data, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write_commit(w, 1), MMPOOL_EFORMAT);
    /* The slots were given back: once last_seq is sane, writes work. */
    hs_put(m, OFF_LAST_SEQ, 7, 8);
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&r, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(stream(w, r, 2), 2);
    hs_unmap(m, len);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_garbage_state_words_are_repaired_by_a_writer(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 2);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    /* Reserved bits; a writer beyond the handle table; the pin of entry 31,
     * which no live handle owns. Each time both slots look held. */
    const uint64_t garbage[] = {UINT64_C(0xffffff0000000000), UINT64_C(0x000000ff00000000),
                                UINT64_C(0x0000000080000000)};
    for (size_t g = 0; g < sizeof garbage / sizeof garbage[0]; g++) {
        for (uint32_t s = 0; s < 2; s++) {
            hs_put(m, SLOTS_OFFSET + s * DESC_BYTES + DESC_STATE, garbage[g], 8);
        }
        if (mmpool_write(p, "x", 1, 1000) != MMPOOL_OK) {
            fail_msg("no slot after state words %#llx", (unsigned long long)garbage[g]);
        }
    }
    hs_unmap(m, len);
    mmpool_close(p);
}

/* The state word of slot i of the mapping m. */
static uint64_t state_word(const unsigned char *m, uint32_t i) {
    uint64_t v;
    memcpy(&v, m + SLOTS_OFFSET + i * DESC_BYTES + DESC_STATE, sizeof v);
    return v;
}

/* One read in the given way: a copy, or a read loan released at once. */
static int read_one(mmpool *r, int loan, mmpool_frame *info, int timeout_ms) {
    if (!loan) {
        unsigned char buf[64];
        return mmpool_read(r, buf, sizeof buf, info, timeout_ms);
    }
    mmpool_view v;
    int rc = mmpool_read_acquire(r, &v, timeout_ms);
    if (rc == MMPOOL_OK) {
        *info = v.frame;
        assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    }
    return rc;
}

static void test_damaged_state_word_is_passed_over_and_repaired(void **state) {
    fixture *fx = *state;
    /* FIFO and LATEST, copies and loans: one reserved bit in the state word
     * of the slot that holds the frame the read wants first. */
    const struct {
        uint32_t mode;
        int loan;
        uint32_t slot; /* seqs 1, 2, 3 are in slots 0, 1, 2 */
        uint64_t want[2];
    } cases[] = {
        {MMPOOL_READ_FIFO, 0, 0, {2, 3}},
        {MMPOOL_READ_FIFO, 1, 0, {2, 3}},
        {MMPOOL_READ_LATEST, 0, 2, {2, 0}},
        {MMPOOL_READ_LATEST, 1, 2, {2, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hs_create_pool(fx->path, 64, 4);
        mmpool *w = NULL;
        mmpool *r = NULL;
        mmpool_options o = {.read_mode = cases[c].mode};
        assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
        assert_int_equal(mmpool_open(&r, fx->path, &o), MMPOOL_OK);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(mmpool_try_write(w, &i, sizeof i), MMPOOL_OK);
        }
        size_t len;
        unsigned char *m = hs_map_meta(fx->path, 4, &len);
        const uint32_t s = cases[c].slot;
        hs_put(m, SLOTS_OFFSET + s * DESC_BYTES + DESC_STATE, UINT64_C(1) << 40, 8);
        /* The damaged slot is passed over, not waited for. */
        mmpool_frame info = {0};
        for (int k = 0; k < 2 && cases[c].want[k] != 0; k++) {
            int rc = read_one(r, cases[c].loan, &info, 100);
            if (rc != MMPOOL_OK || info.seq != cases[c].want[k]) {
                fail_msg("case %zu, read %d: %s, seq %llu; want seq %llu", c, k,
                         mmpool_err_name(rc), (unsigned long long)info.seq,
                         (unsigned long long)cases[c].want[k]);
            }
        }
        /* The next writer mends the word, and frames keep coming. */
        for (uint64_t seq = 4; seq < 12; seq++) {
            assert_int_equal(mmpool_try_write(w, &seq, sizeof seq), MMPOOL_OK);
            if (seq == 4 && state_word(m, s) != 0) {
                fail_msg("case %zu: slot %u still %#llx after a write", c, s,
                         (unsigned long long)state_word(m, s));
            }
            int rc = read_one(r, cases[c].loan, &info, 100);
            if (rc != MMPOOL_OK || info.seq != seq) {
                fail_msg("case %zu: read after write %llu: %s, seq %llu", c,
                         (unsigned long long)seq, mmpool_err_name(rc),
                         (unsigned long long)info.seq);
            }
        }
        hs_unmap(m, len);
        mmpool_close(r);
        mmpool_close(w);
        assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    }
}

/* Overwrites the writer field (bits 32..39) of slot i's state word. */
static void put_writer_field(unsigned char *m, uint32_t i, uint64_t writer) {
    hs_put(m, SLOTS_OFFSET + i * DESC_BYTES + DESC_STATE, writer << 32, 8);
}

static void test_damaged_writer_field_of_a_live_writer_is_never_handed_out(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 2);
    mmpool *w = NULL, *w2 = NULL, *r = NULL;
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&w2, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    /* Slot 0: seq 1 on loan to r. Slot 1: w's write loan, whose writer
     * field a scribble turns into a value naming no entry. */
    assert_int_equal(mmpool_try_write(w, "0000", 4), MMPOOL_OK);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(r, &v, 0), MMPOOL_OK);
    void *d1 = NULL;
    assert_int_equal(mmpool_write_acquire(w, &d1, NULL, 0), MMPOOL_OK);
    put_writer_field(m, 1, 33);
    /* Nothing proves w dead, so nobody else gets its slot: no free slot. */
    assert_int_equal(mmpool_try_write(w2, "BBBB", 4), MMPOOL_EBUSY);
    assert_int_equal(state_word(m, 1), UINT64_C(33) << 32);
    /* w finds its claim gone: the loan ends with MMPOOL_EFORMAT and the
     * slot's state and seq are not touched. */
    memcpy(d1, "AAAA", 4);
    assert_int_equal(mmpool_write_commit(w, 4), MMPOOL_EFORMAT);
    assert_int_equal(mmpool_write_abort(w), MMPOOL_EINVAL);
    assert_int_equal(state_word(m, 1), UINT64_C(33) << 32);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(w2, &st), MMPOOL_OK);
    assert_int_equal(st.last_seq, 1);
    /* Nobody records a claim of slot 1 now: the next writer that finds no
     * free slot clears the field, and frames go on from seq 2. */
    assert_int_equal(mmpool_try_write(w2, "BBBB", 4), MMPOOL_OK);
    assert_int_equal(state_word(m, 1), 0);
    assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
    char buf[8] = {0};
    mmpool_frame f;
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
    assert_int_equal(f.seq, 2);
    assert_memory_equal(buf, "BBBB", 4);
    /* The same over a slot that is not the only candidate: a writer that
     * meets the damaged field takes the other slot, never that one. */
    void *d2 = NULL;
    assert_int_equal(mmpool_write_acquire(w, &d1, NULL, 0), MMPOOL_OK);
    uint32_t held = state_word(m, 0) != 0 ? 0 : 1; /* w's slot */
    put_writer_field(m, held, 40);
    assert_int_equal(mmpool_write_acquire(w2, &d2, NULL, 0), MMPOOL_OK);
    assert_ptr_not_equal(d1, d2);
    memcpy(d2, "CCCC", 4);
    assert_int_equal(mmpool_write_commit(w2, 4), MMPOOL_OK);
    assert_int_equal(mmpool_write_commit(w, 4), MMPOOL_EFORMAT);
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
    assert_int_equal(f.seq, 3);
    assert_memory_equal(buf, "CCCC", 4);
    hs_unmap(m, len);
    mmpool_close(r);
    mmpool_close(w2);
    mmpool_close(w);
}

static void test_commit_lock_naming_a_live_handle_without_its_mark_is_cleared(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 2);
    mmpool *r = NULL; /* entry 0: alive, reading, never committing */
    mmpool *w = NULL;
    assert_int_equal(mmpool_open(&r, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    /* Values naming the live reader, as a scribble or a bit flip leaves
     * them: its entry carries no such mark, so they are no hold. Writers
     * clear them and go on, well within a second, while the reader lives. */
    const uint32_t scribbles[] = {1, 1 | (7u << 6), 0xffffffc1u};
    for (size_t i = 0; i < sizeof scribbles / sizeof scribbles[0]; i++) {
        hs_put(m, OFF_COMMIT_LOCK, scribbles[i], 4);
        uint64_t t0 = hs_now_ms();
        assert_int_equal(mmpool_write(w, &i, sizeof i, 2000), MMPOOL_OK);
        if (hs_now_ms() - t0 >= 1000) {
            fail_msg("lock %#x held writers up for %llu ms", scribbles[i],
                     (unsigned long long)(hs_now_ms() - t0));
        }
        assert_int_equal(mmpool_try_write(w, &i, sizeof i), MMPOOL_OK);
    }
    size_t got;
    assert_int_equal(mmpool_try_read(r, &got, sizeof got, NULL), MMPOOL_OK);
    assert_int_equal(got, 2);
    hs_unmap(m, len);
    mmpool_close(w);
    mmpool_close(r);
}

/* Entry i's lock_mark (docs/format.md: entry offset 36). */
#define OFF_LOCK_MARK(i) (1024 + 64 * (i) + 36)

static void test_commit_lock_naming_a_live_handle_is_not_taken(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 2);
    mmpool *holder = NULL; /* entry 0: alive, but never committing */
    mmpool *w = NULL;
    assert_int_equal(mmpool_open(&holder, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 2, &len);
    /* A lock value that its entry carries looks exactly like that handle
     * stopped in the middle of a commit: other writers must not take it. */
    const uint32_t held = 1 | (0x2345u << 6);
    hs_put(m, OFF_LOCK_MARK(0), held, 4);
    hs_put(m, OFF_COMMIT_LOCK, held, 4);
    uint64_t t0 = hs_now_ms();
    assert_int_equal(mmpool_try_write(w, "w", 1), MMPOOL_EBUSY);
    assert_true(hs_now_ms() - t0 < 100);
    assert_int_equal(mmpool_write(w, "w", 1, 50), MMPOOL_ETIMEDOUT);
    uint32_t lock;
    memcpy(&lock, m + OFF_COMMIT_LOCK, sizeof lock);
    assert_int_equal(lock, held);
    /* The handle it names knows it is not committing: its next commit
     * marks its entry afresh, which unmasks the value as damage; then
     * everyone writes again. Values naming no entry are cleared by anyone. */
    assert_int_equal(mmpool_try_write(holder, "h", 1), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "w", 1), MMPOOL_OK);
    hs_put(m, OFF_COMMIT_LOCK, 33, 4);
    assert_int_equal(mmpool_try_write(w, "w", 1), MMPOOL_OK);
    char c;
    assert_int_equal(mmpool_try_read(holder, &c, 1, NULL), MMPOOL_OK);
    assert_int_equal(c, 'w');
    mmpool_stats st;
    assert_int_equal(mmpool_stat(w, &st), MMPOOL_OK);
    assert_int_equal(st.last_seq, 3);
    hs_unmap(m, len);
    mmpool_close(w);
    mmpool_close(holder);
}

/* Makes entry i look like a handle stopped in the middle of a commit, as
 * format.md defines a hold: the lock value in its lock_mark, then in the
 * lock. */
/* An atomic store, as another process would make it: threads of this
 * process may be looking at the word meanwhile. */
static void put32(unsigned char *m, size_t off, uint32_t v) {
    atomic_store((_Atomic uint32_t *)(void *)(m + off), v);
}

static void forge_hold(unsigned char *m, uint32_t i, uint32_t nonce) {
    uint32_t v = (i + 1) | (nonce << 6);
    put32(m, OFF_LOCK_MARK(i), v);
    put32(m, OFF_COMMIT_LOCK, v);
}

/* Lets go of a forged hold without waking anyone. */
static void drop_hold(unsigned char *m, uint32_t i) {
    put32(m, OFF_COMMIT_LOCK, 0);
    put32(m, OFF_LOCK_MARK(i), 0);
}

typedef struct loan_commit {
    mmpool *pool;
    size_t len;
    int rc;
} loan_commit;

static void *commit_in_thread(void *arg) {
    loan_commit *lc = arg;
    lc->rc = mmpool_write_commit(lc->pool, lc->len);
    return NULL;
}

static void test_frame_times_follow_seq_order(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 4);
    mmpool *h = NULL, *w1 = NULL, *w2 = NULL, *r = NULL;
    mmpool_options fifo = {.read_mode = MMPOOL_READ_FIFO};
    assert_int_equal(mmpool_open(&h, fx->path, NULL), MMPOOL_OK); /* entry 0 */
    assert_int_equal(mmpool_open(&w1, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&w2, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, fx->path, &fifo), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 4, &len);
    /* w1 starts its commit while h holds the lock, and waits; w2 commits
     * as soon as the lock is free, before w1 wakes: w2's frame gets the
     * lower seq, so its time must not be later than w1's. */
    forge_hold(m, 0, 0x3456);
    void *d;
    assert_int_equal(mmpool_write_acquire(w1, &d, NULL, 0), MMPOOL_OK);
    memcpy(d, "1", 1);
    loan_commit lc = {.pool = w1, .len = 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, commit_in_thread, &lc), 0);
    mmpt_sleep_ms(30);
    drop_hold(m, 0);
    assert_int_equal(mmpool_try_write(w2, "2", 1), MMPOOL_OK);
    pthread_join(t, NULL);
    assert_int_equal(lc.rc, MMPOOL_OK);
    mmpool_frame a, b;
    char c;
    assert_int_equal(mmpool_try_read(r, &c, 1, &a), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(r, &c, 1, &b), MMPOOL_OK);
    assert_int_equal(b.seq, a.seq + 1);
    if (b.timestamp_ns < a.timestamp_ns) {
        fail_msg("seq %llu is %llu us older than seq %llu", (unsigned long long)b.seq,
                 (unsigned long long)((a.timestamp_ns - b.timestamp_ns) / 1000),
                 (unsigned long long)a.seq);
    }
    hs_unmap(m, len);
    mmpool_close(r);
    mmpool_close(w2);
    mmpool_close(w1);
    mmpool_close(h);
}

static void test_loan_commit_uses_up_an_interrupt_only_if_it_waits(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 4);
    mmpool *h = NULL, *w = NULL;
    assert_int_equal(mmpool_open(&h, fx->path, NULL), MMPOOL_OK); /* entry 0 */
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 4, &len);
    void *d;
    /* Lock free: the commit publishes and leaves the interrupt pending, and
     * the next blocking call gets it. */
    assert_int_equal(mmpool_write_acquire(w, &d, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_interrupt(w), MMPOOL_OK);
    assert_int_equal(mmpool_write_commit(w, 0), MMPOOL_OK);
    assert_int_equal(mmpool_write(w, "x", 1, 1000), MMPOOL_ECANCELED);
    /* Lock held: the commit would wait, so the pending interrupt ends it
     * at once, unpublished. */
    assert_int_equal(mmpool_write_acquire(w, &d, NULL, 0), MMPOOL_OK);
    forge_hold(m, 0, 0x4567);
    assert_int_equal(mmpool_interrupt(w), MMPOOL_OK);
    uint64_t t0 = hs_now_ms();
    assert_int_equal(mmpool_write_commit(w, 0), MMPOOL_ECANCELED);
    assert_true(hs_now_ms() - t0 < 1000);
    drop_hold(m, 0);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(w, &st), MMPOOL_OK);
    assert_int_equal(st.last_seq, 1);
    hs_unmap(m, len);
    mmpool_close(w);
    mmpool_close(h);
}

typedef struct late_release {
    unsigned char *m;
    atomic_int ready; /* the thread runs */
    atomic_int go;    /* the try call starts */
} late_release;

/* Waits for go, then holds the lock on for about 15 us, as a committer
 * preempted for a moment would, and lets go. */
static void *release_after_15_us(void *arg) {
    late_release *lr = arg;
    atomic_store(&lr->ready, 1);
    while (atomic_load(&lr->go) == 0) {
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 15000);
    drop_hold(lr->m, 0);
    return NULL;
}

static void test_try_write_outwaits_a_briefly_preempted_committer(void **state) {
    fixture *fx = *state;
    hs_create_pool(fx->path, 64, 4);
    mmpool *h = NULL, *w = NULL;
    assert_int_equal(mmpool_open(&h, fx->path, NULL), MMPOOL_OK); /* entry 0 */
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    size_t len;
    unsigned char *m = hs_map_meta(fx->path, 4, &len);
    /* Each round a holder lets go 15 us after the try call starts: a
     * try_write spins tens of microseconds before MMPOOL_EBUSY, so most
     * rounds publish (a loaded machine may delay the releasing thread). */
    int ok = 0;
    const int rounds = 20;
    for (int i = 0; i < rounds; i++) {
        forge_hold(m, 0, 0x100u + (uint32_t)i);
        late_release lr = {.m = m};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, release_after_15_us, &lr), 0);
        while (atomic_load(&lr.ready) == 0) {
        }
        atomic_store(&lr.go, 1);
        ok += mmpool_try_write(w, &i, sizeof i) == MMPOOL_OK;
        pthread_join(t, NULL);
    }
    printf("try_write: %d of %d rounds outwaited a 15 us hold\n", ok, rounds);
    assert_true(ok >= rounds / 4);
    hs_unmap(m, len);
    mmpool_close(w);
    mmpool_close(h);
}

/* A descriptor is read once: the length and time a read hands out are the
 * ones it checked. Another process flips the len field of the only slot
 * between the frame's length and a longer one, and bit 40 of its time
 * field, while a writer and a reader (copy and loan by turns) run; every
 * read either is refused or gives the frame as written with its commit
 * time, never the checked frame with the other length or a time 18 minutes
 * away. */
static void test_descriptor_changing_under_a_read_is_read_once(void **state) {
    fixture *fx = *state;
    enum { FRAME = 1000, OTHER = 3000, READ_MS = 2000, ENOUGH = 20000 };
    hs_create_pool(fx->path, 4096, 1);
    mmpool *w = NULL, *r = NULL;
    assert_int_equal(mmpool_open(&w, fx->path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, fx->path, NULL), MMPOOL_OK);
    static unsigned char frame[FRAME], buf[4096];
    for (size_t i = 0; i < sizeof frame; i++) {
        frame[i] = (unsigned char)(i * 7 + 1);
    }
    char len_a[16], len_b[16];
    snprintf(len_a, sizeof len_a, "%d", FRAME);
    snprintf(len_b, sizeof len_b, "%d", OTHER);
    /* 60 s at most: it is killed once the reads are done. */
    fx->pids[0] = mmpt_spawn("flipper", fx->path, "60000", "0", len_a, len_b, NULL);
    /* The reads begin once the flipper is at work: it may take longer to
     * start than they take. */
    size_t map_len;
    unsigned char *m = hs_map_meta(fx->path, 1, &map_len);
    _Atomic uint64_t *len_field = (_Atomic uint64_t *)(m + SLOTS_OFFSET + DESC_LEN);
    uint64_t deadline = hs_now_ms() + 10000;
    while (atomic_load(len_field) != OTHER) {
        if (hs_now_ms() >= deadline) {
            fail_msg("the flipper did not start within 10 s");
        }
    }
    hs_unmap(m, map_len);
    /* Until enough reads were both refused and accepted (so the two
     * processes ran at once), for READ_MS at most. */
    unsigned long ok = 0, refused = 0, wrong = 0;
    deadline = hs_now_ms() + READ_MS;
    for (int i = 0; (ok < ENOUGH || refused < ENOUGH) && hs_now_ms() < deadline; i++) {
        assert_int_equal(mmpool_write(w, frame, sizeof frame, 1000), MMPOOL_OK);
        mmpool_frame f = {0};
        const unsigned char *got = buf;
        mmpool_view v;
        int rc;
        if (i % 2 == 0) {
            rc = mmpool_try_read(r, buf, sizeof buf, &f);
        } else if ((rc = mmpool_read_acquire(r, &v, 0)) == MMPOOL_OK) {
            f = v.frame;
            got = v.data;
        }
        if (rc == MMPOOL_OK) {
            uint64_t now = mmpool_now_ns();
            uint64_t age = now > f.timestamp_ns ? now - f.timestamp_ns : f.timestamp_ns - now;
            int good =
                f.len == FRAME && age < UINT64_C(60000000000) && memcmp(got, frame, FRAME) == 0;
            ok += good;
            wrong += !good;
            if (i % 2 != 0) {
                assert_int_equal(mmpool_read_release(r, &v), MMPOOL_OK);
            }
        } else {
            assert_int_equal(rc, MMPOOL_EFORMAT);
            refused++;
        }
    }
    assert_int_equal(mmpt_kill(fx->pids[0]), 0);
    assert_int_equal(mmpt_reap(fx->pids[0], 10000), MMPT_KILLED);
    fx->pids[0] = 0;
    printf("flipper: %lu reads gave the frame, %lu refused, %lu gave another length or time\n", ok,
           refused, wrong);
    assert_int_equal(wrong, 0);
    assert_true(ok > 0); /* otherwise nothing was tested */
    mmpool_close(r);
    mmpool_close(w);
    if (refused == 0) {
        /* One CPU for both (an affinity mask, a loaded machine): the
         * flipper never ran between a commit and a read. */
        printf("flipper: never ran between a commit and a read: not tested here\n");
        skip();
    }
}

/* ---- scribbler test ---- */

static unsigned long env_or(const char *name, unsigned long dflt) {
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : dflt;
}

/* A pipe whose both ends the children inherit, with their numbers. */
static void make_pipe(int fds[2]) {
#ifdef _WIN32
    assert_int_equal(_pipe(fds, 65536, _O_BINARY), 0);
#else
    assert_int_equal(pipe(fds), 0);
#endif
}

#ifdef _WIN32
/* Reads exactly n bytes from fd within timeout_ms; 0 on success. Windows
 * pipes cannot be polled: PeekNamedPipe says how much is there. */
static int read_within(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = hs_now_ms() + (uint64_t)timeout_ms;
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    for (size_t done = 0; done < n;) {
        DWORD avail = 0;
        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) {
            return -1;
        }
        if (avail == 0) {
            if (hs_now_ms() >= deadline) {
                return -1;
            }
            Sleep(1);
            continue;
        }
        int r = _read(fd, (char *)buf + done, (unsigned)(n - done));
        if (r <= 0) {
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}
#else
/* Reads exactly n bytes from fd within timeout_ms; 0 on success. */
static int read_within(int fd, void *buf, size_t n, int timeout_ms) {
    uint64_t deadline = hs_now_ms() + (uint64_t)timeout_ms;
    for (size_t done = 0; done < n;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = hs_now_ms();
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
#endif

/* One round on a fresh pool; adds the children's stats to total. */
static void scribble_round(fixture *fx, int round, unsigned long ms, uint64_t seed,
                           child_stats *total, uint64_t *writes) {
    snprintf(fx->round_path, sizeof fx->round_path, "%s.r%d", fx->path, round);
    hs_create_pool(fx->round_path, SCRIB_CAPACITY, SCRIB_SLOTS);
    int ready[2], stats[2];
    make_pipe(ready);
    make_pipe(stats);
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

/* One race of the pin thief, ms long: a writer fills the slots of a fresh
 * pool while an unpinner clears the pins of the reader here, which copies
 * frames out; adds what the copies gave to *ok, *refused and *bad. */
static void thief_round(fixture *fx, unsigned long ms, uint64_t *ok, uint64_t *refused,
                        uint64_t *bad) {
    snprintf(fx->round_path, sizeof fx->round_path, "%s.torn", fx->path);
    const char *path = fx->round_path;
    hs_create_pool(path, TORN_CAPACITY, TORN_SLOTS);
    mmpool_options o = {.read_mode = MMPOOL_READ_FIFO}; /* reads the slot claimed next */
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&r, path, &o), MMPOOL_OK);
    int ready[2], stats[2];
    make_pipe(ready);
    make_pipe(stats);
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
    for (uint64_t deadline = hs_now_ms() + ms; hs_now_ms() < deadline;) {
        mmpool_frame info;
        int rc = mmpool_read(r, buf, TORN_CAPACITY, &info, SCRIB_CALL_MS);
        *ok += rc == MMPOOL_OK && hs_frame_ok(buf, info.len);
        *bad += rc == MMPOOL_OK && !hs_frame_ok(buf, info.len);
        *refused += rc == MMPOOL_EFORMAT;
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
    assert_int_equal(mmpool_unlink(path), MMPOOL_OK);
    fx->round_path[0] = '\0';
}

static void test_copy_overwritten_during_read_is_refused(void **state) {
    fixture *fx = *state;
    const unsigned long ms = env_or("MMPOOL_SCRIBBLE_MS", 2000);
    uint64_t ok = 0, refused = 0, bad = 0;
    int rounds = 0;
    /* The thief wins only when a writer claims the slot it unpinned before
     * the copy out of it ends: the race is driven until that happened at
     * least once, since a run it never won proves nothing. */
    do {
        thief_round(fx, ms, &ok, &refused, &bad);
        rounds++;
    } while (refused == 0 && bad == 0 && rounds < THIEF_ROUNDS_MAX);
    printf("pin thief: %llu copies verified, %llu torn copies refused, %llu bad successes "
           "(%d rounds)\n",
           (unsigned long long)ok, (unsigned long long)refused, (unsigned long long)bad, rounds);
    assert_int_equal(bad, 0);
    assert_true(ok > 0);      /* otherwise nothing was tested */
    assert_true(refused > 0); /* otherwise the thief never won its race */
}

/* ---- main ---- */

int main(int argc, char **argv) {
    int child = mmpt_child_main(argc, argv, hs_roles);
    if (child >= 0) {
        return child;
    }
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_hand_built_header_per_format_md_opens),
        T(test_truncated_pool_is_refused_at_every_size),
        T(test_geometry_overflowing_64_bits_is_refused),
        T(test_stored_offsets_must_match_recomputed_geometry),
        T(test_huge_page_geometry_opens_and_mixed_units_are_refused),
        T(test_other_byte_order_is_refused),
        T(test_format_without_nul_is_refused),
        T(test_capacity_and_count_out_of_limits_are_refused),
        T(test_descriptor_changed_after_commit_is_skipped),
        T(test_scribbled_seq_in_free_slot_stops_nobody),
        T(test_exhausted_last_seq_fails_writes_visibly),
        T(test_garbage_state_words_are_repaired_by_a_writer),
        T(test_damaged_state_word_is_passed_over_and_repaired),
        T(test_damaged_writer_field_of_a_live_writer_is_never_handed_out),
        T(test_commit_lock_naming_a_live_handle_without_its_mark_is_cleared),
        T(test_commit_lock_naming_a_live_handle_is_not_taken),
        T(test_frame_times_follow_seq_order),
        T(test_try_write_outwaits_a_briefly_preempted_committer),
        T(test_loan_commit_uses_up_an_interrupt_only_if_it_waits),
        T(test_descriptor_changing_under_a_read_is_read_once),
        T(test_scribbled_metadata_never_crashes_or_yields_bad_frames),
        T(test_copy_overwritten_during_read_is_refused),
    };
#undef T
    mmpt_select_tests();
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("hostile files: %u tried, %u refused\n", hs_files_tried, hs_files_refused);
    return failed;
}
