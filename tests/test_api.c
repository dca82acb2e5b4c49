/*
 * The public API's contract: argument checks, every error code produced on
 * purpose, opening and creating, and files that are not (good) pools.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <aclapi.h>
#else
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#endif

#include "mmpool.h"
#include "support.h"

/* Offsets from docs/format.md, used to damage files on purpose. */
#define OFF_VERSION_MAJOR 8
#define OFF_VERSION_MINOR 10
#define OFF_SLOT_CAPACITY 16
#define OFF_SLOT_STRIDE 32
#define OFF_FILE_SIZE 48
#define OFF_CHECKSUM 144
#define OFF_RETIRED 268
#define HEADER_BYTES 1024
#define MAX_PATH_BYTES 1024

typedef struct fixture {
    char path[256];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    mmpt_path(fx->path, sizeof fx->path, "api");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    mmpool_unlink(fx->path);
    unlink(fx->path);
    rmdir(fx->path);
    /* Left by a failed test_a_handle_that_found_its_file_gone_stays_stale. */
    char aside[300];
    snprintf(aside, sizeof aside, "%s.aside", fx->path);
    unlink(aside);
    free(fx);
    return 0;
}

static mmpool_options create_opts(uint64_t capacity, uint32_t count) {
    mmpool_options o = {.slot_capacity = capacity, .slot_count = count, .flags = MMPOOL_CREATE};
    return o;
}

static mmpool *create(const char *path, uint64_t capacity, uint32_t count) {
    mmpool_options o = create_opts(capacity, count);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    return p;
}

static uint64_t fnv1a(const unsigned char *b, size_t n) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

/* Rewrites bytes of a pool file's header, optionally fixing the checksum so
 * only the field itself is wrong. */
static void patch(const char *path, size_t off, const void *bytes, size_t n, int fix_sum) {
    FILE *fp = mmpt_fopen(path, "r+b");
    assert_non_null(fp);
    unsigned char h[HEADER_BYTES];
    assert_int_equal(fread(h, 1, sizeof h, fp), sizeof h);
    memcpy(h + off, bytes, n);
    if (fix_sum) {
        uint64_t sum = fnv1a(h, OFF_CHECKSUM);
        memcpy(h + OFF_CHECKSUM, &sum, sizeof sum);
    }
    assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(h, 1, sizeof h, fp), sizeof h);
    assert_int_equal(fclose(fp), 0);
}

static void write_file(const char *path, const void *bytes, size_t n) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Cuts the file at path to size bytes. */
static void truncate_file(const char *path, uint64_t size) {
#ifdef _WIN32
    HANDLE h =
        CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    FILE_END_OF_FILE_INFO eof = {.EndOfFile.QuadPart = (LONGLONG)size};
    assert_true(SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof));
    CloseHandle(h);
#else
    assert_int_equal(truncate(path, (off_t)size), 0);
#endif
}

static void make_dir(const char *path) {
#ifdef _WIN32
    assert_int_equal(mkdir(path), 0);
#else
    assert_int_equal(mkdir(path, 0700), 0);
#endif
}

static int open_adopt(const char *path) {
    mmpool *p = NULL;
    int rc = mmpool_open(&p, path, NULL);
    if (rc == 0) {
        mmpool_close(p);
    } else {
        assert_null(p);
    }
    return rc;
}

/* POSIX only: fork(), setuid and rlimits for the tests that use them. */
#ifndef _WIN32
/* What a forked child does: returns the mmpool code of the call it checks.
 * Changing the child's user or limits leaves the test process untouched. */
typedef int (*child_check)(const char *path);

/* Runs check in a child, as user nobody when as_nobody, and asserts that it
 * returned want. */
static void expect_in_child(child_check check, const char *path, int as_nobody, int want) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (as_nobody && (setgid(65534) != 0 || setuid(65534) != 0)) {
            _exit(100);
        }
        int rc = check(path);
        _exit(rc == want ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}
#endif

