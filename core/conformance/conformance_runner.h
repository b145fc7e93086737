// Runs ONNX backend test folders (model.onnx + test_data_set_*/{input,output}_N.pb)
// on the reference executor, with an explicit, justified skip list.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/runtime/compare.h"

namespace dnnf {

struct ConformanceCase {
  std::string name;      // test folder name
  std::string path;
  enum class Status { Passed, Failed, Skipped } status = Status::Skipped;
  std::string reason;    // failure message or skip reason
  bool ops_supported = false;  // every operator of the model is in the registry
  std::vector<std::string> ops;
};

struct ConformanceReport {
  std::vector<ConformanceCase> cases;
  size_t passed = 0, failed = 0, skipped = 0;
  size_t supported_total = 0;   // tests whose operators are all supported
  size_t supported_passed = 0;
};

struct ConformanceOptions {
  std::string filter;               // substring of the test name
  Tolerance tolerance{1e-3, 1e-7};  // fp32/fp64/int; fp16 tests use fp16_tolerance
  Tolerance fp16_tolerance{1e-2, 1e-3};
  std::function<void(const ConformanceCase&, size_t, size_t)> on_case;  // after each test
};

// One row of the skip list: tests whose name matches `pattern` (a prefix, or an exact
// name when `exact`) are skipped with `reason`.
struct SkipRule {
  std::string pattern;
  bool exact;
  std::string reason;
  std::string path_contains;  // only tests whose folder path contains this ("" = all)
};
const std::vector<SkipRule>& conformance_skip_list();

ConformanceReport run_conformance(const std::vector<std::string>& dirs, const ConformanceOptions& options);
ConformanceCase run_conformance_case(const std::string& test_dir, const ConformanceOptions& options);

}  // namespace dnnf
