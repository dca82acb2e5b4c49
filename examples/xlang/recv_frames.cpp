/*
 * recv_frames_cpp: the C++ receiver of the cross-language demo (mmpool.hpp).
 * Reads Full-HD BGR frames from the pool in LATEST mode, by copy
 * (pool::try_read into its own buffer) or with --loan in place, verifies
 * each (magic, length, checksum, rising numbers) and prints a line per
 * second and a summary; see the frame layout below.
 *
 * Usage: recv_frames_cpp [--pool NAME] [--seconds S] [--loan]
 *
 * Stops at the end frame or after S seconds (default 60). Exits 0 only if
 * at least one frame arrived and none failed verification.
 *
 * Frame: 6,220,800 bytes; its first 32 bytes are a little-endian header:
 * u32 magic 0x4d4d5044, u32 flags (1 = end of stream), u64 number (1, 2,
 * ...), u64 send_ns (mmpool_now_ns() when the sender began the frame), u64
 * checksum = the wrapping sum of all u64 words of the frame with the
 * checksum word taken as 0. The end frame is the header alone.
 *
 * "read" is the time of the call that puts the frame in hand (loan:
 * acquire plus release), never time spent waiting: a second handle waits
 * for each new frame, and the timed read on the first finds it committed.
 */
#include <mmpool.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t frame_bytes = 1920 * 1080 * 3;
constexpr std::size_t header_bytes = 32;
constexpr std::uint32_t frame_magic = 0x4d4d5044;
constexpr std::uint32_t flag_end = 1;
constexpr const char *frame_format = "bgr8 1920x1080";
constexpr const char *me = "recv_frames_cpp";

struct args {
    std::string pool = "mmpool-xlang";
    double seconds = 60;
    bool loan = false;
};

bool parse_args(int argc, char **argv, args &a) {
    for (int i = 1; i < argc; i++) {
        std::string name = argv[i];
        if (name == "--loan") {
            a.loan = true;
        } else if (name == "--pool" && i + 1 < argc) {
            a.pool = argv[++i];
        } else if (name == "--seconds" && i + 1 < argc) {
            char *end = nullptr;
            a.seconds = std::strtod(argv[++i], &end);
            if (*end != '\0' || !(a.seconds > 0)) {
                return false;
            }
        } else {
            return false;
        }
    }
    return !a.pool.empty();
}

std::uint64_t load_u64(const std::byte *p) {
    std::uint64_t v; /* the host is little-endian (checked in main) */
    std::memcpy(&v, p, sizeof v);
    return v;
}

struct header {
    std::uint32_t magic, flags;
    std::uint64_t number, send_ns, checksum;
};

/* True if the size bytes at data are a whole data frame or end frame whose
 * checksum matches; h gets the header when size allows. */
bool verify(const std::byte *data, std::size_t size, header &h) {
    if (size < header_bytes) {
        return false;
    }
    std::memcpy(&h.magic, data, 4);
    std::memcpy(&h.flags, data + 4, 4);
    h.number = load_u64(data + 8);
    h.send_ns = load_u64(data + 16);
    h.checksum = load_u64(data + 24);
    std::size_t expect = (h.flags & flag_end) != 0 ? header_bytes : frame_bytes;
    if (h.magic != frame_magic || size != expect) {
        return false;
    }
    std::uint64_t sum = 0;
    for (std::size_t off = 0; off < size; off += 8) {
        sum += load_u64(data + off);
    }
    return sum - h.checksum == h.checksum;
}

/* Nearest-rank percentile in microseconds; sorts v. 0 when empty. */
double percentile_us(std::vector<std::uint64_t> &v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    std::size_t rank =
        static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return static_cast<double>(v[rank - 1]) / 1000.0;
}

struct tally {
    std::uint64_t frames = 0, dropped = 0, bad = 0;
    std::vector<std::uint64_t> latency, read;
};

struct receiver {
    args opts;
    mmpool::pool reader, waiter;
    std::unique_ptr<std::uint64_t[]> buffer; /* the copy path's frame buffer */
    tally all, second;
    std::uint64_t attached_ns = 0, last_number = 0, sent = 0;
    bool ended = false;
    unsigned seconds_reported = 0;

    /* What one frame turned out to be. */
    struct checked {
        header h{};
        bool good = false, end = false, stale = false;
    };

    /* Verifies the frame in hand (while a loan still holds it). */
    checked check(const std::byte *data, const mmpool::frame_info &f) {
        checked c;
        c.good = verify(data, static_cast<std::size_t>(f.size), c.h);
        /* Left in the pool by an earlier run; a live sender sends more. */
        c.stale = all.frames == 0 && f.timestamp_ns < attached_ns;
        c.end = c.good && (c.h.flags & flag_end) != 0;
        if (c.good && !c.end && c.h.number <= last_number) {
            std::fprintf(stderr, "%s: frame %" PRIu64 " after frame %" PRIu64 "\n", me, c.h.number,
                         last_number);
            c.good = false;
        }
        return c;
    }