static void test_open_rejects_bad_arguments(void **state) {
    fixture *fx = *state;
    mmpool *p = (mmpool *)&p;
    assert_int_equal(mmpool_open(NULL, fx->path, NULL), MMPOOL_EINVAL);
    assert_int_equal(mmpool_open(&p, NULL, NULL), MMPOOL_EINVAL);
    assert_null(p);
    assert_int_equal(mmpool_open(&p, "", NULL), MMPOOL_EINVAL);

    mmpool_options o = create_opts(64, 1);
    o.reserved[2] = 1;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(64, 1);
    o.flags |= 1u << 7;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(64, 1);
    o.flags = MMPOOL_EXCL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(64, 1);
    o.read_mode = 2;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(64, 1);
    o.mode = 010000;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    /* Nothing was created by any of the refused calls. */
    assert_int_equal(access(fx->path, F_OK), -1);
}

static void test_open_missing_pool_is_enoent(void **state) {
    fixture *fx = *state;
    assert_int_equal(open_adopt(fx->path), MMPOOL_ENOENT);
    assert_int_equal(open_adopt("/nonexistent-dir/pool"), MMPOOL_ENOENT);
}

static void test_create_needs_capacity_and_count(void **state) {
    fixture *fx = *state;
    mmpool *p = NULL;
    mmpool_options o = create_opts(0, 3);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(4096, 0);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(4096, MMPOOL_MAX_SLOTS + 1);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    o = create_opts(UINT64_MAX - 10, 1000);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    assert_int_equal(access(fx->path, F_OK), -1);
}

static void test_format_string_limit_is_63_bytes(void **state) {
    fixture *fx = *state;
    char fmt[80];
    memset(fmt, 'x', sizeof fmt);
    fmt[64] = '\0';
    mmpool *p = NULL;
    mmpool_options o = create_opts(64, 1);
    o.format = fmt;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EINVAL);
    fmt[63] = '\0';
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_string_equal(st.format, fmt);
    mmpool_close(p);
}

static void test_stat_reports_geometry_as_requested(void **state) {
    fixture *fx = *state;
    mmpool_options o = create_opts(6220801, 3);
    o.format = "bgr8 1920x1080";
    o.read_mode = MMPOOL_READ_FIFO;
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.slot_capacity, 6220801);
    assert_int_equal(st.slot_count, 3);
    assert_int_equal(st.read_mode, MMPOOL_READ_FIFO);
    assert_int_equal(st.last_seq, 0);
    assert_string_equal(st.format, "bgr8 1920x1080");
    assert_int_equal(mmpool_stat(NULL, &st), MMPOOL_EINVAL);
    assert_int_equal(mmpool_stat(p, NULL), MMPOOL_EINVAL);
    mmpool_close(p);
}

static void test_open_adopts_or_checks_geometry(void **state) {
    fixture *fx = *state;
    mmpool *w = create(fx->path, 1000, 4);
    mmpool *r = NULL;
    mmpool_options o = create_opts(1000, 4);
    assert_int_equal(mmpool_open(&r, fx->path, &o), MMPOOL_OK); /* same: fine */
    mmpool_close(r);
    o = create_opts(1001, 4);
    assert_int_equal(mmpool_open(&r, fx->path, &o), MMPOOL_EMISMATCH);
    assert_null(r);
    o = create_opts(1000, 3);
    assert_int_equal(mmpool_open(&r, fx->path, &o), MMPOOL_EMISMATCH);
    o = create_opts(0, 0);
    o.flags = 0;
    assert_int_equal(mmpool_open(&r, fx->path, &o), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(r, &st), MMPOOL_OK);
    assert_int_equal(st.slot_capacity, 1000);
    assert_int_equal(st.slot_count, 4);
    mmpool_close(r);
    mmpool_close(w);
}

static void test_create_excl_on_existing_pool_is_eexist(void **state) {
    fixture *fx = *state;
    mmpool *w = create(fx->path, 64, 2);
    mmpool_options o = create_opts(64, 2);
    o.flags |= MMPOOL_EXCL;
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EEXIST);
    assert_null(p);
    mmpool_close(w);
}

static void test_create_never_overwrites_a_file(void **state) {
    fixture *fx = *state;
    const char text[] = "precious data, not a pool";
    write_file(fx->path, text, sizeof text);
    mmpool *p = NULL;
    mmpool_options o = create_opts(64, 2);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EFORMAT);
    char back[sizeof text];
    FILE *fp = fopen(fx->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(back, 1, sizeof back, fp), sizeof back);
    fclose(fp);
    assert_memory_equal(back, text, sizeof text);
}

