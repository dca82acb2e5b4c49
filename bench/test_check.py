#!/usr/bin/python3
"""Self-test of bench/check's and bench/report's judging, on crafted Google
Benchmark JSON files: a measurement that is errored (SkipWithError), missing,
zero or NaN fails its target with the reason printed and exit status 1; it
never passes, and never ends in a traceback. Needs no benchmark build:

    /usr/bin/python3 bench/test_check.py
"""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "check")
REPORT = os.path.join(HERE, "report")
SIZES = [64, 4096, 1048576, 6220800, 33554432]
FULLHD = 6220800
TIDS = ["T%d" % n for n in range(1, 15)]


def row(name, run_type="aggregate", **fields):
    b = {"name": name + ("_median" if run_type == "aggregate" else ""), "run_name": name,
         "run_type": run_type, "repetitions": 5, "threads": 1, "iterations": 5,
         "time_unit": "ns", "real_time": 1.0, "cpu_time": 1.0}
    if run_type == "aggregate":
        b["aggregate_name"] = "median"
    b.update(fields)
    return b


def good_run():
    """A run in which all targets pass, with some margin each."""
    inproc = {"BM_memcpy_in": 1e6, "BM_try_write": 0.7e6, "BM_memcpy_out": 1e6,
              "BM_try_read": 1.05e6, "BM_loan_write": 500.0, "BM_loan_read": 500.0}
    rows = []
    for case, full_hd in inproc.items():
        for size in SIZES:
            t = full_hd * size / FULLHD if case.startswith("BM_memcpy") or case.startswith(
                "BM_try") else full_hd
            rows.append(row("%s/bytes:%d/real_time" % (case, size), real_time=max(t, 1.0)))
    rows.append(row("BM_small_roundtrip/bytes:64/real_time", real_time=150.0))
    latency = {"BM_xproc_loan_latency": (10.0, 30.0), "BM_futex_wake_latency": (10.0, 20.0),
               "BM_xproc_copy_latency": (2000.0, 3000.0), "BM_futex_half_roundtrip": (10.0, 20.0),
               "BM_memcpy_paced_in": (1000.0, 1200.0), "BM_memcpy_paced_out": (1000.0, 1200.0),
               "BM_unix_socket": (6000.0, 8000.0), "BM_pipe": (6000.0, 8000.0),
               "BM_xproc_loan_copy_latency": (1100.0, 1500.0),
               "BM_wake_latency_64B": (20.0, 40.0), "BM_event_wake_latency_64B": (24.0, 50.0),
               "BM_spin_wake_latency_64B": (1.5, 5.0), "BM_shm_spin_ping": (0.6, 2.0),
               "BM_spin_loan_latency": (2.0, 6.0), "BM_spin_wake_latency_64B_1kHz": (1.5, 5.0),
               "BM_shm_spin_ping_1kHz": (0.6, 2.0), "BM_spin_loan_latency_1kHz": (2.0, 6.0),
               "BM_iceoryx_loan_latency": (15.0, 40.0), "BM_boost_mq_latency": (3000.0, 4000.0),
               "BM_zmq_ipc_latency": (4000.0, 6000.0)}
    for case, (p50, p99) in latency.items():
        rows.append(row(case + "/iterations:1/repeats:5/real_time", p50_us=p50, p99_us=p99,
                        same_cpu=0.0))
    rows.append(row("BM_xproc_sustained_fps/iterations:1/repeats:5/real_time", fps=600.0,
                    written_fps=610.0, dropped=10.0))
    rows.append(row("BM_iceoryx_sustained_fps/iterations:1/repeats:5/real_time", fps=500.0,
                    written_fps=700.0, dropped=200.0))
    return {"context": {"host_name": "crafted", "num_cpus": 2, "mhz_per_cpu": 1000,
                        "date": "never", "mmpool_bench_frames": 100}, "benchmarks": rows}


def rows_of(doc, prefix):
    return [b for b in doc["benchmarks"] if b["run_name"].startswith(prefix)]


