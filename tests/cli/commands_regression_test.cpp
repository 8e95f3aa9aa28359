// Regressions of the adversarial pass (repro/adversarial-1) in the commands that read
// operations: each test fed the command what broke it and checks what it must do now.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../support/files.hpp"
#include "hivewarden/cli/commands.hpp"

namespace hivewarden::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

class CommandRegressions : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return dir_.write(name, text);
  }

  int run(const std::string& ops, const std::string& reg, std::string& out,
          const std::string& policy = "", const std::string& export_path = "") {
    RunOptions o;
    o.policy = policy;
    o.registry = reg.empty() ? "" : write("start.reg", reg);
    o.ops = write("ops.jsonl", ops);
    o.export_path = export_path;
    std::ostringstream s;
    const int rc = run_run(o, s);
    out = s.str();
    return rc;
  }

  test::TempDir dir_{"cmd-regress"};
};

const std::string kDeep = R"({"op":"set-value","key":"HKLM\\SOFTWARE\\A","value":"v","flags":)" +
                          std::string(50000, '[') + std::string(50000, ']') + "}\n";
const std::string kPlain =
    R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","image":"C:\\x.exe","pid":1})"
    "\n";

// Item 2: a line nested 50,000 deep overflowed the stack; now an error line, and the run goes on.
TEST_F(CommandRegressions, DeepNestingIsAnErrorLineInEvalDemoAndRun) {
  std::istringstream in(kDeep + kPlain);
  std::ostringstream eval_out;
  EXPECT_EQ(run_eval("", in, eval_out), kExitInputError);
  const auto lines = json_lines(eval_out.str());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0]["error"].get<std::string>().find("nested deeper"), std::string::npos);
  EXPECT_EQ(lines[1]["reason"], "tamper-protection");

  std::ostringstream demo_out;
  EXPECT_EQ(run_demo("", write("d.jsonl", kDeep + kPlain), demo_out), kExitInputError);
  EXPECT_NE(demo_out.str().find("line 1: JSON nested deeper"), std::string::npos);
  EXPECT_NE(demo_out.str().find("1 operations: 1 denied"), std::string::npos) << demo_out.str();

  std::string out;
  EXPECT_EQ(run(kDeep + kPlain, "", out), kExitInputError);
  const auto run_lines = json_lines(out);
  ASSERT_EQ(run_lines.size(), 2u);
  EXPECT_TRUE(run_lines[0].contains("error"));
  EXPECT_EQ(run_lines[1]["line"], 2);
}

// Item 3: null and mistyped fields aborted demo and run (uncaught exceptions, rc 134).
TEST_F(CommandRegressions, NullAndMistypedFieldsAreErrorLinesNotAborts) {
  std::ostringstream demo_out;
  const std::string nulls =
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\A","value":null,"image":"C:\\x.exe"})"
      "\n"
      R"({"op":"create-key","key":"HKLM\\SOFTWARE\\A","image":null,"new_name":null})"
      "\n";
  EXPECT_EQ(run_demo("", write("n.jsonl", nulls), demo_out), kExitInputError);
  EXPECT_NE(demo_out.str().find("line 1: missing field `value`"), std::string::npos)
      << demo_out.str();
  EXPECT_NE(demo_out.str().find("by ? -- no-match"), std::string::npos) << demo_out.str();

  for (const std::string& line :
       {std::string(R"({"op":"create-key","key":"HKLM\\SOFTWARE\\L","link":"yes"})"),
        std::string(R"({"op":"create-key","key":"HKLM\\SOFTWARE\\L","open_link":1})"),
        std::string(R"({"op":"restore-key","key":"HKLM\\SOFTWARE","file":5})")}) {
    std::string out;
    EXPECT_EQ(run(line + "\n", "", out), kExitInputError) << line;
    const auto lines = json_lines(out);
    ASSERT_EQ(lines.size(), 1u) << line;
    EXPECT_TRUE(lines[0].contains("error")) << line;
  }
}

// Item 5: `run` printed the previous line's decision for an operation that failed before any
// callback (its key does not exist).
TEST_F(CommandRegressions, RunPrintsNoDecisionForAnOperationTheEngineNeverSaw) {
  std::string out;
  run(kPlain +
          R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Nowhere","value":"x","image":"C:\\x.exe","pid":1})"
          "\n",
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows "
      "Defender]\n",
      out);
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["reason"], "tamper-protection");
  EXPECT_EQ(lines[1]["status"], "object-name-not-found");
  EXPECT_FALSE(lines[1].contains("decision")) << lines[1].dump();
  EXPECT_FALSE(lines[1].contains("reason")) << lines[1].dump();
  EXPECT_EQ(lines[1]["notify"], "none");
}

