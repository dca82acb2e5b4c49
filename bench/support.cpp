// Helpers of the benchmark cases (support.hpp).
//
// Sections: sizes, clocks, parameters; memory; pools; child processes;
// paced writers and latency counters.
#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace mmbench {

// ---- sizes, clocks, parameters ----

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::uint64_t kMissing = UINT64_MAX; // a frame the child never recorded

} // namespace

std::string size_label(std::size_t bytes) {
    if (bytes == kFullHdBytes) {
        return "FullHD";
    }
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) {
        return std::to_string(bytes >> 20) + "MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return std::to_string(bytes >> 10) + "KiB";
    }
    return std::to_string(bytes) + "B";
}

std::size_t page_round(std::size_t bytes) {
    return (bytes + kPage - 1) / kPage * kPage;
}

std::uint64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

double clock_overhead_ns() {
    static const double overhead = [] {
        constexpr int kCalls = 100000;
        std::uint64_t t0 = now_ns();
        for (int i = 0; i < kCalls; i++) {
            std::uint64_t t = now_ns();
            benchmark::DoNotOptimize(t);
        }
        return static_cast<double>(now_ns() - t0) / kCalls;
    }();
    return overhead;
}

void sleep_until_ns(std::uint64_t t) {
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(t / 1000000000u);
    ts.tv_nsec = static_cast<long>(t % 1000000000u);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

unsigned bench_frames() {
    const char *env = std::getenv("MMPOOL_BENCH_FRAMES");
    if (env == nullptr || *env == '\0') {
        return 300;
    }
    char *end = nullptr;
    unsigned long n = std::strtoul(env, &end, 10);
    return *end == '\0' && n >= 1 && n <= 1000000 ? static_cast<unsigned>(n) : 300;
}

std::string unique_name(const char *what) {
    static unsigned counter;
    return "mmpool-bench-" + std::to_string(getpid()) + "-" + what + "-" +
           std::to_string(counter++);
}

std::string pool_error(const char *what, int rc) {
    return std::string(what) + ": " + mmpool_err_name(rc) + " (" + mmpool_strerror(rc) + ")";
}

std::string sys_error(const char *what) {
    return std::string(what) + ": " + std::strerror(errno);
}

// ---- memory ----

Memory Memory::private_pages(std::size_t bytes) {
    Memory m;
    std::size_t size = page_round(bytes);
    void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        m.data_ = static_cast<unsigned char *>(p);
        m.size_ = size;
        std::memset(p, 0x5a, size);
    }
    return m;
}

Memory Memory::shared_pages(std::size_t bytes) {
    Memory m;
    std::size_t size = page_round(bytes);
    std::string path = "/dev/shm/" + unique_name("buffers");
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return m;
    }
    unlink(path.c_str()); // the mapping keeps the memory; nothing is left behind
    void *p = MAP_FAILED;
    if (ftruncate(fd, static_cast<off_t>(size)) == 0) {
        p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd);
    if (p != MAP_FAILED) {
        m.data_ = static_cast<unsigned char *>(p);
        m.size_ = size;
        std::memset(p, 0x5a, size);
    }
    return m;
}

Memory::Memory(Memory &&other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
}

Memory &Memory::operator=(Memory &&other) noexcept {
    std::swap(data_, other.data_); // other unmaps what this held
    std::swap(size_, other.size_);
    return *this;
}

Memory::~Memory() {
    if (data_ != nullptr) {
        munmap(data_, size_);
    }
}

// ---- pools ----

