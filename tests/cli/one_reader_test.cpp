// Property: `eval`, `check`, `demo` and `run` read an operation with one reader and decide it
// the same way (SPEC §9). The same generated operations go through all four commands; their
// decisions and reasons must agree, and where two commands print clients and rules, those too.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
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

// A policy that exercises every kind of rule, exemption and process assignment.
constexpr const char* kPolicy = R"(version: 1
control_set: 1
hardened_keys:
  - 'HKLM\SYSTEM\CurrentControlSet\Services\WinDefend'
processes:
  - image: 'C:\Tools\deploy.exe'
    rules: [allow-all-registry]
  - image: 'C:\Tools\sync.exe'
    rules: [notify-sync]
  - image: 'C:\Windows\servicing\TrustedInstaller.exe'
    flags: [friendly]
monitored:
  - key: 'HKLM\SOFTWARE\Microsoft\Windows Defender'
    client: tamper
    rules: [delete-key, rename-key, delete-deny, rename-key-deny]
    values:
      - name: DisableAntiSpyware
        rules: [set-value, set-value-capture, delete-value, tamper-protection]
  - key: 'HKLM\SOFTWARE\Microsoft\Windows Defender\**'
    client: settings
    rules: [create-key, create-key-deny, delete-deny, restore-key, restore-key-deny, replace-key]
    values:
      - name: 'Disable*'
        rules: [set-value, set-value-deny, delete-value, delete-deny]
  - key: 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run'
    client: run
    rules: [create-key, delete-key, rename-key]
    values:
      - name: '*'
        rules: [set-value, delete-value]
  - key: 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
    client: user-run
    values:
      - name: '*'
        rules: [set-value, set-value-deny]
)";

struct KeyChoice {
  std::vector<std::string> spellings;  // ways an operation may name the key
  std::string reg;                     // the key in a .reg file
  std::string user_sid;                // for HKCU spellings
};

const std::vector<KeyChoice>& keys() {
  static const std::vector<KeyChoice> k = {
      {{"HKLM\\SOFTWARE\\Microsoft\\Windows Defender",
        "hkey_local_machine\\software\\microsoft\\windows defender",
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender"},
       "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender",
       ""},
      {{"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection",
        "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection\\"},
       "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows Defender\\Real-Time Protection",
       ""},
      {{"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
        "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\RUN"},
       "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
       ""},
      {{"HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend",
        "HKLM\\SYSTEM\\ControlSet001\\Services\\WinDefend"},
       "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\WinDefend",
       ""},
      {{"HKLM\\SOFTWARE\\Vendor\\App"}, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App", ""},
      {{"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
        "HKU\\S-1-5-21-7\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"},
       "HKEY_USERS\\S-1-5-21-7\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
       "S-1-5-21-7"},
  };
  return k;
}

template <class T>
const T& pick(std::mt19937& rng, const std::vector<T>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, items.size() - 1)(rng)];
}

struct Generated {
  json op;
  std::string registry;  // .reg text the key exists in (for `run`)
};

Generated generate(std::mt19937& rng) {
  static const std::vector<std::string> kOps = {"create-key",   "delete-key", "set-value",
                                                "delete-value", "rename-key", "restore-key",
                                                "replace-key",  "query-value"};
  static const std::vector<std::string> kValues = {
      "DisableAntiSpyware",        "DisableRealtimeMonitoring", "Start", "x", "",
      std::string("Disable\0X", 9)};
  static const std::vector<std::pair<std::string, std::uint32_t>> kImages = {
      {"C:\\Windows\\System32\\reg.exe", 4120},
      {"C:\\Tools\\deploy.exe", 8100},
      {"C:\\Tools\\sync.exe", 8200},
      {"C:\\Windows\\servicing\\TrustedInstaller.exe", 900},
      {"System", 4},
      {"", 4}};
  static const std::vector<std::string> kFlags = {"system",      "av-service", "excluded",
                                                  "service-sid", "friendly",   "seces"};
  static const std::vector<std::string> kRules = {"allow-all-registry", "notify-sync"};
  static const std::vector<std::string> kNewNames = {"Renamed", "Windows Defender",
                                                     "CurrentControlSet", std::string("Run\0", 4)};
  Generated g;
  const KeyChoice& key = pick(rng, keys());
  const std::string& op = pick(rng, kOps);
  g.op["op"] = op;
  g.op["key"] = pick(rng, key.spellings);
  if (!key.user_sid.empty()) g.op["user_sid"] = key.user_sid;
  if (op == "set-value" || op == "delete-value" || op == "query-value")
    g.op["value"] = pick(rng, kValues);
  if (op == "set-value" && rng() % 2) {
    g.op["type"] = "REG_DWORD";
    g.op["data"] = rng() % 3;
  }
  if (op == "rename-key") g.op["new_name"] = pick(rng, kNewNames);
  const auto& image = pick(rng, kImages);
  if (!image.first.empty()) g.op["image"] = image.first;
  g.op["pid"] = image.second;
  if (rng() % 4 == 0) g.op["flags"] = json::array({pick(rng, kFlags)});
  if (rng() % 5 == 0) g.op["rules"] = json::array({pick(rng, kRules)});
  const bool exists = op != "create-key" || rng() % 2 == 0;
  if (op == "create-key") g.op["key_exists"] = exists;
  if (op == "create-key" && !exists && rng() % 3 == 0) g.op["link"] = true;
  g.registry = "Windows Registry Editor Version 5.00\n\n";
  const std::string parent = key.reg.substr(0, key.reg.rfind('\\'));
  g.registry += "[" + (exists ? key.reg : parent) + "]\n\n";
  return g;
}

