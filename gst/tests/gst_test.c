/* The GStreamer elements' tests: gst_test CASE, one CTest test per case.
 * Each case runs pipelines in child processes (gst_run, $MMPOOL_GST_RUN),
 * reaps them with a timeout (killing them on failure) and compares what
 * they logged, buffer by buffer, with what it expects. */
#define _GNU_SOURCE
#include "gst_check.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mmpool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char pool[128];
static char dir[256];
static pid_t children[4];
static int nchildren;

static void cleanup(void) {
    for (int i = 0; i < nchildren; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
        }
    }
    mmpool_unlink(pool);
}

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    cleanup();
    exit(1);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fail(__VA_ARGS__);                                                                     \
        }                                                                                          \
    } while (0)

static uint64_t now_ms(void) {
    return mmpool_now_ns() / 1000000u;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* path of a file of this case's directory */
static const char *file_of(const char *name) {
    static char buf[4][512];
    static int next;
    char *out = buf[next++ % 4];
    snprintf(out, 512, "%s/%s", dir, name);
    return out;
}

/* Starts argv with stdout and stderr into TAG.out and TAG.err, and
 * MMPOOL_GST_POOL=pool plus the extra variable env ("NAME=VALUE" or NULL). */
static pid_t spawn(const char *tag, char *const argv[], const char *env) {
    /* An entry of a child reaped already is free again. */
    int slot = 0;
    while (slot < nchildren && children[slot] != 0) {
        slot++;
    }
    CHECK(slot < (int)(sizeof children / sizeof children[0]), "more than %d children at once",
          slot);
    if (slot == nchildren) {
        nchildren++;
    }
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.out", dir, tag);
        int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        snprintf(path, sizeof path, "%s/%s.err", dir, tag);
        int err = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out, 1);
        dup2(err, 2);
        setenv("MMPOOL_GST_POOL", pool, 1);
        if (env != NULL) {
            putenv(strdup(env));
        }
        execv(argv[0], argv);
        _exit(127);
    }
    children[slot] = pid;
    return pid;
}

/* A pipeline in gst_run, logging into TAG.log. */
static pid_t run(const char *tag, const char *pipeline, const char *env) {
    static char log[512];
    static char text[2048];
    snprintf(log, sizeof log, "%s/%s.log", dir, tag);
    /* %P in the pipeline stands for the pool's name. */
    size_t n = 0;
    for (const char *p = pipeline; *p != '\0' && n + sizeof pool < sizeof text; p++) {
        if (p[0] == '%' && p[1] == 'P') {
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", pool);
            p++;
        } else {
            text[n++] = *p;
        }
    }
    text[n] = '\0';
    char *argv[] = {getenv("MMPOOL_GST_RUN"), log, text, NULL};
    CHECK(argv[0] != NULL, "MMPOOL_GST_RUN is not set");
    return spawn(tag, argv, env);
}

/* The exit status of pid, waiting timeout_ms at most; then it is killed
 * and the case fails. */
static int reap(pid_t pid, int timeout_ms, const char *what) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            for (int i = 0; i < nchildren; i++) {
                if (children[i] == pid) {
                    children[i] = 0;
                }
            }
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (now_ms() > end) {
            fail("%s did not end within %d ms", what, timeout_ms);
        }
        sleep_ms(10);
    }
}

/* The whole text of a file ("" if missing); static, one at a time. */
static const char *slurp(const char *path) {
    static char buf[1 << 16];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

typedef struct entry {
    uint64_t pts;
    uint64_t offset;
    uint64_t sum;
    int in_pool;
    int discont;
    int64_t latency;
    uint64_t arrival;
} entry;

/* The lines of TAG.log; returns how many (at most cap). */
static int load(const char *tag, entry *e, int cap) {
    char name[64];
    snprintf(name, sizeof name, "%s.log", tag);
    FILE *f = fopen(file_of(name), "r");
    int n = 0;
    if (f == NULL) {
        return 0;
    }
    while (n < cap && fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNx64 " %d %d %" SCNd64 " %" SCNu64,
                             &e[n].pts, &e[n].offset, &e[n].sum, &e[n].in_pool, &e[n].discont,
                             &e[n].latency, &e[n].arrival) == 7) {
        n++;
    }
    fclose(f);
    return n;
}

static int lines_of(const char *tag) {
    static entry scratch[1024];
    return load(tag, scratch, 1024);
}

/* Creates the pool as a reader would find it. */
static mmpool *create(const char *format, uint64_t capacity, uint32_t slots) {
    mmpool_options o = {.slot_capacity = capacity,
                        .slot_count = slots,
                        .flags = MMPOOL_CREATE | MMPOOL_EXCL,
                        .format = format,
                        .read_mode = MMPOOL_READ_FIFO};
    mmpool *h = NULL;
    int rc = mmpool_open(&h, pool, &o);
    CHECK(rc == 0, "create %s: %s", pool, mmpool_strerror(rc));
    return h;
}

/* Opens the pool once it exists (timeout_ms at most). */
static mmpool *await_pool(int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        mmpool *h = NULL;
        if (mmpool_open(&h, pool, NULL) == 0) {
            return h;
        }
        CHECK(now_ms() < end, "pool %s did not appear", pool);
        sleep_ms(10);
    }
}

static mmpool_stats stats_of(mmpool *h) {
    mmpool_stats st;
    int rc = mmpool_stat(h, &st);
    CHECK(rc == 0, "stat: %s", mmpool_strerror(rc));
    return st;
}

/* Waits until handles are attached and last_seq reached (timeout_ms). */
static void await_state(mmpool *h, uint32_t handles, uint64_t seq, int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        mmpool_stats st = stats_of(h);
        if (st.handles >= handles && st.last_seq >= seq) {
            return;
        }
        CHECK(now_ms() < end, "pool %s: %u handles, seq %" PRIu64 "; wanted %u and %" PRIu64, pool,
              st.handles, st.last_seq, handles, seq);
        sleep_ms(10);
    }
}

/* Waits until TAG.log has n lines (timeout_ms). */
static void await_lines(const char *tag, int n, int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (lines_of(tag) < n) {
        CHECK(now_ms() < end, "%s logged %d buffers, not %d", tag, lines_of(tag), n);
        sleep_ms(10);
    }
}

