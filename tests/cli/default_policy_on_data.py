"""The built-in default policy over the shared data (../shared/data): which EVTX attack samples it
flags (a denied or reported registry event), and how many OTRF events it reports.
Usage: default_policy_on_data.py HIVEWARDEN SHARED_DATA. Exit 77 (skip) when the data is absent.
Figures measured when the policy grew (issue 13 item 4): 68 of the 109 EVTX files with registry
events flagged (17 before), 174 of the 138,904 OTRF events decided reported or denied (128 before).
The bounds below leave a margin: fewer files flagged, or many more OTRF reports, fail the test."""
import collections
import gzip
import json
import os
import subprocess
import sys

SKIP = 77
MIN_EVTX_FILES_FLAGGED = 65
MAX_OTRF_REPORTED = 250
# Files the policy must flag, one per family it guards (a change that loses one is a regression).
MUST_FLAG = [
    "ID1-12-13-Wdigest authentication activation.evtx",
    "persistence_SilentProcessExit_ImageHijack_sysmon_13_1.evtx",
    "persist_turla_outlook_backdoor_comhijack.evtx",
    "ID12-13 SIP provider registration.evtx",
    "sysmon_13_rdp_settings_tampering.evtx",
    "sysmon_13_1_persistence_via_winlogon_shell.evtx",
    "Sysmon_13_1_UAC_Bypass_EventVwrBypass.evtx",
    "ID12,13-Stickey key registry update.evtx",
    "DE_UAC_Disabled_Sysmon_12_13.evtx",
    "Sysmon_13_1_UACBypass_SDCLTBypass.evtx",
    "de_PsScriptBlockLogging_disabled_sysmon12_13.evtx",
]
MUST_DENY = ["ID1-12-13-Wdigest authentication activation.evtx", "41d1058a-aea7-4952-9293-29eaaf516465.evtx"]


def replay(hivewarden, log):
    out = subprocess.run([hivewarden, "replay", "--all", "--no-progress", log],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def flagged(r):
    return r["decision"] == "deny" or r.get("notify", "none") != "none"


def main():
    hivewarden, data = sys.argv[1], sys.argv[2]
    evtx = os.path.join(data, "evtx", "registry_events_all.jsonl.gz")
    otrf = os.path.join(data, "otrf", "registry_events.jsonl.gz")
    if not (os.path.exists(evtx) and os.path.exists(otrf)):
        print(f"SKIP: {evtx} or {otrf} is absent")
        return SKIP
    source = {}
    with gzip.open(evtx, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            source[i] = os.path.basename(json.loads(line)["source_file"])
    files, hit, denied = set(), collections.defaultdict(set), set()
    for r in replay(hivewarden, evtx):
        name = source[r["event"]["index"]]
        files.add(name)
        if flagged(r):
            hit[name].update(r["clients"] or ["hardened-key"])
        if r["decision"] == "deny":
            denied.add(name)
    print(f"EVTX: {len(hit)} of {len(files)} files with registry events flagged ({len(denied)} with a denial)")
    for name in sorted(hit):
        print(f"  {name}: {', '.join(sorted(hit[name]))}")
    decided = replay(hivewarden, otrf)
    reported = [r for r in decided if flagged(r)]
    by_client = collections.Counter(",".join(r["clients"]) or "(no client)" for r in reported)
    print(f"OTRF: {len(reported)} of {len(decided)} decided events reported or denied: {dict(by_client)}")
    failed = False
    if len(hit) < MIN_EVTX_FILES_FLAGGED:
        print(f"FAIL: only {len(hit)} EVTX files flagged, expected at least {MIN_EVTX_FILES_FLAGGED}")
        failed = True
    for name in MUST_FLAG:
        if name not in hit:
            print(f"FAIL: {name} not flagged")
            failed = True
    for name in MUST_DENY:
        if name not in denied:
            print(f"FAIL: {name} not denied")
            failed = True
    if len(reported) > MAX_OTRF_REPORTED:
        print(f"FAIL: {len(reported)} OTRF events reported, expected at most {MAX_OTRF_REPORTED}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
