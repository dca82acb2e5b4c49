/**
 * \file
 * mmpool.hpp: a header-only C++17 wrapper over mmpool.h.
 *
 * Error style: every call that fails throws mmpool::error, which carries the
 * MMPOOL_E* code and its name. The try_ variants and poll() are the
 * exception: they report "nothing came in the time given" (MMPOOL_EAGAIN,
 * MMPOOL_EBUSY, MMPOOL_ETIMEDOUT) as false, an empty std::optional or no
 * ready bit, and throw for everything else. Plain calls wait forever by
 * default and throw on a timeout.
 *
 * Ownership: mmpool::pool owns one handle (move-only, closed by its
 * destructor). A write_loan or read_loan borrows a slot of the pool that
 * made it. A write loan that was not committed is aborted by its destructor
 * (the frame is not published); a read loan is released by its destructor.
 * Both may also be ended early by an explicit call. Closing the pool
 * (close(), its destructor, assigning over it) ends its loans as
 * mmpool_close() does: a loan that outlives its pool is then empty
 * (data() == nullptr, its destructor does nothing), but pointers and spans
 * taken from it earlier point into unmapped memory.
 *
 * Threads: as in mmpool.h, calls on one pool (and its loans) must not
 * overlap, except pool::interrupt().
 */
#ifndef MMPOOL_HPP
#define MMPOOL_HPP

/* In C++ the name mmpool is this namespace, so the C header's global type
 * `mmpool` cannot exist next to it: mmpool.h is included here inside
 * namespace mmpool::c (its functions keep their C linkage), and everything
 * in it but that type is brought back to the global namespace below. The
 * C handle type is mmpool::c::mmpool. */
#ifdef MMPOOL_H
#error                                                                                             \
    "include mmpool.hpp before mmpool.h (or instead of it): mmpool.h declares a global 'mmpool' that clashes with namespace mmpool"
#endif

#include <stddef.h>
#include <stdint.h>

namespace mmpool {
namespace c {
#include "mmpool.h"
} // namespace c
} // namespace mmpool

using mmpool::c::MMPOOL_ANY_OWNER;
using mmpool::c::mmpool_close;
using mmpool::c::MMPOOL_CREATE;
using mmpool::c::mmpool_default_dir;
using mmpool::c::MMPOOL_E2BIG;
using mmpool::c::MMPOOL_EACCES;
using mmpool::c::MMPOOL_EAGAIN;
using mmpool::c::MMPOOL_EBUSY;
using mmpool::c::MMPOOL_ECANCELED;
using mmpool::c::MMPOOL_EEXIST;
using mmpool::c::MMPOOL_EFORMAT;
using mmpool::c::MMPOOL_EINVAL;
using mmpool::c::MMPOOL_EMISMATCH;
using mmpool::c::MMPOOL_ENOENT;
using mmpool::c::MMPOOL_ENOSPC;
using mmpool::c::mmpool_err_name;
using mmpool::c::MMPOOL_ESTALE;
using mmpool::c::MMPOOL_ESYS;
using mmpool::c::MMPOOL_ETIMEDOUT;
using mmpool::c::MMPOOL_ETOOMANY;
using mmpool::c::mmpool_event_handle;
using mmpool::c::MMPOOL_EXCL;
using mmpool::c::mmpool_flush;
using mmpool::c::mmpool_frame;
using mmpool::c::mmpool_handle_info;
using mmpool::c::mmpool_info;
using mmpool::c::mmpool_inspect;
using mmpool::c::mmpool_interrupt;
using mmpool::c::mmpool_last_seq;
using mmpool::c::mmpool_now_ns;
using mmpool::c::MMPOOL_OK;
using mmpool::c::mmpool_open;
using mmpool::c::mmpool_options;
using mmpool::c::mmpool_poll;
using mmpool::c::mmpool_read;
using mmpool::c::mmpool_read_acquire;
using mmpool::c::MMPOOL_READ_FIFO;
using mmpool::c::MMPOOL_READ_LATEST;
using mmpool::c::mmpool_read_release;
using mmpool::c::mmpool_resolve_path;
using mmpool::c::MMPOOL_ROLE_FIFO;
using mmpool::c::MMPOOL_ROLE_READ;
using mmpool::c::MMPOOL_ROLE_WRITE;
using mmpool::c::MMPOOL_SLOT_COMMITTED;
using mmpool::c::MMPOOL_SLOT_DAMAGED;
using mmpool::c::MMPOOL_SLOT_EMPTY;
using mmpool::c::mmpool_slot_info;
using mmpool::c::MMPOOL_SLOT_WRITING;
using mmpool::c::mmpool_stat;
using mmpool::c::mmpool_stats;
using mmpool::c::mmpool_strerror;
using mmpool::c::mmpool_try_read;
using mmpool::c::mmpool_try_write;
using mmpool::c::mmpool_unlink;
using mmpool::c::mmpool_version;
using mmpool::c::mmpool_view;
using mmpool::c::mmpool_write;
using mmpool::c::mmpool_write_abort;
using mmpool::c::mmpool_write_acquire;
using mmpool::c::mmpool_write_commit;

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__has_include)
#if __has_include(<span>) && __cplusplus >= 202002L
#include <span>
#define MMPOOL_HPP_HAS_SPAN 1
#endif
#endif

