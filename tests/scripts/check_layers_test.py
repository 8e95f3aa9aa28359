#!/usr/bin/env python3
"""scripts/check-layers fails, naming file and line, on a wrong-way include or link.

Runs the script on temporary trees: a copy of the checkout's CMakeLists.txt, src/ and include/
with one wrong-way use injected (the checkout itself may still hold a known violation while a
branch that removes it is under way, so each test asserts the place it injected), and small
made-up trees whose verdict is known.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

SOURCE_DIR = os.environ.get(
    "HIVEWARDEN_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "check-layers")


def run_check(root):
    done = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True,
                          timeout=120)
    return done.returncode, done.stdout + done.stderr


def write(root, relative, text):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text))


def insert_line(path, number, text):
    """Puts `text` as line `number` (1-based) of the file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    lines.insert(number - 1, text)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


class CopyOfCheckout(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check-layers-")
        shutil.copy(os.path.join(SOURCE_DIR, "CMakeLists.txt"), self.root)
        for folder in ("src", "include"):
            shutil.copytree(os.path.join(SOURCE_DIR, folder), os.path.join(self.root, folder))

    def tearDown(self):
        shutil.rmtree(self.root)

    def assert_fails_at(self, relative, line, words):
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        place = [l for l in out.splitlines() if l.startswith(f"{relative}:{line}:")]
        self.assertEqual(len(place), 1, out)
        for word in words:
            self.assertIn(word, place[0])

    def test_core_including_cli_fails_naming_file_and_line(self):
        path = os.path.join(self.root, "src", "core", "hash.cpp")
        insert_line(path, 2, '#include "hivewarden/cli/commands.hpp"')
        self.assert_fails_at("src/core/hash.cpp", 2, ["core includes", "hivewarden/cli/", "cli comes after core"])

    def test_header_including_a_later_layer_fails(self):
        path = os.path.join(self.root, "include", "hivewarden", "util", "hex.hpp")
        insert_line(path, 3, "#  include <hivewarden/policy/compile.hpp>")
        self.assert_fails_at("include/hivewarden/util/hex.hpp", 3, ["util includes", "policy"])

    def test_consumer_including_replay_fails(self):
        path = os.path.join(self.root, "src", "consumer", "record_json.cpp")
        insert_line(path, 2, '#include "hivewarden/replay/event.hpp"')
        self.assert_fails_at("src/consumer/record_json.cpp", 2, ["consumer includes", "replay"])

    def test_wrong_way_link_fails_naming_the_line(self):
        path = os.path.join(self.root, "src", "util", "CMakeLists.txt")
        with open(path, encoding="utf-8") as f:
            lines = f.read().count("\n")
        with open(path, "a", encoding="utf-8") as f:
            f.write("target_link_libraries(hivewarden_util\n  PUBLIC hivewarden_host)\n")
        self.assert_fails_at("src/util/CMakeLists.txt", lines + 2, ["util links hivewarden_host"])

    def test_win_target_name_counts_as_win(self):  # hivewarden_win_translate is the win layer's
        path = os.path.join(self.root, "src", "replay", "CMakeLists.txt")
        with open(path, encoding="utf-8") as f:
            lines = f.read().count("\n")
        with open(path, "a", encoding="utf-8") as f:
            f.write("target_link_libraries(hivewarden_replay PRIVATE hivewarden_win_translate)\n")
        self.assert_fails_at("src/replay/CMakeLists.txt", lines + 1,
                             ["replay links hivewarden_win_translate", "win comes after replay"])

    def test_a_commented_include_or_link_is_not_a_use(self):
        code_before, out_before = run_check(self.root)
        insert_line(os.path.join(self.root, "src", "core", "hash.cpp"), 2,
                    '// #include "hivewarden/cli/commands.hpp"')
        with open(os.path.join(self.root, "src", "util", "CMakeLists.txt"), "a") as f:
            f.write("# target_link_libraries(hivewarden_util PUBLIC hivewarden_cli)\n")
        self.assertEqual(run_check(self.root), (code_before, out_before))


class MadeUpTrees(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="check-layers-")
        write(self.root, "CMakeLists.txt", """\
            project(x)
            foreach(layer core util host cli)
              add_subdirectory(src/${layer})
            endforeach()
            """)
        write(self.root, "src/core/a.cpp", '#include "hivewarden/core/a.hpp"\n')
        write(self.root, "include/hivewarden/core/a.hpp", "#pragma once\n")
        write(self.root, "src/util/u.cpp", '#include "hivewarden/core/a.hpp"\n#include "hivewarden/util/u.hpp"\n')
        write(self.root, "include/hivewarden/util/u.hpp", '#include "hivewarden/core/a.hpp"\n')
        write(self.root, "src/host/h.cpp", '#include "hivewarden/util/u.hpp"\n#include <vector>\n#include "local.hpp"\n')
        write(self.root, "src/cli/main.cpp", '#include "hivewarden/host/h.hpp"\n#include "hivewarden/core/a.hpp"\n')
        write(self.root, "src/util/CMakeLists.txt", "add_library(hivewarden_util u.cpp)\n"
              "target_link_libraries(hivewarden_util PUBLIC hivewarden_core)\n")
        write(self.root, "src/cli/CMakeLists.txt", "add_library(hivewarden_cli_lib main.cpp)\n"
              "target_link_libraries(hivewarden_cli_lib PUBLIC hivewarden_host hivewarden_util)\n"
              "add_executable(hivewarden main.cpp)\n"
              "target_link_libraries(hivewarden PRIVATE hivewarden_cli_lib)\n")

    def tearDown(self):
        shutil.rmtree(self.root)

    def test_uses_of_earlier_layers_pass(self):
        code, out = run_check(self.root)
        self.assertEqual(code, 0, out)
        self.assertIn("the layer order holds", out)

    def test_the_order_is_read_from_cmakelists(self):
        write(self.root, "CMakeLists.txt", "foreach(layer core host util cli)\nendforeach()\n")
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        self.assertIn("src/host/h.cpp:1: host includes \"hivewarden/util/...\"", out)
        self.assertIn("util comes after host in the layer order (core host util cli)", out)

    def test_core_includes_only_core(self):
        write(self.root, "include/hivewarden/core/a.hpp", '#pragma once\n#include "hivewarden/util/u.hpp"\n')
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        self.assertIn("include/hivewarden/core/a.hpp:2: core includes", out)

    def test_an_unknown_layer_fails(self):
        write(self.root, "src/host/h.cpp", '#include "hivewarden/gui/w.hpp"\n')
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        self.assertIn("src/host/h.cpp:1:", out)
        self.assertIn("`gui` is not a layer", out)

    def test_a_folder_outside_the_list_fails(self):
        write(self.root, "src/gui/w.cpp", '#include "hivewarden/cli/x.hpp"\n')
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        self.assertIn("src/gui: a folder that is no layer", out)

    def test_sources_of_a_later_layer_fail(self):
        write(self.root, "src/util/CMakeLists.txt",
              "add_library(hivewarden_util u.cpp ${ROOT}/src/host/h.cpp)\n")
        code, out = run_check(self.root)
        self.assertEqual(code, 1, out)
        self.assertIn("src/util/CMakeLists.txt:1: util builds sources of src/host/", out)

    def test_no_layer_list_is_an_error_of_its_own(self):
        write(self.root, "CMakeLists.txt", "project(x)\nadd_subdirectory(src)\n")
        code, out = run_check(self.root)
        self.assertEqual(code, 2, out)
        self.assertIn("no `foreach(layer ...)` line", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
