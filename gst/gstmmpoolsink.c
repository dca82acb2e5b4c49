/* mmpoolsink: creates the pool from the negotiated caps (or checks the one
 * there against them), offers upstream a buffer pool of write loans
 * (slotpool.c) and publishes each buffer as a frame with its timestamps in
 * a trailer (format.h). Buffers from elsewhere are copied into a slot. */
#include "gstmmpoolsink.h"

#include "format.h"
#include "slotpool.h"

#include <mmpool.h>
#include <stdatomic.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(mmpoolsink_debug);
#define GST_CAT_DEFAULT mmpoolsink_debug

#define DEFAULT_SLOTS 4
#define DEFAULT_LOANS 2
#define DEFAULT_TIMEOUT_MS 1000

enum {
    PROP_0,
    PROP_POOL,
    PROP_SLOTS,
    PROP_CREATE,
    PROP_CAPACITY,
    PROP_TIMEOUT,
    PROP_LOANS,
    PROP_DROPPED,
    PROP_COPIED
};

struct _GstMmpoolSink {
    GstBaseSink parent;
    /* properties */
    gchar *path;
    guint slots;
    gboolean create;
    guint64 capacity;
    gint timeout_ms;
    guint loans;
    /* the stream */
    GMutex lock;            /* guards handle against unlock() from another thread */
    mmpool *handle;         /* for the copies, and to check the pool */
    gsize frame_size;       /* payload bytes for raw video, 0 for other caps */
    GstBufferPool *offered; /* the slot pool given upstream, if any */
    gint unlocking;         /* set by unlock() from another thread: atomic */
    /* Counted in render, read by get_property from any thread: atomic,
     * relaxed (a counter, ordering nothing else). */
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t copied;
};

G_DEFINE_TYPE(GstMmpoolSink, gst_mmpool_sink, GST_TYPE_BASE_SINK)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void close_handle(GstMmpoolSink *self) {
    g_mutex_lock(&self->lock);
    mmpool_close(self->handle);
    self->handle = NULL;
    g_mutex_unlock(&self->lock);
}

/* Opens the pool there is, or creates it with capacity bytes a slot. */
static int open_pool(GstMmpoolSink *self, const char *format, guint64 capacity) {
    mmpool *h = NULL;
    int rc = mmpool_open(&h, self->path, NULL);
    if (rc == MMPOOL_ENOENT && self->create) {
        mmpool_options opts = {.slot_capacity = capacity,
                               .slot_count = self->slots,
                               .flags = MMPOOL_CREATE,
                               .format = format};
        rc = mmpool_open(&h, self->path, &opts);
    }
    if (rc == 0) {
        g_mutex_lock(&self->lock);
        self->handle = h;
        g_mutex_unlock(&self->lock);
    }
    return rc;
}

/* The pool there is fits the stream: same caps (framerate aside, which a
 * format string may leave out) and room for the payload. Else an element
 * error naming both geometries. */
static gboolean check_pool(GstMmpoolSink *self, const char *format, gsize need) {
    mmpool_stats st;
    int rc = mmpool_stat(self->handle, &st);
    if (rc != 0) {
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("cannot read pool %s", self->path),
                          ("mmpool_stat: %s", mmpool_strerror(rc)));
        return FALSE;
    }
    gsize have_size = 0;
    gsize want_size = 0;
    gchar *why = NULL;
    GstCaps *have = mmp__gst_caps_from_format(st.format, &have_size, &why);
    if (have == NULL && st.format[0] != '\0') {
        /* A format string the source could not push either: say why. */
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("pool %s has format \"%s\": %s", self->path, st.format, why), (NULL));
        g_free(why);
        return FALSE;
    }
    g_free(why);
    GstCaps *want = mmp__gst_caps_from_format(format, &want_size, NULL);
    gboolean same = have != NULL && want != NULL;
    if (same) {
        gst_structure_remove_field(gst_caps_get_structure(have, 0), "framerate");
        gst_structure_remove_field(gst_caps_get_structure(want, 0), "framerate");
        same = gst_caps_is_equal(have, want);
    }
    gst_clear_caps(&have);
    gst_clear_caps(&want);
    if (!same || st.slot_capacity < need) {
        GST_ELEMENT_ERROR(
            self, RESOURCE, SETTINGS,
            ("pool %s does not fit the stream: it holds \"%s\" in slots of %" G_GUINT64_FORMAT
             " bytes, the stream is \"%s\" and needs %" G_GSIZE_FORMAT " bytes",
             self->path, st.format, st.slot_capacity, format, need),
            (NULL));
        return FALSE;
    }
    return TRUE;
}

