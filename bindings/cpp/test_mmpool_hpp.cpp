/*
 * Tests of mmpool.hpp: round trips, errors thrown with their code, loans
 * ending in their destructors, move semantics. Built once per C++ standard
 * (17, and 20 where the compiler has it, which adds the std::span calls).
 * Prints each failed check and exits 1 if any failed.
 */
#include <mmpool.hpp>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#ifndef NOMINMAX
#define NOMINMAX /* no min/max macros */
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#endif

static int failures = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Runs expr and checks that it throws mmpool::error with the given code. */
#define CHECK_THROWS(expr, want)                                                                   \
    do {                                                                                           \
        int got_ = 0;                                                                              \
        try {                                                                                      \
            (void)(expr);                                                                          \
        } catch (const mmpool::error &e) {                                                         \
            got_ = e.code();                                                                       \
        }                                                                                          \
        if (got_ != (want)) {                                                                      \
            std::fprintf(stderr, "%s:%d: %s threw %s, expected %s\n", __FILE__, __LINE__, #expr,   \
                         got_ != 0 ? mmpool_err_name(got_) : "nothing", mmpool_err_name(want));    \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

namespace {

/* A pool name of its own for each test, removed when the test ends. */
class scratch_name {
  public:
    explicit scratch_name(const char *tag) {
        std::random_device rd;
        name_ = std::string("mmpool-cpp-") + tag + "-" + std::to_string(mmpool::now_ns()) + "-" +
                std::to_string(rd());
    }
    ~scratch_name() {
        (void)mmpool_unlink(name_.c_str());
    }
    scratch_name(const scratch_name &) = delete;
    scratch_name &operator=(const scratch_name &) = delete;
    const std::string &str() const {
        return name_;
    }

  private:
    std::string name_;
};

mmpool::options create_opts(std::uint64_t cap, std::uint32_t count) {
    mmpool::options o;
    o.slot_capacity = cap;
    o.slot_count = count;
    o.create = true;
    o.exclusive = true;
    return o;
}

void test_copy_round_trip_keeps_bytes_and_metadata() {
    scratch_name name("roundtrip");
    mmpool::options o = create_opts(4096, 3);
    o.format = "text";
    mmpool::pool writer(name.str(), o);
    mmpool::pool reader(name.str());
    const char msg[] = "hello from C++";
    std::uint64_t before = mmpool::now_ns();
    writer.write(msg, sizeof msg);
    char buf[64] = {};
    mmpool::frame_info f = reader.read(buf, sizeof buf);
    CHECK(f.seq == 1);
    CHECK(f.size == sizeof msg);
    CHECK(f.dropped == 0);
    CHECK(f.timestamp_ns >= before && f.timestamp_ns <= mmpool::now_ns());
    CHECK(std::memcmp(buf, msg, sizeof msg) == 0);

    mmpool::stats s = reader.stats();
    CHECK(s.slot_capacity == 4096);
    CHECK(s.slot_count == 3);
    CHECK(s.read_mode == mmpool::read_mode::latest);
    CHECK(s.last_seq == 1);
    CHECK(s.format == "text");
    CHECK(reader.last_seq() == 1);
    writer.write(msg, sizeof msg);
    CHECK(reader.last_seq() == 2);
    mmpool::unlink(name.str());
    CHECK_THROWS(reader.last_seq(), MMPOOL_ESTALE);
}

void test_latest_reader_counts_dropped_frames() {
    scratch_name name("dropped");
    mmpool::pool writer(name.str(), create_opts(64, 4));
    mmpool::pool reader(name.str());
    for (int i = 1; i <= 3; i++) {
        CHECK(writer.try_write(&i, sizeof i));
    }
    int got = 0;
    std::optional<mmpool::frame_info> f = reader.try_read(&got, sizeof got);
    CHECK(f.has_value() && f->seq == 3 && got == 3);
    for (int i = 4; i <= 6; i++) {
        writer.write(&i, sizeof i);
    }
    f = reader.try_read(&got, sizeof got);
    CHECK(f.has_value() && f->seq == 6 && f->dropped == 2 && got == 6);
}

void test_try_calls_report_nothing_without_throwing() {
    scratch_name name("try");
    mmpool::pool writer(name.str(), create_opts(64, 1));
    mmpool::pool reader(name.str());
    char buf[64];
    CHECK(!reader.try_read(buf, sizeof buf).has_value());
    CHECK(!reader.try_read(buf, sizeof buf, std::chrono::milliseconds(5)).has_value());
    CHECK(!reader.try_acquire_read().has_value());
    CHECK(writer.try_write("x", 1));
    {
        mmpool::read_loan held = reader.acquire_read(mmpool::no_wait);
        /* N = 1 and the only slot is held: no room for a writer. */
        CHECK(!writer.try_write("y", 1));
        CHECK(!writer.try_write("y", 1, std::chrono::milliseconds(5)));
        CHECK(!writer.try_acquire_write().has_value());
    }
    CHECK(writer.try_write("y", 1));
}

void test_errors_carry_code_and_name() {
    scratch_name name("errors");
    CHECK_THROWS(mmpool::pool(name.str()), MMPOOL_ENOENT);
    mmpool::pool p(name.str(), create_opts(16, 2));
    CHECK_THROWS(mmpool::pool(name.str(), create_opts(16, 2)), MMPOOL_EEXIST);
    mmpool::options other;
    other.slot_capacity = 32;
    CHECK_THROWS(mmpool::pool(name.str(), other), MMPOOL_EMISMATCH);
    mmpool::options long_format = create_opts(16, 2);
    long_format.format = std::string(MMPOOL_FORMAT_MAX + 1, 'f');
    CHECK_THROWS(mmpool::pool(name.str() + "-long", long_format), MMPOOL_EINVAL);

    char big[17] = {};
    CHECK_THROWS(p.write(big, sizeof big), MMPOOL_E2BIG);
    p.write(big, 16);
    char small[8];
    CHECK_THROWS(p.read(small, sizeof small, mmpool::no_wait), MMPOOL_ENOSPC);
    CHECK_THROWS(p.read(small, sizeof small, std::chrono::milliseconds(5)), MMPOOL_ENOSPC);
    char fits[16];
    CHECK(p.read(fits, sizeof fits, mmpool::no_wait).size == 16);
    CHECK_THROWS(p.read(fits, sizeof fits, std::chrono::milliseconds(5)), MMPOOL_ETIMEDOUT);

    try {
        p.read(fits, sizeof fits, mmpool::no_wait);
        CHECK(false);
    } catch (const mmpool::error &e) {
        CHECK(e.code() == MMPOOL_EAGAIN);
        CHECK(std::strcmp(e.name(), "MMPOOL_EAGAIN") == 0);
        CHECK(std::string(e.what()).find("mmpool_read") != std::string::npos);
        CHECK(std::string(e.what()).find("MMPOOL_EAGAIN") != std::string::npos);
    }
    /* Catchable as the standard base too. */
    bool caught = false;
    try {
        mmpool::unlink(name.str() + "-missing");
    } catch (const std::runtime_error &) {
        caught = true;
    }
    CHECK(caught);
}

void test_stats_tell_the_owner_and_whether_this_handle_created_the_pool() {
    scratch_name name("owner");
    mmpool::pool creator(name.str(), create_opts(64, 2));
    mmpool::pool adopter(name.str());
    mmpool::options again = create_opts(64, 2);
    again.exclusive = false; /* create on a pool that is there: adopts it */
    mmpool::pool also_create(name.str(), again);
    CHECK(creator.stats().created);
    CHECK(!adopter.stats().created);
    CHECK(!also_create.stats().created);
    CHECK(creator.stats().owner == adopter.stats().owner);
#ifndef _WIN32
    CHECK(creator.stats().owner == static_cast<std::uint64_t>(geteuid()));
#endif
    /* any_owner changes nothing for the caller's own pool. */
    mmpool::options any;
    any.any_owner = true;
    mmpool::pool own(name.str(), any);
    CHECK(own.stats().owner == creator.stats().owner && !own.stats().created);
}

#ifndef _WIN32
/* Another user's pool in a world-writable sticky directory (like /dev/shm):
 * refused with MMPOOL_EACCES unless any_owner is set. Root makes the pool
 * and gives it to an unused uid; other users cannot, and skip. */
void test_another_users_pool_in_a_sticky_directory_needs_any_owner() {
    if (geteuid() != 0) {
        std::printf("skipped the owner rule test: needs root to give a pool to another uid\n");
        return;
    }
    const unsigned other = 64125;
    /* The directory and the pool in it, removed however the test ends. */
    struct sticky_dir {
        char dir[40] = "/dev/shm/mmpool-cpp-sticky-XXXXXX";
        std::string pool;
        ~sticky_dir() {
            (void)mmpool_unlink(pool.c_str());
            (void)rmdir(dir);
        }
    } d;
    if (mkdtemp(d.dir) == nullptr || chmod(d.dir, 01777) != 0) {
        CHECK(!"a sticky directory under /dev/shm");
        return;
    }
    d.pool = std::string(d.dir) + "/cam0";
    const std::string &path = d.pool;
    mmpool::options o = create_opts(64, 2);
    o.mode = 0666;
    { mmpool::pool(path, o).write("forged", 6); }
    CHECK(chown(path.c_str(), other, other) == 0);

    CHECK_THROWS(mmpool::pool(path), MMPOOL_EACCES);
    o.exclusive = false;
    CHECK_THROWS(mmpool::pool(path, o), MMPOOL_EACCES);
    mmpool::options any;
    any.any_owner = true;
    {
        mmpool::pool p(path, any);
        CHECK(p.stats().owner == other && !p.stats().created);
        char buf[64];
        CHECK(p.read(buf, sizeof buf, mmpool::no_wait).size == 6);
    }
}
#endif

void test_interrupt_cancels_a_blocked_read() {
    scratch_name name("interrupt");
    mmpool::pool p(name.str(), create_opts(16, 2));
    std::thread t([&p] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        p.interrupt();
    });
    char buf[16];
    CHECK_THROWS(p.read(buf, sizeof buf, std::chrono::seconds(10)), MMPOOL_ECANCELED);
    t.join();
}

void test_write_loan_commits_what_was_filled() {
    scratch_name name("wcommit");
    mmpool::pool writer(name.str(), create_opts(8192, 2));
    mmpool::pool reader(name.str());
    mmpool::write_loan loan = writer.acquire_write();
    CHECK(static_cast<bool>(loan));
    CHECK(loan.size() == 8192);
    CHECK(reinterpret_cast<std::uintptr_t>(loan.data()) % 4096 == 0);
    std::memcpy(loan.data(), "abc", 3);
    CHECK_THROWS(loan.commit(8193), MMPOOL_E2BIG);
    CHECK(static_cast<bool>(loan)); /* still held after E2BIG */
    loan.commit(3);
    CHECK(!loan);
    CHECK(loan.data() == nullptr);
    CHECK_THROWS(loan.commit(3), MMPOOL_EINVAL);
    char buf[8] = {};
    mmpool::frame_info f = reader.read(buf, sizeof buf, mmpool::no_wait);
    CHECK(f.size == 3 && std::memcmp(buf, "abc", 3) == 0);
}

void test_write_loan_not_committed_is_aborted_by_destructor() {
    scratch_name name("wabort");
    mmpool::pool writer(name.str(), create_opts(64, 1));
    mmpool::pool reader(name.str());
    {
        mmpool::write_loan loan = writer.acquire_write(mmpool::no_wait);
        std::memcpy(loan.data(), "lost", 4);
        /* The handle holds its one write loan: a second is refused. */
        CHECK_THROWS(writer.acquire_write(mmpool::no_wait), MMPOOL_EINVAL);
    }
    char buf[64];
    CHECK(!reader.try_read(buf, sizeof buf).has_value());
    /* The slot and the handle's loan are free again. */
    mmpool::write_loan again = writer.acquire_write(mmpool::no_wait);
    again.abort();
    CHECK(!again);
    CHECK_THROWS(again.abort(), MMPOOL_EINVAL);
    CHECK(!reader.try_read(buf, sizeof buf).has_value());
}

void test_write_loan_is_empty_after_a_commit_that_ended_it() {
    scratch_name name("wstale");
    mmpool::pool writer(name.str(), create_opts(64, 1));
    mmpool::write_loan loan = writer.acquire_write(mmpool::no_wait);
    mmpool::unlink(name.str());
    /* The pool was retired under the loan: the commit gives the slot up and
     * fails, and the loan must not claim to hold it any longer. */
    CHECK_THROWS(loan.commit(4), MMPOOL_ESTALE);
    CHECK(!loan);
    CHECK(loan.data() == nullptr);
    CHECK_THROWS(loan.abort(), MMPOOL_EINVAL);
}

#ifndef _WIN32
/* Words a test scribbles through the pool file (docs/format.md): u64
 * last_seq at 256, u32 commit_lock at 264 (entry index + 1 in bits 0-5, the
 * hold's nonce above), and the lock_mark of entry 1 (u32 at 1024 + 64 +
 * 36), which a real holder sets to the lock's value first. The file's pages
 * are those every handle maps, so a pwrite is seen at once. Little-endian
 * hosts, as the CI runs. */
constexpr off_t off_last_seq = 256;
constexpr off_t off_commit_lock = 264;
constexpr off_t off_holder_mark = 1024 + 64 + 36;
constexpr std::uint64_t held_by_entry_1 = (1u << 6) | 2u;

void scribble(const std::string &name, off_t offset, std::uint64_t value, std::size_t bytes) {
    int fd = ::open(("/dev/shm/" + name).c_str(), O_RDWR);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(::pwrite(fd, &value, bytes, offset) == static_cast<ssize_t>(bytes));
        ::close(fd);
    }
}

void test_write_loan_is_empty_after_a_commit_on_a_damaged_pool() {
    scratch_name name("wformat");
    mmpool::pool writer(name.str(), create_opts(64, 1));
    mmpool::pool other(name.str());
    mmpool::pool reader(name.str());
    mmpool::write_loan loan = writer.acquire_write(mmpool::no_wait);
    scribble(name.str(), off_last_seq, UINT64_MAX, 8); /* no seq left to give */
    CHECK_THROWS(loan.commit(1), MMPOOL_EFORMAT);
    CHECK(!loan);
    CHECK(loan.data() == nullptr);
    scribble(name.str(), off_last_seq, 7, 8);
    /* The one slot went back: another writer's frame lands in it. */
    other.write("hello", 5);
    CHECK_THROWS(loan.abort(), MMPOOL_EINVAL);
    char buf[8] = {};
    mmpool::frame_info f = reader.read(buf, sizeof buf, mmpool::no_wait);
    CHECK(f.seq == 8 && f.size == 5 && std::memcmp(buf, "hello", 5) == 0);
}

void test_write_loan_is_empty_after_an_interrupted_commit() {
    scratch_name name("wcancel");
    /* A fresh pool gives its first handles entries 0 and 1; the commit lock
     * is made to look held by the live second one, so the commit waits for
     * it until interrupt(). */
    mmpool::pool writer(name.str(), create_opts(64, 2));
    mmpool::pool holder(name.str());
    mmpool::pool reader(name.str());
    mmpool::write_loan loan = writer.acquire_write(mmpool::no_wait);
    scribble(name.str(), off_holder_mark, held_by_entry_1, 4);
    scribble(name.str(), off_commit_lock, held_by_entry_1, 4);
    writer.interrupt();
    CHECK_THROWS(loan.commit(1), MMPOOL_ECANCELED);
    CHECK(!loan);
    CHECK(loan.data() == nullptr);
    CHECK_THROWS(loan.abort(), MMPOOL_EINVAL);
    scribble(name.str(), off_commit_lock, 0, 4);
    scribble(name.str(), off_holder_mark, 0, 4);
    char buf[8];
    CHECK(!reader.try_read(buf, sizeof buf).has_value()); /* nothing published */
    writer.write("x", 1);                                 /* the slot came back */
}
#endif

void test_read_loan_is_released_by_destructor() {
    scratch_name name("rrelease");
    mmpool::pool writer(name.str(), create_opts(64, 1));
    mmpool::pool reader(name.str());
    writer.write("data", 4);
    {
        mmpool::read_loan loan = reader.acquire_read(mmpool::no_wait);
        CHECK(loan.size() == 4 && std::memcmp(loan.data(), "data", 4) == 0);
        CHECK(loan.seq() == 1 && loan.dropped() == 0 && loan.timestamp_ns() != 0);
        CHECK(!writer.try_write("next", 4)); /* the one slot is pinned */
    }
    CHECK(writer.try_write("next", 4));
    mmpool::read_loan loan = reader.acquire_read(mmpool::no_wait);
    CHECK(loan.info().seq == 2);
    loan.release();
    CHECK(!loan && loan.data() == nullptr && loan.size() == 0);
    CHECK_THROWS(loan.release(), MMPOOL_EINVAL);
    CHECK(writer.try_write("more", 4));
}

void test_moved_pool_is_empty_and_target_works() {
    scratch_name name("movepool");
    mmpool::pool a(name.str(), create_opts(16, 2));
    mmpool::pool b(std::move(a));
    CHECK(!a);
    CHECK(static_cast<bool>(b));
    CHECK(a.c_handle() == nullptr && b.c_handle() != nullptr);
    CHECK_THROWS(a.native_handle(), MMPOOL_EINVAL);
    CHECK_THROWS(a.write("x", 1), MMPOOL_EINVAL);
    CHECK_THROWS(a.stats(), MMPOOL_EINVAL);
    b.write("x", 1);
    CHECK(b.stats().last_seq == 1);
    mmpool::pool c;
    c = std::move(b);
    CHECK(!b && static_cast<bool>(c));
    CHECK(c.stats().last_seq == 1);
}

void test_move_assignment_closes_the_old_handle() {
    scratch_name name("moveclose");
    mmpool::pool keep(name.str(), create_opts(16, 2));
    /* More assignments than a pool has handle entries: each one must close
     * the handle it replaces, or opening runs out (MMPOOL_ETOOMANY). */
    mmpool::pool p;
    for (int i = 0; i < 2 * MMPOOL_MAX_HANDLES; i++) {
        p = mmpool::pool(name.str());
    }
    CHECK(static_cast<bool>(p));
    p.close();
    CHECK(!p);
}

void test_moved_loans_end_once() {
    scratch_name name("moveloan");
    mmpool::pool writer(name.str(), create_opts(64, 2));
    mmpool::pool reader(name.str());
    mmpool::write_loan w;
    {
        mmpool::write_loan first = writer.acquire_write(mmpool::no_wait);
        std::memcpy(first.data(), "moved", 5);
        w = std::move(first);
        CHECK(!first && first.data() == nullptr);
    } /* first's destructor must not abort the loan w now holds */
    w.commit(5);

    mmpool::read_loan r;
    {
        mmpool::read_loan first = reader.acquire_read(mmpool::no_wait);
        r = std::move(first);
        CHECK(!first);
    }
    CHECK(r.size() == 5 && std::memcmp(r.data(), "moved", 5) == 0);
    mmpool::read_loan r2(std::move(r));
    CHECK(!r);
    r2.release();

    /* Assigning over a live write loan aborts it: the slot comes back. */
    mmpool::write_loan a = writer.acquire_write(mmpool::no_wait);
    a = mmpool::write_loan();
    mmpool::write_loan b = writer.acquire_write(mmpool::no_wait);
    CHECK(static_cast<bool>(b));
}

/* Closing a pool ends its loans (mmpool_close does): loans that outlive it
 * are empty and their destructors must not touch the closed handle. */
void test_loans_outliving_their_pool_end_with_it() {
    scratch_name name("outlive");
    mmpool::pool other(name.str(), create_opts(64, 1));
    mmpool::write_loan w;
    mmpool::read_loan r;
    {
        mmpool::pool p(name.str());
        p.write("x", 1);
        r = p.acquire_read(mmpool::no_wait);
        p.close();
        CHECK(!r && r.data() == nullptr && r.size() == 0);
        CHECK_THROWS(r.release(), MMPOOL_EINVAL);
        mmpool::pool q(name.str());
        w = q.acquire_write(mmpool::no_wait);
        CHECK(static_cast<bool>(w));
    } /* q destroyed: w's slot comes back */
    CHECK(!w && w.data() == nullptr && w.size() == 0);
    CHECK_THROWS(w.commit(1), MMPOOL_EINVAL);
    CHECK_THROWS(w.abort(), MMPOOL_EINVAL);
    mmpool::write_loan again = other.acquire_write(mmpool::no_wait);
    CHECK(static_cast<bool>(again));
}

/* C would cut the path at the NUL and open another pool. */
void test_a_path_with_a_nul_is_refused() {
    CHECK_THROWS(mmpool::pool(std::string("mmpool-cpp-nul\0x", 16), create_opts(16, 1)),
                 MMPOOL_EINVAL);
    CHECK_THROWS(mmpool::unlink(std::string("mmpool-cpp-nul\0x", 16)), MMPOOL_EINVAL);
}

void test_optional_loans_work_like_plain_ones() {
    scratch_name name("optloan");
    mmpool::pool writer(name.str(), create_opts(64, 2));
    mmpool::pool reader(name.str());
    std::optional<mmpool::write_loan> w = writer.try_acquire_write();
    CHECK(w.has_value());
    std::memcpy(w->data(), "opt", 3);
    w->commit(3);
    std::optional<mmpool::read_loan> r = reader.try_acquire_read(std::chrono::milliseconds(100));
    CHECK(r.has_value() && r->size() == 3 && std::memcmp(r->data(), "opt", 3) == 0);
}

/* A stand-in for cv::Mat(rows, cols, type, void *data): a wrapper that
 * takes a pointer to non-const although it only reads through it. */
struct void_ptr_wrapper {
    explicit void_ptr_wrapper(void *data) : p(static_cast<const std::uint8_t *>(data)) {}
    const std::uint8_t *p;
};

/* bytes() gives the slot as std::uint8_t (writable on a write loan, const
 * on a read loan), readonly_data() the frame as void * for wrappers like
 * cv::Mat; all at the address data() gives, and nullptr once the loan ends. */
void test_byte_accessors_point_at_the_frame() {
    static_assert(
        std::is_same_v<decltype(std::declval<mmpool::write_loan &>().bytes()), std::uint8_t *>);
    static_assert(std::is_same_v<decltype(std::declval<mmpool::read_loan &>().bytes()),
                                 const std::uint8_t *>);
    static_assert(
        std::is_same_v<decltype(std::declval<mmpool::read_loan &>().readonly_data()), void *>);
    /* Why readonly_data() exists: a read loan's data() cannot reach void *. */
    static_assert(
        !std::is_convertible_v<decltype(std::declval<mmpool::read_loan &>().data()), void *>);

    scratch_name name("bytes");
    mmpool::pool writer(name.str(), create_opts(4096, 2));
    mmpool::pool reader(name.str());
    mmpool::write_loan w = writer.acquire_write(mmpool::no_wait);
    CHECK(static_cast<void *>(w.bytes()) == static_cast<void *>(w.data()));
    for (int i = 0; i < 256; i++) {
        w.bytes()[i] = static_cast<std::uint8_t>(255 - i);
    }
    w.commit(256);
    CHECK(w.bytes() == nullptr);

    mmpool::read_loan r = reader.acquire_read(mmpool::no_wait);
    CHECK(static_cast<const void *>(r.bytes()) == static_cast<const void *>(r.data()));
    CHECK(r.readonly_data() == static_cast<const void *>(r.data()));
    CHECK(r.bytes()[0] == 255 && r.bytes()[255] == 0);
    void_ptr_wrapper wrapped(r.readonly_data());
    CHECK(wrapped.p == r.bytes() && wrapped.p[10] == 245);
    r.release();
    CHECK(r.bytes() == nullptr && r.readonly_data() == nullptr);
    mmpool::read_loan empty;
    CHECK(empty.bytes() == nullptr && empty.readonly_data() == nullptr);
}

#ifdef MMPOOL_HPP_HAS_SPAN
void test_span_calls_round_trip() {
    scratch_name name("span");
    mmpool::pool p(name.str(), create_opts(4096, 2));
    std::vector<std::byte> out(100, std::byte{7});
    p.write(std::span<const std::byte>(out));
    std::vector<std::byte> in(4096);
    mmpool::frame_info f = p.read(std::span<std::byte>(in), mmpool::no_wait);
    CHECK(f.size == 100 && in[99] == std::byte{7});
    mmpool::write_loan w = p.acquire_write();
    std::span<std::byte> slot = w.span();
    CHECK(slot.size() == 4096);
    slot[0] = std::byte{42};
    w.commit(1);
    mmpool::read_loan r = p.acquire_read(mmpool::no_wait);
    CHECK(r.span().size() == 1 && r.span()[0] == std::byte{42});
}
#endif

/* Whether an event descriptor is ready now (ms 0) or becomes ready within
 * ms: what an event loop would be told. */
bool ready_within(mmpool::pool::native_handle_type h, int ms) {
#ifdef _WIN32
    return WaitForSingleObject(reinterpret_cast<HANDLE>(h), static_cast<DWORD>(ms)) ==
           WAIT_OBJECT_0;
#else
    struct pollfd pfd = {static_cast<int>(h), POLLIN, 0};
    return ::poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN) != 0;
#endif
}

