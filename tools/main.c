/* mmpool: inspect and manage mmpool pools from the command line. Dispatches
 * to the subcommands and holds their help texts. */
#include <string.h>

#include "cli.h"
#include "platform.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

#define POOL_ARG                                                                                   \
    "POOL is a bare name (placed where mmpool_open() places it, /dev/shm on Linux)\n"              \
    "or a path containing '/'.\n"

/* The commands that open a handle on the pool (the others only inspect it,
 * to which the owner rule does not apply). */
#define ANY_OWNER_OPT                                                                              \
    "  --any-owner         open the pool even if it lies in a world-writable\n"                    \
    "                      sticky directory (/dev/shm) and another user owns it\n"                 \
    "                      (MMPOOL_ANY_OWNER); without it that is refused\n"

static const command commands[] = {
    {"ls", cmd_ls,
     "Usage: mmpool ls [--json] [DIR]\n"
     "Lists the pools in DIR (default: the directory of bare names, /dev/shm on\n"
     "Linux), recognised by their header; other files are skipped. One line each:\n"
     "name, slots x capacity, newest seq, live processes attached, payload format.\n"
     "  --json   one JSON array of objects\n"},
    {"info", cmd_info,
     "Usage: mmpool info [--json] POOL\n"
     "Shows the header (format version, geometry, payload format, creation time,\n"
     "the file's owner), each slot's state (empty, committed, being written,\n"
     "pinned) and each entry of the handle table, every holder marked alive or\n"
     "dead. Attaches to nothing.\n"
     "  --json   one JSON object\n" POOL_ARG},
    {"watch", cmd_watch,
     "Usage: mmpool watch [--count N] [--interval SECONDS] POOL\n"
     "Prints a line every second until Ctrl-C: newest seq, frames/s, MB/s\n"
     "(10^6 bytes), age of the newest frame, live handles. Only reads the file:\n"
     "takes no slot, pins nothing, takes no handle-table entry.\n"
     "  --count N             stop after N lines\n"
     "  --interval SECONDS    time between lines (default 1)\n" POOL_ARG},
    {"put", cmd_put,
     "Usage: mmpool put [--timeout SECONDS] [--any-owner] POOL [FILE]\n"
     "Writes the whole of FILE (default or '-': standard input) as one frame.\n"
     "  --timeout SECONDS   wait at most this long for a free slot (default:\n"
     "                      forever; 0: do not wait)\n" ANY_OWNER_OPT POOL_ARG},
    {"get", cmd_get,
     "Usage: mmpool get [--timeout SECONDS] [--fifo] [--any-owner] POOL [FILE]\n"
     "Reads one frame, the newest (or with --fifo the oldest) in the pool, into\n"
     "FILE (default or '-': standard output). Waits for one if the pool is empty.\n"
     "  --timeout SECONDS   wait at most this long (default: forever; 0: do not\n"
     "                      wait)\n"
     "  --fifo              the oldest frame instead of the newest\n" ANY_OWNER_OPT POOL_ARG},
    {"snapshot", cmd_snapshot,
     "Usage: mmpool snapshot [--timeout SECONDS] [--any-owner] POOL OUT\n"
     "Saves the newest frame as an image: PNG if OUT ends in .png (any case),\n"
     "binary PPM otherwise. Colour (RGB) for a payload format 'bgr8 WxH' or\n"
     "'rgb8 WxH', grey for 'gray8 WxH'. Other formats, or a frame of another size\n"
     "than W*H*channels bytes, are an error. OUT is written under a temporary name\n"
     "and renamed into place. OUT '-' is standard output (PPM).\n"
     "  --timeout SECONDS   wait this long for a frame if there is none\n"
     "                      (default: 0, do not wait)\n" ANY_OWNER_OPT POOL_ARG},
    {"create", cmd_create,
     "Usage: mmpool create --capacity SIZE --slots N [--format STR] [--mode MODE] POOL\n"
     "Creates a new pool; an existing one is an error.\n"
     "  --capacity SIZE   bytes per frame: 6220800, 6M (K, M, G are powers of\n"
     "                    1024) or a product such as 1920x1080x3\n"
     "  --slots N         number of slots, 1..1024\n"
     "  --format STR      payload description, at most 63 bytes, e.g.\n"
     "                    'bgr8 1920x1080'\n"
     "  --mode MODE       octal permission bits (default 0600)\n" POOL_ARG},
    {"flush", cmd_flush,
     "Usage: mmpool flush [--any-owner] POOL\n"
     "Drops every frame that no handle holds. Seqs keep counting.\n" ANY_OWNER_OPT POOL_ARG},
    {"rm", cmd_rm,
     "Usage: mmpool rm POOL\n"
     "Removes the pool: handles still open on it get MMPOOL_ESTALE. A file that\n"
     "is not a pool is left alone.\n" POOL_ARG},
    {"clean", cmd_clean,
     "Usage: mmpool clean [--dry-run] [--all-users] [DIR]\n"
     "Removes the pools in DIR (default: the directory of bare names) that no\n"
     "live process holds and whose file the caller owns, and says what it\n"
     "removed; other users' such pools are only counted.\n"
     "  --dry-run     say what would be removed, remove nothing\n"
     "  --all-users   every user's pools (root only; on Windows an elevated\n"
     "                administrator)\n"},
    {"bridge", cmd_bridge,
     "Usage: mmpool bridge send [OPTIONS] POOL ENDPOINT\n"
     "       mmpool bridge recv [OPTIONS] ENDPOINT POOL\n"
     "       mmpool bridge keygen [NAME]\n"
     "Carries frames from a pool on one machine into a pool on another over\n"
     "ZeroMQ (docs/bridge.md). send binds ENDPOINT (e.g. tcp://127.0.0.1:5555)\n"
     "and sends the newest frame to each receiver that has room for one; recv\n"
     "connects to it and writes each frame into POOL. A status line every second\n"
     "on stderr. Ctrl-C or SIGTERM stops either cleanly.\n"
     "send:\n"
     "  --fifo                 every frame in order (default: the newest only)\n"
     "  --curve-secret FILE    encrypt with CURVE, this server's secret key...\n"
     "  --curve-allow DIR      ...and accept only receivers whose key is in one\n"
     "                         of DIR's .pub files\n"
     "recv:\n"
     "  --create               create POOL with the sender's geometry and format\n"
     "                         if there is none, within:\n"
     "  --max-frame SIZE       ...slots of at most SIZE bytes (default 64M)\n"
     "  --max-pool SIZE        ...and SIZE bytes in all (default 1G)\n"
     "  --header               put a 32-byte header (original seq, timestamp,\n"
     "                         length) before each frame; slots need 32 more bytes\n"
     "  --window N             frames in flight, 1 or 2 (default 1: the lowest\n"
     "                         latency on a slow link)\n"
     "  --curve-secret FILE    this receiver's secret key...\n"
     "  --curve-server FILE    ...and the sender's public key\n"
     "both:\n"
     "  --quiet                no status line\n"
     "  --json                 the status line as one JSON object\n" ANY_OWNER_OPT
     "keygen writes NAME.key (secret, mode 0600) and NAME.pub (public); NAME\n"
     "defaults to 'bridge'.\n" POOL_ARG},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char *tool_help =
    "Usage: mmpool COMMAND [OPTIONS] [ARGS]\n"
    "Inspects and manages mmpool pools.\n"
    "\n"
    "Commands:\n"
    "  ls [DIR]             list the pools in a directory\n"
    "  info POOL            header, slots and attached handles\n"
    "  watch POOL           frames/s and MB/s, every second\n"
    "  put POOL [FILE]      write one frame\n"
    "  get POOL [FILE]      read one frame\n"
    "  snapshot POOL OUT    save the newest frame as a PNG or PPM image\n"
    "  create POOL ...      create a pool\n"
    "  flush POOL           drop the frames nobody holds\n"
    "  rm POOL              remove a pool\n"
    "  clean [DIR]          remove your pools that no live process holds\n"
    "  bridge send|recv     carry frames to another machine over ZeroMQ\n"
    "\n"
    "'mmpool COMMAND --help' describes a command. Exit status: 0 success,\n"
    "1 error (the message names the pool and the reason), 2 usage error.\n"
    "  --help      this text\n"
    "  --version   the tool's and the library's version\n";

void cli_help(const char *cmd, FILE *out) {
    for (size_t i = 0; cmd != NULL && i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            fputs(commands[i].help, out);
            return;
        }
    }
    fputs(tool_help, out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        return cli_usage(NULL, "missing command");
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cli_help(argc > 2 && strcmp(cmd, "help") == 0 ? argv[2] : NULL, stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("mmpool %d.%d.%d (library %s)\n", MMPOOL_VERSION_MAJOR, MMPOOL_VERSION_MINOR,
               MMPOOL_VERSION_PATCH, mmpool_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, cmd) == 0) {
            int rc = commands[i].run(argc - 1, argv + 1);
            /* -1: the command printed its help. */
            return rc < 0 ? CLI_OK : rc;
        }
    }
    return cli_usage(NULL, "unknown command '%s'", cmd);
}
