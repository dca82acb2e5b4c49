/* `mmpool bridge send POOL ENDPOINT`: reads frames from a pool and sends
 * each to the receivers that have credit for it. One ROUTER socket; a
 * receiver (DEALER) announces itself and grants credit with the same small
 * message, sent after each frame it takes and every half second. The loop
 * waits in one zmq_poll on the ROUTER, the ZAP socket (with CURVE) and the
 * pool's event descriptor, then drains the pool with mmpool_try_read. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bridge.h"
#include "platform.h"

/* Receivers one sender serves at once; more are ignored (and logged, at
 * most once per IGNORED_LOG_NS). */
#define MAX_PEERS 64
#define IGNORED_LOG_NS 10000000000ull
/* A receiver silent this long is forgotten: its credit goes with it. It
 * speaks at least every 500 ms. With --fifo a receiver that is gone holds
 * every other one until it is forgotten, so this is most of the pause a
 * restarted receiver sees. */
#define PEER_TIMEOUT_NS 1000000000ull
/* The loop wakes at least this often, for the status line and expiry. */
#define TICK_MS 100
/* Kernel send buffer per connection: small, so that a frame does not sit
 * behind megabytes of older ones on a slow link. */
#define SEND_BUFFER (256 * 1024)

typedef struct peer {
    unsigned char id[256]; /* the ROUTER's routing id for its connection */
    size_t id_len;
    uint32_t window;   /* frames it may have in flight */
    uint64_t base;     /* its "received" count in its first message */
    uint64_t received; /* frames it took since then */
    uint64_t sent;     /* frames sent to it */
    uint64_t last_seq; /* seq of the last frame sent to it */
    uint64_t seen_ns;  /* when it last spoke */
} peer;

typedef struct sender {
    void *ctx, *router;
    bridge_zap zap;
    int curve, fifo;
    mmpool *pool;
    const char *name;
    uint64_t capacity;
    intptr_t event;
    zmq_msg_t frame; /* the newest frame read, shared by every send */
    int have_frame;
    int frame_sent; /* it went to at least one receiver */
    unsigned char head[BRIDGE_FRAME_HEAD];
    uint64_t seq;
    uint64_t start_seq; /* --fifo: the pool's newest seq when the sender started */
    peer peers[MAX_PEERS];
    size_t npeers;
    uint64_t ignored;    /* credits from receivers beyond MAX_PEERS */
    uint64_t ignored_ns; /* when that was last logged */
    bridge_status status;
} sender;

static void free_buffer(void *data, void *hint) {
    (void)hint;
    free(data);
}

static peer *find_peer(sender *s, const void *id, size_t len) {
    for (size_t i = 0; i < s->npeers; i++) {
        if (s->peers[i].id_len == len && memcmp(s->peers[i].id, id, len) == 0) {
            return &s->peers[i];
        }
    }
    return NULL;
}

static void forget_peer(sender *s, peer *p) {
    *p = s->peers[--s->npeers];
}

/* A credit message from the receiver whose routing id is id. */
static void on_credit(sender *s, const zmq_msg_t *id, const zmq_msg_t *body, uint64_t now) {
    bridge_credit c;
    bridge_drop d =
        bridge_decode_credit(&c, zmq_msg_data((zmq_msg_t *)body), zmq_msg_size((zmq_msg_t *)body));
    if (d != BRIDGE_OK) {
        s->status.dropped[d]++;
        return;
    }
    size_t len = zmq_msg_size((zmq_msg_t *)id);
    peer *p = find_peer(s, zmq_msg_data((zmq_msg_t *)id), len);
    if (p == NULL) {
        if (s->npeers == MAX_PEERS || len > sizeof p->id) {
            /* Every time it goes on, not once: a full table that
             * lasts is worth knowing about, and a flood of newcomers
             * costs one line per IGNORED_LOG_NS. */
            s->ignored++;
            if (s->ignored_ns == 0 || now - s->ignored_ns >= IGNORED_LOG_NS) {
                bridge_log("more than %d receivers: the others are ignored (%" PRIu64
                           " of their messages so far)",
                           MAX_PEERS, s->ignored);
                s->ignored_ns = now;
            }
            return;
        }
        p = &s->peers[s->npeers++];
        memset(p, 0, sizeof *p);
        memcpy(p->id, zmq_msg_data((zmq_msg_t *)id), len);
        p->id_len = len;
        p->base = c.received;
    }
    p->window = c.window;
    /* A count below the base cannot come from a well-behaved receiver on
     * one connection; keep the credit at what it was. */
    if (c.received >= p->base && c.received - p->base <= p->sent) {
        p->received = c.received - p->base;
    }
    p->seen_ns = now;
}

