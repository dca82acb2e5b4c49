// A peer in mmpool's own benchmark: iceoryx 2.0 (its C binding), built only
// when CMake finds the binding and iox-roudi (bench/CMakeLists.txt). The same
// Full-HD frame at the same pacing, measured by the same code as mmpool's
// cases; what each case measures is in the table at the top of
// mmpool_bench.cpp.
//
// Sections: iox-roudi for one case; the endpoints; the cases.
//
// Process layout. An iceoryx runtime is a singleton made once per process
// and registered with one RouDi for the life of the process; a process
// forked from a registered one inherits that registration and cannot make
// its own. Each case starts its own RouDi, so the
// benchmark process registers nothing: it forks the subscriber, then the
// publisher, both fresh processes, and runs RouDi as a third child. The
// publisher calls the same paced() as the other cases and writes t0 the same
// way; only the process it runs in differs from the mmpool cases.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

// The binding's headers declare C functions without extern "C" of their own.
extern "C" {
#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/notification_info.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>
}

#include "support.hpp"

namespace mmbench {
namespace {

// ---- iox-roudi for one case ----

// The name of a case's application in role "sub" or "pub": ours, not the
// child's PID, so that this process knows the names of the files in /tmp
// that the application's runtime makes.
std::string app_name(const char *role) {
    return std::string("mmpool-bench-") + role + "-" + std::to_string(getpid());
}

// RouDi's shared memory: one pool of chunks that hold a Full-HD frame. Six
// is more than the publisher's loan, the subscriber's queue of one and the
// chunk it holds ever need at once; the paced cases send that many extra
// unrecorded frames first, so that every chunk has been through both
// processes before a frame is recorded.
constexpr unsigned kChunks = 6;
constexpr std::size_t kChunkBytes = 6u << 20; // a frame plus the chunk header
constexpr const char *kReadyLine = "RouDi is ready for clients";

// iox-roudi run as our child for one case, with a configuration for Full-HD
// chunks. stop() ends it with SIGTERM (SIGKILL after kWaitMs: RouDi removes
// its shared memory only on SIGTERM) and reaps it by its PID; the destructor
// does the same, so an error path cannot leave it running.
class Roudi {
  public:
    Roudi() = default;
    Roudi(const Roudi &) = delete;
    Roudi &operator=(const Roudi &) = delete;
    ~Roudi() {
        stop();
    }
    // Writes the configuration, starts iox-roudi and waits until it says it
    // is ready. "" or why not, with what RouDi printed.
    std::string start();
    // "" if RouDi ended on SIGTERM in time, else why not.
    std::string stop();

  private:
    std::string write_config(std::string *path);
    std::string wait_ready();
    std::string drain();
    void remove_files(bool roudi_too);
    pid_t pid_ = -1;
    int out_ = -1;       // RouDi's stdout and stderr
    std::string output_; // what it printed until it was ready
    bool ready_ = false; // it said so: it held RouDi's lock, its files are ours
};

std::string Roudi::write_config(std::string *path) {
    char dir[] = "/tmp/mmpool-bench-iox-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
        return sys_error("mkdtemp");
    }
    *path = std::string(dir) + "/roudi.toml";
    FILE *f = std::fopen(path->c_str(), "w");
    if (f == nullptr) {
        std::string err = sys_error("fopen");
        rmdir(dir);
        return err;
    }
    std::fprintf(f,
                 "[general]\nversion = 1\n\n[[segment]]\n\n[[segment.mempool]]\n"
                 "size = %zu\ncount = %u\n",
                 kChunkBytes, kChunks);
    return std::fclose(f) == 0 ? "" : sys_error("fclose");
}

std::string Roudi::start() {
    std::string config;
    std::string err = write_config(&config);
    int fds[2];
    if (!err.empty()) {
        // nothing started
    } else if (pipe2(fds, O_CLOEXEC) != 0) {
        err = sys_error("pipe2");
    } else if ((pid_ = fork()) < 0) {
        err = sys_error("fork");
        close(fds[0]);
        close(fds[1]);
    } else if (pid_ == 0) {
        // SIGTERM, not SIGKILL, if we die: RouDi then removes its memory.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        signal(SIGPIPE, SIG_DFL);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        // -k 1: on SIGTERM, wait at most 1 s for registered applications
        // (ours have exited by then).
        execl(MMPOOL_BENCH_IOX_ROUDI, "iox-roudi", "-c", config.c_str(), "-l", "info", "-k", "1",
              static_cast<char *>(nullptr));
        _exit(127);
    } else {
        close(fds[1]);
        out_ = fds[0];
        err = wait_ready();
    }
    // RouDi has read its configuration once it is ready (or it has failed).
    if (!config.empty()) {
        unlink(config.c_str());
        rmdir(config.substr(0, config.rfind('/')).c_str());
    }
    return err;
}

// RouDi's output on one line for an error message: colour codes dropped,
// lines joined with " | ", at most the last 400 characters.
std::string one_line(const std::string &text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\x1b') {
            i = text.find('m', i);
            if (i == std::string::npos) {
                break;
            }
        } else if (text[i] == '\n') {
            out += i + 1 < text.size() ? " | " : "";
        } else {
            out += text[i];
        }
    }
    return out.size() > 400 ? "..." + out.substr(out.size() - 400) : out;
}

