/* PNG for snapshot when the tool is built without libpng: every PNG is
 * refused with the reason CMake found (MMPOOL_CLI_NO_PNG). */
#include "image.h"

#ifndef MMPOOL_CLI_NO_PNG
#define MMPOOL_CLI_NO_PNG "it was not found"
#endif

const char *image_png_missing(void) {
    return "built without libpng: " MMPOOL_CLI_NO_PNG;
}

int image_write_png(FILE *out, const tool_image *im, char *why, size_t whycap) {
    (void)out;
    (void)im;
    snprintf(why, whycap, "%s", image_png_missing());
    return -1;
}
