// `hivewarden import-sysmon`: Sysmon configurations -> a policy that reports the registry events
// Sysmon would log with them (docs/SYSMON-IMPORT.md).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/sysmon/sysmon_import.hpp"
#include "hivewarden/util/output_file.hpp"

namespace hivewarden::cli {
namespace {

// The files named, a directory standing for the .xml files below it (sorted: a stable policy).
bool config_files(const std::vector<std::string>& inputs, std::vector<std::string>& files) {
  namespace fs = std::filesystem;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::recursive_directory_iterator(input, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".xml")
          found.push_back(entry.path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(input, ec)) {
      files.push_back(input);
    } else {
      std::cerr << "error: " << input << ": no such file or directory\n";
      return false;
    }
  }
  return true;
}

bool compiles(const std::string& yaml, const std::string& name,
              std::vector<policy::PolicyProblem>& problems) {
  policy::PolicySource source;
  policy::Blob blob;
  return policy::parse_policy_yaml(yaml, name, source, problems) &&
         policy::compile_policy(source, blob, problems);
}

// The generated policy must compile: anything else is a bug in the importer.
bool check_generated(const std::string& yaml, const std::string& output) {
  std::vector<policy::PolicyProblem> problems;
  if (compiles(yaml, output, problems)) return true;
  for (const auto& p : problems) std::cerr << "error: generated policy: " << p.to_string() << "\n";
  return false;
}

}  // namespace

int run_import_sysmon(const std::vector<std::string>& inputs, const std::string& output,
                      bool quiet) {
  std::vector<std::string> files;
  if (!config_files(inputs, files)) return kExitInputError;
  sysmon::Config config;
  std::vector<sysmon::Problem> problems;
  for (const std::string& f : files) sysmon::read_config_file(f, config, problems);
  if (!problems.empty()) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  sysmon::PolicyImport import;
  if (!sysmon::build_policy(config, import, problems)) {
    for (const auto& p : problems) std::cerr << "error: " << p.to_string() << "\n";
    return kExitInputError;
  }
  if (!quiet) {
    for (const std::string& n : config.notes) std::cerr << "skipped: " << n << "\n";
    for (const std::string& n : import.notes) std::cerr << "partial: " << n << "\n";
  }
  if (!check_generated(import.yaml, output)) return kExitInputError;
  std::string error;
  if (!util::write_output_file(output, import.yaml, error)) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  std::cerr << "import-sysmon: " << files.size() << " files, " << config.include.size()
            << " include and " << config.exclude.size() << " exclude rules: "
            << (import.whole() ? "imported whole"
                               : "in part (" + std::to_string(import.notes.size()) + " notes)")
            << "; " << import.entries << " entries written to " << output << "\n";
  return kExitOk;
}

Subcommand register_import_sysmon(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    std::string output;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "import-sysmon",
      "Turn Sysmon configurations (their RegistryEvent include/exclude rules) into a policy that "
      "reports the registry events Sysmon would log");
  cmd->add_option("configs", o->inputs,
                  "Sysmon configuration XML files or directories (searched for .xml); several "
                  "are merged as one configuration")
      ->required();
  cmd->add_option("-o,--output", o->output, "Policy YAML to write")->required();
  cmd->add_flag("-q,--quiet", o->quiet, "Do not list what could not be expressed exactly");
  cmd->footer(
      "Example:\n  hivewarden import-sysmon sysmonconfig.xml -o sysmon.yaml\n"
      "  hivewarden replay --policy sysmon.yaml Microsoft-Windows-Sysmon%4Operational.evtx\n"
      "Each include rule becomes entries with `when`/`unless` conditions (SPEC §10); exclude "
      "rules join every entry's `unless`. The entries only report (notify bits), never deny.");
  return {cmd, [o] { return run_import_sysmon(o->inputs, o->output, o->quiet); }};
}

}  // namespace hivewarden::cli
