// The built-in default policy (policies/default.yaml, embedded in the binary) decides the places
// it guards as its comments say: denied where a normal machine never needs the change, reported
// elsewhere, and conditions on the data telling the harmful change from the normal one. Runs
// `hivewarden eval` on policies/default.yaml, the file the binary embeds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../support/child_process.hpp"
#include "../support/files.hpp"

namespace {

const std::string kDefaultPolicy = std::string(HIVEWARDEN_SOURCE_DIR) + "/policies/default.yaml";

enum class Want { kDeny, kReport, kSilent };

struct Case {
  const char* what;
  const char* line;  // one eval input line (SPEC §9)
  Want want;
  const char* client = nullptr;  // a client that must be among the matched ones
};

const char* name_of(Want w) {
  return w == Want::kDeny ? "deny" : w == Want::kReport ? "report" : "silent";
}

// An ordinary process: the policy gives reg.exe nothing.
#define REG R"("image":"C:\\Windows\\System32\\reg.exe","pid":4242)"

const std::vector<Case>& cases() {
  static const std::
      vector<Case>
          all =
              {
                  {"Defender turned off through its policy key",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender","value":"DisableAntiSpyware","type":"dword","data":1,)" REG
                   "}",
                   Want::kDeny, "defender-policy"},
                  {"a Defender path exclusion added",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths","value":"C:\\Temp","type":"dword","data":0,)" REG
                   "}",
                   Want::kDeny, "defender-exclusions"},
                  {"WDigest told to keep clear-text passwords",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest","value":"UseLogonCredential","type":"dword","data":1,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"WDigest UseLogonCredential as a string (not DWORD 0)",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\ControlSet002\\Control\\SecurityProviders\\WDigest","value":"UseLogonCredential","type":"sz","data":"1",)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"WDigest UseLogonCredential set back to 0: reported, not denied",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest","value":"UseLogonCredential","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "credential-protection"},
                  {"LSA protection turned off",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"RunAsPPL","type":"dword","data":0,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"LSA protection deleted",
                   R"({"op":"delete-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"RunAsPPL",)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"LSA protection turned on: reported",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"RunAsPPL","type":"dword","data":2,)" REG
                   "}",
                   Want::kReport, "credential-protection"},
                  {"Credential Guard turned off by policy",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceGuard","value":"LsaCfgFlags","type":"dword","data":0,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"Defender's AMSI provider removed",
                   R"({"op":"delete-key","key":"HKLM\\SOFTWARE\\Microsoft\\AMSI\\Providers\\{2781761E-28E0-4109-99FE-B9D127C57AFE}",)" REG
                   "}",
                   Want::kDeny, "defender-amsi"},
                  {"a Run-key value set",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","value":"Updater","type":"sz","data":"C:\\Users\\Public\\u.exe",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"a per-user Winlogon Shell",
                   R"({"op":"set-value","key":"HKU\\S-1-5-21-1-2-3-1000\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon","value":"Shell","type":"sz","data":"evil.exe",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"a per-user COM server (HKCR through _Classes)",
                   R"({"op":"set-value","key":"\\REGISTRY\\USER\\S-1-5-21-1-2-3-1000_Classes\\CLSID\\{018D5C66-4533-4307-9B53-224DE2ED1FE6}\\InprocServer32","value":"","type":"sz","data":"C:\\Users\\x\\evil.dll",)" REG
                   "}",
                   Want::kReport, "com-hijack"},
                  {"a per-user COM server key created (Software\\Classes)",
                   R"({"op":"create-key","key":"HKU\\S-1-5-21-1-2-3-1000\\Software\\Classes\\CLSID\\{AAAAAAAA-0000-0000-0000-000000000000}\\InprocServer32",)" REG
                   "}",
                   Want::kReport, "com-hijack"},
                  {"IFEO Debugger on sethc",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe","value":"Debugger","type":"sz","data":"cmd.exe",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"SilentProcessExit monitor process",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\SilentProcessExit\\notepad.exe","value":"MonitorProcess","type":"sz","data":"C:\\evil.exe",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"a service's DLL",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters","value":"ServiceDll","type":"expand-sz","data":"C:\\rdpwrap.dll",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"a service disabled (Start 4)",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog","value":"Start","type":"dword","data":4,)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"a service set to demand start (Start 3): not reported",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS","value":"Start","type":"dword","data":3,)" REG
                   "}",
                   Want::kSilent},
                  {"a SIP provider's DLL",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Cryptography\\OID\\EncodingType 0\\CryptSIPDllVerifyIndirectData\\{E59B6E68-3312-4738-961F-DB9405B2DDCB}","value":"Dll","type":"sz","data":"C:\\sip.dll",)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"AppInit DLLs switched on",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows","value":"LoadAppInit_DLLs","type":"dword","data":1,)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"AppInit DLLs switched off: not reported",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows","value":"LoadAppInit_DLLs","type":"dword","data":0,)" REG
                   "}",
                   Want::kSilent},
                  {"RDP opened",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server","value":"fDenyTSConnections","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "remote-access"},
                  {"RDP closed: not reported",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server","value":"fDenyTSConnections","type":"dword","data":1,)" REG
                   "}",
                   Want::kSilent},
                  {"UAC bypass through ms-settings (fodhelper)",
                   R"({"op":"set-value","key":"HKU\\S-1-5-21-1-2-3-1000_Classes\\ms-settings\\Shell\\Open\\command","value":"DelegateExecute","type":"sz","data":"",)" REG
                   "}",
                   Want::kReport, "privilege-escalation"},
                  {"UAC turned off",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System","value":"EnableLUA","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"AMSI disabled for scripts",
                   R"({"op":"set-value","key":"HKU\\S-1-5-21-1-2-3-1000\\Software\\Microsoft\\Windows Script\\Settings","value":"AmsiEnable","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"a scheduled task hidden (SD removed)",
                   R"({"op":"delete-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Evil","value":"SD",)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"a SAM F record written by another process than LSASS",
                   R"({"op":"set-value","key":"HKLM\\SAM\\SAM\\Domains\\Account\\Users\\000001F5","value":"F","type":"binary","data":"00",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"the same written by LSASS: not reported",
                   R"({"op":"set-value","key":"HKLM\\SAM\\SAM\\Domains\\Account\\Users\\000001F5","value":"F","type":"binary","data":"00","image":"C:\\Windows\\System32\\lsass.exe","pid":700})",
                   Want::kSilent},
                  {"the Task Scheduler service removing a task's SD: not reported", R"({"op":"delete-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Old","value":"SD","image":"C:\\Windows\\System32\\svchost.exe","pid":1200})",
                   Want::kSilent},
                  {"LSA protection's boot copy turned off",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"RunAsPPLBoot","type":"dword","data":0,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"a 32-bit COM local server",
                   R"({"op":"create-key","key":"HKCR\\WOW6432Node\\CLSID\\{AAAAAAAA-0000-0000-0000-000000000000}\\LocalServer32",)" REG
                   "}",
                   Want::kReport, "com-hijack"},
                  {"PowerShell script-block logging off in the 32-bit policy view",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Wow6432Node\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging","value":"EnableScriptBlockLogging","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"PowerShell script-block logging switch deleted",
                   R"({"op":"delete-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ScriptBlockLogging","value":"EnableScriptBlockLogging",)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
                  {"a 32-bit SilentProcessExit monitor",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows NT\\CurrentVersion\\SilentProcessExit\\notepad.exe","value":"MonitorProcess","type":"sz","data":"C:\\evil.exe",)" REG
                   "}",
                   Want::kReport, "persistence"},
                  {"sdclt's IsolatedCommand (per user)",
                   R"({"op":"set-value","key":"HKU\\S-1-5-21-1-2-3-1000_CLASSES\\exefile\\shell\\runas\\command","value":"IsolatedCommand","type":"sz","data":"cmd.exe",)" REG
                   "}",
                   Want::kReport, "privilege-escalation"},
                  {"Defender's AMSI provider removed from the 32-bit view",
                   R"({"op":"delete-key","key":"HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\AMSI\\Providers\\{2781761e-28e0-4109-99fe-b9d127c57afe}",)" REG
                   "}",
                   Want::kDeny, "defender-amsi"},
                  {"Defender's 32-bit AMSI provider renamed away",
                   R"({"op":"rename-key","key":"HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\AMSI\\Providers\\{2781761E-28E0-4109-99FE-B9D127C57AFE}","new_name":"x",)" REG
                   "}",
                   Want::kDeny, "defender-amsi"},
                  {"a SAM F record written by a binary named lsass.exe elsewhere: still reported",
                   R"({"op":"set-value","key":"HKLM\\SAM\\SAM\\Domains\\Account\\Users\\000001F5","value":"F","type":"binary","data":"00","image":"C:\\Users\\Public\\lsass.exe","pid":4243})",
                   Want::kReport, "persistence"},
                  {"a task's SD removed by a binary named svchost.exe elsewhere: still reported",
                   R"({"op":"delete-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Evil","value":"SD","image":"C:\\ProgramData\\svchost.exe","pid":4244})",
                   Want::kReport, "defense-evasion"},
                  {"a task's Index removed by a look-alike System32 path: still reported",
                   R"({"op":"delete-value","key":"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Evil","value":"Index","image":"C:\\Windows\\System32\\Tasks\\svchost.exe","pid":4245})",
                   Want::kReport, "defense-evasion"},
                  {"LSA protection set to an undocumented number (not 1 or 2)",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"RunAsPPL","type":"dword","data":3,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"Credential Guard policy set to 0xFFFFFFFF",
                   R"({"op":"set-value","key":"HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceGuard","value":"LsaCfgFlags","type":"dword","data":4294967295,)" REG
                   "}",
                   Want::kDeny, "credential-protection"},
                  {"Credential Guard turned on without the UEFI lock: reported",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa","value":"LsaCfgFlags","type":"dword","data":2,)" REG
                   "}",
                   Want::kReport, "credential-protection"},
                  {"the firewall turned off",
                   R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\PublicProfile","value":"EnableFirewall","type":"dword","data":0,)" REG
                   "}",
                   Want::kReport, "defense-evasion"},
              };
  return all;
}

