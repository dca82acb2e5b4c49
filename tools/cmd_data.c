/* Subcommands that move frames: put, get, snapshot (PPM or PNG). Each
 * opens one handle, like any user of the pool, and closes it before
 * returning. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"
#include "platform.h"

/* Parses --timeout into *ms; dflt when absent. */
static int timeout_opt(const char *cmd, const cli_opt *o, int dflt, int *ms) {
    *ms = dflt;
    if (o->value != NULL && cli_parse_seconds(o->value, ms) != 0) {
        return cli_usage(cmd, "--timeout wants seconds (e.g. 2 or 0.5), not '%s'", o->value);
    }
    return CLI_OK;
}

static int is_stdio(const char *file) {
    return file == NULL || strcmp(file, "-") == 0;
}

/* Opens the pool named on the command line and learns its geometry. */
static int open_pool(const char *name, mmpool_options *o, mmpool **pool, mmpool_stats *st) {
    int rc = mmpool_open(pool, name, o);
    if (rc != 0) {
        return cli_fail_open(name, rc, o);
    }
    rc = mmpool_stat(*pool, st);
    if (rc != 0) {
        mmpool_close(*pool);
        return cli_fail(name, rc);
    }
    return CLI_OK;
}

/* mmpool_options.flags for --any-owner (given or not). */
static uint32_t owner_flags(const cli_opt *any_owner) {
    return any_owner->value != NULL ? (uint32_t)MMPOOL_ANY_OWNER : 0u;
}

static void *alloc_frame(uint64_t capacity) {
    /* +1: put reads one byte past the capacity to detect a larger input. */
    return capacity < SIZE_MAX ? malloc((size_t)capacity + 1) : NULL;
}

/* ---- put ---- */

int cmd_put(int argc, char **argv) {
    cli_opt opts[] = {{"--timeout", 1, NULL}, {"--any-owner", 0, NULL}};
    const char *pos[2] = {NULL, NULL};
    int npos;
    int rc = cli_parse("put", argc, argv, opts, 2, pos, 1, 2, &npos);
    int timeout;
    if (rc != CLI_OK || (rc = timeout_opt("put", &opts[0], MMPOOL_WAIT_FOREVER, &timeout))) {
        return rc;
    }
    const char *file = pos[1];
    mmpool_options o = {.flags = owner_flags(&opts[1])};
    mmpool *pool;
    mmpool_stats st;
    if ((rc = open_pool(pos[0], &o, &pool, &st)) != CLI_OK) {
        return rc;
    }
    unsigned char *buf = alloc_frame(st.slot_capacity);
    FILE *in = NULL;
    if (buf == NULL) {
        rc = cli_error(pos[0], "out of memory for a frame of %" PRIu64 " bytes", st.slot_capacity);
    } else if (is_stdio(file)) {
        tool_binary_stdio();
        in = stdin;
    } else if ((in = fopen(file, "rb")) == NULL) {
        rc = cli_error(pos[0], "cannot open '%s' for reading", file);
    }
    size_t len = 0;
    if (in != NULL) {
        /* The whole input is read before a slot is taken: a slow producer
         * on a pipe must not hold a slot the pool's readers wait for. */
        size_t want = (size_t)st.slot_capacity + 1;
        size_t got;
        while (len < want && (got = fread(buf + len, 1, want - len, in)) > 0) {
            len += got;
        }
        if (ferror(in)) {
            rc = cli_error(pos[0], "cannot read '%s'", is_stdio(file) ? "standard input" : file);
        } else if (len > st.slot_capacity) {
            rc = cli_error(pos[0], "%s (the input is larger than %" PRIu64 " bytes)",
                           mmpool_strerror(MMPOOL_E2BIG), st.slot_capacity);
        }
        if (in != stdin) {
            fclose(in);
        }
    }
    if (rc == CLI_OK) {
        int err = mmpool_write(pool, buf, len, timeout);
        if (err != 0) {
            rc = cli_fail(pos[0], err);
        }
    }
    free(buf);
    mmpool_close(pool);
    return rc;
}

/* ---- get ---- */

