/**
 * \file
 * mmpool: a pool of fixed-capacity frame slots in one memory-mapped file,
 * shared between processes on one machine.
 *
 * A writer puts a frame into the oldest slot that no handle holds (dropping
 * the oldest frame); readers take the newest frame (MMPOOL_READ_LATEST) or
 * the next one (MMPOOL_READ_FIFO). Every call that returns int returns 0 or
 * a negative MMPOOL_E* code; mmpool_strerror() and mmpool_err_name()
 * describe it.
 *
 * Threads: calls on one handle must not overlap, except mmpool_interrupt()
 * and mmpool_last_seq(), which any thread may call at any time before
 * mmpool_close(). Different handles, also on the same
 * pool in one process, are independent. A handle opened before fork() belongs
 * to the parent: in the child every call on it returns MMPOOL_EINVAL and
 * mmpool_close() only frees the child's copy; the child opens its own.
 *
 * Access: every handle, readers included, opens the file for reading and
 * writing, because reading pins a slot and registers the handle in the
 * pool's table of attached handles.
 *
 * Timeouts: every call with a timeout_ms argument takes 0 (do not wait:
 * MMPOOL_EBUSY or MMPOOL_EAGAIN at once), MMPOOL_WAIT_FOREVER, or a
 * positive number of milliseconds to wait at most (then MMPOOL_ETIMEDOUT);
 * any other negative value is MMPOOL_EINVAL. A call with a non-zero
 * timeout returns MMPOOL_ECANCELED after mmpool_interrupt(); reads and
 * writes return MMPOOL_ESTALE once the pool is unlinked.
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

/** Major version of this header; mmpool_version() gives the library's. */
#define MMPOOL_VERSION_MAJOR 0
/** Minor version of this header. */
#define MMPOOL_VERSION_MINOR 1
/** Patch version of this header. */
#define MMPOOL_VERSION_PATCH 0

/** Most handles that may be attached to one pool at once. */
#define MMPOOL_MAX_HANDLES 32
/** Most slots a pool may have. */
#define MMPOOL_MAX_SLOTS 1024
/** Longest payload description, not counting the terminating NUL. */
#define MMPOOL_FORMAT_MAX 63

typedef struct mmpool mmpool; /**< A handle on a pool: opaque; one per mmpool_open(). */

/** timeout_ms that waits until the call can complete (see Timeouts above). */
#define MMPOOL_WAIT_FOREVER (-1)

/** mmpool_options.flags. */
enum {
    MMPOOL_CREATE = 1u << 0,   /**< create the pool if there is none at the path */
    MMPOOL_EXCL = 1u << 1,     /**< with MMPOOL_CREATE: MMPOOL_EEXIST if there is one */
    MMPOOL_ANY_OWNER = 1u << 2 /**< open a pool in a world-writable sticky directory (such
                                    as /dev/shm) whatever user owns its file: for deliberate
                                    sharing; see mmpool_open() */
};
/** mmpool_options.read_mode: which frame a read takes. Per handle, not stored in the pool. */
enum {
    MMPOOL_READ_LATEST = 0, /**< the newest frame, skipping older unread ones */
    MMPOOL_READ_FIFO = 1    /**< the oldest frame still in the pool that is newer than the
                                 last one this handle read */
};

/**
 * The return codes, 0 or negative, as X(name, value, message): the one list
 * behind the enum below, mmpool_err_name() (name) and mmpool_strerror()
 * (message). The values are fixed: bindings depend on them. A program can
 * expand it too, for instance into a table of its own:
 * `#define ROW(name, value, message) {value, #name},` then
 * `MMPOOL_ERRORS(ROW)`.
 */