/** The C++ wrapper. mmpool::c holds the C API as mmpool.h declares it. */
namespace mmpool {

/** The failure of a call: code() is the MMPOOL_E* value, name() its name
 * ("MMPOOL_EAGAIN"), what() says which call failed and why. */
class error : public std::runtime_error {
  public:
    /** call: the C function that failed, for what(); code: its MMPOOL_E* result. */
    error(const char *call, int code)
        : std::runtime_error(std::string(call) + ": " + mmpool_strerror(code) + " (" +
                             mmpool_err_name(code) + ")"),
          code_(code) {}
    /** The MMPOOL_E* value. */
    int code() const noexcept {
        return code_;
    }
    /** The code's name, as mmpool_err_name() gives it. */
    const char *name() const noexcept {
        return mmpool_err_name(code_);
    }

  private:
    int code_;
};

namespace detail {
inline void check(const char *call, int rc) {
    if (rc != 0) {
        throw error(call, rc);
    }
}

/* Whether mmpool_write_commit ended the write loan, by its return code
 * (mmpool.h; src/io.c). The one table of this binding:
 *   0                 published, ended
 *   MMPOOL_ESTALE     pool unlinked: ended, unpublished
 *   MMPOOL_EFORMAT    damaged pool: ended, unpublished
 *   MMPOOL_ECANCELED  interrupted waiting for the commit lock: ended
 *   MMPOOL_EINVAL     the C handle holds no loan: nothing left to end
 *   MMPOOL_E2BIG      len past the capacity: NOT ended, still held
 * Every code but MMPOOL_E2BIG ends it (also one from a failed wait, which
 * the C side aborts as well). mmpool_write_abort and mmpool_read_release
 * end their loan whatever they return. */
inline bool commit_ends_loan(int rc) noexcept {
    return rc != MMPOOL_E2BIG;
}

/* "Nothing in the time given": what the try_ variants answer with false. */
inline bool nothing_came(int rc) noexcept {
    return rc == MMPOOL_EAGAIN || rc == MMPOOL_EBUSY || rc == MMPOOL_ETIMEDOUT;
}

/* The C handle, shared by a pool and the loans it made. Closing the pool
 * closes the handle and sets p to nullptr, so a loan that outlives the pool
 * sees that its loan ended with it instead of using a freed handle. */
struct handle_box {
    c::mmpool *p = nullptr;
};
using shared_handle = std::shared_ptr<handle_box>;
inline c::mmpool *get(const shared_handle &h) noexcept {
    return h ? h->p : nullptr;
}

inline bool has_nul(const std::string &s) noexcept {
    return s.find('\0') != std::string::npos;
}

/* Negative durations mean "wait forever"; longer than INT_MAX ms too. */
inline int to_timeout_ms(std::chrono::milliseconds t) noexcept {
    if (t.count() < 0 || t.count() > INT_MAX) {
        return MMPOOL_WAIT_FOREVER;
    }
    return static_cast<int>(t.count());
}
} // namespace detail

/** Timeout that waits until the call can complete; so does any negative
 * timeout, or one longer than INT_MAX ms. A positive timeout waits at most
 * that long. */
inline constexpr std::chrono::milliseconds forever{-1};
/** Timeout that does not wait: the call succeeds at once or gives up. */
inline constexpr std::chrono::milliseconds no_wait{0};

/** Which frame a read takes (MMPOOL_READ_*); chosen per pool handle. */
enum class read_mode : std::uint32_t {
    latest = MMPOOL_READ_LATEST, /**< the newest frame, skipping older unread ones */
    fifo = MMPOOL_READ_FIFO      /**< the oldest frame newer than the last one read */
};

/** What pool's constructor passes to mmpool_open(); see mmpool_options. */
struct options {
    std::uint64_t slot_capacity = 0; /**< bytes per frame; 0: take the existing pool's */
    std::uint32_t slot_count = 0;    /**< slots; 0: take the existing pool's */
    bool create = false;             /**< MMPOOL_CREATE: create if missing */
    bool exclusive = false;          /**< MMPOOL_EXCL: with create, fail if it exists */
    std::uint32_t mode = 0;          /**< permission bits on create; 0 = 0600 */
    mmpool::read_mode read_mode = mmpool::read_mode::latest; /**< for this handle */
    std::string format; /**< payload description stored at create, at most
                           MMPOOL_FORMAT_MAX bytes, no NUL; ignored when the pool exists */
    /* Added last, so that aggregate initialisation by position still fills
     * the fields above as before. */
    bool any_owner = false;    /**< MMPOOL_ANY_OWNER: open a pool in a world-writable sticky
                                  directory (/dev/shm) whatever user owns its file; without it
                                  another user's pool there throws MMPOOL_EACCES */
    std::uint64_t spin_ns = 0; /**< mmpool_options.spin_ns: how long a blocked call watches the
                                    pool, burning a CPU, before it sleeps; 0 never spins */
};

/** A frame's metadata (mmpool_frame). */
struct frame_info {
    std::uint64_t seq = 0;          /**< 1, 2, 3, ... per pool */
    std::uint64_t timestamp_ns = 0; /**< commit time, on the clock of now_ns() */
    std::uint64_t size = 0;         /**< payload bytes */
    std::uint64_t dropped = 0;      /**< frames between this handle's previous read and this one
                                         that it never read */
};

/** What pool::stats() reports (mmpool_stats). */
struct stats {
    std::uint64_t slot_capacity = 0;                         /**< bytes per frame */
    std::uint32_t slot_count = 0;                            /**< slots in the pool */
    mmpool::read_mode read_mode = mmpool::read_mode::latest; /**< this handle's */
    std::uint64_t last_seq = 0;                              /**< newest committed seq, 0 if none */
    std::string format;        /**< payload description given at create */
    std::uint64_t owner = 0;   /**< the pool file's owner when the handle was opened: its uid
                                    (Windows: the RID of the owner's SID) */
    bool created = false;      /**< this handle created the pool (false: it opened one that
                                    was there) */
    std::uint32_t handles = 0; /**< live handles attached to the pool now, this one included */
    std::uint32_t writers = 0; /**< of those, the ones that have committed a frame (0: every
                                    writer is gone) */
};

/** The monotonic clock of frame timestamps, in ns (mmpool_now_ns()). */
inline std::uint64_t now_ns() noexcept {
    return mmpool_now_ns();
}

/** The library's version, "0.1.0" (mmpool_version()). */
inline const char *version() noexcept {
    return mmpool_version();
}

/** Retires the pool at path and removes it (mmpool_unlink). */
inline void unlink(const std::string &path) {
    if (detail::has_nul(path)) {
        throw error("mmpool_unlink", MMPOOL_EINVAL);
    }
    detail::check("mmpool_unlink", mmpool_unlink(path.c_str()));
}

namespace detail {
inline frame_info to_info(const mmpool_frame &f) noexcept {
    frame_info info;
    info.seq = f.seq;
    info.timestamp_ns = f.timestamp_ns;
    info.size = f.len;
    info.dropped = f.dropped;
    return info;
}
} // namespace detail

/** A slot borrowed for writing in place. size() is the slot capacity;
 * commit(n) publishes the first n bytes. Not committed: aborted by the
 * destructor. An empty (moved-from or ended) loan has data() == nullptr. */
class write_loan {
  public:
    /** An empty loan. */
    write_loan() noexcept = default;
    /** Takes over other's loan; other becomes empty. */
    write_loan(write_loan &&other) noexcept
        : pool_(std::move(other.pool_)), data_(std::exchange(other.data_, nullptr)),
          cap_(std::exchange(other.cap_, 0)) {}
    /** Aborts this loan if it holds one, then takes over other's. */
    write_loan &operator=(write_loan &&other) noexcept {
        if (this != &other) {
            abort_quietly();
            pool_ = std::move(other.pool_);
            data_ = std::exchange(other.data_, nullptr);
            cap_ = std::exchange(other.cap_, 0);
        }
        return *this;
    }
    write_loan(const write_loan &) = delete;
    write_loan &operator=(const write_loan &) = delete;
    /** Aborts the loan if it still holds the slot. */
    ~write_loan() {
        abort_quietly();
    }