#define FULL_HD "video/x-raw,format=BGR,width=1920,height=1080"
#define FULL_HD_SIZE (1920u * 1080u * 3u)
#define SMALL "video/x-raw,format=BGR,width=320,height=240"
#define SMALL_SIZE (320u * 240u * 3u)
#define TRAILER 32u

/* 300 Full-HD frames from one process to another: every frame, in order,
 * pixels and timestamps intact, through slots on both sides. */
static void case_fifo_roundtrip(void) {
    enum { N = 300 };
    /* 24 slots at 60 fps: the reader may fall 400 ms behind (a busy
     * machine, a sanitizer) and still lose nothing. */
    mmpool *h = create(FULL_HD ",framerate=60/1", FULL_HD_SIZE + TRAILER, 24);
    pid_t reader = run("reader",
                       "mmpoolsrc pool=%P mode=fifo eos-on-no-writers=true ! "
                       "fakesink name=log sync=false",
                       NULL);
    await_state(h, 2, 0, 10000);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=300 pattern=ball ! " FULL_HD
                       ",framerate=60/1 ! mmpoolsink name=log pool=%P slots=24",
                       NULL);
    int ws = reap(writer, 40000, "the writer");
    CHECK(ws == 0, "writer exit %d: %s", ws, slurp(file_of("writer.err")));
    int rs = reap(reader, 10000, "the reader");
    CHECK(rs == 0, "reader exit %d: %s", rs, slurp(file_of("reader.err")));
    mmpool_close(h);
    static entry w[N + 1], r[N + 1];
    int nw = load("writer", w, N + 1);
    int nr = load("reader", r, N + 1);
    CHECK(nw == N, "writer logged %d buffers, not %d", nw, N);
    CHECK(nr == N, "reader got %d frames of %d (fifo, a reader that keeps up)", nr, N);
    for (int i = 0; i < N; i++) {
        CHECK(w[i].in_pool == 1, "writer buffer %d is not a slot (copied)", i);
        CHECK(r[i].in_pool == 1, "reader buffer %d does not point into the pool", i);
        CHECK(r[i].sum == w[i].sum, "frame %d: checksum %016" PRIx64 " != %016" PRIx64, i, r[i].sum,
              w[i].sum);
        CHECK(r[i].pts == w[i].pts, "frame %d: pts %" PRIu64 " != %" PRIu64, i, r[i].pts, w[i].pts);
        CHECK(r[i].offset == (uint64_t)i + 1, "frame %d has seq %" PRIu64, i, r[i].offset);
        /* The base class marks the first buffer after start discont. */
        CHECK(i == 0 || r[i].discont == 0, "frame %d marked discont", i);
    }
    CHECK(strstr(slurp(file_of("writer.out")), "dropped 0\n") != NULL, "writer dropped frames");
    CHECK(strstr(slurp(file_of("writer.out")), "copied 0\n") != NULL, "the sink copied: %s",
          slurp(file_of("writer.out")));
    CHECK(strstr(slurp(file_of("reader.out")),
                 "caps video/x-raw, format=(string)BGR, width=(int)1920, height=(int)1080, "
                 "framerate=(fraction)60/1") != NULL,
          "reader caps: %s", slurp(file_of("reader.out")));
    printf("fifo roundtrip: %d Full-HD frames, checksums and pts intact, zero copy\n", N);
}

/* The check behind "in_pool" sees a copy: a converted buffer is not in
 * the pool, the source's own buffers are. */