namespace {

// The paths of the pools alive now, for the handler of SIGINT and SIGTERM,
// which may only call async-signal-safe functions such as unlink().
constexpr int kLivePools = 8;
char live_paths[kLivePools][160];
volatile sig_atomic_t live_used[kLivePools];

int remember_pool(const std::string &name) {
    for (int i = 0; i < kLivePools; i++) {
        if (live_used[i] == 0) {
            const char *dir = name.find('/') == std::string::npos ? "/dev/shm/" : "";
            std::snprintf(live_paths[i], sizeof live_paths[i], "%s%s", dir, name.c_str());
            std::atomic_signal_fence(std::memory_order_seq_cst); // the path, then the flag
            live_used[i] = 1;
            return i;
        }
    }
    return -1;
}

void on_fatal_signal(int sig) {
    for (int i = 0; i < kLivePools; i++) {
        if (live_used[i] != 0) {
            unlink(live_paths[i]);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

} // namespace

void install_cleanup_handlers() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : kCleanupSignals) {
        sigaction(sig, &sa, nullptr);
    }
}

Pool::~Pool() {
    for (auto it = handles_.rbegin(); it != handles_.rend(); ++it) {
        mmpool_close(*it);
    }
    if (!handles_.empty()) {
        mmpool_unlink(name_.c_str());
    }
    if (live_ >= 0) {
        live_used[live_] = 0;
    }
}

int Pool::create(const char *what, std::size_t capacity, std::uint32_t slots, const char *dir) {
    mmpool_options opts{};
    opts.slot_capacity = capacity;
    opts.slot_count = slots;
    opts.flags = MMPOOL_CREATE | MMPOOL_EXCL;
    name_ = dir != nullptr ? std::string(dir) + "/" + unique_name(what) : unique_name(what);
    mmpool *h = nullptr;
    int rc = mmpool_open(&h, name_.c_str(), &opts);
    if (rc == 0) {
        handles_.push_back(h);
        live_ = remember_pool(name_);
    }
    return rc;
}

int Pool::open(mmpool **out, std::uint32_t read_mode) {
    mmpool_options opts{};
    opts.read_mode = read_mode;
    int rc = mmpool_open(out, name_.c_str(), &opts);
    if (rc == 0) {
        handles_.push_back(*out);
    }
    return rc;
}

int open_handle(Handle *out, const std::string &name, std::uint32_t read_mode,
                std::uint64_t spin_ns) {
    mmpool_options opts{};
    opts.read_mode = read_mode;
    opts.spin_ns = spin_ns;
    mmpool *h = nullptr;
    int rc = mmpool_open(&h, name.c_str(), &opts);
    out->reset(h);
    return rc;
}

// ---- CPU placement of the spinning cases ----

static_assert(sizeof(cpu_set_t) <= 128, "SpinPlacement keeps a cpu_set_t");

SpinPlacement::SpinPlacement() {
    cpu_set_t old;
    CPU_ZERO(&old);
    if (sched_getaffinity(0, sizeof old, &old) != 0 || CPU_COUNT(&old) < 2 || !CPU_ISSET(0, &old) ||
        !CPU_ISSET(1, &old)) {
        return;
    }
    std::memcpy(old_, &old, sizeof old);
    saved_ = true;
    cpu_set_t zero;
    CPU_ZERO(&zero);
    CPU_SET(0, &zero);
    ok_ = sched_setaffinity(0, sizeof zero, &zero) == 0;
}

SpinPlacement::~SpinPlacement() {
    if (saved_) {
        cpu_set_t old;
        std::memcpy(&old, old_, sizeof old);
        sched_setaffinity(0, sizeof old, &old);
    }
}

std::string SpinPlacement::pin_child() {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? "" : "sched_setaffinity(CPU 1) failed";
}

// ---- child processes ----

Child::Child(std::size_t slots) {
    std::size_t head = (sizeof(SharedHeader) + 63) / 64 * 64;
    map_size_ = page_round(head + slots * sizeof(std::uint64_t));
    void *p = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        map_ = p;
        header_ = new (p) SharedHeader();
        values_ = reinterpret_cast<std::uint64_t *>(static_cast<char *>(p) + head);
        slots_ = slots;
        std::fill(values_, values_ + slots, kMissing);
    }
}

Child::~Child() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    for (int fd : ready_fd_) {
        if (fd >= 0) {
            close(fd);
        }
    }
    if (map_ != nullptr) {
        munmap(map_, map_size_);
    }
}

std::string Child::start(const Body &body) {
    if (map_ == nullptr) {
        return "mmap of the memory shared with the child failed";
    }
    if (pipe2(ready_fd_, O_CLOEXEC) != 0) {
        return sys_error("pipe2");
    }
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) {
        return sys_error("fork");
    }
    if (pid_ == 0) {
        // Dies with the parent; and if the parent is already gone, at once.
        // Leaves removing the pools to the parent.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int sig : kCleanupSignals) {
            signal(sig, SIG_DFL);
        }
        if (getppid() != parent) {
            _exit(3);
        }
        close(ready_fd_[0]);
        std::string err;
        try {
            err = body(*this);
        } catch (const std::exception &e) {
            err = e.what();
        } catch (...) {
            err = "unknown exception";
        }
        if (!err.empty()) {
            std::snprintf(header_->error, sizeof header_->error, "%s", err.c_str());
            _exit(1);
        }
        _exit(0);
    }
    close(ready_fd_[1]);
    ready_fd_[1] = -1;
    return "";
}

void Child::record(std::uint64_t i, std::uint64_t ns) {
    if (i < kWarmFrames || i - kWarmFrames >= slots_) {
        return;
    }
    values_[i - kWarmFrames] = ns;
    if (sched_getcpu() ==
        static_cast<int>(__atomic_load_n(&header_->writer_cpu, __ATOMIC_RELAXED))) {
        header_->same_cpu++;
    }
}

Samples Child::samples() const {
    Samples s;
    s.expected = slots_;
    s.same_cpu = header_->same_cpu;
    for (std::size_t i = 0; i < slots_; i++) {
        if (values_[i] != kMissing) {
            s.ns.push_back(values_[i]);
        }
    }
    return s;
}

