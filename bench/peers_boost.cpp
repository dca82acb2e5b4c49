// A peer in mmpool's own benchmark: Boost.Interprocess message_queue, built
// only when CMake finds its header (bench/CMakeLists.txt). The Full-HD frame
// copied in and out, at the same pacing and measured by the same code as
// BM_xproc_copy_latency; the table at the top of mmpool_bench.cpp says what
// it measures.
#include <cstring>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>

#include "support.hpp"

namespace mmbench {
namespace {

namespace bip = boost::interprocess;

// The queue's name, removed when this goes out of scope (normally earlier:
// see below). Boost keeps the queue in /dev/shm under that name.
struct QueueName {
    std::string name = unique_name("boost-mq");
    QueueName() = default;
    QueueName(const QueueName &) = delete;
    QueueName &operator=(const QueueName &) = delete;
    ~QueueName() {
        bip::message_queue::remove(name.c_str());
    }
};

// The child: opens the queue and receives `total` frames into a buffer with
// blocking receives, recording now - t0 of each once it has been copied
// out. Messages arrive in the order sent, so the i-th is frame i.
std::string mq_reader(Child &c, const std::string &name, unsigned total) {
    Memory buf = Memory::private_pages(kFullHdBytes);
    if (!buf) {
        return "mmap of the frame buffer failed";
    }
    bip::message_queue mq(bip::open_only, name.c_str());
    c.ready();
    for (unsigned i = 0; i < total; i++) {
        bip::message_queue::size_type got = 0;
        unsigned priority = 0;
        const auto deadline = boost::posix_time::microsec_clock::universal_time() +
                              boost::posix_time::milliseconds(kWaitMs);
        if (!mq.timed_receive(buf.data(), kFullHdBytes, got, priority, deadline)) {
            return "message_queue::timed_receive: no frame after " + std::to_string(kWaitMs) +
                   " ms";
        }
        std::uint64_t t1 = mmpool_now_ns(), t0;
        if (got != kFullHdBytes) {
            return "message_queue: a message of " + std::to_string(got) + " bytes";
        }
        std::memcpy(&t0, buf.data(), sizeof t0);
        c.record(i, t1 - t0);
    }
    return "";
}

// Copy path: a queue of kSlots messages of a Full-HD frame each, as many as
// mmpool's pool has slots. t0 goes into the frame's first 8 bytes just
// before message_queue::timed_send, which copies the frame into the queue; the
// clock stops when the child's timed_receive has copied it out.
void BM_boost_mq_latency(benchmark::State &state) {
    for (auto _ : state) {
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        std::string err;
        Samples lat;
        try {
            QueueName q;
            bip::message_queue mq(bip::create_only, q.name.c_str(), kSlots, kFullHdBytes);
            Memory src = Memory::private_pages(kFullHdBytes);
            Child child(frames); // after the queue: on an error it is killed first
            err = src ? child.start([&](Child &c) { return mq_reader(c, q.name, total); })
                      : "mmap of the frame buffer failed";
            if (err.empty()) {
                err = child.wait_ready();
            }
            if (err.empty()) {
                // Both have it mapped: the name can go, so that nothing is
                // left in /dev/shm even if we are killed.
                bip::message_queue::remove(q.name.c_str());
                err = paced(total, child, [&](unsigned) {
                    std::uint64_t t0 = mmpool_now_ns();
                    std::memcpy(src.data(), &t0, sizeof t0);
                    const auto deadline = boost::posix_time::microsec_clock::universal_time() +
                                          boost::posix_time::milliseconds(kWaitMs);
                    return mq.timed_send(src.data(), kFullHdBytes, 0, deadline)
                               ? std::string()
                               : std::string("message_queue::timed_send: queue still full");
                });
            }
            if (err.empty()) {
                err = child.finish(kWaitMs);
            }
            if (err.empty()) {
                lat = child.samples();
            }
        } catch (const bip::interprocess_exception &e) {
            err = std::string("boost::interprocess: ") + e.what();
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        report_latency(state, lat);
    }
    state.SetLabel(size_label(kFullHdBytes));
}
BENCHMARK(BM_boost_mq_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
