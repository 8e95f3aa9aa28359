"""The `hivewarden` Python module against the command line: the same operations, policies and logs
give the same fields and values, the same messages; bad input raises, never crashes.

Run by ctest (tests/python/CMakeLists.txt sets PYTHONPATH and the paths below), or by hand:
  PYTHONPATH=build/python HIVEWARDEN_CLI=build/src/cli/hivewarden /usr/bin/python3 -m unittest \
      discover -s tests/python -v
"""
import gzip
import json
import os
import pathlib
import pickle
import random
import subprocess
import tempfile
import threading
import time
import unittest

import hivewarden

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HIVEWARDEN_SOURCE_DIR", os.path.join(HERE, "..", ".."))
CLI = os.environ.get("HIVEWARDEN_CLI", os.path.join(SOURCE, "build", "src", "cli", "hivewarden"))
SHARED = os.environ.get("HIVEWARDEN_SHARED_DATA", os.path.join(SOURCE, "..", "shared", "data"))
GOLDEN = os.path.join(SOURCE, "tests", "cli", "golden")
REGRESSIONS = os.path.join(SOURCE, "tests", "replay", "regressions")
TWO_EVENTS = os.path.join(REGRESSIONS, "two_events.jsonl")


def run_cli(*args, stdin=None):
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, check=False)


def cli_errors(stderr):
    """The messages of the CLI's `error: ` lines."""
    return [line[len("error: "):] for line in stderr.splitlines() if line.startswith("error: ")]


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate field")
    return dict(pairs)


def golden_operations(name):
    """The lines of a golden input that read as JSON objects (so as dicts), as text and as dicts."""
    lines, ops = [], []
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or "\\u0000" in line:
                continue
            try:
                op = json.loads(line, object_pairs_hook=no_duplicates)
            except ValueError:
                continue
            lines.append(line.rstrip("\n"))
            ops.append(op)
    return lines, ops


def eval_lines(policy_path, lines):
    done = run_cli("eval", "--policy", policy_path, stdin="\n".join(lines) + "\n")
    return [json.loads(line) for line in done.stdout.splitlines()]


def replay_cli(policy_path, logs, *extra):
    with tempfile.TemporaryDirectory() as tmp:
        summary_path = os.path.join(tmp, "summary.json")
        args = ["replay", "--no-progress", "--summary", summary_path, *extra, *logs]
        if policy_path:
            args[1:1] = ["--policy", policy_path]
        done = run_cli(*args)
        with open(summary_path, encoding="utf-8") as f:
            summary = json.load(f)
    return [json.loads(line) for line in done.stdout.splitlines()], summary, done


