#!/usr/bin/env python3
"""Prepares the box's decision case: compiles the box policy and decides the box operations with
the Linux CLI (`hivewarden compile`, `hivewarden eval`, SPEC §9), and writes what the box needs to
replay them through the driver: OUT/policy.hwp and OUT/decisions.tsv, one operation a line:
line, pre class (hex), kernel key, value, new name, image (C:\\ form), pid, key exists (0/1),
value type, data (hex), the Linux decision (allow/deny), its reason.
Usage: decisions.py CLI POLICY.yaml OPS.jsonl OUTDIR"""
import json
import subprocess
import sys

PRE_CLASS = {"create-key": 0x1A, "delete-key": 0x00, "set-value": 0x01, "delete-value": 0x02,
             "rename-key": 0x04, "restore-key": 0x29, "replace-key": 0x2D, "query-value": 0x08}
TYPES = {"sz": 1, "dword": 4}


def data_of(op):
    kind = op.get("type")
    if kind == "sz":
        return (op["data"] + "\0").encode("utf-16-le")
    if kind == "dword":
        return int(op["data"]).to_bytes(4, "little")
    return b""


def field(text):
    if any(c in text for c in "\t\n") or not text.isascii():
        sys.exit(f"decisions.py: {text!r}: the box reads plain ASCII fields without tabs")
    return text


def main():
    cli, policy, ops_path, out = sys.argv[1:5]
    subprocess.run([cli, "compile", policy, "-o", f"{out}/policy.hwp"], check=True)
    # The same policy written for another machine (ControlSet002): the driver must refuse it.
    text = open(policy, encoding="utf-8").read().replace("control_set: 1", "control_set: 2")
    with open(f"{out}/policy-cs2.yaml", "w", encoding="utf-8") as other:
        other.write(text)
    subprocess.run([cli, "compile", f"{out}/policy-cs2.yaml", "-o", f"{out}/policy-cs2.hwp"],
                   check=True)
    result = subprocess.run([cli, "eval", "--policy", policy, "--input", ops_path], check=True,
                            capture_output=True, text=True)
    ops = [json.loads(line) for line in open(ops_path, encoding="utf-8") if line.strip()]
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    if len(ops) != len(verdicts):
        sys.exit(f"decisions.py: {len(ops)} operations but {len(verdicts)} verdicts")
    with open(f"{out}/decisions.tsv", "w", encoding="ascii") as tsv:
        for number, (op, verdict) in enumerate(zip(ops, verdicts), start=1):
            if "error" in verdict:
                sys.exit(f"decisions.py: {ops_path}:{number}: {verdict['error']}")
            row = [str(number), f"{PRE_CLASS[op['op']]:x}", verdict["key"], op.get("value", ""),
                   op.get("new_name", ""), op.get("image", ""), str(op.get("pid", 0)),
                   "1" if op.get("key_exists") else "0", str(TYPES.get(op.get("type"), 0)),
                   data_of(op).hex(), verdict["decision"], verdict["reason"]]
            tsv.write("\t".join(field(f) for f in row) + "\n")
    print(f"decisions.py: {len(ops)} operations decided by the Linux engine -> {out}/decisions.tsv")


if __name__ == "__main__":
    main()