#define MMPOOL_ERRORS(X)                                                                           \
    X(MMPOOL_OK, 0, "success")                                                                     \
    X(MMPOOL_EINVAL, -1, "invalid argument")                                                       \
    X(MMPOOL_ENOENT, -2, "no such pool")                                                           \
    X(MMPOOL_EEXIST, -3, "pool already exists")                                                    \
    X(MMPOOL_EACCES, -4, "permission denied")                                                      \
    X(MMPOOL_EFORMAT, -5, "not an mmpool file or damaged pool")                                    \
    X(MMPOOL_EMISMATCH, -6, "slot capacity or count differ from the pool")                         \
    X(MMPOOL_E2BIG, -7, "frame larger than the slot capacity")                                     \
    X(MMPOOL_ENOSPC, -8, "no space left for the pool or the frame")                                \
    X(MMPOOL_EAGAIN, -9, "no new frame")                                                           \
    X(MMPOOL_EBUSY, -10, "no free slot")                                                           \
    X(MMPOOL_ETIMEDOUT, -11, "timed out")                                                          \
    X(MMPOOL_ESYS, -12, "operating-system error")                                                  \
    X(MMPOOL_ECANCELED, -13, "interrupted")                                                        \
    X(MMPOOL_ESTALE, -14, "pool was unlinked")                                                     \
    X(MMPOOL_ETOOMANY, -15, "too many handles attached to the pool")

/** Return codes: 0 or negative, one enumerator per entry of MMPOOL_ERRORS. */
enum {
#define MMPOOL_ERROR_ENUMERATOR(name, value, message) name = value,
    MMPOOL_ERRORS(MMPOOL_ERROR_ENUMERATOR)
#undef MMPOOL_ERROR_ENUMERATOR
};
/* What each code means, shown with it in the API reference (Doxygen). */
/** \var MMPOOL_OK
 * success */
/** \var MMPOOL_EINVAL
 * bad argument */
/** \var MMPOOL_ENOENT
 * no pool at the path (and no MMPOOL_CREATE) */
/** \var MMPOOL_EEXIST
 * MMPOOL_CREATE|MMPOOL_EXCL on an existing pool */
/** \var MMPOOL_EACCES
 * permission denied */
/** \var MMPOOL_EFORMAT
 * not an mmpool file, or a damaged one */
/** \var MMPOOL_EMISMATCH
 * slot_capacity or slot_count differ from the pool's */
/** \var MMPOOL_E2BIG
 * frame larger than the slot capacity */
/** \var MMPOOL_ENOSPC
 * no room on the file system, or a read buffer too small */
/** \var MMPOOL_EAGAIN
 * no new frame (timeout 0) */
/** \var MMPOOL_EBUSY
 * no free slot (timeout 0) */
/** \var MMPOOL_ETIMEDOUT
 * a positive timeout passed */
/** \var MMPOOL_ESYS
 * other operating-system failure */
/** \var MMPOOL_ECANCELED
 * mmpool_interrupt() ended the call */
/** \var MMPOOL_ESTALE
 * the pool was unlinked (retired), or its file is no longer at its path;
 * from then on the handle's reads, writes, waits and flushes say so too:
 * close it */
/** \var MMPOOL_ETOOMANY
 * the table of attached handles is full */

/** How mmpool_open() opens or creates a pool. Zero-initialise it, then set what you need. */
typedef struct mmpool_options {
    uint64_t slot_capacity; /**< bytes per frame; 0 = take the existing pool's */
    uint32_t slot_count;    /**< 1 to MMPOOL_MAX_SLOTS; 0 = take the existing pool's.
                               Creating needs this and slot_capacity non-zero */
    uint32_t flags;         /**< MMPOOL_CREATE, MMPOOL_EXCL */
    uint32_t mode;          /**< permission bits on create, read and write bits only (within
                                 0666; any of 07111 is MMPOOL_EINVAL), never read without
                                 write for group or others (0640, 0644: MMPOOL_EINVAL;
                                 readers need write access); 0 = 0600 */
    uint32_t read_mode;     /**< MMPOOL_READ_LATEST or MMPOOL_READ_FIFO, for this handle */
    const char *format;     /**< optional payload description stored at create,
                               at most MMPOOL_FORMAT_MAX bytes, such as "bgr8 1920x1080";
                               ignored when the pool exists */
    uint64_t spin_ns;       /**< for this handle: how long a blocked call (a read waiting for a
                                 frame, a write waiting for a slot or the commit lock) watches
                                 the pool's shared state, with the CPU's pause instruction,
                                 before it sleeps in the kernel; it tries again the moment that
                                 state changes. Never longer than spin_ns per wait; timeouts,
                                 mmpool_interrupt() and an unlink end it as they end a sleep.
                                 0 (default): sleep at once. Burns a CPU while it spins: for a
                                 reader on a core of its own (docs/guide.md, "Spinning") */
    uint64_t reserved[3];   /**< must be zero (MMPOOL_EINVAL otherwise) */
} mmpool_options;