static void test_open_rejects_files_that_are_not_pools(void **state) {
    fixture *fx = *state;
    write_file(fx->path, "", 0);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    unsigned char junk[8192];
    memset(junk, 0, sizeof junk);
    write_file(fx->path, junk, sizeof junk);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++) {
        junk[i] = (unsigned char)rand();
    }
    write_file(fx->path, junk, sizeof junk);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    write_file(fx->path, "MMPOOL\r\n", 8);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
}

static void test_open_checks_version(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 2));
    uint16_t minor = 7;
    patch(fx->path, OFF_VERSION_MINOR, &minor, sizeof minor, 1);
    assert_int_equal(open_adopt(fx->path), MMPOOL_OK); /* newer minor opens */
    /* A newer major, and the older 1 (whose commit lock holds only the
     * entry, without the nonce this library requires), are refused. */
    uint16_t major = 3;
    patch(fx->path, OFF_VERSION_MAJOR, &major, sizeof major, 1);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    major = 1;
    patch(fx->path, OFF_VERSION_MAJOR, &major, sizeof major, 1);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
}

static void test_open_rejects_bad_checksum(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 2));
    uint64_t cap = 128; /* a change the checksum does not cover */
    patch(fx->path, OFF_SLOT_CAPACITY, &cap, sizeof cap, 0);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
}

static void test_open_rejects_geometry_past_end_of_file(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 1 << 20, 2));
    /* Truncated: mapping the full geometry would fault past the end. */
    truncate_file(fx->path, 1 << 20);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    /* A consistent header whose geometry is larger than the file. */
    uint64_t cap = UINT64_C(1) << 40;
    uint64_t size = 8192 + 2 * cap; /* data offset of a 2-slot pool + slots */
    patch(fx->path, OFF_SLOT_CAPACITY, &cap, sizeof cap, 0);
    patch(fx->path, OFF_SLOT_STRIDE, &cap, sizeof cap, 0);
    patch(fx->path, OFF_FILE_SIZE, &size, sizeof size, 1);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
}

static void test_open_refuses_non_regular_files(void **state) {
    fixture *fx = *state;
    make_dir(fx->path);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    mmpool_options o = create_opts(64, 1);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_EFORMAT);
    rmdir(fx->path);
    /* POSIX only: FIFOs, and symbolic links, which Windows lets only
     * privileged users make. */
#ifndef _WIN32
    assert_int_equal(mkfifo(fx->path, 0600), 0);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    unlink(fx->path);

    /* A symbolic link to a real pool is refused, not followed. */
    char target[300];
    snprintf(target, sizeof target, "%s.target", fx->path);
    mmpool_close(create(target, 64, 1));
    assert_int_equal(symlink(target, fx->path), 0);
    assert_int_equal(open_adopt(fx->path), MMPOOL_EFORMAT);
    unlink(fx->path);
    assert_int_equal(mmpool_unlink(target), MMPOOL_OK);
#endif
}

/* POSIX only: mode bits, setuid to nobody, rlimits and a tmpfs mount. On
 * Windows the owner-only security descriptor is checked instead; Wine
 * stores ACLs but does not enforce them, so access is not tried. */
#ifndef _WIN32
static void test_new_pool_mode_defaults_to_0600(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 1));
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);

    mmpool_options o = create_opts(64, 1);
    o.mode = 0660; /* exactly as asked, whatever the umask */
    mmpool *p = NULL;
    mode_t old = umask(077);
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    umask(old);
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0660);
    mmpool_close(p);
}

static void test_other_user_is_refused_with_eacces(void **state) {
    fixture *fx = *state;
    if (geteuid() != 0) {
        skip(); /* needs root to become another user */
    }
    mmpool_close(create(fx->path, 64, 1));
    expect_in_child(open_adopt, fx->path, 1, MMPOOL_EACCES);
}

