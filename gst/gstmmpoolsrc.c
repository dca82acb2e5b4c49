/* mmpoolsrc: each buffer wraps a read loan on the pool, released when the
 * buffer is freed, from whichever thread frees it. The handle is shared by
 * the streaming thread and those threads, so every call on it is made
 * under one mutex (but mmpool_last_seq(), which any thread may call at
 * any time), which is never held while waiting for a frame: the wait is a
 * poll() on the handle's event descriptor, which unlock() ends. */
#include "gstmmpoolsrc.h"

#include "format.h"
#include "pace.h"

#include <errno.h>
#include <mmpool.h>
#include <stdatomic.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(mmpoolsrc_debug);
#define GST_CAT_DEFAULT mmpoolsrc_debug

/* How often a wait for a frame looks at the writers and the timeout. */
#define CHECK_MS 100

/* Most microseconds of the spin property: a window as long as the
 * longest interval the pace is learnt from (1 s). */
#define SPIN_MAX_US ((guint)(MMP__GST_PACE_MAX_NS / 1000))

/* In the spin window, one poll() of the event descriptor per this many
 * looks at the newest seq (a few microseconds apart). */
#define WATCH_POLL 32

enum {
    PROP_0,
    PROP_POOL,
    PROP_MODE,
    PROP_TIMEOUT,
    PROP_EOS_NO_WRITERS,
    PROP_MAX_HELD,
    PROP_SPIN,
    PROP_DROPPED,
    PROP_REJECTED,
    PROP_CAUGHT
};

/* The handle and what the loans share; freed with the last reference
 * (the element's, or that of the last buffer downstream still holds). */
typedef struct shared {
    gint refs;
    GMutex lock; /* every call on handle, held and flushing */
    GCond released;
    mmpool *handle;
    guint held; /* loans behind buffers not yet freed */
    gboolean flushing;
} shared;

typedef struct loan {
    shared *sh;
    mmpool_view view;
} loan;

struct _GstMmpoolSrc {
    GstPushSrc parent;
    /* properties */
    gchar *path;
    guint mode;
    guint timeout_ms;
    gboolean eos_no_writers;
    guint max_held;
    guint spin_us;
    /* the stream */
    shared *sh;
    GstPoll *poll;
    GstPollFD pfd;
    GstCaps *caps; /* under the object lock: get_caps runs on any thread */
    gsize frame_size;
    guint limit; /* loans at most: max_held, or slots - 1 */
    gboolean had_writer;
    gboolean gap; /* a frame was left out since the last buffer pushed */
    /* The spin window (streaming thread only), in mmpool_now_ns() ns: the
     * writer's pace and how late a sleep until the window ends (a moving
     * average). */
    mmp__gst_pace pace;
    gint64 late_ns;
    gint64 checked_us; /* when check_end last looked (g_get_monotonic_time) */
    /* Counted by the streaming thread, read by get_property from any
     * thread: atomic, relaxed (counters, ordering nothing else). */
    atomic_uint_fast64_t dropped;
    atomic_uint_fast64_t rejected;
    atomic_uint_fast64_t caught; /* frames found while watching, not woken for */
};

G_DEFINE_TYPE(GstMmpoolSrc, gst_mmpool_src, GST_TYPE_PUSH_SRC)

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType gst_mmpool_src_mode_get_type(void) {
    static GType type = 0;
    static const GEnumValue modes[] = {
        {MMPOOL_READ_LATEST, "The newest frame, skipping older unread ones", "latest"},
        {MMPOOL_READ_FIFO, "Every frame still in the pool, in order", "fifo"},
        {0, NULL, NULL}};
    if (g_once_init_enter(&type)) {
        g_once_init_leave(&type, g_enum_register_static("GstMmpoolSrcMode", modes));
    }
    return type;
}

static void shared_unref(shared *sh) {
    if (!g_atomic_int_dec_and_test(&sh->refs)) {
        return;
    }
    mmpool_close(sh->handle);
    g_mutex_clear(&sh->lock);
    g_cond_clear(&sh->released);
    g_free(sh);
}

