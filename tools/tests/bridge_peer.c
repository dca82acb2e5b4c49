/*
 * The other ends of `mmpool bridge` in its tests (bridge_test.sh) and its
 * benchmark (bench/bridge_bench.sh). One binary, one role per run:
 *
 *   write POOL COUNT FPS [SLOTS] [fast] [behind=POOL2]
 *       opens POOL, or creates it (Full-HD: 6220800 bytes, "bgr8 1920x1080") and writes
 *       COUNT frames at FPS (0: as fast as it can). Frame i holds i in its
 *       first 8 bytes, then a checksum of the rest, then bytes that depend
 *       on i (fast: the same bytes every time, for the benchmark).
 *   check POOL COUNT SECONDS [header] [nohash] [from=S]
 *       reads POOL in FIFO order (creating it for 16 Full-HD frames with
 *       a header if it is not there) until COUNT frames, frame number
 *       COUNT or SECONDS, and prints one line of key=value: frames, bad
 *       (checksum), backwards and repeats (writer index order), max_gap_ms
 *       (between commits), fps, and with header the latency p50/p99 (ms)
 *       from the original timestamp to the commit in POOL; statistics over
 *       frames committed at least S seconds after the first.
 *   junk ENDPOINT
 *       binds a ROUTER, waits for a receiver, sends it bad messages of each
 *       kind, then one frame too big for a 65536-byte slot, then one valid
 *       1000-byte frame; prints how many of each it sent.
 *   geometry ENDPOINT CAPACITY SLOTS
 *       binds a ROUTER, waits for a receiver, sends it a frame of 8 bytes
 *       that claims a pool of SLOTS slots of CAPACITY bytes, then a valid
 *       1000-byte frame from a pool of 2 slots of 4096 bytes.
 *   big-part ENDPOINT BYTES
 *       binds a ROUTER, waits for a receiver, sends it a frame whose
 *       payload part is BYTES long, then waits (5 s at most) for the
 *       receiver to come back on a new connection and sends it a valid
 *       1000-byte frame; prints reconnected=0 or 1.
 *   liar ENDPOINT SECONDS FPS
 *       connects a DEALER to a sender and, for SECONDS, claims to have
 *       received every frame sent to it (window 2) while it reads nothing:
 *       not knowing how many were sent, every millisecond it claims each
 *       count around what a writer at FPS has written, and the sender
 *       keeps the highest it can believe.
 *   junk-sender ENDPOINT
 *       connects a DEALER to a sender and sends it bad credit messages.
 *   raw-push ENDPOINT COUNT FPS / raw-pull ENDPOINT COUNT
 *       the same bytes over a bare ZeroMQ PUSH/PULL, for the benchmark;
 *       raw-pull prints frames, fps and latency p50 like check.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "mmpool.h"

#define FRAME 6220800u
#define FORMAT "bgr8 1920x1080"
#define STAMP 32 /* the --header of bridge recv */