static void test_unlink_refused_leaves_pool_usable(void **state) {
    fixture *fx = *state;
    if (geteuid() != 0) {
        skip(); /* needs root to become another user */
    }
    /* /dev/shm is sticky: another user may open a 0666 pool but not
     * remove it. */
    mmpool_options o = create_opts(64, 1);
    o.mode = 0666;
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    expect_in_child(mmpool_unlink, fx->path, 1, MMPOOL_EACCES);
    assert_int_equal(mmpool_try_write(p, "x", 1), MMPOOL_OK);
    assert_int_equal(open_adopt(fx->path), MMPOOL_OK);
    mmpool_close(p);
}

static int open_without_descriptors(const char *path) {
    /* No descriptor left to open the pool with: EMFILE, which has no error
     * code of its own. Lowering the limit keeps the loop short; using up
     * what is left works also where the limit is virtualised (valgrind). */
    struct rlimit few = {.rlim_cur = 64, .rlim_max = 64};
    setrlimit(RLIMIT_NOFILE, &few);
    int fd = open("/dev/null", O_RDONLY);
    while (fd >= 0 && dup(fd) >= 0) {
    }
    return errno == EMFILE ? open_adopt(path) : 100;
}

static void test_other_os_failure_is_esys(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 1));
    expect_in_child(open_without_descriptors, fx->path, 0, MMPOOL_ESYS);
}

static void test_pool_larger_than_free_space_is_enospc(void **state) {
    (void)state;
    if (geteuid() != 0) {
        printf("reserve on create: skipped (not root: mounting a small tmpfs needs root)\n");
        skip();
    }
    char dir[] = "/tmp/mmpool-test-tmpfs-XXXXXX";
    assert_non_null(mkdtemp(dir));
    if (mount("mmpool-test", dir, "tmpfs", 0, "size=1m") != 0) {
        printf("reserve on create: skipped (cannot mount a tmpfs here: %s)\n", strerror(errno));
        rmdir(dir);
        skip();
    }
    char path[128];
    snprintf(path, sizeof path, "%s/pool", dir);
    mmpool_options o = create_opts(4u << 20, 1);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_ENOSPC);
    assert_int_equal(access(path, F_OK), -1); /* nothing left behind */
    /* A pool that fits still opens, and every page of it is usable. */
    o = create_opts(256u << 10, 2);
    assert_int_equal(mmpool_open(&p, path, &o), MMPOOL_OK);
    void *data;
    size_t cap;
    assert_int_equal(mmpool_write_acquire(p, &data, &cap, 0), MMPOOL_OK);
    memset(data, 0xab, cap);
    assert_int_equal(mmpool_write_commit(p, cap), MMPOOL_OK);
    mmpool_close(p);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
}

#else
/* Whether the DACL of the file at path lets in anyone but the current user
 * and the system. Wine keeps no descriptor of its own for a file: it makes
 * one from the Unix mode bits, with entries for the user and SYSTEM, and
 * one for Everyone when others have access; so only who is let in can be
 * checked, not the descriptor's exact shape. */
static bool lets_others_in(const char *path) {
    HANDLE h =
        CreateFileA(path, READ_CONTROL, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    assert_int_equal(
        GetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &sd),
        ERROR_SUCCESS);
    CloseHandle(h);
    assert_non_null(dacl); /* a NULL DACL would let everybody in */
    HANDLE token;
    assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    union {
        TOKEN_USER user;
        unsigned char bytes[256];
    } me;
    DWORD len;
    assert_true(GetTokenInformation(token, TokenUser, &me, sizeof me, &len));
    CloseHandle(token);
    unsigned char system_sid[SECURITY_MAX_SID_SIZE];
    DWORD sid_len = sizeof system_sid;
    assert_true(CreateWellKnownSid(WinLocalSystemSid, NULL, system_sid, &sid_len));
    bool others = false;
    bool mine = false;
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACE_HEADER *ace;
        assert_true(GetAce(dacl, i, (void **)&ace));
        if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE) {
            continue;
        }
        PSID sid = (PSID) & ((ACCESS_ALLOWED_ACE *)ace)->SidStart;
        if (EqualSid(sid, me.user.User.Sid)) {
            mine = true;
        } else if (!EqualSid(sid, system_sid)) {
            others = true;
        }
    }
    LocalFree(sd);
    assert_true(mine); /* the owner can open it */
    return others;
}

