/*
 * stream_recv: reads the stream_send stream from a pool, always the newest
 * frame (MMPOOL_READ_LATEST), copying each into its own buffer. Verifies
 * every frame's checksum, measures the latency from commit to copied, and
 * writes the last good frame as a binary PPM.
 *
 * Usage: stream_recv [--pool NAME] [--out last.ppm] [--timeout-ms 5000]
 *
 * Waits up to the timeout for the pool to appear and for each frame. Exits
 * 0 if at least one frame arrived and every checksum matched.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mmpool.h>

#include "frame.h"

#define OPEN_RETRY_NS 10000000u /* between attempts to open a missing pool */

typedef struct recv_args {
    const char *pool;
    const char *out;
    unsigned timeout_ms;
} recv_args;

typedef struct recv_stats {
    uint64_t received, dropped, failures;
    uint64_t sent;        /* from the end frame, else the newest frame number */
    bool ended;           /* the end frame arrived */
    uint64_t kept;        /* number of the frame in the kept buffer; 0 = none */
    uint64_t attached_ns; /* when the pool was opened */
    samples latency_all;
    samples latency_second; /* since the last report */
    uint64_t second_dropped;
    /* The rate is frame intervals over their span, which stays exact
     * whichever side of a second's boundary a frame lands on. */
    uint64_t intervals;       /* frames since span_start_ns */
    uint64_t span_start_ns;   /* arrival of the frame before those */
    uint64_t last_arrival_ns; /* 0 until the first frame */
    uint64_t next_report_ns;
    unsigned seconds;
} recv_stats;

/* The receiver's two frame buffers: it reads into scratch and, when the
 * frame is good, swaps it with kept, so kept always holds a whole frame. */
typedef struct recv_buffers {
    uint8_t *scratch;
    uint8_t *kept;
} recv_buffers;

typedef enum { VERDICT_SKIP, VERDICT_KEEP, VERDICT_STOP } verdict;

static bool parse_args(int argc, char **argv, recv_args *a) {
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = value != NULL;
        if (ok && strcmp(name, "--pool") == 0) {
            a->pool = value;
        } else if (ok && strcmp(name, "--out") == 0) {
            a->out = value;
        } else if (ok && strcmp(name, "--timeout-ms") == 0) {
            ok = parse_uint(value, 1, 3600000, &a->timeout_ms);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(
                stderr,
                "usage: stream_recv [--pool NAME] [--out FILE.ppm] [--timeout-ms 1..3600000]\n");
            return false;
        }
    }
    return true;
}

/* Opens the pool, retrying while it does not exist yet: the receiver may
 * start before the sender. The options insist on the demo's slot size. */
static int open_when_ready(mmpool **pool, const char *name, unsigned timeout_ms) {
    const mmpool_options opts = {.slot_capacity = FRAME_BYTES, .read_mode = MMPOOL_READ_LATEST};
    uint64_t deadline = mmpool_now_ns() + (uint64_t)timeout_ms * 1000000u;
    int rc;
    while ((rc = mmpool_open(pool, name, &opts)) == MMPOOL_ENOENT && mmpool_now_ns() < deadline) {
        nanosleep(&(struct timespec){.tv_nsec = OPEN_RETRY_NS}, NULL);
    }
    return rc;
}

/* The slot size matches by now; the format string tells BGR Full-HD frames
 * from anything else of the same size. */
static bool holds_demo_frames(const mmpool *pool) {
    mmpool_stats stats;
    int rc = mmpool_stat(pool, &stats);
    if (rc != 0) {
        fprintf(stderr, "stream_recv: stat: %s\n", mmpool_strerror(rc));
        return false;
    }
    if (strcmp(stats.format, FRAME_FORMAT) != 0) {
        fprintf(stderr, "stream_recv: pool holds \"%s\", not \"%s\"\n", stats.format, FRAME_FORMAT);
        return false;
    }
    return true;
}

/* Counts a data frame that arrived at now after `drops` others were
 * overwritten unread. */
static void count_arrival(recv_stats *st, uint64_t drops, const mmpool_frame *f, uint64_t now) {
    st->received++;
    st->dropped += drops;
    st->second_dropped += drops;
    if (st->last_arrival_ns == 0) {
        st->span_start_ns = now;
        st->next_report_ns = now + 1000000000u;
    } else {
        st->intervals++;
    }
    st->last_arrival_ns = now;
    /* A frame committed before we attached was waiting for us to appear,
     * so its age is not latency. */
    if (f->timestamp_ns >= st->attached_ns) {
        samples_add(&st->latency_all, now - f->timestamp_ns);
        samples_add(&st->latency_second, now - f->timestamp_ns);
    }
}

/* Checks and counts one frame read from the pool; says what to do next. */
static verdict account(recv_stats *st, const uint8_t *data, const mmpool_frame *f, uint64_t now) {
    frame_header h;
    bool good = frame_verify(data, (size_t)f->len, &h);
    if (good && (h.flags & FRAME_END) != 0) {
        if (st->received == 0) {
            return VERDICT_SKIP; /* the end of an earlier run, left in the pool */
        }
        st->dropped += f->dropped;
        st->sent = h.total;
        st->ended = true;
        return VERDICT_STOP;
    }
    /* The library reports no drops on a handle's first read; the frames
     * sent before the first one we got count as dropped here. */
    count_arrival(st, st->received == 0 && good ? h.number - 1 : f->dropped, f, now);
    if (!good) {
        st->failures++;
        return VERDICT_SKIP;
    }
    st->sent = h.number > st->sent ? h.number : st->sent;
    st->kept = h.number;
    return VERDICT_KEEP;
}

/* One line per second of stream time, counted from the first frame; at
 * the end of the stream (final), one more for the part second left. */