/* Generous: a wait that should end, on a loaded machine. */
constexpr int should_arrive_ms = 10000;

#ifndef _WIN32
/* CPU time this thread has used, in ms. */
std::uint64_t thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

/* options::spin_ns reaches the library: 300 ms of spin in a 300 ms wait
 * keeps this thread busy for much of it (a sixth at least on a busy
 * machine); without it the wait sleeps. */
void test_spin_ns_makes_a_blocked_read_spin() {
    scratch_name name("spin");
    mmpool::pool writer(name.str(), create_opts(64, 2));
    mmpool::options spinning;
    spinning.spin_ns = 300000000;
    mmpool::pool spinner(name.str(), spinning);
    mmpool::pool sleeper(name.str());
    char buf[64];
    for (int spins = 1; spins >= 0; spins--) {
        std::uint64_t cpu = thread_cpu_ms();
        auto got =
            (spins ? spinner : sleeper).try_read(buf, sizeof buf, std::chrono::milliseconds(300));
        cpu = thread_cpu_ms() - cpu;
        CHECK(!got);
        CHECK(spins ? cpu >= 50 : cpu < 50);
    }
}
#endif

void test_native_handle_is_ready_while_a_frame_is_unread() {
    scratch_name name("event");
    mmpool::pool writer(name.str(), create_opts(64, 4));
    mmpool::options fifo;
    fifo.read_mode = mmpool::read_mode::fifo;
    mmpool::pool reader(name.str(), fifo);
    static_assert(std::is_same_v<mmpool::pool::native_handle_type, std::intptr_t>);
    mmpool::pool::native_handle_type h = reader.native_handle();
    CHECK(reader.native_handle() == h); /* the same descriptor every time */
    CHECK(!ready_within(h, 0));         /* nothing written yet */

    writer.write("a", 1);
    writer.write("b", 1);
    CHECK(ready_within(h, should_arrive_ms));
    char buf[8];
    CHECK(reader.try_read(buf, sizeof buf).has_value());
    CHECK(ready_within(h, 0)); /* level-style: one frame is still unread */
    CHECK(reader.try_read(buf, sizeof buf).has_value());
    CHECK(!reader.try_read(buf, sizeof buf).has_value());
    CHECK(!ready_within(h, 0)); /* read to EAGAIN: re-armed */

    /* A frame from another thread, while the descriptor is waited on. */
    std::thread later([&writer] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        writer.write("c", 1);
    });
    bool woke = ready_within(h, should_arrive_ms);
    later.join();
    CHECK(woke);
    std::optional<mmpool::frame_info> f = reader.try_read(buf, sizeof buf);
    CHECK(f.has_value() && f->seq == 3 && buf[0] == 'c');
    CHECK(!reader.try_read(buf, sizeof buf).has_value());
    CHECK(!ready_within(h, 0));

    /* interrupt() makes it ready; the next blocking call reports it. */
    reader.interrupt();
    CHECK(ready_within(h, should_arrive_ms));
    CHECK_THROWS(reader.read(buf, sizeof buf, std::chrono::milliseconds(1)), MMPOOL_ECANCELED);
}

