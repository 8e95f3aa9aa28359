"""Fleet replay on Dask (hivewarden.fleet) against `hivewarden replay`: a 2-worker LocalCluster on
loopback replays the logs, whole and cut into parts, and must print what the command prints (the
same lines in the same order, the same summary, errors and totals); the cluster is always closed.

Run by ctest (Python.Fleet), or by hand:
  PYTHONPATH=build/python HIVEWARDEN_CLI=build/src/cli/hivewarden /usr/bin/python3 -m unittest \
      discover -s tests/python -p test_fleet.py -v
"""
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import unittest

import hivewarden
from hivewarden import fleet

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HIVEWARDEN_SOURCE_DIR", os.path.join(HERE, "..", ".."))
CLI = os.environ.get("HIVEWARDEN_CLI", os.path.join(SOURCE, "build", "src", "cli", "hivewarden"))
SHARED = os.environ.get("HIVEWARDEN_SHARED_DATA", os.path.join(SOURCE, "..", "shared", "data"))
GOLDEN_POLICY = os.path.join(SOURCE, "tests", "cli", "golden", "eval-policy.yaml")
REGRESSIONS = os.path.join(SOURCE, "tests", "replay", "regressions")
TWO_EVENTS = os.path.join(REGRESSIONS, "two_events.jsonl")
DAMAGED_JSON = os.path.join(REGRESSIONS, "event_reader_17_digit_year.json")
TRUNCATED_EVTX = os.path.join(REGRESSIONS, "B9_truncated.evtx")
OTRF = os.path.join(SHARED, "otrf", "registry_events.jsonl.gz")

KEYS = [r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x",
        r"HKLM\SOFTWARE\Microsoft\Windows Defender\DisableAntiSpyware",
        r"HKLM\SYSTEM\CurrentControlSet\Services\WinDefend\Start", r"HKLM\SOFTWARE\B\c"]


def event_line(n, i, second):
    return json.dumps({"EventID": 13 if i % 7 else 4663, "Provider": "Microsoft-Windows-Sysmon",
                       "EventData": {"EventType": "SetValue", "TargetObject": KEYS[(i + n) % 4],
                                     "Details": f"DWORD (0x0000000{i % 3})",
                                     "Image": f"C:\\p{n}.exe", "ProcessId": i,
                                     "UtcTime": f"2020-07-04 14:{second // 60:02}:"
                                                f"{second % 60:02}.000"}}) + "\n"


def write_log(path, n, records, damage_at=None, compress=False):
    """A JSON-lines log of `records` events whose times repeat (ties across blocks and files);
    record `damage_at` (from 1) is cut short."""
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as f:
        for i in range(1, records + 1):
            line = event_line(n, i, (i * (n + 3)) % 700)
            f.write(line[:25] + "\n" if i == damage_at else line)
    return path


def replay_cli(logs, policy="", *extra):
    with tempfile.TemporaryDirectory() as tmp:
        summary = os.path.join(tmp, "summary.json")
        args = [CLI, "replay", "--no-progress", "--summary", summary, *extra, *logs]
        if policy:
            args[2:2] = ["--policy", policy]
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        with open(summary, encoding="utf-8") as f:
            return done, f.read()


def replay_lines(stderr):
    """replay's own lines of a stderr (errors, totals), without Dask's log lines (which a loaded
    machine can add: "distributed.... - ERROR - ...", with their tracebacks)."""
    return "".join(line for line in stderr.splitlines(keepends=True)
                   if line.startswith(("error: ", "replay: ")))


def child_pids():
    """This process's live children (the local cluster's worker processes while it runs), but not
    multiprocessing's resource tracker: Python starts it once, for the interpreter's lifetime."""
    me, children = str(os.getpid()), []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if not pid.isdigit() or fields[1] != me or fields[0] == "Z":
            continue
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"multiprocessing.resource_tracker" not in f.read():
                children.append(int(pid))
    return children


class FleetLikeTheCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cluster = fleet.local_client(2)
        cls.client = cls.cluster.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def assert_same_as_cli(self, logs, policy="", split_bytes=1, **options):
        extra = ["--all"] if options.get("all") else []
        done, summary = replay_cli(logs, policy, *extra)
        result = fleet.replay(logs, policy or None, self.client, strict=False,
                              split_bytes=split_bytes, **options)
        self.assertEqual(result.output(), done.stdout)  # byte for byte, in the same order
        self.assertEqual(result.summary_text(), summary)
        errors = "".join(f"error: {e}\n" for e in result.errors)
        self.assertEqual(errors + result.totals() + "\n", done.stderr)
        return result

    def test_local_workers_run_without_the_stack_profiler(self):
        # a replay task is one C++ call: Dask's sampling profiler only takes CPU from it
        enabled = self.client.run(
            lambda: __import__("dask").config.get("distributed.worker.profile.enabled"))
        self.assertEqual(sorted(enabled.values()), [False, False])

    def test_small_gzip_and_damaged_logs_whole_and_in_parts(self):
        logs = [TWO_EVENTS, DAMAGED_JSON, TRUNCATED_EVTX,
                write_log(self.path("a.jsonl"), 0, 1500),
                write_log(self.path("b.jsonl.gz"), 1, 2100, compress=True),
                # damage in a block of part 1: part 0 reads on past it, the log is replayed whole
                write_log(self.path("c.jsonl"), 2, 1800, damage_at=700),
                write_log(self.path("d.jsonl.gz"), 3, 1300, damage_at=1200, compress=True),
                self.path("missing.jsonl")]
        for split_bytes in (1, fleet.SPLIT_BYTES):
            result = self.assert_same_as_cli(logs, split_bytes=split_bytes, all=True)
            self.assertEqual(len(result.errors), 5)
        self.assert_same_as_cli(logs, GOLDEN_POLICY)

    def test_parts_of_one_log_merge_into_the_log(self):
        log = write_log(self.path("parts.jsonl.gz"), 4, 3000, compress=True)
        policy = hivewarden.default_policy()
        whole = hivewarden.replay([log], policy, all=True)
        for parts in (2, 3, 7):
            merged = hivewarden.merge_parts(
                [hivewarden.replay([log], policy, all=True, part=k, parts=parts)
                 for k in range(parts)])
            self.assertEqual(merged.output(), whole.output())
            self.assertEqual(merged.counts, whole.counts)
        damaged = write_log(self.path("damaged.jsonl"), 5, 1200, damage_at=600)
        with self.assertRaisesRegex(ValueError, "merge_parts: a part has errors"):
            hivewarden.merge_parts([hivewarden.replay([damaged], policy, strict=False, part=k,
                                                      parts=2) for k in range(2)])
        for part, parts in ((2, 2), (-1, 2), (0, 0), (0, 5000)):
            with self.assertRaisesRegex(ValueError, "part must be from 0"):
                hivewarden.replay([log], policy, part=part, parts=parts)

    def test_the_policy_is_loaded_once_per_worker(self):
        logs = [write_log(self.path(f"once{n}.jsonl"), n, 50) for n in range(8)]
        policy = hivewarden.compile_policy_file(GOLDEN_POLICY)
        digest = hashlib.sha256(policy.blob).hexdigest()
        for _ in range(2):
            self.assertEqual(fleet.replay(logs, policy, self.client).output(),
                             hivewarden.replay(logs, policy).output())
        loads = self.client.run(fleet.loads_here)
        self.assertEqual(len(loads), 2)
        self.assertTrue(all(counts.get(digest, 0) <= 1 for counts in loads.values()), loads)
        self.assertGreaterEqual(sum(counts.get(digest, 0) for counts in loads.values()), 1)

    def test_what_if(self):
        logs = [TWO_EVENTS, write_log(self.path("w.jsonl"), 6, 1100)]
        done, summary = replay_cli(logs, "", "--what-if", GOLDEN_POLICY)
        result = fleet.replay(logs, None, self.client, what_if=GOLDEN_POLICY, split_bytes=1)
        self.assertEqual(result.output(), done.stdout)
        self.assertEqual(result.summary_text(), summary)
        self.assertEqual(result.totals(GOLDEN_POLICY) + "\n", done.stderr)

    def test_evtx_samples(self):
        folder = os.path.join(SHARED, "evtx", "EVTX-ATTACK-SAMPLES")
        if not os.path.isdir(folder):
            self.skipTest(f"no shared data at {SHARED} (the EVTX attack samples)")
        logs = sorted(os.path.join(parent, n) for parent, _, names in os.walk(folder)
                      for n in names if n.endswith(".evtx"))
        xml = os.path.join(SHARED, "evtx", "sample_xml")
        logs += sorted(os.path.join(xml, n) for n in os.listdir(xml)) if os.path.isdir(xml) else []
        self.assert_same_as_cli(logs)

    def test_otrf_events_in_parts(self):
        if not os.path.exists(OTRF):
            self.skipTest(f"no shared data at {SHARED} (the OTRF registry events)")
        result = self.assert_same_as_cli([OTRF])
        self.assertEqual(result.summary["records"], 186797)

    def test_command_prints_what_replay_prints(self):
        logs = [TWO_EVENTS, DAMAGED_JSON, write_log(self.path("cmd.jsonl"), 7, 1400)]
        done, summary = replay_cli(logs, GOLDEN_POLICY)
        fleet_summary = self.path("fleet-summary.json")
        scheduler = self.client.scheduler.address
        ran = subprocess.run([sys.executable, "-m", "hivewarden.fleet", "replay", "--policy",
                              GOLDEN_POLICY, "--scheduler", scheduler, "--summary", fleet_summary,
                              *logs], capture_output=True, text=True, check=False)
        self.assertEqual((ran.returncode, ran.stdout), (done.returncode, done.stdout))
        self.assertEqual(replay_lines(ran.stderr), done.stderr, ran.stderr)
        self.assertEqual(done.returncode, 2)
        with open(fleet_summary, encoding="utf-8") as f:
            self.assertEqual(f.read(), summary)


