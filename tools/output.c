/* Writing an output file so that it never shows half its contents: under a
 * temporary name next to it, renamed into place once complete. */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "platform.h"

/* Temporary names tried before giving up: each is new (O_EXCL), so a
 * leftover of a killed run or a concurrent snapshot only moves us on. */
#define TEMP_TRIES 64

static int is_stdout(const char *path) {
    return path == NULL || strcmp(path, "-") == 0;
}

static const char *shown(const cli_output *o) {
    return o->path != NULL ? o->path : "standard output";
}

int cli_output_open(cli_output *o, const char *what, const char *path) {
    o->file = NULL;
    o->tmp[0] = '\0';
    o->path = is_stdout(path) ? NULL : path;
    if (o->path == NULL) {
        tool_binary_stdio();
        o->file = stdout;
        return CLI_OK;
    }
    if (tool_path_kind_of(path) == TOOL_PATH_OTHER) {
        /* A device, FIFO or link: renaming would replace it, not write to
         * it. A directory fails here with the system's reason. */
        o->file = fopen(path, "wb");
        return o->file != NULL ? CLI_OK
                               : cli_error(what, "cannot write '%s': %s", path, strerror(errno));
    }
    uint64_t seed = mmpool_now_ns();
    for (unsigned i = 0; i < TEMP_TRIES && o->file == NULL; i++) {
        int n = snprintf(o->tmp, sizeof o->tmp, "%s.%08x.tmp", path,
                         (unsigned)((seed >> 10) + i * 0x9e3779b9u) & 0xffffffffu);
        if (n < 0 || (size_t)n >= sizeof o->tmp) {
            o->tmp[0] = '\0';
            return cli_error(what, "cannot write '%s': the path is too long", path);
        }
        o->file = tool_create_new(o->tmp);
        if (o->file == NULL && errno != EEXIST) {
            int e = errno;
            o->tmp[0] = '\0';
            return cli_error(what, "cannot write '%s': %s", path, strerror(e));
        }
    }
    if (o->file == NULL) {
        o->tmp[0] = '\0';
        return cli_error(what, "cannot write '%s': no free temporary name next to it", path);
    }
    return CLI_OK;
}

int cli_output_close(cli_output *o, const char *what, const char *why) {
    char reason[256];
    if (why == NULL && o->file == stdout) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
            why = strerror(errno);
        }
    } else if (o->file != stdout) {
        /* Closing flushes: a full disk may only show up here. */
        int closed = fclose(o->file) == 0;
        if (why == NULL && !closed) {
            why = strerror(errno);
        }
    }
    o->file = NULL;
    if (why == NULL && o->tmp[0] != '\0' &&
        tool_replace_file(o->tmp, o->path, reason, sizeof reason) != 0) {
        why = reason;
    }
    if (why != NULL && o->tmp[0] != '\0') {
        remove(o->tmp);
    }
    o->tmp[0] = '\0';
    return why == NULL ? CLI_OK : cli_error(what, "cannot write '%s': %s", shown(o), why);
}
