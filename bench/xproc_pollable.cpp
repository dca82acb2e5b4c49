// Floors of a wake-up through a descriptor an event loop can poll, without
// mmpool, paced like BM_futex_wake_latency: an eventfd (shared here by
// fork), the same eventfd inside an epoll set that the reader polls (what
// an mmpool event handle is once a writer has its direct line), and a
// datagram to a socket bound in the abstract namespace (how a writer
// signals an event by name, before it has a line). Target T8's note
// quotes them: they say how much of the event path's cost is the kernel's.
#include <cerrno>
#include <cstddef>
#include <cstdio>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support.hpp"

namespace mmbench {
namespace {

enum class Pollable { eventfd, epoll_eventfd, abstract_dgram };

// The reader's descriptor (polled by the child), the one it drains, and
// the one the waker signals: an eventfd is all three; an epoll set is
// polled, its eventfd drained and written; a datagram goes from a socket
// of the waker's own to the reader's name.
struct Channel {
    int rd = -1;
    int drain = -1;
    int wr = -1;
    sockaddr_un name{};
    socklen_t name_len = 0;
    Channel() = default;
    Channel(const Channel &) = delete;
    Channel &operator=(const Channel &) = delete;
    ~Channel() {
        if (wr >= 0 && wr != rd) {
            close(wr);
        }
        if (drain >= 0 && drain != rd && drain != wr) {
            close(drain);
        }
        if (rd >= 0) {
            close(rd);
        }
    }
};

std::string open_channel(Pollable kind, Channel *ch) {
    if (kind != Pollable::abstract_dgram) {
        ch->drain = ch->wr = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (ch->wr < 0) {
            return sys_error("eventfd");
        }
        if (kind == Pollable::eventfd) {
            ch->rd = ch->wr;
            return "";
        }
        ch->rd = epoll_create1(EPOLL_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        if (ch->rd < 0 || epoll_ctl(ch->rd, EPOLL_CTL_ADD, ch->wr, &ev) != 0) {
            return sys_error("epoll");
        }
        return "";
    }
    ch->rd = ch->drain = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ch->wr = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ch->rd < 0 || ch->wr < 0) {
        return sys_error("socket");
    }
    ch->name.sun_family = AF_UNIX;
    int n =
        std::snprintf(ch->name.sun_path + 1, sizeof ch->name.sun_path - 1, "mmpool-bench-%ld-%llu",
                      static_cast<long>(getpid()), static_cast<unsigned long long>(now_ns()));
    ch->name_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
    if (bind(ch->rd, reinterpret_cast<sockaddr *>(&ch->name), ch->name_len) != 0) {
        return sys_error("bind");
    }
    return "";
}

std::string signal_channel(Pollable kind, const Channel &ch) {
    if (kind != Pollable::abstract_dgram) {
        const std::uint64_t one = 1;
        return write(ch.wr, &one, sizeof one) == static_cast<ssize_t>(sizeof one)
                   ? ""
                   : sys_error("eventfd write");
    }
    const char byte = 1;
    return sendto(ch.wr, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr *>(&ch.name), ch.name_len) == 1
               ? ""
               : sys_error("sendto");
}

// The child: poll() fd until readable, read the clock, empty drain; one
// sample per signal, recorded under the count the waker put in word_a.
std::string pollable_reader(Child &c, int fd, int drain, unsigned total) {
    SharedHeader &sh = c.shared();
    c.ready();
    for (std::uint32_t seen = 0; seen < total;) {
        pollfd pf{fd, POLLIN, 0};
        int n = poll(&pf, 1, kWaitMs);
        std::uint64_t t1 = mmpool_now_ns();
        if (n == 0) {
            return "poll: no wake-up after " + std::to_string(kWaitMs) + " ms";
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error("poll");
        }
        char buf[8];
        while (read(drain, buf, sizeof buf) > 0) {
        }
        seen = __atomic_load_n(&sh.word_a, __ATOMIC_ACQUIRE);
        c.record(seen - 1, t1 - __atomic_load_n(&sh.t0, __ATOMIC_RELAXED));
    }
    return "";
}

void run_pollable(benchmark::State &state, Pollable kind) {
    for (auto _ : state) {
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        Channel ch;
        std::string err = open_channel(kind, &ch);
        Child child(frames); // after the channel: killed before it closes
        if (err.empty()) {
            err = child.start([&](Child &c) { return pollable_reader(c, ch.rd, ch.drain, total); });
        }
        err = paced_wakes(child, total, err, [&] { return signal_channel(kind, ch); });
        if (!finish_child_case(state, child, err)) {
            break;
        }
    }
}

void BM_eventfd_wake_latency(benchmark::State &state) {
    run_pollable(state, Pollable::eventfd);
}
BENCHMARK(BM_eventfd_wake_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_epoll_eventfd_wake_latency(benchmark::State &state) {
    run_pollable(state, Pollable::epoll_eventfd);
}
BENCHMARK(BM_epoll_eventfd_wake_latency)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_dgram_wake_latency(benchmark::State &state) {
    run_pollable(state, Pollable::abstract_dgram);
}
BENCHMARK(BM_dgram_wake_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
