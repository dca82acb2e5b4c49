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
/* What --create makes at most, unless told otherwise: the largest slot
 * (--max-frame) and the largest pool, slots times slot size (--max-pool).
 * A frame's geometry is the sender's word, and a hostile sender would
 * otherwise choose how much of /dev/shm this receiver reserves. */
#define DEFAULT_MAX_FRAME ((uint64_t)64 << 20)
#define DEFAULT_MAX_POOL ((uint64_t)1 << 30)
/* The largest --max-frame: a 4 GiB slot is beyond any frame a bridge is
 * for, and keeps max_frame + header far from overflowing. */
#define MAX_FRAME_LIMIT ((uint64_t)1 << 32)
/* At most one "too big" log line per this long. */
#define LOG_EVERY_NS 1000000000ull

/* Where the DEALER's connection events are published (one receiver per
 * ZeroMQ context, so the name is free). */
#define MONITOR_ENDPOINT "inproc://mmpool-bridge-recv-monitor"

typedef struct receiver {
    void *ctx, *dealer;
    void *monitor; /* a PAIR receiving the DEALER's disconnections */
    const char *name, *endpoint;
    mmpool *pool;
    mmpool_stats st;
    int create, stamp, any_owner;
    uint32_t window;
    uint64_t max_frame, max_pool; /* --max-frame, --max-pool: what --create may make */
    uint64_t received;            /* frames taken off the socket, valid or not */
    uint64_t credit_ns;           /* last credit sent */
    uint64_t heard_ns;            /* last frame received */
    uint64_t last_seq;            /* the sender's seq of the last frame written */
    uint64_t logged_ns;           /* last "too big" line */
    uint64_t refused_ns;          /* last "will not create" line */
    uint64_t lost_ns;             /* connection closed, and ZeroMQ not trying again since */
    int64_t max_part;             /* ZMQ_MAXMSGSIZE */
    int refused;                  /* the last handshake failed */
    bridge_status status;
} receiver;

static void send_credit(receiver *r, uint64_t now) {
    unsigned char msg[BRIDGE_CREDIT_SIZE];
    bridge_encode_credit(msg, &(bridge_credit){.window = r->window, .received = r->received});
    /* A full queue (no connection yet) is no error: the next one goes. */
    zmq_send(r->dealer, msg, sizeof msg, ZMQ_DONTWAIT);
    r->credit_ns = now;
}

/* The slot size --create gives POOL for the geometry in f: the sender's
 * slots, 32 bytes more with --header. BRIDGE_OK, or BRIDGE_MALFORMED for a
 * geometry beyond --max-frame or --max-pool (logged at most once a
 * second): the frame is dropped, the pool not made. */
static bridge_drop create_capacity(receiver *r, const bridge_frame *f, uint64_t now,
                                   uint64_t *capacity) {
    uint64_t stamp = r->stamp ? BRIDGE_STAMP_SIZE : 0;
    /* Checked before the stamp is added: capacity near 2^64 would wrap. */
    int fits = f->slot_capacity <= r->max_frame && f->slot_capacity <= UINT64_MAX - stamp &&
               f->slot_count <= r->max_pool / (f->slot_capacity + stamp);
    if (fits) {
        *capacity = f->slot_capacity + stamp;
        return BRIDGE_OK;
    }
    if (now - r->refused_ns >= LOG_EVERY_NS) {
        bridge_log("%s: not created: the sender asks for %" PRIu32 " slots of %" PRIu64
                   " bytes, beyond --max-frame %" PRIu64 " or --max-pool %" PRIu64
                   " (frame %" PRIu64 " dropped)",
                   r->name, f->slot_count, f->slot_capacity, r->max_frame, r->max_pool, f->seq);
        r->refused_ns = now;
    }
    return BRIDGE_MALFORMED;
}

/* Opens POOL as it is. At start (f NULL) a missing pool is fine with
 * --create: it is made when the first frame tells its geometry. */
