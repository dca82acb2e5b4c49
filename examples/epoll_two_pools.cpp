/*
 * One epoll set (Linux) waiting on two pools and a timer: each pool's event
 * descriptor (pool::native_handle()) and a timerfd. Two writer threads put
 * FRAMES numbered frames into their pool each; the loop reads every pool
 * that epoll reports until try_read() finds nothing, and the timer prints
 * the progress every 250 ms and gives up after 20 s.
 *
 * Exits 0 when every frame of both pools arrived, in order and intact; 1
 * on a gap, a bad frame or the time-out. A lost wake-up fails it: nothing
 * but epoll makes the loop read, and the timer never does.
 *
 *   epoll_two_pools [FRAMES]     (default 2000)
 */
#include <mmpool.hpp>

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace {

constexpr std::uint32_t slots = 8;
/* A writer stays at most this many frames ahead of the reader, so that no
 * frame is overwritten before it is read: FIFO pools drop the oldest frame
 * when every slot is full. */
constexpr std::uint64_t ahead = slots - 2;
constexpr int give_up_s = 20;

/* One pool's side of the run: its name, the reader's handle, and how far
 * the writer and the reader got. */
struct stream {
    std::string name;
    mmpool::pool reader;
    std::atomic<std::uint64_t> received{0};
    bool broken = false;                    /* a gap or a bad frame: the run fails */
    std::atomic<bool> writer_failed{false}; /* so does a writer's error */
};

/* A file descriptor closed at the end of the scope. */
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

/* A writer thread: frames 1..frames, each holding its number. */
void write_frames(stream &s, std::uint64_t frames, const std::atomic<bool> &stop) {
    try {
        mmpool::pool writer(s.name);
        for (std::uint64_t n = 1; n <= frames && !stop; n++) {
            while (n - s.received.load() > ahead && !stop) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
            writer.write(&n, sizeof n);
        }
    } catch (const mmpool::error &e) {
        std::fprintf(stderr, "%s writer: %s\n", s.name.c_str(), e.what());
        s.writer_failed = true;
    }
}

/* Reads what the pool has, until try_read() finds nothing: that also
 * re-arms its event descriptor. Each frame must be the next number. */
void drain(stream &s) {
    std::uint64_t number = 0;
    while (std::optional<mmpool::frame_info> f = s.reader.try_read(&number, sizeof number)) {
        std::uint64_t want = s.received.load() + 1;
        if (f->size != sizeof number || number != want || f->seq != want || f->dropped != 0) {
            std::fprintf(stderr, "%s: frame %llu (seq %llu, %llu dropped), expected %llu\n",
                         s.name.c_str(), (unsigned long long)number, (unsigned long long)f->seq,
                         (unsigned long long)f->dropped, (unsigned long long)want);
            s.broken = true;
            return;
        }
        s.received.store(want);
    }
}

void print_progress(const stream (&streams)[2], std::uint64_t frames, const char *what) {
    std::printf("%s: %llu + %llu of %llu frames each\n", what,
                (unsigned long long)streams[0].received.load(),
                (unsigned long long)streams[1].received.load(), (unsigned long long)frames);
    std::fflush(stdout);
}

void add(int ep, int fd, std::uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        std::perror("epoll_ctl");
        std::exit(1);
    }
}

int run(std::uint64_t frames) {
    std::string base =
        "mmpool-epoll-" + std::to_string(::getpid()) + "-" + std::to_string(mmpool::now_ns());
    mmpool::options opts;
    opts.slot_capacity = sizeof(std::uint64_t);
    opts.slot_count = slots;
    opts.create = true;
    opts.exclusive = true;
    opts.read_mode = mmpool::read_mode::fifo;
    stream streams[2];
    for (int i = 0; i < 2; i++) {
        streams[i].name = base + (i == 0 ? "-a" : "-b");
        streams[i].reader = mmpool::pool(streams[i].name, opts);
    }

    fd_guard ep{epoll_create1(EPOLL_CLOEXEC)};
    fd_guard timer{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)};
    if (ep.fd < 0 || timer.fd < 0) {
        std::perror("epoll_create1/timerfd_create");
        return 1;
    }
    itimerspec tick{};
    tick.it_interval.tv_nsec = 250 * 1000 * 1000;
    tick.it_value = tick.it_interval;
    timerfd_settime(timer.fd, 0, &tick, nullptr);
    add(ep.fd, static_cast<int>(streams[0].reader.native_handle()), 0);
    add(ep.fd, static_cast<int>(streams[1].reader.native_handle()), 1);
    add(ep.fd, timer.fd, 2);

    std::atomic<bool> stop{false};
    std::thread writers[2];
    for (int i = 0; i < 2; i++) {
        writers[i] = std::thread(write_frames, std::ref(streams[i]), frames, std::cref(stop));
    }

    /* Until every frame came, or something went wrong. The readers' errors
     * (mmpool::error from try_read) end the loop too, not the program:
     * the writers must be stopped and joined first. */
    auto start = std::chrono::steady_clock::now();
    bool complete = false;
    bool failed = false;
    try {
        while (!complete && !failed) {
            epoll_event events[3];
            int n = epoll_wait(ep.fd, events, 3, -1);
            if (n < 0 && errno != EINTR) {
                std::perror("epoll_wait");
                failed = true;
            }
            for (int i = 0; i < n; i++) {
                std::uint64_t tag = events[i].data.u64;
                if (tag < 2) {
                    drain(streams[tag]);
                    continue;
                }
                std::uint64_t expirations = 0;
                (void)::read(timer.fd, &expirations, sizeof expirations);
                double s =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                char when[32];
                std::snprintf(when, sizeof when, "%5.2f s", s);
                print_progress(streams, frames, when);
                if (s > give_up_s) {
                    std::fprintf(stderr, "gave up after %d s\n", give_up_s);
                    failed = true;
                }
            }
            failed = failed || streams[0].broken || streams[1].broken || streams[0].writer_failed ||
                     streams[1].writer_failed;
            complete = streams[0].received.load() == frames && streams[1].received.load() == frames;
        }
    } catch (const mmpool::error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        failed = true;
    }
    stop = true;
    for (std::thread &t : writers) {
        t.join();
    }
    print_progress(streams, frames, complete && !failed ? "done" : "FAILED");
    for (stream &s : streams) {
        mmpool::unlink(s.name);
    }
    return complete && !failed ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
    std::uint64_t frames = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
    if (frames == 0) {
        std::fprintf(stderr, "usage: epoll_two_pools [FRAMES]\n");
        return 2;
    }
    try {
        return run(frames);
    } catch (const mmpool::error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