/* A buffer's memory is freed: its slot goes back to the writer. */
static void loan_free(gpointer data) {
    loan *l = data;
    shared *sh = l->sh;
    g_mutex_lock(&sh->lock);
    mmpool_read_release(sh->handle, &l->view);
    sh->held--;
    g_cond_broadcast(&sh->released);
    g_mutex_unlock(&sh->lock);
    shared_unref(sh);
    g_free(l);
}

static gboolean src_start(GstBaseSrc *bs) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(bs);
    if (self->path == NULL || self->path[0] == '\0') {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("no pool name (property pool)"), (NULL));
        return FALSE;
    }
    mmpool_options opts = {.read_mode = self->mode};
    mmpool *h = NULL;
    int rc = mmpool_open(&h, self->path, &opts);
    mmpool_stats st;
    intptr_t fd = -1;
    if (rc == 0) {
        rc = mmpool_stat(h, &st);
    }
    if (rc == 0) {
        rc = mmpool_event_handle(h, &fd);
    }
    if (rc != 0) {
        mmpool_close(h);
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("cannot open pool %s", self->path),
                          ("mmpool: %s", mmpool_strerror(rc)));
        return FALSE;
    }
    gsize frame_size = 0;
    gchar *why = NULL;
    GstCaps *caps = mmp__gst_caps_from_format(st.format, &frame_size, &why);
    if (caps == NULL) {
        mmpool_close(h);
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("pool %s has format \"%s\": %s", self->path, st.format, why), (NULL));
        g_free(why);
        return FALSE;
    }
    GST_OBJECT_LOCK(self);
    self->caps = caps;
    GST_OBJECT_UNLOCK(self);
    self->frame_size = frame_size;
    /* Never every slot: the writer needs one that no reader holds. */
    guint most = MAX(st.slot_count - 1, 1u);
    self->limit = self->max_held > 0 ? MIN(self->max_held, most) : most;
    self->had_writer = st.writers > 0;
    self->gap = FALSE;
    mmp__gst_pace_forget(&self->pace, 0);
    self->late_ns = 0;
    self->checked_us = 0;
    self->sh = g_new0(shared, 1);
    self->sh->refs = 1;
    g_mutex_init(&self->sh->lock);
    g_cond_init(&self->sh->released);
    self->sh->handle = h;
    gst_poll_fd_init(&self->pfd);
    self->pfd.fd = (int)fd;
    gst_poll_add_fd(self->poll, &self->pfd);
    gst_poll_fd_ctl_read(self->poll, &self->pfd, TRUE);
    GST_INFO_OBJECT(self, "pool %s: \"%s\", %u slots, up to %u held", self->path, st.format,
                    st.slot_count, self->limit);
    return TRUE;
}

static gboolean src_stop(GstBaseSrc *bs) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(bs);
    if (self->sh != NULL) {
        gst_poll_remove_fd(self->poll, &self->pfd);
        shared_unref(self->sh);
        self->sh = NULL;
    }
    GST_OBJECT_LOCK(self);
    gst_clear_caps(&self->caps);
    GST_OBJECT_UNLOCK(self);
    return TRUE;
}

static GstCaps *src_get_caps(GstBaseSrc *bs, GstCaps *filter) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(bs);
    GST_OBJECT_LOCK(self);
    GstCaps *caps = self->caps != NULL ? gst_caps_ref(self->caps) : NULL;
    GST_OBJECT_UNLOCK(self);
    if (caps == NULL) {
        caps = gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(bs));
    }
    if (filter != NULL) {
        GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = both;
    }
    return caps;
}

static gboolean src_unlock(GstBaseSrc *bs) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(bs);
    gst_poll_set_flushing(self->poll, TRUE);
    if (self->sh != NULL) {
        g_mutex_lock(&self->sh->lock);
        self->sh->flushing = TRUE;
        g_cond_broadcast(&self->sh->released);
        g_mutex_unlock(&self->sh->lock);
    }
    return TRUE;
}

