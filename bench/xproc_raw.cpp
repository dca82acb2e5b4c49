// Cross-process floors and alternatives without mmpool: a raw futex wake,
// a futex ping-pong, and the Full-HD frame through an AF_UNIX socket and a
// pipe. What each measures is in the table at the top of mmpool_bench.cpp.
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "support.hpp"

namespace mmbench {
namespace {

// ---- futexes on the MAP_SHARED page shared with the child ----

// Not FUTEX_PRIVATE_FLAG: keyed on the page, so the other process's wake
// reaches us, as in mmpool.
void futex_wake(std::uint32_t *word) {
    syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// Sleeps until *word differs from old; "" or a timeout error.
std::string futex_wait_change(std::uint32_t *word, std::uint32_t old) {
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(kWaitMs) * 1000000u;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == old) {
        if (now_ns() >= deadline) {
            return "futex wait: no wake-up after " + std::to_string(kWaitMs) + " ms";
        }
        struct timespec rel = {kWaitMs / 1000, 0};
        syscall(SYS_futex, word, FUTEX_WAIT, old, &rel, nullptr, 0);
    }
    return "";
}

// The waker stores t0, bumps word_a (release) and wakes; the sleeper,
// waiting for word_a to change, reads the clock as soon as it runs again.
void BM_futex_wake_latency(benchmark::State &state) {
    for (auto _ : state) {
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        Child child(frames);
        std::string err = child.start([&](Child &c) -> std::string {
            SharedHeader &sh = c.shared();
            c.ready();
            // word_a counts the wakes; one we slept through is missed.
            for (std::uint32_t seen = 0; seen < total;) {
                std::string e = futex_wait_change(&sh.word_a, seen);
                std::uint64_t t1 = mmpool_now_ns();
                if (!e.empty()) {
                    return e;
                }
                seen = __atomic_load_n(&sh.word_a, __ATOMIC_ACQUIRE);
                c.record(seen - 1, t1 - __atomic_load_n(&sh.t0, __ATOMIC_RELAXED));
            }
            return "";
        });
        err = paced_wakes(child, total, err, [&] {
            futex_wake(&child.shared().word_a);
            return std::string();
        });
        if (!finish_child_case(state, child, err)) {
            break;
        }
    }
}
BENCHMARK(BM_futex_wake_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The floor of a spinning reader: the writer stores t0 and bumps word_a
// (release); the child, pinned to another CPU than the writer's, spins on
// word_a with the pause instruction and reads the clock when it changes.
// What it measures is one cache line moving between two cores.
void shm_spin_ping(benchmark::State &state, std::uint64_t period_ns) {
    for (auto _ : state) {
        SpinPlacement placement;
        if (!placement.ok()) {
            state.SkipWithError("needs CPUs 0 and 1");
            break;
        }
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        Child child(frames);
        std::string err = child.start([&](Child &c) -> std::string {
            std::string e = SpinPlacement::pin_child();
            if (!e.empty()) {
                return e;
            }
            SharedHeader &sh = c.shared();
            c.ready();
            const std::uint64_t deadline =
                now_ns() + static_cast<std::uint64_t>(kWaitMs) * 1000000u * 4;
            for (std::uint32_t seen = 0; seen < total;) {
                std::uint32_t now_seen;
                unsigned looks = 0;
                while ((now_seen = __atomic_load_n(&sh.word_a, __ATOMIC_ACQUIRE)) == seen) {
                    __builtin_ia32_pause();
                    if (++looks % 4096 == 0 && now_ns() >= deadline) {
                        return "spin: no change of the word";
                    }
                }
                std::uint64_t t1 = mmpool_now_ns();
                seen = now_seen;
                c.record(seen - 1, t1 - __atomic_load_n(&sh.t0, __ATOMIC_RELAXED));
            }
            return "";
        });
        if (err.empty()) {
            err = child.wait_ready();
        }
        if (err.empty()) {
            SharedHeader &sh = child.shared();
            err = paced(
                total, child,
                [&](unsigned i) {
                    __atomic_store_n(&sh.t0, mmpool_now_ns(), __ATOMIC_RELAXED);
                    __atomic_store_n(&sh.word_a, i + 1, __ATOMIC_RELEASE);
                    return std::string();
                },
                period_ns);
        }
        if (!finish_child_case(state, child, err)) {
            break;
        }
    }
}
void BM_shm_spin_ping(benchmark::State &state) {
    shm_spin_ping(state, kFramePeriodNs);
}
BENCHMARK(BM_shm_spin_ping)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_shm_spin_ping_1kHz(benchmark::State &state) {
    shm_spin_ping(state, kFastPeriodNs);
}
BENCHMARK(BM_shm_spin_ping_1kHz)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Ping-pong with no pacing: we bump word_a and wake, the child waits for it
// and answers on word_b; half of each round trip is one sample. Both sides
// sleep in FUTEX_WAIT, nobody spins. 20 rounds per configured frame, after
// 100 warm-up rounds. The child notes its CPU before answering, for
// same_cpu.
void BM_futex_half_roundtrip(benchmark::State &state) {
    constexpr unsigned kWarmRounds = 100;
    for (auto _ : state) {
        const unsigned rounds = bench_frames() * 20, total = kWarmRounds + rounds;
        Child child(0);
        std::string err = child.start([&](Child &c) -> std::string {
            SharedHeader &sh = c.shared();
            c.ready();
            for (unsigned r = 1; r <= total; r++) {
                std::string e = futex_wait_change(&sh.word_a, r - 1);
                if (!e.empty()) {
                    return e;
                }
                __atomic_store_n(&sh.writer_cpu, static_cast<std::uint32_t>(sched_getcpu()),
                                 __ATOMIC_RELAXED);
                __atomic_store_n(&sh.word_b, r, __ATOMIC_RELEASE);
                futex_wake(&sh.word_b);
            }
            return "";
        });
        if (err.empty()) {
            err = child.wait_ready();
        }
        Samples half;
        half.expected = rounds;
        half.ns.reserve(rounds);
        for (unsigned r = 1; err.empty() && r <= total; r++) {
            SharedHeader &sh = child.shared();
            std::uint64_t t0 = mmpool_now_ns();
            __atomic_store_n(&sh.word_a, r, __ATOMIC_RELEASE);
            futex_wake(&sh.word_a);
            err = futex_wait_change(&sh.word_b, r - 1);
            std::uint64_t t1 = mmpool_now_ns();
            if (r > kWarmRounds) {
                half.ns.push_back((t1 - t0) / 2);
                half.same_cpu += static_cast<std::uint32_t>(sched_getcpu()) ==
                                 __atomic_load_n(&sh.writer_cpu, __ATOMIC_RELAXED);
            }
        }
        if (err.empty()) {
            err = child.finish(kWaitMs);
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        report_latency(state, half);
    }
}
BENCHMARK(BM_futex_half_roundtrip)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---- the Full-HD frame through a byte stream ----

enum class Stream { unix_socket, pipe };

// A descriptor closed at scope exit.
struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd() {
        if (fd >= 0) {
            close(fd);
        }
    }
};

// Makes the channel: rd for the reader child, wr for us; *buffer_bytes is
// the kernel's buffer as it ended up (SO_SNDBUF as the kernel reports it,
// doubled; or the pipe's size).
std::string make_stream(Stream kind, Fd *rd, Fd *wr, double *buffer_bytes) {
    int fds[2];
    if (kind == Stream::unix_socket) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
            return sys_error("socketpair");
        }
    } else if (pipe2(fds, O_CLOEXEC) != 0) {
        return sys_error("pipe2");
    }
    rd->fd = fds[0];
    wr->fd = fds[1];
    if (kind == Stream::unix_socket) {
        int size = 4 << 20;
        for (int fd : fds) {
            if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) != 0 ||
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) != 0) {
                return sys_error("setsockopt");
            }
        }
        socklen_t len = sizeof size;
        if (getsockopt(wr->fd, SOL_SOCKET, SO_SNDBUF, &size, &len) != 0) {
            return sys_error("getsockopt");
        }
        *buffer_bytes = size;
    } else {
        fcntl(wr->fd, F_SETPIPE_SZ, 1 << 20); // may be refused: the size is reported
        *buffer_bytes = fcntl(wr->fd, F_GETPIPE_SZ);
    }
    return "";
}