static int open_pool(receiver *r, const bridge_frame *f) {
    mmpool_options o = {.flags = r->any_owner ? (uint32_t)MMPOOL_ANY_OWNER : 0u};
    int rc = mmpool_open(&r->pool, r->name, &o);
    if (rc == MMPOOL_ENOENT && f == NULL && r->create) {
        return CLI_OK;
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

/* The pool for the first valid frame with --create: made with the
 * sender's geometry (within the caps), or, if one appeared meanwhile,
 * taken as it is. CLI_OK with r->pool set; CLI_OK with r->pool NULL when
 * the geometry is refused or no pool can be made from it (the frame is
 * counted as malformed and the next one tries again); CLI_ERROR when a
 * pool that is there cannot be opened. */
static int create_pool(receiver *r, const bridge_frame *f, uint64_t now) {
    uint64_t capacity;
    if (create_capacity(r, f, now, &capacity) != BRIDGE_OK) {
        r->status.dropped[BRIDGE_MALFORMED]++;
        return CLI_OK;
    }
    mmpool_options o = {.flags = (r->any_owner ? (uint32_t)MMPOOL_ANY_OWNER : 0u) | MMPOOL_CREATE,
                        .slot_capacity = capacity,
                        .slot_count = f->slot_count,
                        .format = f->format};
    int rc = mmpool_open(&r->pool, r->name, &o);
    if (rc == MMPOOL_EMISMATCH) {
        return open_pool(r, f);
    }
    if (rc != 0) {
        /* A geometry the library refuses, or no room for it in /dev/shm:
         * the sender's doing, not this receiver's. */
        r->pool = NULL;
        r->status.dropped[BRIDGE_MALFORMED]++;
        if (now - r->refused_ns >= LOG_EVERY_NS) {
            bridge_log("%s: cannot create it with %" PRIu32 " slots of %" PRIu64
                       " bytes: %s (frame %" PRIu64 " dropped)",
                       r->name, f->slot_count, capacity, mmpool_strerror(rc), f->seq);
            r->refused_ns = now;
        }
        return CLI_OK;
    }
    if ((rc = mmpool_stat(r->pool, &r->st)) != 0) {
        return cli_fail(r->name, rc);
    }
    return CLI_OK;
}

/* Writes a checked frame into the pool. CLI_OK, a drop counted, or
 * CLI_ERROR when the pool cannot be written any more. */
static int write_frame(receiver *r, const bridge_frame *f, const void *payload, uint64_t now) {
    if (r->pool == NULL) {
        if (create_pool(r, f, now) != CLI_OK) {
            return CLI_ERROR;
        }
        if (r->pool == NULL) {
            return CLI_OK; /* refused, and counted */
        }
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

/* How long after a connection closed, with no sign of ZeroMQ trying
 * again, the receiver connects anew. */
#define RECONNECT_NS 1000000000ull

/* Reads the DEALER's connection events. ZeroMQ reconnects by itself after
 * a lost connection (a sender restarted) or a refused handshake, but not
 * after closing one for a protocol error, a part above ZMQ_MAXMSGSIZE
 * among them: the receiver would then wait for ever. So a disconnection
 * that no connection attempt follows is noted here, and check_lost()
 * connects anew. Connecting anew at every disconnection instead would
 * retry a refused CURVE handshake without ZeroMQ's pause between tries. */
static void on_monitor(receiver *r, uint64_t now) {
    zmq_msg_t parts[2];
    int n;
    while ((n = bridge_take(r->monitor, parts, 2)) > 0) {
        uint16_t event = 0;
        if (n == 2 && zmq_msg_size(&parts[0]) >= 2) {
            memcpy(&event, zmq_msg_data(&parts[0]), 2); /* native order, as libzmq writes it */
        }
        for (int i = 0; i < n && i < 2; i++) {
            zmq_msg_close(&parts[i]);
        }
        switch (event) {
        case ZMQ_EVENT_DISCONNECTED:
            r->lost_ns = now;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            r->refused = 1;
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            r->refused = 0;
            break;
        default: /* connected, or trying to */
            r->lost_ns = 0;
            break;
        }
    }
}

static void check_lost(receiver *r, uint64_t now) {
    if (r->lost_ns != 0 && now - r->lost_ns >= RECONNECT_NS) {
        r->lost_ns = 0;
        /* The likely cause, since ZeroMQ gives no other: a refused
         * handshake, or a sender whose frames are much larger than this
         * pool's slots. At most once a second, like every retry. */
        if (r->refused) {
            bridge_log("%s: the sender refused the handshake (with CURVE: is this receiver's "
                       "public key in its --curve-allow?): connecting again",
                       r->endpoint);
        } else {
            bridge_log("%s: the connection was closed and not retried, likely for a message "
                       "part over %" PRId64 " bytes (frames larger than the pool's slots?): "
                       "connecting again",
                       r->endpoint, r->max_part);
        }
        zmq_disconnect(r->dealer, r->endpoint); /* ENOENT when ZeroMQ dropped it: fine */
        if (zmq_connect(r->dealer, r->endpoint) != 0) {
            bridge_log("cannot connect %s again: %s", r->endpoint, zmq_strerror(zmq_errno()));
        }
    }
}

static int run(receiver *r) {
    send_credit(r, mmpool_now_ns());
    while (!tool_interrupted()) {
        zmq_pollitem_t items[2] = {{r->dealer, 0, ZMQ_POLLIN, 0}, {r->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 100) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            bridge_log("zmq_poll: %s", zmq_strerror(zmq_errno()));
            return CLI_ERROR;
        }
        uint64_t now = mmpool_now_ns();
        if (items[1].revents & ZMQ_POLLIN) {
            on_monitor(r, now);
        }
        check_lost(r, now);
        /* Everything waiting, but a stop asked for meanwhile comes first:
         * a sender can keep the socket busy for ever. */
        took t = TOOK_NONE;
        while (!tool_interrupted() && (t = take_message(r, now)) == TOOK_ONE) {
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
    int rc = bridge_read_secret(secret, secret_file);
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
    /* ZeroMQ stores a message part whole before we see it, so the largest
     * part it accepts is the memory a sender can make us hold per part: a
     * payload fills at most a slot (the pool's, or what --create may
     * make), and the first part is smaller than any. A larger part closes
     * the connection before its bytes are stored; the sender is
     * reconnected. */
    uint64_t slot =
        r->pool != NULL ? r->st.slot_capacity : r->max_frame + (r->stamp ? BRIDGE_STAMP_SIZE : 0);
    int64_t max_part = r->max_part = (int64_t)(slot + BRIDGE_FRAME_HEAD);
    /* It sends only credits: a few queued while disconnected are plenty.
     * It receives at most its window of frames in flight. */
    r->dealer = bridge_socket(r->ctx, ZMQ_DEALER, 4, BRIDGE_WINDOW_MAX + 4, max_part);
    if (r->dealer == NULL) {
        return CLI_ERROR;
    }
    int rc;
    if (secret_file != NULL && (rc = use_curve(r, secret_file, server_file)) != CLI_OK) {
        return rc;
    }
    if (zmq_socket_monitor(
            r->dealer, MONITOR_ENDPOINT,
            ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_DELAYED |
                ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
        (r->monitor = zmq_socket(r->ctx, ZMQ_PAIR)) == NULL ||
        zmq_connect(r->monitor, MONITOR_ENDPOINT) != 0) {
        bridge_log("cannot watch the connection: %s", zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    int zero = 0;
    zmq_setsockopt(r->monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(r->dealer, endpoint) != 0) {
        bridge_log("cannot connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    r->endpoint = endpoint;
    return CLI_OK;
}

int bridge_recv(int argc, char **argv) {
    cli_opt opts[] = {{"--create", 0, NULL},       {"--curve-secret", 1, NULL},
                      {"--curve-server", 1, NULL}, {"--quiet", 0, NULL},
                      {"--json", 0, NULL},         {"--header", 0, NULL},
                      {"--window", 1, NULL},       {"--any-owner", 0, NULL},
                      {"--max-frame", 1, NULL},    {"--max-pool", 1, NULL}};
    const char *pos[2];
    int npos;
    int rc = cli_parse("bridge", argc, argv, opts, 10, pos, 2, 2, &npos);
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
    uint64_t max_frame = DEFAULT_MAX_FRAME, max_pool = DEFAULT_MAX_POOL;
    if (opts[8].value != NULL && (cli_parse_size(opts[8].value, &max_frame) != 0 ||
                                  max_frame == 0 || max_frame > MAX_FRAME_LIMIT)) {
        return cli_usage("bridge", "--max-frame wants 1 byte to 4G, not '%s'", opts[8].value);
    }
    if (opts[9].value != NULL && (cli_parse_size(opts[9].value, &max_pool) != 0 || max_pool == 0)) {
        return cli_usage("bridge", "--max-pool wants a size in bytes, not '%s'", opts[9].value);
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
    r->max_frame = max_frame;
    r->max_pool = max_pool;
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
    if (r->monitor != NULL) {
        zmq_close(r->monitor);
    }
    if (r->dealer != NULL) {
        zmq_socket_monitor(r->dealer, NULL, 0);
        zmq_close(r->dealer);
    }
    if (r->ctx != NULL) {
        zmq_ctx_term(r->ctx);
    }
    mmpool_close(r->pool);
    free(r);
    return rc;
}
