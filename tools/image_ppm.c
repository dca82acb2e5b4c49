/* Binary Netpbm output for snapshot: P6 for colour, P5 for grey. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "image.h"

int image_write_ppm(FILE *out, const tool_image *im, char *why, size_t whycap) {
    size_t bytes = (size_t)(im->width * im->height * im->channels);
    if (fprintf(out, "P%c\n%" PRIu64 " %" PRIu64 "\n255\n", im->channels == 3 ? '6' : '5',
                im->width, im->height) < 0 ||
        fwrite(im->pixels, 1, bytes, out) != bytes) {
        snprintf(why, whycap, "%s", strerror(errno));
        return -1;
    }
    return 0;
}