static gboolean sink_set_caps(GstBaseSink *bs, GstCaps *caps) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    char format[MMPOOL_FORMAT_MAX + 1];
    gsize frame_size = 0;
    if (self->path == NULL || self->path[0] == '\0') {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("no pool name (property pool)"), (NULL));
        return FALSE;
    }
    if (!mmp__gst_format_from_caps(caps, format, &frame_size)) {
        gchar *text = gst_caps_to_string(caps);
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("caps %s do not fit a %d-byte format string", text, MMPOOL_FORMAT_MAX),
                          (NULL));
        g_free(text);
        return FALSE;
    }
    /* Raw video: the frame and its trailer; other caps: what the
     * capacity property says. */
    guint64 capacity = self->capacity;
    if (capacity == 0 && frame_size > 0) {
        capacity = frame_size + MMP__GST_TRAILER_SIZE;
    }
    if (capacity == 0) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                          ("caps \"%s\" give no frame size: set the capacity property", format),
                          (NULL));
        return FALSE;
    }
    /* New caps on an open pool (a renegotiation) are checked on the handle
     * there is: closing it would leave the pool without this writer for a
     * moment, which ends the stream of a reader with eos-on-no-writers. */
    if (self->handle == NULL) {
        int rc = open_pool(self, format, capacity);
        if (rc != 0) {
            GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("cannot open pool %s", self->path),
                              ("mmpool_open: %s", mmpool_strerror(rc)));
            return FALSE;
        }
    }
    if (!check_pool(self, format, frame_size)) {
        close_handle(self);
        return FALSE;
    }
    GST_INFO_OBJECT(self, "pool %s, format \"%s\", %" G_GSIZE_FORMAT " bytes a frame", self->path,
                    format, frame_size);
    self->frame_size = frame_size;
    return TRUE;
}

/* Raw video: a pool of write loans, so upstream fills slots in place. */
static gboolean sink_propose_allocation(GstBaseSink *bs, GstQuery *query) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    GstCaps *caps = NULL;
    gboolean need_pool = FALSE;
    gst_query_parse_allocation(query, &caps, &need_pool);
    if (self->handle == NULL || self->frame_size == 0 || !need_pool) {
        return TRUE;
    }
    if (self->offered != NULL) {
        gst_buffer_pool_set_active(self->offered, FALSE);
        gst_clear_object(&self->offered);
    }
    /* The pool set_caps() checked: the slot pool's handles must find it. */
    mmpool_stats st;
    if (mmpool_stat(self->handle, &st) != 0) {
        return TRUE;
    }
    GstBufferPool *pool = mmp__gst_slot_pool_new(self->path, st.format, st.slot_capacity,
                                                 self->loans, self->frame_size, self->timeout_ms);
    GstStructure *config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(config, caps, (guint)self->frame_size, 0, self->loans);
    if (!gst_buffer_pool_set_config(pool, config)) {
        gst_object_unref(pool);
        return TRUE;
    }
    gst_query_add_allocation_pool(query, pool, (guint)self->frame_size, 0, self->loans);
    self->offered = pool;
    return TRUE;
}

/* Copies buf into a slot, waiting up to timeout_ms for one: the path for
 * buffers that are not loans. */
static int copy_in(GstMmpoolSink *self, GstBuffer *buf, const mmp__gst_times *times,
                   int timeout_ms) {
    void *data = NULL;
    size_t cap = 0;
    gsize len = gst_buffer_get_size(buf);
    int rc = mmpool_write_acquire(self->handle, &data, &cap, timeout_ms);
    if (rc != 0) {
        return rc;
    }
    if (len > cap) {
        mmpool_write_abort(self->handle);
        return MMPOOL_E2BIG;
    }
    gst_buffer_extract(buf, 0, data, len);
    if (len + MMP__GST_TRAILER_SIZE <= cap) {
        mmp__gst_trailer_write((guint8 *)data + len, times);
        len += MMP__GST_TRAILER_SIZE;
    }
    return mmpool_write_commit(self->handle, len);
}

