/*
 * Who may do what to a pool (docs/robustness.md, "Threat model"): the
 * permission bits a pool may have, other users (as root, through setuid in
 * forked children), processes that hold the pool's locks, and pools removed
 * or replaced under their handles.
 *
 * Sections: helpers, permission bits, child roles, main.
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
#include <sys/stat.h>
#include <unistd.h>
#ifndef _WIN32
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#endif

#include "mmpool.h"
#include "xproc.h"

/* ---- helpers ---- */

static mmpool_options create_opts(uint32_t mode) {
    mmpool_options o = {.slot_capacity = 64, .slot_count = 2, .flags = MMPOOL_CREATE, .mode = mode};
    return o;
}

/* mmpool_open of path with o; the handle, if any, is closed at once. */
static int open_close(const char *path, const mmpool_options *o) {
    mmpool *p = NULL;
    int rc = mmpool_open(&p, path, o);
    mmpool_close(p);
    return rc;
}

/* ---- permission bits ---- */

static void test_mode_beyond_read_write_bits_is_einval(void **state) {
    xp *st = *state;
    /* Set-user-ID, set-group-ID, sticky and execute bits, alone or with
     * read and write bits, and bits outside 07777. */
    const uint32_t bad[] = {04777, 04600, 02660, 01666, 07777, 0700, 0670, 0607, 0100, 010000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mmpool_options o = create_opts(bad[i]);
        if (open_close(st->path, &o) != MMPOOL_EINVAL) {
            fail_msg("mode 0%o was accepted", (unsigned)bad[i]);
        }
        assert_int_equal(access(st->path, F_OK), -1); /* nothing was created */
    }
}

/* ---- child roles ---- */

static const mmpt_role roles[] = {{NULL, NULL}};

/* ---- main ---- */

int main(int argc, char **argv) {
    int child = mmpt_child_main(argc, argv, roles);
    if (child >= 0) {
        return child;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mode_beyond_read_write_bits_is_einval, xp_setup,
                                        xp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
