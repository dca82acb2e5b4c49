/*
 * mmpool: a pool of fixed-capacity frame slots in one memory-mapped file,
 * shared between processes on one machine.
 *
 * A writer puts a frame into the oldest slot that no handle holds (dropping
 * the oldest frame); readers take the newest frame (MMPOOL_READ_LATEST) or
 * the next one (MMPOOL_READ_FIFO). Every call returns 0 or a negative
 * MMPOOL_E* code; mmpool_strerror() and mmpool_err_name() describe it.
 *
 * Threads: calls on one handle must not overlap, except mmpool_interrupt(),
 * which any thread may call at any time. Different handles, also on the same
 * pool in one process, are independent. A handle opened before fork() belongs
 * to the parent: in the child every call on it returns MMPOOL_EINVAL and
 * mmpool_close() only frees the child's copy; the child opens its own.
 *
 * Access: every handle, readers included, opens the file for reading and
 * writing, because reading pins a slot and registers the handle in the
 * pool's table of attached handles.
 */
#ifndef MMPOOL_H
#define MMPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#if defined(MMPOOL_BUILDING) && defined(MMPOOL_SHARED)
#define MMPOOL_API __declspec(dllexport)
#elif defined(MMPOOL_SHARED)
#define MMPOOL_API __declspec(dllimport)
#else
#define MMPOOL_API
#endif
#elif defined(__GNUC__)
#define MMPOOL_API __attribute__((visibility("default")))
#else
#define MMPOOL_API
#endif

#define MMPOOL_VERSION_MAJOR 0
#define MMPOOL_VERSION_MINOR 1
#define MMPOOL_VERSION_PATCH 0

/* Most handles that may be attached to one pool at once. */
#define MMPOOL_MAX_HANDLES 32
/* Most slots a pool may have. */
#define MMPOOL_MAX_SLOTS 1024
/* Longest payload description, not counting the terminating NUL. */
#define MMPOOL_FORMAT_MAX 63

typedef struct mmpool mmpool; /* opaque; one per mmpool_open() */

#define MMPOOL_WAIT_FOREVER (-1)

enum { MMPOOL_CREATE = 1u << 0, MMPOOL_EXCL = 1u << 1 };
enum { MMPOOL_READ_LATEST = 0, MMPOOL_READ_FIFO = 1 };

enum { /* values fixed: bindings depend on them */
       MMPOOL_OK = 0,
       MMPOOL_EINVAL = -1,     /* bad argument */
       MMPOOL_ENOENT = -2,     /* no pool at the path and no MMPOOL_CREATE */
       MMPOOL_EEXIST = -3,     /* MMPOOL_CREATE|MMPOOL_EXCL on an existing pool */
       MMPOOL_EACCES = -4,     /* permission denied */
       MMPOOL_EFORMAT = -5,    /* not an mmpool file, or a damaged one */
       MMPOOL_EMISMATCH = -6,  /* capacity or count differ from the pool's */
       MMPOOL_E2BIG = -7,      /* frame larger than the slot capacity */
       MMPOOL_ENOSPC = -8,     /* no room on the file system, or buffer too small */
       MMPOOL_EAGAIN = -9,     /* no new frame (try mode) */
       MMPOOL_EBUSY = -10,     /* no free slot (try mode) */
       MMPOOL_ETIMEDOUT = -11, /* the timeout passed */
       MMPOOL_ESYS = -12,      /* other operating-system failure */
       MMPOOL_ECANCELED = -13, /* mmpool_interrupt() */
       MMPOOL_ESTALE = -14,    /* the pool was unlinked (retired) */
       MMPOOL_ETOOMANY = -15   /* the table of attached handles is full */
};

typedef struct mmpool_options {
    uint64_t slot_capacity; /* bytes per frame; 0 = take the existing pool's */
    uint32_t slot_count;    /* N >= 1; 0 = take the existing pool's */
    uint32_t flags;         /* MMPOOL_CREATE, MMPOOL_EXCL */
    uint32_t mode;          /* permission bits on create; 0 = 0600 */
    uint32_t read_mode;     /* MMPOOL_READ_LATEST or MMPOOL_READ_FIFO */
    const char *format;     /* optional payload description stored at create,
                               <= 63 bytes, e.g. "bgr8 1920x1080" */
    uint64_t reserved[4];   /* must be zero (MMPOOL_EINVAL otherwise) */
} mmpool_options;