/* Reads every message waiting on the ROUTER: [routing id][credit]. */
static void drain_router(sender *s, uint64_t now) {
    zmq_msg_t parts[2];
    int n;
    while ((n = bridge_take(s->router, parts, 2)) > 0) {
        if (n == 2) {
            on_credit(s, &parts[0], &parts[1], now);
        } else {
            s->status.dropped[BRIDGE_MALFORMED]++;
        }
        for (int i = 0; i < n && i < 2; i++) {
            zmq_msg_close(&parts[i]);
        }
    }
}

static uint64_t credit(const peer *p) {
    uint64_t in_flight = p->sent - p->received;
    return in_flight < p->window ? p->window - in_flight : 0;
}

/* Sends the current frame to p: [routing id][head][payload]. 0, or -1 if
 * the receiver is gone (then forgotten by the caller). */
static int send_to(sender *s, peer *p) {
    if (zmq_send(s->router, p->id, p->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        /* EAGAIN: its queue is full (cannot happen within its credit but
         * costs nothing to respect); EHOSTUNREACH: disconnected. */
        return zmq_errno() == EHOSTUNREACH ? -1 : 0;
    }
    /* A multipart message whose first part was accepted is accepted
     * whole. */
    zmq_send(s->router, s->head, sizeof s->head, ZMQ_SNDMORE);
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, &s->frame); /* shares the buffer: no copy */
    if (zmq_msg_send(&copy, s->router, 0) < 0) {
        zmq_msg_close(&copy);
    }
    p->sent++;
    p->last_seq = s->seq;
    s->frame_sent = 1;
    s->status.frames++;
    s->status.bytes += zmq_msg_size(&s->frame);
    return 0;
}

/* The current frame to every receiver that has credit and has not had it. */
static void dispatch(sender *s) {
    for (size_t i = 0; s->have_frame && i < s->npeers;) {
        peer *p = &s->peers[i];
        if (p->last_seq < s->seq && credit(p) > 0 && send_to(s, p) != 0) {
            forget_peer(s, p);
            continue;
        }
        i++;
    }
}

/* LATEST reads the pool only when a receiver can take a frame, so that
 * the frame it sends is the newest at that moment and frames nobody can
 * take are never copied. FIFO reads the next frame once every receiver
 * has had the current one. */
static int want_frame(const sender *s) {
    int all_had = 1;
    for (size_t i = 0; i < s->npeers; i++) {
        const peer *p = &s->peers[i];
        if (!s->fifo && credit(p) > 0) {
            return 1;
        }
        all_had &= !s->have_frame || p->last_seq >= s->seq;
    }
    return s->fifo && s->npeers > 0 && all_had;
}

/* Takes the pool's next frame as the current one. 1: a frame was read;
 * 0: none (MMPOOL_EAGAIN); -1: the pool cannot be read any more. */
static int read_frame(sender *s) {
    size_t cap = s->capacity > 0 ? (size_t)s->capacity : 1;
    void *buf = malloc(cap);
    if (buf == NULL) {
        bridge_log("%s: out of memory for a frame of %zu bytes", s->name, cap);
        return -1;
    }
    mmpool_frame f;
    int rc = mmpool_try_read(s->pool, buf, cap, &f);
    if (rc != 0) {
        free(buf);
        if (rc == MMPOOL_EAGAIN) {
            return 0;
        }
        if (rc == MMPOOL_EFORMAT) { /* a damaged frame: the next read goes past it */
            s->status.skipped++;
            return 1;
        }
        cli_fail(s->name, rc);
        return -1;
    }
    if (s->fifo && f.seq <= s->start_seq) {
        /* Committed before this sender started: a sender restarted
         * mid-stream would otherwise send again, out of order, frames its
         * receivers already have. */
        free(buf);
        return 1;
    }
    mmpool_stats st;
    if ((rc = mmpool_stat(s->pool, &st)) != 0) {
        free(buf);
        cli_fail(s->name, rc);
        return -1;
    }
    zmq_msg_t msg;
    if (zmq_msg_init_data(&msg, buf, (size_t)f.len, free_buffer, NULL) != 0) {
        /* Out of memory for ZeroMQ's bookkeeping: this frame is skipped,
         * never sent as an empty payload under a head that says f.len. */
        free(buf);
        s->status.skipped += 1 + f.dropped;
        return 1;
    }
    if (s->have_frame) {
        s->status.skipped += !s->frame_sent;
        zmq_msg_close(&s->frame);
    }
    s->status.skipped += f.dropped;
    s->frame = msg;
    bridge_frame bf = {.seq = f.seq,
                       .timestamp_ns = f.timestamp_ns,
                       .len = f.len,
                       .slot_capacity = st.slot_capacity,
                       .slot_count = st.slot_count};
    memcpy(bf.format, st.format, sizeof bf.format);
    bf.format[MMPOOL_FORMAT_MAX] = '\0';
    bridge_encode_frame(s->head, &bf);
    s->seq = f.seq;
    s->have_frame = 1;
    s->frame_sent = 0;
    return 1;
}