    /* Counts a checked frame that was in hand at now_ns after read_ns spent
     * reading it; false at the end of the stream. */
    bool count(const checked &c, const mmpool::frame_info &f, std::uint64_t now_ns,
               std::uint64_t read_ns) {
        if (c.stale) {
            return true;
        }
        if (c.end) {
            ended = true;
            sent = c.h.number;
            all.dropped += f.dropped;
            return false;
        }
        for (tally *t : {&all, &second}) {
            t->frames++;
            t->dropped += f.dropped;
            t->read.push_back(read_ns);
            if (c.good) {
                t->latency.push_back(now_ns - c.h.send_ns);
            } else {
                t->bad++;
            }
        }
        if (c.good) {
            last_number = c.h.number;
        } else {
            std::fprintf(stderr, "%s: seq %" PRIu64 " failed verification\n", me, f.seq);
        }
        return true;
    }

    /* Reads the frame the waiter saw (or a newer one) with the timed call;
     * false at the end of the stream. */
    bool take_frame() {
        if (!opts.loan) {
            std::uint64_t t0 = mmpool::now_ns();
            std::optional<mmpool::frame_info> f = reader.try_read(buffer.get(), frame_bytes);
            std::uint64_t t1 = mmpool::now_ns();
            if (!f) {
                return true;
            }
            checked c = check(reinterpret_cast<const std::byte *>(buffer.get()), *f);
            return count(c, *f, t1, t1 - t0);
        }
        std::uint64_t t0 = mmpool::now_ns();
        std::optional<mmpool::read_loan> loan = reader.try_acquire_read();
        std::uint64_t t1 = mmpool::now_ns();
        if (!loan) {
            return true;
        }
        mmpool::frame_info f = loan->info();
        checked c = check(loan->data(), f);
        std::uint64_t t2 = mmpool::now_ns();
        loan->release();
        std::uint64_t t3 = mmpool::now_ns();
        return count(c, f, t1, (t1 - t0) + (t3 - t2));
    }

    void report_second() {
        seconds_reported++;
        std::printf("[%s] %3u s  frames %3" PRIu64 "  fps %5.1f  dropped %" PRIu64
                    "  latency p50 %8.1f us  p99 %8.1f us  read median %8.1f us\n",
                    me, seconds_reported, second.frames, static_cast<double>(second.frames),
                    second.dropped, percentile_us(second.latency, 50),
                    percentile_us(second.latency, 99), percentile_us(second.read, 50));
        second = tally{};
    }

    void run() {
        std::uint64_t start = mmpool::now_ns();
        std::uint64_t deadline = start + static_cast<std::uint64_t>(opts.seconds * 1e9);
        std::uint64_t next_report = start + 1000000000u;
        for (;;) {
            std::uint64_t now = mmpool::now_ns();
            while (now >= next_report) {
                report_second();
                next_report += 1000000000u;
            }
            if (now >= deadline) {
                std::fprintf(stderr, "%s: %.0f s passed without an end frame, stopping\n", me,
                             opts.seconds);
                return;
            }
            std::uint64_t wait_ms = std::min(next_report, deadline) - now;
            wait_ms = wait_ms / 1000000u + 1;
            /* The waiter borrows the new frame and gives it back at once:
             * only a wake-up, so the reader's call below never waits. */
            if (!waiter.try_acquire_read(std::chrono::milliseconds(wait_ms))) {
                continue;
            }
            if (!take_frame()) {
                return;
            }
        }
    }

    void summary() {
        if (second.frames != 0) {
            report_second();
        }
        std::printf("[%s] summary (%s path): frames %" PRIu64 "  dropped %" PRIu64
                    "  failed %" PRIu64 "  latency p50 %.1f us  p99 %.1f us  read median %.1f us"
                    "  end frame %s",
                    me, opts.loan ? "loan" : "copy", all.frames, all.dropped, all.bad,
                    percentile_us(all.latency, 50), percentile_us(all.latency, 99),
                    percentile_us(all.read, 50), ended ? "yes" : "no");
        if (ended) {
            std::printf(" (frames sent %" PRIu64 ")", sent);
        }
        std::printf("\n");
    }
};

mmpool::pool open_pool(const std::string &name) {
    mmpool::options o;
    o.slot_capacity = frame_bytes;
    o.slot_count = 3;
    o.create = true;
    o.read_mode = mmpool::read_mode::latest;
    o.format = frame_format;
    return mmpool::pool(name, o);
}

} // namespace

int main(int argc, char **argv) {
    receiver r;
    if (!parse_args(argc, argv, r.opts)) {
        std::fprintf(stderr, "usage: %s [--pool NAME] [--seconds S] [--loan]\n", me);
        return 2;
    }
    const std::uint16_t probe = 1;
    if (*reinterpret_cast<const unsigned char *>(&probe) != 1) {
        std::fprintf(stderr, "%s: the frame layout is little-endian; this host is not\n", me);
        return 1;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        r.reader = open_pool(r.opts.pool);
        r.waiter = open_pool(r.opts.pool);
        mmpool::stats s = r.reader.stats();
        if (s.format != frame_format) {
            std::fprintf(stderr, "%s: pool %s holds \"%s\", not \"%s\"\n", me, r.opts.pool.c_str(),
                         s.format.c_str(), frame_format);
            return 1;
        }
        if (!r.opts.loan) {
            r.buffer.reset(new std::uint64_t[frame_bytes / 8]());
        }
        r.attached_ns = mmpool::now_ns();
        r.run();
    } catch (const mmpool::error &e) {
        std::fprintf(stderr, "%s: %s\n", me, e.what());
        r.summary();
        return 1;
    }
    r.summary();
    return r.all.frames > 0 && r.all.bad == 0 ? 0 : 1;
}
