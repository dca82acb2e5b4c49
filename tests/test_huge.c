/*
 * Pools on file systems that map files with 2 MiB pages: a tmpfs mounted
 * with huge=always gives a pool of large frames a data offset and a slot
 * stride in whole 2 MiB pages, so each frame sits on whole huge pages, and
 * the kernel maps them so. Small frames, and pools elsewhere, keep the
 * 4 KiB unit. On hugetlbfs every pool has the 2 MiB unit. The file
 * systems are mounted by the tests, which need root (hugetlbfs also a few
 * free huge pages, which the test reserves through vm.nr_hugepages and
 * gives back); whether each ran or why not is printed as a "huge pages:"
 * line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <sys/mount.h>
#include <unistd.h>
#endif

#include "mmpool.h"
#include "support.h"

#define MIB (UINT64_C(1) << 20)
#define HUGE_PAGE (2 * MIB)
#define FULL_HD UINT64_C(6220800)

static uint64_t stride_of(const char *path) {
    mmpool_info info;
    assert_int_equal(mmpool_inspect(path, &info, NULL, 0, NULL, 0), MMPOOL_OK);
    return info.slot_stride;
}

/* A pool of capacity cap and 3 slots at path; a frame of cap bytes written
 * and read back by a second handle. Returns the stride. */
static uint64_t make_and_use(const char *path, uint64_t cap) {
    mmpool_options o = {.slot_capacity = cap, .slot_count = 3, .flags = MMPOOL_CREATE};
    mmpool *w = NULL;
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&w, path, &o), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, path, NULL), MMPOOL_OK); /* the header checks */
    unsigned char *buf = malloc((size_t)cap);
    unsigned char *out = malloc((size_t)cap);
    assert_non_null(buf);
    assert_non_null(out);
    for (uint64_t i = 0; i < cap; i++) {
        buf[i] = (unsigned char)(i * 7 + 3);
    }
    assert_int_equal(mmpool_try_write(w, buf, (size_t)cap), MMPOOL_OK);
    mmpool_frame info;
    assert_int_equal(mmpool_try_read(r, out, (size_t)cap, &info), MMPOOL_OK);
    assert_int_equal(info.len, cap);
    assert_memory_equal(out, buf, (size_t)cap);
    free(out);
    free(buf);
    mmpool_close(r);
    mmpool_close(w);
    return stride_of(path);
}

/* A pool whose capacity is a whole number of huge pages, made where pages
 * are 4 KiB, has a stride that is a multiple of 2 MiB but a 4 KiB data
 * offset: it must open as any other (the header check tries both units). */
static void test_4k_pool_of_whole_huge_pages_opens(void **state) {
    (void)state;
    char path[256];
    mmpt_path(path, sizeof path, "huge-4k");
    assert_int_equal(make_and_use(path, 2 * HUGE_PAGE), 2 * HUGE_PAGE);
    mmpool_unlink(path);
}

#ifndef _WIN32
/* kB of the mappings of path in /proc/self/smaps mapped with huge pages
 * (ShmemPmdMapped, or FilePmdMapped), or -1 if path is not mapped. */
static long huge_mapped_kb(const char *path) {
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool ours = false;
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start;
        unsigned long end;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
            /* A mapping's first line: "start-end perms offset dev inode path". */
            ours = strstr(line, path) != NULL;
            continue;
        }
        long v;
        if (ours && (sscanf(line, "ShmemPmdMapped: %ld kB", &v) == 1 ||
                     sscanf(line, "FilePmdMapped: %ld kB", &v) == 1)) {
            kb = (kb < 0 ? 0 : kb) + v;
        }
    }
    fclose(f);
    return kb;
}

/* The mount point, for the teardown to remove even after a failed check. */
static char mounted[64];

static int unmount_huge(void **state) {
    (void)state;
    if (mounted[0] != '\0') {
        char path[128];
        snprintf(path, sizeof path, "%s/big", mounted);
        mmpool_unlink(path);
        snprintf(path, sizeof path, "%s/small", mounted);
        mmpool_unlink(path);
        umount(mounted);
        rmdir(mounted);
        mounted[0] = '\0';
    }
    return 0;
}

/* Mounts a file system of type fs with options on a new directory, which
 * the teardown (unmount_huge) removes, and names the two pools' paths in
 * it. False, saying why, if it cannot be mounted. */
static bool mount_for_test(const char *fs, const char *options, char big[128], char small[128]) {
    char dir[64] = "/tmp/mmpool-test-huge-XXXXXX";
    assert_non_null(mkdtemp(dir));
    if (mount("mmpool-test", dir, fs, 0, options) != 0) {
        printf("huge pages: %s skipped (cannot mount it here: %s)\n", fs, strerror(errno));
        rmdir(dir);
        return false;
    }
    snprintf(mounted, sizeof mounted, "%s", dir);
    snprintf(big, 128, "%s/big", dir);
    snprintf(small, 128, "%s/small", dir);
    return true;
}