/* The counterpart of the 0600 default: only the creating user may open a
 * new pool; mode bits for group or others leave it to the directory. */
/* Creates the directory at path (UTF-8), which may be longer than
 * MAX_PATH. */
static void make_long_dir(const char *path) {
    wchar_t w[1024] = L"\\\\?\\";
    assert_true(MultiByteToWideChar(CP_UTF8, 0, path, -1, w + 4, 1000) > 0);
    assert_true(CreateDirectoryW(w, NULL));
}

static void remove_long_dir(const char *path) {
    wchar_t w[1024] = L"\\\\?\\";
    assert_true(MultiByteToWideChar(CP_UTF8, 0, path, -1, w + 4, 1000) > 0);
    assert_true(RemoveDirectoryW(w));
}

/* Paths past MAX_PATH (260) work: the backend gives them the \\?\ prefix. */
static void test_long_path_works(void **state) {
    fixture *fx = *state;
    char dir1[600], dir2[600], path[700];
    char part[241];
    memset(part, 'd', 240);
    part[240] = '\0';
    snprintf(dir1, sizeof dir1, "%s.long", fx->path);
    snprintf(dir2, sizeof dir2, "%s\\%s", dir1, part);
    snprintf(path, sizeof path, "%s\\pool-with-a-long-path", dir2);
    assert_true(strlen(path) > 300);
    make_long_dir(dir1);
    make_long_dir(dir2);
    mmpool *w = create(path, 64, 2);
    mmpool *r = NULL;
    assert_int_equal(mmpool_open(&r, path, NULL), MMPOOL_OK);
    assert_int_equal(mmpool_try_write(w, "long", 4), MMPOOL_OK);
    char buf[8];
    mmpool_frame f;
    assert_int_equal(mmpool_try_read(r, buf, sizeof buf, &f), MMPOOL_OK);
    assert_memory_equal(buf, "long", 4);
    mmpool_close(r);
    mmpool_close(w);
    assert_int_equal(mmpool_unlink(path), MMPOOL_OK);
    assert_int_equal(mmpool_open(&r, path, NULL), MMPOOL_ENOENT);
    remove_long_dir(dir2);
    remove_long_dir(dir1);
}

static void test_new_pool_is_owner_only(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 1));
    assert_false(lets_others_in(fx->path));
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    mmpool_options o = create_opts(64, 1);
    o.mode = 0400; /* owner bits only: still the owner alone */
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    mmpool_close(p);
    assert_false(lets_others_in(fx->path));
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    o.mode = 0666; /* others too: the temporary directory's ACL decides */
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    mmpool_close(p);
    assert_true(lets_others_in(fx->path));
}
#endif

#ifdef _WIN32
/* Windows only: the named event a handle-table entry sleeps on
 * (docs/design.md, "Windows backend") cannot be made when its name is
 * taken by another kind of object. A blocking call must then fail with an
 * error at once, not poll until its timeout. */
static void test_wait_that_cannot_sleep_is_an_error(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 64, 1); /* the only handle: entry 0 */
    HANDLE f = CreateFileA(fx->path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    assert_true(f != INVALID_HANDLE_VALUE);
    BY_HANDLE_FILE_INFORMATION info;
    assert_true(GetFileInformationByHandle(f, &info));
    CloseHandle(f);
    wchar_t name[64];
    _snwprintf(name, sizeof name / sizeof name[0], L"Local\\mmpool-%08lx-%016llx-%u",
               (unsigned long)info.dwVolumeSerialNumber,
               ((unsigned long long)info.nFileIndexHigh << 32) | info.nFileIndexLow, 0u);
    name[sizeof name / sizeof name[0] - 1] = L'\0';
    HANDLE squatter = CreateMutexW(NULL, FALSE, name);
    assert_non_null(squatter);
    char buf[64];
    uint64_t t0 = mmpool_now_ns();
    int rc = mmpool_read(p, buf, sizeof buf, NULL, 500);
    uint64_t took_ms = (mmpool_now_ns() - t0) / 1000000u;
    CloseHandle(squatter);
    mmpool_close(p);
    if (rc != MMPOOL_ESYS || took_ms >= 250) {
        fail_msg("read with its event name taken: %s after %llu ms, want MMPOOL_ESYS at once",
                 mmpool_err_name(rc), (unsigned long long)took_ms);
    }
}
#endif

