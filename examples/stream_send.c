/*
 * stream_send: creates a pool of Full-HD BGR slots and streams synthetic
 * frames into it at a fixed rate, drawing each frame in place in its slot
 * (the zero-copy write loan). Ends the stream with an end frame (frame.h).
 *
 * Usage: stream_send [--pool NAME] [--fps 30] [--seconds 5] [--slots 3]
 *
 * The pool stays in place afterwards, since a receiver may not have read
 * the end frame yet; whoever runs the pair removes it (see run_demo.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mmpool.h>

#include "frame.h"

/* Longest wait for a free slot; with a reader or two on a pool of 3 slots
 * one is always free within a frame's copy time. */
#define WRITE_TIMEOUT_MS 1000

/* The frame number is drawn in a 5x7 bitmap font, each font pixel a CELL x
 * CELL square, on a black box whose top-left corner is at (LEFT, TOP). */
#define CELL 32
#define ADVANCE (6 * CELL)
#define LEFT 96
#define TOP 96
#define PAD CELL

static const uint8_t font[10][7] = {
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},
};

typedef struct send_args {
    const char *pool;
    unsigned fps, seconds, slots;
} send_args;

typedef struct send_stats {
    uint64_t sent;
    uint64_t second_frames; /* sent since the last report */
    uint64_t next_report_ns;
    unsigned seconds;
    samples write_second; /* acquire + commit times since the last report */
    samples write_all;
    samples draw_all; /* drawing and checksumming in the slot */
} send_stats;

static bool parse_args(int argc, char **argv, send_args *a) {
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = value != NULL;
        if (ok && strcmp(name, "--pool") == 0) {
            a->pool = value;
        } else if (ok && strcmp(name, "--fps") == 0) {
            ok = parse_uint(value, 1, 1000, &a->fps);
        } else if (ok && strcmp(name, "--seconds") == 0) {
            ok = parse_uint(value, 0, 86400, &a->seconds);
        } else if (ok && strcmp(name, "--slots") == 0) {
            ok = parse_uint(value, 1, 64, &a->slots);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "usage: stream_send [--pool NAME] [--fps 1..1000] "
                            "[--seconds 0..86400] [--slots 1..64]\n");
            return false;
        }
    }
    return true;
}

/* A blue/red ramp across the width that slides by 8 levels a frame, over a
 * green ramp down the height: motion shows at a glance. */
static void draw_gradient(uint8_t *px, uint64_t number) {
    uint8_t shift = (uint8_t)(number * 8);
    for (int y = 0; y < FRAME_HEIGHT; y++) {
        uint8_t *row = px + (size_t)y * FRAME_STRIDE;
        uint8_t green = (uint8_t)(y * 255 / (FRAME_HEIGHT - 1));
        for (int x = 0; x < FRAME_WIDTH; x++) {
            uint8_t level = (uint8_t)(x * 256 / FRAME_WIDTH + shift);
            row[3 * x] = level;
            row[3 * x + 1] = green;
            row[3 * x + 2] = (uint8_t)~level;
        }
    }
}

static void fill_rect(uint8_t *px, int left, int top, int width, int height, uint8_t value) {
    for (int y = top; y < top + height; y++) {
        memset(px + (size_t)y * FRAME_STRIDE + (size_t)left * 3, value, (size_t)width * 3);
    }
}

static void draw_digit(uint8_t *px, int left, int top, int digit) {
    for (int row = 0; row < 7; row++) {
        for (int col = 0; col < 5; col++) {
            if ((font[digit][row] & (0x10 >> col)) != 0) {
                fill_rect(px, left + col * CELL, top + row * CELL, CELL, CELL, 255);
            }
        }
    }
}

/* White digits on black; the options bound the number to 8 digits, which
 * fit the width with room to spare. */
static void draw_number(uint8_t *px, uint64_t number) {
    char text[24];
    int digits = snprintf(text, sizeof text, "%" PRIu64, number);
    fill_rect(px, LEFT - PAD, TOP - PAD, digits * ADVANCE - CELL + 2 * PAD, 7 * CELL + 2 * PAD, 0);
    for (int i = 0; i < digits; i++) {
        draw_digit(px, LEFT + i * ADVANCE, TOP, text[i] - '0');
    }
}

/* Borrows the oldest free slot, draws frame `number` straight into it and
 * commits it. *write_ns gets the time spent in the library calls, *draw_ns
 * the time spent drawing. */
