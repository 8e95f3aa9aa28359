#include "workload.hpp"

#include <random>

#include <nlohmann/json.hpp>

namespace hivewarden::bench {

std::vector<std::string> eval_lines(std::size_t count, unsigned seed) {
  static const char* const kQuiet[] = {
      "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs",
      "HKU\\S-1-5-21-1004336348-1177238915-682003330-1001\\Software\\Microsoft\\Office\\16.0\\Common\\Roaming",
      "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management\\PrefetchParameters",
      "HKCR\\CLSID\\{20D04FE0-3AEA-1069-A2D8-08002B30309D}\\DefaultIcon",
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Classes\\.txt\\OpenWithProgids",
  };
  static const char* const kWatched[] = {
      "HKLM\\SOFTWARE\\Microsoft\\Windows Defender",
      "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
      "HKLM\\SYSTEM\\CurrentControlSet\\Services\\WinDefend",
      "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Real-Time Protection",
  };
  static const char* const kOps[] = {"set-value", "create-key", "delete-value", "delete-key"};
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const bool watched = rng() % 10 == 0;
    const std::string op = kOps[rng() % 4];
    nlohmann::json j;
    j["op"] = op;
    j["key"] = watched ? kWatched[rng() % 4] : kQuiet[rng() % 5];
    if (op == "set-value" || op == "delete-value") j["value"] = watched ? "DisableAntiSpyware" : "Setting" + std::to_string(rng() % 50);
    if (op == "create-key") j["key_exists"] = rng() % 2 == 0;
    j["image"] = "C:\\Windows\\System32\\svchost.exe";
    j["pid"] = 1000 + rng() % 100;
    j["thread"] = rng() % 8;
    out.push_back(j.dump());
  }
  return out;
}

}  // namespace hivewarden::bench