static void maybe_report(recv_stats *st, uint64_t now, bool final) {
    if (st->last_arrival_ns == 0 || (final ? st->intervals == 0 : now < st->next_report_ns)) {
        return;
    }
    st->seconds++;
    uint64_t span = st->last_arrival_ns - st->span_start_ns;
    printf("[recv] %3u s  fps %5.1f  latency p50 %7.1f us  p99 %7.1f us  dropped %" PRIu64 "\n",
           st->seconds, span != 0 ? (double)st->intervals * 1e9 / (double)span : 0.0,
           samples_percentile_us(&st->latency_second, 50),
           samples_percentile_us(&st->latency_second, 99), st->second_dropped);
    st->latency_second.n = 0;
    st->intervals = 0;
    st->span_start_ns = st->last_arrival_ns;
    st->second_dropped = 0;
    st->next_report_ns += 1000000000u;
    if (st->next_report_ns <= now) {
        st->next_report_ns = now + 1000000000u; /* after a pause, do not catch up */
    }
}

/* Reads until the end frame or until no frame came for the timeout. */
static int receive(mmpool *pool, unsigned timeout_ms, recv_buffers *b, recv_stats *st) {
    for (;;) {
        mmpool_frame frame;
        int rc = mmpool_read(pool, b->scratch, FRAME_BYTES, &frame, (int)timeout_ms);
        uint64_t now = mmpool_now_ns(); /* the copy is complete */
        if (rc == MMPOOL_ETIMEDOUT) {
            fprintf(stderr, "stream_recv: no frame for %u ms, stopping\n", timeout_ms);
            maybe_report(st, now, true);
            return 0;
        }
        if (rc != 0) {
            return rc;
        }
        verdict v = account(st, b->scratch, &frame, now);
        if (v == VERDICT_STOP) {
            maybe_report(st, now, true);
            return 0;
        }
        if (v == VERDICT_KEEP) {
            uint8_t *kept = b->scratch;
            b->scratch = b->kept;
            b->kept = kept;
        }
        maybe_report(st, now, false);
    }
}

/* Writes a BGR frame as a binary PPM, which stores RGB. */
static bool write_ppm(const char *path, const uint8_t *bgr) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    static uint8_t rgb[FRAME_STRIDE];
    bool ok = fprintf(f, "P6\n%d %d\n255\n", FRAME_WIDTH, FRAME_HEIGHT) > 0;
    for (int y = 0; ok && y < FRAME_HEIGHT; y++) {
        const uint8_t *row = bgr + (size_t)y * FRAME_STRIDE;
        for (int x = 0; x < FRAME_WIDTH; x++) {
            rgb[3 * x] = row[3 * x + 2];
            rgb[3 * x + 1] = row[3 * x + 1];
            rgb[3 * x + 2] = row[3 * x];
        }
        ok = fwrite(rgb, 1, sizeof rgb, f) == sizeof rgb;
    }
    return fclose(f) == 0 && ok;
}

static void print_summary(recv_stats *st) {
    printf("[recv] frames sent        %" PRIu64 "%s\n", st->sent,
           st->ended ? "" : " (no end frame arrived: the newest seen)");
    printf("[recv] received           %" PRIu64 "\n", st->received);
    printf("[recv] dropped            %" PRIu64 "\n", st->dropped);
    printf("[recv] latency p50/p99    %.1f / %.1f us\n",
           samples_percentile_us(&st->latency_all, 50),
           samples_percentile_us(&st->latency_all, 99));
    printf("[recv] checksum failures  %" PRIu64 "\n", st->failures);
}

/* Opens the pool, receives the stream and closes the pool; false after an
 * error, which it reports. */
static bool receive_stream(const recv_args *a, recv_buffers *b, recv_stats *st) {
    mmpool *pool;
    int rc = open_when_ready(&pool, a->pool, a->timeout_ms);
    if (rc != 0) {
        fprintf(stderr, "stream_recv: open %s: %s\n", a->pool, mmpool_strerror(rc));
        return false;
    }
    st->attached_ns = mmpool_now_ns();
    bool ok = holds_demo_frames(pool);
    if (ok) {
        rc = receive(pool, a->timeout_ms, b, st);
        print_summary(st);
    }
    mmpool_close(pool);
    if (rc != 0) {
        fprintf(stderr, "stream_recv: read %s: %s\n", a->pool, mmpool_strerror(rc));
    }
    return ok && rc == 0;
}

int main(int argc, char **argv) {
    recv_args args = {.pool = "mmpool-demo", .out = "last.ppm", .timeout_ms = 5000};
    if (!parse_args(argc, argv, &args)) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep lines whole next to the sender's */
    recv_buffers b = {malloc(FRAME_BYTES), malloc(FRAME_BYTES)};
    if (b.scratch == NULL || b.kept == NULL) {
        fprintf(stderr, "stream_recv: out of memory\n");
        free(b.scratch);
        free(b.kept);
        return 1;
    }
    /* Touch the buffers now, or page faults add to the first frames' latency. */
    memset(b.scratch, 0, FRAME_BYTES);
    memset(b.kept, 0, FRAME_BYTES);
    recv_stats st = {0};
    bool ok = receive_stream(&args, &b, &st);
    bool saved = st.kept != 0 && write_ppm(args.out, b.kept);
    if (saved) {
        printf("[recv] last frame         %" PRIu64 " -> %s\n", st.kept, args.out);
    } else if (st.kept != 0) {
        fprintf(stderr, "stream_recv: cannot write %s: %s\n", args.out, strerror(errno));
    }
    ok = ok && st.received > 0 && st.failures == 0 && saved;
    samples_free(&st.latency_all);
    samples_free(&st.latency_second);
    free(b.scratch);
    free(b.kept);
    return ok ? 0 : 1;
}
