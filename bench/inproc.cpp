// In-process cases: the memcpy baselines and the library's calls with no
// second process, at each frame size. What each measures is in the table at
// the top of mmpool_bench.cpp.
#include <cstring>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "support.hpp"

namespace mmbench {
namespace {

// A pool of kSlots slots of `bytes` in /dev/shm, its writer, optionally a
// LATEST reader (a second handle), and a private frame buffer. Every slot
// is written once, and read once by the reader, so all pages of both
// handles' mappings are faulted in before anything is timed.
class Fixture {
  public:
    Fixture(const char *what, std::size_t bytes, bool with_reader) : bytes_(bytes) {
        buf = Memory::private_pages(bytes);
        if (!buf) {
            error = "mmap of the frame buffer failed";
            return;
        }
        int rc = pool_.create(what, bytes, kSlots);
        if (rc != 0) {
            error = pool_error("mmpool_open (create)", rc);
            return;
        }
        w = pool_.writer();
        if (with_reader && (rc = pool_.open(&r, MMPOOL_READ_LATEST)) != 0) {
            error = pool_error("mmpool_open (reader)", rc);
            return;
        }
        for (unsigned k = 0; k < kSlots && rc == 0; k++) {
            rc = mmpool_try_write(w, buf.data(), bytes);
            if (rc == 0 && r != nullptr) {
                rc = mmpool_try_read(r, buf.data(), bytes, nullptr);
            }
        }
        if (rc != 0) {
            error = pool_error("pre-faulting the slots", rc);
        }
    }

    // Commits a frame of `bytes` without touching its data (a write loan),
    // so the reader's copy finds the slot in the cache state the rotation
    // over the slots left it in, as the memcpy_out baseline does.
    int commit_untouched() {
        void *data = nullptr;
        int rc = mmpool_write_acquire(w, &data, nullptr, 0);
        return rc != 0 ? rc : mmpool_write_commit(w, bytes_);
    }

    std::string error;
    mmpool *w = nullptr;
    mmpool *r = nullptr;
    Memory buf;

  private:
    std::size_t bytes_;
    Pool pool_;
};

std::size_t frame_bytes(const benchmark::State &state) {
    return static_cast<std::size_t>(state.range(0));
}

// bytes_per_second counts the frame's bytes once per iteration; the label
// names the size.
void finish(benchmark::State &state, std::size_t bytes) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
    state.SetLabel(size_label(bytes));
}

// Manually timed cases read the clock twice per iteration; one read's cost
// is inside the measured interval, and is reported so it can be judged.
void finish_manual(benchmark::State &state, std::size_t bytes) {
    finish(state, bytes);
    state.counters["clock_overhead_ns"] = clock_overhead_ns();
}

// ---- baselines: the same memory, copied with memcpy ----

void BM_memcpy_in(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state), stride = page_round(bytes);
    Memory src = Memory::private_pages(bytes);
    Memory dst = Memory::shared_pages(stride * kSlots);
    if (!src || !dst) {
        state.SkipWithError("mmap failed");
        return;
    }
    unsigned i = 0;
    for (auto _ : state) {
        std::memcpy(dst.data() + stride * i, src.data(), bytes);
        benchmark::ClobberMemory();
        i = i + 1 == kSlots ? 0 : i + 1;
    }
    finish(state, bytes);
}

void BM_memcpy_out(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state), stride = page_round(bytes);
    Memory src = Memory::shared_pages(stride * kSlots);
    Memory dst = Memory::private_pages(bytes);
    if (!src || !dst) {
        state.SkipWithError("mmap failed");
        return;
    }
    unsigned i = 0;
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data() + stride * i, bytes);
        benchmark::ClobberMemory();
        i = i + 1 == kSlots ? 0 : i + 1;
    }
    finish(state, bytes);
}

#if defined(__x86_64__)
// The floor under try_write's streaming copy: the same streaming stores
// into the same rotating buffers, of a value held in registers, so no
// source is read. A streaming copy of the frame cannot be faster.
void BM_stream_fill(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state), stride = page_round(bytes);
    Memory dst = Memory::shared_pages(stride * kSlots);
    if (!dst) {
        state.SkipWithError("mmap failed");
        return;
    }
    const __m128i v = _mm_set1_epi8(0x5a);
    unsigned i = 0;
    for (auto _ : state) {
        unsigned char *d = dst.data() + stride * i; // page aligned
        for (std::size_t k = 0; k + 64 <= bytes; k += 64) {
            _mm_stream_si128(reinterpret_cast<__m128i *>(d + k), v);
            _mm_stream_si128(reinterpret_cast<__m128i *>(d + k + 16), v);
            _mm_stream_si128(reinterpret_cast<__m128i *>(d + k + 32), v);
            _mm_stream_si128(reinterpret_cast<__m128i *>(d + k + 48), v);
        }
        _mm_sfence();
        benchmark::ClobberMemory();
        i = i + 1 == kSlots ? 0 : i + 1;
    }
    finish(state, bytes);
}
#endif

