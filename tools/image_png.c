/* PNG output for snapshot, with libpng. libpng reports an error by calling
 * on_error(), which longjmp()s back to image_write_png(); only libpng's own
 * structures are allocated in between, and png_destroy_write_struct()
 * frees them on either path. */
#include <errno.h>
#include <setjmp.h>
#include <string.h>

#include <png.h>

#include "image.h"

/* Where on_error() leaves the reason. Its fields are set before setjmp()
 * and never change afterwards, so they are intact after the longjmp(). */
typedef struct png_failure {
    char *why;
    size_t cap;
    FILE *out;
} png_failure;

static void on_error(png_structp png, png_const_charp msg) {
    png_failure *f = png_get_error_ptr(png);
    /* libpng says only "Write Error" when fwrite() fails; the system's
     * reason (a full disk, a file size limit) says more. */
    if (ferror(f->out) && errno != 0) {
        snprintf(f->why, f->cap, "%s", strerror(errno));
    } else {
        snprintf(f->why, f->cap, "libpng: %s", msg);
    }
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    /* Nothing a snapshot can act on: its images are plain 8-bit ones. */
    (void)png;
    (void)msg;
}

/* Every libpng call that may fail; runs under the setjmp() of
 * image_write_png(). */
static void encode(png_structp png, png_infop info, FILE *out, const tool_image *im) {
    png_init_io(png, out);
    /* libpng refuses sides past 10^6 by default; snapshot allows 2^24. */
    png_set_user_limits(png, UINT32_C(1) << 24, UINT32_C(1) << 24);
    png_set_IHDR(png, info, (png_uint_32)im->width, (png_uint_32)im->height, 8,
                 im->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    /* Row by row from the frame itself: no row-pointer array to free when
     * libpng jumps out. */
    size_t stride = (size_t)(im->width * im->channels);
    for (uint64_t y = 0; y < im->height; y++) {
        png_write_row(png, im->pixels + (size_t)y * stride);
    }
    png_write_end(png, info);
}

const char *image_png_missing(void) {
    return NULL;
}

int image_write_png(FILE *out, const tool_image *im, char *why, size_t whycap) {
    png_failure failure = {why, whycap, out};
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        snprintf(why, whycap, "libpng: cannot start (out of memory or a libpng version mismatch)");
        return -1;
    }
    /* png and info are not changed after this point until they are freed,
     * so they keep their values across the longjmp(). */
    if (setjmp(png_jmpbuf(png)) != 0) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    encode(png, info, out, im);
    png_destroy_write_struct(&png, &info);
    return 0;
}
