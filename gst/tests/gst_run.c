/* The child side of the GStreamer tests and of bench/gst_compare: runs one
 * pipeline (gst_parse_launch) to its end and logs every buffer that
 * reaches the element named "log" (on its sink pad):
 *
 *   gst_run LOG PIPELINE
 *
 * One line per buffer in LOG: "pts offset checksum in_pool discont
 * latency_ns now_ns" (now_ns: mmpool_now_ns() on arrival). in_pool is 1 when the buffer's memory
 * lies in a mapping of the pool file $MMPOOL_GST_POOL (/proc/self/maps): zero copy. When the
 * element is an mmpoolsink, MMPOOL_GST_STAMP=1 writes mmpool_now_ns() into
 * the first 8 bytes after logging (the sender of a latency measurement); latency_ns
 * is now minus those 8 bytes (meaningful on the receiving side).
 * MMPOOL_GST_HOLD=1 keeps every buffer until SIGUSR1. MMPOOL_GST_NOSUM=1
 * skips the checksum. MMPOOL_GST_KEEP_COPY=1 keeps gst_buffer_copy() of the
 * first buffer past the pipeline's stop, then maps it and prints
 * "copy CHECKSUM" (what a tee or videorate may do with a sink's buffer).
 * MMPOOL_GST_SHRINK=1 re-creates the pool $MMPOOL_GST_POOL with the same
 * format and slots of 4096 bytes when the allocation query reaches the
 * element named "log" (another process re-creating it in between).
 * MMPOOL_GST_RECAPS=1 sends that element a caps event before each buffer,
 * its current caps with the framerate alternating (a renegotiation that
 * keeps the geometry). Exit status: 0 at EOS, 2
 * on an error message (printed as "error: ..." on stderr), 3 when MMPOOL_GST_LIMIT_S (default 60)
 * pass, 4 on SIGTERM or SIGINT; each stops the pipeline first (so that shmsink, for one, removes
 * its shared memory). At the end it prints "ran N ms", "cpu N ms" (its user and system time), the
 * counters (dropped, rejected, copied, caught) of the elements named "log" and "src" (the latter
 * prefixed "src "), and "caps CAPS" of the log element's pad. */
#include "gst_check.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <mmpool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static FILE *log_file;
static GPtrArray *held;
static GMutex held_lock;
static volatile sig_atomic_t release_requested;
static gboolean stamp;
static gboolean hold;
static gboolean nosum;
static gboolean keep_copy;
static gboolean recaps;
static GstBuffer *kept; /* the copy MMPOOL_GST_KEEP_COPY keeps */
static char pool_file[512];