TEST(DefaultPolicy, DecidesTheGuardedPlacesAsItsCommentsSay) {
  const hivewarden::test::TempDir dir("default-policy");
  std::string input;
  for (const Case& c : cases()) input += std::string(c.line) + "\n";
  const std::string in = (dir / "in.jsonl").string();
  hivewarden::test::write_text(in, input);
  const hivewarden::test::ChildRun r = hivewarden::test::run_hivewarden(
      {"eval", "--policy", kDefaultPolicy, "--input", in},
      {.stdout_path = (dir / "out").string(), .stderr_path = (dir / "err").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::string line;
  for (const Case& c : cases()) {
    ASSERT_TRUE(std::getline(out, line)) << "eval wrote fewer lines than the input";
    const nlohmann::json j = nlohmann::json::parse(line);
    const bool denied = j["decision"] == "deny";
    const bool reported = j["notify"] != "none";
    Want got = denied ? Want::kDeny : reported ? Want::kReport : Want::kSilent;
    EXPECT_EQ(name_of(got), std::string(name_of(c.want))) << c.what << ": " << line;
    if (c.client) {
      bool found = false;
      for (const auto& name : j["clients"]) found = found || name == c.client;
      EXPECT_TRUE(found) << c.what << ": no client " << c.client << ": " << line;
    }
  }
}

// Defender's engine keeps its own settings: the deny rules added for LSA and WDigest do not
// bind an exempt process either (allow-all-registry), but they are still reported.
TEST(DefaultPolicy, DefenderItselfIsNotDeniedButReported) {
  const hivewarden::test::TempDir dir("default-policy-av");
  const std::string in = (dir / "in.jsonl").string();
  hivewarden::test::write_text(
      in,
      R"({"op":"set-value","key":"HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\WDigest","value":"UseLogonCredential","type":"dword","data":1,"image":"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.1\\MsMpEng.exe","pid":3000})"
      "\n");
  const hivewarden::test::ChildRun r = hivewarden::test::run_hivewarden(
      {"eval", "--policy", kDefaultPolicy, "--input", in},
      {.stdout_path = (dir / "out").string(), .stderr_path = (dir / "err").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(j["decision"], "allow") << r.out;
  EXPECT_EQ(j["reason"], "exempt") << r.out;
}

}  // namespace
