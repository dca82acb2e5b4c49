/* `mmpool bridge recv ENDPOINT POOL`: connects a DEALER to a sender,
 * grants it credit, and writes each valid frame into POOL with one copy,
 * from ZeroMQ's buffer into a write loan. Every message is checked
 * (bridge_decode_frame) before the pool is touched. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bridge.h"
#include "platform.h"

/* Credit and heartbeat: sent after each frame and at least this often. */
#define CREDIT_EVERY_NS 500000000ull
/* No frame and no answer for this long: the sender shows as silent. */
#define SILENT_NS 1000000000ull
/* Longest wait for a free slot before a frame is dropped (no_slot). */
#define SLOT_WAIT_MS 50
/* Largest message ZeroMQ buffers for us: beyond it the connection is
 * dropped before the bytes are stored. */
#define MAX_MESSAGE (((int64_t)1 << 32) + BRIDGE_FRAME_HEAD)
/* At most one "too big" log line per this long. */
#define LOG_EVERY_NS 1000000000ull

typedef struct receiver {
    void *ctx, *dealer;
    const char *name;
    mmpool *pool;
    mmpool_stats st;
    int create, stamp, any_owner;
    uint32_t window;
    uint64_t received;  /* frames taken off the socket, valid or not */
    uint64_t credit_ns; /* last credit sent */
    uint64_t heard_ns;  /* last frame received */
    uint64_t last_seq;  /* the sender's seq of the last frame written */
    uint64_t logged_ns; /* last "too big" line */
    bridge_status status;
} receiver;

static void send_credit(receiver *r, uint64_t now) {
    unsigned char msg[BRIDGE_CREDIT_SIZE];
    bridge_encode_credit(msg, &(bridge_credit){.window = r->window, .received = r->received});
    /* A full queue (no connection yet) is no error: the next one goes. */
    zmq_send(r->dealer, msg, sizeof msg, ZMQ_DONTWAIT);
    r->credit_ns = now;
}

/* Opens POOL, creating it with the sender's geometry if asked and need
 * be. f NULL: at start, only when the pool is there. */
static int open_pool(receiver *r, const bridge_frame *f) {
    mmpool_options o = {.flags = r->any_owner ? (uint32_t)MMPOOL_ANY_OWNER : 0u};
    int rc = mmpool_open(&r->pool, r->name, &o);
    if (rc == MMPOOL_ENOENT && f == NULL && r->create) {
        return CLI_OK; /* made when the first frame tells its geometry */
    }
    if (rc == MMPOOL_ENOENT && f != NULL) {
        /* Still none: made now. One that appeared meanwhile is taken as
         * it is, like one that was there at the start. */
        o.flags |= MMPOOL_CREATE;
        o.slot_capacity = f->slot_capacity + (r->stamp ? BRIDGE_STAMP_SIZE : 0);
        o.slot_count = f->slot_count;
        o.format = f->format;
        rc = mmpool_open(&r->pool, r->name, &o);
        if (rc == MMPOOL_EMISMATCH) {
            o = (mmpool_options){.flags = o.flags & ~(uint32_t)MMPOOL_CREATE};
            rc = mmpool_open(&r->pool, r->name, &o);
        }
    }
    if (rc != 0) {
        r->pool = NULL;
        return cli_fail_open(r->name, rc, &o);
    }
    if ((rc = mmpool_stat(r->pool, &r->st)) != 0) {
        return cli_fail(r->name, rc);
    }
    return CLI_OK;
}

/* Writes a checked frame into the pool. CLI_OK, a drop counted, or
 * CLI_ERROR when the pool cannot be written any more. */