std::string Roudi::wait_ready() {
    const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(kReadyMs) * 1000000u;
    while (output_.find(kReadyLine) == std::string::npos) {
        std::uint64_t now = now_ns();
        if (now >= deadline) {
            return "iox-roudi not ready after " + std::to_string(kReadyMs) +
                   " ms: " + one_line(output_);
        }
        pollfd pfd{out_, POLLIN, 0};
        int rc = poll(&pfd, 1, static_cast<int>((deadline - now) / 1000000u) + 1);
        if (rc < 0 && errno != EINTR) {
            return sys_error("poll");
        }
        if (rc <= 0) {
            continue;
        }
        char buf[512];
        ssize_t n = read(out_, buf, sizeof buf);
        if (n == 0) {
            return "iox-roudi exited before it was ready: " + one_line(output_);
        }
        if (n > 0) {
            output_.append(buf, static_cast<std::size_t>(n));
        }
    }
    ready_ = true;
    // Not read again: RouDi prints a few lines per application, far less
    // than the pipe holds, until stop().
    return "";
}

// The end of what RouDi printed since it was ready, for an error message.
std::string Roudi::drain() {
    std::string text;
    char buf[512];
    ssize_t n;
    fcntl(out_, F_SETFL, O_NONBLOCK);
    while ((n = read(out_, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<std::size_t>(n));
    }
    return one_line(text);
}

std::string Roudi::stop() {
    std::string err;
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(kWaitMs) * 1000000u;
        int status = 0;
        pid_t r;
        while ((r = waitpid(pid_, &status, WNOHANG)) == 0 && now_ns() < deadline) {
            sleep_until_ns(now_ns() + 1000000u);
        }
        if (r == 0) {
            kill(pid_, SIGKILL);
            while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            err = "iox-roudi still running " + std::to_string(kWaitMs) + " ms after SIGTERM";
        } else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
            err = "iox-roudi ended by signal " + std::to_string(WTERMSIG(status)) + ": " + drain();
        } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
            err = "iox-roudi exited with " + std::to_string(WEXITSTATUS(status)) + ": " + drain();
        }
        pid_ = -1;
    }
    if (out_ >= 0) {
        close(out_);
        out_ = -1;
    }
    remove_files(ready_ && !err.empty());
    ready_ = false;
    return err;
}

// An application killed before its runtime's destructor ran leaves two
// files in /tmp; RouDi itself, when it did not end on SIGTERM, leaves its
// shared memory (the management segment and one named after the user) and
// its files in /tmp. Only one RouDi runs on a machine (it holds a lock), so
// once ours has been ready and has ended these names are ours to remove;
// one that failed to start (another RouDi holds the lock) removes nothing.
void Roudi::remove_files(bool roudi_too) {
    for (const char *role : {"sub", "pub"}) {
        std::string path = "/tmp/" + app_name(role);
        unlink(path.c_str());
        unlink((path + ".lock").c_str());
    }
    if (!roudi_too) {
        return;
    }
    const passwd *user = getpwuid(geteuid());
    if (user != nullptr) {
        shm_unlink(user->pw_name);
    }
    shm_unlink("iceoryx_mgmt");
    for (const char *path : {"/tmp/roudi", "/tmp/roudi.lock", "/tmp/iox-unique-roudi.lock"}) {
        unlink(path);
    }
}

// ---- the endpoints ----

// The frame's first 8 bytes are t0, the next 8 its number.
struct Stamp {
    std::uint64_t t0;
    std::uint64_t index;
};

