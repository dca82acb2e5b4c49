/*
 * What the tool needs from the operating system beyond standard C:
 * directory listing, file owners, replacing a file, Ctrl-C, sleeping and
 * binary standard streams. platform_posix.c and platform_win32.c
 * implement it; CMake picks one.
 */
#ifndef MMPOOL_CLI_PLATFORM_H
#define MMPOOL_CLI_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The names of the regular files in dir, unsorted, in a malloc'd array of
 * malloc'd strings: no directories, symbolic links, devices, FIFOs or
 * sockets, which are never opened (opening a device can have effects of its
 * own). 0, or -1 with a reason in err. */
int tool_list_dir(const char *dir, char ***names, size_t *count, char *err, size_t errcap);

/* Whose file path is, compared with the user running the tool. POSIX: the
 * file's uid against the effective uid. Windows: the owner SID in the
 * file's security descriptor against the process token's user SID and its
 * default owner SID (an elevated administrator's new files are owned by
 * the Administrators group). A symbolic link is judged itself, not
 * followed. */
typedef enum tool_owner {
    TOOL_OWNER_CALLER, /* the file belongs to the caller */
    TOOL_OWNER_OTHER,  /* to someone else */
    TOOL_OWNER_UNKNOWN /* cannot tell: the file is gone or its owner unreadable */
} tool_owner;
tool_owner tool_file_owner(const char *path);
/* Whether the caller may act on other users' files: POSIX root (effective
 * uid 0); on Windows a member of the Administrators group whose token is
 * elevated. */
int tool_caller_is_admin(void);
/* Who tool_caller_is_admin() accepts, for messages: "root", or "an
 * elevated administrator". */
extern const char tool_admin_name[];

/* What mmpool_info.owner and mmpool_stats.owner hold, for messages: "uid"
 * on POSIX, "RID" on Windows (the last sub-authority of the owner's SID). */
extern const char tool_owner_kind[];
/* The name of the user whose id is owner, as the system's user database
 * has it, into out (cap bytes). 0, or -1 when it has none (POSIX: no
 * passwd entry; Windows: a RID alone names no account) or it does not
 * fit; out is then "". */
int tool_user_name(uint64_t owner, char *out, size_t cap);

/* What is at path, judged without following a symbolic link. */
typedef enum tool_path_kind {
    TOOL_PATH_ABSENT,  /* nothing: a new file may be made there */
    TOOL_PATH_REGULAR, /* a regular file */
    TOOL_PATH_OTHER    /* a link, directory, device, FIFO, socket, or unknown */
} tool_path_kind;
tool_path_kind tool_path_kind_of(const char *path);
/* Creates path as a new file, failing if anything is there already (a
 * link is not followed), and opens it for binary writing. Permissions as
 * fopen() gives (0666 less the umask on POSIX). NULL with errno set on
 * failure. */
FILE *tool_create_new(const char *path);
/* Renames from to to, replacing to if it is there, in one step where the
 * system allows it (POSIX rename(); Windows MoveFileEx with
 * MOVEFILE_REPLACE_EXISTING). 0, or -1 with a reason in err. */
int tool_replace_file(const char *from, const char *to, char *err, size_t errcap);

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
