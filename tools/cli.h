/*
 * The mmpool command-line tool: what its subcommands share. The tool uses
 * the library only through include/mmpool.h, like any other program.
 */
#ifndef MMPOOL_CLI_H
#define MMPOOL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmpool.h"

/* Exit codes, documented in docs/tool.md. */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

/* One option a subcommand accepts. value is set when the option was given
 * (to "" for a flag). */
typedef struct cli_opt {
    const char *name; /* "--timeout" */
    int takes_value;
    const char *value;
} cli_opt;

/*
 * Splits args into options (known to opts; "--name VALUE" or
 * "--name=VALUE", anywhere, "--" ends them) and between min_pos and max_pos
 * positional arguments. Returns CLI_OK; CLI_USAGE after printing the
 * reason; or -1 after printing the help text for "--help"/"-h".
 */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, size_t nopts, const char **pos,
              int min_pos, int max_pos, int *npos);
/* Prints "mmpool CMD: <message>" and a hint to --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...);
/* Prints "mmpool: WHAT: <message> (ERRNAME)" for a library error; returns
 * CLI_ERROR. what names the pool or the file concerned. */
int cli_fail(const char *what, int err);
/* Prints "mmpool: WHAT: <message>"; returns CLI_ERROR. */
int cli_error(const char *what, const char *fmt, ...);
/* Prints the help text of cmd (NULL: the tool's). */
void cli_help(const char *cmd, FILE *out);

/* "6220800", "6M" (K, M, G: powers of 1024), "1920x1080x3". 0 on success,
 * -1 if malformed or above UINT64_MAX. */
int cli_parse_size(const char *s, uint64_t *out);
/* A decimal integer without sign. 0 or -1. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* Seconds, with an optional fraction ("2", "0.5"), into milliseconds
 * bounded by INT32_MAX. 0 or -1. */
int cli_parse_seconds(const char *s, int *ms);

/* Writes s as a JSON string: quotes, escapes, and invalid UTF-8 replaced
 * by U+FFFD so that the output is always valid JSON. */
void cli_json_string(FILE *out, const char *s);
/* s made safe to print on a terminal, into out (cap bytes, truncated if
 * need be): control characters (C0, DEL, C1) and bytes that are not valid
 * UTF-8 become "\xNN". Returns out. Names and formats come from files that
 * any local user can create, and must not drive the terminal. */
const char *cli_text(char *out, size_t cap, const char *s);

/* UTC "2024-05-01T12:00:00Z" for ns since the Unix epoch. */
void cli_format_utc(char *out, size_t cap, uint64_t ns);

/* Joins dir and name with '/' into out; -1 if it does not fit. */
int cli_join(char *out, size_t cap, const char *dir, const char *name);

/* A file the tool writes an image to. A new or regular file is written
 * under a temporary name next to it and renamed over it once complete, so
 * that it never shows half an image, and a failure leaves what was there
 * before. Anything else (a device, a FIFO, a symbolic link: what a rename
 * would replace rather than write to) is written directly. NULL or "-" is
 * standard output. */
typedef struct cli_output {
    FILE *file;
    const char *path; /* as given; NULL for standard output */
    char tmp[4096];   /* the temporary name; "" when writing to path itself */
} cli_output;
/* Opens the output. CLI_OK, or CLI_ERROR after printing why; what names
 * the pool for messages. */
int cli_output_open(cli_output *o, const char *what, const char *path);
/* Ends the output. why NULL: everything was written; the file is flushed,
 * closed and renamed into place. Otherwise why is the reason writing
 * failed; the file is closed and the temporary file removed. CLI_OK, or
 * CLI_ERROR after printing "cannot write 'PATH': reason". */
int cli_output_close(cli_output *o, const char *what, const char *why);

/* Prints the failure err of mmpool_open(name, asked) and returns
 * CLI_ERROR. When the pool is there with another geometry than asked
 * (MMPOOL_EMISMATCH, or MMPOOL_EEXIST from a create), the message names
 * both: "pool has 2 slots x 65536 B, asked 3 x 6220800 B". When it was
 * refused (MMPOOL_EACCES) and can be inspected, the message names its
 * owner: "owned by uid 1234 (alice)". asked may be NULL (opts NULL). */
int cli_fail_open(const char *name, int err, const mmpool_options *asked);
/* The owner of a pool (mmpool_info.owner) for text output: "uid 1234
 * (alice)", "uid 1234" when the system has no name for it; on Windows
 * "RID 1001". The name is made safe for the terminal. Returns out. */
const char *cli_owner_text(char *out, size_t cap, uint64_t owner);

/* The pools found in a directory: each file that mmpool_inspect() accepts,
 * sorted by name. Files that are not pools, or that cannot be opened, are
 * skipped. */
typedef struct cli_pool {
    char *name;
    char *path;
    mmpool_info info;
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
} cli_pool;
/* Fills *pools (free with cli_free_pools); CLI_OK or CLI_ERROR after
 * printing why the directory cannot be listed. */
int cli_find_pools(const char *dir, cli_pool **pools, size_t *count);
void cli_free_pools(cli_pool *pools, size_t count);
/* Handles whose owner is alive, and distinct process ids among them. */
unsigned cli_live_handles(const mmpool_handle_info *h, size_t n);
unsigned cli_live_processes(const mmpool_handle_info *h, size_t n);

/* The default directory for "ls" and "clean" (where bare names live). */
int cli_default_dir(char *out, size_t cap);

/* Subcommands: argv[0] is the subcommand's name. Each returns an exit
 * code. */
int cmd_ls(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_flush(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_clean(int argc, char **argv);
/* bridge_cmd.c, or bridge_off.c when built without libzmq. */
int cmd_bridge(int argc, char **argv);

#endif
