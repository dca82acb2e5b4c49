/* When a writer's next frame is due, learnt from the commit times of the
 * frames read: mmpoolsrc's spin window opens around that moment
 * (docs/gstreamer.md, "Spin window"). Pure C, no GStreamer: the tests
 * feed it commit times directly. */
#ifndef MMPOOL_GST_PACE_H
#define MMPOOL_GST_PACE_H

#include <stdint.h>

/* How many of the writer's last intervals the prediction takes the
 * median of. */
#define MMP__GST_PACE_SPAN 5

/* The longest interval learnt from (1 s): a frame further from the last
 * one, per step, restarts the learning. */
#define MMP__GST_PACE_MAX_NS INT64_C(1000000000)

/* Returned by mmp__gst_pace_learn() for a frame that was not measured
 * against a due moment. */
#define MMP__GST_PACE_NO_ERR INT64_MIN

/* Zeroed, or after mmp__gst_pace_forget(p, 0): nothing learnt. Times are
 * mmpool_now_ns() nanoseconds. */
typedef struct mmp__gst_pace {
    int64_t last_ns;                       /* the last frame's commit time, 0: none */
    int64_t intervals[MMP__GST_PACE_SPAN]; /* a ring of the last n intervals */
    unsigned n;                            /* intervals held, at most SPAN */
    unsigned next;                         /* where the next interval goes */
    int64_t due_ns;                        /* when the next frame is due, 0: not known */
    int64_t step_ns;                       /* the interval due_ns was predicted with */
} mmp__gst_pace;

/* Forgets every interval; last_ns (0: none) is the commit time the next
 * interval is measured from. */
void mmp__gst_pace_forget(mmp__gst_pace *p, int64_t last_ns);

/* Learns from a frame committed at commit_ns after `dropped` frames this
 * reader never saw, read at now_ns: the next frame is due the median of
 * the last MMP__GST_PACE_SPAN intervals after commit_ns. A commit time
 * that is 0, later than now_ns, not after the last one, or more than
 * MMP__GST_PACE_MAX_NS per step after it comes from a writer whose clock
 * or pace cannot be followed (or from a hostile one): it teaches nothing
 * and restarts the learning. Returns how far the frame came after the
 * moment it was due (negative: before; after `dropped` frames, the moment
 * as many intervals later), or MMP__GST_PACE_NO_ERR when no moment was
 * due or the commit time was refused. */
int64_t mmp__gst_pace_learn(mmp__gst_pace *p, uint64_t commit_ns, uint64_t dropped,
                            uint64_t now_ns);

#endif