    /** Whether the loan holds a slot. */
    explicit operator bool() const noexcept {
        return detail::get(pool_) != nullptr;
    }
    /** The slot, 4096-byte aligned; nullptr when empty. */
    std::byte *data() const noexcept {
        return *this ? data_ : nullptr;
    }
    /** The slot capacity; 0 when empty. */
    std::size_t size() const noexcept {
        return *this ? cap_ : 0;
    }
#ifdef MMPOOL_HPP_HAS_SPAN
    /** data() and size() as a span (C++20). */
    std::span<std::byte> span() const noexcept {
        return {data(), size()};
    }
#endif
    /** data() as unsigned bytes (std::uint8_t, OpenCV's uchar), for pixel
     * arithmetic and for comparing with a wrapper's pointer: a cv::Mat made
     * over the slot and then given to cv::cvtColor() or copyTo() as the
     * destination is reallocated by OpenCV when its size or type does not
     * match, so `mat.data == loan.bytes()` afterwards tells that the slot
     * itself was written. nullptr when empty. */
    std::uint8_t *bytes() const noexcept {
        return reinterpret_cast<std::uint8_t *>(data());
    }

    /** Publishes the first len bytes and ends the loan. len > size():
     * error MMPOOL_E2BIG and the loan stays held. Any other error
     * (MMPOOL_ESTALE: the pool was unlinked; MMPOOL_EFORMAT: it is damaged;
     * MMPOOL_ECANCELED: interrupt() during the wait for another writer's
     * commit) has ended the loan too, and is thrown after the loan became
     * empty. */
    void commit(std::size_t len) {
        if (!*this) {
            throw error("mmpool_write_commit", MMPOOL_EINVAL);
        }
        int rc = mmpool_write_commit(pool_->p, len);
        if (detail::commit_ends_loan(rc)) {
            clear(); // the C side gave the slot up; a later abort must not touch it
        }
        detail::check("mmpool_write_commit", rc);
    }
    /** Gives the slot back unpublished and ends the loan. */
    void abort() {
        if (!*this) {
            throw error("mmpool_write_abort", MMPOOL_EINVAL);
        }
        int rc = mmpool_write_abort(pool_->p);
        clear();
        detail::check("mmpool_write_abort", rc);
    }