/** What a read tells about the frame it took. */
typedef struct mmpool_frame {
    uint64_t seq;          /**< 1, 2, 3, ... per pool, given at commit */
    uint64_t timestamp_ns; /**< commit time, on the clock of mmpool_now_ns() */
    uint64_t len;          /**< payload bytes */
    uint64_t dropped;      /**< frames between this handle's previous read and this one that it
                                never read (seq - previous seq - 1); 0 on its first read */
    uint64_t reserved[2];  /**< zero */
} mmpool_frame;

/** A frame borrowed in place by mmpool_read_acquire(). */
typedef struct mmpool_view {
    const void *data;      /**< the frame in place, valid until release or close
                              (and not in a child forked meanwhile) */
    mmpool_frame frame;    /**< the frame's seq, time and length */
    uint64_t reserved_[2]; /**< identifies the loan; do not touch */
} mmpool_view;

/** What mmpool_stat() reports about a handle and its pool. */
typedef struct mmpool_stats {
    uint64_t slot_capacity; /**< bytes per frame */
    uint32_t slot_count;    /**< slots in the pool */
    uint32_t read_mode;     /**< this handle's MMPOOL_READ_LATEST or MMPOOL_READ_FIFO */
    uint64_t last_seq;      /**< newest committed seq, 0 if none */
    char format[64];        /**< payload description given at create, NUL-terminated */
    uint64_t owner;         /**< the pool file's owner when the handle was opened: its uid
                                 (Windows: the last sub-authority, RID, of the owner's SID) */
    uint32_t created;       /**< 1 if this handle created the pool, 0 if it opened one that
                                 was there */
    uint32_t handles;       /**< live handles attached to the pool now, this one included */
    uint32_t writers;       /**< of those, the ones that have committed a frame: 0 once every
                                 writer has closed or died */
    uint32_t reserved1;     /**< zero */
    uint64_t reserved[1];   /**< zero */
} mmpool_stats;

/**
 * Opens the pool at path, creating it when opts->flags has MMPOOL_CREATE and
 * no pool is there (a retired one counts as none). A path without a
 * separator ('/', on Windows also a backslash) names a pool in the
 * platform's shared-memory place (Linux: /dev/shm/NAME; Windows: the
 * directory mmpool_default_dir() gives, under %LOCALAPPDATA%). opts
 * NULL adopts an existing pool with the default read mode. On success *out
 * is a new handle; on failure *out is NULL and nothing is left behind.
 * MMPOOL_ETOOMANY if MMPOOL_MAX_HANDLES handles are attached already.
 * MMPOOL_EACCES if the file may not be opened for reading and writing, or
 * if its mode lets group or others read it without writing it, or (the
 * kernel's fs.protected_regular rule for O_CREAT) if it lies in a
 * world-writable sticky directory such as /dev/shm or /tmp and belongs
 * neither to the caller's effective user nor to the directory's owner:
 * anybody can put a pool at a name there first, and read and forge the
 * frames of whoever opens it. MMPOOL_ANY_OWNER lifts that last rule, for
 * deliberate sharing (better: a group-owned directory, see the guide);
 * mmpool_inspect() tells the owner.
 * MMPOOL_EBUSY, with nothing changed, if a retired pool is at the path and
 * another process holds its path lock for 2 s (no call without a timeout
 * waits longer than that for another process).
 */
MMPOOL_API int mmpool_open(mmpool **out, const char *path, const mmpool_options *opts);
/** Closes a handle; aborts its write loan and releases its read loans, whose
 * pointers become invalid. NULL is a no-op. */