static void test_pool_too_big_for_file_system_is_enospc(void **state) {
    fixture *fx = *state;
    /* 1 TiB: more than any /dev/shm (or disk, on Windows) of a test
     * machine. */
    mmpool_options o = create_opts(UINT64_C(1) << 40, 1);
    mmpool *p = NULL;
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_ENOSPC);
    assert_null(p);
    assert_int_equal(access(fx->path, F_OK), -1); /* nothing left behind */
}

static void test_handle_table_full_is_etoomany(void **state) {
    fixture *fx = *state;
    mmpool *h[MMPOOL_MAX_HANDLES];
    h[0] = create(fx->path, 64, 2);
    for (int i = 1; i < MMPOOL_MAX_HANDLES; i++) {
        assert_int_equal(mmpool_open(&h[i], fx->path, NULL), MMPOOL_OK);
    }
    mmpool *extra = NULL;
    assert_int_equal(mmpool_open(&extra, fx->path, NULL), MMPOOL_ETOOMANY);
    assert_null(extra);
    mmpool_close(h[5]);
    assert_int_equal(mmpool_open(&h[5], fx->path, NULL), MMPOOL_OK);
    for (int i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        mmpool_close(h[i]);
    }
}

static void test_unlink_rules(void **state) {
    fixture *fx = *state;
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_ENOENT);
    assert_int_equal(mmpool_unlink(NULL), MMPOOL_EINVAL);
    write_file(fx->path, "not a pool", 10);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_EFORMAT);
    assert_int_equal(access(fx->path, F_OK), 0); /* removed nothing */
    unlink(fx->path);
    mmpool_close(create(fx->path, 64, 1));
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    assert_int_equal(access(fx->path, F_OK), -1);
}

static void test_unlinked_pool_gives_estale(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 64, 2);
    char buf[64] = {0};
    assert_int_equal(mmpool_try_write(p, buf, 8), MMPOOL_OK);
    void *loan;
    assert_int_equal(mmpool_write_acquire(p, &loan, NULL, 0), MMPOOL_OK);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_ESTALE);
    assert_int_equal(mmpool_read(p, buf, sizeof buf, NULL, 1000), MMPOOL_ESTALE);
    assert_int_equal(mmpool_try_write(p, buf, 8), MMPOOL_ESTALE);
    assert_int_equal(mmpool_write_commit(p, 8), MMPOOL_ESTALE);
    assert_int_equal(mmpool_flush(p), MMPOOL_ESTALE);
    mmpool_close(p);
}

/* A handle that found its file away from its path stays stale: mmpool_unlink
 * moves the file aside before it sets the retired flag, and a read that
 * looked at the path in between (it found nothing, so it looked) said
 * ESTALE; a write right after it, which would not look again for a second,
 * must not commit into the pool being retired. A rename stands for the
 * unlinker stopped between its two steps. The handle stays stale even when
 * the file comes back: it cannot tell that file from a replacement. */
static void test_a_handle_that_found_its_file_gone_stays_stale(void **state) {
    fixture *fx = *state;
    char aside[300];
    snprintf(aside, sizeof aside, "%s.aside", fx->path);
    mmpool *p = create(fx->path, 64, 2);
    char buf[64] = {0};
    assert_int_equal(mmpool_try_write(p, buf, 8), MMPOOL_OK);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_OK);
    assert_int_equal(rename(fx->path, aside), 0);
    /* Nothing new to read: the read looks at the path. */
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_ESTALE);
    assert_int_equal(mmpool_try_write(p, buf, 8), MMPOOL_ESTALE);
    void *loan;
    assert_int_equal(mmpool_write_acquire(p, &loan, NULL, 0), MMPOOL_ESTALE);
    assert_int_equal(mmpool_flush(p), MMPOOL_ESTALE);
    assert_int_equal(rename(aside, fx->path), 0);
    assert_int_equal(mmpool_try_write(p, buf, 8), MMPOOL_ESTALE);
    assert_int_equal(mmpool_try_read(p, buf, sizeof buf, NULL), MMPOOL_ESTALE);
    mmpool_close(p);
    /* Nothing was committed after the first frame. */
    mmpool_options o = {0};
    assert_int_equal(mmpool_open(&p, fx->path, &o), MMPOOL_OK);
    uint64_t seq = 0;
    assert_int_equal(mmpool_last_seq(p, &seq), MMPOOL_OK);
    assert_int_equal(seq, 1);
    mmpool_close(p);
}

