/* `mmpool bridge`: picks send, recv or keygen, and holds what their
 * sockets share. Built only with libzmq (bridge_off.c otherwise). */
#include <string.h>
#include <zmq.h>

#include "bridge.h"

void *bridge_socket(void *ctx, int type, int sndhwm, int rcvhwm, int64_t max_message) {
    void *s = zmq_socket(ctx, type);
    if (s == NULL) {
        bridge_log("cannot make a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    /* Closing never waits to deliver what is queued: a frame nobody took
     * is worth nothing once the bridge stops. */
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
    return s;
}

int bridge_take(void *socket, void *parts, int max) {
    zmq_msg_t *out = parts;
    int n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        /* The parts of a message arrive together: only the first may be
         * missing. */
        if (zmq_msg_recv(&m, socket, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < max) {
            out[n] = m;
        } else {
            zmq_msg_close(&m);
        }
        n++;
    }
    return n;
}

int cmd_bridge(int argc, char **argv) {
    if (argc < 2) {
        return cli_usage("bridge", "missing send, recv or keygen");
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cli_help("bridge", stdout);
        return -1;
    }
    if (strcmp(sub, "send") == 0) {
        return bridge_send(argc - 1, argv + 1);
    }
    if (strcmp(sub, "recv") == 0) {
        return bridge_recv(argc - 1, argv + 1);
    }
    if (strcmp(sub, "keygen") == 0) {
        return bridge_keygen(argc - 1, argv + 1);
    }
    return cli_usage("bridge", "unknown subcommand '%s' (send, recv or keygen)", sub);
}