static int send_frame(mmpool *pool, uint64_t number, uint64_t *write_ns, uint64_t *draw_ns) {
    void *data;
    uint64_t t0 = mmpool_now_ns();
    int rc = mmpool_write_acquire(pool, &data, NULL, WRITE_TIMEOUT_MS);
    if (rc != 0) {
        return rc;
    }
    uint64_t t1 = mmpool_now_ns();
    /* The slot holds FRAME_BYTES: mmpool_open checked the capacity. */
    draw_gradient(data, number);
    draw_number(data, number);
    frame_seal(data, FRAME_BYTES, (frame_header){.magic = FRAME_MAGIC, .number = number});
    uint64_t t2 = mmpool_now_ns();
    rc = mmpool_write_commit(pool, FRAME_BYTES);
    *write_ns = (t1 - t0) + (mmpool_now_ns() - t2);
    *draw_ns = t2 - t1;
    return rc;
}

/* The end frame is 32 bytes, so it goes through the copying write. */
static int send_end(mmpool *pool, uint64_t sent) {
    uint8_t end[sizeof(frame_header)];
    frame_seal(end, sizeof end,
               (frame_header){.magic = FRAME_MAGIC, .flags = FRAME_END, .total = sent});
    return mmpool_write(pool, end, sizeof end, WRITE_TIMEOUT_MS);
}

static uint64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Sleeps until monotonic_ns() reaches deadline_ns. Absolute deadlines keep
 * the rate exact however long each frame took. */
static void sleep_until(uint64_t deadline_ns) {
    struct timespec deadline = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                                .tv_nsec = (long)(deadline_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {
    }
}

/* One line per second of wall time, so that a sender that cannot draw at
 * the requested rate shows it. Called before each frame is due. */
static void maybe_report(send_stats *st, uint64_t now) {
    if (now < st->next_report_ns) {
        return;
    }
    st->seconds++;
    printf("[send] %3u s  frames %4" PRIu64 "  write p50 %7.1f us\n", st->seconds,
           st->second_frames, samples_percentile_us(&st->write_second, 50));
    st->write_second.n = 0;
    st->second_frames = 0;
    st->next_report_ns += 1000000000u;
}

static int stream(mmpool *pool, const send_args *a, send_stats *st) {
    uint64_t start = monotonic_ns();
    uint64_t frames = (uint64_t)a->fps * a->seconds;
    st->next_report_ns = start + 1000000000u;
    for (uint64_t i = 0; i < frames; i++) {
        sleep_until(start + i * 1000000000u / a->fps);
        maybe_report(st, monotonic_ns());
        uint64_t write_ns, draw_ns;
        int rc = send_frame(pool, i + 1, &write_ns, &draw_ns);
        if (rc != 0) {
            return rc;
        }
        st->sent++;
        st->second_frames++;
        samples_add(&st->write_second, write_ns);
        samples_add(&st->write_all, write_ns);
        samples_add(&st->draw_all, draw_ns);
    }
    /* The last frame gets its full period before the end frame follows. */
    sleep_until(start + frames * 1000000000u / a->fps);
    maybe_report(st, monotonic_ns());
    return 0;
}

static void print_summary(send_stats *st, uint64_t elapsed_ns) {
    double seconds = (double)elapsed_ns / 1e9;
    printf("[send] sent %" PRIu64 " frames in %.2f s (%.1f fps)\n", st->sent, seconds,
           seconds > 0 ? (double)st->sent / seconds : 0.0);
    printf("[send] write (acquire + commit) p50 %.1f us, p99 %.1f us\n",
           samples_percentile_us(&st->write_all, 50), samples_percentile_us(&st->write_all, 99));
    printf("[send] draw + checksum in the slot p50 %.1f us\n",
           samples_percentile_us(&st->draw_all, 50));
}

int main(int argc, char **argv) {
    send_args args = {.pool = "mmpool-demo", .fps = 30, .seconds = 5, .slots = 3};
    if (!parse_args(argc, argv, &args)) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep lines whole next to the receiver's */
    mmpool_options opts = {.slot_capacity = FRAME_BYTES,
                           .slot_count = args.slots,
                           .flags = MMPOOL_CREATE,
                           .format = FRAME_FORMAT};
    mmpool *pool;
    int rc = mmpool_open(&pool, args.pool, &opts);
    if (rc != 0) {
        fprintf(stderr, "stream_send: open %s: %s\n", args.pool, mmpool_strerror(rc));
        return 1;
    }
    /* A pool left by an earlier run may still hold frames, its end frame
     * among them; drop them so that no receiver takes them for ours. */
    rc = mmpool_flush(pool);
    send_stats st = {0};
    uint64_t start = monotonic_ns();
    if (rc == 0) {
        rc = stream(pool, &args, &st);
    }
    /* Printed before the end frame goes out, so that on a shared terminal
     * it comes before the receiver's summary. */
    print_summary(&st, monotonic_ns() - start);
    if (rc == 0) {
        rc = send_end(pool, st.sent);
    }
    mmpool_close(pool);
    samples_free(&st.write_second);
    samples_free(&st.write_all);
    samples_free(&st.draw_all);
    if (rc != 0) {
        fprintf(stderr, "stream_send: %s\n", mmpool_strerror(rc));
        return 1;
    }
    return 0;
}