/* Entries of the directory of path whose names start with ".mmpool-": the
 * Windows backend's pools in passing (being created, or removed while in
 * use); none stay once every handle is closed. */
static int passing_files(const char *path) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s", path);
    char *sep = strrchr(dir, '/');
#ifdef _WIN32
    char *back = strrchr(dir, '\\');
    if (sep == NULL || (back != NULL && back > sep)) {
        sep = back;
    }
#endif
    assert_non_null(sep);
    *sep = '\0';
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, ".mmpool-", 8) == 0;
    }
    closedir(d);
    return n;
}

static void test_unlinked_pool_in_use_frees_its_path_at_once(void **state) {
    fixture *fx = *state;
    int before = passing_files(fx->path);
    mmpool *old = create(fx->path, 64, 2);
    assert_int_equal(mmpool_try_write(old, "old", 3), MMPOOL_OK);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    assert_int_equal(access(fx->path, F_OK), -1);
    /* The name is free while the old pool is still mapped. */
    mmpool_options o = create_opts(128, 3);
    o.flags |= MMPOOL_EXCL;
    mmpool *fresh = NULL;
    assert_int_equal(mmpool_open(&fresh, fx->path, &o), MMPOOL_OK);
    mmpool_stats st;
    assert_int_equal(mmpool_stat(fresh, &st), MMPOOL_OK);
    assert_int_equal(st.slot_capacity, 128);
    assert_int_equal(st.last_seq, 0);
    assert_int_equal(mmpool_try_write(old, "x", 1), MMPOOL_ESTALE);
    mmpool_close(old);
    mmpool_close(fresh);
    assert_int_equal(mmpool_unlink(fx->path), MMPOOL_OK);
    assert_int_equal(passing_files(fx->path), before);
}

static void test_retired_pool_at_path_counts_as_absent(void **state) {
    fixture *fx = *state;
    mmpool_close(create(fx->path, 64, 2));
    /* As left by an unlinker that died between retiring and removing. */
    uint32_t one = 1;
    patch(fx->path, OFF_RETIRED, &one, sizeof one, 0);
    assert_int_equal(open_adopt(fx->path), MMPOOL_ENOENT);
    mmpool *p = create(fx->path, 128, 3); /* CREATE replaces it */
    mmpool_stats st;
    assert_int_equal(mmpool_stat(p, &st), MMPOOL_OK);
    assert_int_equal(st.slot_capacity, 128);
    assert_int_equal(st.slot_count, 3);
    char buf[8] = "abc";
    assert_int_equal(mmpool_try_write(p, buf, 3), MMPOOL_OK);
    mmpool_close(p);
}

/* Where a bare name lives: /dev/shm on POSIX, the per-user directory
 * %LOCALAPPDATA%\mmpool on Windows. */
static void test_bare_name_lives_in_dev_shm(void **state) {
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "mmpool-test-bare-%ld", mmpt_self_id());
    mmpool *p = NULL;
    mmpool_options o = create_opts(64, 1);
    assert_int_equal(mmpool_open(&p, name, &o), MMPOOL_OK);
    char full[MAX_PATH_BYTES];
#ifdef _WIN32
    const char *dir = getenv("LOCALAPPDATA");
    assert_non_null(dir);
    snprintf(full, sizeof full, "%s\\mmpool\\%s", dir, name);
#else
    snprintf(full, sizeof full, "/dev/shm/%s", name);
#endif
    assert_int_equal(access(full, F_OK), 0);
    mmpool_close(p);
    assert_int_equal(mmpool_unlink(name), MMPOOL_OK);
    assert_int_equal(access(full, F_OK), -1);
}