def interleaved_logs(folder, count):
    """`count` JSON-lines logs whose events interleave in time, some at the same time."""
    keys = [r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x",
            r"HKLM\SOFTWARE\Microsoft\Windows Defender\DisableAntiSpyware",
            r"HKLM\SYSTEM\CurrentControlSet\Services\WinDefend\Start", r"HKLM\SOFTWARE\B\c"]
    paths = []
    for n in range(count):
        path = os.path.join(folder, f"part{n}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for i in range(60):
                second = (i * (n + 2)) % 50  # out of order within a file, equal across files
                f.write(json.dumps({"EventID": 13, "Provider": "Microsoft-Windows-Sysmon",
                                    "EventData": {"EventType": "SetValue",
                                                  "TargetObject": keys[(i + n) % 4],
                                                  "Details": f"DWORD (0x0000000{i % 3})",
                                                  "Image": f"C:\\p{n}.exe", "ProcessId": i,
                                                  "UtcTime": f"2020-07-04 14:18:{second:02}.000"}})
                        + "\n")
        paths.append(path)
    return paths


class DecideLikeEval(unittest.TestCase):
    CASES = [("eval-policy.yaml", "eval-input.jsonl"),
             ("conditions-policy.yaml", "conditions-input.jsonl")]

    def test_decide_many_gives_evals_lines(self):
        for policy_name, input_name in self.CASES:
            policy_path = os.path.join(GOLDEN, policy_name)
            lines, ops = golden_operations(input_name)
            self.assertGreater(len(ops), 10)
            expected = eval_lines(policy_path, lines)
            got = hivewarden.compile_policy_file(policy_path).decide_many(ops, errors="inline")
            self.assertEqual(len(got), len(expected))
            for want, have in zip(expected, got):
                self.assertEqual(list(have.items()), list(want.items()))  # fields, values, order

    def test_decide_gives_evals_fields_or_its_message(self):
        policy_path = os.path.join(GOLDEN, "eval-policy.yaml")
        policy = hivewarden.compile_policy_file(policy_path)
        lines, ops = golden_operations("eval-input.jsonl")
        errors = 0
        for want, op in zip(eval_lines(policy_path, lines), ops):
            line = want.pop("line")
            if "error" in want:
                errors += 1
                with self.assertRaises(hivewarden.InputError) as raised:
                    policy.decide(op)
                self.assertEqual(f"line {line}: {raised.exception}", want["error"])
            else:
                self.assertEqual(policy.decide(op), want)
        self.assertGreater(errors, 0)

    def test_decide_many_raises_on_the_first_bad_operation(self):
        policy = hivewarden.default_policy()
        ops = [{"op": "set-value", "key": r"HKLM\SOFTWARE\X", "value": "v"}] * 2 + [
            {"op": "set-value", "key": 5}, {"op": 7}]
        with self.assertRaises(hivewarden.InputError) as raised:
            policy.decide_many(ops)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "default.hwp")
            with open(path, "wb") as f:
                f.write(policy.blob)
            want = eval_lines(path, [json.dumps(op) for op in ops])
        self.assertEqual(str(raised.exception), want[2]["error"])
        self.assertEqual(policy.decide_many(ops, errors="inline"), want)

    def test_check_explains_as_explain(self):
        policy_path = os.path.join(GOLDEN, "eval-policy.yaml")
        policy = hivewarden.compile_policy_file(policy_path)
        cases = [
            (["--op", "set-value", "--key", r"HKLM\SOFTWARE\Microsoft\Windows Defender",
              "--value", "DisableAntiSpyware", "--image", r"C:\Windows\regedit.exe", "--pid", "77"],
             {"op": "set-value", "key": r"HKLM\SOFTWARE\Microsoft\Windows Defender",
              "value": "DisableAntiSpyware", "image": r"C:\Windows\regedit.exe", "pid": 77}),
            (["--op", "delete-key", "--key", r"HKLM\SYSTEM\CurrentControlSet\Services\WinDefend"],
             {"op": "delete-key", "key": r"HKLM\SYSTEM\CurrentControlSet\Services\WinDefend",
              "pid": 0}),
        ]
        for args, op in cases:
            text = run_cli("check", "--policy", policy_path, *args)
            self.assertEqual(text.returncode, 0, text.stderr)
            self.assertEqual(policy.explain(op), text.stdout)
            detailed = run_cli("check", "--policy", policy_path, "--json", *args)
            self.assertEqual(policy.explain(op, json=True), json.loads(detailed.stdout))


