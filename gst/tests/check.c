/* Helpers shared by the GStreamer tests' programs (gst_check.h). */
#include "gst_check.h"

#include <stdio.h>
#include <string.h>

uint64_t mmp__gst_checksum(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3u;
    }
    for (; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3u;
    }
    return h;
}

int mmp__gst_in_mapping(const char *path, const void *p, size_t n) {
    if (path == NULL || path[0] == '\0') {
        return 0;
    }
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) {
        return 0;
    }
    char line[1024];
    int found = 0;
    uintptr_t a = (uintptr_t)p;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned long lo = 0;
        unsigned long hi = 0;
        char file[768] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %767s", &lo, &hi, file) == 3 &&
            strcmp(file, path) == 0 && a >= lo && a + n <= hi) {
            found = 1;
        }
    }
    fclose(f);
    return found;
}
