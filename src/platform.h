/*
 * The platform contract: everything the core needs from the operating
 * system, implemented once per backend (src/posix/, src/win32/). The core
 * never includes an OS header. Every function that can fail returns 0 or a
 * negative MMPOOL_E* code; backends translate OS errors before returning.
 */
#ifndef MMP_PLATFORM_H
#define MMP_PLATFORM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An open pool file: descriptor(s), and on platforms that cannot wait on an
 * address across processes, the kernel objects used to wait. Opaque here. */
typedef struct mmp__file mmp__file;

/* Longest path, in bytes with the terminating NUL, that the library
 * resolves, opens or builds (a pool's path, its directory, a name it is
 * moved aside to). */
#define MMP__PATH_MAX 4096

/*
 * Resolves a user path into out (cap bytes). A path with a separator is
 * copied unchanged; a bare name is placed in the platform's shared-memory
 * directory. MMPOOL_EINVAL if empty or if the result does not fit.
 */
int mmp__resolve_path(char *out, size_t cap, const char *path);

/*
 * Opens the existing regular file at path for reading and writing, without
 * following a final symbolic link, close-on-exec. MMPOOL_ENOENT if absent,
 * MMPOOL_EACCES if denied, MMPOOL_EFORMAT if it is not a regular file.
 */
int mmp__file_open(mmp__file **out, const char *path);

/*
 * Creates a new file of size bytes with permission bits mode, in the
 * directory of path but not yet visible under path, and reserves its
 * storage so that later page faults cannot fail for lack of space
 * (MMPOOL_ENOSPC if the file system has no room).
 */
int mmp__file_create_unnamed(mmp__file **out, const char *path, uint64_t size, uint32_t mode);

/*
 * Gives the unnamed file f the name path. Never replaces anything:
 * MMPOOL_EEXIST if path exists. After success f stays open.
 */
int mmp__file_link(mmp__file *f, const char *path);

/* Closes f (and drops every lock it holds). NULL is a no-op. */
void mmp__file_close(mmp__file *f);

/*
 * Whether this process got f by fork() rather than opening it. In such a
 * child the backend has already closed its copy of the descriptor (so the
 * parent's locks die with the parent) and the mapping was not inherited:
 * f supports nothing but mmp__file_unmap (a no-op) and mmp__file_close.
 */
bool mmp__file_inherited(const mmp__file *f);

/* Size of the file in bytes. */
int mmp__file_size(mmp__file *f, uint64_t *size);

/* Reads len bytes at offset into buf; MMPOOL_EFORMAT if the file ends
 * before offset + len. Used to check the header before anything is mapped. */
int mmp__file_read(mmp__file *f, uint64_t offset, void *buf, size_t len);

/*
 * Reserves the storage of the first size bytes (no-op where already
 * reserved). MMPOOL_ENOSPC if the file system has no room.
 */
int mmp__file_reserve(mmp__file *f, uint64_t size);

/*
 * Maps the first size bytes of f shared and read-write, with the pages
 * faulted in. size must not exceed the file's size (checked by the caller).
 * *addr is page aligned.
 */
int mmp__file_map(mmp__file *f, uint64_t size, void **addr);
/* Unmaps what mmp__file_map returned. */
void mmp__file_unmap(mmp__file *f, void *addr, uint64_t size);

/*
 * Whether the file at path is f itself: 1 yes, 0 no (another file or
 * none), negative on error.
 */
int mmp__file_is_at(mmp__file *f, const char *path);

/*
 * Whether the path f was opened or named at still names f: 1 yes, 0 no (it
 * was removed, or another file took its place), negative on error. A file
 * not yet named is where it belongs: 1.
 */
int mmp__file_at_path(mmp__file *f);

/* Removes the name path. MMPOOL_ENOENT if it is already gone. */
int mmp__path_remove(const char *path);