typedef struct mmpool_frame {
    uint64_t seq;          /* 1, 2, 3, ... per pool, given at commit */
    uint64_t timestamp_ns; /* commit time, on the clock of mmpool_now_ns() */
    uint64_t len;          /* payload bytes */
    uint64_t dropped;      /* seq - cursor - 1; 0 on a handle's first read */
    uint64_t reserved[2];
} mmpool_frame;

typedef struct mmpool_view {
    const void *data; /* the frame in place, valid until release or close
                         (and not in a child forked meanwhile) */
    mmpool_frame frame;
    uint64_t reserved_[2]; /* identifies the loan; do not touch */
} mmpool_view;

typedef struct mmpool_stats {
    uint64_t slot_capacity;
    uint32_t slot_count;
    uint32_t read_mode;
    uint64_t last_seq; /* newest committed seq, 0 if none */
    char format[64];
    uint64_t reserved[4];
} mmpool_stats;

/*
 * Opens the pool at path, creating it when opts->flags has MMPOOL_CREATE and
 * no pool is there. A path without '/' names a pool in the platform's
 * shared-memory place (Linux: /dev/shm/NAME). opts NULL adopts an existing
 * pool with the default read mode. On success *out is a new handle; on
 * failure *out is NULL and nothing is left behind.
 */
MMPOOL_API int mmpool_open(mmpool **out, const char *path, const mmpool_options *opts);
/* Closes a handle; aborts its write loan and releases its read loans, whose
 * pointers become invalid. NULL is a no-op. */
MMPOOL_API void mmpool_close(mmpool *pool);
/* Marks the pool retired (handles still on it get MMPOOL_ESTALE), then
 * removes the path. A file that is not a pool: MMPOOL_EFORMAT, nothing
 * removed. */
MMPOOL_API int mmpool_unlink(const char *path);
/* Drops every frame that no handle holds. Seqs keep counting. */
MMPOOL_API int mmpool_flush(mmpool *pool);
MMPOOL_API int mmpool_stat(const mmpool *pool, mmpool_stats *out);
/* Any thread: a call blocked on pool returns MMPOOL_ECANCELED at once; if
 * none is blocked, the next blocking call does. Used up either way. */
MMPOOL_API int mmpool_interrupt(mmpool *pool);

/* timeout_ms: 0 = do not wait, MMPOOL_WAIT_FOREVER = wait forever,
 * > 0 = wait at most that many milliseconds. */
MMPOOL_API int mmpool_write(mmpool *pool, const void *data, size_t len, int timeout_ms);
MMPOOL_API int mmpool_try_write(mmpool *pool, const void *data, size_t len);
/* Copies the next frame into buf. If cap is smaller than the frame:
 * MMPOOL_ENOSPC, the frame stays unread and frame->len gives its size.
 * frame may be NULL. */
MMPOOL_API int mmpool_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame,
                           int timeout_ms);
MMPOOL_API int mmpool_try_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame);

/* Zero-copy write: borrow the oldest free slot (*data is 4096-byte aligned,
 * *cap its capacity), fill it in place, then commit or abort. One write loan
 * per handle; a second acquire is MMPOOL_EINVAL. A commit longer than the
 * capacity is MMPOOL_E2BIG and the loan stays held. */
MMPOOL_API int mmpool_write_acquire(mmpool *pool, void **data, size_t *cap, int timeout_ms);
MMPOOL_API int mmpool_write_commit(mmpool *pool, size_t len);
MMPOOL_API int mmpool_write_abort(mmpool *pool);
/* Zero-copy read: borrow the next frame in place; its slot is not
 * overwritten until mmpool_read_release(). A handle may hold one read loan
 * per slot, so up to N at once. Releasing clears the view; releasing a view
 * that this handle does not hold is MMPOOL_EINVAL. */
MMPOOL_API int mmpool_read_acquire(mmpool *pool, mmpool_view *view, int timeout_ms);
MMPOOL_API int mmpool_read_release(mmpool *pool, mmpool_view *view);

/* The monotonic clock that frame timestamps use, in nanoseconds. */
MMPOOL_API uint64_t mmpool_now_ns(void);
/* "no new frame", ...; "unknown error" for a value outside the table. */
MMPOOL_API const char *mmpool_strerror(int err);
/* "MMPOOL_EAGAIN", ...; "MMPOOL_UNKNOWN" for a value outside the table. */
MMPOOL_API const char *mmpool_err_name(int err);
/* "0.1.0" */
MMPOOL_API const char *mmpool_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MMPOOL_H */
