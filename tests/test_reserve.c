/*
 * Opening an existing pool reserves its file's space, as creating one does:
 * a pool file made sparse (copied by a tool that skips zeros, or planted by
 * a hostile process) on a file system without room for it is refused with
 * MMPOOL_ENOSPC at open, rather than killing the process with SIGBUS at
 * the first write into a page that cannot be allocated.
 *
 * The test mounts a 1 MiB tmpfs, which needs root on Linux. Whether it ran
 * or why not is printed as a "reserve on open:" line, which CI's counts
 * stage collects, so a skip is never silent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "mmpool.h"
#include "support.h"

/* POSIX only: the test needs a small file system of its own, a tmpfs
 * mount; Windows has no such thing to mount. */
#ifndef _WIN32

#define TMPFS_SIZE "size=1m"
#define BIG_CAPACITY (4u << 20)     /* a pool four times the tmpfs */
#define SMALL_CAPACITY (256u << 10) /* two slots of it fit */
#define BLOCK 4096

typedef struct fixture {
    char src[256];  /* where the pool is made, in /dev/shm */
    char dir[64];   /* the tmpfs mount point, "" when not mounted */
    char path[128]; /* the sparse copy on the tmpfs */
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) {
        return -1;
    }
    mmpt_path(fx->src, sizeof fx->src, "reserve");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->src);
    if (fx->dir[0] != '\0') {
        unlink(fx->path);
        umount(fx->dir);
        rmdir(fx->dir);
    }
    free(fx);
    return 0;
}

/* Mounts a 1 MiB tmpfs for the test; false, after saying why, when this
 * machine does not allow it. */
static bool mount_small_tmpfs(fixture *fx) {
    if (geteuid() != 0) {
        printf("reserve on open: skipped (not root: mounting a small tmpfs needs root)\n");
        return false;
    }
    strcpy(fx->dir, "/tmp/mmpool-test-reserve-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    if (mount("mmpool-test", fx->dir, "tmpfs", 0, TMPFS_SIZE) != 0) {
        printf("reserve on open: skipped (cannot mount a tmpfs here: %s)\n", strerror(errno));
        rmdir(fx->dir);
        fx->dir[0] = '\0';
        return false;
    }
    snprintf(fx->path, sizeof fx->path, "%s/pool", fx->dir);
    return true;
}

/* Makes a fresh pool of count slots of capacity bytes at fx->src and copies
 * it to fx->path as a sparse file: only blocks holding a non-zero byte are
 * written, the rest is a hole, the length is the pool's. A fresh pool's
 * data region is all zeros, so the copy is a valid pool taking a few pages. */
static uint64_t make_sparse_copy(fixture *fx, uint64_t capacity, uint32_t count) {
    mmpool_options o = {.slot_capacity = capacity, .slot_count = count, .flags = MMPOOL_CREATE};
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->src, &o), MMPOOL_OK);
    mmpool_close(p);
    int in = open(fx->src, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    int out = open(fx->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(out >= 0);
    static const unsigned char zeros[BLOCK];
    unsigned char buf[BLOCK];
    uint64_t size = 0, written = 0;
    for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0; size += (uint64_t)n) {
        if (memcmp(buf, zeros, (size_t)n) != 0) {
            assert_int_equal(pwrite(out, buf, (size_t)n, (off_t)size), n);
            written += (uint64_t)n;
        }
    }
    assert_int_equal(ftruncate(out, (off_t)size), 0);
    struct stat st;
    assert_int_equal(fstat(out, &st), 0);
    close(out);
    close(in);
    assert_int_equal(mmpool_unlink(fx->src), MMPOOL_OK);
    /* Really sparse: what is allocated is what was written, not the length. */
    assert_true((uint64_t)st.st_blocks * 512u < size);
    assert_true(written < size);
    return size;
}

static void test_sparse_pool_larger_than_free_space_is_enospc_at_open(void **state) {
    fixture *fx = *state;
    if (!mount_small_tmpfs(fx)) {
        skip();
    }
    uint64_t size = make_sparse_copy(fx, BIG_CAPACITY, 1);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_ENOSPC);
    assert_null(p);
    /* Refused, not damaged: the file is still there, as long as before. */
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, size);
    printf("reserve on open: a sparse %llu-byte pool on a 1 MiB tmpfs is refused with "
           "MMPOOL_ENOSPC\n",
           (unsigned long long)size);
}

static void test_sparse_pool_that_fits_opens_and_every_page_is_usable(void **state) {
    fixture *fx = *state;
    if (!mount_small_tmpfs(fx)) {
        skip();
    }
    make_sparse_copy(fx, SMALL_CAPACITY, 2);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, NULL), MMPOOL_OK);
    for (int i = 0; i < 2; i++) { /* both slots, every byte */
        void *data;
        size_t cap;
        assert_int_equal(mmpool_write_acquire(p, &data, &cap, 0), MMPOOL_OK);
        memset(data, 0xab, cap);
        assert_int_equal(mmpool_write_commit(p, cap), MMPOOL_OK);
    }
    mmpool_close(p);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_sparse_pool_larger_than_free_space_is_enospc_at_open),
        T(test_sparse_pool_that_fits_opens_and_every_page_is_usable),
    };
#undef T
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void) {
    printf("reserve on open: skipped (Windows: no small file system to mount)\n");
    return 0;
}

#endif
