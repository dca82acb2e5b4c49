/*
 * Whether a directory's file system maps files with huge pages: a
 * hugetlbfs (statfs tells, and its block size is the page size), or a
 * tmpfs mounted with huge=always or huge=within_size, which statfs does not
 * tell: its mount options are read from /proc/self/mountinfo, the line
 * whose device (major:minor) is the directory's.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "mmpool.h"
#include "posix.h"

#define MMP__HUGETLBFS_MAGIC 0x958458f6
#define MMP__TMPFS_MAGIC 0x01021994
/* The huge page of a tmpfs: the CPU's PMD size (2 MiB on x86-64 and on
 * arm64 with 4 KiB pages), which the kernel publishes. */
#define MMP__PMD_SIZE_FILE "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"

/* Whether the mount of device dev has "huge=always" or "huge=within_size"
 * among its super options (the fields after " - TYPE SOURCE "). */
static bool tmpfs_mount_is_huge(dev_t dev) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) {
        return false;
    }
    char want[32];
    snprintf(want, sizeof want, " %u:%u ", major(dev), minor(dev));
    char line[4096];
    bool huge = false;
    while (!huge && fgets(line, sizeof line, f) != NULL) {
        char *sep = strstr(line, " - ");
        if (strstr(line, want) == NULL || sep == NULL || strstr(line, want) > sep) {
            continue;
        }
        huge = strstr(sep, "huge=always") != NULL || strstr(sep, "huge=within_size") != NULL;
    }
    fclose(f);
    return huge;
}

/* Where /sys is not mounted (a chroot, some containers) the file is
 * missing, and the common size is assumed: 2 MiB, the PMD size of x86-64
 * and of arm64 with 4 KiB pages. */
static uint64_t pmd_size(void) {
    FILE *f = fopen(MMP__PMD_SIZE_FILE, "re");
    unsigned long long size = 0;
    if (f != NULL) {
        if (fscanf(f, "%llu", &size) != 1) {
            size = 0;
        }
        fclose(f);
        return size;
    }
    return UINT64_C(2) << 20;
}

uint64_t mmp__path_huge_page(const char *path, bool *required) {
    *required = false;
    char dir[MMP__PATH_MAX];
    struct statfs sfs;
    struct stat st;
    if (mmp__dir_of(dir, sizeof dir, path) != 0 || statfs(dir, &sfs) != 0 || stat(dir, &st) != 0) {
        return 0;
    }
    if (sfs.f_type == MMP__HUGETLBFS_MAGIC && (uint64_t)sfs.f_bsize > 4096u) {
        *required = true;
        return (uint64_t)sfs.f_bsize;
    }
    if (sfs.f_type == MMP__TMPFS_MAGIC && tmpfs_mount_is_huge(st.st_dev)) {
        return pmd_size();
    }
    return 0;
}