static int write_frame(receiver *r, const bridge_frame *f, const void *payload, uint64_t now) {
    if (r->pool == NULL && open_pool(r, f) != CLI_OK) {
        return CLI_ERROR;
    }
    uint64_t need = f->len + (r->stamp ? BRIDGE_STAMP_SIZE : 0);
    if (need > r->st.slot_capacity) {
        r->status.dropped[BRIDGE_TOO_BIG]++;
        if (now - r->logged_ns >= LOG_EVERY_NS) {
            bridge_log("%s: frame %" PRIu64 " skipped: %" PRIu64 " bytes%s do not fit its slots "
                       "of %" PRIu64 " bytes (%" PRIu64 " skipped so far)",
                       r->name, f->seq, need, r->stamp ? " with the header" : "",
                       r->st.slot_capacity, r->status.dropped[BRIDGE_TOO_BIG]);
            r->logged_ns = now;
        }
        return CLI_OK;
    }
    void *data;
    int rc = mmpool_write_acquire(r->pool, &data, NULL, SLOT_WAIT_MS);
    if (rc == MMPOOL_ETIMEDOUT || rc == MMPOOL_ECANCELED) {
        r->status.dropped[BRIDGE_NO_SLOT]++;
        return CLI_OK;
    }
    if (rc != 0) {
        return cli_fail(r->name, rc);
    }
    unsigned char *p = data;
    if (r->stamp) {
        bridge_encode_stamp(p, f);
        p += BRIDGE_STAMP_SIZE;
    }
    memcpy(p, payload, (size_t)f->len); /* the one copy */
    if ((rc = mmpool_write_commit(r->pool, (size_t)need)) != 0) {
        return cli_fail(r->name, rc);
    }
    if (r->last_seq != 0 && f->seq > r->last_seq + 1) {
        r->status.skipped += f->seq - r->last_seq - 1;
    }
    r->last_seq = f->seq;
    r->status.frames++;
    r->status.bytes += f->len;
    return CLI_OK;
}

/* What take_message() did. */
typedef enum took { TOOK_NONE, TOOK_ONE, TOOK_FAILED } took;

/* Takes one message off the socket: [head][payload], checked, then
 * written or dropped. TOOK_FAILED when the pool cannot be written. */
static took take_message(receiver *r, uint64_t now) {
    zmq_msg_t parts[2];
    int n = bridge_take(r->dealer, parts, 2);
    if (n == 0) {
        return TOOK_NONE;
    }
    r->received++;
    r->heard_ns = now;
    /* The credit goes back before the pool write: the sender's next frame
     * is on its way while this one is copied. */
    send_credit(r, now);
    bridge_frame f;
    bridge_drop d = n != 2 ? BRIDGE_MALFORMED
                           : bridge_decode_frame(&f, zmq_msg_data(&parts[0]),
                                                 zmq_msg_size(&parts[0]), zmq_msg_size(&parts[1]));
    int rc = CLI_OK;
    if (d != BRIDGE_OK) {
        r->status.dropped[d]++;
    } else {
        rc = write_frame(r, &f, zmq_msg_data(&parts[1]), now);
    }
    for (int i = 0; i < n && i < 2; i++) {
        zmq_msg_close(&parts[i]);
    }
    return rc == CLI_OK ? TOOK_ONE : TOOK_FAILED;
}

static int run(receiver *r) {
    send_credit(r, mmpool_now_ns());
    while (!tool_interrupted()) {
        zmq_pollitem_t item = {r->dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            bridge_log("zmq_poll: %s", zmq_strerror(zmq_errno()));
            return CLI_ERROR;
        }
        uint64_t now = mmpool_now_ns();
        took t;
        while ((t = take_message(r, now)) == TOOK_ONE) {
        }
        if (t == TOOK_FAILED) {
            return CLI_ERROR;
        }
        /* Hello, credit and heartbeat in one: a restarted sender learns
         * of this receiver within half a second. */
        if (now - r->credit_ns >= CREDIT_EVERY_NS) {
            send_credit(r, now);
        }
        r->status.receivers = r->heard_ns != 0 && now - r->heard_ns < SILENT_NS ? 1 : 0;
        bridge_status_tick(&r->status, now, 0);
    }
    return CLI_OK;
}

/* CURVE client keys: our secret (and the public key derived from it) and
 * the server's public key. */
