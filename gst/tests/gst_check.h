/* Helpers shared by the GStreamer tests' programs (check.c). */
#ifndef MMPOOL_GST_CHECK_H
#define MMPOOL_GST_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit checksum of n bytes (FNV-1a over 8-byte words): cheap enough
 * for Full-HD frames, and any changed byte changes it. */
uint64_t mmp__gst_checksum(const void *data, size_t n);

/* 1 if [p, p + n) lies in one mapping of the file at path in this process
 * (from /proc/self/maps), else 0. */
int mmp__gst_in_mapping(const char *path, const void *p, size_t n);

#endif
