// Paced memcpy baselines: the Full-HD memcpy of BM_memcpy_in/out, one copy per
// 60 fps tick, so that each copy starts after ~16 ms idle, as the copies of the
// paced cross-process cases do. Described at the top of mmpool_bench.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
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

// Copies `bytes` from src + stride * i (i rotating over kSlots) to dst +
// dst_stride * i, one copy per tick after kWarmFrames unrecorded ones, and
// reports the latency counters of the copies alone (manual time: the p50).
void paced_copies(benchmark::State &state, const Memory &src, std::size_t src_stride,
                  const Memory &dst, std::size_t dst_stride, std::size_t bytes) {
    // MMPOOL_BENCH_FRAMES below 60 (the CI smoke) shortens this case too.
    const unsigned recorded = std::min(kPacedCopies, bench_frames());
    std::vector<std::uint64_t> ns;
    ns.reserve(recorded);
    for (auto _ : state) {
        std::uint64_t tick = now_ns();
        for (unsigned k = 0; k < kWarmFrames + recorded; k++) {
            tick += kFramePeriodNs;
            sleep_until_ns(tick);
            const unsigned i = k % kSlots;
            std::uint64_t t0 = now_ns();
            std::memcpy(dst.data() + dst_stride * i, src.data() + src_stride * i, bytes);
            benchmark::ClobberMemory();
            std::uint64_t t1 = now_ns();
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

BENCHMARK(BM_memcpy_paced_in)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_memcpy_paced_out)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
