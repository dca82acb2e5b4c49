/*
 * Huge pages on Windows: large-page file mappings need a privilege that
 * ordinary users do not hold, and no file system maps files with them, so
 * pools there always use 4 KiB alignment.
 */
#include "win32.h"

uint64_t mmp__path_huge_page(const char *path, bool *required) {
    (void)path;
    *required = false;
    return 0;
}