// The child: reads `total` frames of `bytes` with blocking read() calls and
// stores now - t0 of each once all its bytes are in, after the warm-up.
std::string stream_reader(Child &c, int fd, std::size_t bytes, unsigned total) {
    Memory buf = Memory::private_pages(bytes);
    if (!buf) {
        return "mmap of the frame buffer failed";
    }
    c.ready();
    for (unsigned i = 0; i < total; i++) {
        for (std::size_t got = 0; got < bytes;) {
            ssize_t n = read(fd, buf.data() + got, bytes - got);
            if (n > 0) {
                got += static_cast<std::size_t>(n);
            } else if (n == 0) {
                return "read: end of stream";
            } else if (errno != EINTR) {
                return sys_error("read");
            }
        }
        std::uint64_t t1 = mmpool_now_ns(), t0;
        std::memcpy(&t0, buf.data(), sizeof t0);
        c.record(i, t1 - t0);
    }
    return "";
}

// t0 goes into the frame's first 8 bytes, then the frame into the stream.
std::string send_frame(int fd, const Memory &src, std::size_t bytes) {
    std::uint64_t t0 = mmpool_now_ns();
    std::memcpy(src.data(), &t0, sizeof t0);
    for (std::size_t sent = 0; sent < bytes;) {
        ssize_t n = write(fd, src.data() + sent, bytes - sent);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && errno != EINTR) {
            return sys_error("write");
        }
    }
    return "";
}

void run_stream(benchmark::State &state, Stream kind) {
    const std::size_t bytes = kFullHdBytes;
    for (auto _ : state) {
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        Fd rd, wr;
        double buffer_bytes = 0;
        Memory src = Memory::private_pages(bytes);
        std::string err = src ? make_stream(kind, &rd, &wr, &buffer_bytes) : "mmap failed";
        Child child(frames); // after the descriptors: killed before they close
        if (err.empty()) {
            err = child.start([&](Child &c) {
                close(wr.fd);
                return stream_reader(c, rd.fd, bytes, total);
            });
        }
        if (err.empty()) {
            err = child.wait_ready();
        }
        if (err.empty()) {
            err = paced(total, child, [&](unsigned) { return send_frame(wr.fd, src, bytes); });
        }
        if (!finish_child_case(state, child, err)) {
            break;
        }
        state.counters["buffer_bytes"] = buffer_bytes;
    }
    state.SetLabel(size_label(bytes));
}

void BM_unix_socket(benchmark::State &state) {
    run_stream(state, Stream::unix_socket);
}
BENCHMARK(BM_unix_socket)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_pipe(benchmark::State &state) {
    run_stream(state, Stream::pipe);
}
BENCHMARK(BM_pipe)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