class Policies(unittest.TestCase):
    def test_blob_is_what_compile_writes_and_loads_back(self):
        policy_path = os.path.join(GOLDEN, "eval-policy.yaml")
        with tempfile.TemporaryDirectory() as tmp:
            hwp = os.path.join(tmp, "p.hwp")
            self.assertEqual(run_cli("compile", policy_path, "-o", hwp).returncode, 0)
            with open(hwp, "rb") as f:
                written = f.read()
            policy = hivewarden.compile_policy_file(policy_path)
            self.assertEqual(policy.blob, written)
            self.assertEqual(hivewarden.compile_policy_file(hwp).blob, written)
            with open(policy_path, encoding="utf-8") as f:
                self.assertEqual(hivewarden.compile_policy(f.read()).blob, written)
        _, ops = golden_operations("eval-input.jsonl")
        loaded = hivewarden.load_policy(policy.blob)
        self.assertEqual(loaded.decide_many(ops, errors="inline"),
                         policy.decide_many(ops, errors="inline"))
        self.assertEqual(pickle.loads(pickle.dumps(policy)).blob, policy.blob)

    def test_a_malformed_policy_raises_the_clis_messages(self):
        bad = "version: 1\nmonitored:\n  - key: 'HKLM\\X'\n    rules: [no-such-rule]\n  - [1, 2\n"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(bad)
            expected = cli_errors(run_cli("compile", path, "-o", os.path.join(tmp, "o.hwp")).stderr)
            self.assertTrue(expected)
            with self.assertRaises(hivewarden.PolicyError) as raised:
                hivewarden.compile_policy_file(path)
            self.assertEqual(str(raised.exception).splitlines(), expected)
            with self.assertRaises(hivewarden.PolicyError) as raised:
                hivewarden.compile_policy(bad, name=path)
            self.assertEqual(str(raised.exception).splitlines(), expected)
        self.assertTrue(issubclass(hivewarden.PolicyError, ValueError))
        for text in ["", "\x00", "version: 99\n", "monitored: {a: b}\n", "[" * 100000, "a: &a [*a]\n"]:
            with self.assertRaises(hivewarden.PolicyError):
                hivewarden.compile_policy(text)
        with self.assertRaises(hivewarden.PolicyError):
            hivewarden.compile_policy_file(os.path.join(GOLDEN, "no-such-policy.yaml"))
        with self.assertRaises(hivewarden.PolicyError):
            hivewarden.compile_policy_file("")

    def test_a_corrupt_blob_raises_the_engines_message(self):
        blob = hivewarden.compile_policy_file(os.path.join(GOLDEN, "eval-policy.yaml")).blob
        with tempfile.TemporaryDirectory() as tmp:
            for name, data in [("short", blob[:40]), ("empty", b""), ("text", b"hello"),
                               ("flipped", blob[:60] + bytes([blob[60] ^ 0xFF]) + blob[61:])]:
                path = os.path.join(tmp, name + ".hwp")
                with open(path, "wb") as f:
                    f.write(data)
                expected = cli_errors(run_cli("eval", "--policy", path, stdin="").stderr)
                with self.assertRaises(hivewarden.PolicyError) as raised:
                    hivewarden.compile_policy_file(path)
                self.assertEqual(str(raised.exception).splitlines(), expected, name)
                with self.assertRaises(hivewarden.PolicyError):
                    hivewarden.load_policy(data)

    def test_damaged_blobs_never_crash(self):
        blob = hivewarden.compile_policy_file(os.path.join(GOLDEN, "eval-policy.yaml")).blob
        rng = random.Random(15)
        op = {"op": "set-value", "key": r"HKLM\SOFTWARE\Microsoft\Windows Defender", "value": "x"}
        loaded = 0
        for _ in range(3000):
            data = bytearray(blob)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                policy = hivewarden.load_policy(bytes(data))
            except hivewarden.PolicyError:
                continue
            loaded += 1
            policy.decide(op)  # a blob the engine accepts decides without harm
        self.assertLess(loaded, 3000)