static void on_usr1(int sig) {
    (void)sig;
    release_requested = 1;
}

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    (void)data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    if (recaps) {
        static int n;
        GstCaps *caps = gst_pad_get_current_caps(pad);
        if (caps != NULL) {
            caps = gst_caps_make_writable(caps);
            gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, ++n % 2 ? 15 : 30, 1, NULL);
            gst_pad_send_event(pad, gst_event_new_caps(caps));
            gst_caps_unref(caps);
        }
    }
    guint64 now = mmpool_now_ns();
    if (!gst_buffer_map(buf, &map, GST_MAP_READ)) {
        return GST_PAD_PROBE_OK;
    }
    guint64 sent = 0;
    if (map.size >= 8) {
        memcpy(&sent, map.data, 8);
    }
    guint64 sum = nosum ? 0 : mmp__gst_checksum(map.data, map.size);
    int in_pool = mmp__gst_in_mapping(pool_file, map.data, map.size);
    gst_buffer_unmap(buf, &map);
    fprintf(log_file,
            "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %016" G_GINT64_MODIFIER
            "x %d %d %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
            GST_BUFFER_PTS(buf), GST_BUFFER_OFFSET(buf), sum, in_pool,
            GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT) ? 1 : 0,
            stamp ? 0 : (gint64)(now - sent), now);
    fflush(log_file);
    if (keep_copy && kept == NULL) {
        kept = gst_buffer_copy(buf);
    }
    /* The stamp comes after the sender's own logging (a write to the log
     * file), which is not latency, and before a hold takes a reference
     * (a buffer held twice cannot be mapped for writing). */
    if (stamp && gst_buffer_get_size(buf) >= 8 && gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
        now = mmpool_now_ns();
        memcpy(map.data, &now, 8);
        gst_buffer_unmap(buf, &map);
    }
    if (hold) {
        g_mutex_lock(&held_lock);
        g_ptr_array_add(held, gst_buffer_ref(buf));
        g_mutex_unlock(&held_lock);
    }
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_query(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
    (void)pad;
    (void)data;
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION) {
        return GST_PAD_PROBE_OK;
    }
    const char *name = getenv("MMPOOL_GST_POOL");
    mmpool *h = NULL;
    mmpool_stats st;
    if (mmpool_open(&h, name, NULL) != 0 || mmpool_stat(h, &st) != 0) {
        fprintf(stderr, "shrink: cannot open %s\n", name);
        return GST_PAD_PROBE_REMOVE;
    }
    mmpool_close(h);
    mmpool_unlink(name);
    mmpool_options o = {.slot_capacity = 4096,
                        .slot_count = st.slot_count,
                        .flags = MMPOOL_CREATE | MMPOOL_EXCL,
                        .format = st.format};
    if (mmpool_open(&h, name, &o) != 0) {
        fprintf(stderr, "shrink: cannot re-create %s\n", name);
    }
    /* Kept open to the end, so the pool stays for the test to look at. */
    return GST_PAD_PROBE_REMOVE;
}

/* Prints "PREFIXNAME N" for each counter property the element has. */
static void print_counters(GstElement *element, const char *prefix) {
    static const char *const counters[] = {"dropped", "rejected", "copied", "caught"};
    for (size_t i = 0; i < G_N_ELEMENTS(counters); i++) {
        if (g_object_class_find_property(G_OBJECT_GET_CLASS(element), counters[i]) != NULL) {
            guint64 n = 0;
            g_object_get(element, counters[i], &n, NULL);
            printf("%s%s %" G_GUINT64_FORMAT "\n", prefix, counters[i], n);
        }
    }
}

