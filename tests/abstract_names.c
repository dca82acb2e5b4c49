/* See abstract_names.h. */
#include "abstract_names.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mmpt_abstract_socket(const char *prefix, struct sockaddr_un *a, socklen_t *len) {
    DIR *d = opendir("/proc/self/fd");
    int found = -1, matches = 0;
    size_t plen = strlen(prefix);
    for (struct dirent *e = d != NULL ? readdir(d) : NULL; e != NULL; e = readdir(d)) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        struct sockaddr_un mine;
        memset(&mine, 0, sizeof mine); /* the name has no terminator */
        socklen_t n = sizeof mine;
        size_t head = offsetof(struct sockaddr_un, sun_path);
        if (getsockname(fd, (struct sockaddr *)&mine, &n) != 0 || mine.sun_family != AF_UNIX ||
            n < head + 1 + plen || mine.sun_path[0] != '\0' ||
            memcmp(mine.sun_path + 1, prefix, plen) != 0) {
            continue;
        }
        matches++;
        found = fd;
        *a = mine;
        *len = n;
    }
    if (d != NULL) {
        closedir(d);
    }
    return matches == 1 ? found : -1;
}