static gboolean src_unlock_stop(GstBaseSrc *bs) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(bs);
    gst_poll_set_flushing(self->poll, FALSE);
    if (self->sh != NULL) {
        g_mutex_lock(&self->sh->lock);
        self->sh->flushing = FALSE;
        g_mutex_unlock(&self->sh->lock);
    }
    return TRUE;
}

/* Why a wait ended: WAIT_WATCH asks for another look at once (the spin
 * window is open). */
typedef enum { WAIT_AGAIN, WAIT_WATCH, WAIT_ROOM, WAIT_EOS, WAIT_FLUSHING } wait_result;

/* Whether the stream ends while waiting, for a frame or for room: every
 * writer gone (eos-on-no-writers) or no frame for timeout ms since since_us. */
static wait_result check_end(GstMmpoolSrc *self, gint64 since_us) {
    self->checked_us = g_get_monotonic_time();
    if (self->eos_no_writers) {
        mmpool_stats st;
        g_mutex_lock(&self->sh->lock);
        int rc = mmpool_stat(self->sh->handle, &st);
        g_mutex_unlock(&self->sh->lock);
        if (rc == 0 && st.writers > 0) {
            self->had_writer = TRUE;
        } else if (rc == 0 && self->had_writer) {
            GST_INFO_OBJECT(self, "the pool's writers are gone: end of stream");
            return WAIT_EOS;
        }
    }
    if (self->timeout_ms > 0 &&
        g_get_monotonic_time() - since_us >= (gint64)self->timeout_ms * 1000) {
        GST_INFO_OBJECT(self, "no frame in %u ms: end of stream", self->timeout_ms);
        return WAIT_EOS;
    }
    return WAIT_AGAIN;
}

/* Waits until downstream holds fewer than limit loans, so that the writer
 * always finds a slot that this source does not hold: WAIT_ROOM. Looks at
 * the writers and the timeout every CHECK_MS meanwhile, since downstream
 * may hold its buffers for ever (WAIT_EOS); WAIT_FLUSHING on unlock. */
static wait_result wait_for_room(GstMmpoolSrc *self, gint64 since_us) {
    shared *sh = self->sh;
    for (;;) {
        g_mutex_lock(&sh->lock);
        gint64 until = g_get_monotonic_time() + CHECK_MS * G_TIME_SPAN_MILLISECOND;
        while (sh->held >= self->limit && !sh->flushing &&
               g_cond_wait_until(&sh->released, &sh->lock, until)) {
        }
        gboolean room = sh->held < self->limit;
        gboolean flushing = sh->flushing;
        g_mutex_unlock(&sh->lock);
        if (flushing) {
            return WAIT_FLUSHING;
        }
        if (room) {
            return WAIT_ROOM;
        }
        if (check_end(self, since_us) == WAIT_EOS) {
            return WAIT_EOS;
        }
    }
}

/* One pause of a spinning CPU: lets its sibling thread run and saves
 * power, without giving up the CPU. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Moves x a quarter of the way to y. */
static gint64 ease(gint64 x, gint64 y) {
    return x + (y - x) / 4;
}

/* Learns the writer's pace from a frame read (pace.h), with the spin
 * property set: without it there is no window to place, and no clock
 * read per frame. */
static void learn_pace(GstMmpoolSrc *self, const mmpool_frame *f, gboolean watching) {
    if (self->spin_us == 0) {
        return;
    }
    gint64 err = mmp__gst_pace_learn(&self->pace, f->timestamp_ns, f->dropped, mmpool_now_ns());
    if (err != MMP__GST_PACE_NO_ERR) {
        GST_LOG_OBJECT(self,
                       "frame %" G_GUINT64_FORMAT ": committed %+" G_GINT64_FORMAT
                       " us from when it was due, %s",
                       f->seq, err / 1000, watching ? "caught" : "woken for");
    }
}

