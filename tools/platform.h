/*
 * What the tool needs from the operating system beyond standard C:
 * directory listing, Ctrl-C, sleeping and binary standard streams.
 * platform_posix.c and platform_win32.c implement it; CMake picks one.
 */
#ifndef MMPOOL_CLI_PLATFORM_H
#define MMPOOL_CLI_PLATFORM_H

#include <stddef.h>

/* The names of the regular files in dir, unsorted, in a malloc'd array of
 * malloc'd strings: no directories, symbolic links, devices, FIFOs or
 * sockets, which are never opened (opening a device can have effects of its
 * own). 0, or -1 with a reason in err. */
int tool_list_dir(const char *dir, char ***names, size_t *count, char *err, size_t errcap);
/* From now on Ctrl-C (and SIGTERM where it exists) sets a flag instead of
 * ending the process. */
void tool_catch_interrupt(void);
/* Whether Ctrl-C was pressed since tool_catch_interrupt(). */
int tool_interrupted(void);
/* Sleeps ms milliseconds, less if interrupted. */
void tool_sleep_ms(unsigned ms);
/* Standard input and output carry bytes unchanged (no newline
 * translation). */
void tool_binary_stdio(void);

#endif
