#!/usr/bin/env python3
"""import-sigma against an independent reading of the same rules (issue 13, item 2).

The reference below evaluates Sigma's own semantics (selections, and/or/not, `1 of`, `all of`,
the string modifiers, `all`, `re`, null, `cased`, `exists`) over the Sysmon registry events of the
OTRF data. It shares no code with the importer. The importer's side: `hivewarden import-sigma`
writes the policy, `hivewarden replay` decides every event through the engine, and each reported
client (`sigma:<rule id>`) is one (event, rule) pair.

Asserted: every pair the reference matches is reported (recall 1.0), at least 99% of the reported
pairs are reference pairs, at least 90% of the rules import whole.

Exits 77 (ctest: skipped, with the reason) when ../shared/data is absent, or while the policy
compiler does not know `when`/`unless` (SPEC §10 conditions, landing separately): the test then
bites as soon as the engine has conditions.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

SKIP = 77
DATA = os.environ.get("HIVEWARDEN_SHARED_DATA", "")
HIVEWARDEN = os.environ.get("HIVEWARDEN_BIN", "")
RULES = os.path.join(DATA, "sigma", "rules")
EVENTS = os.path.join(DATA, "otrf", "registry_events.jsonl.gz")

# --- Sigma, as the Sigma specification says it ---------------------------------------------------

CATEGORY_EVENTS = {  # logsource category -> (EventID, EventType) it covers (pySigma's Sysmon mapping)
    "registry_set": {(13, "SetValue")},
    "registry_add": {(12, "CreateKey")},
    "registry_delete": {(12, "DeleteKey"), (12, "DeleteValue")},
    "registry_event": {(12, "CreateKey"), (12, "DeleteKey"), (12, "DeleteValue"), (13, "SetValue"),
                       (14, "RenameKey")},
}


def sigma_value_regex(value, mode, cased):
    """A Sigma string (with its wildcards and escapes) as an anchored regular expression."""
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    body = "".join(out)
    if mode in ("contains", "endswith"):
        body = ".*" + body
    if mode in ("contains", "startswith"):
        body = body + ".*"
    return re.compile(body, re.DOTALL | (0 if cased else re.IGNORECASE))


class FieldTest:
    def __init__(self, key, values):
        parts = key.split("|")
        self.field, mods = parts[0], parts[1:]
        self.all = "all" in mods
        self.cased = "cased" in mods
        self.exists = "exists" in mods
        self.regex = "re" in mods
        self.mode = next((m for m in mods if m in ("contains", "startswith", "endswith")), "equals")
        self.values = values if isinstance(values, list) else [values]
        self.compiled = []
        for v in self.values:
            if v is None or self.exists:
                self.compiled.append(None)
            elif self.regex:
                self.compiled.append(re.compile(str(v)))
            elif not self.cased and "*" not in str(v) and "?" not in str(v) and "\\\\" not in str(v):
                self.compiled.append(str(v).lower())  # plain text: compared without a regex
            else:
                self.compiled.append(sigma_value_regex(str(v), self.mode, self.cased))

    def one(self, data, value, compiled):
        have = data.get(self.field)
        if value is None:
            return have is None
        if have is None:
            return False
        if self.regex:
            return compiled.search(str(have)) is not None
        if isinstance(compiled, str):
            text = str(have).lower()
            if self.mode == "contains":
                return compiled in text
            if self.mode == "startswith":
                return text.startswith(compiled)
            if self.mode == "endswith":
                return text.endswith(compiled)
            return text == compiled
        return compiled.fullmatch(str(have)) is not None

    def holds(self, data):
        if self.exists:
            return (data.get(self.field) is not None) == bool(self.values[0])
        results = (self.one(data, v, c) for v, c in zip(self.values, self.compiled))
        return all(results) if self.all else any(results)


class Rule:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        self.path = path
        self.id = doc.get("id", path)
        self.events = CATEGORY_EVENTS.get(doc.get("logsource", {}).get("category"), set())
        detection = doc["detection"]
        self.condition = detection["condition"]
        self.selections = {}
        for name, body in detection.items():
            if name in ("condition", "timeframe"):
                continue
            maps = body if isinstance(body, list) else [body]
            self.selections[name] = [[FieldTest(k, v) for k, v in m.items()] for m in maps]
        self.tokens = re.findall(r"\(|\)|[^\s()]+", self.condition)

    def selection_holds(self, name, data):
        return any(all(t.holds(data) for t in m) for m in self.selections[name])

    def matches(self, event_id, data):
        if (event_id, data.get("EventType")) not in self.events:
            return False
        self.pos, self.data = 0, data
        result = self.expr()
        assert self.pos == len(self.tokens), self.condition
        return result

    # condition grammar: expr = and ('or' and)*; and = not ('and' not)*; not = 'not' not | primary
    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expr(self):
        value = self.and_expr()
        while self.peek() == "or":
            self.pos += 1
            value = self.and_expr() or value
        return value

    def and_expr(self):
        value = self.not_expr()
        while self.peek() == "and":
            self.pos += 1
            value = self.not_expr() and value
        return value

    def not_expr(self):
        if self.peek() == "not":
            self.pos += 1
            return not self.not_expr()
        return self.primary()

    def primary(self):
        token = self.peek()
        self.pos += 1
        if token == "(":
            value = self.expr()
            assert self.peek() == ")"
            self.pos += 1
            return value
        if token in ("1", "all", "any") and self.peek() == "of":
            pattern = self.tokens[self.pos + 1]
            self.pos += 2
            names = [n for n in self.selections
                     if pattern == "them" or (pattern.endswith("*") and n.startswith(pattern[:-1])) or n == pattern]
            results = [self.selection_holds(n, self.data) for n in names]
            return all(results) if token == "all" else any(results)
        return self.selection_holds(token, self.data)


def sysmon_events():
    """(line number, EventID, EventData) of every mappable Sysmon registry event."""
    with gzip.open(EVENTS, "rt", encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            e = json.loads(line)
            if "Sysmon" not in (e.get("Provider") or "") or e.get("EventID") not in (12, 13, 14):
                continue
            data = e.get("EventData") or {}
            if data.get("EventType") is None:
                continue  # old Sysmon without EventType: no operation to replay
            yield line_number, e["EventID"], data


def reference_pairs(rules):
    pairs = set()
    events = 0
    for line_number, event_id, data in sysmon_events():
        events += 1
        for rule in rules:
            if rule.matches(event_id, data):
                pairs.add((line_number, "sigma:" + rule.id))
    return events, pairs


# --- hivewarden's side ---------------------------------------------------------------------------

def imported_pairs(work):
    policy = os.path.join(work, "sigma.yaml")
    report = os.path.join(work, "report.json")
    run = subprocess.run([HIVEWARDEN, "import-sigma", "-q", RULES, "-o", policy, "--report", report],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise AssertionError("import-sigma failed:\n" + run.stderr[-4000:])
    with open(report, encoding="utf-8") as f:
        statuses = [r["status"] for r in json.load(f)]
    out = subprocess.run([HIVEWARDEN, "replay", EVENTS, "--policy", policy, "--no-progress"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("replay failed:\n" + out.stderr[-4000:])
    pairs = set()
    for line in out.stdout.splitlines():
        j = json.loads(line)
        for client in j.get("clients", []):
            pairs.add((j["event"]["index"], client))
    return statuses, pairs


def main():
    if not os.path.isdir(RULES) or not os.path.exists(EVENTS):
        print(f"SKIP: no Sigma rules or OTRF events under {DATA!r}")
        return SKIP
    if not os.environ.get("SIGMA_REFERENCE_ONLY"):
        with tempfile.TemporaryDirectory() as work:
            result = imported_pairs(work)
    rules = [Rule(os.path.join(d, f)) for d, _, fs in os.walk(RULES) for f in sorted(fs) if f.endswith(".yml")]
    events, reference = reference_pairs(rules)
    matched_rules = len({r for _, r in reference})
    print(f"reference: {len(rules)} rules, {events} mappable Sysmon registry events, "
          f"{len(reference)} (event, rule) pairs, {len({e for e, _ in reference})} events, "
          f"{matched_rules} rules matching")
    if os.environ.get("SIGMA_REFERENCE_ONLY"):
        return 0
    statuses, reported = result
    whole = statuses.count("whole")
    missed = reference - reported
    extra = reported - reference
    precision = (len(reported & reference) / len(reported)) if reported else 1.0
    print(f"import-sigma: {whole} of {len(statuses)} rules whole; {len(reported)} pairs reported, "
          f"{len(missed)} reference pairs missed, {len(extra)} extra; precision {precision:.4f}")
    for pair in sorted(missed)[:20]:
        print("  missed:", pair)
    by_rule = {}
    for _, r in extra:
        by_rule[r] = by_rule.get(r, 0) + 1
    for r, n in sorted(by_rule.items(), key=lambda x: -x[1])[:20]:
        lines = sorted(e for e, rule in extra if rule == r)[:5]
        print(f"  extra: {r}: {n} (event lines {', '.join(map(str, lines))})")
    ok = not missed and precision >= 0.99 and whole >= 0.9 * len(statuses)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
