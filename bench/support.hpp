// Helpers shared by the benchmark cases: sizes, clocks, pacing, page-aligned
// pre-faulted memory, pools that clean up after themselves, forked children
// that are always reaped, and the latency counters.
#ifndef MMPOOL_BENCH_SUPPORT_HPP
#define MMPOOL_BENCH_SUPPORT_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <benchmark/benchmark.h>
#include <mmpool.h>

namespace mmbench {

constexpr std::size_t kFullHdBytes = 1920 * 1080 * 3; // 6,220,800: BGR8 Full-HD
constexpr std::uint32_t kSlots = 3;                   // slots per pool, buffers per baseline
constexpr std::uint64_t kFramePeriodNs = 16666667;    // 60 fps
constexpr std::uint64_t kFastPeriodNs = 1000000;      // 1 kHz, for the spinning cases
constexpr unsigned kWarmFrames = 3; // unrecorded frames first: one per slot, faults pages
constexpr int kWaitMs = 5000;       // timeout of every wait the other process will end
constexpr int kReadyMs = 10000;     // longest wait for a child to be ready

// ---- sizes, clocks, parameters ----

// The frame sizes of the in-process cases, their Arg "bytes".
constexpr std::size_t kFrameSizes[] = {64, 4096, 1u << 20, kFullHdBytes, 32u << 20};
// "64B", "4KiB", "1MiB", "FullHD", "32MiB": the label of a size's results.
std::string size_label(std::size_t bytes);
// bytes rounded up to a whole page: the distance between two pool slots.
std::size_t page_round(std::size_t bytes);
// CLOCK_MONOTONIC in ns, the clock of mmpool_now_ns(), inline (vDSO).
std::uint64_t now_ns();
// Mean cost of one now_ns() call, measured once: what manual timing adds.
double clock_overhead_ns();
// Sleeps until CLOCK_MONOTONIC reaches t (clock_nanosleep, TIMER_ABSTIME).
void sleep_until_ns(std::uint64_t t);
// MMPOOL_BENCH_FRAMES (default 300): recorded frames per paced case.
unsigned bench_frames();
// A pool name unique to this process and call: mmpool-bench-PID-WHAT-N.
std::string unique_name(const char *what);
// "what: MMPOOL_EAGAIN (no new frame)", for SkipWithError.
std::string pool_error(const char *what, int rc);
// "what: strerror(errno)".
std::string sys_error(const char *what);

// ---- memory ----

// Page-aligned memory, written once so that every page is faulted in.
// Private: anonymous. Shared: a MAP_SHARED file in /dev/shm, unlinked at
// once, so it is the same kind of memory as a pool's slots.
class Memory {
  public:
    static Memory private_pages(std::size_t bytes);
    static Memory shared_pages(std::size_t bytes);
    Memory() = default;
    Memory(Memory &&other) noexcept;
    Memory &operator=(Memory &&other) noexcept;
    Memory(const Memory &) = delete;
    Memory &operator=(const Memory &) = delete;
    ~Memory();
    unsigned char *data() const {
        return data_;
    }
    explicit operator bool() const {
        return data_ != nullptr;
    }

  private:
    unsigned char *data_ = nullptr;
    std::size_t size_ = 0;
};

// ---- pools ----

// A pool created under a unique name, with the handles opened on it; the
// destructor closes them and unlinks the pool.
class Pool {
  public:
    Pool() = default;
    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;
    ~Pool();
    // Creates the pool and opens the first handle (the writer). 0 or MMPOOL_E*.
    // In /dev/shm, or in dir when given (a huge-page tmpfs).
    int create(const char *what, std::size_t capacity, std::uint32_t slots,
               const char *dir = nullptr);
    // Opens another handle on the pool in this process.
    int open(mmpool **out, std::uint32_t read_mode);
    mmpool *writer() const {
        return handles_.empty() ? nullptr : handles_.front();
    }
    const std::string &name() const {
        return name_;
    }

  private:
    std::string name_;
    std::vector<mmpool *> handles_;
    int live_ = -1; // our entry in the signal handler's list of paths
};

// Makes SIGINT, SIGTERM and SIGHUP remove the pools alive at that moment
// before the process dies of the signal. Children die with us.
void install_cleanup_handlers();

// A handle closed when it goes out of scope; for the child's own handles.
struct HandleCloser {
    void operator()(mmpool *p) const {
        mmpool_close(p);
    }
};
using Handle = std::unique_ptr<mmpool, HandleCloser>;
// Opens the existing pool `name` with read_mode. 0 or MMPOOL_E*.
int open_handle(Handle *out, const std::string &name, std::uint32_t read_mode,
                std::uint64_t spin_ns = 0);

// For the spinning cases: while it lives, this process runs on CPU 0 only,
// and child_cpu() is another CPU for the child to pin itself to (a spinner
// sharing the writer's CPU would only take turns with it). Restores the
// process's CPUs when destroyed. ok() is false with fewer than 2 CPUs.
class SpinPlacement {
  public:
    SpinPlacement();
    SpinPlacement(const SpinPlacement &) = delete;
    SpinPlacement &operator=(const SpinPlacement &) = delete;
    ~SpinPlacement();
    bool ok() const {
        return ok_;
    }
    // Child: pins the calling process to the child's CPU; "" or why not.
    static std::string pin_child();