MMPOOL_API void mmpool_close(mmpool *pool);
/** Marks the pool retired (handles still on it get MMPOOL_ESTALE), then
 * removes the path. A file that is not a pool: MMPOOL_EFORMAT, nothing
 * removed. MMPOOL_EBUSY, with nothing changed, if another process holds
 * the pool's path lock for 2 s. */
MMPOOL_API int mmpool_unlink(const char *path);
/** Drops every frame that no handle holds. Seqs keep counting. */
MMPOOL_API int mmpool_flush(mmpool *pool);
/** Fills *out with the pool's geometry and format, this handle's read mode
 * and the newest seq. Works on a retired pool too. */
MMPOOL_API int mmpool_stat(const mmpool *pool, mmpool_stats *out);
/** Sets *seq to the pool's newest committed seq (0 if none), reading one
 * cache line of the shared header and making no system call: for a
 * reader that watches for the next frame itself (a spin of its own, as
 * mmpoolsrc's spin window does) before it calls a read. Load it before
 * the read that finds nothing, so that a frame committed in between moves
 * it. A hint only: any process with write access can store any value
 * there, so a read may still find nothing. Returns 0, MMPOOL_ESTALE (with
 * *seq set) once the pool was retired by mmpool_unlink(), MMPOOL_EINVAL
 * for a NULL argument or a handle inherited through fork(). A file
 * removed or replaced by other means (rm) is not looked for, unlike in
 * the other calls: the seq then stops moving, and the next read says
 * MMPOOL_ESTALE, so a watch loop ends itself on time. Like
 * mmpool_interrupt(), it may run in any thread, also while another call
 * on the same handle runs (it reads nothing that a call changes), but not
 * during or after mmpool_close(). */
MMPOOL_API int mmpool_last_seq(const mmpool *pool, uint64_t *seq);
/** Any thread: a call blocked on pool returns MMPOOL_ECANCELED at once; if
 * none is blocked, the next call on pool with a non-zero timeout does, even
 * one that would not have had to wait. Used up either way. */
MMPOOL_API int mmpool_interrupt(mmpool *pool);

/**
 * Event loops. Sets *out to a descriptor that is ready when this handle may
 * have a frame to read: on POSIX a file descriptor, pollable for POLLIN
 * (select, poll, epoll, asyncio's add_reader); on Windows an event HANDLE,
 * signaled (WaitForMultipleObjects, RegisterWaitForSingleObject). Owned by
 * the handle: mmpool_close() closes it, the caller never does, nor reads
 * from it. The same descriptor on every call.
 *
 * Readiness is level-style: the descriptor stays ready while the pool
 * holds a frame this handle has not read, and a read (copy or loan, either
 * mode) that returns MMPOOL_EAGAIN or MMPOOL_ETIMEDOUT re-arms it. Read
 * until MMPOOL_EAGAIN, then go back to the loop. No wake-up is missed;
 * spurious readiness can happen (then a read returns MMPOOL_EAGAIN). An
 * unlink of the pool makes it ready for good (reads return MMPOOL_ESTALE).
 * mmpool_interrupt() on an armed handle makes it ready once: a read with a
 * timeout then returns MMPOOL_ECANCELED, while a read without one neither
 * sees nor uses the interrupt (MMPOOL_EAGAIN, and the handle is quiet
 * again).
 *
 * Cost: writers pay nothing until some handle of the pool asks for an
 * event; then one system call per commit per armed handle. Linux: an
 * epoll descriptor over a datagram socket in the abstract namespace and an
 * eventfd that writers of the same user are handed, so a writer in another
 * network namespace cannot signal it (mmpool_poll() still looks every
 * 100 ms). docs/design.md "Event handles" tells how and why.
 */
MMPOOL_API int mmpool_event_handle(mmpool *pool, intptr_t *out);

