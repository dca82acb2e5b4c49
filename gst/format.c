/* The format string and the timestamp trailer (format.h). */
#include "format.h"

#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

/* "video/x-raw, format=(string)BGR, width=(int)1920" ->
 * "video/x-raw,format=BGR,width=1920": gst_caps_from_string() infers each
 * type from the text (a word is a string, 1920 an int, 60/1 a fraction),
 * which gives back raw video's and raw audio's fields; a string that looks
 * like a number, or an unsigned or 64-bit integer, comes back otherwise
 * (docs/gstreamer.md, "The format string"). */
static gchar *compact(const GstCaps *caps) {
    gchar *s = gst_caps_to_string(caps);
    gchar *w = s;
    for (const gchar *r = s; *r != '\0'; r++) {
        if (*r == ' ') {
            continue;
        }
        if (*r == '(') {
            const gchar *close = strchr(r, ')');
            if (close != NULL) {
                r = close;
                continue;
            }
        }
        *w++ = *r;
    }
    *w = '\0';
    return s;
}

/* Copies s into out if it fits the format string. */
static gboolean fits(const gchar *s, char *out) {
    if (strlen(s) > MMPOOL_FORMAT_MAX) {
        return FALSE;
    }
    g_strlcpy(out, s, MMPOOL_FORMAT_MAX + 1);
    return TRUE;
}

/* Fields a reader can do without, or gets back (layout), dropped in this
 * order until other caps fit the format string. */
static const char *const optional_fields[] = {
    "channel-mask", "layout",         "pixel-aspect-ratio", "interlace-mode", "colorimetry",
    "chroma-site",  "multiview-mode", "multiview-flags",    "sof-marker",     "parsed",
};

static gboolean other_caps(const GstCaps *caps, char *out) {
    GstCaps *c = gst_caps_copy(caps);
    GstStructure *s = gst_caps_get_structure(c, 0);
    gboolean ok = FALSE;
    for (size_t i = 0; !ok; i++) {
        gchar *str = compact(c);
        ok = fits(str, out);
        g_free(str);
        if (i == G_N_ELEMENTS(optional_fields)) {
            break;
        }
        gst_structure_remove_field(s, optional_fields[i]);
    }
    gst_caps_unref(c);
    return ok;
}

gboolean mmp__gst_format_from_caps(const GstCaps *caps, char *out, gsize *frame_size) {
    *frame_size = 0;
    if (!gst_caps_is_fixed(caps)) {
        return FALSE;
    }
    GstStructure *s = gst_caps_get_structure(caps, 0);
    if (!gst_structure_has_name(s, "video/x-raw")) {
        return other_caps(caps, out);
    }
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return FALSE;
    }
    *frame_size = GST_VIDEO_INFO_SIZE(&info);
    gchar *base = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d",
                                  gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)),
                                  GST_VIDEO_INFO_WIDTH(&info), GST_VIDEO_INFO_HEIGHT(&info));
    gchar *full = g_strdup_printf("%s,framerate=%d/%d", base, GST_VIDEO_INFO_FPS_N(&info),
                                  GST_VIDEO_INFO_FPS_D(&info));
    /* The framerate only when it fits: the source reads a missing one as
     * 0/1 (variable), which every raw-video element accepts. */
    gboolean ok = fits(full, out) || fits(base, out);
    g_free(full);
    g_free(base);
    return ok;
}

/* The older convention, "ENCODING WxH" with ROS's encoding names
 * (docs/cookbook.md): the GStreamer format for each. */
static const struct {
    const char *encoding;
    const char *format;
} ros_encodings[] = {
    {"bgr8", "BGR"},   {"rgb8", "RGB"},    {"bgra8", "BGRA"},
    {"rgba8", "RGBA"}, {"mono8", "GRAY8"}, {"mono16", "GRAY16_LE"},
};

/* The rows of an ENCODING WxH frame are packed (width * bytes a pixel, as
 * OpenCV and ROS lay them out), GStreamer's start every 4 bytes: the two
 * agree only when the packed row is a multiple of 4 bytes. */
static gboolean rows_agree(const GstCaps *caps, int width, gchar **why) {
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return FALSE;
    }
    gint packed = width * GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
    gint stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
    if (packed != stride) {
        *why = g_strdup_printf("its rows are packed (%d bytes) and GStreamer's %s rows of that "
                               "width are %d bytes (a multiple of 4): not supported; use a width "
                               "whose rows are a multiple of 4 bytes, or the caps form",
                               packed, GST_VIDEO_INFO_NAME(&info), stride);
        return FALSE;
    }
    return TRUE;
}