static GstFlowReturn sink_render(GstBaseSink *bs, GstBuffer *buf) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    mmp__gst_times times = {GST_BUFFER_PTS(buf), GST_BUFFER_DTS(buf), GST_BUFFER_DURATION(buf)};
    int rc = 0;
    mmp__gst_commit_result done = mmp__gst_slot_pool_commit(self->offered, buf, &times, &rc);
    if (done != MMP__GST_COMMITTED) {
        /* A frame that waited the timeout for a slot already is not made
         * to wait a second time: a slot free now, or it is dropped. */
        int timeout_ms = done == MMP__GST_NO_SLOT ? 0 : self->timeout_ms;
        rc = copy_in(self, buf, &times, timeout_ms);
        /* A pending interrupt from an unlock() that found nothing blocked
         * cancels the next wait: once more, unless we are unlocking. */
        if (rc == MMPOOL_ECANCELED && !g_atomic_int_get(&self->unlocking)) {
            rc = copy_in(self, buf, &times, timeout_ms);
        }
        if (rc == 0) {
            atomic_fetch_add_explicit(&self->copied, 1, memory_order_relaxed);
        }
    }
    switch (rc) {
    case 0:
        return GST_FLOW_OK;
    case MMPOOL_EBUSY:
    case MMPOOL_ETIMEDOUT: {
        /* Readers hold every slot: the writer never waits longer than the
         * timeout, it drops the frame. (Counted outside the log macro,
         * which does not evaluate its arguments when logging is off.) */
        guint64 n = atomic_fetch_add_explicit(&self->dropped, 1, memory_order_relaxed) + 1;
        GST_WARNING_OBJECT(self, "no free slot in %d ms: frame dropped (%" G_GUINT64_FORMAT ")",
                           self->timeout_ms, n);
        return GST_FLOW_OK;
    }
    case MMPOOL_ECANCELED:
        return GST_FLOW_FLUSHING;
    case MMPOOL_ESTALE:
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("pool %s was removed", self->path),
                          ("mmpool: %s", mmpool_strerror(rc)));
        return GST_FLOW_ERROR;
    default:
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("cannot write to pool %s", self->path),
                          ("mmpool: %s (%s)", mmpool_strerror(rc), mmpool_err_name(rc)));
        return GST_FLOW_ERROR;
    }
}

static gboolean sink_unlock(GstBaseSink *bs) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    g_mutex_lock(&self->lock);
    g_atomic_int_set(&self->unlocking, TRUE);
    if (self->handle != NULL) {
        mmpool_interrupt(self->handle);
    }
    g_mutex_unlock(&self->lock);
    return TRUE;
}

static gboolean sink_unlock_stop(GstBaseSink *bs) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    g_mutex_lock(&self->lock);
    g_atomic_int_set(&self->unlocking, FALSE);
    g_mutex_unlock(&self->lock);
    return TRUE;
}

/* Loans still out abort when their buffers come back; the slot pool
 * closes its handles after the last one. */
static gboolean sink_stop(GstBaseSink *bs) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(bs);
    if (self->offered != NULL) {
        gst_buffer_pool_set_active(self->offered, FALSE);
        gst_clear_object(&self->offered);
    }
    close_handle(self);
    return TRUE;
}

static void sink_set_property(GObject *obj, guint id, const GValue *value, GParamSpec *pspec) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(obj);
    switch (id) {
    case PROP_POOL:
        g_free(self->path);
        self->path = g_value_dup_string(value);
        break;
    case PROP_SLOTS:
        self->slots = g_value_get_uint(value);
        break;
    case PROP_CREATE:
        self->create = g_value_get_boolean(value);
        break;
    case PROP_CAPACITY:
        self->capacity = g_value_get_uint64(value);
        break;
    case PROP_TIMEOUT:
        self->timeout_ms = g_value_get_int(value);
        break;
    case PROP_LOANS:
        self->loans = g_value_get_uint(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
    }
}

static void sink_get_property(GObject *obj, guint id, GValue *value, GParamSpec *pspec) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(obj);
    switch (id) {
    case PROP_POOL:
        g_value_set_string(value, self->path);
        break;
    case PROP_SLOTS:
        g_value_set_uint(value, self->slots);
        break;
    case PROP_CREATE:
        g_value_set_boolean(value, self->create);
        break;
    case PROP_CAPACITY:
        g_value_set_uint64(value, self->capacity);
        break;
    case PROP_TIMEOUT:
        g_value_set_int(value, self->timeout_ms);
        break;
    case PROP_LOANS:
        g_value_set_uint(value, self->loans);
        break;
    case PROP_DROPPED:
        g_value_set_uint64(value, atomic_load_explicit(&self->dropped, memory_order_relaxed));
        break;
    case PROP_COPIED:
        g_value_set_uint64(value, atomic_load_explicit(&self->copied, memory_order_relaxed));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
    }
}

