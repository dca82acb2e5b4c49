/*
 * Test helper for the tool's tests: holds something in a pool until it is
 * killed. "holder POOL read" keeps a read loan of the newest frame,
 * "holder POOL write" a write loan, "holder POOL attach" only a handle.
 * Prints "ready" once it holds it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmpool.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: holder POOL read|write|attach\n");
        return 2;
    }
    mmpool *pool;
    int rc = mmpool_open(&pool, argv[1], NULL);
    mmpool_view view;
    void *data;
    size_t cap;
    if (rc == 0 && strcmp(argv[2], "read") == 0) {
        rc = mmpool_read_acquire(pool, &view, 5000);
    } else if (rc == 0 && strcmp(argv[2], "write") == 0) {
        rc = mmpool_write_acquire(pool, &data, &cap, 5000);
    }
    if (rc != 0) {
        fprintf(stderr, "holder: %s: %s\n", argv[1], mmpool_strerror(rc));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        pause();
    }
}