static void case_zero_copy(void) {
    /* More slots than frames: a slow reader (videoconvert, a sanitizer)
     * still loses none. */
    mmpool *h = create(SMALL ",framerate=100/1", SMALL_SIZE + TRAILER, 32);
    pid_t direct = run(
        "direct", "mmpoolsrc pool=%P mode=fifo eos-on-no-writers=true ! fakesink name=log", NULL);
    pid_t copied = run("copied",
                       "mmpoolsrc pool=%P mode=fifo eos-on-no-writers=true ! videoconvert ! "
                       "video/x-raw,format=RGB ! fakesink name=log",
                       NULL);
    await_state(h, 3, 0, 10000);
    pid_t writer =
        run("writer",
            "videotestsrc num-buffers=20 ! " SMALL ",framerate=100/1 ! mmpoolsink name=log pool=%P",
            NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    CHECK(reap(direct, 10000, "a reader") == 0, "reader: %s", slurp(file_of("direct.err")));
    CHECK(reap(copied, 10000, "a reader") == 0, "reader: %s", slurp(file_of("copied.err")));
    mmpool_close(h);
    static entry w[32], d[32], c[32];
    int nw = load("writer", w, 32);
    int nd = load("direct", d, 32);
    int nc = load("copied", c, 32);
    CHECK(nw == 20 && nd == 20 && nc == 20, "buffers: writer %d, direct %d, copied %d", nw, nd, nc);
    for (int i = 0; i < 20; i++) {
        CHECK(w[i].in_pool == 1, "mmpoolsink's buffer %d from upstream is not a slot", i);
        CHECK(d[i].in_pool == 1, "mmpoolsrc's buffer %d is not in the pool's mapping", i);
        CHECK(c[i].in_pool == 0, "a converted buffer %d counted as in the pool", i);
    }
    /* in_pool sees the buffer before the sink: the sink's own count tells
     * whether it committed the slot or copied the frame into another. */
    CHECK(strstr(slurp(file_of("writer.out")), "copied 0\n") != NULL, "the sink copied: %s",
          slurp(file_of("writer.out")));
    printf("zero copy: 20 frames in slots on both sides; converted copies detected\n");
}

/* A NumPy writer (the Python binding, "bgr8 64x48") read by mmpoolsrc. */
static void case_python_writer(void) {
    enum { N = 40 };
    char frames[8];
    snprintf(frames, sizeof frames, "%d", N);
    const char *py = getenv("MMPOOL_PYTHON");
    const char *script = getenv("MMPOOL_GST_PY_WRITER");
    CHECK(py != NULL && script != NULL, "MMPOOL_PYTHON or MMPOOL_GST_PY_WRITER not set");
    char *argv[] = {(char *)py, (char *)script, pool, frames, NULL};
    pid_t writer = spawn("python", argv, NULL);
    mmpool *h = await_pool(10000);
    mmpool_close(h);
    pid_t reader = run(
        "reader", "mmpoolsrc pool=%P mode=fifo eos-on-no-writers=true ! fakesink name=log", NULL);
    CHECK(reap(writer, 20000, "the Python writer") == 0, "python: %s",
          slurp(file_of("python.err")));
    CHECK(reap(reader, 10000, "the reader") == 0, "reader: %s", slurp(file_of("reader.err")));
    static entry r[N + 1];
    int nr = load("reader", r, N + 1);
    CHECK(nr == N, "reader got %d frames of %d", nr, N);
    static unsigned char frame[64 * 48 * 3];
    for (int i = 0; i < N; i++) {
        for (size_t k = 0; k < sizeof frame; k++) {
            frame[k] = (unsigned char)((k + (size_t)i) % 251);
        }
        CHECK(r[i].sum == mmp__gst_checksum(frame, sizeof frame), "frame %d differs", i);
        CHECK(r[i].in_pool == 1, "frame %d is not in the pool's mapping", i);
        CHECK(r[i].pts != UINT64_MAX, "frame %d has no pts (arrival time expected)", i);
    }
    CHECK(strstr(slurp(file_of("reader.out")),
                 "caps video/x-raw, format=(string)BGR, width=(int)64, height=(int)48") != NULL,
          "reader caps for \"bgr8 64x48\": %s", slurp(file_of("reader.out")));
    printf("python writer: %d NumPy frames of \"bgr8 64x48\" read by mmpoolsrc\n", N);
}

static uint64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* mmpoolsink feeding a plain C reader that follows docs/gstreamer.md: the
 * pixels at the slot start, then the 32-byte trailer with the times. The
 * pool is made with the older format string, which the sink accepts. */
static void case_c_reader(void) {
    enum { N = 60 };
    mmpool *h = create("bgr8 320x240", SMALL_SIZE + TRAILER, 64);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=60 pattern=ball ! " SMALL
                       ",framerate=30/1 ! mmpoolsink name=log pool=%P sync=false",
                       NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    static entry w[N + 1];
    CHECK(load("writer", w, N + 1) == N, "writer logged %d buffers", lines_of("writer"));
    for (int i = 0; i < N; i++) {
        mmpool_view v;
        int rc = mmpool_read_acquire(h, &v, 0);
        CHECK(rc == 0, "frame %d: %s", i, mmpool_strerror(rc));
        const unsigned char *p = v.data;
        CHECK(v.frame.len == SMALL_SIZE + TRAILER, "frame %d: %" PRIu64 " bytes", i, v.frame.len);
        CHECK(((uintptr_t)p & 4095u) == 0, "frame %d: pixels not 4096-aligned", i);
        CHECK(mmp__gst_checksum(p, SMALL_SIZE) == w[i].sum, "frame %d: pixels differ", i);
        const unsigned char *t = p + SMALL_SIZE;
        CHECK(memcmp(t, "MMPOOLTS", 8) == 0, "frame %d: no trailer magic", i);
        uint64_t pts = le64(t + 8);
        uint64_t duration = le64(t + 24);
        uint64_t want = (uint64_t)i * 1000000000u / 30u;
        CHECK(pts == want && pts == w[i].pts, "frame %d: pts %" PRIu64 ", wanted %" PRIu64, i, pts,
              want);
        CHECK(duration == ((uint64_t)i + 1) * 1000000000u / 30u - want,
              "frame %d: duration %" PRIu64, i, duration);
        mmpool_read_release(h, &v);
    }
    mmpool_close(h);
    printf("C reader: %d frames, pixels at the slot start, trailer pts/duration exact\n", N);
}

/* Buffers of the sink's pool dropped before the sink (identity drops a
 * third at random): their loans are aborted when they come back, so the
 * next buffers are slots again (a loan left open would make its handle's
 * next acquire fail, and upstream would get plain memory, copied), and
 * only the rendered frames are published. */
static void case_dropped_loans(void) {
    enum { N = 60 };
    mmpool *h = create(SMALL ",framerate=30/1", SMALL_SIZE + TRAILER, 4);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=60 ! " SMALL
                       ",framerate=30/1 ! identity drop-probability=0.34 ! "
                       "mmpoolsink name=log pool=%P sync=false",
                       NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    static entry w[N + 1];
    int nw = load("writer", w, N + 1);
    CHECK(nw > 0 && nw < N, "%d of %d buffers reached the sink: identity dropped none", nw, N);
    for (int i = 0; i < nw; i++) {
        CHECK(w[i].in_pool == 1, "buffer %d after drops is not a slot: a loan was left open", i);
    }
    mmpool_stats st = stats_of(h);
    CHECK(st.last_seq == (uint64_t)nw, "%" PRIu64 " frames published for %d rendered", st.last_seq,
          nw);
    mmpool_close(h);
    printf("dropped loans: %d of %d buffers dropped upstream of the sink, every loan aborted\n",
           N - nw, N);
}

/* A copy of a sink's buffer taken upstream of the sink (gst_buffer_copy,
 * as tee, videorate or gst_buffer_make_writable do) and kept after the
 * pipeline stopped: it is safe to map and holds that frame's bytes, though
 * the slot has since taken other frames and the pool's handles are closed. */
static void case_kept_copy(void) {
    mmpool *h = create(SMALL ",framerate=30/1", SMALL_SIZE + TRAILER, 4);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=12 pattern=ball ! " SMALL
                       ",framerate=30/1 ! identity ! mmpoolsink name=log pool=%P sync=false",
                       "MMPOOL_GST_KEEP_COPY=1");
    int ws = reap(writer, 20000, "the writer");
    CHECK(ws == 0, "writer exit %d (a signal is 128 + its number): %s", ws,
          slurp(file_of("writer.err")));
    static entry w[16];
    CHECK(load("writer", w, 16) == 12, "writer logged %d buffers", lines_of("writer"));
    CHECK(w[0].in_pool == 1, "the first buffer is not a slot: nothing shared to test");
    char want[32];
    snprintf(want, sizeof want, "copy %016" PRIx64 "\n", w[0].sum);
    const char *out = slurp(file_of("writer.out"));
    CHECK(strstr(out, want) != NULL, "the kept copy is not the first frame (%s): %s", want, out);
    CHECK(stats_of(h).last_seq == 12, "frames published: %" PRIu64, stats_of(h).last_seq);
    mmpool_close(h);
    printf("kept copy: mapped after the stop, the first frame's bytes\n");
}

