#!/usr/bin/env python3
"""scripts/windows/bypass-on-windows.ps1, checked mechanically (no PowerShell runs here).

The script replays tests/security/bypass/operations.jsonl with reg.exe on a disposable Windows
test machine. These checks hold it to its data and its safety rules: the safety switch is checked
before anything else runs, every op kind in the data has a handler, the fields it reads are the
ones the data has, reg.exe is run only through one function and only with the verbs the handlers
need, no PowerShell 7-only syntax, and brackets balance outside strings and comments.
"""
import json
import os
import re
import unittest

SOURCE_DIR = os.environ.get(
    "HIVEWARDEN_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "windows", "bypass-on-windows.ps1")
OPERATIONS = os.path.join(SOURCE_DIR, "tests", "security", "bypass", "operations.jsonl")
EXPECTED = os.path.join(SOURCE_DIR, "tests", "security", "bypass", "expected.jsonl")

# Fields operations.jsonl adds to SPEC 9's eval lines for the script (bypass_data.hpp).
SCRIPT_FIELDS = ["id", "route", "what", "reg_exe", "unreproducible"]
# What the script may do with reg.exe: nothing that loads, unloads, copies or flags hives.
ALLOWED_REG_VERBS = {"add", "delete", "export", "import", "save", "restore"}
# The first things that act on the machine: none may come before the safety check.
FIRST_ACTIONS = ["reg.exe", "Invoke-Reg", "RegRenameKey", "Add-Type", "Read-JsonLines",
                 "Remove-Item", "Start-Process", "Assert-Prerequisites", "Get-CimInstance"]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokens(text):
    """(kind, text) pieces of PowerShell source: 'comment', 'string' or 'code'. Enough for this
    script: single/double-quoted strings, here-strings, # and <# #> comments."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("<#", i):
            end = text.index("#>", i) + 2
            out.append(("comment", text[i:end]))
        elif text[i] == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(("comment", text[i:end]))
        elif text.startswith("@'", i) or text.startswith('@"', i):
            closing = "\n" + text[i + 1] + "@"
            end = text.index(closing, i) + len(closing)
            out.append(("string", text[i:end]))
        elif text[i] == "'":
            j = i + 1
            while True:
                j = text.index("'", j)
                if text.startswith("''", j):
                    j += 2
                    continue
                break
            end = j + 1
            out.append(("string", text[i:end]))
        elif text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "`" else 1
            end = j + 1
            out.append(("string", text[i:end]))
        else:
            end = i + 1
            while end < n and text[end] not in "#'\"@<":
                end += 1
            if end == i + 1 and text[i] in "@<":
                end = i + 1
            out.append(("code", text[i:end]))
        i = end
    return out


class BypassScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SCRIPT, encoding="utf-8") as f:
            cls.text = f.read()
        cls.pieces = tokens(cls.text)
        # The script without comments (strings kept, so that names in strings still count).
        cls.code = "".join(t for kind, t in cls.pieces if kind != "comment")
        cls.bare = "".join(t for kind, t in cls.pieces if kind == "code")
        cls.operations = read_lines(OPERATIONS)
        cls.expected = read_lines(EXPECTED)

    def test_is_ascii(self):
        # Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page.
        self.assertTrue(self.text.isascii(), "keep the script ASCII (PowerShell 5.1 reads it as ANSI)")

    def test_the_safety_switch_is_checked_before_anything_acts(self):
        self.assertRegex(self.code, r"\[switch\]\$ThisIsADisposableTestMachine")
        guard = re.search(r"if \(-not \$ThisIsADisposableTestMachine\) \{(.*?)\n\}", self.code, re.S)
        self.assertIsNotNone(guard, "no `if (-not $ThisIsADisposableTestMachine) { ... }` block")
        self.assertRegex(guard.group(1), r"\bexit [1-9]", "the guard must exit non-zero")
        # It is the first statement after the param block.
        after_param = self.code[self.code.index("param("):]
        param_end = after_param.index("\n)\n") + 3
        self.assertTrue(after_param[param_end:].lstrip().startswith("if (-not $ThisIsADisposableTestMachine)"),
                        "the safety check must be the first statement after param(...)")
        for action in FIRST_ACTIONS:
            at = self.code.find(action)
            if at >= 0:
                self.assertGreater(at, guard.start(), f"`{action}` comes before the safety check")

    def test_every_op_kind_in_the_data_has_a_handler(self):
        switch = re.search(r"switch \(\[string\]\$Line\.op\) \{(.*?)\n    \}", self.code, re.S)
        self.assertIsNotNone(switch, "Invoke-Line's switch on the op is gone")
        cases = dict(re.findall(r"\n\s+'([a-z-]+)' \{ return (\S+)", switch.group(1)))
        reproducible = {line["op"] for line in self.operations if line["reg_exe"]}
        for op in {line["op"] for line in self.operations}:
            self.assertIn(op, cases, f"no handler for op {op}")
        for op in reproducible:
            self.assertTrue(cases[op].startswith("Invoke-"),
                            f"op {op} has reproducible lines but its handler only skips")
            self.assertIn(f"function {cases[op]}(", self.code, f"{cases[op]} is not defined")

    def test_reads_the_fields_the_data_has(self):
        data_fields = set().union(*(line.keys() for line in self.operations))
        for field in SCRIPT_FIELDS + ["value", "new_name"]:
            self.assertIn(field, data_fields, f"operations.jsonl lost field {field}")
            self.assertRegex(self.code, rf"'{field}'|\.{field}\b", f"the script never reads {field}")
        self.assertRegex(self.code, r"\.key\b")
        self.assertRegex(self.code, r"'line'")
        self.assertRegex(self.code, r"\.decision\b")
        self.assertIn("line", self.expected[0])
        self.assertIn("decision", self.expected[0])

    def test_every_unreproducible_line_says_why(self):
        for line in self.operations:
            if not line["reg_exe"]:
                self.assertTrue(line.get("unreproducible", "").strip(), f"line {line['id']} has no reason")
            else:
                self.assertNotIn("unreproducible", line)

    def test_reg_exe_runs_only_through_invoke_reg_with_known_verbs(self):
        self.assertEqual(len(re.findall(r"\$RegExe\b", self.bare)), 2,
                         "reg.exe is set once and started once, in Invoke-Reg")
        self.assertNotRegex(self.bare, r"(^|[\s&;(])reg(\.exe)?\s+(add|delete|copy|load|unload|query|import|export|save|restore|flags)\b",
                            "reg.exe is run directly, not through Invoke-Reg")
        verbs = re.findall(r"Invoke-Reg \(?@\('([a-z]+)'", self.code)
        self.assertTrue(verbs, "no Invoke-Reg calls found")
        self.assertLessEqual(set(verbs), ALLOWED_REG_VERBS)
        # A rename is one NtRenameKey: not Rename-Item (copy + delete in the registry provider)
        # and not reg copy + delete.
        self.assertNotIn("Rename-Item", self.bare)
        self.assertNotIn("'copy'", self.code)

    def test_every_delete_and_add_names_a_key_from_the_data(self):
        # The keys reg.exe is given come from the line ($key, $target...) or a temp file: never
        # a literal registry path.
        for call in re.findall(r"Invoke-Reg \(?@\(([^)]*)\)", self.code):
            self.assertNotRegex(call, r"HK(LM|CU|U|CC|EY_)", f"literal key in {call}")

    def test_no_powershell_7_only_syntax(self):
        for token in ["??", "?.", "&&", "||", "-Parallel", "$IsWindows", "utf8NoBOM", "-AsByteStream",
                      "ConvertFrom-Json -AsHashtable", "clean {"]:
            self.assertNotIn(token, self.bare, f"`{token}` is not PowerShell 5.1")

    def test_brackets_balance_outside_strings_and_comments(self):
        pairs = {")": "(", "}": "{", "]": "["}
        stack = []
        for line_no, line in enumerate(self.bare.split("\n"), 1):
            for ch in line:
                if ch in "({[":
                    stack.append(ch)
                elif ch in pairs:
                    self.assertTrue(stack and stack[-1] == pairs[ch], f"unbalanced {ch} near code line {line_no}")
                    stack.pop()
        self.assertEqual(stack, [], "brackets left open")

    def test_the_exit_codes_the_docs_state(self):
        self.assertIn("if ($count['MISMATCH'] -gt 0) { exit 1 }", self.code)
        self.assertIn("exit 0", self.code)


if __name__ == "__main__":
    unittest.main()