/**
 * Waits until at least one of pools[0..count) has a frame that handle has
 * not read, and sets bit i of *ready for each such pool. count 1..64; the
 * same handle may appear twice. timeout_ms as everywhere (0,
 * MMPOOL_WAIT_FOREVER, or ms). Returns 0 with *ready set; MMPOOL_EAGAIN
 * (timeout 0) or MMPOOL_ETIMEDOUT when none is ready; MMPOOL_ECANCELED after
 * mmpool_interrupt() on any of them (used up; with timeout 0 the interrupt
 * is neither seen nor used, as for every call); MMPOOL_ESTALE if one was
 * unlinked; MMPOOL_EINVAL for bad arguments (*ready untouched); MMPOOL_ESYS if
 * the system cannot give a handle its event or wait on them. Gives each
 * handle its event handle, as mmpool_event_handle() does. Like every call
 * on a handle, it must not overlap another call on one of these handles,
 * except mmpool_interrupt(); closing a handle that a running poll waits on
 * is a use after free. Handles not in the poll may be used and closed
 * meanwhile by other threads.
 */
MMPOOL_API int mmpool_poll(mmpool *const pools[], size_t count, int timeout_ms, uint64_t *ready);

/** Copies len bytes in as the next frame, into the oldest slot that no
 * handle holds, waiting up to timeout_ms in all for one to come free and
 * for another writer's commit in progress to end (see Timeouts above);
 * on a timeout or an interrupt nothing is published. len larger than the
 * slot capacity: MMPOOL_E2BIG at once. data may be NULL when len is 0. */
MMPOOL_API int mmpool_write(mmpool *pool, const void *data, size_t len, int timeout_ms);
/** mmpool_write() with timeout 0: MMPOOL_EBUSY if no slot is free, or if
 * another live writer still holds the commit lock after a brief spin
 * (it was preempted or stopped in the middle of its commit). */
MMPOOL_API int mmpool_try_write(mmpool *pool, const void *data, size_t len);
/** Copies the next frame (as the read mode picks it) into buf, waiting up
 * to timeout_ms for one. If cap is smaller than the frame: MMPOOL_ENOSPC,
 * the frame stays unread and frame->len gives its size. A damaged frame:
 * MMPOOL_EFORMAT, and the next read goes on past it. frame may be NULL. */
MMPOOL_API int mmpool_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame,
                           int timeout_ms);
/** mmpool_read() with timeout 0: MMPOOL_EAGAIN if no new frame is there. */
MMPOOL_API int mmpool_try_read(mmpool *pool, void *buf, size_t cap, mmpool_frame *frame);

/** Zero-copy write: borrow the oldest free slot (*data is 4096-byte aligned,
 * *cap its capacity; cap may be NULL), fill it in place, then commit or
 * abort. One write loan per handle; a second acquire is MMPOOL_EINVAL. */
MMPOOL_API int mmpool_write_acquire(mmpool *pool, void **data, size_t *cap, int timeout_ms);
/** Publishes the first len bytes of the write loan as the next frame and
 * ends the loan. If another live writer is in the middle of its commit,
 * waits for it (there is no timeout; mmpool_interrupt ends the wait with
 * MMPOOL_ECANCELED). A pending interrupt is consumed only if the commit has
 * to wait: a commit that can go through at once publishes and leaves the
 * interrupt pending for the next blocking call. len larger than the capacity: MMPOOL_E2BIG and the
 * loan stays held. MMPOOL_ESTALE (retired pool), MMPOOL_EFORMAT (damaged
 * pool) and MMPOOL_ECANCELED also end the loan, unpublished. No loan:
 * MMPOOL_EINVAL. */
MMPOOL_API int mmpool_write_commit(mmpool *pool, size_t len);
/** Ends the write loan without publishing; the slot comes back empty. No
 * loan: MMPOOL_EINVAL. */
MMPOOL_API int mmpool_write_abort(mmpool *pool);
/** Zero-copy read: borrow the next frame in place; its slot is not
 * overwritten until mmpool_read_release(). A handle may hold one read loan
 * per slot, so up to N at once. A damaged frame: MMPOOL_EFORMAT, as for
 * mmpool_read(). */