constexpr const char *kService = "mmpool-bench";
constexpr const char *kEvent = "frame";

// The body of a child that is an iceoryx application: it starts its runtime
// (iceoryx's own messages limited to warnings), runs body, and leaves with
// exit() rather than by returning to Child::start's _exit(), because only
// exit() runs the runtime's destructor, which deregisters from RouDi and
// removes the application's files in /tmp. RouDi, when stopped, aborts on an
// application still registered whose process is gone, leaving its shared
// memory behind. Run::start flushes our stdio buffers before forking, so the
// child's exit() writes nothing twice.
Child::Body application(const std::string &name, const Child::Body &body) {
    return [name, body](Child &c) -> std::string {
        iox_set_loglevel(Iceoryx_LogLevel_Warn);
        iox_runtime_init(name.c_str());
        std::string err;
        try {
            err = body(c);
        } catch (const std::exception &e) {
            err = e.what();
        }
        std::snprintf(c.shared().error, sizeof c.shared().error, "%s", err.c_str());
        std::exit(err.empty() ? 0 : 1);
    };
}

// A subscriber with a queue of one that drops the oldest chunk when full
// (a reader of the newest frame, as mmpool's LATEST), and a wait set on
// which it sleeps until a chunk has come.
class Subscriber {
  public:
    explicit Subscriber(const std::string &instance) {
        iox_sub_options_t opts;
        iox_sub_options_init(&opts);
        opts.queueCapacity = 1;
        opts.historyRequest = 0;
        opts.queueFullPolicy = QueueFullPolicy_DISCARD_OLDEST_DATA;
        sub_ = iox_sub_init(&sub_storage_, kService, instance.c_str(), kEvent, &opts);
        ws_ = iox_ws_init(&ws_storage_);
        attached_ = iox_ws_attach_subscriber_state(ws_, sub_, SubscriberState_HAS_DATA, 0,
                                                   nullptr) == WaitSetResult_SUCCESS;
    }
    Subscriber(const Subscriber &) = delete;
    Subscriber &operator=(const Subscriber &) = delete;
    ~Subscriber() {
        iox_ws_deinit(ws_);
        iox_sub_deinit(sub_);
    }
    bool attached() const {
        return attached_;
    }
    // Sleeps until a chunk is there, then takes it. "" or why not.
    std::string take(const void **chunk) {
        for (;;) {
            iox_ChunkReceiveResult rc = iox_sub_take_chunk(sub_, chunk);
            if (rc == ChunkReceiveResult_SUCCESS) {
                return "";
            }
            if (rc != ChunkReceiveResult_NO_CHUNK_AVAILABLE) {
                return "iox_sub_take_chunk: result " + std::to_string(static_cast<int>(rc));
            }
            iox_notification_info_t info[1];
            std::uint64_t missed = 0;
            timespec timeout{kWaitMs / 1000, 0};
            if (iox_ws_timed_wait(ws_, timeout, info, 1, &missed) == 0) {
                return "iox_ws_timed_wait: no chunk after " + std::to_string(kWaitMs) + " ms";
            }
        }
    }
    void release(const void *chunk) {
        iox_sub_release_chunk(sub_, chunk);
    }

  private:
    iox_sub_storage_t sub_storage_;
    iox_ws_storage_t ws_storage_;
    iox_sub_t sub_;
    iox_ws_t ws_;
    bool attached_ = false;
};

