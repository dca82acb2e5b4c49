/*
 * Shared by the kill -9 tests (test_kill.c) and their child roles: the
 * single-kill roles (kill_roles.c), and the kill storm's roles with the
 * counter file they share with the parent (kill_storm.c).
 */
#ifndef MMPOOL_TEST_KILL_H
#define MMPOOL_TEST_KILL_H

#include <stdbool.h>
#include <stdint.h>

#include "xproc.h"

/* ---- single-kill roles (kill_roles.c) ---- */

/* hold_read_loan, hold_write_loan, block_read, hold_commit_lock and
 * fork_holder, ended by {NULL, NULL}. */
extern const mmpt_role kill_roles[];

/* ---- kill storm (kill_storm.c) ---- */

/* The storm's pool and its children. */
enum {
    STORM_SLOTS = 4,
    STORM_CAP = 256 * 1024,
    STORM_WRITERS = 2, /* places 0 (copy) and 1 (loan) */
    STORM_PLACES = 6   /* the writers, then four readers */
};

/* Counters shared by the parent and every storm child, in a file all of
 * them map: counts survive the processes that made them. */
typedef struct storm_stats {
    _Atomic uint64_t verified;   /* frames whose checks all held */
    _Atomic uint64_t written;    /* frames committed */
    _Atomic uint64_t violations; /* broken invariants */
    /* The id of the newest writer in each writer place that has
     * committed: a writer is known to be writing once its id is here. */
    _Atomic uint32_t committed_by[STORM_WRITERS];
    _Atomic uint32_t msg_state; /* 0 none, 1 being written, 2 msg valid */
    char msg[256];              /* the first violation */
} storm_stats;

/* Maps the counter file at path, of sizeof(storm_stats) bytes; create makes
 * it (zeroed, and it must not exist yet). NULL on failure. Unmap with
 * ks_stats_unmap. */
storm_stats *ks_stats_map(const char *path, bool create);
void ks_stats_unmap(storm_stats *s);

/* NULL if data is an intact frame of a storm writer, else what is wrong;
 * its tag in *t. */
const char *ks_frame_check(const void *data, uint64_t len, frame_tag *t);

/* Sleeps us microseconds, through signals. */
void ks_sleep_us(uint64_t us);

/* The storm's roles, ended by {NULL, NULL}. They run until killed:
 *   storm_writer POOL STATS PLACE ID HOW  (PLACE < STORM_WRITERS, ID > 0)
 *   storm_reader POOL STATS MODE HOW      (MODE latest|fifo)
 * HOW is copy or loan; STATS is the counter file. */
extern const mmpt_role ks_roles[];

#endif
