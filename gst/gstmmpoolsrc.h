/* mmpoolsrc: a live source pushing an mmpool pool's frames, zero-copy. */
#ifndef GST_MMPOOL_SRC_H
#define GST_MMPOOL_SRC_H

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_MMPOOL_SRC (gst_mmpool_src_get_type())
G_DECLARE_FINAL_TYPE(GstMmpoolSrc, gst_mmpool_src, GST, MMPOOL_SRC, GstPushSrc)

#define GST_TYPE_MMPOOL_SRC_MODE (gst_mmpool_src_mode_get_type())
GType gst_mmpool_src_mode_get_type(void);

G_END_DECLS

#endif /* GST_MMPOOL_SRC_H */
