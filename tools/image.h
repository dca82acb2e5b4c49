/*
 * Encoding a frame as an image file for "mmpool snapshot": binary Netpbm
 * (image_ppm.c) and PNG (image_png.c with libpng, or image_nopng.c when
 * the tool is built without it; CMake picks one).
 */
#ifndef MMPOOL_CLI_IMAGE_H
#define MMPOOL_CLI_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* An 8-bit image in memory: height rows of width pixels, each pixel
 * channels bytes (1: grey; 3: red, green, blue), rows packed. width and
 * height are 1..2^24. */
typedef struct tool_image {
    unsigned channels;
    uint64_t width;
    uint64_t height;
    const unsigned char *pixels;
} tool_image;

/* Writes im to out as P6 (colour) or P5 (grey). 0, or -1 with the reason
 * in why. */
int image_write_ppm(FILE *out, const tool_image *im, char *why, size_t whycap);

/* NULL when PNG is built in; otherwise why not, for messages: "built
 * without libpng: REASON". */
const char *image_png_missing(void);
/* Writes im to out as an 8-bit RGB or grey PNG. 0, or -1 with the reason
 * in why; whatever libpng allocated is freed either way. */
int image_write_png(FILE *out, const tool_image *im, char *why, size_t whycap);

#endif
