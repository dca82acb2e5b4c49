/* hello: create a pool, write one frame, read it back, remove the pool. */
#include <inttypes.h>
#include <stdio.h>

#include <mmpool.h>

int main(void) {
    const mmpool_options opts = {.slot_capacity = 4096, .slot_count = 2, .flags = MMPOOL_CREATE};
    const char message[] = "hello, mmpool";
    mmpool *writer = NULL, *reader = NULL;
    char buf[4096];
    mmpool_frame frame;

    int rc = mmpool_open(&writer, "hello", &opts); /* Linux: /dev/shm/hello */
    if (rc == 0) {
        rc = mmpool_open(&reader, "hello", NULL); /* NULL: adopt the pool as it is */
    }
    if (rc == 0) {
        rc = mmpool_write(writer, message, sizeof message, 1000);
    }
    if (rc == 0) {
        rc = mmpool_read(reader, buf, sizeof buf, &frame, 1000);
    }
    if (rc == 0) {
        printf("frame %" PRIu64 ": \"%s\" (%" PRIu64 " bytes)\n", frame.seq, buf, frame.len);
    } else {
        fprintf(stderr, "hello: %s\n", mmpool_strerror(rc));
    }
    mmpool_close(reader);
    mmpool_close(writer);
    mmpool_unlink("hello");
    return rc == 0 ? 0 : 1;
}