void Child::ready() {
    char c = 'r';
    while (write(ready_fd_[1], &c, 1) < 0 && errno == EINTR) {
    }
}

std::string Child::child_error(const char *fallback) const {
    return header_->error[0] != '\0' ? std::string("child: ") + header_->error : fallback;
}

std::string Child::wait_ready() {
    struct pollfd pfd = {ready_fd_[0], POLLIN, 0};
    int rc;
    while ((rc = poll(&pfd, 1, kReadyMs)) < 0 && errno == EINTR) {
    }
    if (rc == 0) {
        return "child not ready after " + std::to_string(kReadyMs) + " ms";
    }
    char c;
    if (rc < 0 || read(ready_fd_[0], &c, 1) != 1) {
        return child_error("child exited before it was ready");
    }
    return "";
}

std::string Child::finish(int timeout_ms) {
    if (pid_ <= 0) {
        return "no child";
    }
    std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(timeout_ms) * 1000000u;
    int status = 0;
    bool killed = false;
    for (;;) {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return sys_error("waitpid");
        }
        if (now_ns() >= deadline) {
            kill(pid_, SIGKILL);
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            killed = true;
            break;
        }
        sleep_until_ns(now_ns() + 1000000u);
    }
    pid_ = -1;
    if (killed) {
        return child_error("child") + ": still running after " + std::to_string(timeout_ms) +
               " ms, killed";
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return "";
    }
    std::string how = WIFSIGNALED(status)
                          ? "child killed by signal " + std::to_string(WTERMSIG(status))
                          : "child exited with " + std::to_string(WEXITSTATUS(status));
    return child_error(how.c_str());
}

// ---- paced writers and latency counters ----

std::string paced(unsigned total, Child &child, const std::function<std::string(unsigned)> &send,
                  std::uint64_t period_ns) {
    std::uint64_t tick = now_ns();
    for (unsigned i = 0; i < total; i++) {
        tick += period_ns;
        std::uint64_t now = now_ns();
        if (tick <= now) {
            tick += ((now - tick) / period_ns + 1) * period_ns;
        }
        sleep_until_ns(tick);
        __atomic_store_n(&child.shared().writer_cpu, static_cast<std::uint32_t>(sched_getcpu()),
                         __ATOMIC_RELAXED);
        std::string err = send(i);
        if (!err.empty()) {
            return err;
        }
    }
    return "";
}

namespace {

// Nearest-rank percentile of sorted values: the smallest value that at least
// p of all values are less than or equal to.
double percentile(const std::vector<std::uint64_t> &sorted, double p) {
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    rank = std::min(std::max<std::size_t>(rank, 1), sorted.size());
    return static_cast<double>(sorted[rank - 1]);
}

} // namespace

void report_latency(benchmark::State &state, Samples s) {
    std::vector<std::uint64_t> &ns = s.ns;
    if (ns.empty()) {
        state.SkipWithError("no latencies");
        return;
    }
    std::sort(ns.begin(), ns.end());
    double sum = 0;
    for (std::uint64_t v : ns) {
        sum += static_cast<double>(v);
    }
    double p50 = percentile(ns, 0.50);
    state.counters["p50_us"] = p50 / 1e3;
    state.counters["p99_us"] = percentile(ns, 0.99) / 1e3;
    state.counters["mean_us"] = sum / static_cast<double>(ns.size()) / 1e3;
    state.counters["min_us"] = static_cast<double>(ns.front()) / 1e3;
    state.counters["max_us"] = static_cast<double>(ns.back()) / 1e3;
    state.counters["frames"] = static_cast<double>(ns.size());
    state.counters["missed"] = static_cast<double>(s.expected - ns.size());
    state.counters["same_cpu"] = static_cast<double>(s.same_cpu) / static_cast<double>(ns.size());
    state.SetIterationTime(p50 / 1e9);
}

std::string paced_wakes(Child &child, unsigned total, const std::string &err,
                        const std::function<std::string()> &wake) {
    if (!err.empty()) {
        return err;
    }
    std::string e = child.wait_ready();
    if (!e.empty()) {
        return e;
    }
    SharedHeader &sh = child.shared();
    return paced(total, child, [&](unsigned i) {
        __atomic_store_n(&sh.t0, mmpool_now_ns(), __ATOMIC_RELAXED);
        __atomic_store_n(&sh.word_a, i + 1, __ATOMIC_RELEASE);
        return wake();
    });
}

bool finish_child_case(benchmark::State &state, Child &child, std::string err) {
    if (err.empty()) {
        err = child.finish(kWaitMs);
    }
    if (!err.empty()) {
        state.SkipWithError(err.c_str());
        return false;
    }
    report_latency(state, child.samples());
    return true;
}

} // namespace mmbench