/*
 * Renames path, if it names f, to a new name in the same directory that no
 * other process uses, never replacing anything, and writes that name into
 * out (cap bytes). Needs the same rights as removing path. On failure path
 * is unchanged: MMPOOL_ENOENT if it does not name f (it is gone, or another
 * file took its place), MMPOOL_EACCES if removing it is not allowed.
 */
int mmp__file_move_aside(mmp__file *f, const char *path, char *out, size_t cap);

/* What the core's access rules need to know about a pool file and its
 * directory (docs/guide.md, "Permissions across users"). */
typedef struct mmp__file_access {
    uint64_t owner;  /* the file's owner: a uid; on Windows the last
                        sub-authority (RID) of the owner's SID */
    uint32_t mode;   /* permission bits, as in opts.mode; 0600 where the
                        platform has none (Windows: ACLs) */
    bool mine;       /* the owner is the caller's effective user */
    bool dir_owner;  /* the owner also owns the file's directory */
    bool shared_dir; /* anybody may add files to the directory but only
                        their owners remove them: world-writable and
                        sticky, as /dev/shm and /tmp */
} mmp__file_access;

/*
 * Fills *out for f, which mmp__file_open opened or mmp__file_link named;
 * the directory is the one of the path it was opened or named at.
 */
int mmp__file_access_get(mmp__file *f, mmp__file_access *out);

/*
 * Advisory lock of one byte of the file, owned by this open file (not by
 * the process), released by the kernel when the file is closed or the
 * process dies: 0 taken, MMPOOL_EBUSY if another open file holds it (a
 * mmp__lock_test running elsewhere does not count: it is waited out).
 * Never blocks on an owner: a caller that must wait polls, so that another
 * process holding the lock can never keep it waiting for longer than it
 * chooses. Locks of the same open file do not conflict.
 */
int mmp__lock_try(mmp__file *f, uint64_t byte);
void mmp__lock_release(mmp__file *f, uint64_t byte);
/*
 * Whether another open file holds the lock of byte: 0 if no other open file
 * holds it, MMPOOL_EBUSY if another does, a negative MMPOOL_E* on error.
 * Never makes another open file's mmp__lock_try fail: POSIX looks without
 * taking anything (F_OFD_GETLK); Windows, which cannot, takes a shared
 * lock for an instant, which mmp__lock_try waits out. Locks of f itself do
 * not count. Used to tell live handle-table entries from dead ones.
 */
int mmp__lock_test(mmp__file *f, uint64_t byte);

/*
 * Sleeps while *word == expected, at most timeout_ms milliseconds (>= 0).
 * Returns 0 when woken, when *word differs, or spuriously; MMPOOL_ETIMEDOUT
 * when the time passed; another negative MMPOOL_E* if it cannot sleep at
 * all (never by returning 0 at once, which would make the caller spin).
 * word lies in the mapping of f; entry is the index (< 32) of the caller's
 * handle-table entry. f and entry let backends that cannot wait on a
 * shared address find their kernel object.
 */
int mmp__wait(mmp__file *f, _Atomic uint32_t *word, uint32_t expected, uint32_t entry,
              int timeout_ms);
/*
 * Wakes every waiter, in any process, sleeping on word. entries has bit i
 * set for each handle-table entry i that may be sleeping on it (a waiter
 * mask); backends that wait per entry wake only those.
 */
void mmp__wake_all(mmp__file *f, _Atomic uint32_t *word, uint32_t entries);

/*
 * Event handles: a kernel object per handle that an event loop can wait on
 * and that any process mapping the pool can signal, knowing only its key.
 * POSIX: a datagram socket bound to "mmpool-ev-KEY" in Linux's abstract
 * namespace (no file; gone with the process) and an eventfd, polled
 * through an epoll set, readable while a signal is queued or counted.
 * Windows: a manual-reset named event Local\mmpool-ev-KEY.
 *
 * mmp__event_open gives f its event, unsignaled, under a new random
 * non-zero key no other event uses, and sets *key; idempotent (the same
 * key again). MMPOOL_ESYS if the system refuses. Called by the thread
 * that owns f.
 */