// Item 4: `run` ignored the line's flags and rules.
TEST_F(CommandRegressions, RunDecidesWithTheLinesFlagsAndRules) {
  std::string out;
  run(R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection","value":"DisableRealtimeMonitoring","type":"REG_DWORD","data":1,"image":"C:\\Tools\\deploy.exe","pid":8100,"rules":["allow-all-registry"]})"
      "\n"
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection","value":"DisableRealtimeMonitoring","type":"REG_DWORD","data":1,"image":"C:\\Tools\\deploy.exe","pid":8100,"flags":["friendly"]})"
      "\n"
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection","value":"DisableRealtimeMonitoring","type":"REG_DWORD","data":1,"image":"C:\\Tools\\deploy.exe","pid":8100})"
      "\n",
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows "
      "Defender\\Real-Time Protection]\n",
      out);
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["reason"], "exempt");
  EXPECT_EQ(lines[0]["status"], "success");
  EXPECT_EQ(lines[1]["reason"], "exempt");
  EXPECT_EQ(lines[2]["reason"], "deny-rule");
  EXPECT_EQ(lines[2]["status"], "access-denied");
}

// Item 13: a NUL in a Win32-form name: `eval` denied, `run` allowed it and exported raw NULs.
TEST_F(CommandRegressions, RunDeniesWin32NamesWithNulAsEvalDoes) {
  const std::string policy = write("p.yaml", R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: wd-policy
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-deny]
)");
  const std::string ops =
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"DisableAntiSpyware\u0000","type":"REG_DWORD","data":1,"image":"C:\\x.exe","pid":1})"
      "\n"
      R"({"op":"rename-key","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Decoy","new_name":"Windows Defender\u0000","image":"C:\\x.exe","pid":1})"
      "\n"
      R"({"op":"create-key","key":"HKLM\\SOFTWARE\\Policies\u0000\\X","image":"C:\\x.exe","pid":1})"
      "\n"
      R"({"op":"set-value","key":"\\REGISTRY\\MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"Hidden\u0000","image":"C:\\x.exe","pid":1})"
      "\n";
  std::istringstream in(ops);
  std::ostringstream eval_out;
  run_eval(policy, in, eval_out);
  const auto evals = json_lines(eval_out.str());
  const std::string exported = (dir_ / "out.reg").string();
  std::string out;
  run(ops,
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\"
      "Windows Defender]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Decoy]\n",
      out, policy, exported);
  const auto runs = json_lines(out);
  ASSERT_EQ(evals.size(), 4u);
  ASSERT_EQ(runs.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(evals[i]["reason"], "invalid-name") << i;
    EXPECT_EQ(runs[i]["reason"], "invalid-name") << runs[i].dump();
    EXPECT_EQ(runs[i]["status"], "access-denied") << runs[i].dump();
  }
  // The kernel form counts lengths: a NUL there is part of a different name, and allowed.
  EXPECT_EQ(evals[3]["decision"], "allow");
  EXPECT_EQ(runs[3]["decision"], "allow");
  const std::string text = test::read_text(exported);
  EXPECT_EQ(text.find("DisableAntiSpyware\0", 0, 19), std::string::npos);
  EXPECT_EQ(text.find("Windows Defender\0", 0, 17), std::string::npos);
}

// Item 17: `run` stored DWORD 2^32+1 as 1 and type 2^32+4 as REG_DWORD.
TEST_F(CommandRegressions, RunRefusesNumbersOutOfRange) {
  for (
      const std::string& line :
      {std::string(
           R"({"op":"set-value","key":"HKLM\\SOFTWARE\\App","value":"v","type":"REG_DWORD","data":4294967297})"),
       std::string(
           R"({"op":"set-value","key":"HKLM\\SOFTWARE\\App","value":"v","type":4294967300,"data":"00"})"),
       std::string(
           R"({"op":"set-value","key":"HKLM\\SOFTWARE\\App","value":"v","type":"REG_QWORD","data":18446744073709551616})")}) {
    std::string out;
    EXPECT_EQ(
        run(line + "\n",
            "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]\n", out),
        kExitInputError)
        << line;
    const auto lines = json_lines(out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_TRUE(lines[0].contains("error")) << lines[0].dump();
  }
}

// Item 19: after a failed operation `notify` is none while `reason` still names the rule; the
// output says why.
TEST_F(CommandRegressions, AFailedStatusIsExplained) {
  std::istringstream in(
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"x","image":"C:\\x.exe","pid":1,"status":"STATUS_ACCESS_DENIED"})"
      "\n"
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"x","image":"C:\\x.exe","pid":1,"status":"0x00000000"})"
      "\n"
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"x","image":"C:\\x.exe","pid":1,"status":"sucess"})"
      "\n");
  std::ostringstream out;
  EXPECT_EQ(run_eval("", in, out), kExitInputError);
  const auto lines = json_lines(out.str());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["reason"], "notify");
  EXPECT_EQ(lines[0]["notify"], "none");
  EXPECT_EQ(lines[0]["status"], "failure");
  EXPECT_EQ(lines[1]["notify"], "async");
  EXPECT_FALSE(lines[1].contains("status"));
  EXPECT_NE(lines[2]["error"].get<std::string>().find("`status`"), std::string::npos);

  CheckOptions c;
  c.op = "set-value";
  c.key = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run";
  c.value = "x";
  c.status = "STATUS_ACCESS_DENIED";
  std::ostringstream check_out;
  ASSERT_EQ(run_check(c, check_out), kExitOk);
  EXPECT_NE(check_out.str().find("the operation failed"), std::string::npos) << check_out.str();
  EXPECT_NE(check_out.str().find("notify     none"), std::string::npos) << check_out.str();
}