MMPOOL_API int mmpool_read_acquire(mmpool *pool, mmpool_view *view, int timeout_ms);
/** Ends a read loan and clears the view. Releasing a view that this handle
 * does not hold is MMPOOL_EINVAL. */
MMPOOL_API int mmpool_read_release(mmpool *pool, mmpool_view *view);

/** The monotonic clock that frame timestamps use, in nanoseconds; the same
 * for every process on the machine. */
MMPOOL_API uint64_t mmpool_now_ns(void);
/** "no new frame", ...; "unknown error" for a value outside the table. */
MMPOOL_API const char *mmpool_strerror(int err);
/** "MMPOOL_EAGAIN", ...; "MMPOOL_UNKNOWN" for a value outside the table. */
MMPOOL_API const char *mmpool_err_name(int err);
/** The library's version, "0.1.0"; it differs from MMPOOL_VERSION_* when
 * the program was built against another release's header. */
MMPOOL_API const char *mmpool_version(void);

/* ---- Inspection, for tools and monitors: see mmpool_inspect(). ---- */

/** mmpool_slot_info.state. */
enum {
    MMPOOL_SLOT_EMPTY = 0,     /**< holds no frame */
    MMPOOL_SLOT_COMMITTED = 1, /**< holds frame seq */
    MMPOOL_SLOT_WRITING = 2,   /**< a writer holds it (writer names its entry) */
    MMPOOL_SLOT_DAMAGED = 3    /**< its descriptor fails the checks a read makes;
                                  reading that frame gives MMPOOL_EFORMAT */
};
/** mmpool_handle_info.role bits. */
enum {
    MMPOOL_ROLE_FIFO = 1u << 0, /**< opened with MMPOOL_READ_FIFO */
    MMPOOL_ROLE_READ = 1u << 1, /**< has read a frame */
    MMPOOL_ROLE_WRITE = 1u << 2 /**< has committed a frame */
};

/** A pool's header, as mmpool_inspect() found it. */
typedef struct mmpool_info {
    uint32_t version_major; /**< major version of the file format */
    uint32_t version_minor; /**< minor version of the file format */
    uint64_t slot_capacity; /**< bytes per frame */
    uint32_t slot_count;    /**< slots in the pool */
    uint32_t handle_count;  /**< entries in the handle table (MMPOOL_MAX_HANDLES) */
    uint64_t slot_stride;   /**< bytes from one slot's data to the next */
    uint64_t file_size;     /**< bytes the pool occupies */
    uint64_t created_ns;    /**< creation, ns since the Unix epoch */
    uint64_t last_seq;      /**< newest committed seq, 0 if none */
    uint32_t commit_lock;   /**< entry index + 1 of the handle holding the commit lock
                                 (bits 0..5 of the lock word, see docs/format.md);
                                 0 = none; above 32: the word is damaged (its raw
                                 value) */
    uint32_t retired;       /**< 1: mmpool_unlink() retired it; opening it without
                                 MMPOOL_CREATE gives MMPOOL_ENOENT */
    char format[64];        /**< payload description given at create, NUL-terminated */
    uint64_t owner;         /**< the pool file's owner: its uid (Windows: the last
                                 sub-authority, RID, of the owner's SID); names the owner
                                 after mmpool_open() refused another user's pool */
    uint64_t reserved[3];   /**< zero */
} mmpool_info;

/** One slot, as mmpool_inspect() found it. */
typedef struct mmpool_slot_info {
    uint32_t state;        /**< MMPOOL_SLOT_* */
    uint32_t writer;       /**< entry index + 1 of the writer holding the slot; 0 = none */
    uint64_t pins;         /**< bit i: handle-table entry i holds the frame
                              (a read loan or a copy in progress) */
    uint64_t seq;          /**< the frame's seq; meaningful when COMMITTED */
    uint64_t len;          /**< its payload bytes */
    uint64_t timestamp_ns; /**< its commit time, on the clock of mmpool_now_ns() */
    uint64_t reserved[2];  /**< zero */
} mmpool_slot_info;

