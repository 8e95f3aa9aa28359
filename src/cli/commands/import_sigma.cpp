// `hivewarden import-sigma`: Sigma registry rules -> a policy that reports what they detect.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "hivewarden/cli/commands.hpp"
#include "hivewarden/policy/compile.hpp"
#include "hivewarden/sigma/sigma_import.hpp"
#include "hivewarden/util/output_file.hpp"

namespace hivewarden::cli {

int run_import_sigma(const std::vector<std::string>& inputs, const std::string& output,
                     const std::string& report_path, bool quiet) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(input, ec)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yml" || ext == ".yaml"))
          files.push_back(entry.path().string());
      }
    } else if (fs::exists(input, ec)) {
      files.push_back(input);
    } else {
      std::cerr << "error: " << input << ": no such file or directory\n";
      return kExitInputError;
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<sigma::RuleImport> rules;
  std::size_t counts[3] = {0, 0, 0};
  for (const std::string& f : files) {
    rules.push_back(sigma::import_rule_file(f));
    const sigma::RuleImport& r = rules.back();
    ++counts[static_cast<int>(r.status)];
    if (!quiet || r.status != sigma::ImportStatus::kWhole) {
      std::cerr << sigma::status_name(r.status) << ": " << f << " (" << r.entries.size()
                << " entries)\n";
      for (const std::string& n : r.notes) std::cerr << "    not expressed: " << n << "\n";
    }
  }
  const std::string yaml = sigma::render_policy(rules);
  // The generated policy must compile: anything else is a bug in the importer, not in the rules.
  policy::PolicySource source;
  policy::Blob blob;
  std::vector<policy::PolicyProblem> problems;
  if (!policy::parse_policy_yaml(yaml, output, source, problems) ||
      !policy::compile_policy(source, blob, problems)) {
    for (const auto& p : problems)
      std::cerr << "error: generated policy: " << p.to_string() << "\n";
    return kExitInputError;
  }
  std::string error;
  if (!util::write_output_file(output, yaml, error)) {
    std::cerr << "error: " << error << "\n";
    return kExitInputError;
  }
  if (!report_path.empty()) {
    nlohmann::ordered_json report = nlohmann::ordered_json::array();
    for (const auto& r : rules) {
      report.push_back({{"file", r.file},
                        {"title", r.title},
                        {"id", r.id},
                        {"category", r.category},
                        {"status", sigma::status_name(r.status)},
                        {"entries", r.entries.size()},
                        {"notes", r.notes}});
    }
    if (!util::write_output_file(
            report_path,
            report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", error)) {
      std::cerr << "error: " << error << "\n";
      return kExitInputError;
    }
  }
  const std::size_t total = files.size();
  std::cerr << "import-sigma: " << total << " rules: " << counts[0] << " whole, " << counts[1]
            << " partial, " << counts[2] << " not imported; " << source.monitored.size()
            << " entries written to " << output << "\n";
  return kExitOk;
}

Subcommand register_import_sigma(CLI::App& app) {
  struct Options {
    std::vector<std::string> inputs;
    std::string output, report;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "import-sigma", "Turn Sigma registry rules into a policy that reports what they detect");
  cmd->add_option("rules", o->inputs, "Sigma rule files or directories (searched for .yml)")
      ->required();
  cmd->add_option("-o,--output", o->output, "Policy YAML to write")->required();
  cmd->add_option("--report", o->report,
                  "Also write a JSON report: each rule's status and what was not expressed");
  cmd->add_flag("-q,--quiet", o->quiet, "List only the rules not imported whole");
  return {cmd, [o] { return run_import_sigma(o->inputs, o->output, o->report, o->quiet); }};
}

}  // namespace hivewarden::cli