def errored(doc, prefix, with_median_row=False):
    """What 1.7.1 writes when every repetition of a case calls SkipWithError:
    iteration rows with error_occurred and real_time 0 (and, as a variant,
    a median row of zeros that also says so)."""
    for b in rows_of(doc, prefix):
        doc["benchmarks"].remove(b)
        for _ in range(5):
            doc["benchmarks"].append(dict(b, run_type="iteration", real_time=0.0, cpu_time=0.0,
                                          error_occurred=True, error_message="no pool: boom",
                                          name=b["run_name"]))
        if with_median_row:
            doc["benchmarks"].append(dict(b, real_time=0.0, cpu_time=0.0, error_occurred=True,
                                          error_message="no pool: boom"))
    return doc


class Judging(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="mmpool-bench-check-")

    def tearDown(self):
        self.tmp.cleanup()

    def run_tool(self, tool, doc, *extra):
        path = os.path.join(self.tmp.name, "run.json")
        with open(path, "w") as f:
            if isinstance(doc, str):
                f.write(doc)
            else:
                json.dump(doc, f)  # writes NaN as NaN, as Google Benchmark does
        args = ["--json", path] if tool == CHECK else [path]
        p = subprocess.run([sys.executable, tool] + args + list(extra), capture_output=True,
                           text=True, timeout=60)
        self.assertNotIn("Traceback", p.stderr, p.stderr)
        return p

    def judged(self, doc):
        """Runs bench/check on doc; returns (exit status, {tid: its lines})."""
        p = self.run_tool(CHECK, doc)
        lines, tid = {}, None
        for line in p.stdout.splitlines():
            if line.startswith(("PASS T", "FAIL T")):
                tid = line.split()[1].rstrip(":")
                lines[tid] = [line]
            elif tid and line.startswith("       "):
                lines[tid].append(line)
            else:
                tid = None
        return p.returncode, p.stdout, lines

    def assert_fails(self, doc, failing, reason):
        rc, out, lines = self.judged(doc)
        self.assertEqual(rc, 1, out)
        self.assertIn("%d of %d targets pass" % (len(TIDS) - len(failing), len(TIDS)), out)
        for tid in TIDS:
            self.assertIn(tid, lines, out)
            text = "\n".join(lines[tid])
            if tid in failing:
                self.assertTrue(lines[tid][0].startswith("FAIL"), text)
                self.assertIn(reason, text)
            else:
                self.assertTrue(lines[tid][0].startswith("PASS"), text)

    def test_crafted_good_run_passes(self):
        rc, out, lines = self.judged(good_run())
        self.assertEqual(rc, 0, out)
        self.assertIn("%d of %d targets pass" % (len(TIDS), len(TIDS)), out)
        p = self.run_tool(REPORT, good_run())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("| T7: ", p.stdout)
        self.assertIn("| T8: ", p.stdout)
        self.assertIn("| T14: ", p.stdout)
        self.assertIn("| BM_zmq_ipc_latency | peer: ", p.stdout)

    def test_spin_targets_judge_absolute_and_relative_limits(self):
        doc = good_run()
        rows_of(doc, "BM_spin_wake_latency_64B_1kHz/")[0]["p50_us"] = 1.9  # < 2 us, > 3 x 0.6
        rows_of(doc, "BM_spin_loan_latency_1kHz/")[0]["p50_us"] = 3.5
        self.assert_fails(doc, {"T9", "T10"}, "x")

    def test_slow_event_path_fails_its_target(self):
        doc = good_run()
        rows_of(doc, "BM_event_wake_latency_64B/")[0]["p50_us"] = 27.0  # 1.35 x 20
        self.assert_fails(doc, {"T8"}, "p50 27.0/20.0 us = 1.35 x")

    def test_stream_fill_floor_is_noted_under_t1_and_never_judged(self):
        doc = good_run()
        doc["benchmarks"].append(row("BM_stream_fill/bytes:%d" % FULLHD, real_time=0.65e6))
        rc, out, lines = self.judged(doc)
        self.assertEqual(rc, 0, out)
        self.assertIn("(floor, streaming stores alone (no source read): 650 us = 0.65 x memcpy_in "
                      "(9.6 GB/s; 0.80 x memcpy_in needs 7.8 GB/s))", "\n".join(lines["T1"]))
        # An errored fill says so in the note; T1 is judged as before.
        doc = errored(doc, "BM_stream_fill/")
        rc, out, lines = self.judged(doc)
        self.assertEqual(rc, 0, out)
        self.assertIn("floor, streaming stores alone: ", "\n".join(lines["T1"]))
        self.assertIn("no pool: boom", "\n".join(lines["T1"]))

    def test_errored_case_fails_its_target(self):
        doc = errored(good_run(), "BM_try_write/bytes:%d/" % FULLHD)
        self.assert_fails(doc, {"T1"}, "reported an error: no pool: boom")

    def test_errored_case_with_zero_median_row_fails(self):
        doc = errored(good_run(), "BM_small_roundtrip/", with_median_row=True)
        self.assert_fails(doc, {"T3"}, "BM_small_roundtrip/bytes:64/real_time: reported an error")

    def test_errored_counter_case_fails(self):
        doc = errored(good_run(), "BM_xproc_sustained_fps/")
        self.assert_fails(doc, {"T7", "T12"}, "reported an error")

    def test_missing_case_fails_without_traceback(self):
        doc = good_run()
        for b in rows_of(doc, "BM_small_roundtrip/"):
            doc["benchmarks"].remove(b)
        self.assert_fails(doc, {"T3"}, "BM_small_roundtrip/bytes:64: not in this run")

    def test_missing_peer_case_fails_its_target_without_traceback(self):
        # A peer whose package is not installed is not built: its target fails, never passes.
        doc = good_run()
        for b in rows_of(doc, "BM_boost_mq_latency/"):
            doc["benchmarks"].remove(b)
        self.assert_fails(doc, {"T13"}, "BM_boost_mq_latency: not in this run")
        p = self.run_tool(REPORT, doc)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("| BM_boost_mq_latency | peer: ", p.stdout)
        self.assertIn("(not in this run)", p.stdout)

    def test_slow_peer_comparisons_fail(self):
        doc = good_run()
        rows_of(doc, "BM_iceoryx_loan_latency/")[0]["p50_us"] = 9.0  # mmpool 10 us
        rows_of(doc, "BM_zmq_ipc_latency/")[0]["p50_us"] = 2400.0  # mmpool 2000 us > 0.8 x
        self.assert_fails(doc, {"T11", "T14"}, "x")

    def test_missing_counter_fails(self):
        doc = good_run()
        del rows_of(doc, "BM_unix_socket/")[0]["p50_us"]
        self.assert_fails(doc, {"T6"}, "BM_unix_socket: p50_us is None")

    def test_zero_time_fails(self):
        doc = good_run()
        rows_of(doc, "BM_memcpy_in/bytes:%d/" % FULLHD)[0]["real_time"] = 0.0
        self.assert_fails(doc, {"T1", "T5", "T7"}, "real_time is 0.0")

    def test_nan_time_fails(self):
        doc = good_run()
        rows_of(doc, "BM_loan_read/bytes:4096/")[0]["real_time"] = float("nan")
        self.assert_fails(doc, {"T2"}, "BM_loan_read/bytes:4096: real_time is nan")

    def test_nan_and_zero_counters_fail(self):
        doc = good_run()
        rows_of(doc, "BM_futex_wake_latency/")[0]["p99_us"] = float("nan")
        rows_of(doc, "BM_futex_half_roundtrip/")[0]["p50_us"] = 0.0
        self.assert_fails(doc, {"T4", "T5"}, "is ")

    def test_one_errored_case_and_one_nan_is_not_all_pass(self):
        # This used to be judged "all targets pass".
        doc = errored(good_run(), "BM_try_write/bytes:%d/" % FULLHD)
        rows_of(doc, "BM_loan_write/bytes:64/")[0]["real_time"] = float("nan")
        rc, out, _ = self.judged(doc)
        self.assertEqual(rc, 1, out)
        self.assertIn("%d of %d targets pass; failing: T1, T2" % (len(TIDS) - 2, len(TIDS)), out)

    def test_report_refuses_tables_from_unusable_results(self):
        doc = errored(good_run(), "BM_try_write/bytes:%d/" % FULLHD)
        md = os.path.join(self.tmp.name, "perf.md")
        p = self.run_tool(REPORT, doc, md)
        self.assertEqual(p.returncode, 1)
        self.assertIn("reported an error", p.stderr)
        self.assertFalse(os.path.exists(md))

    def test_unreadable_json_is_exit_2(self):
        p = self.run_tool(CHECK, "{ not json")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
