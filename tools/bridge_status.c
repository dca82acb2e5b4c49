/* The bridge's status line, once a second on stderr: frames/s, MB/s,
 * drops by cause, receivers; text or JSON (--json), none with --quiet.
 * And its log lines, which --quiet does not silence. */
#include <inttypes.h>
#include <stdarg.h>

#include "bridge.h"

#define SECOND_NS 1000000000ull

void bridge_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("mmpool bridge: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t total_drops(const bridge_status *s) {
    uint64_t n = 0;
    for (int d = BRIDGE_OK + 1; d < BRIDGE_DROP_KINDS; d++) {
        n += s->dropped[d];
    }
    return n;
}

static void print_json(const bridge_status *s, double fps, double mbps) {
    fprintf(stderr,
            "{\"role\":\"%s\",\"frames\":%" PRIu64 ",\"bytes\":%" PRIu64
            ",\"fps\":%.2f,\"mbps\":%.2f,\"skipped\":%" PRIu64 ",\"receivers\":%" PRIu64
            ",\"refused\":%" PRIu64 ",\"dropped\":%" PRIu64,
            s->role, s->frames, s->bytes, fps, mbps, s->skipped, s->receivers, s->refused,
            total_drops(s));
    for (int d = BRIDGE_OK + 1; d < BRIDGE_DROP_KINDS; d++) {
        fprintf(stderr, ",\"%s\":%" PRIu64, bridge_drop_name((bridge_drop)d), s->dropped[d]);
    }
    fputs("}\n", stderr);
}

static void print_text(const bridge_status *s, double fps, double mbps) {
    fprintf(stderr, "mmpool bridge %s: %.1f frames/s, %.1f MB/s, %" PRIu64 " frames", s->role, fps,
            mbps, s->frames);
    if (s->role[0] == 's') {
        fprintf(stderr, ", %" PRIu64 " receiver%s, %" PRIu64 " skipped", s->receivers,
                s->receivers == 1 ? "" : "s", s->skipped);
        if (s->refused > 0) {
            fprintf(stderr, ", %" PRIu64 " refused", s->refused);
        }
        fprintf(stderr, ", %" PRIu64 " bad messages\n", total_drops(s));
        return;
    }
    fprintf(stderr, ", sender %s, %" PRIu64 " dropped", s->receivers ? "up" : "silent",
            total_drops(s));
    for (int d = BRIDGE_OK + 1; d < BRIDGE_DROP_KINDS; d++) {
        if (s->dropped[d] > 0) {
            fprintf(stderr, " (%s %" PRIu64 ")", bridge_drop_name((bridge_drop)d), s->dropped[d]);
        }
    }
    fputc('\n', stderr);
}

void bridge_status_tick(bridge_status *s, uint64_t now_ns, int force) {
    if (s->last_ns == 0) {
        s->last_ns = now_ns;
        return;
    }
    uint64_t dt = now_ns - s->last_ns;
    if (!force && dt < SECOND_NS) {
        return;
    }
    double secs = dt > 0 ? (double)dt / 1e9 : 1.0;
    double fps = (double)(s->frames - s->last_frames) / secs;
    double mbps = (double)(s->bytes - s->last_bytes) / secs / 1e6;
    s->last_ns = now_ns;
    s->last_frames = s->frames;
    s->last_bytes = s->bytes;
    if (s->quiet) {
        return;
    }
    if (s->json) {
        print_json(s, fps, mbps);
    } else {
        print_text(s, fps, mbps);
    }
    fflush(stderr);
}