/** One entry of the table of attached handles, as mmpool_inspect() found it. */
typedef struct mmpool_handle_info {
    uint32_t in_use;      /**< the entry is marked attached */
    uint32_t alive;       /**< a live handle owns the entry: the kernel still holds
                             its lock. in_use and not alive: its process died or
                             closed it uncleanly; what it holds will be reclaimed */
    uint32_t role;        /**< MMPOOL_ROLE_* bits */
    uint32_t reserved0;   /**< zero */
    uint64_t pid;         /**< process id recorded at attach, for display */
    uint64_t proc_start;  /**< that process's start time, platform unit (Linux:
                             clock ticks since boot), 0 if unknown */
    uint64_t open_ns;     /**< attach time, ns since the Unix epoch */
    uint64_t reserved[2]; /**< zero */
} mmpool_handle_info;

/**
 * Inspects the pool at path (resolved like mmpool_open()) without attaching
 * to it: takes no entry in the table of attached handles, pins no slot and
 * maps nothing, so it works on a pool whose table is full, and never makes
 * a user's call fail (to tell live entries from dead ones on Windows, it
 * holds a shared lock for an instant, which an attaching handle waits
 * out). It checks the header exactly as
 * mmpool_open() does. The result is a snapshot made of several reads, not
 * one atomic view: a pool in use may have moved on in between.
 *
 * Fills *info, the first min(slot_count, slot_cap) elements of slots
 * (element i is slot i) and the first min(MMPOOL_MAX_HANDLES, handle_cap)
 * elements of handles (element i is entry i). slots and handles may be NULL
 * when their cap is 0. A retired pool is still inspected (info->retired is
 * 1). Errors as for mmpool_open(): MMPOOL_ENOENT, MMPOOL_EACCES,
 * MMPOOL_EFORMAT for a file that is not a pool or is damaged or truncated,
 * MMPOOL_EINVAL for bad arguments; on failure the contents of *info, slots
 * and handles are unspecified. Opens the file for reading and writing, like
 * every handle.
 */
MMPOOL_API int mmpool_inspect(const char *path, mmpool_info *info, mmpool_slot_info *slots,
                              size_t slot_cap, mmpool_handle_info *handles, size_t handle_cap);
/** Writes into out (cap bytes) the file path mmpool_open() uses for path: a
 * path with a separator unchanged, a bare name placed in the platform's
 * shared-memory place (Linux: "/dev/shm/NAME"). MMPOOL_EINVAL if out or
 * path is NULL, cap is 0, path is empty or the result does not fit; out is
 * then "" (when out is not NULL and cap > 0). */
MMPOOL_API int mmpool_resolve_path(char *out, size_t cap, const char *path);
/** Writes into out (cap bytes) the directory where bare names live, without
 * a trailing separator (Linux: "/dev/shm"). MMPOOL_EINVAL if out is NULL,
 * cap is 0 or the directory does not fit; out is then "" (when out is not
 * NULL and cap > 0). */
MMPOOL_API int mmpool_default_dir(char *out, size_t cap);

/* The public structs are ABI, shared with the bindings: new fields only
 * ever take reserved space, so sizes and offsets never change. Not part of
 * the API reference: */
/** \cond ABI_CHECKS */
#ifdef __cplusplus
#define MMPOOL_STATIC_ASSERT static_assert
#else
#define MMPOOL_STATIC_ASSERT _Static_assert
#endif
MMPOOL_STATIC_ASSERT(sizeof(mmpool_stats) == 120, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, format) == 24, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, owner) == 88, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, created) == 96, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, handles) == 100, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, writers) == 104, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_stats, reserved) == 112, "mmpool_stats is ABI");
MMPOOL_STATIC_ASSERT(sizeof(mmpool_info) == 160, "mmpool_info is ABI");
MMPOOL_STATIC_ASSERT(offsetof(mmpool_info, owner) == 128, "mmpool_info is ABI");
#undef MMPOOL_STATIC_ASSERT
/** \endcond */

#ifdef __cplusplus
}
#endif

#endif /* MMPOOL_H */
