/* mmpoolsink's buffer pool (slotpool.h). The slot behind a buffer is
 * borrowed when the buffer is acquired and, if the buffer is freed without
 * reaching the sink (a flush, a stop, an element that drops it), the loan
 * is aborted then, so no slot stays held. The memory wrapping a slot is
 * NO_SHARE, so a copy of the buffer copies the bytes rather than pointing
 * at a slot the writer reuses; and it keeps the handles (their mapping)
 * open until it is freed, should it outlive its buffer and the pool. */
#include "slotpool.h"

#include <string.h>

/* Most loans, so the handles of one sink stay well under
 * MMPOOL_MAX_HANDLES (readers need entries too). */
#define MAX_LOANS 8

/* The pool's handles, shared by the pool (from start to stop) and by every
 * memory wrapping one of their slots; closed with the last reference. */
typedef struct handles {
    gint refs;
    guint n;
    mmpool *h[MAX_LOANS];
} handles;

typedef struct loan {
    mmpool *handle; /* handles->h[i] of the pool's, while started */
    guint8 *data;   /* the slot, while loaned */
    size_t cap;
    gboolean loaned;
    gboolean acquiring; /* in mmpool_write_acquire(): under the pool's lock */
} loan;

struct _GstMmpoolSlotPool {
    GstBufferPool parent;
    gchar *path;
    gchar *format;    /* the checked pool's */
    guint64 capacity; /* the checked pool's slot capacity */
    gsize frame_size;
    int timeout_ms;
    guint n;
    handles *open; /* from start to stop */
    loan loans[MAX_LOANS];
    GMutex lock; /* guards free_mask, flushing and each loan's acquiring */
    GCond cond;
    guint32 free_mask; /* bit i: loans[i] is not behind a buffer */
    gboolean flushing;
};

G_DEFINE_TYPE(GstMmpoolSlotPool, gst_mmpool_slot_pool, GST_TYPE_BUFFER_POOL)

/* Which entry of loans a buffer stands for: index + 1, 0 for none. */
static GQuark loan_quark(void) {
    return g_quark_from_static_string("mmpool-loan");
}

/* Set on the buffer of plain memory handed out when no slot came free
 * within the timeout: the sink must not wait a second time for it. */
static GQuark no_slot_quark(void) {
    return g_quark_from_static_string("mmpool-no-slot");
}

static guint loan_of(GstBuffer *buf) {
    return GPOINTER_TO_UINT(gst_mini_object_get_qdata(GST_MINI_OBJECT(buf), loan_quark()));
}

static void handles_unref(gpointer data) {
    handles *hs = data;
    if (!g_atomic_int_dec_and_test(&hs->refs)) {
        return;
    }
    for (guint i = 0; i < hs->n; i++) {
        mmpool_close(hs->h[i]);
    }
    g_free(hs);
}

/* The handles open the pool by path: it must still be the pool the sink
 * checked, or upstream would write a frame past a smaller slot. */
static gboolean same_pool(GstMmpoolSlotPool *self, const mmpool *h) {
    mmpool_stats st;
    int rc = mmpool_stat(h, &st);
    if (rc != 0) {
        GST_WARNING_OBJECT(self, "cannot read %s: %s", self->path, mmpool_strerror(rc));
        return FALSE;
    }
    if (st.slot_capacity != self->capacity || strcmp(st.format, self->format) != 0) {
        GST_WARNING_OBJECT(self,
                           "pool %s was re-created: \"%s\" in slots of %" G_GUINT64_FORMAT
                           " bytes, not \"%s\" in slots of %" G_GUINT64_FORMAT,
                           self->path, st.format, st.slot_capacity, self->format, self->capacity);
        return FALSE;
    }
    return TRUE;
}

static gboolean slot_pool_start(GstBufferPool *bp) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    handles *hs = g_new0(handles, 1);
    hs->refs = 1;
    for (; hs->n < self->n; hs->n++) {
        int rc = mmpool_open(&hs->h[hs->n], self->path, NULL);
        if (rc != 0) {
            GST_WARNING_OBJECT(self, "cannot open %s: %s", self->path, mmpool_strerror(rc));
            handles_unref(hs);
            return FALSE;
        }
        if (!same_pool(self, hs->h[hs->n])) {
            hs->n++;
            handles_unref(hs);
            return FALSE;
        }
    }
    self->open = hs;
    for (guint i = 0; i < self->n; i++) {
        self->loans[i].handle = hs->h[i];
    }
    g_mutex_lock(&self->lock);
    self->free_mask = (guint32)((1u << self->n) - 1u);
    g_mutex_unlock(&self->lock);
    return TRUE;
}

/* Called once every buffer is back: no loan is left. The handles close
 * now, or with the last memory still wrapping a slot. */
static gboolean slot_pool_stop(GstBufferPool *bp) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    for (guint i = 0; i < self->n; i++) {
        self->loans[i].handle = NULL;
    }
    if (self->open != NULL) {
        handles_unref(self->open);
        self->open = NULL;
    }
    return TRUE;
}

