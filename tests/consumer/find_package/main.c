/*
 * Uses an installed mmpool found with find_package(): creates the pool named
 * by argv[1], writes one frame with the copying API, reads it back, checks
 * that the library's version is the header's, and removes the pool.
 * Exits 0 on success.
 */
#include <mmpool.h>
#include <stdio.h>
#include <string.h>

static int failed(const char *what, int rc) {
    fprintf(stderr, "%s: %s (%s)\n", what, mmpool_err_name(rc), mmpool_strerror(rc));
    return 1;
}

/* Header and library come from the same install only if they agree. */
static int check_version(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", MMPOOL_VERSION_MAJOR, MMPOOL_VERSION_MINOR,
             MMPOOL_VERSION_PATCH);
    if (strcmp(mmpool_version(), want) != 0) {
        fprintf(stderr, "mmpool_version() is %s, the header says %s\n", mmpool_version(), want);
        return 1;
    }
    return 0;
}

static int write_and_read(mmpool *pool) {
    static const char sent[] = "frame from a find_package consumer";
    char got[sizeof sent];
    mmpool_frame frame;
    int rc = mmpool_write(pool, sent, sizeof sent, 0);
    if (rc != 0) {
        return failed("mmpool_write", rc);
    }
    rc = mmpool_read(pool, got, sizeof got, &frame, 0);
    if (rc != 0) {
        return failed("mmpool_read", rc);
    }
    if (frame.seq != 1 || frame.len != sizeof sent || memcmp(got, sent, sizeof sent) != 0) {
        fprintf(stderr, "read back seq %llu, %llu bytes, not the frame written\n",
                (unsigned long long)frame.seq, (unsigned long long)frame.len);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s POOL_NAME\n", argv[0]);
        return 2;
    }
    if (check_version() != 0) {
        return 1;
    }
    /* EXCL: a name clash with another run is an error, not a shared pool. */
    mmpool_options opts = {
        .slot_capacity = 4096, .slot_count = 2, .flags = MMPOOL_CREATE | MMPOOL_EXCL};
    mmpool *pool;
    int rc = mmpool_open(&pool, argv[1], &opts);
    if (rc != 0) {
        return failed("mmpool_open", rc);
    }
    int bad = write_and_read(pool);
    mmpool_close(pool);
    rc = mmpool_unlink(argv[1]);
    if (rc != 0) {
        return failed("mmpool_unlink", rc);
    }
    return bad;
}