// A publisher that keeps no history, dropping the subscriber's oldest chunk
// rather than waiting for it.
class Publisher {
  public:
    explicit Publisher(const std::string &instance) {
        iox_pub_options_t opts;
        iox_pub_options_init(&opts);
        opts.historyCapacity = 0;
        opts.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_DISCARD_OLDEST_DATA;
        pub_ = iox_pub_init(&storage_, kService, instance.c_str(), kEvent, &opts);
    }
    Publisher(const Publisher &) = delete;
    Publisher &operator=(const Publisher &) = delete;
    ~Publisher() {
        iox_pub_deinit(pub_);
    }
    // Waits until the subscriber is connected. "" or why not.
    std::string wait_subscriber() {
        const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(kReadyMs) * 1000000u;
        while (!iox_pub_has_subscribers(pub_)) {
            if (now_ns() >= deadline) {
                return "no subscriber after " + std::to_string(kReadyMs) + " ms";
            }
            sleep_until_ns(now_ns() + 1000000u);
        }
        return "";
    }
    std::string loan(void **chunk) {
        iox_AllocationResult rc =
            iox_pub_loan_chunk(pub_, chunk, static_cast<std::uint32_t>(kFullHdBytes));
        return rc == AllocationResult_SUCCESS
                   ? ""
                   : "iox_pub_loan_chunk: result " + std::to_string(static_cast<int>(rc));
    }
    void publish(void *chunk) {
        iox_pub_publish_chunk(pub_, chunk);
    }
    // Loans every chunk of the pool and writes all of it, then gives them
    // back unsent: the publisher's side of the pages faulted in, as
    // BM_xproc_sustained_fps does with its slots. "" or why not.
    std::string prefault() {
        void *chunks[kChunks] = {};
        std::string err;
        unsigned n = 0;
        for (; n < kChunks && err.empty(); n++) {
            if ((err = loan(&chunks[n])).empty()) {
                std::memset(chunks[n], 0x5a, kFullHdBytes);
            }
        }
        for (unsigned k = 0; k < n; k++) {
            if (chunks[k] != nullptr) {
                iox_pub_release_chunk(pub_, chunks[k]);
            }
        }
        return err;
    }

  private:
    iox_pub_storage_t storage_;
    iox_pub_t pub_;
};

// The subscriber and the publisher of one case, each in a forked child, and
// the RouDi they talk through; destroyed in reverse order, so RouDi is
// stopped after both have been reaped.
struct Run {
    Roudi roudi;
    Child sub;
    Child pub;
    std::string instance = std::to_string(getpid());
    explicit Run(std::size_t frames) : sub(frames), pub(0) {}
    // Starts RouDi, the subscriber and then the publisher, each once the one
    // before is ready. "" or why not.
    std::string start(const Child::Body &subscriber, const Child::Body &publisher) {
        std::string err = roudi.start();
        std::fflush(nullptr); // see application()
        if (err.empty()) {
            err = sub.start(application(app_name("sub"), subscriber));
        }
        if (err.empty()) {
            err = sub.wait_ready();
        }
        if (err.empty()) {
            err = pub.start(application(app_name("pub"), publisher));
        }
        if (err.empty()) {
            err = pub.wait_ready();
        }
        return err;
    }
    // Reaps the publisher (which ends on its own after at most pub_ms), then
    // the subscriber, then stops RouDi. The first error, or "".
    std::string finish(int pub_ms) {
        std::string err = pub.finish(pub_ms);
        std::string sub_err = sub.finish(kWaitMs);
        std::string roudi_err = roudi.stop();
        return !err.empty() ? "publisher: " + err : !sub_err.empty() ? sub_err : roudi_err;
    }
};

// ---- the cases ----

