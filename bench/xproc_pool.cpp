// Cross-process cases through a pool: this process writes, paced at 60 fps
// or back to back; a forked child reads, blocked in mmpool_read or
// mmpool_read_acquire between frames. What each measures is in the table at
// the top of mmpool_bench.cpp.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <poll.h>

#include "support.hpp"

namespace mmbench {
namespace {

// copy: try_write in, mmpool_read out (two copies); loan: write loan in,
// read loan out (no copy); loan_copy: write loan in, mmpool_read out (one
// copy, a producer that draws into the slot and a consumer that keeps the
// frame); event: as copy, but the reader waits in poll() on its event
// handle and reads with mmpool_try_read, as an event loop does.
enum class Path { copy, loan, loan_copy, event, spin_copy, spin_loan };

// The spinning reader's spin_ns: longer than the 16.7 ms between two
// frames, so it is spinning, not asleep, when the next one comes.
constexpr std::uint64_t kSpinNs = 50000000;

bool spins(Path path) {
    return path == Path::spin_copy || path == Path::spin_loan;
}

// The event path's read: mmpool_try_read, and on MMPOOL_EAGAIN a poll() of
// the handle's event descriptor, until a frame comes or kWaitMs pass.
int event_read(mmpool *h, int fd, void *buf, std::size_t bytes, mmpool_frame *frame) {
    const std::uint64_t deadline = mmpool_now_ns() + static_cast<std::uint64_t>(kWaitMs) * 1000000u;
    for (;;) {
        int rc = mmpool_try_read(h, buf, bytes, frame);
        if (rc != MMPOOL_EAGAIN) {
            return rc;
        }
        std::uint64_t now = mmpool_now_ns();
        if (now >= deadline) {
            return MMPOOL_ETIMEDOUT;
        }
        pollfd pf{fd, POLLIN, 0};
        if (poll(&pf, 1, static_cast<int>((deadline - now) / 1000000u) + 1) < 0 && errno != EINTR) {
            return MMPOOL_ESYS;
        }
    }
}

// ---- paced latency: one frame per 60 fps tick ----

// The child: reads frames until the last one (seq == total) and records
// now - t0 of each under its seq, t0 being the writer's timestamp in the
// frame's first 8 bytes. Copy: the clock is read when mmpool_read has
// returned (the copy is done); loan: when mmpool_read_acquire has returned.
// A LATEST reader that falls a frame behind skips one; the seq keeps the
// record straight, and the skipped frame counts as missed.
std::string paced_reader(Child &c, Path path, const std::string &name, std::size_t bytes,
                         unsigned total) {
    if (spins(path)) {
        std::string e = SpinPlacement::pin_child();
        if (!e.empty()) {
            return e;
        }
    }
    Handle h;
    int rc = open_handle(&h, name, MMPOOL_READ_LATEST, spins(path) ? kSpinNs : 0);
    if (rc != 0) {
        return pool_error("mmpool_open", rc);
    }
    intptr_t event = -1;
    if (path == Path::event && (rc = mmpool_event_handle(h.get(), &event)) != 0) {
        return pool_error("mmpool_event_handle", rc);
    }
    Memory buf; // the copy's destination; a loan needs none
    const bool copy_out = path != Path::loan && path != Path::spin_loan;
    if (copy_out && !(buf = Memory::private_pages(bytes))) {
        return "mmap of the frame buffer failed";
    }
    c.ready();
    std::uint64_t dropped = 0;
    for (;;) {
        mmpool_frame frame{};
        std::uint64_t t0 = 0, t1 = 0;
        if (copy_out) {
            rc = path == Path::event
                     ? event_read(h.get(), static_cast<int>(event), buf.data(), bytes, &frame)
                     : mmpool_read(h.get(), buf.data(), bytes, &frame, kWaitMs);
            t1 = mmpool_now_ns();
            if (rc != 0) {
                return pool_error(path == Path::event ? "mmpool_try_read + poll" : "mmpool_read",
                                  rc);
            }
            std::memcpy(&t0, buf.data(), sizeof t0);
        } else {
            mmpool_view view;
            rc = mmpool_read_acquire(h.get(), &view, kWaitMs);
            t1 = mmpool_now_ns();
            if (rc != 0) {
                return pool_error("mmpool_read_acquire", rc);
            }
            std::memcpy(&t0, view.data, sizeof t0);
            frame = view.frame;
            if ((rc = mmpool_read_release(h.get(), &view)) != 0) {
                return pool_error("mmpool_read_release", rc);
            }
        }
        if (frame.seq == 0 || frame.seq > total) {
            return "frame seq " + std::to_string(frame.seq) + " out of range";
        }
        c.record(frame.seq - 1, t1 - t0);
        dropped += frame.dropped;
        if (frame.seq == total) {
            break;
        }
    }
    c.shared().dropped = dropped;
    return "";
}

// Copy path: t0 before mmpool_try_write, which copies the whole frame.
std::string send_copy(mmpool *w, const Memory &src, std::size_t bytes) {
    std::uint64_t t0 = mmpool_now_ns();
    std::memcpy(src.data(), &t0, sizeof t0);
    int rc = mmpool_try_write(w, src.data(), bytes);
    return rc == 0 ? "" : pool_error("mmpool_try_write", rc);
}

// Loan path: t0 before mmpool_write_acquire. The frame is not filled (the
// application would produce it in place); only t0 goes into its first 8
// bytes.
std::string send_loan(mmpool *w, std::size_t bytes) {
    std::uint64_t t0 = mmpool_now_ns();
    void *data = nullptr;
    int rc = mmpool_write_acquire(w, &data, nullptr, 0);
    if (rc != 0) {
        return pool_error("mmpool_write_acquire", rc);
    }
    std::memcpy(data, &t0, sizeof t0);
    rc = mmpool_write_commit(w, bytes);
    return rc == 0 ? "" : pool_error("mmpool_write_commit", rc);
}

// kWarmFrames + bench_frames() frames of `bytes` from this process to a
// reader child, one per 60 fps tick; the latencies of all but the warm-up
// frames (which fault the slots into both mappings) go to *lat, the sum of
// frame.dropped the reader saw to *dropped.
std::string paced_pool(Path path, std::size_t bytes, std::uint64_t period_ns, const char *dir,
                       Samples *lat, std::uint64_t *dropped) {
    const unsigned frames = bench_frames(), total = kWarmFrames + frames;
    Pool pool;
    const bool loan = path == Path::loan || path == Path::spin_loan;
    int rc = pool.create(loan ? "loan-latency" : "copy-latency", bytes, kSlots, dir);
    if (rc != 0) {
        return pool_error("mmpool_open (create)", rc);
    }
    Memory src = Memory::private_pages(bytes);
    if (!src) {
        return "mmap of the frame buffer failed";
    }
    const std::string name = pool.name();
    Child child(frames); // after the pool: on an error it is killed before the unlink
    std::string err =
        child.start([&](Child &c) { return paced_reader(c, path, name, bytes, total); });
    if (err.empty()) {
        err = child.wait_ready();
    }
    if (err.empty()) {
        err = paced(
            total, child,
            [&](unsigned) {
                return path == Path::copy || path == Path::event || path == Path::spin_copy
                           ? send_copy(pool.writer(), src, bytes)
                           : send_loan(pool.writer(), bytes);
            },
            period_ns);
    }
    if (err.empty()) {
        err = child.finish(kWaitMs);
    }
    if (err.empty()) {
        *lat = child.samples();
        *dropped = child.shared().dropped;
    }
    return err;
}

void run_paced_pool(benchmark::State &state, Path path, std::size_t bytes,
                    std::uint64_t period_ns = kFramePeriodNs, const char *dir = nullptr) {
    for (auto _ : state) {
        std::optional<SpinPlacement> placement; // the spinning cases only
        if (spins(path) && !placement.emplace().ok()) {
            state.SkipWithError("needs CPUs 0 and 1");
            break;
        }
        Samples lat;
        std::uint64_t dropped = 0;
        std::string err = paced_pool(path, bytes, period_ns, dir, &lat, &dropped);
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        report_latency(state, lat);
        state.counters["dropped"] = static_cast<double>(dropped);
    }
    state.SetLabel(size_label(bytes));
}

void BM_xproc_loan_latency(benchmark::State &state) {
    run_paced_pool(state, Path::loan, kFullHdBytes);
}
BENCHMARK(BM_xproc_loan_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_xproc_copy_latency(benchmark::State &state) {
    run_paced_pool(state, Path::copy, kFullHdBytes);
}
BENCHMARK(BM_xproc_copy_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_xproc_loan_copy_latency(benchmark::State &state) {
    run_paced_pool(state, Path::loan_copy, kFullHdBytes);
}
BENCHMARK(BM_xproc_loan_copy_latency)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// The loan and copy paths with the pool on a tmpfs mounted with
// huge=always, whose path bench/check puts in MMPOOL_BENCH_HUGE_DIR (it
// mounts one in a private mount namespace when run as root).
void run_on_huge_pages(benchmark::State &state, Path path) {
    const char *dir = std::getenv("MMPOOL_BENCH_HUGE_DIR");
    if (dir == nullptr || *dir == '\0') {
        state.SkipWithError("no huge-page tmpfs: MMPOOL_BENCH_HUGE_DIR is not set "
                            "(bench/check mounts one when run as root)");
        return;
    }
    run_paced_pool(state, path, kFullHdBytes, kFramePeriodNs, dir);
}

void BM_xproc_loan_latency_huge(benchmark::State &state) {
    run_on_huge_pages(state, Path::loan);
}
BENCHMARK(BM_xproc_loan_latency_huge)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_xproc_copy_latency_huge(benchmark::State &state) {
    run_on_huge_pages(state, Path::copy);
}
BENCHMARK(BM_xproc_copy_latency_huge)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_wake_latency_64B(benchmark::State &state) {
    run_paced_pool(state, Path::copy, 64);
}
BENCHMARK(BM_wake_latency_64B)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_spin_wake_latency_64B(benchmark::State &state) {
    run_paced_pool(state, Path::spin_copy, 64);
}
BENCHMARK(BM_spin_wake_latency_64B)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_spin_loan_latency(benchmark::State &state) {
    run_paced_pool(state, Path::spin_loan, kFullHdBytes);
}
BENCHMARK(BM_spin_loan_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The same two at 1 kHz: a writer that sleeps only 1 ms between frames
// starts each commit with warmer caches than one that slept 16.7 ms.
void BM_spin_wake_latency_64B_1kHz(benchmark::State &state) {
    run_paced_pool(state, Path::spin_copy, 64, kFastPeriodNs);
}
BENCHMARK(BM_spin_wake_latency_64B_1kHz)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_spin_loan_latency_1kHz(benchmark::State &state) {
    run_paced_pool(state, Path::spin_loan, kFullHdBytes, kFastPeriodNs);
}
BENCHMARK(BM_spin_loan_latency_1kHz)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_event_wake_latency_64B(benchmark::State &state) {
    run_paced_pool(state, Path::event, 64);
}
BENCHMARK(BM_event_wake_latency_64B)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// ---- sustained: the writer back to back, a LATEST reader copying out ----

// The child: reads (copies out) the newest frame, again and again, until
// the parent sets stop; counts frames and the frames it never saw.
std::string sustained_reader(Child &c, const std::string &name, std::size_t bytes) {
    Handle h;
    int rc = open_handle(&h, name, MMPOOL_READ_LATEST);
    if (rc != 0) {
        return pool_error("mmpool_open", rc);
    }
    Memory buf = Memory::private_pages(bytes);
    if (!buf) {
        return "mmap of the frame buffer failed";
    }
    c.ready();
    SharedHeader &sh = c.shared();
    std::uint64_t received = 0, dropped = 0;
    for (;;) {
        mmpool_frame frame{};
        rc = mmpool_read(h.get(), buf.data(), bytes, &frame, kWaitMs);
        if (rc != 0) {
            return pool_error("mmpool_read", rc);
        }
        if (__atomic_load_n(&sh.stop, __ATOMIC_ACQUIRE) != 0) {
            break; // the frame that woke us to stop does not count
        }
        received++;
        dropped += frame.dropped;
    }
    sh.received = received;
    sh.dropped = dropped;
    return "";
}

void BM_xproc_sustained_fps(benchmark::State &state) {
    const std::size_t bytes = kFullHdBytes;
    // 0.4 x the paced cases' duration: 2 s for the default 300 frames.
    const std::uint64_t duration_ns = bench_frames() * kFramePeriodNs * 2 / 5;
    for (auto _ : state) {
        Pool pool;
        Memory src = Memory::private_pages(bytes);
        int rc = src ? pool.create("sustained", bytes, kSlots) : MMPOOL_ENOSPC;
        mmpool *w = pool.writer();
        // Fault the writer's slots in, then drop those frames, so the reader
        // starts with the run's first frame.
        for (unsigned k = 0; k < kSlots && rc == 0; k++) {
            rc = mmpool_try_write(w, src.data(), bytes);
        }
        if (rc == 0) {
            rc = mmpool_flush(w);
        }
        if (rc != 0) {
            state.SkipWithError(pool_error("setting up the pool", rc).c_str());
            break;
        }
        const std::string name = pool.name();
        Child child(0);
        std::string err = child.start([&](Child &c) { return sustained_reader(c, name, bytes); });
        if (err.empty()) {
            err = child.wait_ready();
        }
        std::uint64_t written = 0, start = now_ns(), end = start;
        while (err.empty() && (end = now_ns()) - start < duration_ns) {
            if ((rc = mmpool_try_write(w, src.data(), bytes)) != 0) {
                err = pool_error("mmpool_try_write", rc);
            }
            written++;
        }
        if (err.empty()) {
            // stop, then one more frame to wake the reader if it sleeps.
            __atomic_store_n(&child.shared().stop, 1, __ATOMIC_RELEASE);
            rc = mmpool_try_write(w, src.data(), bytes);
            err = rc == 0 ? child.finish(kWaitMs) : pool_error("mmpool_try_write", rc);
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        const double seconds = static_cast<double>(end - start) * 1e-9;
        const double received = static_cast<double>(child.shared().received);
        state.counters["fps"] = received / seconds;
        state.counters["written_fps"] = static_cast<double>(written) / seconds;
        state.counters["dropped"] = static_cast<double>(child.shared().dropped);
        state.counters["frames"] = received;
        state.SetIterationTime(received > 0 ? seconds / received : seconds);
    }
    state.SetLabel(size_label(bytes));
}
BENCHMARK(BM_xproc_sustained_fps)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