  private:
    friend class pool;
    write_loan(detail::shared_handle p, void *data, std::size_t cap) noexcept
        : pool_(std::move(p)), data_(static_cast<std::byte *>(data)), cap_(cap) {}
    void clear() noexcept {
        pool_.reset();
        data_ = nullptr;
        cap_ = 0;
    }
    void abort_quietly() noexcept {
        if (*this) {
            (void)mmpool_write_abort(pool_->p);
        }
        clear();
    }

    detail::shared_handle pool_;
    std::byte *data_ = nullptr;
    std::size_t cap_ = 0;
};

/** A frame borrowed in place; its slot is not overwritten until release()
 * or the destructor. An empty (moved-from or released) loan has
 * data() == nullptr. */
class read_loan {
  public:
    /** An empty loan. */
    read_loan() noexcept = default;
    /** Takes over other's loan; other becomes empty. */
    read_loan(read_loan &&other) noexcept : pool_(std::move(other.pool_)), view_(other.view_) {}
    /** Releases this loan if it holds one, then takes over other's. */
    read_loan &operator=(read_loan &&other) noexcept {
        if (this != &other) {
            release_quietly();
            pool_ = std::move(other.pool_);
            view_ = other.view_;
        }
        return *this;
    }
    read_loan(const read_loan &) = delete;
    read_loan &operator=(const read_loan &) = delete;
    /** Releases the loan if it still holds the frame. */
    ~read_loan() {
        release_quietly();
    }

