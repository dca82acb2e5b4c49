/*
 * Helpers shared by the test programs: unique pool paths, and cross-process
 * tests that re-execute their own binary as a named child role.
 */
#ifndef MMPOOL_TEST_SUPPORT_H
#define MMPOOL_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* A role a test binary can be re-executed as: argv holds the role's own
 * arguments (argv[0] is the role name). Returns the child's exit status. */
typedef int (*mmpt_role_fn)(int argc, char **argv);
typedef struct mmpt_role {
    const char *name;
    mmpt_role_fn run;
} mmpt_role;

/* Writes a path unique to this process and call, in /dev/shm, into out.
 * tag makes it readable in a listing. Nothing is created. */
void mmpt_path(char *out, size_t cap, const char *tag);

/* Call first in main(): if the binary was started as "--child ROLE ARGS",
 * runs the role and returns its exit status (>= 0); otherwise returns -1. */
int mmpt_child_main(int argc, char **argv, const mmpt_role *roles);

/* Starts this binary as child ROLE with the given arguments (NULL-ended).
 * Aborts the test on failure. */
pid_t mmpt_spawn(const char *role, ...);

/* Waits for pid at most timeout_ms. Returns its exit status, 128 + signal if
 * it was killed by a signal, or -1 if it had to be killed for running past
 * the timeout. Always reaps it. */
int mmpt_reap(pid_t pid, int timeout_ms);

#endif
