/* The buffer pool mmpoolsink offers upstream: each buffer is a write loan
 * on a slot of the pool, so upstream renders its frame in place. */
#ifndef MMPOOL_GST_SLOTPOOL_H
#define MMPOOL_GST_SLOTPOOL_H

#include "format.h"

#include <gst/gst.h>
#include <mmpool.h>

G_BEGIN_DECLS

#define GST_TYPE_MMPOOL_SLOT_POOL (gst_mmpool_slot_pool_get_type())
G_DECLARE_FINAL_TYPE(GstMmpoolSlotPool, gst_mmpool_slot_pool, GST, MMPOOL_SLOT_POOL, GstBufferPool)

/* A pool of up to `loans` buffers on the mmpool pool at path, each of
 * frame_size bytes. One mmpool handle per buffer, since a handle holds one
 * write loan: they are opened when the pool is activated and closed when it
 * is stopped. The pool they open must still be the one the sink checked,
 * with slots of `capacity` bytes and this format string (another process
 * may have re-created it meanwhile): else activating fails. An acquire
 * waits up to timeout_ms for a free slot; without one it hands out a
 * buffer of plain memory, which the sink then copies (or drops). A flush
 * (or deactivating the pool) interrupts the acquires waiting for a slot,
 * which then return GST_FLOW_FLUSHING. */
GstBufferPool *mmp__gst_slot_pool_new(const char *path, const char *format, guint64 capacity,
                                      guint loans, gsize frame_size, int timeout_ms);

/* What mmp__gst_slot_pool_commit() did with a buffer. */
typedef enum {
    MMP__GST_COMMITTED,  /* published in place */
    MMP__GST_NOT_A_LOAN, /* not one of the pool's loans (or its memory was
                            replaced): the caller copies it */
    MMP__GST_NO_SLOT     /* the stand-in for a slot that did not come free
                            within the timeout, which was waited once
                            already: the caller copies it only if a slot
                            is free now */
} mmp__gst_commit_result;

/* Publishes buf in place if it is a live loan of pool: its trailer
 * (when the slot has room for it) and the commit. *rc is 0 or the
 * mmpool error of the commit, which ends the loan all the same. */
mmp__gst_commit_result mmp__gst_slot_pool_commit(GstBufferPool *pool, GstBuffer *buf,
                                                 const mmp__gst_times *times, int *rc);

G_END_DECLS

#endif /* MMPOOL_GST_SLOTPOOL_H */