/* Makes and frees a buffer like the one wrap() makes: run as a spin window
 * opens, it brings the allocator's free lists and the buffer and memory
 * code back into this CPU's caches, which a sleep on a shared machine
 * leaves cold, so that wrapping the frame caught later costs less. */
static void warm_up(void) {
    static guint8 byte;
    GstBuffer *buf = gst_buffer_new();
    gst_buffer_append_memory(
        buf, gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, &byte, 1, 0, 1, NULL, NULL));
    gst_buffer_unref(buf);
    g_free(g_new0(loan, 1));
}

/* With the spin property set and the writer's pace known, the window is
 * spin microseconds centred on the moment the next frame is due. Sets
 * *open_ns and *close_ns (mmpool_now_ns() time) and returns TRUE, or
 * FALSE without a window. */
static gboolean spin_window(const GstMmpoolSrc *self, guint64 now, guint64 *open_ns,
                            guint64 *close_ns) {
    /* Due at most an interval (SPIN_MAX_US) and a bit after the last
     * commit, which was before now: a window further off is no window. */
    if (self->spin_us == 0 || self->pace.due_ns == 0 ||
        self->pace.due_ns > (gint64)now + 2 * (gint64)SPIN_MAX_US * 1000) {
        return FALSE;
    }
    gint64 half = (gint64)self->spin_us * 500;
    *open_ns = (guint64)MAX(self->pace.due_ns - half, 0);
    *close_ns = (guint64)(self->pace.due_ns + half);
    return TRUE;
}

/* Checks the writers and the timeout, then sleeps until the handle's event
 * descriptor is ready (a frame, an unlink), CHECK_MS at most. Inside the
 * spin window it watches the pool's newest seq, pausing the CPU between
 * looks, and asks for a read as soon as it moves (WAIT_WATCH);
 * before the window it sleeps until the window opens at the latest, less
 * how late such a sleep has been ending (a timer wake-up takes as long as
 * any other). seen: the newest seq, loaded before the read that found
 * nothing. */
static wait_result wait_for_frame(GstMmpoolSrc *self, gint64 since_us, uint64_t seen) {
    guint64 open_ns = 0, close_ns = 0;
    guint64 now = self->spin_us != 0 ? mmpool_now_ns() : 0;
    gboolean window = spin_window(self, now, &open_ns, &close_ns);
    if (window && now + (guint64)self->late_ns >= open_ns && now < close_ns) {
        /* Windows may follow each other without a sleep in between (a
         * window as long as the interval): the end of the stream is
         * looked for as often as when sleeping. */
        if (g_get_monotonic_time() - self->checked_us >= CHECK_MS * G_TIME_SPAN_MILLISECOND &&
            check_end(self, since_us) == WAIT_EOS) {
            return WAIT_EOS;
        }
        /* Watches the newest seq in the pool's header, a load with no
         * system call, so a commit is seen as soon as its cache line
         * reaches this CPU, before the writer has even signalled the event
         * (a read would also look at the pool's path). The seq is a hint
         * from shared memory: what it claims, the read checks. Every
         * WATCH_POLL rounds a poll() with no timeout looks at the event
         * descriptor, which the read that found nothing armed: it ends the
         * watch on a flush. */
        warm_up();
        for (guint round = 1; now < close_ns; round++) {
            uint64_t seq = seen;
            if (mmpool_last_seq(self->sh->handle, &seq) != 0 || seq != seen) {
                return WAIT_WATCH;
            }
            if (round % WATCH_POLL == 0) {
                gint ready = gst_poll_wait(self->poll, 0);
                if (ready < 0 && errno == EBUSY) {
                    return WAIT_FLUSHING;
                }
                if (ready > 0) {
                    return WAIT_WATCH;
                }
            }
            for (int i = 0; i < 8; i++) {
                cpu_relax();
            }
            now = mmpool_now_ns();
        }
        return WAIT_AGAIN;
    }
    if (check_end(self, since_us) == WAIT_EOS) {
        return WAIT_EOS;
    }
    GstClockTime sleep = CHECK_MS * GST_MSECOND;
    guint64 wake_ns = 0;
    if (window && now < open_ns && open_ns - (guint64)self->late_ns - now < sleep) {
        wake_ns = open_ns - (guint64)self->late_ns;
        sleep = wake_ns - now;
    }
    gint ready = gst_poll_wait(self->poll, sleep);
    if (ready < 0 && errno == EBUSY) {
        return WAIT_FLUSHING;
    }
    if (ready == 0 && wake_ns != 0) {
        /* Woke by the clock, for the window: learn how late. */
        gint64 late = (gint64)(mmpool_now_ns() - wake_ns);
        self->late_ns = ease(self->late_ns, CLAMP(late, 0, 1000000));
    }
    return WAIT_AGAIN;
}