/* Takes a free entry, waiting for one unless params say not to, and
 * marks it acquiring (in the same hold of the lock as the flushing check,
 * so that a flush either sees it acquiring or is seen here). */
static GstFlowReturn take_entry(GstMmpoolSlotPool *self, GstBufferPoolAcquireParams *params,
                                guint *index) {
    GstFlowReturn ret = GST_FLOW_OK;
    g_mutex_lock(&self->lock);
    while (self->free_mask == 0 && !self->flushing) {
        if (params != NULL && (params->flags & GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT)) {
            g_mutex_unlock(&self->lock);
            return GST_FLOW_EOS; /* what a pool says for "none now" */
        }
        g_cond_wait(&self->cond, &self->lock);
    }
    if (self->flushing) {
        ret = GST_FLOW_FLUSHING;
    } else {
        *index = (guint)g_bit_nth_lsf(self->free_mask, -1);
        self->free_mask &= ~(1u << *index);
        self->loans[*index].acquiring = TRUE;
    }
    g_mutex_unlock(&self->lock);
    return ret;
}

/* Ends entry index's acquire; TRUE if the pool is flushing. */
static gboolean acquired(GstMmpoolSlotPool *self, guint index) {
    g_mutex_lock(&self->lock);
    self->loans[index].acquiring = FALSE;
    gboolean flushing = self->flushing;
    g_mutex_unlock(&self->lock);
    return flushing;
}

static gboolean is_flushing(GstMmpoolSlotPool *self) {
    g_mutex_lock(&self->lock);
    gboolean flushing = self->flushing;
    g_mutex_unlock(&self->lock);
    return flushing;
}

static void give_back(GstMmpoolSlotPool *self, guint index) {
    g_mutex_lock(&self->lock);
    self->free_mask |= 1u << index;
    g_cond_signal(&self->cond);
    g_mutex_unlock(&self->lock);
}

static GstFlowReturn slot_pool_acquire(GstBufferPool *bp, GstBuffer **out,
                                       GstBufferPoolAcquireParams *params) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    guint i = 0;
    GstFlowReturn ret = take_entry(self, params, &i);
    if (ret != GST_FLOW_OK) {
        return ret;
    }
    /* Only the holder of entry i calls on its handle (acquire, the
     * sink's commit, the release), one after the other: no lock needed. */
    loan *l = &self->loans[i];
    void *data = NULL;
    int rc = mmpool_write_acquire(l->handle, &data, &l->cap, self->timeout_ms);
    /* An interrupt that a flush made after this handle's previous acquire
     * had returned cancels this one: once more, unless flushing now. */
    if (rc == MMPOOL_ECANCELED && !is_flushing(self)) {
        rc = mmpool_write_acquire(l->handle, &data, &l->cap, self->timeout_ms);
    }
    /* A slot won as a flush began goes back unused, as the flush asks
     * (the flush's interrupt, left pending, is handled as above). */
    if (acquired(self, i) && rc == 0) {
        mmpool_write_abort(l->handle);
        rc = MMPOOL_ECANCELED;
    }
    if (rc == MMPOOL_ECANCELED) {
        give_back(self, i);
        return GST_FLOW_FLUSHING;
    }
    if (rc == 0 && l->cap < self->frame_size) {
        /* start() checked the capacity; this check keeps a frame inside
         * its slot whatever happens to the pool. */
        mmpool_write_abort(l->handle);
        rc = MMPOOL_E2BIG;
    }
    if (rc != 0) {
        give_back(self, i);
        GST_DEBUG_OBJECT(self, "no slot (%s): a buffer of plain memory instead",
                         mmpool_err_name(rc));
        *out = gst_buffer_new_allocate(NULL, self->frame_size, NULL);
        if (*out == NULL) {
            return GST_FLOW_ERROR;
        }
        if (rc == MMPOOL_ETIMEDOUT || rc == MMPOOL_EBUSY) {
            gst_mini_object_set_qdata(GST_MINI_OBJECT(*out), no_slot_quark(), GINT_TO_POINTER(1),
                                      NULL);
        }
        return GST_FLOW_OK;
    }
    l->data = data;
    l->loaned = TRUE;
    g_atomic_int_inc(&self->open->refs);
    GstBuffer *buf = gst_buffer_new();
    gst_buffer_append_memory(buf, gst_memory_new_wrapped(GST_MEMORY_FLAG_NO_SHARE, data,
                                                         self->frame_size, 0, self->frame_size,
                                                         self->open, handles_unref));
    gst_mini_object_set_qdata(GST_MINI_OBJECT(buf), loan_quark(), GUINT_TO_POINTER(i + 1), NULL);
    *out = buf;
    return GST_FLOW_OK;
}

/* The buffer is back (its last reference dropped): a loan that was not
 * committed is aborted, and the buffer is freed, since the next loan may
 * be another slot. */
