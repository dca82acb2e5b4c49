/*
 * Pool files for the hostile-input tests, built by hand from docs/format.md
 * rather than by the library, so that a test can forge any field; and the
 * checks that the library adopts, or refuses without a trace, what it is
 * given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#endif

#include "mmpool.h"
#include "hostile.h"

unsigned hs_files_tried;
unsigned hs_files_refused;

/* ---- building files ---- */

uint64_t hs_fnv1a(uint64_t h, const void *bytes, size_t n) {
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

void hs_put(unsigned char *img, size_t off, uint64_t v, int width) {
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    memcpy(img + off,
           width == 2   ? (void *)&v16
           : width == 4 ? (void *)&v32
                        : (void *)&v,
           (size_t)width);
}

void hs_fix_checksum(unsigned char *img) {
    hs_put(img, OFF_CHECKSUM, hs_fnv1a(FNV_BASIS, img, OFF_CHECKSUM), 8);
}

void hs_reverse(unsigned char *b, size_t n) {
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

uint64_t hs_round_page(uint64_t x) {
    return (x + PAGE - 1) / PAGE * PAGE;
}

void hs_wrapped_geometry(uint64_t cap, uint32_t count, uint64_t *stride, uint64_t *data_offset,
                         uint64_t *file_size) {
    *stride = hs_round_page(cap);
    *data_offset = hs_round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    *file_size = *data_offset + (uint64_t)count * *stride;
}

unsigned char *hs_build_image(uint64_t cap, uint32_t count, size_t len, const char *format) {
    unsigned char *img = calloc(1, len);
    assert_non_null(img);
    uint64_t stride, data_offset, file_size;
    hs_wrapped_geometry(cap, count, &stride, &data_offset, &file_size);
    memcpy(img, "MMPOOL\r\n", 8);
    hs_put(img, OFF_VERSION_MAJOR, 2, 2);
    hs_put(img, OFF_BYTE_ORDER, 0x01020304, 4);
    hs_put(img, OFF_SLOT_CAPACITY, cap, 8);
    hs_put(img, OFF_SLOT_COUNT, count, 4);
    hs_put(img, OFF_HANDLE_COUNT, 32, 4);
    hs_put(img, OFF_SLOT_STRIDE, stride, 8);
    hs_put(img, OFF_DATA_OFFSET, data_offset, 8);
    hs_put(img, OFF_FILE_SIZE, file_size, 8);
    hs_put(img, OFF_CREATED_NS, UINT64_C(1700000000000000000), 8);
    hs_put(img, OFF_HANDLES_OFFSET, 1024, 4);
    hs_put(img, OFF_SLOTS_OFFSET, 4096, 4);
    memcpy(img + OFF_FORMAT, format, strlen(format));
    hs_fix_checksum(img);
    return img;
}

/* ---- what the library makes of them ---- */

static void write_file(const char *path, const unsigned char *bytes, size_t n) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
    /* As a pool's creator would: the umask's 0644 lets others read without
     * writing, which the library refuses. */
    assert_int_equal(chmod(path, 0600), 0);
}

unsigned char *hs_read_file(const char *path, size_t *len) {
    FILE *fp = mmpt_fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size >= 0);
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    *len = (size_t)size;
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

#ifdef _WIN32
/* How many handles the process has open: more when one was left open. */
static int open_fds(void) {
    DWORD n = 0;
    assert_true(GetProcessHandleCount(GetCurrentProcess(), &n));
    return (int)n;
}

/* Whether anything is left mapped: the number of mapped-file regions of
 * the address space, which a leaked view raises. */
static int mapped_regions(void) {
    int n = 0;
    MEMORY_BASIC_INFORMATION mbi;
    for (unsigned char *a = NULL; VirtualQuery(a, &mbi, sizeof mbi) == sizeof mbi;
         a = (unsigned char *)mbi.BaseAddress + mbi.RegionSize) {
        n += mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED;
    }
    return n;
}
#else
/* How many entries /proc/self/fd lists: more when a descriptor was left
 * open. */
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

/* Whether path appears in this process's mappings. */
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
#endif

void hs_create_pool(const char *path, uint64_t cap, uint32_t count) {
    mmpool_options o = {.slot_capacity = cap, .slot_count = count, .flags = MMPOOL_CREATE};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    mmpool_close(p);
}

void hs_expect_opens(const char *path, const unsigned char *img, size_t len) {
    write_file(path, img, len);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, NULL), MMPOOL_OK);
    mmpool_close(p);
}

void hs_expect_refused(const char *path, const char *what, const unsigned char *img, size_t len) {
    hs_files_tried++;
    write_file(path, img, len);
    int fds = open_fds();
#ifdef _WIN32
    int regions = mapped_regions();
#endif
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
    unsigned char *back = hs_read_file(path, &back_len);
    if (back_len != len || (len != 0 && memcmp(back, img, len) != 0)) {
        fail_msg("%s: the file was changed (%zu bytes, was %zu)", what, back_len, len);
    }
    free(back);
    assert_int_equal(open_fds(), fds);
#ifdef _WIN32
    assert_int_equal(mapped_regions(), regions);
#else
    assert_false(mapped_anywhere(path));
#endif
    hs_files_refused++;
}

unsigned char *hs_map_meta(const char *path, uint32_t count, size_t *len) {
    *len = (size_t)hs_round_page(SLOTS_OFFSET + (uint64_t)count * DESC_BYTES);
    void *m = hs_map(path, *len);
    assert_non_null(m);
    return m;
}