static int use_curve(receiver *r, const char *secret_file, const char *server_file) {
    char secret[BRIDGE_KEY_TEXT], public_key[BRIDGE_KEY_TEXT], server[BRIDGE_KEY_TEXT];
    int rc = bridge_read_key(secret, secret_file);
    if (rc != CLI_OK || (rc = bridge_read_key(server, server_file)) != CLI_OK) {
        return rc;
    }
    if (zmq_curve_public(public_key, secret) != 0 ||
        zmq_setsockopt(r->dealer, ZMQ_CURVE_SERVERKEY, server, BRIDGE_KEY_TEXT - 1) != 0 ||
        zmq_setsockopt(r->dealer, ZMQ_CURVE_PUBLICKEY, public_key, BRIDGE_KEY_TEXT - 1) != 0 ||
        zmq_setsockopt(r->dealer, ZMQ_CURVE_SECRETKEY, secret, BRIDGE_KEY_TEXT - 1) != 0) {
        bridge_log("cannot use CURVE: %s", zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    return CLI_OK;
}

static int open_dealer(receiver *r, const char *endpoint, const char *secret_file,
                       const char *server_file) {
    /* It sends only credits: a few queued while disconnected are plenty. */
    r->dealer = bridge_socket(r->ctx, ZMQ_DEALER, 4, BRIDGE_WINDOW_MAX + 4, MAX_MESSAGE);
    if (r->dealer == NULL) {
        return CLI_ERROR;
    }
    int rc;
    if (secret_file != NULL && (rc = use_curve(r, secret_file, server_file)) != CLI_OK) {
        return rc;
    }
    if (zmq_connect(r->dealer, endpoint) != 0) {
        bridge_log("cannot connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    return CLI_OK;
}

int bridge_recv(int argc, char **argv) {
    cli_opt opts[] = {{"--create", 0, NULL},       {"--curve-secret", 1, NULL},
                      {"--curve-server", 1, NULL}, {"--quiet", 0, NULL},
                      {"--json", 0, NULL},         {"--header", 0, NULL},
                      {"--window", 1, NULL},       {"--any-owner", 0, NULL}};
    const char *pos[2];
    int npos;
    int rc = cli_parse("bridge", argc, argv, opts, 8, pos, 2, 2, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    if ((opts[1].value == NULL) != (opts[2].value == NULL)) {
        return cli_usage("bridge", "--curve-secret and --curve-server go together");
    }
    uint64_t window = 1;
    if (opts[6].value != NULL &&
        (cli_parse_uint(opts[6].value, BRIDGE_WINDOW_MAX, &window) != 0 || window == 0)) {
        return cli_usage("bridge", "--window wants 1 to %d frames, not '%s'", BRIDGE_WINDOW_MAX,
                         opts[6].value);
    }
    receiver *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return cli_error("bridge", "out of memory");
    }
    r->name = pos[1];
    r->create = opts[0].value != NULL;
    r->stamp = opts[5].value != NULL;
    r->any_owner = opts[7].value != NULL;
    r->window = (uint32_t)window;
    r->status = (bridge_status){
        .role = "recv", .quiet = opts[3].value != NULL, .json = opts[4].value != NULL};
    tool_catch_interrupt();
    r->ctx = zmq_ctx_new();
    rc = r->ctx == NULL ? cli_error("bridge", "cannot start ZeroMQ") : CLI_OK;
    if (rc == CLI_OK && (rc = open_pool(r, NULL)) == CLI_OK &&
        (rc = open_dealer(r, pos[0], opts[1].value, opts[2].value)) == CLI_OK) {
        bridge_status_tick(&r->status, mmpool_now_ns(), 0);
        rc = run(r);
        bridge_status_tick(&r->status, mmpool_now_ns(), 1);
    }
    if (r->dealer != NULL) {
        zmq_close(r->dealer);
    }
    if (r->ctx != NULL) {
        zmq_ctx_term(r->ctx);
    }
    mmpool_close(r->pool);
    free(r);
    return rc;
}