static void slot_pool_release(GstBufferPool *bp, GstBuffer *buf) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    guint index = loan_of(buf);
    if (index > 0) {
        loan *l = &self->loans[index - 1];
        if (l->loaned) {
            GST_DEBUG_OBJECT(self, "aborting an uncommitted loan");
            mmpool_write_abort(l->handle);
            l->loaned = FALSE;
        }
        l->data = NULL;
        give_back(self, index - 1);
    }
    gst_buffer_unref(buf);
}

static void slot_pool_reset(GstBufferPool *bp, GstBuffer *buf) {
    (void)bp;
    (void)buf; /* freed by release: nothing to reset */
}

/* Ends the waits of acquire: for an entry, and for a slot (an interrupt
 * of the handles mid-acquire; mmpool_interrupt may be called from any
 * thread at any time, and the handles stay open until stop, which comes
 * after every acquire has returned). */
static void slot_pool_flush_start(GstBufferPool *bp) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    g_mutex_lock(&self->lock);
    self->flushing = TRUE;
    for (guint i = 0; i < self->n; i++) {
        if (self->loans[i].acquiring) {
            mmpool_interrupt(self->loans[i].handle);
        }
    }
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
}

static void slot_pool_flush_stop(GstBufferPool *bp) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(bp);
    g_mutex_lock(&self->lock);
    self->flushing = FALSE;
    g_mutex_unlock(&self->lock);
}

mmp__gst_commit_result mmp__gst_slot_pool_commit(GstBufferPool *pool, GstBuffer *buf,
                                                 const mmp__gst_times *times, int *rc) {
    *rc = 0;
    if (pool == NULL || buf->pool != pool) {
        return MMP__GST_NOT_A_LOAN;
    }
    if (gst_mini_object_get_qdata(GST_MINI_OBJECT(buf), no_slot_quark()) != NULL) {
        return MMP__GST_NO_SLOT;
    }
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(pool);
    guint index = loan_of(buf);
    if (index == 0 || !self->loans[index - 1].loaned) {
        return MMP__GST_NOT_A_LOAN;
    }
    loan *l = &self->loans[index - 1];
    /* Upstream may have put other memory in the buffer: then the slot
     * does not hold the frame, and the loan is aborted when the buffer
     * comes back. */
    GstMapInfo map;
    if (gst_buffer_n_memory(buf) != 1 || !gst_buffer_map(buf, &map, GST_MAP_READ)) {
        return MMP__GST_NOT_A_LOAN;
    }
    gboolean in_place = map.data == l->data && map.size <= l->cap;
    gsize len = map.size;
    gst_buffer_unmap(buf, &map);
    if (!in_place) {
        return MMP__GST_NOT_A_LOAN;
    }
    if (len + MMP__GST_TRAILER_SIZE <= l->cap) {
        mmp__gst_trailer_write(l->data + len, times);
        len += MMP__GST_TRAILER_SIZE;
    }
    *rc = mmpool_write_commit(l->handle, len);
    /* Every outcome but E2BIG (impossible here: len <= cap) ends the loan. */
    l->loaned = FALSE;
    return MMP__GST_COMMITTED;
}

GstBufferPool *mmp__gst_slot_pool_new(const char *path, const char *format, guint64 capacity,
                                      guint loans, gsize frame_size, int timeout_ms) {
    GstMmpoolSlotPool *self = g_object_new(GST_TYPE_MMPOOL_SLOT_POOL, NULL);
    gst_object_ref_sink(self);
    self->path = g_strdup(path);
    self->format = g_strdup(format);
    self->capacity = capacity;
    self->n = CLAMP(loans, 1, MAX_LOANS);
    self->frame_size = frame_size;
    self->timeout_ms = timeout_ms;
    return GST_BUFFER_POOL(self);
}

static void slot_pool_finalize(GObject *obj) {
    GstMmpoolSlotPool *self = GST_MMPOOL_SLOT_POOL(obj);
    g_free(self->path);
    g_free(self->format);
    g_mutex_clear(&self->lock);
    g_cond_clear(&self->cond);
    G_OBJECT_CLASS(gst_mmpool_slot_pool_parent_class)->finalize(obj);
}

static void gst_mmpool_slot_pool_init(GstMmpoolSlotPool *self) {
    g_mutex_init(&self->lock);
    g_cond_init(&self->cond);
}

static void gst_mmpool_slot_pool_class_init(GstMmpoolSlotPoolClass *klass) {
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS(klass);
    gobject_class->finalize = slot_pool_finalize;
    pool_class->start = slot_pool_start;
    pool_class->stop = slot_pool_stop;
    pool_class->acquire_buffer = slot_pool_acquire;
    pool_class->release_buffer = slot_pool_release;
    pool_class->reset_buffer = slot_pool_reset;
    pool_class->flush_start = slot_pool_flush_start;
    pool_class->flush_stop = slot_pool_flush_stop;
}