    /** Whether the loan holds a frame. */
    explicit operator bool() const noexcept {
        return detail::get(pool_) != nullptr;
    }
    /** The frame in place; nullptr when empty. */
    const std::byte *data() const noexcept {
        return *this ? static_cast<const std::byte *>(view_.data) : nullptr;
    }
    /** The frame's payload bytes; 0 when empty. */
    std::size_t size() const noexcept {
        return *this ? static_cast<std::size_t>(view_.frame.len) : 0;
    }
#ifdef MMPOOL_HPP_HAS_SPAN
    /** data() and size() as a span (C++20). */
    std::span<const std::byte> span() const noexcept {
        return {data(), size()};
    }
#endif
    /** The frame as read-only unsigned bytes (std::uint8_t, OpenCV's
     * uchar): for pixel arithmetic, and for APIs that take a pointer to
     * const (`Eigen::Map<const ...>`, `QImage(const uchar *, ...)`);
     * nullptr when empty. The same address as data(). */
    const std::uint8_t *bytes() const noexcept {
        return reinterpret_cast<const std::uint8_t *>(data());
    }
    /** The frame as `void *`, for wrapper types that take a pointer to
     * non-const although they only read through it, as
     * `cv::Mat(rows, cols, type, void *data)` does; nullptr when empty.
     *
     * The bytes stay read-only. The type cannot say so, and nothing traps
     * a write (every handle maps the whole file writable, because pins
     * live in it), but a write changes a published frame that other
     * readers may be reading at that moment. So make the wrapper const
     * (`const cv::Mat image(h, w, CV_8UC3, loan.readonly_data())`) and
     * never pass it where OpenCV writes (an output array, a drawing call).
     *
     * Why it exists: data(), bytes() and span() give pointers to const, and
     * those reach a `void *` parameter only through a const_cast in the
     * caller's code. cv::Mat has no constructor over const data
     * (`cv::_InputArray(const T *, int).getMat()` makes one, but OpenCV
     * calls that class mostly implementation-level, its interface subject
     * to change), and a const cv::Mat still hands out a writable `data`
     * anyway. So the cast is made here, once, under a name that states the
     * promise the type cannot carry. */
    void *readonly_data() const noexcept {
        return const_cast<std::byte *>(data());
    }
    /** The frame's metadata; all zero when empty. */
    frame_info info() const noexcept {
        return *this ? detail::to_info(view_.frame) : frame_info{};
    }
    /** info().seq */
    std::uint64_t seq() const noexcept {
        return info().seq;
    }
    /** info().timestamp_ns */
    std::uint64_t timestamp_ns() const noexcept {
        return info().timestamp_ns;
    }
    /** info().dropped */
    std::uint64_t dropped() const noexcept {
        return info().dropped;
    }

    /** Gives the slot back and ends the loan, also when that fails. */
    void release() {
        if (!*this) {
            pool_.reset();
            throw error("mmpool_read_release", MMPOOL_EINVAL);
        }
        int rc = mmpool_read_release(std::exchange(pool_, nullptr)->p, &view_);
        detail::check("mmpool_read_release", rc);
    }