static void sink_finalize(GObject *obj) {
    GstMmpoolSink *self = GST_MMPOOL_SINK(obj);
    mmpool_close(self->handle);
    g_free(self->path);
    g_mutex_clear(&self->lock);
    G_OBJECT_CLASS(gst_mmpool_sink_parent_class)->finalize(obj);
}

static void gst_mmpool_sink_init(GstMmpoolSink *self) {
    self->slots = DEFAULT_SLOTS;
    self->create = TRUE;
    self->timeout_ms = DEFAULT_TIMEOUT_MS;
    self->loans = DEFAULT_LOANS;
    g_mutex_init(&self->lock);
    /* The last sample would hold a buffer whose memory is a slot that the
     * pool's next frames overwrite: it would show later pixels, and
     * keeping it costs a sample per frame (5 us of the latency). */
    gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(self), FALSE);
}

static void gst_mmpool_sink_class_init(GstMmpoolSinkClass *klass) {
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS(klass);
    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

    gobject_class->set_property = sink_set_property;
    gobject_class->get_property = sink_get_property;
    gobject_class->finalize = sink_finalize;
    g_object_class_install_property(
        gobject_class, PROP_POOL,
        g_param_spec_string("pool", "Pool",
                            "Pool name (in /dev/shm) or path, as mmpool_open() takes it", NULL,
                            rw));
    g_object_class_install_property(
        gobject_class, PROP_SLOTS,
        g_param_spec_uint("slots", "Slots",
                          "Slots of a pool this element creates (readers may hold slots-1 "
                          "frames while the writer goes on)",
                          2, MMPOOL_MAX_SLOTS, DEFAULT_SLOTS, rw));
    g_object_class_install_property(
        gobject_class, PROP_CREATE,
        g_param_spec_boolean("create", "Create",
                             "Create the pool from the negotiated caps when there is none; "
                             "an existing pool is checked against the caps either way",
                             TRUE, rw));
    g_object_class_install_property(
        gobject_class, PROP_CAPACITY,
        g_param_spec_uint64("capacity", "Capacity",
                            "Bytes a slot of a created pool holds: 0 = the raw-video frame "
                            "size plus the 32-byte timestamp trailer; needed for caps that "
                            "are not raw video",
                            0, G_MAXUINT64, 0, rw));
    g_object_class_install_property(
        gobject_class, PROP_TIMEOUT,
        g_param_spec_int("timeout", "Timeout",
                         "Milliseconds a frame waits for a free slot (readers may hold them "
                         "all) before it is dropped; the writer never waits longer",
                         0, G_MAXINT, DEFAULT_TIMEOUT_MS, rw));
    g_object_class_install_property(
        gobject_class, PROP_LOANS,
        g_param_spec_uint("loans", "Loans",
                          "Buffers the pool offered upstream may have out at once, each a "
                          "slot on loan through a handle of its own",
                          1, 8, DEFAULT_LOANS, rw));
    g_object_class_install_property(
        gobject_class, PROP_DROPPED,
        g_param_spec_uint64("dropped", "Dropped",
                            "Frames dropped because no slot came free within timeout", 0,
                            G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_COPIED,
        g_param_spec_uint64("copied", "Copied",
                            "Frames copied into a slot because upstream's buffer was not one of "
                            "this element's slots (upstream ignored its buffer pool); 0 on the "
                            "zero-copy path",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(
        element_class, "mmpool sink", "Sink/Video",
        "Writes frames into an mmpool shared-memory pool, in place when upstream uses its "
        "buffer pool",
        "mmpool maintainers <maintainers@mmpool.invalid>");
    gst_element_class_add_static_pad_template(element_class, &sink_template);

    sink_class->set_caps = sink_set_caps;
    sink_class->propose_allocation = sink_propose_allocation;
    sink_class->render = sink_render;
    sink_class->unlock = sink_unlock;
    sink_class->unlock_stop = sink_unlock_stop;
    sink_class->stop = sink_stop;
    GST_DEBUG_CATEGORY_INIT(mmpoolsink_debug, "mmpoolsink", 0, "mmpool sink");
}
