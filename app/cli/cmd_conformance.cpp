// dnnf conformance DIR...: ONNX backend tests on the reference executor.
// The last line printed is "N passed, N failed, N skipped".
#include <cstdio>
#include <map>

#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/conformance/conformance_runner.h"

namespace dnnf::cli {

int cmd_conformance(const CommandArgs& argv) {
  Args args(argv, {"--filter", "--json"}, {"--quiet"});
  if (args.positional().empty()) throw UsageError("expected at least one DIR");
  ConformanceOptions options;
  options.filter = args.value_or("--filter", "");
  const bool quiet = args.flag("--quiet");
  options.on_case = [&](const ConformanceCase& c, size_t, size_t) {
    if (c.status == ConformanceCase::Status::Failed)
      std::printf("FAIL %s: %s\n", c.name.c_str(), c.reason.c_str());
    else if (!quiet && c.status == ConformanceCase::Status::Passed)
      std::printf("ok   %s\n", c.name.c_str());
    std::fflush(stdout);
  };
  const ConformanceReport report = run_conformance(args.positional(), options);

  // The skip list, grouped by reason so every skip is visibly justified.
  std::map<std::string, std::vector<std::string>> skipped_by_reason;
  for (const ConformanceCase& c : report.cases)
    if (c.status == ConformanceCase::Status::Skipped) skipped_by_reason[c.reason].push_back(c.name);
  std::printf("\nskipped tests, by reason:\n");
  for (const auto& [reason, names] : skipped_by_reason) {
    std::printf("  %s (%zu):", reason.c_str(), names.size());
    for (const auto& n : names) std::printf(" %s", n.c_str());
    std::printf("\n");
  }
  const double rate = report.supported_total ? 100.0 * double(report.supported_passed) / double(report.supported_total) : 0.0;
  std::printf("tests whose operators are all supported: %zu of %zu passed (%.1f%%)\n",
              report.supported_passed, report.supported_total, rate);

  if (auto out = args.value("--json")) {
    nlohmann::json cases = nlohmann::json::array();
    for (const ConformanceCase& c : report.cases) {
      const char* st = c.status == ConformanceCase::Status::Passed   ? "passed"
                       : c.status == ConformanceCase::Status::Failed ? "failed"
                                                                     : "skipped";
      cases.push_back({{"name", c.name}, {"status", st}, {"reason", c.reason}, {"ops", c.ops},
                       {"ops_supported", c.ops_supported}});
    }
    write_json({{"passed", report.passed}, {"failed", report.failed}, {"skipped", report.skipped},
                {"supported_total", report.supported_total}, {"supported_passed", report.supported_passed},
                {"supported_pass_rate", rate}, {"cases", cases}},
               *out);
  }
  std::printf("%zu passed, %zu failed, %zu skipped\n", report.passed, report.failed, report.skipped);
  return report.failed == 0 ? 0 : 1;
}

}  // namespace dnnf::cli