static void expire_peers(sender *s, uint64_t now) {
    for (size_t i = 0; i < s->npeers;) {
        if (now - s->peers[i].seen_ns > PEER_TIMEOUT_NS) {
            forget_peer(s, &s->peers[i]);
            continue;
        }
        i++;
    }
}

static int run(sender *s) {
    int timeout = TICK_MS;
    while (!tool_interrupted()) {
        zmq_pollitem_t items[3] = {{s->router, 0, ZMQ_POLLIN, 0}};
        int n = 1, zap_at = -1, pool_at = -1;
        if (s->curve) {
            zap_at = n;
            items[n++] = (zmq_pollitem_t){s->zap.socket, 0, ZMQ_POLLIN, 0};
        }
        if (want_frame(s)) {
            pool_at = n;
            items[n++] = (zmq_pollitem_t){NULL, (zmq_fd_t)s->event, ZMQ_POLLIN, 0};
        }
        if (zmq_poll(items, n, timeout) < 0) {
            if (zmq_errno() == EINTR) {
                continue;
            }
            bridge_log("zmq_poll: %s", zmq_strerror(zmq_errno()));
            return CLI_ERROR;
        }
        uint64_t now = mmpool_now_ns();
        if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) {
            bridge_zap_serve(&s->zap);
            s->status.refused = s->zap.refused;
        }
        drain_router(s, now);
        expire_peers(s, now);
        /* One frame per turn: the newest (LATEST), or the next (FIFO).
         * The descriptor is level-style: it stays ready while a frame is
         * unread, so a credit that just came in finds it ready in the
         * next zmq_poll; a read that finds none (MMPOOL_EAGAIN) re-arms
         * it. */
        if (pool_at >= 0 && (items[pool_at].revents & ZMQ_POLLIN) && read_frame(s) < 0) {
            return CLI_ERROR;
        }
        /* A receiver that just got credit, with the pool not looked at
         * this turn: look at once (timeout 0) before sending, since the
         * pool may hold a newer frame than the one read earlier. */
        timeout = TICK_MS;
        if (!s->fifo && pool_at < 0 && want_frame(s)) {
            timeout = 0;
        } else {
            dispatch(s);
        }
        s->status.receivers = s->npeers;
        bridge_status_tick(&s->status, now, 0);
    }
    return CLI_OK;
}

/* Whether a bound endpoint, as ZeroMQ reports it (ZMQ_LAST_ENDPOINT:
 * "tcp://0.0.0.0:5555", "tcp://127.0.0.1:5555", "ipc://..."), can be
 * reached from another machine. Only TCP on a loopback address cannot;
 * anything unknown counts as reachable. */
static int reachable(const char *bound) {
    if (strncmp(bound, "ipc://", 6) == 0 || strncmp(bound, "inproc://", 9) == 0) {
        return 0;
    }
    return strncmp(bound, "tcp://127.", 10) != 0 && strncmp(bound, "tcp://[::1]:", 12) != 0;
}

