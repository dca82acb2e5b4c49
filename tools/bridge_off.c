/* `mmpool bridge` in a tool built without libzmq: says so. CMake gives
 * the reason as MMPOOL_CLI_NO_BRIDGE. */
#include "cli.h"

int cmd_bridge(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_error("bridge", "this mmpool was built without the bridge: %s",
                     MMPOOL_CLI_NO_BRIDGE);
}