/* Sets the buffer's times: the writer's from the trailer, else (a writer
 * that is not mmpoolsink, or do-timestamp) none, which the base class
 * fills with the running time when do-timestamp is set, and otherwise the
 * running time at arrival. */
static void stamp(GstMmpoolSrc *self, GstBuffer *buf, const mmp__gst_times *t) {
    if (GST_CLOCK_TIME_IS_VALID(t->pts) && !gst_base_src_get_do_timestamp(GST_BASE_SRC(self))) {
        GST_BUFFER_PTS(buf) = t->pts;
        GST_BUFFER_DTS(buf) = t->dts;
        GST_BUFFER_DURATION(buf) = t->duration;
        return;
    }
    if (gst_base_src_get_do_timestamp(GST_BASE_SRC(self))) {
        return;
    }
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
    if (clock != NULL) {
        GstClockTime now = gst_clock_get_time(clock);
        GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
        if (now >= base) {
            GST_BUFFER_PTS(buf) = now - base;
        }
        gst_object_unref(clock);
    }
}

/* Wraps a loan in a buffer whose memory is the slot itself; NULL, with
 * the loan released, for a frame whose payload is not the caps' frame
 * size (a writer of another process that does not keep to the caps). */
static GstBuffer *wrap(GstMmpoolSrc *self, mmpool_view *view) {
    mmp__gst_times times;
    gsize size = mmp__gst_trailer_read(view->data, view->frame.len, self->frame_size, &times);
    if (self->frame_size > 0 && size != self->frame_size) {
        GST_WARNING_OBJECT(self,
                           "frame %" G_GUINT64_FORMAT " has %" G_GSIZE_FORMAT
                           " bytes, the caps %" G_GSIZE_FORMAT ": dropped",
                           view->frame.seq, size, self->frame_size);
        atomic_fetch_add_explicit(&self->dropped, view->frame.dropped, memory_order_relaxed);
        g_mutex_lock(&self->sh->lock);
        mmpool_read_release(self->sh->handle, view);
        self->sh->held--;
        g_mutex_unlock(&self->sh->lock);
        atomic_fetch_add_explicit(&self->rejected, 1, memory_order_relaxed);
        self->gap = TRUE;
        return NULL;
    }
    loan *l = g_new0(loan, 1);
    l->view = *view;
    l->sh = self->sh;
    g_atomic_int_inc(&self->sh->refs);
    GstBuffer *buf = gst_buffer_new();
    gst_buffer_append_memory(buf,
                             gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, (gpointer)view->data,
                                                    view->frame.len, 0, size, l, loan_free));
    stamp(self, buf, &times);
    GST_BUFFER_OFFSET(buf) = view->frame.seq;
    if (self->gap) {
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
        self->gap = FALSE;
    }
    if (view->frame.dropped > 0) {
        GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
        atomic_fetch_add_explicit(&self->dropped, view->frame.dropped, memory_order_relaxed);
    }
    return buf;
}

