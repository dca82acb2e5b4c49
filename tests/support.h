/*
 * Helpers shared by the test programs: unique pool paths, cross-process
 * tests that re-execute their own binary as a named child role, and the few
 * process calls that differ between POSIX and Windows.
 */
#ifndef MMPOOL_TEST_SUPPORT_H
#define MMPOOL_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#ifndef _WIN32
#include <sys/types.h>
#endif

/* A child process: its pid on POSIX, its process HANDLE on Windows. */
#ifdef _WIN32
typedef intptr_t mmpt_proc;
#else
typedef pid_t mmpt_proc;
#endif

/* What mmpt_reap reports for a child ended by mmpt_kill: 128 + SIGKILL on
 * POSIX, and the exit code TerminateProcess gives it on Windows. */
#define MMPT_KILLED 137

/* Makes the next cmocka_run_group_tests run only the tests whose names
 * match $MMPOOL_TEST_ONLY (cmocka's * and ? wildcards), when it is set;
 * tests/mutants/run.sh runs one test this way. */
void mmpt_select_tests(void);

/* A role a test binary can be re-executed as: argv holds the role's own
 * arguments (argv[0] is the role name). Returns the child's exit status. */
typedef int (*mmpt_role_fn)(int argc, char **argv);
typedef struct mmpt_role {
    const char *name;
    mmpt_role_fn run;
} mmpt_role;

/* Writes a path unique to this process and call into out: in /dev/shm on
 * POSIX, in the temporary directory on Windows. tag makes it readable in a
 * listing. Nothing is created. */
void mmpt_path(char *out, size_t cap, const char *tag);

/* Call first in main(): if the binary was started as "--child ROLE ARGS",
 * runs the role and returns its exit status (>= 0); otherwise returns -1. */
int mmpt_child_main(int argc, char **argv, const mmpt_role *roles);

/* Starts this binary as child ROLE with the given arguments (NULL-ended).
 * Aborts the test on failure. */
mmpt_proc mmpt_spawn(const char *role, ...);

/* Waits for the child at most timeout_ms. Returns its exit status, 128 +
 * signal if it was killed by a signal (MMPT_KILLED after mmpt_kill), or -1
 * if it had to be killed for running past the timeout. Always reaps it. */
int mmpt_reap(mmpt_proc child, int timeout_ms);

/* Kills the child at once, as SIGKILL does: 0, or -1 on failure. It is
 * still to be reaped. */
int mmpt_kill(mmpt_proc child);

/* The process id of the child, and of the calling process. */
long mmpt_proc_id(mmpt_proc child);
long mmpt_self_id(void);

/* fopen() for files that pools are: on Windows, a pool's creator has it
 * open with delete access, and the C runtime's fopen, which does not share
 * deletion, would fail with a sharing violation. mode is "rb" or "r+b". */
FILE *mmpt_fopen(const char *path, const char *mode);

/* Sleeps ms milliseconds. */
void mmpt_sleep_ms(int ms);

/* Sets the environment variable name to value, or removes it if value is
 * NULL, for this process and the children it starts from now on. 0 on
 * success. */
int mmpt_setenv(const char *name, const char *value);

#endif