class BadOperations(unittest.TestCase):
    policy = hivewarden.default_policy()

    def assert_eval_message(self, op, line):
        """decide(op) raises the message eval gives for the JSON line (without its line number)."""
        with self.assertRaises(hivewarden.InputError) as raised:
            self.policy.decide(op)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "default.hwp")
            with open(path, "wb") as f:
                f.write(self.policy.blob)
            want = eval_lines(path, [line])[0]["error"]
        self.assertEqual(f"line 1: {raised.exception}", want)

    def test_wrong_types_give_evals_messages(self):
        for op in [{"op": "set-value", "key": 5}, {"op": 3}, {"key": "HKLM\\X"},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "pid": -1},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "pid": 10 ** 30},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "pid": 2 ** 64},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "pid": 1.5},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "flags": "system"},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "key_exists": 1},
                   {"op": "set-value", "key": "HKLM\\X", "value": "v", "type": "REG_DWORD",
                    "data": "x"},
                   {"op": "set-value", "key": "NOPE\\X", "value": "v"},
                   [1, 2], "text", None]:
            self.assert_eval_message(op, json.dumps(op))

    def test_python_values_json_has_not_raise(self):
        cyclic = []
        cyclic.append(cyclic)
        deep = {"op": "set-value"}
        for _ in range(20):
            deep = {"x": deep}
        cases = [{"op": "set-value", "key": b"HKLM\\X"}, {"op": "set-value", "key": object()},
                 {"op": "set-value", "key": "HKLM\\X", 5: "int key"},
                 {"op": "set-value", "key": "HKLM\\X", "extra": cyclic}, deep,
                 {"op": "set-value", "key": "HKLM\\\ud800"}, {"op": "set-value", "\udfff": 1},
                 {"op": "set-value", "key": "HKLM\\X", "value": "v", "pid": 10 ** 400},
                 {"op": "set-value", "key": "HKLM\\" + "A" * 50_000_000},
                 {"op": "set-value", "key": "HKLM\\X", "extra": ["a" * 1000] * 5000}]
        for op in cases:
            with self.assertRaises(hivewarden.InputError):
                self.policy.decide(op)
            with self.assertRaises(hivewarden.InputError):
                self.policy.explain(op)
            self.assertIn("error", self.policy.decide_many([op], errors="inline")[0])
        with self.assertRaises(ValueError):
            self.policy.decide_many([], errors="ignore")

    def test_long_names_within_the_bound_are_decided_or_refused_as_eval_does(self):
        op = {"op": "set-value", "key": "HKLM\\SOFTWARE\\" + "A" * 70000, "value": "v"}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "default.hwp")
            with open(path, "wb") as f:
                f.write(self.policy.blob)
            want = eval_lines(path, [json.dumps(op)])[0]
        self.assertEqual(self.policy.decide_many([op], errors="inline")[0], want)


class Events(unittest.TestCase):
    def test_read_events_gives_sysmon_fields_that_replay_reads_back(self):
        events = hivewarden.read_events(TWO_EVENTS)
        self.assertEqual([e["EventID"] for e in events], [13, 12])
        self.assertEqual(events[0]["TargetObject"],
                         r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\x")
        self.assertEqual(events[0]["Details"], r"c:\x.exe")
        self.assertEqual((events[0]["source"], events[0]["index"]), (TWO_EVENTS, 1))
        with tempfile.TemporaryDirectory() as tmp:
            again = os.path.join(tmp, "again.jsonl.gz")
            with gzip.open(again, "wt", encoding="utf-8") as f:
                for e in events:
                    f.write(json.dumps({k: v for k, v in e.items() if k not in ("source", "index")})
                            + "\n")
            back = hivewarden.read_events(again)
            strip = lambda es: [{k: v for k, v in e.items() if k != "source"} for e in es]
            self.assertEqual(strip(back), strip(events))
            policy = hivewarden.default_policy()
            first = hivewarden.replay(TWO_EVENTS, policy, all=True).decisions
            second = hivewarden.replay([again], policy, all=True).decisions
            for d in first + second:
                del d["event"]["source"]
            self.assertEqual(first, second)

    def test_damaged_logs_raise_with_what_was_read(self):
        for name in ["B9_truncated.evtx", "B9b_garbage.xml", "B8_gzip_bomb_256m.json.gz",
                     "no-such-log.jsonl"]:
            path = os.path.join(REGRESSIONS, name)
            _, _, done = replay_cli("", [path])
            expected = cli_errors(done.stderr)
            self.assertEqual(len(expected), 1, done.stderr)
            with self.assertRaises(hivewarden.InputError) as raised:
                hivewarden.read_events(path)
            self.assertEqual(str(raised.exception), expected[0])
            self.assertIsInstance(raised.exception.events, list)
            with self.assertRaises(hivewarden.InputError) as raised:
                hivewarden.replay([TWO_EVENTS, path], hivewarden.default_policy())
            self.assertEqual(str(raised.exception), expected[0])
            self.assertEqual(len(raised.exception.result.decisions), 1)
            kept = hivewarden.replay([TWO_EVENTS, path], hivewarden.default_policy(), strict=False)
            self.assertEqual(kept.errors, expected)
        with self.assertRaises(TypeError):
            hivewarden.read_events(5)

    def test_paths_name_the_file_open_would(self):
        # A NUL ends a C string early: "log\0x" would open "log", which exists here.
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "log")
            with open(TWO_EVENTS, "rb") as src, open(log, "wb") as dst:
                dst.write(src.read())
            policy = hivewarden.default_policy()
            for call in [lambda p: hivewarden.read_events(p),
                         lambda p: hivewarden.replay([p], policy),
                         lambda p: hivewarden.replay(p, policy),
                         lambda p: hivewarden.compile_policy_file(p)]:
                for hostile in [log + "\0x", os.fsencode(log) + b"\0x"]:
                    with self.assertRaisesRegex(ValueError, "embedded null byte"):
                        call(hostile)
            # bytes and path-like objects name the same file as str does
            expected = hivewarden.read_events(log)
            for same in [os.fsencode(log), pathlib.Path(log)]:
                self.assertEqual(hivewarden.read_events(same), expected)
                self.assertEqual(hivewarden.replay(same, policy, all=True).decisions,
                                 hivewarden.replay([log], policy, all=True).decisions)