int mmp__event_open(mmp__file *f, uint64_t *key);
/* The pollable descriptor (POSIX fd) or waitable HANDLE of f's event, -1
 * if it has none. Owned by f: mmp__file_close closes it. */
intptr_t mmp__event_handle(mmp__file *f);
/* Entries whose events a file may keep direct lines to: index < this. */
#define MMP__EVENT_LINES 32
/* Signals the event named key, published in entry index, in any process.
 * Best effort, never blocks: an event that is gone (its process died) or
 * already full of signals is no error, so nothing is returned. Uses a
 * sender f owns, made on first use. direct: the caller is the thread that
 * owns f, so f's direct lines may be used and asked for (POSIX: a
 * same-user event's eventfd, see event_line.c); otherwise (any thread)
 * the signal goes by name. */
void mmp__event_signal(mmp__file *f, uint32_t index, uint64_t key, bool direct);
/* Signals f's own event, if it has one. Safe from any thread. */
void mmp__event_signal_self(mmp__file *f);
/* Unsignals f's own event (drains what is queued). A signal that arrives
 * during or after the call stays. */
void mmp__event_clear(mmp__file *f);
/* Waits until at least one of files[0..count) has its event signaled,
 * count 1..64, each with an event; at most timeout_ms (>= 0) ms. 0 when
 * one is (or spuriously), MMPOOL_ETIMEDOUT, MMPOOL_ESYS if it cannot
 * wait. Does not unsignal anything. */
int mmp__event_wait(mmp__file *const files[], size_t count, int timeout_ms);

/*
 * Copies len bytes of a frame from src into a slot at dst (the regions do
 * not overlap). The writer never reads the frame back, so where the CPU
 * allows, a large frame goes to memory with streaming stores that bypass
 * the cache (src/arch/copy_x86_64.c); elsewhere, and below a measured size,
 * memcpy. Every store is ordered before the caller's next store, so the
 * release that publishes the frame covers them. read_soon: a reader is
 * taking frames right behind the writer (it held a slot as this one was
 * claimed), so the frame is written through the cache, from which that
 * reader will copy it. $MMPOOL_COPY=memcpy turns streaming off.
 */
void mmp__copy_to_slot(void *dst, const void *src, size_t len, bool read_soon);

/*
 * The page size, when larger than MMP__PAGE, that the file system holding
 * path's directory (path: an absolute pool path) gives to shared mappings
 * of its files: the huge page size of a tmpfs mounted with huge=always or
 * huge=within_size (then *required is false), or the page size of a
 * hugetlbfs, whose files must be sized and mapped in whole pages (then
 * *required is true). 0 when its pages are MMP__PAGE or it cannot tell.
 */
uint64_t mmp__path_huge_page(const char *path, bool *required);

/* Monotonic clock in ns, system-wide (comparable across processes). */
uint64_t mmp__monotonic_ns(void);
/* A cheaper monotonic clock in ns that may lag by a few milliseconds
 * (Linux: CLOCK_MONOTONIC_COARSE; Windows: the tick count): for rate
 * limits only, compared only with its own earlier values. */
uint64_t mmp__coarse_ns(void);
/* Wall clock in ns since the Unix epoch (display only). */
uint64_t mmp__realtime_ns(void);
/* The calling process's id. Asked on every call, never cached, so a forked
 * child sees its own. */
uint64_t mmp__process_id(void);
/* When the calling process started, in a platform unit; tells a reused id
 * apart in displays. 0 if unknown. */
uint64_t mmp__process_start(void);
/* Gives up the processor for a moment (spinning on a contended lock). */
void mmp__yield(void);
/* One iteration's pause of a spin-wait loop: the CPU's pause instruction
 * (x86 PAUSE, Arm YIELD), a no-op where there is none. Never a system
 * call. */
void mmp__cpu_pause(void);
/* Sleeps ms (>= 0) milliseconds, through signals (polling a lock held by
 * another process). */
void mmp__sleep_ms(int ms);

#endif /* MMP_PLATFORM_H */