  private:
    friend class pool;
    read_loan(detail::shared_handle p, const mmpool_view &view) noexcept
        : pool_(std::move(p)), view_(view) {}
    void release_quietly() noexcept {
        if (*this) {
            (void)mmpool_read_release(pool_->p, &view_);
        }
        pool_.reset();
    }

    detail::shared_handle pool_;
    mmpool_view view_{};
};

/** One handle on a pool; closed by the destructor. A default-constructed or
 * moved-from pool is empty: every read, write, acquire, interrupt, flush,
 * stats() or native_handle() on it throws error MMPOOL_EINVAL. */
class pool {
  public:
    /** An empty pool. */
    pool() noexcept = default;
    /** Opens (or with opts.create, creates) the pool at path; see
     * mmpool_open(). Throws on failure; MMPOOL_EINVAL for a NUL in path or
     * format, or a format longer than MMPOOL_FORMAT_MAX. */
    explicit pool(const std::string &path, const options &opts = options()) {
        /* A NUL would cut path or format short in C: another pool, another
         * description. */
        if (opts.format.size() > MMPOOL_FORMAT_MAX || detail::has_nul(opts.format) ||
            detail::has_nul(path)) {
            throw error("mmpool_open", MMPOOL_EINVAL);
        }
        mmpool_options o{};
        o.slot_capacity = opts.slot_capacity;
        o.slot_count = opts.slot_count;
        o.flags = (opts.create ? unsigned(MMPOOL_CREATE) : 0u) |
                  (opts.exclusive ? unsigned(MMPOOL_EXCL) : 0u) |
                  (opts.any_owner ? unsigned(MMPOOL_ANY_OWNER) : 0u);
        o.mode = opts.mode;
        o.read_mode = static_cast<std::uint32_t>(opts.read_mode);
        o.format = opts.format.empty() ? nullptr : opts.format.c_str();
        o.spin_ns = opts.spin_ns;
        /* Allocated first: nothing can throw between opening and owning. */
        auto box = std::make_shared<detail::handle_box>();
        detail::check("mmpool_open", mmpool_open(&box->p, path.c_str(), &o));
        box_ = std::move(box);
    }
    /** Takes over other's handle; other becomes empty. */
    pool(pool &&other) noexcept : box_(std::move(other.box_)) {}
    /** Closes this handle (ending its loans), then takes over other's. */
    pool &operator=(pool &&other) noexcept {
        if (this != &other) {
            close();
            box_ = std::move(other.box_);
        }
        return *this;
    }
    pool(const pool &) = delete;
    pool &operator=(const pool &) = delete;
    /** Closes the handle, as close(). */
    ~pool() {
        close();
    }

    /** Whether the pool holds a handle (is not empty). */
    explicit operator bool() const noexcept {
        return raw() != nullptr;
    }
    /** What native_handle() returns: on POSIX a file descriptor, on
     * Windows an event HANDLE, as an integer (mmpool_event_handle()). */
    using native_handle_type = std::intptr_t;
    /** The handle's event descriptor, for an event loop (epoll, select,
     * WaitForMultipleObjects): ready while this handle has a frame it has
     * not read; a read that finds nothing (try_read() empty, a read that
     * throws MMPOOL_EAGAIN or MMPOOL_ETIMEDOUT) re-arms it. Read until
     * nothing comes, then go back to the loop; readiness may be spurious.
     * An unlink of the pool makes it ready for good (reads throw
     * MMPOOL_ESTALE); interrupt() makes it ready once, and only a read with
     * a timeout reports that (MMPOOL_ECANCELED). The same descriptor on
     * every call; the pool owns it: never read from or close it, and take
     * it out of the loop before the pool closes. Throws MMPOOL_EINVAL on an
     * empty pool, MMPOOL_ESYS if the event cannot be made. */
    native_handle_type native_handle() {
        native_handle_type h = 0;
        detail::check("mmpool_event_handle", mmpool_event_handle(raw(), &h));
        return h;
    }
    /** The C handle, for calls this wrapper does not cover; nullptr when
     * the pool is empty. */
    c::mmpool *c_handle() const noexcept {
        return raw();
    }
    /** Closes the handle now, also ending its loans (they become empty);
     * the pool becomes empty. */
    void close() noexcept {
        if (box_) {
            mmpool_close(std::exchange(box_->p, nullptr));
            box_.reset();
        }
    }

