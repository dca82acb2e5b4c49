/*
 * Copying a frame into a slot on x86-64. A writer never reads the frame
 * back, so a large one is written with non-temporal (streaming) stores:
 * they go to memory without first reading each line into the cache and
 * without evicting what the cache holds. Below MMP__STREAM_MIN a frame
 * still fits the cache well and plain memcpy is faster; so it is when a
 * reader is right behind the writer (read_soon), which then copies the
 * frame from the cache. Every x86-64 CPU
 * has SSE2; AVX stores 32 bytes at a time where the CPU has it (measured:
 * no faster than SSE2 here, the copy is bound by memory). The choice is
 * made once, at the first copy, from the CPU and $MMPOOL_COPY.
 * Sections: the copies, choosing one.
 */
#include <emmintrin.h>
#include <immintrin.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../platform.h"

/* Smallest frame copied with streaming stores. Measured on the CI
 * machine's CPU (32 MiB L3) with four slots written in turn: memcpy wins at
 * 2 MiB (85 against 90 us), streaming at 3 MiB (131 against 181 us) and
 * at Full-HD (about 0.6 x memcpy). docs/design.md, "Copying a frame in". */
#define MMP__STREAM_MIN (UINT64_C(3) << 20)

/* ---- the copies ---- */

/* Copies the bytes before dst's next multiple of align with memcpy, so
 * the streaming stores that follow are aligned; returns how many. */
static size_t head_bytes(const unsigned char *dst, size_t align, size_t len) {
    size_t head = (align - ((uintptr_t)dst & (align - 1))) & (align - 1);
    return head < len ? head : len;
}

static void copy_sse2(unsigned char *dst, const unsigned char *src, size_t len) {
    size_t head = head_bytes(dst, 16, len);
    memcpy(dst, src, head);
    dst += head;
    src += head;
    len -= head;
    for (; len >= 64; len -= 64, dst += 64, src += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)src);
        __m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + 48));
        _mm_stream_si128((__m128i *)dst, a);
        _mm_stream_si128((__m128i *)(dst + 16), b);
        _mm_stream_si128((__m128i *)(dst + 32), c);
        _mm_stream_si128((__m128i *)(dst + 48), d);
    }
    memcpy(dst, src, len);
}

__attribute__((target("avx"))) static void copy_avx(unsigned char *dst, const unsigned char *src,
                                                    size_t len) {
    size_t head = head_bytes(dst, 32, len);
    memcpy(dst, src, head);
    dst += head;
    src += head;
    len -= head;
    for (; len >= 128; len -= 128, dst += 128, src += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)src);
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + 96));
        _mm256_stream_si256((__m256i *)dst, a);
        _mm256_stream_si256((__m256i *)(dst + 32), b);
        _mm256_stream_si256((__m256i *)(dst + 64), c);
        _mm256_stream_si256((__m256i *)(dst + 96), d);
    }
    memcpy(dst, src, len);
}

/* ---- choosing one ---- */

typedef enum {
    CHOICE_UNSET,
    CHOICE_MEMCPY,   /* memcpy at every size */
    CHOICE_SSE2,     /* streaming from MMP__STREAM_MIN, memcpy below */
    CHOICE_AVX,      /* the same, 32 bytes at a time */
    CHOICE_SSE2_ALL, /* streaming at every size (tests) */
    CHOICE_AVX_ALL
} choice;

static _Atomic int chosen = CHOICE_UNSET;

/* $MMPOOL_COPY: "memcpy" turns streaming off (for comparison), "sse2" or
 * "avx" streams at every size with that instruction set (tests; "avx"
 * falls back to SSE2 on a CPU without it); unset or anything else picks by
 * CPU, and by size at each copy. */
static choice choose(void) {
    const char *env = getenv("MMPOOL_COPY");
    bool avx = __builtin_cpu_supports("avx");
    if (env != NULL && strcmp(env, "memcpy") == 0) {
        return CHOICE_MEMCPY;
    }
    if (env != NULL && strcmp(env, "sse2") == 0) {
        return CHOICE_SSE2_ALL;
    }
    if (env != NULL && strcmp(env, "avx") == 0) {
        return avx ? CHOICE_AVX_ALL : CHOICE_SSE2_ALL;
    }
    return avx ? CHOICE_AVX : CHOICE_SSE2;
}

void mmp__copy_to_slot(void *dst, const void *src, size_t len, bool read_soon) {
    int c = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (c == CHOICE_UNSET) {
        /* Two threads may get here at once; both store the same value. */
        c = (int)choose();
        atomic_store_explicit(&chosen, c, memory_order_relaxed);
    }
    bool cached = (uint64_t)len < MMP__STREAM_MIN || read_soon;
    if (c == CHOICE_MEMCPY || (cached && (c == CHOICE_SSE2 || c == CHOICE_AVX))) {
        memcpy(dst, src, len);
        return;
    }
    if (c == CHOICE_AVX || c == CHOICE_AVX_ALL) {
        copy_avx(dst, src, len);
    } else {
        copy_sse2(dst, src, len);
    }
    /* Streaming stores are weakly ordered: without this fence the release
     * that publishes the frame could become visible before some of them,
     * and a reader could copy stale bytes. sfence orders every earlier
     * store before every later one. */
    _mm_sfence();
}
