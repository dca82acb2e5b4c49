// mmpool_bench: the library's costs against memcpy, futexes, sockets and pipes, on Google
// Benchmark. Linked against mmpool::mmpool like any user program.
//
//   mmpool_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=5]
//                [--benchmark_format=json | --benchmark_out=FILE --benchmark_out_format=json]
//   MMPOOL_BENCH_FRAMES=N   recorded frames per cross-process case (default 300: 5 s at
//                           60 fps; CI smoke uses 10)
//
// NAMES, exactly as Google Benchmark prints them ("name" and "run_name" in the JSON; with
// --benchmark_repetitions the aggregates append _mean, _median, _stddev and _cv to "name").
// N is the frame size in bytes: 64, 4096, 1048576, 6220800 (Full-HD BGR8, 1920x1080x3) or
// 33554432; "label" gives the same size as 64B, 4KiB, 1MiB, FullHD or 32MiB.
//
// IN-PROCESS. real_time is the time per operation in ns; counters: bytes_per_second (frame
// bytes per operation / time) and, for the two manually timed cases, clock_overhead_ns. They
// run size by size, each pool case next to its baseline (memcpy_in, try_write, loan_write,
// memcpy_out, try_read, loan_read), because the memory bandwidth of a shared machine drifts
// by 10-50 % over minutes; --benchmark_enable_random_interleaving=true spreads it further.
//   BM_memcpy_in/bytes:N       memcpy of the frame from a private buffer into MAP_SHARED
//                              buffers in /dev/shm, pre-faulted, rotating over 3 (as many
//                              as the pool has slots).
//   BM_memcpy_out/bytes:N      memcpy from those shared buffers into a private buffer.
//   BM_stream_fill/bytes:6220800
//                              (x86-64) SSE2 streaming stores of a constant into those
//                              shared buffers, no source read: the floor under try_write's
//                              Full-HD copy (T1's note; try_write streams with AVX where the
//                              CPU has it, no faster here: the copy is bound by memory).
//   BM_try_write/bytes:N       mmpool_try_write into a pool in /dev/shm (3 slots of N bytes,
//                              no reader; its slots rotate like the baseline's buffers).
//   BM_try_read/bytes:N/manual_time
//                              mmpool_try_read (LATEST, copy out) of a new frame. Before
//                              each read, outside the timed part, a frame is committed with
//                              a write loan, its data untouched. Manual time: CLOCK_MONOTONIC
//                              read just before and after the call, so it includes about one
//                              clock read (clock_overhead_ns, ~25 ns here). Its cpu_time
//                              covers the whole iteration, commit included: use real_time.
//   BM_loan_write/bytes:N      mmpool_write_acquire + mmpool_write_commit, no data touched
//                              (the application would produce the frame in place);
//                              bytes_per_second counts the frame handed over, not copied.
//   BM_loan_read/bytes:N/manual_time
//                              mmpool_read_acquire + mmpool_read_release, a frame committed
//                              before each outside the timed part, as for try_read.
//   BM_small_roundtrip/bytes:64
//                              mmpool_try_write of 64 bytes on one handle, then
//                              mmpool_try_read on another, timed together.
//
// CROSS-PROCESS. This process writes; a forked child reads, blocked in a call with a 5 s
// timeout between frames, and is always reaped (killed if it has not exited 5 s after the
// last frame). One iteration per repetition. real_time (manual, in us) is the p50 latency,
// except for sustained_fps where it is 1 / fps; cpu_time is this process's CPU time over
// the whole run, setup included, and means nothing. Pacing: one frame per 16.67 ms tick
// (clock_nanosleep, TIMER_ABSTIME; ticks missed in a stall are skipped, not caught up), so
// the reader is idle between frames. Timestamps: mmpool_now_ns() (CLOCK_MONOTONIC,
// system-wide); t0 travels in the frame's first 8 bytes and the child records now - t0 in
// shared memory. Latency counters, over MMPOOL_BENCH_FRAMES frames after 3 unrecorded
// warm-up frames (which fault the slots in):
//   p50_us, p99_us (nearest rank), mean_us, min_us, max_us   latency in us
//   frames     samples recorded;  missed  frames sent but never received (0 expected)
//   same_cpu   fraction of the samples whose reader ran on the CPU the writer sent from
//              (sched_getcpu() on both sides, outside the timed part). The scheduler picks
//              the placement and it shows in the figures: a wake-up on the waker's own CPU
//              waits until the waker sleeps; one on the other CPU costs an IPI.
// The cases:
//   BM_xproc_loan_latency/iterations:1/manual_time
//       Full-HD, zero copy: t0 before mmpool_write_acquire; the writer does not fill the
//       frame, it writes only t0 into it, then commits; stop when mmpool_read_acquire
//       has returned in the child. Also dropped: the sum of frame.dropped the reader saw.
//   BM_xproc_copy_latency/iterations:1/manual_time
//       Full-HD, copies: t0 before mmpool_try_write (which copies 6 MB); stop when
//       mmpool_read has returned with the frame copied out. Also dropped.
//   BM_xproc_loan_copy_latency/iterations:1/manual_time
//       Full-HD, one copy: t0 before mmpool_write_acquire (the frame is not filled, as
//       in loan_latency); stop when mmpool_read has returned with the frame copied out.
//   BM_wake_latency_64B/iterations:1/manual_time
//       as copy_latency with a 64-byte frame: mmpool's wake-up, to compare with the next.
//   BM_spin_wake_latency_64B/iterations:1/manual_time
//       as wake_latency_64B, with the reader opened with spin_ns = 50 ms (it spins through
//       the 16.7 ms between frames) and pinned to CPU 1, the writer to CPU 0 (spinning on
//       the writer's CPU would only take turns with it). Needs CPUs 0 and 1.
//   BM_spin_loan_latency/iterations:1/manual_time
//       as xproc_loan_latency with that spinning, pinned reader: a Full-HD loan handed over
//       without touching the payload beyond t0.
//   BM_spin_wake_latency_64B_1kHz, BM_spin_loan_latency_1kHz, BM_shm_spin_ping_1kHz
//       the three spinning cases (this one and the two above) with one frame per ms
//       instead of per 16.7 ms: the writer's commit then starts with warmer caches.
//   BM_shm_spin_ping/iterations:1/manual_time
//       the floor of a spinning reader, without mmpool: the writer stores t0 and bumps a
//       word on a MAP_SHARED page; the child, pinned as above, spins on the word with the
//       pause instruction: one cache line moving between two cores.
//   BM_event_wake_latency_64B/iterations:1/manual_time
//       as wake_latency_64B, but the reader waits as an event loop does: poll() on its
//       mmpool_event_handle descriptor, then mmpool_try_read until a frame comes.
//   BM_eventfd_wake_latency, BM_epoll_eventfd_wake_latency, BM_dgram_wake_latency
//       (bench/xproc_pollable.cpp) floors of the event path, without mmpool, paced and
//       timed like futex_wake_latency below: the child poll()s an eventfd, an epoll set
//       holding that eventfd (an event handle once the writer has its direct line), or a
//       datagram socket bound in the abstract namespace (a signal by name); the waker
//       stores t0 and writes 8 bytes to the eventfd or sends one byte to the name.
//   BM_futex_wake_latency/iterations:1/manual_time
//       the floor, without mmpool: the waker stores t0 in a shared word, bumps a futex word
//       on a MAP_SHARED page and calls FUTEX_WAKE (not private); stop when the sleeper's
//       FUTEX_WAIT has returned.
//   BM_futex_half_roundtrip/iterations:1/manual_time
//       futex ping-pong between the two processes, no pacing, both sleeping in FUTEX_WAIT;
//       a sample is half of one round trip; 20 rounds per MMPOOL_BENCH_FRAMES after 100
//       warm-up rounds.
//   BM_unix_socket/iterations:1/manual_time
//   BM_pipe/iterations:1/manual_time
//       the Full-HD frame one way through an AF_UNIX SOCK_STREAM socketpair (SO_SNDBUF and
//       SO_RCVBUF 4 MiB) or a pipe (F_SETPIPE_SZ 1 MiB), the reader blocked in read(); t0
//       before the first write(), stop when all bytes are in. Also buffer_bytes (SO_SNDBUF
//       as the kernel reports it, i.e. doubled, or the pipe's size).
//   BM_xproc_sustained_fps/iterations:1/manual_time
//       the writer calls mmpool_try_write (Full-HD) back to back for MMPOOL_BENCH_FRAMES x
//       6.67 ms (2 s by default); the child reads in LATEST mode with mmpool_read (copy
//       out). Counters: fps (frames the reader received per second), written_fps,
//       dropped (frames the reader never saw: the sum of frame.dropped), frames (received).
//   BM_try_write_paced_FullHD, BM_try_write_paced_64B_1kHz
//       (bench/paced.cpp) mmpool_try_write alone into a pool of 3 slots with no reader,
//       Full-HD one per 16.67 ms tick or 64 B one per ms, timed around the call: the
//       writer's part of the copy path's and the spinning reader's latency. Counters as
//       the memcpy_paced cases below.
//   BM_memcpy_paced_in/iterations:1/manual_time
//   BM_memcpy_paced_out/iterations:1/manual_time
//       (bench/paced.cpp, one process) the Full-HD memcpy of BM_memcpy_in / BM_memcpy_out
//       (same buffers, rotating over 3), one copy per 16.67 ms tick like the paced cases
//       above, so each starts after ~16 ms idle, with cold caches and clocks: the baseline
//       for the copies of BM_xproc_copy_latency. Timed around the memcpy alone; 60 copies
//       (fewer if MMPOOL_BENCH_FRAMES is smaller) after 3 unrecorded ones. Counters p50_us,
//       p99_us, mean_us, min_us, max_us, frames; real_time is the p50.
//
// PEERS (bench/peers_*.cpp), each built only when CMake finds its Debian package (it prints
// a status line per peer): the same Full-HD frame, paced and timed as the cases above,
// through another library. bench/report compares them with mmpool (targets T11 to T14).
//   BM_iceoryx_loan_latency/iterations:1/manual_time
//       iceoryx 2.0 (C binding; libiceoryx-binding-c-dev, iceoryx): the case starts its own
//       iox-roudi with one pool of 6 chunks of 6 MiB, and stops it (SIGTERM) when done.
//       The publisher and the subscriber are two forked children (one iceoryx runtime per
//       process, and per RouDi). Zero copy, as xproc_loan_latency: t0 before
//       iox_pub_loan_chunk; only t0 and the frame's number are written, then published;
//       stop when iox_sub_take_chunk has returned in the subscriber (asleep in a wait set,
//       queue of 1, oldest dropped), which releases it. 6 more unrecorded warm-up frames,
//       one per chunk.
//   BM_iceoryx_sustained_fps/iterations:1/manual_time
//       as xproc_sustained_fps: the publisher loans, copies the whole frame in and
//       publishes, back to back; the subscriber takes the newest, copies it out, releases.
//       Counters fps, written_fps, dropped (from the frame numbers), frames.
//   BM_boost_mq_latency/iterations:1/manual_time
//       Boost.Interprocess message_queue (libboost-dev) of 3 Full-HD messages, as
//       xproc_copy_latency: t0 before timed_send (a copy in); stop when the child's
//       timed_receive has copied it into a buffer. The name is removed once both have it.
//   BM_zmq_ipc_latency/iterations:1/manual_time
//       ZeroMQ (libzmq3-dev) PUSH to PULL over ipc:// in a new /tmp directory, default
//       options but linger 0 and 5 s timeouts: t0 before zmq_send; stop when the child's
//       zmq_recv has copied the frame into a buffer.
//
// The JSON context also has mmpool_version, mmpool_bench_frames and clock_overhead_ns.
// Caveats of Google Benchmark 1.7.1: a counter that is 0 in every repetition (dropped,
// missed) gets a _cv aggregate of 0/0, which its JSON writer prints as NaN (Python's json
// and jq accept it; strict parsers do not). A case that fails calls SkipWithError; if that
// happens in some repetitions but not all, 1.7.1 crashes in ComputeStats (its issue #1406)
// and the whole output is lost, so a failure is worth re-running with --benchmark_repetitions=1.
#include <csignal>
#include <string>

#include "support.hpp"

int main(int argc, char **argv) {
    // A reader child that dies must give an error, not kill us with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    mmbench::install_cleanup_handlers();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::AddCustomContext("mmpool_version", mmpool_version());
    benchmark::AddCustomContext("mmpool_bench_frames", std::to_string(mmbench::bench_frames()));
    benchmark::AddCustomContext("clock_overhead_ns", std::to_string(mmbench::clock_overhead_ns()));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