/* The pool is re-created with 4096-byte slots after the sink checked it
 * and before its buffer pool opens its handles: the buffer pool refuses
 * the new pool instead of handing upstream slots smaller than a frame,
 * and nothing is written into it. */
static void case_pool_shrunk(void) {
    mmpool *h = create(SMALL ",framerate=30/1", SMALL_SIZE + TRAILER, 4);
    mmpool_close(h);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=5 ! " SMALL
                       ",framerate=30/1 ! mmpoolsink name=log pool=%P sync=false",
                       "MMPOOL_GST_SHRINK=1");
    int ws = reap(writer, 20000, "the writer");
    const char *err = slurp(file_of("writer.err"));
    CHECK(ws == 2, "writer exit %d, not an error message (a signal is 128 + its number): %s", ws,
          err);
    h = await_pool(1000);
    mmpool_stats st = stats_of(h);
    CHECK(st.slot_capacity == 4096, "the pool was not re-created: %" PRIu64 " bytes a slot",
          st.slot_capacity);
    CHECK(st.last_seq == 0, "%" PRIu64 " frames written into the small pool", st.last_seq);
    mmpool_close(h);
    printf("pool shrunk: refused, nothing written; %s", err);
}

/* Creates a 4-slot pool whose every slot a reader in this process holds:
 * it writes four frames and keeps a read loan on each. *reader is that
 * reader; returns the creating handle. */
static mmpool *starved_pool(mmpool **reader) {
    static unsigned char frame[SMALL_SIZE];
    static mmpool_view views[4];
    mmpool *h = create(SMALL ",framerate=30/1", SMALL_SIZE + TRAILER, 4);
    for (int i = 0; i < 4; i++) {
        int rc = mmpool_write(h, frame, sizeof frame, 0);
        CHECK(rc == 0, "write: %s", mmpool_strerror(rc));
    }
    mmpool_options o = {.read_mode = MMPOOL_READ_FIFO};
    int rc = mmpool_open(reader, pool, &o);
    CHECK(rc == 0, "open: %s", mmpool_strerror(rc));
    for (int i = 0; i < 4; i++) {
        rc = mmpool_read_acquire(*reader, &views[i], 0);
        CHECK(rc == 0, "read loan %d: %s", i, mmpool_strerror(rc));
    }
    return h;
}

/* Readers hold every slot and the sink waits up to 8 s for one: stopping
 * the pipeline (SIGTERM: gst_run sets it to NULL) ends the wait at once
 * (the buffer pool's flush interrupts the blocked write acquire). */
static void case_stop_blocked(void) {
    mmpool *r = NULL;
    mmpool *h = starved_pool(&r);
    pid_t writer = run("writer",
                       "videotestsrc ! " SMALL
                       ",framerate=30/1 ! mmpoolsink name=log pool=%P timeout=8000 sync=false",
                       NULL);
    /* The sink's handle and its two loans' handles, then time to block. */
    await_state(h, 5, 0, 10000);
    sleep_ms(500);
    CHECK(lines_of("writer") == 0, "a buffer reached the sink while every slot was held");
    uint64_t t0 = now_ms();
    kill(writer, SIGTERM);
    int ws = reap(writer, 10000, "the writer after SIGTERM");
    uint64_t took = now_ms() - t0;
    CHECK(ws == 4, "writer exit %d: %s", ws, slurp(file_of("writer.err")));
    CHECK(took < 2000, "the stop took %" PRIu64 " ms: the blocked acquire was not interrupted",
          took);
    mmpool_close(r);
    mmpool_close(h);
    printf("stop blocked: the pipeline stopped %" PRIu64 " ms after SIGTERM (timeout 8000)\n",
           took);
}

/* Readers hold every slot: each frame waits the sink's timeout once (in
 * the buffer pool's acquire) and is dropped, not a second time in render. */
static void case_drop_pace(void) {
    enum { N = 6, TIMEOUT = 400 };
    mmpool *r = NULL;
    mmpool *h = starved_pool(&r);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=6 ! " SMALL
                       ",framerate=30/1 ! mmpoolsink name=log pool=%P timeout=400 sync=false",
                       NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    static entry w[N + 1];
    CHECK(load("writer", w, N + 1) == N, "writer logged %d buffers", lines_of("writer"));
    CHECK(strstr(slurp(file_of("writer.out")), "dropped 6\n") != NULL, "writer: %s",
          slurp(file_of("writer.out")));
    uint64_t per = (w[N - 1].arrival - w[0].arrival) / (N - 1) / 1000000u;
    CHECK(per >= TIMEOUT * 3 / 4 && per < TIMEOUT * 3 / 2,
          "a dropped frame every %" PRIu64 " ms with timeout=%d", per, TIMEOUT);
    CHECK(stats_of(h).last_seq == 4, "a frame was written while every slot was held");
    mmpool_close(r);
    mmpool_close(h);
    printf("drop pace: a frame dropped every %" PRIu64 " ms with timeout=%d\n", per, TIMEOUT);
}

/* A writer that is not mmpoolsink and does not keep to the pool's caps
 * (64x48 BGR, 9216 bytes): frames of 1 byte, 9215 bytes and 9248 bytes
 * without a trailer are dropped and counted as rejected, never pushed with
 * the caps; the frames of the right size (one with a trailer) go through.
 * Then format strings that are no caps a source can push: the source
 * refuses to start, naming the format string. */