/* Writes the frame to file (NULL or "-": standard output). */
static int save(const char *pool, const char *file, const void *data, size_t len) {
    FILE *out = stdout;
    if (is_stdio(file)) {
        tool_binary_stdio();
    } else if ((out = fopen(file, "wb")) == NULL) {
        return cli_error(pool, "cannot open '%s' for writing", file);
    }
    int ok = fwrite(data, 1, len, out) == len;
    ok = (out == stdout ? fflush(out) : fclose(out)) == 0 && ok;
    return ok ? CLI_OK
              : cli_error(pool, "cannot write '%s'", is_stdio(file) ? "standard output" : file);
}

/* Reads the next frame of a new handle (the newest, or with FIFO the
 * oldest) into a buffer of the pool's capacity. flags: MMPOOL_ANY_OWNER
 * or 0. */
static int read_one(const char *name, uint32_t read_mode, uint32_t flags, int timeout,
                    unsigned char **buf, mmpool_frame *frame, mmpool_stats *st) {
    mmpool_options o = {.flags = flags, .read_mode = read_mode};
    mmpool *pool;
    int rc = open_pool(name, &o, &pool, st);
    if (rc != CLI_OK) {
        return rc;
    }
    *buf = alloc_frame(st->slot_capacity);
    if (*buf == NULL) {
        rc = cli_error(name, "out of memory for a frame of %" PRIu64 " bytes", st->slot_capacity);
    } else {
        int err = mmpool_read(pool, *buf, (size_t)st->slot_capacity, frame, timeout);
        if (err == MMPOOL_EAGAIN || err == MMPOOL_ETIMEDOUT) {
            rc = cli_error(name, "%s (no frame%s)", mmpool_strerror(err),
                           timeout == 0 ? " in the pool" : " within the timeout");
        } else if (err != 0) {
            rc = cli_fail(name, err);
        }
        if (rc != CLI_OK) {
            free(*buf);
            *buf = NULL;
        }
    }
    mmpool_close(pool);
    return rc;
}

int cmd_get(int argc, char **argv) {
    cli_opt opts[] = {{"--timeout", 1, NULL}, {"--fifo", 0, NULL}, {"--any-owner", 0, NULL}};
    const char *pos[2] = {NULL, NULL};
    int npos;
    int rc = cli_parse("get", argc, argv, opts, 3, pos, 1, 2, &npos);
    int timeout;
    if (rc != CLI_OK || (rc = timeout_opt("get", &opts[0], MMPOOL_WAIT_FOREVER, &timeout))) {
        return rc;
    }
    uint32_t mode = opts[1].value != NULL ? MMPOOL_READ_FIFO : MMPOOL_READ_LATEST;
    unsigned char *buf;
    mmpool_frame frame;
    mmpool_stats st;
    rc = read_one(pos[0], mode, owner_flags(&opts[2]), timeout, &buf, &frame, &st);
    if (rc == CLI_OK) {
        rc = save(pos[0], pos[1], buf, (size_t)frame.len);
        free(buf);
    }
    return rc;
}

/* ---- snapshot ---- */

typedef struct image {
    unsigned channels; /* 1 or 3 */
    int bgr;           /* channels are stored blue first */
    uint64_t width;
    uint64_t height;
} image;

/* Understands "bgr8 WxH", "rgb8 WxH", "gray8 WxH"; further words after the
 * size are allowed and ignored. 0 or -1. */
static int parse_image(const char *format, image *im) {
    static const struct {
        const char *name;
        unsigned channels;
        int bgr;
    } kinds[] = {{"bgr8", 3, 1}, {"rgb8", 3, 0}, {"gray8", 1, 0}};
    const char *sp = strchr(format, ' ');
    if (sp == NULL) {
        return -1;
    }
    size_t n = (size_t)(sp - format);
    size_t k;
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        if (strlen(kinds[k].name) == n && strncmp(kinds[k].name, format, n) == 0) {
            break;
        }
    }
    if (k == sizeof kinds / sizeof kinds[0]) {
        return -1;
    }
    char size[MMPOOL_FORMAT_MAX + 1];
    const char *s = sp + strspn(sp, " ");
    size_t len = strcspn(s, " ");
    memcpy(size, s, len);
    size[len] = '\0';
    char *x = strchr(size, 'x');
    if (x == NULL) {
        return -1;
    }
    *x = '\0';
    /* 2^24 a side keeps width * height * 3 far from overflow. */
    if (cli_parse_uint(size, UINT64_C(1) << 24, &im->width) != 0 ||
        cli_parse_uint(x + 1, UINT64_C(1) << 24, &im->height) != 0 || im->width == 0 ||
        im->height == 0) {
        return -1;
    }
    im->channels = kinds[k].channels;
    im->bgr = kinds[k].bgr;
    return 0;
}

