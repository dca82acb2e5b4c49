// Paced baselines: the Full-HD memcpy of BM_memcpy_in/out, and mmpool_try_write
// with no reader, one per tick, so that each starts after an idle wait, as the
// writes and copies of the paced cross-process cases do. Described at the top
// of mmpool_bench.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "support.hpp"

namespace mmbench {
namespace {

constexpr unsigned kPacedCopies = 60; // recorded copies per repetition (1 s at 60 fps)

// Nearest rank, as for the cross-process cases' p50_us and p99_us.
double nearest_rank(const std::vector<std::uint64_t> &sorted, double p) {
    std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    rank = std::min(std::max<std::size_t>(rank, 1), sorted.size());
    return static_cast<double>(sorted[rank - 1]);
}

// Runs op(i) (i rotating over kSlots) once per tick of period_ns after
// kWarmFrames unrecorded ones, and reports the latency counters of the calls
// alone (manual time: the p50). op returns "" or an error.
void paced_ops(benchmark::State &state, std::uint64_t period_ns, std::size_t bytes,
               const std::function<std::string(unsigned)> &op) {
    // MMPOOL_BENCH_FRAMES below 60 (the CI smoke) shortens this case too.
    const unsigned recorded = std::min(kPacedCopies, bench_frames());
    std::vector<std::uint64_t> ns;
    ns.reserve(recorded);
    for (auto _ : state) {
        std::uint64_t tick = now_ns();
        for (unsigned k = 0; k < kWarmFrames + recorded; k++) {
            tick += period_ns;
            sleep_until_ns(tick);
            std::uint64_t t0 = now_ns();
            std::string err = op(k % kSlots);
            benchmark::ClobberMemory();
            std::uint64_t t1 = now_ns();
            if (!err.empty()) {
                state.SkipWithError(err.c_str());
                return;
            }
            if (k >= kWarmFrames) {
                ns.push_back(t1 - t0);
            }
        }
        std::sort(ns.begin(), ns.end());
        double sum = 0;
        for (std::uint64_t v : ns) {
            sum += static_cast<double>(v);
        }
        const double p50 = nearest_rank(ns, 0.50);
        state.counters["p50_us"] = p50 / 1e3;
        state.counters["p99_us"] = nearest_rank(ns, 0.99) / 1e3;
        state.counters["mean_us"] = sum / static_cast<double>(ns.size()) / 1e3;
        state.counters["min_us"] = static_cast<double>(ns.front()) / 1e3;
        state.counters["max_us"] = static_cast<double>(ns.back()) / 1e3;
        state.counters["frames"] = static_cast<double>(ns.size());
        state.SetIterationTime(p50 / 1e9);
    }
    state.SetLabel(size_label(bytes));
}

// Copies `bytes` from src + src_stride * i to dst + dst_stride * i, one copy
// per 60 fps tick.
void paced_copies(benchmark::State &state, const Memory &src, std::size_t src_stride,
                  const Memory &dst, std::size_t dst_stride, std::size_t bytes) {
    paced_ops(state, kFramePeriodNs, bytes, [&](unsigned i) {
        std::memcpy(dst.data() + dst_stride * i, src.data() + src_stride * i, bytes);
        return std::string();
    });
}

// Private buffer -> one of kSlots MAP_SHARED buffers, as BM_memcpy_in.
void BM_memcpy_paced_in(benchmark::State &state) {
    const std::size_t bytes = kFullHdBytes, stride = page_round(bytes);
    Memory src = Memory::private_pages(bytes);
    Memory dst = Memory::shared_pages(stride * kSlots);
    if (!src || !dst) {
        state.SkipWithError("mmap failed");
        return;
    }
    paced_copies(state, src, 0, dst, stride, bytes);
}

// One of kSlots MAP_SHARED buffers -> private buffer, as BM_memcpy_out.
void BM_memcpy_paced_out(benchmark::State &state) {
    const std::size_t bytes = kFullHdBytes, stride = page_round(bytes);
    Memory src = Memory::shared_pages(stride * kSlots);
    Memory dst = Memory::private_pages(bytes);
    if (!src || !dst) {
        state.SkipWithError("mmap failed");
        return;
    }
    paced_copies(state, src, stride, dst, 0, bytes);
}

// mmpool_try_write of `bytes` into a pool of kSlots slots with no reader,
// one per tick of period_ns: the writer's own part of a paced case's
// latency, before any reader is woken.
void paced_try_write(benchmark::State &state, std::size_t bytes, std::uint64_t period_ns) {
    Memory src = Memory::private_pages(bytes);
    Pool pool;
    int rc = src ? pool.create("paced-write", bytes, kSlots) : MMPOOL_ESYS;
    for (unsigned k = 0; k < kSlots && rc == 0; k++) {
        rc = mmpool_try_write(pool.writer(), src.data(), bytes); // faults the slots in
    }
    if (rc != 0) {
        state.SkipWithError(pool_error("creating the pool", rc).c_str());
        return;
    }
    paced_ops(state, period_ns, bytes, [&](unsigned) {
        int e = mmpool_try_write(pool.writer(), src.data(), bytes);
        return e == 0 ? std::string() : pool_error("mmpool_try_write", e);
    });
}

void BM_try_write_paced_64B_1kHz(benchmark::State &state) {
    paced_try_write(state, 64, kFastPeriodNs);
}

void BM_try_write_paced_FullHD(benchmark::State &state) {
    paced_try_write(state, kFullHdBytes, kFramePeriodNs);
}

BENCHMARK(BM_memcpy_paced_in)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_memcpy_paced_out)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_try_write_paced_64B_1kHz)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_try_write_paced_FullHD)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