/* The ROUTER, with CURVE when asked; bound to endpoint. */
static int open_router(sender *s, const char *endpoint, const char *secret_file,
                       const char *allow_dir) {
    /* Receivers only ever send credits: anything larger is an attack or a
     * mistake, and ZeroMQ drops the connection before buffering it. A
     * receiver that is not reading holds at most BRIDGE_WINDOW_MAX frames
     * here, whatever credit it claims. */
    s->router = bridge_socket(s->ctx, ZMQ_ROUTER, BRIDGE_WINDOW_MAX, 64, 1024);
    if (s->router == NULL) {
        return CLI_ERROR;
    }
    int one = 1, sndbuf = SEND_BUFFER;
    zmq_setsockopt(s->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(s->router, ZMQ_SNDBUF, &sndbuf, sizeof sndbuf);
    if (secret_file != NULL) {
        char secret[BRIDGE_KEY_TEXT];
        int rc = bridge_read_secret(secret, secret_file);
        if (rc != CLI_OK || (rc = bridge_zap_open(&s->zap, s->ctx, allow_dir)) != CLI_OK) {
            return rc;
        }
        s->curve = 1;
        if (zmq_setsockopt(s->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
            zmq_setsockopt(s->router, ZMQ_CURVE_SECRETKEY, secret, BRIDGE_KEY_TEXT - 1) != 0) {
            bridge_log("cannot use CURVE: %s", zmq_strerror(zmq_errno()));
            return CLI_ERROR;
        }
    }
    if (zmq_bind(s->router, endpoint) != 0) {
        bridge_log("cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return CLI_ERROR;
    }
    /* Without CURVE anyone who can connect gets the frames, and ZeroMQ
     * limits the size of each part of a message but not how many parts
     * it has: a peer can make the sender buffer as much as it sends. */
    char bound[256] = "";
    size_t len = sizeof bound;
    if (!s->curve &&
        (zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, bound, &len) != 0 || reachable(bound))) {
        bridge_log("warning: %s is reachable from other machines without CURVE: any peer "
                   "there can take the frames and make this sender hold whatever it sends "
                   "(docs/bridge.md)",
                   bound[0] != '\0' ? bound : endpoint);
    }
    return CLI_OK;
}

static int open_pool(sender *s, const char *name, int fifo, int any_owner) {
    mmpool_options o = {.read_mode = fifo ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST,
                        .flags = any_owner ? (uint32_t)MMPOOL_ANY_OWNER : 0u};
    int rc = mmpool_open(&s->pool, name, &o);
    if (rc != 0) {
        s->pool = NULL;
        return cli_fail_open(name, rc, &o);
    }
    mmpool_stats st;
    if ((rc = mmpool_stat(s->pool, &st)) != 0 ||
        (rc = mmpool_event_handle(s->pool, &s->event)) != 0) {
        return cli_fail(name, rc);
    }
    s->capacity = st.slot_capacity;
    s->start_seq = st.last_seq;
    return CLI_OK;
}

int bridge_send(int argc, char **argv) {
    cli_opt opts[] = {{"--fifo", 0, NULL},  {"--curve-secret", 1, NULL}, {"--curve-allow", 1, NULL},
                      {"--quiet", 0, NULL}, {"--json", 0, NULL},         {"--any-owner", 0, NULL}};
    const char *pos[2];
    int npos;
    int rc = cli_parse("bridge", argc, argv, opts, 6, pos, 2, 2, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    if ((opts[1].value == NULL) != (opts[2].value == NULL)) {
        return cli_usage("bridge", "--curve-secret and --curve-allow go together");
    }
    sender *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return cli_error("bridge", "out of memory");
    }
    s->fifo = opts[0].value != NULL;
    s->name = pos[0];
    s->status = (bridge_status){
        .role = "send", .quiet = opts[3].value != NULL, .json = opts[4].value != NULL};
    tool_catch_interrupt();
    s->ctx = zmq_ctx_new();
    rc = s->ctx == NULL ? cli_error("bridge", "cannot start ZeroMQ") : CLI_OK;
    if (rc == CLI_OK && (rc = open_pool(s, pos[0], s->fifo, opts[5].value != NULL)) == CLI_OK &&
        (rc = open_router(s, pos[1], opts[1].value, opts[2].value)) == CLI_OK) {
        bridge_status_tick(&s->status, mmpool_now_ns(), 0);
        rc = run(s);
        bridge_status_tick(&s->status, mmpool_now_ns(), 1);
    }
    /* Linger 0 on every socket: closing never waits for a receiver. */
    if (s->have_frame) {
        zmq_msg_close(&s->frame);
    }
    if (s->router != NULL) {
        zmq_close(s->router);
    }
    bridge_zap_close(&s->zap);
    if (s->ctx != NULL) {
        zmq_ctx_term(s->ctx);
    }
    mmpool_close(s->pool);
    free(s);
    return rc;
}