// ---- copies through the pool ----

void BM_try_write(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state);
    Fixture f("try-write", bytes, false);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    for (auto _ : state) {
        int rc = mmpool_try_write(f.w, f.buf.data(), bytes);
        if (rc != 0) {
            state.SkipWithError(pool_error("mmpool_try_write", rc).c_str());
            break;
        }
    }
    finish(state, bytes);
}

void BM_try_read(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state);
    Fixture f("try-read", bytes, true);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    for (auto _ : state) {
        int rc = f.commit_untouched(); // not timed: only the read is
        std::uint64_t t0 = now_ns();
        if (rc == 0) {
            rc = mmpool_try_read(f.r, f.buf.data(), bytes, nullptr);
        }
        std::uint64_t t1 = now_ns();
        if (rc != 0) {
            state.SkipWithError(pool_error("commit + mmpool_try_read", rc).c_str());
            break;
        }
        state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
    }
    finish_manual(state, bytes);
}

// ---- zero-copy loans ----

void BM_loan_write(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state);
    Fixture f("loan-write", bytes, false);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    for (auto _ : state) {
        int rc = f.commit_untouched();
        if (rc != 0) {
            state.SkipWithError(pool_error("write_acquire + write_commit", rc).c_str());
            break;
        }
    }
    finish(state, bytes);
}

void BM_loan_read(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state);
    Fixture f("loan-read", bytes, true);
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    for (auto _ : state) {
        int rc = f.commit_untouched(); // not timed
        mmpool_view view;
        std::uint64_t t0 = now_ns();
        if (rc == 0) {
            rc = mmpool_read_acquire(f.r, &view, 0);
        }
        if (rc == 0) {
            rc = mmpool_read_release(f.r, &view);
        }
        std::uint64_t t1 = now_ns();
        if (rc != 0) {
            state.SkipWithError(pool_error("commit + read_acquire + read_release", rc).c_str());
            break;
        }
        state.SetIterationTime(static_cast<double>(t1 - t0) * 1e-9);
    }
    finish_manual(state, bytes);
}

// ---- a small frame there and back, one process, two handles ----

void BM_small_roundtrip(benchmark::State &state) {
    const std::size_t bytes = frame_bytes(state);
    Fixture f("roundtrip", bytes, true);
    Memory dst = Memory::private_pages(bytes);
    if (!f.error.empty() || !dst) {
        state.SkipWithError(f.error.empty() ? "mmap failed" : f.error.c_str());
        return;
    }
    for (auto _ : state) {
        int rc = mmpool_try_write(f.w, f.buf.data(), bytes);
        if (rc == 0) {
            rc = mmpool_try_read(f.r, dst.data(), bytes, nullptr);
        }
        if (rc != 0) {
            state.SkipWithError(pool_error("mmpool_try_write + mmpool_try_read", rc).c_str());
            break;
        }
    }
    finish(state, bytes);
}

// Registered size by size, each pool case right after its memcpy baseline:
// on a shared machine the memory bandwidth drifts over minutes, and pairs
// measured seconds apart compare better than pairs measured minutes apart.
const bool registered = [] {
    struct Case {
        const char *name;
        void (*fn)(benchmark::State &);
        bool manual_time;
    };
    const Case cases[] = {
        {"BM_memcpy_in", BM_memcpy_in, false},   {"BM_try_write", BM_try_write, false},
        {"BM_loan_write", BM_loan_write, false}, {"BM_memcpy_out", BM_memcpy_out, false},
        {"BM_try_read", BM_try_read, true},      {"BM_loan_read", BM_loan_read, true}};
    for (std::size_t bytes : kFrameSizes) {
        for (const Case &c : cases) {
            auto *b = benchmark::RegisterBenchmark(c.name, c.fn);
            b->ArgName("bytes")->Arg(static_cast<std::int64_t>(bytes));
            if (c.manual_time) {
                b->UseManualTime();
            }
        }
#if defined(__x86_64__)
        if (bytes == kFullHdBytes) {
            benchmark::RegisterBenchmark("BM_stream_fill", BM_stream_fill)
                ->ArgName("bytes")
                ->Arg(static_cast<std::int64_t>(bytes));
        }
#endif
    }
    benchmark::RegisterBenchmark("BM_small_roundtrip", BM_small_roundtrip)
        ->ArgName("bytes")
        ->Arg(64);
    return true;
}();

} // namespace
} // namespace mmbench