static gboolean on_tick(gpointer data) {
    (void)data;
    if (release_requested) {
        release_requested = 0;
        g_mutex_lock(&held_lock);
        g_ptr_array_set_size(held, 0);
        g_mutex_unlock(&held_lock);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_limit(gpointer loop) {
    fprintf(stderr, "error: time limit\n");
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int status = 3;

static gboolean on_term(gpointer loop) {
    status = 4;
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_message(GstBus *bus, GstMessage *msg, gpointer loop) {
    (void)bus;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        status = 0;
        g_main_loop_quit(loop);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        GError *err = NULL;
        gchar *dbg = NULL;
        gst_message_parse_error(msg, &err, &dbg);
        fprintf(stderr, "error: %s (%s)\n", err->message, dbg != NULL ? dbg : "");
        g_clear_error(&err);
        g_free(dbg);
        status = 2;
        g_main_loop_quit(loop);
    }
    return TRUE;
}

int main(int argc, char **argv) {
    gst_init(&argc, &argv);
    if (argc != 3) {
        fprintf(stderr, "usage: gst_run LOG PIPELINE\n");
        return 1;
    }
    log_file = fopen(argv[1], "w");
    if (log_file == NULL) {
        perror(argv[1]);
        return 1;
    }
    const char *pool = getenv("MMPOOL_GST_POOL");
    if (pool == NULL || mmpool_resolve_path(pool_file, sizeof pool_file, pool) != 0) {
        pool_file[0] = '\0';
    }
    stamp = g_strcmp0(getenv("MMPOOL_GST_STAMP"), "1") == 0;
    hold = g_strcmp0(getenv("MMPOOL_GST_HOLD"), "1") == 0;
    nosum = g_strcmp0(getenv("MMPOOL_GST_NOSUM"), "1") == 0;
    keep_copy = g_strcmp0(getenv("MMPOOL_GST_KEEP_COPY"), "1") == 0;
    recaps = g_strcmp0(getenv("MMPOOL_GST_RECAPS"), "1") == 0;
    const char *limit = getenv("MMPOOL_GST_LIMIT_S");
    held = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
    signal(SIGUSR1, on_usr1);

    GError *err = NULL;
    GstElement *pipeline = gst_parse_launch(argv[2], &err);
    if (pipeline == NULL || err != NULL) {
        fprintf(stderr, "error: %s\n", err != NULL ? err->message : "no pipeline");
        return 2;
    }
    GstElement *log = gst_bin_get_by_name(GST_BIN(pipeline), "log");
    GstPad *pad = NULL;
    if (log != NULL) {
        pad = gst_element_get_static_pad(log, "sink");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, NULL, NULL);
        if (g_strcmp0(getenv("MMPOOL_GST_SHRINK"), "1") == 0) {
            gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_query, NULL, NULL);
        }
    }
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    GstBus *bus = gst_element_get_bus(pipeline);
    gst_bus_add_watch(bus, on_message, loop);
    g_timeout_add(20, on_tick, NULL);
    g_unix_signal_add(SIGTERM, on_term, loop);
    g_unix_signal_add(SIGINT, on_term, loop);
    /* Milliseconds, not g_timeout_add_seconds(), which fires up to 1 s late. */
    g_timeout_add((limit != NULL ? (guint)atoi(limit) : 60) * 1000u, on_limit, loop);
    guint64 started = mmpool_now_ns();
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        /* The error message on the bus tells why. */
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        if (m != NULL) {
            on_message(bus, m, loop);
            gst_message_unref(m);
        } else {
            fprintf(stderr, "error: cannot start the pipeline\n");
            status = 2;
        }
    } else {
        g_main_loop_run(loop);
    }
    printf("ran %" G_GUINT64_FORMAT " ms\n", (mmpool_now_ns() - started) / 1000000u);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        long us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec +
                  ru.ru_stime.tv_usec;
        printf("cpu %ld ms\n", us / 1000);
    }
    if (log != NULL) {
        print_counters(log, "");
        GstCaps *caps = gst_pad_get_current_caps(pad);
        if (caps != NULL) {
            gchar *s = gst_caps_to_string(caps);
            printf("caps %s\n", s);
            g_free(s);
            gst_caps_unref(caps);
        }
    }
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    if (src != NULL) {
        print_counters(src, "src ");
        gst_object_unref(src);
    }
    fflush(stdout); /* before the stop, which a stuck element may never finish */
    g_mutex_lock(&held_lock);
    g_ptr_array_set_size(held, 0);
    g_mutex_unlock(&held_lock);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    /* Elements of the pipeline may still hold buffers from the source:
     * gone with the pipeline. */
    if (pad != NULL) {
        gst_object_unref(pad);
    }
    if (log != NULL) {
        gst_object_unref(log);
    }
    gst_object_unref(bus);
    gst_object_unref(pipeline);
    g_main_loop_unref(loop);
    g_ptr_array_unref(held);
    if (kept != NULL) {
        /* The pipeline and its pools are gone: the copy must not need them. */
        GstMapInfo map;
        if (gst_buffer_map(kept, &map, GST_MAP_READ)) {
            printf("copy %016" G_GINT64_MODIFIER "x\n", mmp__gst_checksum(map.data, map.size));
            gst_buffer_unmap(kept, &map);
        }
        gst_buffer_unref(kept);
    }
    fclose(log_file);
    fflush(stdout);
    return status;
}