    /** Copies size bytes in as the next frame (mmpool_write()). */
    void write(const void *data, std::size_t size, std::chrono::milliseconds timeout = forever) {
        detail::check("mmpool_write",
                      mmpool_write(raw(), data, size, detail::to_timeout_ms(timeout)));
    }
    /** write(), but false when no slot became free in the time given. */
    bool try_write(const void *data, std::size_t size,
                   std::chrono::milliseconds timeout = no_wait) {
        return ok_or_nothing("mmpool_write",
                             mmpool_write(raw(), data, size, detail::to_timeout_ms(timeout)));
    }

    /** Copies the next frame into buf (cap bytes). A frame larger than cap:
     * error MMPOOL_ENOSPC and the frame stays unread. */
    frame_info read(void *buf, std::size_t cap, std::chrono::milliseconds timeout = forever) {
        mmpool_frame f{};
        detail::check("mmpool_read",
                      mmpool_read(raw(), buf, cap, &f, detail::to_timeout_ms(timeout)));
        return detail::to_info(f);
    }
    /** read(), but empty when no new frame came in the time given. */
    std::optional<frame_info> try_read(void *buf, std::size_t cap,
                                       std::chrono::milliseconds timeout = no_wait) {
        mmpool_frame f{};
        if (!ok_or_nothing("mmpool_read",
                           mmpool_read(raw(), buf, cap, &f, detail::to_timeout_ms(timeout)))) {
            return std::nullopt;
        }
        return detail::to_info(f);
    }

#ifdef MMPOOL_HPP_HAS_SPAN
    /** write() from a span (C++20). */
    void write(std::span<const std::byte> data, std::chrono::milliseconds timeout = forever) {
        write(data.data(), data.size(), timeout);
    }
    /** try_write() from a span (C++20). */
    bool try_write(std::span<const std::byte> data, std::chrono::milliseconds timeout = no_wait) {
        return try_write(data.data(), data.size(), timeout);
    }
    /** read() into a span (C++20). */
    frame_info read(std::span<std::byte> buf, std::chrono::milliseconds timeout = forever) {
        return read(buf.data(), buf.size(), timeout);
    }
    /** try_read() into a span (C++20). */
    std::optional<frame_info> try_read(std::span<std::byte> buf,
                                       std::chrono::milliseconds timeout = no_wait) {
        return try_read(buf.data(), buf.size(), timeout);
    }
#endif

    /** Borrows the oldest free slot to fill in place. One write loan per
     * handle at a time; a second is MMPOOL_EINVAL. */
    write_loan acquire_write(std::chrono::milliseconds timeout = forever) {
        void *data = nullptr;
        std::size_t cap = 0;
        detail::check("mmpool_write_acquire",
                      mmpool_write_acquire(raw(), &data, &cap, detail::to_timeout_ms(timeout)));
        return write_loan(box_, data, cap);
    }
    /** acquire_write(), but empty when no slot became free in the time given. */
    std::optional<write_loan> try_acquire_write(std::chrono::milliseconds timeout = no_wait) {
        void *data = nullptr;
        std::size_t cap = 0;
        if (!ok_or_nothing(
                "mmpool_write_acquire",
                mmpool_write_acquire(raw(), &data, &cap, detail::to_timeout_ms(timeout)))) {
            return std::nullopt;
        }
        return write_loan(box_, data, cap);
    }

    /** Borrows the next frame in place; see mmpool_read_acquire(). */
    read_loan acquire_read(std::chrono::milliseconds timeout = forever) {
        mmpool_view view{};
        detail::check("mmpool_read_acquire",
                      mmpool_read_acquire(raw(), &view, detail::to_timeout_ms(timeout)));
        return read_loan(box_, view);
    }
    /** acquire_read(), but empty when no new frame came in the time given. */
    std::optional<read_loan> try_acquire_read(std::chrono::milliseconds timeout = no_wait) {
        mmpool_view view{};
        if (!ok_or_nothing("mmpool_read_acquire",
                           mmpool_read_acquire(raw(), &view, detail::to_timeout_ms(timeout)))) {
            return std::nullopt;
        }
        return read_loan(box_, view);
    }

