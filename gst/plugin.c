/* The plugin "mmpool": mmpoolsink and mmpoolsrc. */
#include "gstmmpoolsink.h"
#include "gstmmpoolsrc.h"

#include <mmpool.h>

static gboolean plugin_init(GstPlugin *plugin) {
    return gst_element_register(plugin, "mmpoolsink", GST_RANK_NONE, GST_TYPE_MMPOOL_SINK) &&
           gst_element_register(plugin, "mmpoolsrc", GST_RANK_NONE, GST_TYPE_MMPOOL_SRC);
}

#define PACKAGE "mmpool"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, mmpool,
                  "Frames through an mmpool shared-memory pool, zero-copy", plugin_init,
                  MMPOOL_GST_VERSION, "unknown", "mmpool", "https://mmpool.invalid")