/* Whether file names a PNG: it ends in ".png", in any case. */
static int wants_png(const char *file) {
    size_t n = file != NULL ? strlen(file) : 0;
    if (n < 4 || file[n - 4] != '.') {
        return 0;
    }
    for (size_t i = 0; i < 3; i++) {
        char c = file[n - 3 + i];
        if ((c | 0x20) != "png"[i]) {
            return 0;
        }
    }
    return 1;
}

/* Turns BGR pixels into RGB in place: both image formats want red first. */
static void bgr_to_rgb(unsigned char *px, uint64_t pixels) {
    for (uint64_t i = 0; i < pixels; i++) {
        unsigned char b = px[3 * i];
        px[3 * i] = px[3 * i + 2];
        px[3 * i + 2] = b;
    }
}

/* Writes the frame as an image into file, PNG or PPM as its name says. */
static int save_image(const char *pool, const char *file, const image *im, unsigned char *px) {
    if (im->bgr) {
        bgr_to_rgb(px, im->width * im->height);
    }
    tool_image out_im = {im->channels, im->width, im->height, px};
    cli_output out;
    int rc = cli_output_open(&out, pool, file);
    if (rc != CLI_OK) {
        return rc;
    }
    char why[256];
    int err = wants_png(file) ? image_write_png(out.file, &out_im, why, sizeof why)
                              : image_write_ppm(out.file, &out_im, why, sizeof why);
    return cli_output_close(&out, pool, err == 0 ? NULL : why);
}

int cmd_snapshot(int argc, char **argv) {
    cli_opt opts[] = {{"--timeout", 1, NULL}, {"--any-owner", 0, NULL}};
    const char *pos[2];
    int npos;
    int rc = cli_parse("snapshot", argc, argv, opts, 2, pos, 2, 2, &npos);
    int timeout;
    if (rc != CLI_OK || (rc = timeout_opt("snapshot", &opts[0], 0, &timeout))) {
        return rc;
    }
    /* What cannot be written is refused before the pool is touched. */
    if (wants_png(pos[1]) && image_png_missing() != NULL) {
        return cli_error(pos[1],
                         "cannot write a PNG, this mmpool tool was %s; name a .ppm file instead",
                         image_png_missing());
    }
    /* The format is checked first, from the header alone, so that a pool
     * that holds no image is refused without taking a frame from it. */
    mmpool_info info;
    int err = mmpool_inspect(pos[0], &info, NULL, 0, NULL, 0);
    if (err != 0) {
        return cli_fail(pos[0], err);
    }
    image im;
    char format[4 * MMPOOL_FORMAT_MAX + 1];
    cli_text(format, sizeof format, info.format);
    if (parse_image(info.format, &im) != 0) {
        return cli_error(pos[0],
                         "payload format \"%s\" is not an 8-bit image; snapshot needs "
                         "'bgr8 WxH', 'rgb8 WxH' or 'gray8 WxH'",
                         format);
    }
    unsigned char *buf;
    mmpool_frame frame;
    mmpool_stats st;
    rc = read_one(pos[0], MMPOOL_READ_LATEST, owner_flags(&opts[1]), timeout, &buf, &frame, &st);
    if (rc != CLI_OK) {
        return rc;
    }
    uint64_t want = im.width * im.height * im.channels;
    if (frame.len != want) {
        rc = cli_error(pos[0], "frame %" PRIu64 " has %" PRIu64 " bytes, but \"%s\" means %" PRIu64,
                       frame.seq, frame.len, format, want);
    } else {
        rc = save_image(pos[0], pos[1], &im, buf);
    }
    free(buf);
    return rc;
}