void test_poll_reports_the_pools_with_an_unread_frame() {
    scratch_name a_name("polla");
    scratch_name b_name("pollb");
    mmpool::pool a_writer(a_name.str(), create_opts(64, 2));
    mmpool::pool b_writer(b_name.str(), create_opts(64, 2));
    mmpool::pool a(a_name.str());
    mmpool::pool b(b_name.str());
    CHECK(mmpool::poll({&a, &b}, mmpool::no_wait) == 0);
    CHECK(mmpool::poll({&a, &b}, std::chrono::milliseconds(20)) == 0);
    b_writer.write("b", 1);
    CHECK(mmpool::poll({&a, &b}, std::chrono::milliseconds(should_arrive_ms)) == 2u);
    a_writer.write("a", 1);
    CHECK(mmpool::poll({&a, &b, &a}) == 7u); /* listed twice: both bits */
    char buf[8];
    CHECK(a.try_read(buf, sizeof buf).has_value() && b.try_read(buf, sizeof buf).has_value());
    CHECK(mmpool::poll({&a, &b}, mmpool::no_wait) == 0);

    mmpool::pool empty;
    CHECK_THROWS(mmpool::poll({&a, &empty}, mmpool::no_wait), MMPOOL_EINVAL);
    CHECK_THROWS(mmpool::poll({&a, nullptr}, mmpool::no_wait), MMPOOL_EINVAL);
    CHECK_THROWS(mmpool::poll(nullptr, 0, mmpool::no_wait), MMPOOL_EINVAL);
    b.interrupt();
    CHECK_THROWS(mmpool::poll({&a, &b}, std::chrono::milliseconds(should_arrive_ms)),
                 MMPOOL_ECANCELED);
    mmpool::unlink(a_name.str());
    CHECK_THROWS(mmpool::poll({&a, &b}, std::chrono::milliseconds(should_arrive_ms)),
                 MMPOOL_ESTALE);
}