static GstCaps *caps_from_ros(const char *format, gchar **why) {
    char encoding[16];
    int width = 0;
    int height = 0;
    if (sscanf(format, "%15s %dx%d", encoding, &width, &height) != 3 || width <= 0 || height <= 0) {
        return NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(ros_encodings); i++) {
        if (strcmp(encoding, ros_encodings[i].encoding) == 0) {
            GstCaps *caps =
                gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, ros_encodings[i].format,
                                    "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, NULL);
            if (!rows_agree(caps, width, why)) {
                gst_caps_unref(caps);
                return NULL;
            }
            return caps;
        }
    }
    return NULL;
}

/* Sets *why (when why is not NULL) to what is wrong with format; reason
 * is a more precise one, taken over, or NULL. */
static GstCaps *refuse(gchar **why, gchar *reason) {
    if (why != NULL) {
        *why = reason != NULL ? reason
                              : g_strdup("no caps a source can push (one structure of fixed "
                                         "values in system memory, or ENCODING WxH)");
    } else {
        g_free(reason);
    }
    return NULL;
}

GstCaps *mmp__gst_caps_from_format(const char *format, gsize *frame_size, gchar **why) {
    *frame_size = 0;
    gchar *reason = NULL;
    GstCaps *caps = strchr(format, '/') != NULL ? gst_caps_from_string(format) : NULL;
    if (caps == NULL) {
        caps = caps_from_ros(format, &reason);
    }
    if (caps == NULL) {
        return refuse(why, reason);
    }
    /* The string comes from any process that made the pool: the caps a
     * source pushes must describe its buffers, which are one structure of
     * fixed values in system memory (the slot), whatever the media type. */
    GstCapsFeatures *features =
        gst_caps_get_size(caps) == 1 ? gst_caps_get_features(caps, 0) : NULL;
    if (gst_caps_get_size(caps) != 1 || !gst_caps_is_fixed(caps) ||
        (features != NULL &&
         !gst_caps_features_is_equal(features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))) {
        gst_caps_unref(caps);
        return refuse(why, NULL);
    }
    GstStructure *s = gst_caps_get_structure(caps, 0);
    /* Interleaved is raw audio's usual layout, dropped first to fit. */
    if (gst_structure_has_name(s, "audio/x-raw") && !gst_structure_has_field(s, "layout")) {
        gst_structure_set(s, "layout", G_TYPE_STRING, "interleaved", NULL);
    }
    if (gst_structure_has_name(s, "video/x-raw")) {
        if (!gst_structure_has_field(s, "framerate")) {
            gst_structure_set(s, "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
        }
        GstVideoInfo info;
        if (!gst_video_info_from_caps(&info, caps)) {
            gst_caps_unref(caps);
            return refuse(why, NULL);
        }
        *frame_size = GST_VIDEO_INFO_SIZE(&info);
    }
    return caps;
}

/* Little-endian u64s, whatever the host's order: the layout in
 * docs/gstreamer.md is the same on every machine. */
static void put_u64(guint8 *dst, guint64 v) {
    v = GUINT64_TO_LE(v);
    memcpy(dst, &v, sizeof v);
}

static guint64 get_u64(const guint8 *src) {
    guint64 v;
    memcpy(&v, src, sizeof v);
    return GUINT64_FROM_LE(v);
}

void mmp__gst_trailer_write(guint8 *dst, const mmp__gst_times *times) {
    memcpy(dst, MMP__GST_TRAILER_MAGIC, 8);
    put_u64(dst + 8, times->pts);
    put_u64(dst + 16, times->dts);
    put_u64(dst + 24, times->duration);
}

gsize mmp__gst_trailer_read(const guint8 *data, gsize len, gsize frame_size,
                            mmp__gst_times *times) {
    times->pts = times->dts = times->duration = GST_CLOCK_TIME_NONE;
    if (len < MMP__GST_TRAILER_SIZE ||
        (frame_size > 0 && len != frame_size + MMP__GST_TRAILER_SIZE)) {
        return len;
    }
    const guint8 *t = data + len - MMP__GST_TRAILER_SIZE;
    /* A frame from a writer that knows nothing of trailers may end in
     * anything: the magic tells. */
    if (memcmp(t, MMP__GST_TRAILER_MAGIC, 8) != 0) {
        return len;
    }
    times->pts = get_u64(t + 8);
    times->dts = get_u64(t + 16);
    times->duration = get_u64(t + 24);
    return len - MMP__GST_TRAILER_SIZE;
}