// Paced, zero copy: t0 before iox_pub_loan_chunk; only t0 and the frame's
// number are written into the chunk, which is published; the clock stops
// when iox_sub_take_chunk has returned it in the subscriber, which then
// releases it. Like BM_xproc_loan_latency.
void BM_iceoryx_loan_latency(benchmark::State &state) {
    for (auto _ : state) {
        const unsigned frames = bench_frames();
        const unsigned total = kChunks + kWarmFrames + frames; // kChunks not recorded at all
        Run run(frames);
        std::string err = run.start(
            [&](Child &c) -> std::string {
                Subscriber sub(run.instance);
                if (!sub.attached()) {
                    return "iox_ws_attach_subscriber_state failed";
                }
                c.ready();
                for (std::uint64_t last = 0; last + 1 < total;) {
                    const void *chunk = nullptr;
                    std::string e = sub.take(&chunk);
                    std::uint64_t t1 = mmpool_now_ns();
                    if (!e.empty()) {
                        return e;
                    }
                    Stamp s;
                    std::memcpy(&s, chunk, sizeof s);
                    sub.release(chunk);
                    if (s.index >= total) {
                        return "frame number " + std::to_string(s.index) + " out of range";
                    }
                    if (s.index >= kChunks) {
                        c.record(s.index - kChunks, t1 - s.t0);
                    }
                    last = s.index;
                }
                return "";
            },
            [&](Child &) -> std::string {
                Publisher pub(run.instance);
                std::string e = pub.wait_subscriber();
                if (!e.empty()) {
                    return e;
                }
                run.pub.ready();
                return paced(total, run.sub, [&](unsigned i) {
                    Stamp s{mmpool_now_ns(), i};
                    void *chunk = nullptr;
                    std::string le = pub.loan(&chunk);
                    if (le.empty()) {
                        std::memcpy(chunk, &s, sizeof s);
                        pub.publish(chunk);
                    }
                    return le;
                });
            });
        if (err.empty()) {
            err = run.finish(static_cast<int>(total * kFramePeriodNs / 1000000u) + kWaitMs);
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        report_latency(state, run.sub.samples());
    }
    state.SetLabel(size_label(kFullHdBytes));
}
BENCHMARK(BM_iceoryx_loan_latency)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Back to back, as BM_xproc_sustained_fps: the publisher loans a chunk,
// copies the whole frame into it and publishes, for MMPOOL_BENCH_FRAMES x
// 6.67 ms; the subscriber takes the newest chunk, copies the frame out and
// releases it, until the publisher sets stop. fps counts the frames the
// subscriber received; dropped, those it never saw (from the frame numbers).
void BM_iceoryx_sustained_fps(benchmark::State &state) {
    const std::uint64_t duration_ns = bench_frames() * kFramePeriodNs * 2 / 5;
    for (auto _ : state) {
        Run run(0);
        std::string err = run.start(
            [&](Child &c) -> std::string {
                Subscriber sub(run.instance);
                Memory buf = Memory::private_pages(kFullHdBytes);
                if (!sub.attached() || !buf) {
                    return "setting up the subscriber failed";
                }
                c.ready();
                SharedHeader &sh = c.shared();
                std::uint64_t received = 0, first = 0, last = 0;
                for (;;) {
                    const void *chunk = nullptr;
                    std::string e = sub.take(&chunk);
                    if (!e.empty()) {
                        return e;
                    }
                    std::memcpy(buf.data(), chunk, kFullHdBytes);
                    sub.release(chunk);
                    if (__atomic_load_n(&sh.stop, __ATOMIC_ACQUIRE) != 0) {
                        break; // the frame that woke us to stop does not count
                    }
                    Stamp s;
                    std::memcpy(&s, buf.data(), sizeof s);
                    first = received == 0 ? s.index : first;
                    last = s.index;
                    received++;
                }
                sh.received = received;
                sh.dropped = received == 0 ? 0 : last - first + 1 - received;
                return "";
            },
            [&](Child &) -> std::string {
                Publisher pub(run.instance);
                Memory src = Memory::private_pages(kFullHdBytes);
                std::string e = src ? pub.prefault() : "mmap of the frame buffer failed";
                if (e.empty()) {
                    e = pub.wait_subscriber();
                }
                if (!e.empty()) {
                    return e;
                }
                run.pub.ready();
                SharedHeader &mine = run.pub.shared();
                std::uint64_t written = 0, start = now_ns(), end = start;
                auto send = [&](std::uint64_t i) {
                    void *chunk = nullptr;
                    std::string le = pub.loan(&chunk);
                    if (le.empty()) {
                        std::memcpy(src.data() + 8, &i, sizeof i);
                        std::memcpy(chunk, src.data(), kFullHdBytes);
                        pub.publish(chunk);
                    }
                    return le;
                };
                while (e.empty() && (end = now_ns()) - start < duration_ns) {
                    e = send(written++);
                }
                if (e.empty()) {
                    // stop, then one more frame to wake the subscriber.
                    __atomic_store_n(&run.sub.shared().stop, 1, __ATOMIC_RELEASE);
                    e = send(written);
                }
                mine.t0 = end - start; // the publisher's own header: its run time
                mine.received = written;
                return e;
            });
        if (err.empty()) {
            err = run.finish(static_cast<int>(duration_ns / 1000000u) + kWaitMs);
        }
        if (!err.empty()) {
            state.SkipWithError(err.c_str());
            break;
        }
        const double seconds = static_cast<double>(run.pub.shared().t0) * 1e-9;
        const double received = static_cast<double>(run.sub.shared().received);
        state.counters["fps"] = received / seconds;
        state.counters["written_fps"] = static_cast<double>(run.pub.shared().received) / seconds;
        state.counters["dropped"] = static_cast<double>(run.sub.shared().dropped);
        state.counters["frames"] = received;
        state.SetIterationTime(received > 0 ? seconds / received : seconds);
    }
    state.SetLabel(size_label(kFullHdBytes));
}
BENCHMARK(BM_iceoryx_sustained_fps)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace mmbench
