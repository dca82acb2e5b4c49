/*
 * Copying a frame into a slot where no streaming copy is written for the
 * CPU: memcpy, which the release that publishes the frame orders.
 */
#include <string.h>

#include "../platform.h"

void mmp__copy_to_slot(void *dst, const void *src, size_t len, bool read_soon) {
    (void)read_soon;
    memcpy(dst, src, len);
}
