/* mmpoolsink: writes each buffer as a frame into an mmpool pool. */
#ifndef GST_MMPOOL_SINK_H
#define GST_MMPOOL_SINK_H

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_MMPOOL_SINK (gst_mmpool_sink_get_type())
G_DECLARE_FINAL_TYPE(GstMmpoolSink, gst_mmpool_sink, GST, MMPOOL_SINK, GstBaseSink)

G_END_DECLS

#endif /* GST_MMPOOL_SINK_H */