class FleetBadInput(unittest.TestCase):
    def test_bad_arguments_are_clear_errors(self):
        cases = [(lambda: fleet.replay([], None), ValueError, "no logs given"),
                 (lambda: fleet.replay([TWO_EVENTS], 5), TypeError, "policy must be"),
                 (lambda: fleet.replay([3], None), TypeError, "a log path must be"),
                 (lambda: fleet.replay([TWO_EVENTS], None, workers=0), ValueError,
                  "workers must be"),
                 # a local cluster is processes on this machine: not hundreds by a typo
                 (lambda: fleet.replay([TWO_EVENTS], None, workers=2 * os.cpu_count() + 1),
                  ValueError, "--scheduler for more"),
                 (lambda: fleet.replay([TWO_EVENTS], "/nonexistent/p.yaml"), ValueError,
                  "/nonexistent/p.yaml")]
        for call, kind, message in cases:
            with self.assertRaisesRegex(kind, message):
                call()

    def test_command_errors_match_the_cli(self):
        for args in (["--policy", "/nonexistent/p.yaml", TWO_EVENTS],
                     ["--policy", TRUNCATED_EVTX, TWO_EVENTS]):
            done = subprocess.run([CLI, "replay", "--no-progress", *args], capture_output=True,
                                  text=True, check=False)
            ran = subprocess.run([sys.executable, "-m", "hivewarden.fleet", "replay", *args],
                                 capture_output=True, text=True, check=False)
            self.assertEqual((ran.returncode, ran.stderr), (2, done.stderr))
        ran = subprocess.run([sys.executable, "-m", "hivewarden.fleet", "replay", "--workers",
                              "0", TWO_EVENTS], capture_output=True, text=True, check=False)
        self.assertEqual(ran.returncode, 2)
        self.assertIn("workers must be", ran.stderr)

    def test_own_cluster_is_closed(self):
        before = set(child_pids())
        strict = None
        with self.assertRaises(hivewarden.InputError) as raised:
            fleet.replay([TWO_EVENTS, DAMAGED_JSON], None, workers=2)
        strict = raised.exception
        self.assertEqual(set(child_pids()) - before, set())
        self.assertIn("event_reader_17_digit_year.json", str(strict))
        self.assertEqual(len(strict.result.errors), 1)
        result = fleet.replay([TWO_EVENTS], None, workers=2)
        self.assertEqual(set(child_pids()) - before, set())
        self.assertEqual(result.output(), hivewarden.replay([TWO_EVENTS],
                                                            hivewarden.default_policy()).output())


if __name__ == "__main__":
    unittest.main()