// `check --data` reads the same `type`/`data` fields as the other commands.
TEST_F(CommandRegressions, CheckReadsDataWithTheSameReader) {
  CheckOptions c;
  c.op = "set-value";
  c.key = "HKLM\\SOFTWARE\\App";
  c.value = "v";
  c.type = "REG_DWORD";
  c.data = "4294967297";
  std::ostringstream out;
  EXPECT_EQ(run_check(c, out), kExitInputError);
  c.data = "7";
  EXPECT_EQ(run_check(c, out), kExitOk);
}

// Attack on the fixes (F1): a symbolic link made at a protected key, or at a missing ancestor of
// one, redirected the protected name to an attacker's key: writes "to" it were decided on the
// target and allowed, while readers of the protected name saw the attacker's values.
TEST_F(CommandRegressions, RunRefusesLinksOverProtectedKeys) {
  const std::string policy = write("p.yaml", R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\Policies\Microsoft\Windows Defender'
    client: wd-policy
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-deny, delete-value, delete-deny, tamper-protection]
)");
  const std::string reg =
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies]\n\n"
      "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Evil\\Windows "
      "Defender]\n\"DisableAntiSpyware\"=dword:00000001\n";
  for (const std::string& at :
       {std::string("HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows Defender"),
        std::string("HKLM\\\\SOFTWARE\\\\Policies\\\\Microsoft")}) {
    const std::string ops =
        R"({"op":"create-key","key":")" + at +
        R"(","link":true,"image":"C:\\x.exe","pid":1})"
        "\n" +
        R"({"op":"set-value","key":")" + at +
        R"(","open_link":true,"value":"SymbolicLinkValue","type":"REG_LINK","data":"\\REGISTRY\\MACHINE\\SOFTWARE\\Evil\\Windows Defender","image":"C:\\x.exe","pid":1})"
        "\n" +
        R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","type":"REG_DWORD","data":1,"image":"C:\\x.exe","pid":1})"
        "\n";
    std::string out;
    run(ops, reg, out, policy);
    const auto lines = json_lines(out);
    ASSERT_EQ(lines.size(), 3u) << out;
    EXPECT_EQ(lines[0]["status"], "access-denied") << lines[0].dump();
    EXPECT_EQ(lines[0]["reason"], "tamper-protection") << lines[0].dump();
    EXPECT_NE(lines[2]["status"], "success") << lines[2].dump();  // nothing was written
    // eval decides the link the same way (one reader, one decision).
    std::istringstream in(ops);
    std::ostringstream eval_out;
    run_eval(policy, in, eval_out);
    EXPECT_EQ(json_lines(eval_out.str())[0]["reason"], "tamper-protection");
  }
}

// Attack on the fixes (F2): check passed every option as a string, so `--type 4`, a negative
// `--status` and `--new-name ""` were refused where eval accepts the same fields.
TEST_F(CommandRegressions, CheckReadsNumbersAndEmptyNamesAsEvalDoes) {
  CheckOptions c;
  c.op = "set-value";
  c.key = "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths";
  c.value = "x";
  c.type = "4";
  c.data = "1";
  c.status = "-1073741790";
  c.json = true;
  std::ostringstream out;
  ASSERT_EQ(run_check(c, out), kExitOk) << out.str();
  CheckOptions r;
  r.op = "rename-key";
  r.key = "HKLM\\SOFTWARE\\A";
  r.new_name = "";
  r.has_new_name = true;
  r.json = true;
  std::ostringstream rename_out;
  ASSERT_EQ(run_check(r, rename_out), kExitOk);
  EXPECT_EQ(json::parse(rename_out.str())["reason"], "invalid-name");
}

// Attack on the fixes (F8): `run` dropped the line's `status`; a line that says the operation
// failed now fails after its pre-operation, so nothing is reported, as `eval` says.
TEST_F(CommandRegressions, RunFailsALineWhoseStatusSaysItFailed) {
  const std::string ops =
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"x2","data":"y","image":"C:\\x.exe","pid":1,"status":"STATUS_ACCESS_DENIED"})"
      "\n"
      R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"x3","data":"y","image":"C:\\x.exe","pid":1,"status":0})"
      "\n";
  const std::string exported = (dir_ / "out.reg").string();
  std::string out;
  run(ops,
      "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\"
      "CurrentVersion\\Run]\n",
      out, "", exported);
  const auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["status"], "STATUS_ACCESS_DENIED");
  EXPECT_EQ(lines[0]["reason"], "notify");
  EXPECT_EQ(lines[0]["notify"], "none");
  EXPECT_EQ(lines[1]["status"], "success");
  EXPECT_EQ(lines[1]["notify"], "async");
  const std::string text = test::read_text(exported);
  EXPECT_EQ(text.find("\"x2\""), std::string::npos);  // the failed set-value changed nothing
  EXPECT_NE(text.find("\"x3\""), std::string::npos);
}

}  // namespace
}  // namespace hivewarden::cli