static void case_hostile_writer(void) {
    enum { W = 64, H = 48, SIZE = W * H * 3 };
    static unsigned char good[3][SIZE + TRAILER];
    static unsigned char junk[SIZE + TRAILER];
    for (int f = 0; f < 3; f++) {
        for (size_t k = 0; k < sizeof good[f]; k++) {
            good[f][k] = (unsigned char)(k * 7 + (size_t)f);
        }
    }
    memcpy(good[2] + SIZE, "MMPOOLTS", 8);
    memset(junk, 0xAB, sizeof junk);
    mmpool *h = create("video/x-raw,format=BGR,width=64,height=48", SIZE + TRAILER, 16);
    pid_t reader = run("reader",
                       "mmpoolsrc name=src pool=%P mode=fifo eos-on-no-writers=true ! "
                       "fakesink name=log",
                       NULL);
    await_state(h, 2, 0, 10000);
    const struct {
        const unsigned char *data;
        size_t len;
    } frames[] = {{good[0], SIZE},        {junk, 1},
                  {good[1], SIZE},        {junk, SIZE - 1},
                  {junk, SIZE + TRAILER}, {good[2], SIZE + TRAILER}};
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        int rc = mmpool_write(h, frames[i].data, frames[i].len, 1000);
        CHECK(rc == 0, "write %zu: %s", i, mmpool_strerror(rc));
    }
    mmpool_close(h);
    int rs = reap(reader, 10000, "the reader");
    CHECK(rs == 0, "reader exit %d: %s", rs, slurp(file_of("reader.err")));
    static entry r[8];
    int nr = load("reader", r, 8);
    CHECK(nr == 3, "the source pushed %d frames, not the 3 of the caps' size", nr);
    for (int f = 0; f < 3; f++) {
        CHECK(r[f].sum == mmp__gst_checksum(good[f], SIZE), "frame %d differs", f);
        /* A frame left out before it: downstream is told (DISCONT). */
        CHECK(f == 0 || r[f].discont == 1, "frame %d, after a rejected one, is not DISCONT", f);
    }
    CHECK(strstr(slurp(file_of("reader.out")), "src rejected 3\n") != NULL, "reader: %s",
          slurp(file_of("reader.out")));
    mmpool_unlink(pool);

    static const char *const odd[] = {
        "video/x-raw(memory:DMABuf),format=BGR,width=64,height=48",
        "audio/x-raw,format=S16LE,rate=[1,48000],channels=1",
        "video/x-raw,format=BGR,width=[1,64],height=48",
        "application/x-thing,size={1,2}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        h = create(odd[i], 4096, 4);
        pid_t src = run("odd", "mmpoolsrc pool=%P timeout=300 ! fakesink name=log", NULL);
        int st = reap(src, 10000, "the source on an odd format");
        const char *err = slurp(file_of("odd.err"));
        CHECK(st == 2 && strstr(err, odd[i]) != NULL,
              "format \"%s\": exit %d, not an error naming it: %s", odd[i], st, err);
        mmpool_close(h);
        mmpool_unlink(pool);
    }
    printf("hostile writer: 3 frames of the wrong size rejected, %zu odd formats refused\n",
           sizeof odd / sizeof odd[0]);
}

/* The older format "bgr8 1366x768" stands for packed rows of 4098 bytes
 * (OpenCV, ROS), GStreamer's BGR rows are 4100 (a multiple of 4): the
 * source refuses such a pool and the sink refuses to write into one
 * (even with room for GStreamer's padded frame), each with an error that
 * names the format and says why, instead of skewed images. */
static void case_packed_rows(void) {
    enum { W = 1366, H = 768 };
    mmpool *h = create("bgr8 1366x768", (uint64_t)W * H * 3, 2);
    pid_t src = run("reader", "mmpoolsrc pool=%P timeout=300 ! fakesink name=log", NULL);
    int st = reap(src, 10000, "the source");
    const char *err = slurp(file_of("reader.err"));
    CHECK(st == 2 && strstr(err, "bgr8 1366x768") != NULL && strstr(err, "packed") != NULL,
          "source: exit %d, not an error about packed rows: %s", st, err);
    mmpool_close(h);
    mmpool_unlink(pool);

    h = create("bgr8 1366x768", 4100u * H + TRAILER, 2);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=2 ! video/x-raw,format=BGR,width=1366,height=768 "
                       "! mmpoolsink name=log pool=%P",
                       NULL);
    st = reap(writer, 20000, "the writer");
    err = slurp(file_of("writer.err"));
    CHECK(st == 2 && strstr(err, "bgr8 1366x768") != NULL && strstr(err, "packed") != NULL,
          "sink: exit %d, not an error about packed rows: %s", st, err);
    CHECK(stats_of(h).last_seq == 0, "frames with padded rows written into a packed pool");
    mmpool_close(h);
    printf("packed rows: bgr8 1366x768 refused by both elements: %s", err);
}

/* How long the pipeline of TAG ran, from its start to its end, as gst_run
 * printed it. */
static uint64_t ran_ms(const char *tag) {
    char name[64];
    snprintf(name, sizeof name, "%s.out", tag);
    const char *out = strstr(slurp(file_of(name)), "ran ");
    uint64_t ms = 0;
    CHECK(out != NULL && sscanf(out, "ran %" SCNu64, &ms) == 1, "%s printed no running time", tag);
    return ms;
}

/* A pool with no writer: timeout=300 ends the stream with EOS 300 ms
 * (and at most a few checks more) after the pipeline started; without it
 * the source waits until the pipeline is stopped, and the stop (unlock())
 * ends the wait at once, so the process ends at its 1 s limit instead of
 * hanging. Both measured from the pipeline's start, not the process's. */
static void case_idle_source(void) {
    mmpool *h = create(SMALL, SMALL_SIZE + TRAILER, 4);
    pid_t timed = run("timed", "mmpoolsrc pool=%P timeout=300 ! fakesink name=log", NULL);
    pid_t stopped = run("stopped", "mmpoolsrc pool=%P ! fakesink name=log", "MMPOOL_GST_LIMIT_S=1");
    int ts = reap(timed, 5000, "the source with timeout=300");
    CHECK(ts == 0, "timeout=300: exit %d, not EOS: %s", ts, slurp(file_of("timed.err")));
    uint64_t t_timed = ran_ms("timed");
    CHECK(t_timed >= 300 && t_timed < 800, "timeout=300 ended the stream after %" PRIu64 " ms",
          t_timed);
    int ss = reap(stopped, 5000, "the stopped source (unlock did not end its wait)");
    CHECK(ss == 3, "the idle source exit %d, not its time limit: %s", ss,
          slurp(file_of("stopped.err")));
    uint64_t t_stopped = ran_ms("stopped");
    CHECK(t_stopped >= 1000 && t_stopped < 1500,
          "the source stopped at its 1 s limit ended after %" PRIu64 " ms", t_stopped);
    CHECK(lines_of("timed") == 0 && lines_of("stopped") == 0, "buffers from an empty pool");
    mmpool_close(h);
    printf("idle source: EOS after %" PRIu64 " ms with timeout=300; stopped after %" PRIu64 " ms\n",
           t_timed, t_stopped);
}