static void test_calls_reject_bad_arguments(void **state) {
    fixture *fx = *state;
    mmpool *p = create(fx->path, 64, 2);
    char buf[64];
    void *loan;
    mmpool_view view;
    assert_int_equal(mmpool_write(NULL, buf, 1, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_write(p, NULL, 1, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_write(p, buf, 1, -2), MMPOOL_EINVAL);
    assert_int_equal(mmpool_read(p, NULL, 1, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_read(p, buf, 1, NULL, -5), MMPOOL_EINVAL);
    assert_int_equal(mmpool_write_acquire(p, NULL, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_write_acquire(NULL, &loan, NULL, 0), MMPOOL_EINVAL);
    assert_int_equal(mmpool_write_commit(p, 0), MMPOOL_EINVAL); /* no loan */
    assert_int_equal(mmpool_write_abort(p), MMPOOL_EINVAL);
    assert_int_equal(mmpool_read_acquire(p, NULL, 0), MMPOOL_EINVAL);
    memset(&view, 0, sizeof view);
    assert_int_equal(mmpool_read_release(p, &view), MMPOOL_EINVAL);
    assert_int_equal(mmpool_read_release(p, NULL), MMPOOL_EINVAL);
    assert_int_equal(mmpool_flush(NULL), MMPOOL_EINVAL);
    assert_int_equal(mmpool_interrupt(NULL), MMPOOL_EINVAL);
    mmpool_close(NULL);
    mmpool_close(p);
}

static void test_error_table_names_every_code(void **state) {
    (void)state;
    for (int code = MMPOOL_OK; code >= MMPOOL_ETOOMANY; code--) {
        const char *name = mmpool_err_name(code);
        assert_true(strncmp(name, "MMPOOL_", 7) == 0);
        assert_string_not_equal(name, "MMPOOL_UNKNOWN");
        assert_string_not_equal(mmpool_strerror(code), "unknown error");
        for (int other = MMPOOL_OK; other > code; other--) {
            assert_string_not_equal(mmpool_err_name(other), name);
        }
    }
    assert_string_equal(mmpool_err_name(MMPOOL_EAGAIN), "MMPOOL_EAGAIN");
    assert_string_equal(mmpool_strerror(MMPOOL_EAGAIN), "no new frame");
    assert_string_equal(mmpool_err_name(-99), "MMPOOL_UNKNOWN");
    assert_string_equal(mmpool_err_name(1), "MMPOOL_UNKNOWN");
    assert_string_equal(mmpool_strerror(-99), "unknown error");
}

static void test_version_matches_header(void **state) {
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", MMPOOL_VERSION_MAJOR, MMPOOL_VERSION_MINOR,
             MMPOOL_VERSION_PATCH);
    assert_string_equal(mmpool_version(), want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_rejects_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_pool_is_enoent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_needs_capacity_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_string_limit_is_63_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stat_reports_geometry_as_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_adopts_or_checks_geometry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_excl_on_existing_pool_is_eexist, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_never_overwrites_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_files_that_are_not_pools, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_checks_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_bad_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_geometry_past_end_of_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_non_regular_files, setup, teardown),
#ifndef _WIN32
        cmocka_unit_test_setup_teardown(test_new_pool_mode_defaults_to_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_user_is_refused_with_eacces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlink_refused_leaves_pool_usable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_os_failure_is_esys, setup, teardown),
        cmocka_unit_test(test_pool_larger_than_free_space_is_enospc),
#else
        cmocka_unit_test_setup_teardown(test_new_pool_is_owner_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_path_works, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_that_cannot_sleep_is_an_error, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_pool_too_big_for_file_system_is_enospc, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_handle_table_full_is_etoomany, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlink_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlinked_pool_gives_estale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_handle_that_found_its_file_gone_stays_stale, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unlinked_pool_in_use_frees_its_path_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retired_pool_at_path_counts_as_absent, setup,
                                        teardown),
        cmocka_unit_test(test_bare_name_lives_in_dev_shm),
        cmocka_unit_test_setup_teardown(test_calls_reject_bad_arguments, setup, teardown),
        cmocka_unit_test(test_error_table_names_every_code),
        cmocka_unit_test(test_version_matches_header),
    };
    mmpt_select_tests();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