  private:
    bool ok_ = false;
    bool saved_ = false;
    unsigned char old_[128] = {}; // a cpu_set_t, kept opaque here
};

// ---- child processes ----

// The latencies of one cross-process run.
struct Samples {
    std::vector<std::uint64_t> ns; // one per frame received, warm-up excluded
    std::uint64_t expected = 0;    // frames sent after the warm-up
    std::uint64_t same_cpu = 0;    // samples whose reader ran on the writer's CPU
};

// Memory shared with a forked child (MAP_SHARED anonymous, mapped before
// fork): a small header, then `slots` 64-bit values (latencies).
struct SharedHeader {
    char error[160];        // the child's failure; empty on success
    std::uint32_t stop;     // parent -> child: finish now
    std::uint64_t received; // child's frame count
    std::uint64_t dropped;  // child's sum of frame.dropped
    std::uint32_t word_a;   // futex words of the raw futex cases
    std::uint32_t word_b;
    std::uint64_t t0;         // writer's timestamp for the raw futex cases
    std::uint32_t writer_cpu; // the CPU the writer sent the last frame from
    std::uint32_t same_cpu;   // recorded samples whose reader ran on writer_cpu
};

// One forked child running a body; the parent always reaps it: finish()
// waits a bounded time, then kills; the destructor kills whatever is left.
// The child dies with the parent (PR_SET_PDEATHSIG) and leaves with _exit,
// so it never runs the parent's benchmark code or flushes its streams.
class Child {
  public:
    // body runs in the child; it returns "" on success or an error message.
    using Body = std::function<std::string(Child &)>;
    explicit Child(std::size_t slots);
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;
    ~Child();
    // Parent: forks. "" or an error message.
    std::string start(const Body &body);
    // Child: tells the parent it is ready (opened, pre-faulted).
    void ready();
    // Child: stores latency ns of frame i (0-based, in the order sent),
    // unless it is a warm-up frame, and counts it in same_cpu if we run on
    // the CPU the writer sent it from. Frames never recorded are missed.
    void record(std::uint64_t i, std::uint64_t ns);
    // Parent: waits for ready(); "" or why not (the child's error, if any).
    std::string wait_ready();
    // Parent: waits up to timeout_ms for the child to exit, killing it
    // after that; "" if it exited with 0, else its error.
    std::string finish(int timeout_ms);
    SharedHeader &shared() const {
        return *header_;
    }
    // Parent, after finish(): what the child recorded.
    Samples samples() const;

  private:
    std::string child_error(const char *fallback) const;
    void *map_ = nullptr;
    std::size_t map_size_ = 0;
    SharedHeader *header_ = nullptr;
    std::uint64_t *values_ = nullptr;
    std::size_t slots_ = 0;
    int ready_fd_[2] = {-1, -1};
    pid_t pid_ = -1;
};

// ---- paced writers and latency counters ----

// Calls send(i) for i in [0, total) at the ticks of a 60 fps clock (the
// first one period from now), sleeping until each, after noting our CPU in
// child's writer_cpu; stops at the first error send returns. Ticks missed
// in a stall are skipped, not caught up with frames back to back.
// period_ns other than the default: that clock instead (the spinning cases
// also run at 1 kHz).
std::string paced(unsigned total, Child &child, const std::function<std::string(unsigned)> &send,
                  std::uint64_t period_ns = kFramePeriodNs);

// Sets counters p50_us, p99_us, mean_us, min_us, max_us, frames (samples),
// missed (expected - frames) and same_cpu (fraction of the samples), and
// the iteration's manual time to the p50.
void report_latency(benchmark::State &state, Samples s);

// The waker's side of the raw wake-up cases: waits for the child to be
// ready, then once per tick stores t0 and i + 1 in word_a (release) and
// calls wake(). "" or an error; err, if not empty, is returned at once.
std::string paced_wakes(Child &child, unsigned total, const std::string &err,
                        const std::function<std::string()> &wake);

// Ends one iteration of a case that fed a child: unless err already says
// the run failed, waits for the child to finish; then reports its samples
// (report_latency) or the error (SkipWithError). False if the case failed:
// the caller leaves its loop.
bool finish_child_case(benchmark::State &state, Child &child, std::string err);

} // namespace mmbench

#endif // MMPOOL_BENCH_SUPPORT_HPP