struct Verdict {
  std::string decision, reason;
};

// `demo` prints "  DENY  ..." / "  allow ..." then "          by IMAGE -- REASON (clients...)".
std::vector<Verdict> demo_verdicts(const std::string& text) {
  std::vector<Verdict> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("  DENY  ", 0) == 0 || line.rfind("  allow ", 0) == 0) {
      out.push_back({line.rfind("  DENY", 0) == 0 ? "deny" : "allow", ""});
    } else if (line.rfind("          by ", 0) == 0 && !out.empty()) {
      const std::size_t dash = line.rfind(" -- ");
      std::string reason = line.substr(dash + 4);
      reason = reason.substr(0, reason.find(' '));
      out.back().reason = reason;
    }
  }
  return out;
}

CheckOptions check_options(const json& op, const std::string& policy) {
  CheckOptions o;
  o.policy = policy;
  o.op = op["op"];
  o.key = op["key"];
  o.value = op.value("value", "");
  o.new_name = op.value("new_name", "");
  o.has_new_name = op.contains("new_name");
  o.image = op.value("image", "");
  o.user_sid = op.value("user_sid", "");
  o.pid = op.value("pid", 0u);
  o.key_exists = op.value("key_exists", false);
  o.link = op.value("link", false);
  for (const auto& f : op.value("flags", json::array()))
    o.flags += (o.flags.empty() ? "" : ",") + f.get<std::string>();
  for (const auto& r : op.value("rules", json::array()))
    o.rules += (o.rules.empty() ? "" : ",") + r.get<std::string>();
  if (op.contains("type")) o.type = op["type"];
  if (op.contains("data")) o.data = op["data"].dump();
  o.json = true;
  return o;
}

class OneReader : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = dir_.write("policy.yaml", kPolicy).string();
    dir_.write(
        "saved.reg",
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Saved]\n\"x\"=\"y\"\n");
  }

  test::TempDir dir_{"one-reader"};
  std::string policy_;
};

TEST_F(OneReader, EvalCheckDemoAndRunDecideGeneratedOperationsAlike) {
  std::mt19937 rng(20261125);
  constexpr int kOperations = 240;
  std::vector<Generated> ops;
  for (int i = 0; i < kOperations; ++i) {
    ops.push_back(generate(rng));
    const std::string op = ops.back().op["op"];
    if (op == "restore-key" || op == "replace-key")
      ops.back().op["file"] = (dir_ / "saved.reg").string();
  }
  std::string jsonl;
  for (const Generated& g : ops) jsonl += g.op.dump() + "\n";
  std::ofstream(dir_ / "ops.jsonl") << jsonl;

  std::istringstream eval_in(jsonl);
  std::ostringstream eval_out;
  EXPECT_EQ(run_eval(policy_, eval_in, eval_out), kExitOk) << eval_out.str();
  std::vector<json> evals;
  std::istringstream eval_lines(eval_out.str());
  for (std::string line; std::getline(eval_lines, line);) evals.push_back(json::parse(line));
  ASSERT_EQ(evals.size(), ops.size());

  std::ostringstream demo_out;
  EXPECT_EQ(run_demo(policy_, (dir_ / "ops.jsonl").string(), demo_out), kExitOk) << demo_out.str();
  const std::vector<Verdict> demos = demo_verdicts(demo_out.str());
  ASSERT_EQ(demos.size(), ops.size()) << demo_out.str();

  std::map<std::string, int> reasons;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE("operation " + std::to_string(i + 1) + ": " + ops[i].op.dump());
    const json& e = evals[i];
    ASSERT_FALSE(e.contains("error")) << e.dump();
    ++reasons[e["reason"].get<std::string>()];

    EXPECT_EQ(demos[i].decision, e["decision"]);
    EXPECT_EQ(demos[i].reason, e["reason"]);

    std::ostringstream check_out;
    ASSERT_EQ(run_check(check_options(ops[i].op, policy_), check_out), kExitOk);
    const json c = json::parse(check_out.str());
    EXPECT_EQ(c["decision"], e["decision"]);
    EXPECT_EQ(c["reason"], e["reason"]);
    EXPECT_EQ(c["rules"], e["rules"]);
    EXPECT_EQ(c["clients"], e["clients"]);
    EXPECT_EQ(c["notify"], e["notify"]);

    // `run` applies the operation to a registry that holds its key (or, for a create, not).
    const fs::path reg = dir_ / "start.reg", one = dir_ / "one.jsonl", out = dir_ / "run.out";
    std::ofstream(reg) << ops[i].registry;
    std::ofstream(one) << ops[i].op.dump() << "\n";
    RunOptions ro;
    ro.policy = policy_;
    ro.registry = reg.string();
    ro.ops = one.string();
    std::ostringstream run_out;
    run_run(ro, run_out);
    const json r = json::parse(run_out.str());
    ASSERT_TRUE(r.contains("decision")) << r.dump();
    EXPECT_EQ(r["decision"], e["decision"]) << r.dump();
    EXPECT_EQ(r["reason"], e["reason"]) << r.dump();
    if (r["status"] == "success") {
      EXPECT_EQ(r["notify"], e["notify"]) << r.dump();
    }
  }
  // The generator must reach the interesting outcomes, or the property says little.
  for (const char* reason : {"hardened-key", "tamper-protection", "deny-rule", "exempt", "notify",
                             "no-match", "key-exists", "invalid-name", "subtree-protected"}) {
    EXPECT_GT(reasons[reason], 0) << reason;
  }
}

}  // namespace
}  // namespace hivewarden::cli