static void test_large_frames_on_a_huge_tmpfs_sit_on_whole_huge_pages(void **state) {
    (void)state;
    if (geteuid() != 0) {
        printf("huge pages: skipped (not root: mounting a tmpfs needs root)\n");
        skip();
    }
    char big[128];
    char small[128];
    if (!mount_for_test("tmpfs", "size=64m,huge=always", big, small)) {
        skip();
    }
    uint64_t stride = make_and_use(big, FULL_HD);
    uint64_t small_stride = make_and_use(small, 64);
    /* While mapped: did the kernel use huge pages for the frames? */
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, big, NULL), MMPOOL_OK);
    mmpool_view v;
    assert_int_equal(mmpool_read_acquire(p, &v, 0), MMPOOL_OK); /* new to this handle */
    long kb = huge_mapped_kb(big);
    assert_int_equal(mmpool_read_release(p, &v), MMPOOL_OK);
    mmpool_close(p);
    printf("huge pages: Full-HD stride %llu (2 MiB pages: %llu), 64 B stride %llu, %ld kB of the "
           "mapping in huge pages\n",
           (unsigned long long)stride, (unsigned long long)(stride / HUGE_PAGE),
           (unsigned long long)small_stride, kb);
    assert_int_equal(stride % HUGE_PAGE, 0);
    assert_int_equal(stride, 3 * HUGE_PAGE); /* 6,220,800 bytes: just under three */
    assert_int_equal(small_stride, 4096);    /* a small frame cannot fill one */
    assert_true(kb >= (long)(HUGE_PAGE / 1024));
}

/* vm.nr_hugepages before the hugetlbfs test raised it; -1 if untouched. */
static long pages_before = -1;

static long read_long(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1) {
            v = -1;
        }
        fclose(f);
    }
    return v;
}

static bool write_long(const char *path, long v) {
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && fprintf(f, "%ld\n", v) > 0;
    return f != NULL && fclose(f) == 0 && ok;
}

static int give_back_hugetlbfs(void **state) {
    unmount_huge(state);
    if (pages_before >= 0) {
        write_long("/proc/sys/vm/nr_hugepages", pages_before);
        pages_before = -1;
    }
    return 0;
}

/* The 2 MiB pages the kernel has free for hugetlbfs, from /proc/meminfo. */
static long free_huge_pages(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long n = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "HugePages_Free: %ld", &n) == 1) {
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

/* Lines of /proc/self/maps that name a file under dir. */
static int mappings_under(const char *dir) {
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        n += strstr(line, dir) != NULL;
    }
    fclose(f);
    return n;
}

/* Two pools of 3 slots: Full-HD (the header's 2 MiB and 3 x 6 MiB) and
 * 64 B (2 MiB and 3 x 2 MiB), with room to spare. */
enum { HUGETLB_PAGES = 24 };

static void test_every_pool_on_hugetlbfs_sits_on_whole_huge_pages(void **state) {
    (void)state;
    if (geteuid() != 0) {
        printf("huge pages: hugetlbfs skipped (not root: mounting it needs root)\n");
        skip();
    }
    long before = read_long("/proc/sys/vm/nr_hugepages");
    if (before < 0 || !write_long("/proc/sys/vm/nr_hugepages", before + HUGETLB_PAGES) ||
        (pages_before = before, free_huge_pages() < HUGETLB_PAGES)) {
        printf("huge pages: hugetlbfs skipped (cannot reserve %d huge pages here)\n",
               HUGETLB_PAGES);
        give_back_hugetlbfs(state);
        skip();
    }
    char big[128];
    char small[128];
    if (!mount_for_test("hugetlbfs", "pagesize=2M", big, small)) {
        give_back_hugetlbfs(state);
        skip();
    }
    long free0 = free_huge_pages();
    uint64_t stride = make_and_use(big, FULL_HD);
    uint64_t small_stride = make_and_use(small, 64);
    long used = free0 - free_huge_pages();
    printf("huge pages: hugetlbfs Full-HD stride %llu, 64 B stride %llu, %ld huge pages in "
           "use\n",
           (unsigned long long)stride, (unsigned long long)small_stride, used);
    assert_int_equal(stride, 3 * HUGE_PAGE);
    assert_int_equal(small_stride, HUGE_PAGE); /* the only page size there */
    assert_int_equal(used, (1 + 3 * 3) + (1 + 3 * 1));
    /* Unlinking maps the header alone, which takes a whole huge page here:
     * nothing of either file stays mapped afterwards. */
    assert_int_equal(mmpool_unlink(big), MMPOOL_OK);
    assert_int_equal(mmpool_unlink(small), MMPOOL_OK);
    assert_int_equal(mappings_under(mounted), 0);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_4k_pool_of_whole_huge_pages_opens),
#ifndef _WIN32
        cmocka_unit_test_teardown(test_large_frames_on_a_huge_tmpfs_sit_on_whole_huge_pages,
                                  unmount_huge),
        cmocka_unit_test_teardown(test_every_pool_on_hugetlbfs_sits_on_whole_huge_pages,
                                  give_back_hugetlbfs),
#endif
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
