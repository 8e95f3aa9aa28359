"""The imported sysmon-modular policy reports every event Sysmon would log with that
configuration (reference_sysmon.py), over the OTRF and EVTX registry events; prints the figures.
Usage: compare_with_reference.py HIVEWARDEN SHARED_DATA. Exit 77 (skip) when the data is absent
or the policy compiler does not read SPEC §10 conditions yet."""
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_sysmon  # noqa: E402

SKIP = 77


def sysmon_events(path):
    """(line index 1-based, EventData) of the Sysmon registry events that carry an EventType."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            e = json.loads(line)
            if e.get("Provider") == "Microsoft-Windows-Sysmon" and e.get("EventID") in (12, 13, 14):
                if e["EventData"].get("EventType"):
                    yield i, e["EventData"]


def reported(hivewarden, policy, log):
    out = subprocess.run([hivewarden, "replay", "--all", "--no-progress", "--policy", policy, log],
                         capture_output=True, text=True, check=True).stdout
    lines = set()
    for line in out.splitlines():
        r = json.loads(line)
        if r.get("notify", "none") != "none" or r.get("decision") == "deny":
            lines.add(r["event"]["index"])
    return lines


def main():
    hivewarden, data = sys.argv[1], sys.argv[2]
    modules = os.path.join(data, "sysmon-modular", "12_13_14_registry_event")
    logs = [os.path.join(data, "otrf", "registry_events.jsonl.gz"),
            os.path.join(data, "evtx", "registry_events_all.jsonl.gz")]
    if not os.path.isdir(modules) or not all(os.path.exists(l) for l in logs):
        print(f"SKIP: {modules} or the event logs are absent")
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        policy = os.path.join(tmp, "sysmon.yaml")
        run = subprocess.run([hivewarden, "import-sysmon", "-q", modules, "-o", policy],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr)
            return 1
        config = reference_sysmon.Config()
        for f in sorted(glob.glob(os.path.join(modules, "*.xml"))):
            config.add_file(f)
        per_log = []
        for log in logs:
            events = dict(sysmon_events(log))
            logged = {i for i, d in events.items() if config.logged(d)}
            print(f"reference: {os.path.basename(log)}: Sysmon logs {len(logged)} of {len(events)} events")
            per_log.append((log, events, logged))
        failed = False
        for log, events, logged in per_log:
            got = reported(hivewarden, policy, log) & set(events)
            missed = sorted(logged - got)
            precision = len(logged & got) / len(got) if got else 1.0
            print(f"{os.path.basename(log)}: {len(events)} events, Sysmon logs {len(logged)}, "
                  f"policy reports {len(got)}, missed {len(missed)}, precision {precision:.4f}")
            for i in missed[:10]:
                print(f"  missed line {i}: {json.dumps(events[i])}")
            failed = failed or bool(missed)
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