static GstFlowReturn src_create(GstPushSrc *ps, GstBuffer **out) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(ps);
    shared *sh = self->sh;
    gint64 since = g_get_monotonic_time();
    gboolean watching = FALSE; /* the last look was asked for by the spin window */
    for (;;) {
        wait_result room = wait_for_room(self, since);
        if (room == WAIT_FLUSHING) {
            return GST_FLOW_FLUSHING;
        }
        if (room == WAIT_EOS) {
            return GST_FLOW_EOS;
        }
        /* The newest seq before the read: a frame committed after it
         * moves it, however long the read and check_end take. */
        uint64_t seen = 0;
        if (self->spin_us != 0) {
            (void)mmpool_last_seq(sh->handle, &seen); /* retired: the read says so */
        }
        mmpool_view view;
        g_mutex_lock(&sh->lock);
        int rc = mmpool_read_acquire(sh->handle, &view, 0);
        if (rc == 0) {
            sh->held++;
        }
        g_mutex_unlock(&sh->lock);
        wait_result w = WAIT_AGAIN;
        switch (rc) {
        case 0:
            self->had_writer = TRUE;
            learn_pace(self, &view.frame, watching);
            *out = wrap(self, &view);
            if (*out != NULL) {
                if (watching) {
                    atomic_fetch_add_explicit(&self->caught, 1, memory_order_relaxed);
                }
                return GST_FLOW_OK;
            }
            break;
        case MMPOOL_EAGAIN:
            w = wait_for_frame(self, since, seen);
            break;
        case MMPOOL_ESTALE:
            GST_INFO_OBJECT(self, "pool %s was removed: end of stream", self->path);
            return GST_FLOW_EOS;
        case MMPOOL_EFORMAT:
            GST_WARNING_OBJECT(self, "a damaged frame skipped");
            break;
        default:
            GST_ELEMENT_ERROR(self, RESOURCE, READ, ("cannot read pool %s", self->path),
                              ("mmpool: %s (%s)", mmpool_strerror(rc), mmpool_err_name(rc)));
            return GST_FLOW_ERROR;
        }
        if (w == WAIT_EOS) {
            return GST_FLOW_EOS;
        }
        if (w == WAIT_FLUSHING) {
            return GST_FLOW_FLUSHING;
        }
        watching = w == WAIT_WATCH;
    }
}

static void src_set_property(GObject *obj, guint id, const GValue *value, GParamSpec *pspec) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(obj);
    switch (id) {
    case PROP_POOL:
        g_free(self->path);
        self->path = g_value_dup_string(value);
        break;
    case PROP_MODE:
        self->mode = (guint)g_value_get_enum(value);
        break;
    case PROP_TIMEOUT:
        self->timeout_ms = g_value_get_uint(value);
        break;
    case PROP_EOS_NO_WRITERS:
        self->eos_no_writers = g_value_get_boolean(value);
        break;
    case PROP_MAX_HELD:
        self->max_held = g_value_get_uint(value);
        break;
    case PROP_SPIN:
        self->spin_us = g_value_get_uint(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
    }
}

static void src_get_property(GObject *obj, guint id, GValue *value, GParamSpec *pspec) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(obj);
    switch (id) {
    case PROP_POOL:
        g_value_set_string(value, self->path);
        break;
    case PROP_MODE:
        g_value_set_enum(value, (gint)self->mode);
        break;
    case PROP_TIMEOUT:
        g_value_set_uint(value, self->timeout_ms);
        break;
    case PROP_EOS_NO_WRITERS:
        g_value_set_boolean(value, self->eos_no_writers);
        break;
    case PROP_MAX_HELD:
        g_value_set_uint(value, self->max_held);
        break;
    case PROP_SPIN:
        g_value_set_uint(value, self->spin_us);
        break;
    case PROP_DROPPED:
        g_value_set_uint64(value, atomic_load_explicit(&self->dropped, memory_order_relaxed));
        break;
    case PROP_REJECTED:
        g_value_set_uint64(value, atomic_load_explicit(&self->rejected, memory_order_relaxed));
        break;
    case PROP_CAUGHT:
        g_value_set_uint64(value, atomic_load_explicit(&self->caught, memory_order_relaxed));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
    }
}