/* Runs one test; an exception that escapes it is a failure too. */
void run(const char *name, void (*test)()) {
    try {
        test();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: unexpected exception: %s\n", name, e.what());
        failures++;
    }
}

#define RUN(test) run(#test, test)

} // namespace

int main() {
    RUN(test_copy_round_trip_keeps_bytes_and_metadata);
    RUN(test_latest_reader_counts_dropped_frames);
    RUN(test_try_calls_report_nothing_without_throwing);
    RUN(test_errors_carry_code_and_name);
    RUN(test_stats_tell_the_owner_and_whether_this_handle_created_the_pool);
#ifndef _WIN32
    RUN(test_another_users_pool_in_a_sticky_directory_needs_any_owner);
#endif
    RUN(test_interrupt_cancels_a_blocked_read);
#ifndef _WIN32
    RUN(test_spin_ns_makes_a_blocked_read_spin);
#endif
    RUN(test_native_handle_is_ready_while_a_frame_is_unread);
    RUN(test_poll_reports_the_pools_with_an_unread_frame);
    RUN(test_write_loan_commits_what_was_filled);
    RUN(test_write_loan_not_committed_is_aborted_by_destructor);
    RUN(test_write_loan_is_empty_after_a_commit_that_ended_it);
#ifndef _WIN32
    RUN(test_write_loan_is_empty_after_a_commit_on_a_damaged_pool);
    RUN(test_write_loan_is_empty_after_an_interrupted_commit);
#endif
    RUN(test_read_loan_is_released_by_destructor);
    RUN(test_moved_pool_is_empty_and_target_works);
    RUN(test_move_assignment_closes_the_old_handle);
    RUN(test_moved_loans_end_once);
    RUN(test_loans_outliving_their_pool_end_with_it);
    RUN(test_a_path_with_a_nul_is_refused);
    RUN(test_optional_loans_work_like_plain_ones);
    RUN(test_byte_accessors_point_at_the_frame);
#ifdef MMPOOL_HPP_HAS_SPAN
    RUN(test_span_calls_round_trip);
    std::printf("(with std::span)\n");
#endif
    if (failures != 0) {
        std::fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("all mmpool.hpp checks passed (C++%ld)\n", __cplusplus / 100 % 100);
    return 0;
}