/* The figure of the line "NAME N..." of TAG.out (such as "cpu 12 ms");
 * -1 without one. */
static long long out_figure(const char *tag, const char *name) {
    char file[64];
    snprintf(file, sizeof file, "%s.out", tag);
    size_t n = strlen(name);
    for (const char *line = slurp(file_of(file)); line != NULL && *line != '\0';) {
        long long v = -1;
        if (strncmp(line, name, n) == 0 && line[n] == ' ') {
            return sscanf(line + n + 1, "%lld", &v) == 1 ? v : -1;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return -1;
}

/* spin: a paced writer's frames are caught in the window around the
 * moment each is due, not woken for, and arrive intact and in order, for
 * CPU time well below a spinning source's; a stop while the source
 * watches ends the watch at once. */
static void case_spin_window(void) {
    enum { N = 100 };
    mmpool *h = create(SMALL ",framerate=100/1", SMALL_SIZE + TRAILER, 8);
    pid_t reader = run("reader",
                       "mmpoolsrc name=src pool=%P mode=fifo eos-on-no-writers=true spin=4000 ! "
                       "fakesink name=log sync=false",
                       NULL);
    await_state(h, 2, 0, 10000);
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=100 is-live=true ! " SMALL
                       ",framerate=100/1 ! mmpoolsink name=log pool=%P",
                       NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    CHECK(reap(reader, 10000, "the reader") == 0, "reader: %s", slurp(file_of("reader.err")));
    static entry w[N + 1], r[N + 1];
    CHECK(load("writer", w, N + 1) == N && load("reader", r, N + 1) == N,
          "writer %d, reader %d buffers", lines_of("writer"), lines_of("reader"));
    for (int i = 0; i < N; i++) {
        CHECK(r[i].sum == w[i].sum && r[i].pts == w[i].pts, "buffer %d differs", i);
        CHECK(r[i].offset == (uint64_t)i + 1, "buffer %d has seq %" PRIu64, i, r[i].offset);
    }
    long long caught = out_figure("reader", "src caught");
    CHECK(caught > 0 && caught <= N, "frames caught in the spin window: %lld of %d: %s", caught, N,
          slurp(file_of("reader.out")));
    /* A 4 ms window every 10 ms: the source spins well under 70 % of its
     * run (one that watched from each frame to the next window's end
     * would spin nearly all of it). */
    long long cpu = out_figure("reader", "cpu"), ran = out_figure("reader", "ran");
    CHECK(cpu >= 0 && ran > 0 && cpu * 10 < ran * 7, "the source used %lld ms of CPU in %lld ms",
          cpu, ran);
    mmpool_close(h);
    mmpool_unlink(pool);

    /* 2 frames a second and a window of 1 s: once the source has the pace
     * (two frames) it watches all the time. A stop then must end the
     * watch at once, not when the window closes up to a second later. */
    h = create(SMALL ",framerate=2/1", SMALL_SIZE + TRAILER, 8);
    pid_t watcher = run("watcher",
                        "mmpoolsrc name=src pool=%P mode=fifo spin=1000000 ! "
                        "fakesink name=log sync=false",
                        NULL);
    await_state(h, 2, 0, 10000);
    pid_t slow = run("slow",
                     "videotestsrc num-buffers=20 is-live=true ! " SMALL
                     ",framerate=2/1 ! mmpoolsink name=log pool=%P",
                     NULL);
    await_state(h, 3, 3, 20000);
    await_lines("watcher", 3, 5000);
    uint64_t t0 = now_ms();
    kill(watcher, SIGTERM);
    int ws = reap(watcher, 6000, "the watching source (its stop did not end the watch)");
    uint64_t stop_ms = now_ms() - t0;
    CHECK(ws == 4, "the watching source exit %d, not its SIGTERM status: %s", ws,
          slurp(file_of("watcher.err")));
    CHECK(stop_ms < 500, "the watching source took %" PRIu64 " ms to stop", stop_ms);
    long long watched = out_figure("watcher", "src caught");
    CHECK(watched >= 1,
          "the slow writer's frames were not caught (%lld): the source was asleep, "
          "not watching, when it was stopped",
          watched);
    kill(slow, SIGTERM);
    reap(slow, 5000, "the slow writer");
    mmpool_close(h);
    printf("spin window: %lld of %d frames at 100 fps caught, %lld ms of CPU in %lld ms; a stop "
           "mid-watch took %" PRIu64 " ms\n",
           caught, N, cpu, ran, stop_ms);
}

/* Caps that are not raw video (raw audio, whose caps string is too long
 * for the format string until layout is dropped): copied in by the sink,
 * read in place by the source, caps, bytes and timestamps intact. */
static void case_other_caps(void) {
    enum { N = 20 };
    mmpool *h = create("audio/x-raw,format=S16LE,rate=44100,channels=1", 8192, 32);
    pid_t reader = run(
        "reader", "mmpoolsrc pool=%P mode=fifo eos-on-no-writers=true ! fakesink name=log", NULL);
    await_state(h, 2, 0, 10000);
    pid_t writer =
        run("writer",
            "audiotestsrc num-buffers=20 ! audio/x-raw,format=S16LE,rate=44100,channels=1 "
            "! mmpoolsink name=log pool=%P capacity=8192",
            NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    CHECK(reap(reader, 10000, "the reader") == 0, "reader: %s", slurp(file_of("reader.err")));
    static entry w[N + 1], r[N + 1];
    CHECK(load("writer", w, N + 1) == N && load("reader", r, N + 1) == N,
          "writer %d, reader %d buffers", lines_of("writer"), lines_of("reader"));
    for (int i = 0; i < N; i++) {
        CHECK(r[i].sum == w[i].sum && r[i].pts == w[i].pts, "buffer %d differs", i);
        CHECK(r[i].in_pool == 1, "buffer %d is not in the pool's mapping", i);
    }
    CHECK(strstr(slurp(file_of("writer.out")), "copied 20\n") != NULL,
          "the sink did not count its copies of buffers from upstream: %s",
          slurp(file_of("writer.out")));
    CHECK(strstr(slurp(file_of("reader.out")),
                 "caps audio/x-raw, format=(string)S16LE, rate=(int)44100, channels=(int)1, "
                 "layout=(string)interleaved") != NULL,
          "reader caps: %s", slurp(file_of("reader.out")));
    mmpool_close(h);
    printf("other caps: %d raw-audio buffers, bytes and pts intact\n", N);
}

/* A pool whose geometry differs: an element error naming both. */
static void case_caps_mismatch(void) {
    mmpool *h = create("bgr8 640x480", 640u * 480u * 3u, 4);
    pid_t writer =
        run("writer", "videotestsrc num-buffers=5 ! " SMALL " ! mmpoolsink name=log pool=%P", NULL);
    int st = reap(writer, 20000, "the writer");
    const char *err = slurp(file_of("writer.err"));
    CHECK(st == 2, "writer exit %d, not an error: %s", st, err);
    CHECK(strstr(err, "bgr8 640x480") != NULL && strstr(err, "921600") != NULL,
          "the error does not name the pool's geometry: %s", err);
    CHECK(strstr(err, "width=320,height=240") != NULL && strstr(err, "230400") != NULL,
          "the error does not name the stream's geometry: %s", err);
    CHECK(stats_of(h).last_seq == 0, "a frame was written into the mismatched pool");
    mmpool_close(h);
    printf("caps mismatch: %s", err);
}

/* The live writer used by the failure cases: 320x240 at 100 fps, no end. */
#define LIVE_WRITER                                                                                \
    "videotestsrc is-live=true ! " SMALL ",framerate=100/1 ! mmpoolsink name=log pool=%P"

/* The pool is removed mid-stream: the source ends with EOS, the sink with
 * an error naming the pool. */
static void case_pool_removed(void) {
    pid_t writer = run("writer", LIVE_WRITER, NULL);
    mmpool *h = await_pool(10000);
    pid_t reader = run("reader", "mmpoolsrc pool=%P ! fakesink name=log", NULL);
    await_lines("reader", 5, 10000);
    mmpool_close(h);
    CHECK(mmpool_unlink(pool) == 0, "unlink");
    uint64_t t0 = now_ms();
    int rs = reap(reader, 3000, "the reader after the unlink");
    CHECK(rs == 0, "reader exit %d (EOS expected): %s", rs, slurp(file_of("reader.err")));
    int ws = reap(writer, 3000, "the writer after the unlink");
    const char *err = slurp(file_of("writer.err"));
    CHECK(ws == 2 && strstr(err, "was removed") != NULL, "writer exit %d: %s", ws, err);
    CHECK(lines_of("reader") >= 5, "reader got %d frames before the unlink", lines_of("reader"));
    printf("pool removed: reader EOS and writer error within %" PRIu64 " ms\n", now_ms() - t0);
}

/* The writer is killed: with eos-on-no-writers the source ends with EOS. */
static void case_writer_killed(void) {
    pid_t writer = run("writer", LIVE_WRITER, NULL);
    mmpool *h = await_pool(10000);
    pid_t reader =
        run("reader", "mmpoolsrc pool=%P eos-on-no-writers=true ! fakesink name=log", NULL);
    await_lines("reader", 5, 10000);
    kill(writer, SIGKILL);
    reap(writer, 3000, "the killed writer");
    uint64_t t0 = now_ms();
    int rs = reap(reader, 3000, "the reader after the writer died");
    CHECK(rs == 0, "reader exit %d (EOS expected): %s", rs, slurp(file_of("reader.err")));
    CHECK(lines_of("reader") >= 5, "reader got %d frames", lines_of("reader"));
    CHECK(stats_of(h).writers == 0, "writers still counted");
    mmpool_close(h);
    printf("writer killed: reader EOS %" PRIu64 " ms after the kill\n", now_ms() - t0);
}

/* The attach times of the handles process pid has on the pool, into
 * times (at most cap); returns how many. */
static int attach_times(pid_t pid, uint64_t *times, int cap) {
    mmpool_info info;
    mmpool_handle_info hs[MMPOOL_MAX_HANDLES];
    int rc = mmpool_inspect(pool, &info, NULL, 0, hs, MMPOOL_MAX_HANDLES);
    CHECK(rc == 0, "inspect: %s", mmpool_strerror(rc));
    int n = 0;
    for (int i = 0; i < MMPOOL_MAX_HANDLES && n < cap; i++) {
        if (hs[i].in_use && hs[i].alive && hs[i].pid == (uint64_t)pid) {
            times[n++] = hs[i].open_ns;
        }
    }
    return n;
}

/* Caps events that keep the geometry (the framerate changes, before every
 * buffer): the sink checks the pool again on the handle it has, and keeps
 * its handles (a reopen would leave the pool without this writer for a
 * moment, and end a reader's stream with eos-on-no-writers). */
static void case_recaps(void) {
    mmpool *h = create(SMALL ",framerate=30/1", SMALL_SIZE + TRAILER, 8);
    pid_t writer = run("writer", LIVE_WRITER, "MMPOOL_GST_RECAPS=1");
    await_state(h, 2, 5, 10000);
    uint64_t before[MMPOOL_MAX_HANDLES];
    uint64_t after[MMPOOL_MAX_HANDLES];
    int nb = attach_times(writer, before, MMPOOL_MAX_HANDLES);
    uint64_t seq = stats_of(h).last_seq;
    await_state(h, 2, seq + 10, 10000);
    int na = attach_times(writer, after, MMPOOL_MAX_HANDLES);
    CHECK(nb > 0 && na == nb, "the writer had %d handles, then %d", nb, na);
    for (int i = 0; i < nb; i++) {
        int kept = 0;
        for (int j = 0; j < na; j++) {
            kept |= before[i] == after[j];
        }
        CHECK(kept, "a handle of the writer was re-opened across 10 caps events");
    }
    kill(writer, SIGTERM);
    CHECK(reap(writer, 5000, "the writer") == 4, "writer: %s", slurp(file_of("writer.err")));
    mmpool_close(h);
    printf("recaps: the writer's %d handles kept across 10 caps events\n", nb);
}

/* Downstream holds every buffer it gets and max-held asks for more than
 * the pool's 4 slots: the source still stops at slots-1 (the writer keeps
 * a slot), and when the writer is killed while the source waits for
 * downstream to free one, eos-on-no-writers still ends the stream. */
static void case_held_writer_killed(void) {
    pid_t writer = run("writer", LIVE_WRITER, NULL);
    mmpool *h = await_pool(10000);
    pid_t reader = run("reader",
                       "mmpoolsrc pool=%P max-held=10 eos-on-no-writers=true ! "
                       "fakesink name=log sync=false",
                       "MMPOOL_GST_HOLD=1");
    await_lines("reader", 3, 10000);
    sleep_ms(300);
    int held = lines_of("reader");
    CHECK(held == 3, "the source pushed %d buffers into a 4-slot pool's held downstream, not 3",
          held);
    CHECK(stats_of(h).writers > 0, "the writer stopped writing");
    kill(writer, SIGKILL);
    reap(writer, 3000, "the killed writer");
    uint64_t t0 = now_ms();
    int rs = reap(reader, 3000, "the reader holding slots-1 after the writer died");
    CHECK(rs == 0, "reader exit %d (EOS expected): %s", rs, slurp(file_of("reader.err")));
    mmpool_close(h);
    printf("held, writer killed: the source stopped at %d held and ended %" PRIu64
           " ms after the kill\n",
           held, now_ms() - t0);
}

/* Downstream holds every buffer: the source stops at slots-1 held, the
 * writer goes on in the free slot without waiting or dropping; once the
 * buffers are freed the source goes on with the newest frame. This process
 * writes the first frame and stays a writer until then, since the source
 * ends the stream as soon as no writer is left, held buffers or not. */
static void case_downstream_holds(void) {
    enum { N = 100, SLOTS = 4 };
    static unsigned char first[SMALL_SIZE];
    mmpool *h = create(SMALL ",framerate=100/1", SMALL_SIZE + TRAILER, SLOTS);
    CHECK(mmpool_write(h, first, sizeof first, 0) == 0, "the first frame");
    pid_t reader =
        run("reader", "mmpoolsrc pool=%P eos-on-no-writers=true ! fakesink name=log sync=false",
            "MMPOOL_GST_HOLD=1");
    await_state(h, 2, 0, 10000);
    uint64_t t0 = now_ms();
    pid_t writer = run("writer",
                       "videotestsrc num-buffers=100 ! " SMALL
                       ",framerate=100/1 ! mmpoolsink name=log pool=%P",
                       NULL);
    CHECK(reap(writer, 20000, "the writer") == 0, "writer: %s", slurp(file_of("writer.err")));
    uint64_t took = now_ms() - t0;
    CHECK(took < 5000, "the writer took %" PRIu64 " ms for 1 s of frames: it waited", took);
    CHECK(strstr(slurp(file_of("writer.out")), "dropped 0\n") != NULL, "writer dropped: %s",
          slurp(file_of("writer.out")));
    CHECK(lines_of("writer") == N, "writer logged %d", lines_of("writer"));
    sleep_ms(300);
    int held = lines_of("reader");
    CHECK(held == SLOTS - 1, "the source pushed %d buffers while all were held, not %d", held,
          SLOTS - 1);
    kill(reader, SIGUSR1);
    await_lines("reader", SLOTS, 5000);
    mmpool_close(h);
    int rs = reap(reader, 5000, "the reader after the release and the last writer's close");
    CHECK(rs == 0, "reader exit %d: %s", rs, slurp(file_of("reader.err")));
    static entry r[16];
    int nr = load("reader", r, 16);
    CHECK(nr == SLOTS, "reader got %d buffers in all, not %d", nr, SLOTS);
    CHECK(r[nr - 1].offset == N + 1 && r[nr - 1].discont == 1,
          "after the release: seq %" PRIu64 " discont %d, not the newest (%d) marked discont",
          r[nr - 1].offset, r[nr - 1].discont, N + 1);
    printf("downstream holds: source stopped at %d held, writer wrote %d frames in %" PRIu64
           " ms with none dropped, then seq %d\n",
           held, N, took, N + 1);
}

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    {"fifo_roundtrip", case_fifo_roundtrip},
    {"zero_copy", case_zero_copy},
    {"python_writer", case_python_writer},
    {"c_reader", case_c_reader},
    {"caps_mismatch", case_caps_mismatch},
    {"pool_removed", case_pool_removed},
    {"writer_killed", case_writer_killed},
    {"downstream_holds", case_downstream_holds},
    {"dropped_loans", case_dropped_loans},
    {"idle_source", case_idle_source},
    {"other_caps", case_other_caps},
    {"kept_copy", case_kept_copy},
    {"pool_shrunk", case_pool_shrunk},
    {"stop_blocked", case_stop_blocked},
    {"drop_pace", case_drop_pace},
    {"hostile_writer", case_hostile_writer},
    {"packed_rows", case_packed_rows},
    {"held_writer_killed", case_held_writer_killed},
    {"recaps", case_recaps},
    {"spin_window", case_spin_window},
};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gst_test CASE\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            snprintf(pool, sizeof pool, "mmpool-gst-%ld-%s", (long)getpid(), argv[1]);
            const char *base = getenv("MMPOOL_GST_DIR");
            snprintf(dir, sizeof dir, "%s/gst-%s", base != NULL ? base : "/tmp", argv[1]);
            char cmd[600];
            snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
            CHECK(system(cmd) == 0, "cannot make %s", dir);
            cases[i].run();
            cleanup();
            return 0;
        }
    }
    fprintf(stderr, "gst_test: no case %s\n", argv[1]);
    return 2;
}
