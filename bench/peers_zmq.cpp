// A peer in mmpool's own benchmark: ZeroMQ over ipc://, built only when
// CMake finds libzmq (bench/CMakeLists.txt). The Full-HD frame copied in and
// out, at the same pacing and measured by the same code as
// BM_xproc_copy_latency; the table at the top of mmpool_bench.cpp says what
// it measures.
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include <zmq.h>

#include "support.hpp"

namespace mmbench {
namespace {

std::string zmq_error(const char *what) {
    return std::string(what) + ": " + zmq_strerror(zmq_errno());
}

// A new directory for the endpoint's socket file; the destructor removes
// the file (if the binding side has not) and the directory.
struct TempDir {
    std::string path;
    TempDir() {
        char dir[] = "/tmp/mmpool-bench-zmq-XXXXXX";
        if (mkdtemp(dir) != nullptr) {
            path = dir;
        }
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    ~TempDir() {
        if (!path.empty()) {
            unlink(socket().c_str());
            rmdir(path.c_str());
        }
    }
    std::string socket() const {
        return path + "/frames";
    }
};

// A context with one socket, closed (linger 0) and terminated at scope exit.
// Made after the fork, in each process: a context does not survive one.
class Socket {
  public:
    explicit Socket(int type) {
        ctx_ = zmq_ctx_new();
        sock_ = ctx_ != nullptr ? zmq_socket(ctx_, type) : nullptr;
        int linger = 0, timeout = kWaitMs;
        if (sock_ != nullptr &&
            (zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
             zmq_setsockopt(sock_, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
             zmq_setsockopt(sock_, ZMQ_SNDTIMEO, &timeout, sizeof timeout) != 0)) {
            zmq_close(sock_);
            sock_ = nullptr;
        }
    }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;
    ~Socket() {
        if (sock_ != nullptr) {
            zmq_close(sock_);
        }
        if (ctx_ != nullptr) {
            zmq_ctx_term(ctx_);
        }
    }
    void *get() const {
        return sock_;
    }

  private:
    void *ctx_ = nullptr;
    void *sock_ = nullptr;
};

// The child: binds a PULL socket to the endpoint and receives `total`
// frames into a buffer, recording now - t0 of each once zmq_recv has copied
// it out. PUSH/PULL keeps the order, so the i-th is frame i.
std::string zmq_reader(Child &c, const std::string &endpoint, unsigned total) {
    Memory buf = Memory::private_pages(kFullHdBytes);
    if (!buf) {
        return "mmap of the frame buffer failed";
    }
    Socket pull(ZMQ_PULL);
    if (pull.get() == nullptr) {
        return zmq_error("zmq socket");
    }
    if (zmq_bind(pull.get(), endpoint.c_str()) != 0) {
        return zmq_error("zmq_bind");
    }
    c.ready();
    for (unsigned i = 0; i < total; i++) {
        int n = zmq_recv(pull.get(), buf.data(), kFullHdBytes, 0);
        std::uint64_t t1 = mmpool_now_ns(), t0;
        if (n < 0) {
            return zmq_error("zmq_recv");
        }
        if (static_cast<std::size_t>(n) != kFullHdBytes) {
            return "zmq_recv: a message of " + std::to_string(n) + " bytes";
        }
        std::memcpy(&t0, buf.data(), sizeof t0);
        c.record(i, t1 - t0);
    }
    return "";
}

// Copy path: PUSH (here) to PULL (the child) over ipc:// in a new temp
// directory, default socket options but linger and timeouts. t0 goes into
// the frame's first 8 bytes just before zmq_send, which copies the frame
// into a message; ZeroMQ's I/O threads move it through an AF_UNIX stream;
// the clock stops when the child's zmq_recv has copied it out.
void BM_zmq_ipc_latency(benchmark::State &state) {
    for (auto _ : state) {
        const unsigned frames = bench_frames(), total = kWarmFrames + frames;
        TempDir dir;
        const std::string endpoint = "ipc://" + dir.socket();
        Memory src = Memory::private_pages(kFullHdBytes);
        std::string err = dir.path.empty() ? sys_error("mkdtemp")
                          : !src           ? "mmap of the frame buffer failed"
                                           : "";
        Child child(frames); // after the directory: killed before it is removed
        if (err.empty()) {
            err = child.start([&](Child &c) { return zmq_reader(c, endpoint, total); });
        }
        if (err.empty()) {
            err = child.wait_ready();
        }
        if (err.empty()) {
            Socket push(ZMQ_PUSH);
            if (push.get() == nullptr) {
                err = zmq_error("zmq socket");
            } else if (zmq_connect(push.get(), endpoint.c_str()) != 0) {
                err = zmq_error("zmq_connect");
            } else {
                err = paced(total, child, [&](unsigned) {
                    std::uint64_t t0 = mmpool_now_ns();
                    std::memcpy(src.data(), &t0, sizeof t0);
                    return zmq_send(push.get(), src.data(), kFullHdBytes, 0) ==
                                   static_cast<int>(kFullHdBytes)
                               ? std::string()
                               : zmq_error("zmq_send");
                });
            }
            if (err.empty()) {
                err = child.finish(kWaitMs);
            }
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        report_latency(state, child.samples());
    }
    state.SetLabel(size_label(kFullHdBytes));
}
BENCHMARK(BM_zmq_ipc_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