class ReplayLikeTheCli(unittest.TestCase):
    def assert_same_as_cli(self, logs, policy_path, **options):
        extra = ["--all"] if options.get("all") else []
        policy = (hivewarden.compile_policy_file(policy_path) if policy_path
                  else hivewarden.default_policy())
        lines, summary, done = replay_cli(policy_path, logs, *extra)
        result = hivewarden.replay(logs, policy, strict=False, **options)
        self.assertEqual(result.errors, cli_errors(done.stderr))
        self.assertEqual(len(result.decisions), len(lines))
        self.assertEqual(result.decisions, lines)
        self.assertEqual(result.summary, summary)
        self.assertEqual(list(result.summary), list(summary))
        return result

    def test_replay_of_the_repository_logs(self):
        logs = [TWO_EVENTS, os.path.join(REGRESSIONS, "event_reader_17_digit_year.json")]
        self.assert_same_as_cli(logs, "", all=True)  # the second one is damaged: an error each
        self.assert_same_as_cli(logs, os.path.join(GOLDEN, "eval-policy.yaml"), all=True)

    def test_what_if(self):
        policy = hivewarden.default_policy()
        other = hivewarden.compile_policy_file(os.path.join(GOLDEN, "eval-policy.yaml"))
        lines, summary, _ = replay_cli("", [TWO_EVENTS], "--what-if",
                                       os.path.join(GOLDEN, "eval-policy.yaml"))
        result = hivewarden.replay([TWO_EVENTS], policy, what_if=other)
        self.assertEqual((result.decisions, result.summary), (lines, summary))

    def shared_logs(self):
        xml = os.path.join(SHARED, "evtx", "sample_xml")
        attacks = os.path.join(SHARED, "evtx", "EVTX-ATTACK-SAMPLES")
        if not os.path.isdir(xml) or not os.path.isdir(attacks):
            self.skipTest(f"no shared data at {SHARED} (the EVTX attack samples)")
        logs = sorted(os.path.join(xml, n) for n in os.listdir(xml))
        for parent, _, names in sorted(os.walk(attacks)):
            logs += sorted(os.path.join(parent, n) for n in names if n.endswith(".evtx"))
        return logs

    def test_replay_of_the_evtx_attack_samples(self):
        logs = self.shared_logs()
        self.assertGreater(len(logs), 20)
        self.assert_same_as_cli(logs, "")
        self.assert_same_as_cli(logs[:12], "", all=True)

    def test_replay_of_the_otrf_events(self):
        otrf = os.path.join(SHARED, "otrf", "registry_events.jsonl.gz")
        if not os.path.exists(otrf):
            self.skipTest(f"no shared data at {SHARED} (the OTRF registry events)")
        self.assert_same_as_cli([otrf], "")

    def test_jobs_give_the_same_result(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        logs = ([TWO_EVENTS, os.path.join(REGRESSIONS, "event_reader_17_digit_year.json"),
                 os.path.join(REGRESSIONS, "B9_truncated.evtx")] +
                interleaved_logs(tmp.name, 3) + [os.path.join(tmp.name, "missing.json")])
        policy = hivewarden.default_policy()
        one = self.assert_same_as_cli(logs, "", all=True)
        self.assertEqual(len(one.errors), 3)
        for jobs in (2, 3, 8):
            many = hivewarden.replay(logs, policy, all=True, strict=False, jobs=jobs)
            self.assertEqual((many.decisions, many.counts, many.errors, many.order),
                             (one.decisions, one.counts, one.errors, one.order))
        for bad in (0, -1, 65):
            with self.assertRaisesRegex(ValueError, "jobs must be a whole number"):
                hivewarden.replay([TWO_EVENTS], policy, jobs=bad)

    def test_results_of_parts_merge_into_the_result_of_all(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        logs = [TWO_EVENTS, TWO_EVENTS] + interleaved_logs(tmp.name, 3)
        xml = os.path.join(SHARED, "evtx", "sample_xml")
        if os.path.isdir(xml):
            logs += sorted(os.path.join(xml, n) for n in os.listdir(xml))
        policy = hivewarden.default_policy()
        whole = hivewarden.replay(logs, policy, all=True)
        parts = [pickle.loads(pickle.dumps(hivewarden.replay([log], policy, all=True)))
                 for log in logs]
        merged = hivewarden.merge_replays(parts)
        self.assertEqual(merged.decisions, whole.decisions)
        self.assertEqual(merged.summary, whole.summary)
        self.assertEqual(merged.counts, whole.counts)
        self.assertEqual(merged.order, whole.order)
        halves = hivewarden.merge_replays([hivewarden.merge_replays(parts[:2]),
                                           hivewarden.merge_replays(parts[2:])])
        self.assertEqual(halves.decisions, whole.decisions)
        with self.assertRaises(ValueError):
            pickle.loads(pickle.dumps(whole).replace(b"lines", b"linez"))


class Threads(unittest.TestCase):
    def operations(self, n):
        keys = [r"HKLM\SOFTWARE\Microsoft\Windows Defender", r"HKLM\SOFTWARE\Classes\x",
                r"HKLM\SYSTEM\CurrentControlSet\Services\WinDefend", r"HKCU\Software\x"]
        return [{"op": ["set-value", "delete-key", "create-key"][i % 3], "key": keys[i % 4],
                 "value": f"v{i % 7}", "pid": i % 1000, "image": r"C:\Windows\x.exe",
                 "user_sid": "S-1-5-21-1-2-3-1001"} for i in range(n)]

    def test_two_threads_deciding_at_once_decide_as_one(self):
        policy = hivewarden.default_policy()
        ops = self.operations(20000)
        expected = policy.decide_many(ops)
        got = [None, None]

        def work(slot):
            got[slot] = [policy.decide_many(ops) for _ in range(3)]
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for slot in got:
            for result in slot:
                self.assertEqual(result, expected)

    def blocked_share(self, work):
        """The share of the time work() runs in another thread during which this one cannot run."""
        ticks = [time.perf_counter()]
        worker = threading.Thread(target=work)
        worker.start()
        while worker.is_alive():
            time.sleep(0.001)
            ticks.append(time.perf_counter())
        worker.join()
        blocked = sum(b - a for a, b in zip(ticks, ticks[1:]) if b - a > 0.02)
        return blocked / (ticks[-1] - ticks[0])

    def test_the_gil_is_released_while_deciding_many(self):
        policy = hivewarden.default_policy()
        ops = self.operations(40000)
        # Reading the dicts and making the results hold the GIL (about 70% of the time, measured);
        # deciding does not. Held throughout, this thread would wait the whole call (measured 100%).
        share = self.blocked_share(lambda: policy.decide_many(ops))
        self.assertLess(share, 0.9, f"this thread was blocked {share:.0%} of the time")

    def test_the_gil_is_released_while_replaying(self):
        policy = hivewarden.default_policy()
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "many.jsonl")
            with open(log, "w", encoding="utf-8") as f:
                with open(TWO_EVENTS, encoding="utf-8") as two:
                    f.write(two.read() * 40000)
            share = self.blocked_share(lambda: hivewarden.replay(log, policy))
        self.assertLess(share, 0.5, f"this thread was blocked {share:.0%} of the time")


if __name__ == "__main__":
    unittest.main()