    /** Any thread: a blocked call on this pool throws MMPOOL_ECANCELED; if
     * none is blocked, the next call that may wait does (mmpool_interrupt()). */
    void interrupt() {
        detail::check("mmpool_interrupt", mmpool_interrupt(raw()));
    }
    /** Drops every frame that no handle holds. */
    void flush() {
        detail::check("mmpool_flush", mmpool_flush(raw()));
    }
    /** The newest committed seq, one load from the shared header and no
     * system call (mmpool_last_seq()): a hint for a caller that watches for
     * the next frame in a loop of its own; the read that follows checks it.
     * Throws mmpool::error (MMPOOL_ESTALE) once mmpool::unlink() retired the
     * pool (a file removed otherwise: the next read says so). May run in
     * any thread beside other calls on this handle. */
    std::uint64_t last_seq() const {
        std::uint64_t seq = 0;
        detail::check("mmpool_last_seq", mmpool_last_seq(raw(), &seq));
        return seq;
    }
    /** The pool's geometry and format, this handle's read mode and the
     * newest seq (mmpool_stat()). */
    mmpool::stats stats() const {
        mmpool_stats s{};
        detail::check("mmpool_stat", mmpool_stat(raw(), &s));
        mmpool::stats out;
        out.slot_capacity = s.slot_capacity;
        out.slot_count = s.slot_count;
        out.read_mode = static_cast<mmpool::read_mode>(s.read_mode);
        out.last_seq = s.last_seq;
        out.format.assign(s.format, strnlen_(s.format, sizeof s.format));
        out.owner = s.owner;
        out.created = s.created != 0;
        out.handles = s.handles;
        out.writers = s.writers;
        return out;
    }

  private:
    static bool ok_or_nothing(const char *call, int rc) {
        if (rc == 0) {
            return true;
        }
        if (detail::nothing_came(rc)) {
            return false;
        }
        throw error(call, rc);
    }
    static std::size_t strnlen_(const char *s, std::size_t max) noexcept {
        std::size_t n = 0;
        while (n < max && s[n] != '\0') {
            n++;
        }
        return n;
    }

    c::mmpool *raw() const noexcept {
        return detail::get(box_);
    }

    detail::shared_handle box_;
};

/** Waits until at least one of count pools has a frame its handle has not
 * read (mmpool_poll()), and returns a mask with bit i set for each such
 * pools[i]; 0 when none had one in the time given. count 1 to 64; a pool
 * may be listed twice. Throws MMPOOL_ECANCELED after interrupt() on any
 * of them (a timeout other than no_wait), MMPOOL_ESTALE if one was
 * unlinked, MMPOOL_EINVAL for an empty pool, a null pointer or a count out
 * of range. The pools must not be used by other threads meanwhile, except
 * for interrupt(). */
inline std::uint64_t poll(pool *const *pools, std::size_t count,
                          std::chrono::milliseconds timeout = forever) {
    constexpr std::size_t max = 64;
    c::mmpool *handles[max];
    if (pools == nullptr || count == 0 || count > max) {
        throw error("mmpool_poll", MMPOOL_EINVAL);
    }
    for (std::size_t i = 0; i < count; i++) {
        handles[i] = pools[i] != nullptr ? pools[i]->c_handle() : nullptr;
    }
    std::uint64_t ready = 0;
    int rc = mmpool_poll(handles, count, detail::to_timeout_ms(timeout), &ready);
    if (detail::nothing_came(rc)) {
        return 0;
    }
    detail::check("mmpool_poll", rc);
    return ready;
}
/** poll() over a list: `mmpool::poll({&a, &b}, 100ms)`. */
inline std::uint64_t poll(std::initializer_list<pool *> pools,
                          std::chrono::milliseconds timeout = forever) {
    return poll(pools.begin(), pools.size(), timeout);
}

} // namespace mmpool

#endif /* MMPOOL_HPP */