static uint64_t mix(uint64_t x) { /* splitmix64 */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t checksum(const unsigned char *p, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

/* Frame index: its number, its checksum, bytes that depend on it. */
static void fill(unsigned char *p, uint64_t index) {
    memcpy(p, &index, 8);
    uint64_t x = mix(index);
    for (size_t i = 16; i + 8 <= FRAME; i += 8) {
        x += 0x9e3779b97f4a7c15ull;
        memcpy(p + i, &x, 8);
    }
    uint64_t h = checksum(p + 16, FRAME - 16);
    memcpy(p + 8, &h, 8);
}

static void sleep_until(uint64_t t_ns) {
    uint64_t now = mmpool_now_ns();
    if (t_ns > now) {
        struct timespec ts = {(time_t)((t_ns - now) / 1000000000u),
                              (long)((t_ns - now) % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

/* Waits for the time of frame i (1, 2, ...) at fps from t0; fps 0: none. */
static void pace(uint64_t t0, uint64_t i, double fps) {
    if (fps > 0) {
        sleep_until(t0 + (uint64_t)((double)(i - 1) * 1e9 / fps));
    }
}

/* With behind=POOL: waits (up to 10 s) until POOL holds frame i - AHEAD,
 * so that a machine too busy to keep up slows the writer down rather than
 * let the source pool overwrite frames a FIFO bridge has not read. */
#define AHEAD 6
static void wait_behind(const char *pool, uint64_t i) {
    uint64_t deadline = mmpool_now_ns() + 10000000000ull;
    mmpool_info info;
    while (pool != NULL && i > AHEAD && mmpool_now_ns() < deadline &&
           (mmpool_inspect(pool, &info, NULL, 0, NULL, 0) != 0 || info.last_seq < i - AHEAD)) {
        sleep_until(mmpool_now_ns() + 2000000u);
    }
}

/* The benchmark's frame: a write loan in which only the number is
 * written, so that the writer costs the machine no copy of its own. */
static int write_index(mmpool *pool, uint64_t i) {
    void *data;
    int rc = mmpool_write_acquire(pool, &data, NULL, 1000);
    if (rc == 0) {
        memcpy(data, &i, 8);
        rc = mmpool_write_commit(pool, FRAME);
    }
    return rc;
}

static int role_write(int argc, char **argv) {
    uint64_t count = strtoull(argv[2], NULL, 10);
    double fps = atof(argv[3]);
    uint32_t slots = 8;
    int fast = 0;
    const char *behind = NULL;
    for (int i = 4; i < argc; i++) {
        fast |= strcmp(argv[i], "fast") == 0;
        if (strncmp(argv[i], "behind=", 7) == 0) {
            behind = argv[i] + 7;
        } else if (argv[i][0] >= '0' && argv[i][0] <= '9') {
            slots = (uint32_t)atoi(argv[i]);
        }
    }
    mmpool_options o = {
        .slot_capacity = FRAME, .slot_count = slots, .flags = MMPOOL_CREATE, .format = FORMAT};
    mmpool *pool;
    mmpool_options existing = {0}; /* a pool made beforehand keeps its geometry */
    int rc = mmpool_open(&pool, argv[1], &existing);
    if (rc == MMPOOL_ENOENT) {
        rc = mmpool_open(&pool, argv[1], &o);
    }
    if (rc != 0) {
        fprintf(stderr, "write: %s: %s\n", argv[1], mmpool_strerror(rc));
        return 1;
    }
    unsigned char *buf = malloc(FRAME);
    fill(buf, 0);
    uint64_t t0 = mmpool_now_ns();
    for (uint64_t i = 1; i <= count; i++) {
        pace(t0, i, fps);
        wait_behind(behind, i);
        if (fast) {
            rc = write_index(pool, i);
        } else {
            fill(buf, i);
            rc = mmpool_write(pool, buf, FRAME, 1000);
        }
        if (rc != 0) {
            fprintf(stderr, "write: frame %" PRIu64 ": %s\n", i, mmpool_strerror(rc));
            break;
        }
    }
    free(buf);
    mmpool_close(pool);
    return rc == 0 ? 0 : 1;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_ms(uint64_t *v, size_t n, double q) {
    if (n == 0) {
        return -1;
    }
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

/* What check and raw-pull report. */
typedef struct tally {
    uint64_t frames, bad, backwards, repeats, first_index, last_index, max_gap, last_ns, first_ns;
    uint64_t from_ns, counted, counted_first, counted_last;
    uint64_t *lat;
    size_t nlat;
} tally;

static void count_frame(tally *t, uint64_t index, uint64_t commit_ns, int64_t latency) {
    if (t->frames == 0) {
        t->first_ns = commit_ns;
        t->first_index = index;
    } else {
        if (index < t->last_index) {
            t->backwards++;
        } else if (index == t->last_index) {
            t->repeats++;
        }
        if (commit_ns - t->last_ns > t->max_gap) {
            t->max_gap = commit_ns - t->last_ns;
        }
    }
    t->frames++;
    t->last_index = index;
    t->last_ns = commit_ns;
    if (commit_ns >= t->first_ns + t->from_ns) {
        if (t->counted++ == 0) {
            t->counted_first = commit_ns;
        }
        t->counted_last = commit_ns;
        if (latency >= 0) {
            t->lat[t->nlat++] = (uint64_t)latency;
        }
    }
}

static void report(tally *t) {
    double span = (double)(t->counted_last - t->counted_first) / 1e9;
    double fps = t->counted > 1 && span > 0 ? (double)(t->counted - 1) / span : 0;
    double p50 = percentile_ms(t->lat, t->nlat, 0.5);
    double p99 = percentile_ms(t->lat, t->nlat, 0.99);
    printf("frames=%" PRIu64 " bad=%" PRIu64 " backwards=%" PRIu64 " repeats=%" PRIu64
           " first=%" PRIu64 " last=%" PRIu64 " max_gap_ms=%.0f fps=%.2f p50_ms=%.1f "
           "p99_ms=%.1f\n",
           t->frames, t->bad, t->backwards, t->repeats, t->first_index, t->last_index,
           (double)t->max_gap / 1e6, fps, p50, p99);
    fflush(stdout);
}

/* nohash (the benchmark): the first bytes of the frame through a read
 * loan, so that the checker costs the machine no copy of the frame. The
 * length is the frame's; the bytes past the first 64 are not looked at. */
static int peek(mmpool *pool, unsigned char *buf, mmpool_frame *f, int wait) {
    mmpool_view v;
    int rc = mmpool_read_acquire(pool, &v, wait);
    if (rc == 0) {
        memcpy(buf, v.data, v.frame.len < 64 ? (size_t)v.frame.len : 64);
        *f = v.frame;
        mmpool_read_release(pool, &v);
    }
    return rc;
}

static int role_check(int argc, char **argv) {
    uint64_t count = strtoull(argv[2], NULL, 10);
    uint64_t deadline = mmpool_now_ns() + (uint64_t)(atof(argv[3]) * 1e9);
    int header = 0, hash = 1;
    tally t = {0};
    for (int i = 4; i < argc; i++) {
        header |= strcmp(argv[i], "header") == 0;
        hash &= strcmp(argv[i], "nohash") != 0;
        if (strncmp(argv[i], "from=", 5) == 0) {
            t.from_ns = (uint64_t)(atof(argv[i] + 5) * 1e9);
        }
    }
    t.lat = malloc(sizeof *t.lat * (count + 1));
    /* Made here, before any frame can arrive, unless the receiver made it
     * already: a FIFO handle reads only what comes after it opens. */
    mmpool *pool = NULL;
    mmpool_options o = {.read_mode = MMPOOL_READ_FIFO,
                        .flags = MMPOOL_CREATE,
                        .slot_capacity = FRAME + STAMP,
                        .slot_count = 16,
                        .format = FORMAT};
    int rc = mmpool_open(&pool, argv[1], &o);
    if (rc != 0) {
        fprintf(stderr, "check: %s: %s\n", argv[1], mmpool_strerror(rc));
        return 1;
    }
    size_t cap = FRAME + STAMP;
    unsigned char *buf = malloc(cap);
    while (t.frames < count) {
        uint64_t now = mmpool_now_ns();
        if (now >= deadline) {
            break;
        }
        mmpool_frame f;
        int wait = (int)((deadline - now) / 1000000u) + 1;
        rc = hash ? mmpool_read(pool, buf, cap, &f, wait) : peek(pool, buf, &f, wait);
        if (rc == MMPOOL_ETIMEDOUT) {
            break;
        }
        if (rc != 0) {
            fprintf(stderr, "check: %s\n", mmpool_strerror(rc));
            break;
        }
        const unsigned char *p = buf;
        uint64_t len = f.len;
        int64_t latency = -1;
        if (header) {
            uint64_t orig_ns;
            if (len < STAMP || memcmp(p, "MMPB", 4) != 0) {
                t.bad++;
                continue;
            }
            memcpy(&orig_ns, p + 16, 8);
            latency = (int64_t)(f.timestamp_ns - orig_ns);
            p += STAMP;
            len -= STAMP;
        }
        uint64_t index, sum;
        memcpy(&index, p, 8);
        memcpy(&sum, p + 8, 8);
        if (len != FRAME || (hash && checksum(p + 16, FRAME - 16) != sum)) {
            t.bad++;
            continue;
        }
        count_frame(&t, index, f.timestamp_ns, latency);
        if (index == count) { /* the writer's last frame */
            break;
        }
    }
    report(&t);
    free(buf);
    free(t.lat);
    mmpool_close(pool);
    return 0;
}

/* ---- ZeroMQ peers ---- */

/* A socket with linger 0 and high-water marks of hwm messages. */
static void *peer_socket(void *ctx, int type, int hwm) {
    void *s = zmq_socket(ctx, type);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    return s;
}

/* Gives the other side secs seconds to take what was sent, then closes. */
static void finish_peer(void *ctx, void *s, unsigned secs) {
    struct timespec ts = {(time_t)secs, 0};
    nanosleep(&ts, NULL);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

/* ---- junk ---- */

static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

/* A valid first part: seq, len, capacity, slots. */
static void head(unsigned char h[112], uint64_t seq, uint64_t len, uint64_t cap, uint32_t slots) {
    memset(h, 0, 112);
    memcpy(h, "MMPB", 4);
    h[4] = 1;
    h[5] = 1;
    put64(h + 8, seq);
    put64(h + 16, mmpool_now_ns());
    put64(h + 24, len);
    put64(h + 32, cap);
    put64(h + 40, slots);
    h[44] = 0;
    memcpy(h + 48, "junk", 4);
}

static void send_msg(void *s, const void *id, size_t id_len, const void *a, size_t alen,
                     const void *b, size_t blen, int parts) {
    zmq_send(s, id, id_len, ZMQ_SNDMORE);
    zmq_send(s, a, alen, parts > 1 ? ZMQ_SNDMORE : 0);
    for (int i = 1; i < parts; i++) {
        zmq_send(s, b, blen, i + 1 < parts ? ZMQ_SNDMORE : 0);
    }
}

static int role_junk(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    void *ctx = zmq_ctx_new();
    void *s = peer_socket(ctx, ZMQ_ROUTER, 1000);
    if (zmq_bind(s, argv[1]) != 0) {
        fprintf(stderr, "junk: cannot bind %s\n", argv[1]);
        return 1;
    }
    unsigned char id[256];
    int id_len = zmq_recv(s, id, sizeof id, 0); /* a receiver's credit */
    char credit[64];
    zmq_recv(s, credit, sizeof credit, 0);
    unsigned char *payload = calloc(1, 200000);
    unsigned char h[112], big[200];
    size_t n = (size_t)id_len;
    int malformed = 0, truncated = 0, oversized = 0;
    /* malformed: magic, version, type, one part, three parts, format
     * without its NUL, zero slots, length above the capacity, seq 0 */
    head(h, 1, 100, 1000, 2);
    h[0] = 'X';
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    head(h, 1, 100, 1000, 2);
    h[4] = 9;
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    head(h, 1, 100, 1000, 2);
    h[5] = 2;
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    head(h, 1, 100, 1000, 2);
    send_msg(s, id, n, h, 112, NULL, 0, 1), malformed++;
    send_msg(s, id, n, h, 112, payload, 100, 3), malformed++;
    memset(h + 48, 'A', 64);
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    head(h, 1, 100, 1000, 0);
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    head(h, 1, 2000, 1000, 2);
    send_msg(s, id, n, h, 112, payload, 2000, 2), malformed++;
    head(h, 0, 100, 1000, 2);
    send_msg(s, id, n, h, 112, payload, 100, 2), malformed++;
    /* truncated: a short first part, a payload shorter than its length */
    head(h, 1, 100, 1000, 2);
    send_msg(s, id, n, h, 40, payload, 100, 2), truncated++;
    send_msg(s, id, n, h, 112, payload, 99, 2), truncated++;
    /* oversized: a long first part, a payload longer than its length */
    memcpy(big, h, 112);
    memset(big + 112, 0, sizeof big - 112);
    send_msg(s, id, n, big, sizeof big, payload, 100, 2), oversized++;
    send_msg(s, id, n, h, 112, payload, 101, 2), oversized++;
    /* a valid frame too big for a 65536-byte slot (but within the
     * receiver's part limit, the slot and a first part), then a good one */
    head(h, 2, 65600, 200000, 2);
    send_msg(s, id, n, h, 112, payload, 65600, 2);
    head(h, 3, 1000, 200000, 2);
    memset(payload, 0x5a, 1000);
    send_msg(s, id, n, h, 112, payload, 1000, 2);
    printf("malformed=%d truncated=%d oversized=%d too_big=1 valid=1\n", malformed, truncated,
           oversized);
    fflush(stdout);
    free(payload);
    finish_peer(ctx, s, 2);
    return 0;
}

/* A ROUTER bound to endpoint, NULL after saying why. */
static void *bound_router(void *ctx, const char *endpoint) {
    void *s = peer_socket(ctx, ZMQ_ROUTER, 1000);
    if (zmq_bind(s, endpoint) != 0) {
        fprintf(stderr, "cannot bind %s\n", endpoint);
        zmq_close(s);
        return NULL;
    }
    return s;
}

/* Waits for a receiver's credit on the ROUTER s: its routing id into id
 * (256 bytes), its length returned; -1 after timeout_ms without one. */
static int wait_receiver(void *s, unsigned char *id, int timeout_ms) {
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    int id_len = zmq_recv(s, id, 256, 0);
    char credit[64];
    if (id_len >= 0) {
        zmq_recv(s, credit, sizeof credit, 0);
    }
    return id_len;
}

/* A valid 1000-byte frame, seq, from a pool of 2 slots of 4096 bytes. */
static void send_valid(void *s, const unsigned char *id, int id_len, uint64_t seq) {
    unsigned char h[112], payload[1000];
    head(h, seq, sizeof payload, 4096, 2);
    memset(payload, 0x5a, sizeof payload);
    send_msg(s, id, (size_t)id_len, h, 112, payload, sizeof payload, 2);
}

static int role_geometry(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    void *ctx = zmq_ctx_new();
    void *s = bound_router(ctx, argv[1]);
    if (s == NULL) {
        return 1;
    }
    unsigned char id[256], h[112];
    int id_len = wait_receiver(s, id, -1);
    head(h, 1, 8, strtoull(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0));
    send_msg(s, id, (size_t)id_len, h, 112, "12345678", 8, 2);
    send_valid(s, id, id_len, 2);
    finish_peer(ctx, s, 2);
    return 0;
}

static int role_big_part(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    void *ctx = zmq_ctx_new();
    void *s = bound_router(ctx, argv[1]);
    if (s == NULL) {
        return 1;
    }
    unsigned char id[256], again[256], h[112];
    int id_len = wait_receiver(s, id, -1);
    size_t size = (size_t)strtoull(argv[2], NULL, 0);
    unsigned char *payload = calloc(1, size);
    if (payload == NULL) {
        return 1;
    }
    head(h, 1, size, size, 2);
    send_msg(s, id, (size_t)id_len, h, 112, payload, size, 2);
    free(payload);
    /* Credits from the old connection until it is closed, then the new
     * one's. */
    int again_len = -1, reconnected = 0;
    uint64_t deadline = mmpool_now_ns() + 5000000000ull;
    while (!reconnected && mmpool_now_ns() < deadline) {
        again_len = wait_receiver(s, again, 500);
        reconnected =
            again_len >= 0 && (again_len != id_len || memcmp(again, id, (size_t)id_len) != 0);
    }
    if (reconnected) {
        send_valid(s, again, again_len, 2);
    }
    printf("reconnected=%d\n", reconnected);
    fflush(stdout);
    finish_peer(ctx, s, 2);
    return 0;
}

static int role_liar(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    void *ctx = zmq_ctx_new();
    void *s = peer_socket(ctx, ZMQ_DEALER, 1);
    int small = 4096;
    zmq_setsockopt(s, ZMQ_RCVBUF, &small, sizeof small);
    zmq_connect(s, argv[1]);
    double fps = atof(argv[3]);
    uint64_t t0 = mmpool_now_ns(), end = t0 + (uint64_t)(atof(argv[2]) * 1e9);
    unsigned char m[24] = {'M', 'M', 'P', 'B', 1, 2};
    m[8] = 2;
    for (uint64_t now = t0; now < end; now = mmpool_now_ns()) {
        uint64_t guess = (uint64_t)((double)(now - t0) * 1e-9 * fps) + 20;
        for (uint64_t received = guess > 40 ? guess - 40 : 0; received <= guess; received++) {
            put64(m + 16, received);
            zmq_send(s, m, sizeof m, ZMQ_DONTWAIT);
        }
        sleep_until(now + 1000000u);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

static int role_junk_sender(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    void *ctx = zmq_ctx_new();
    void *s = peer_socket(ctx, ZMQ_DEALER, 1000);
    zmq_connect(s, argv[1]);
    unsigned char m[24] = {'M', 'M', 'P', 'B', 1, 2};
    m[8] = 1;
    unsigned char bad[24];
    int sent = 0;
    memcpy(bad, m, 24);
    bad[0] = 'X';
    zmq_send(s, bad, 24, 0), sent++; /* magic */
    zmq_send(s, m, 10, 0), sent++;   /* short */
    zmq_send(s, m, 24, ZMQ_SNDMORE);
    zmq_send(s, m, 24, 0), sent++; /* two parts */
    memcpy(bad, m, 24);
    bad[8] = 200;
    zmq_send(s, bad, 24, 0), sent++; /* window out of range */
    printf("bad=%d\n", sent);
    fflush(stdout);
    finish_peer(ctx, s, 1);
    return 0;
}

/* ---- raw PUSH/PULL, for the benchmark ---- */

static int role_raw_push(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    uint64_t count = strtoull(argv[2], NULL, 10);
    double fps = atof(argv[3]);
    void *ctx = zmq_ctx_new();
    void *s = peer_socket(ctx, ZMQ_PUSH, 2);
    if (zmq_bind(s, argv[1]) != 0) {
        return 1;
    }
    unsigned char *buf = malloc(FRAME);
    fill(buf, 0);
    uint64_t t0 = mmpool_now_ns();
    for (uint64_t i = 1; i <= count; i++) {
        pace(t0, i, fps);
        uint64_t now = mmpool_now_ns();
        memcpy(buf, &i, 8);
        memcpy(buf + 16, &now, 8); /* the send time, for the latency */
        zmq_send(s, buf, FRAME, 0);
    }
    free(buf);
    finish_peer(ctx, s, 1);
    return 0;
}

static int role_raw_pull(int argc, char **argv) {
    (void)argc; /* main() checked the count */
    uint64_t count = strtoull(argv[2], NULL, 10);
    void *ctx = zmq_ctx_new();
    void *s = peer_socket(ctx, ZMQ_PULL, 2);
    zmq_connect(s, argv[1]);
    tally t = {0};
    t.lat = malloc(sizeof *t.lat * (count + 1));
    int timeout = 10000;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    while (t.frames < count) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        uint64_t now = mmpool_now_ns(), index, sent;
        memcpy(&index, zmq_msg_data(&m), 8);
        memcpy(&sent, (unsigned char *)zmq_msg_data(&m) + 16, 8);
        count_frame(&t, index, now, (int64_t)(now - sent));
        zmq_msg_close(&m);
    }
    report(&t);
    free(t.lat);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        int (*run)(int, char **);
        int args; /* arguments it needs after its name */
    } roles[] = {{"write", role_write, 3},       {"check", role_check, 3},
                 {"junk", role_junk, 1},         {"junk-sender", role_junk_sender, 1},
                 {"geometry", role_geometry, 3}, {"big-part", role_big_part, 2},
                 {"liar", role_liar, 3},         {"raw-push", role_raw_push, 3},
                 {"raw-pull", role_raw_pull, 2}};
    for (size_t i = 0; argc > 1 && i < sizeof roles / sizeof roles[0]; i++) {
        if (strcmp(argv[1], roles[i].name) == 0 && argc - 2 >= roles[i].args) {
            return roles[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "usage: bridge_peer "
                    "write|check|junk|geometry|big-part|liar|junk-sender|raw-push|raw-pull ...\n");
    return 2;
}
