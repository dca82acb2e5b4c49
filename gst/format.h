/* What mmpoolsink and mmpoolsrc agree on: the pool's format string (caps
 * in at most MMPOOL_FORMAT_MAX bytes, or the older "bgr8 WxH" form) and
 * the timestamp trailer after a frame's payload (docs/gstreamer.md). */
#ifndef MMPOOL_GST_FORMAT_H
#define MMPOOL_GST_FORMAT_H

#include <gst/gst.h>
#include <mmpool.h>

/* The trailer: MMP__GST_TRAILER_SIZE bytes right after the payload,
 * counted in the frame's length. */
#define MMP__GST_TRAILER_SIZE 32
#define MMP__GST_TRAILER_MAGIC "MMPOOLTS"

typedef struct mmp__gst_times {
    GstClockTime pts;
    GstClockTime dts;
    GstClockTime duration;
} mmp__gst_times;

/* Writes into out (MMPOOL_FORMAT_MAX + 1 bytes) the format string for
 * fixed caps: for video/x-raw only format, width, height and, when the
 * result still fits, framerate; other caps as they are. *frame_size is the
 * payload size for raw video, 0 for other caps (any size per frame).
 * FALSE if the caps do not fit in the format string. */
gboolean mmp__gst_format_from_caps(const GstCaps *caps, char *out, gsize *frame_size);

/* The caps a format string stands for, with the payload size as above;
 * NULL if it is neither a caps string nor "ENCODING WxH", if its caps are
 * not one structure of fixed values in system memory (no features such as
 * memory:DMABuf), or if it is an "ENCODING WxH" whose packed rows are not
 * GStreamer's (width * bytes a pixel not a multiple of 4). Then *why, when
 * why is not NULL, is a sentence saying which (g_free it). Raw video
 * without a framerate gets framerate=0/1 (variable). */
GstCaps *mmp__gst_caps_from_format(const char *format, gsize *frame_size, gchar **why);

/* Writes the trailer at dst (MMP__GST_TRAILER_SIZE bytes). */
void mmp__gst_trailer_write(guint8 *dst, const mmp__gst_times *times);

/* The payload length of a len-byte frame at data and its times when it
 * ends in a trailer (and, for frame_size > 0, its payload is frame_size
 * bytes); otherwise len itself and every time GST_CLOCK_TIME_NONE. */
gsize mmp__gst_trailer_read(const guint8 *data, gsize len, gsize frame_size, mmp__gst_times *times);

#endif /* MMPOOL_GST_FORMAT_H */