static void src_finalize(GObject *obj) {
    GstMmpoolSrc *self = GST_MMPOOL_SRC(obj);
    g_free(self->path);
    gst_poll_free(self->poll);
    G_OBJECT_CLASS(gst_mmpool_src_parent_class)->finalize(obj);
}

static void gst_mmpool_src_init(GstMmpoolSrc *self) {
    self->mode = MMPOOL_READ_LATEST;
    self->poll = gst_poll_new(TRUE);
    gst_base_src_set_live(GST_BASE_SRC(self), TRUE);
    gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_mmpool_src_class_init(GstMmpoolSrcClass *klass) {
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS(klass);
    GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS(klass);
    GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

    gobject_class->set_property = src_set_property;
    gobject_class->get_property = src_get_property;
    gobject_class->finalize = src_finalize;
    g_object_class_install_property(
        gobject_class, PROP_POOL,
        g_param_spec_string("pool", "Pool",
                            "Pool name (in /dev/shm) or path, as mmpool_open() takes it; the "
                            "caps come from its format string",
                            NULL, rw));
    g_object_class_install_property(
        gobject_class, PROP_MODE,
        g_param_spec_enum("mode", "Mode", "Which frame each buffer takes", GST_TYPE_MMPOOL_SRC_MODE,
                          MMPOOL_READ_LATEST, rw));
    g_object_class_install_property(
        gobject_class, PROP_TIMEOUT,
        g_param_spec_uint("timeout", "Timeout",
                          "End the stream (EOS) after this many milliseconds without a "
                          "frame; 0 = wait for ever",
                          0, G_MAXUINT, 0, rw));
    g_object_class_install_property(
        gobject_class, PROP_EOS_NO_WRITERS,
        g_param_spec_boolean("eos-on-no-writers", "EOS on no writers",
                             "End the stream (EOS) once the pool has had a writer and none is "
                             "left (every writer closed or died); a removed pool always ends it",
                             FALSE, rw));
    g_object_class_install_property(
        gobject_class, PROP_MAX_HELD,
        g_param_spec_uint("max-held", "Max held",
                          "Buffers downstream may hold at once, each holding its slot; the "
                          "source waits for one to be freed beyond that. 0 = slots-1, so the "
                          "writer always has a slot",
                          0, MMPOOL_MAX_SLOTS, 0, rw));
    g_object_class_install_property(
        gobject_class, PROP_SPIN,
        g_param_spec_uint("spin", "Spin",
                          "Microseconds to watch the pool, instead of sleeping, around the "
                          "moment the next frame is due (learned from the frames' commit "
                          "times): a paced writer's frames then arrive without a kernel "
                          "wake-up, for up to about this much CPU time per frame. 0 = always "
                          "sleep",
                          0, SPIN_MAX_US, 0, rw));
    g_object_class_install_property(
        gobject_class, PROP_DROPPED,
        g_param_spec_uint64("dropped", "Dropped",
                            "Frames the pool published that this source never pushed "
                            "(overwritten, or skipped in latest mode)",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_REJECTED,
        g_param_spec_uint64("rejected", "Rejected",
                            "Frames dropped because their payload is not the caps' frame size "
                            "(a writer that does not keep to the pool's format)",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_CAUGHT,
        g_param_spec_uint64("caught", "Caught",
                            "Frames pushed that were found while watching in the spin window, "
                            "without a wake-up from the kernel",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(
        element_class, "mmpool source", "Source/Video",
        "Pushes the frames of an mmpool shared-memory pool, each buffer a zero-copy read loan",
        "mmpool maintainers <maintainers@mmpool.invalid>");
    gst_element_class_add_static_pad_template(element_class, &src_template);

    base_class->start = src_start;
    base_class->stop = src_stop;
    base_class->get_caps = src_get_caps;
    base_class->unlock = src_unlock;
    base_class->unlock_stop = src_unlock_stop;
    push_class->create = src_create;
    GST_DEBUG_CATEGORY_INIT(mmpoolsrc_debug, "mmpoolsrc", 0, "mmpool source");
}
