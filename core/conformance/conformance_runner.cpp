#include "core/conformance/conformance_runner.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/onnx_io/tensor_io.h"
#include "core/runtime/reference_executor.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace dnnf {

namespace {

void collect_ops(const Graph& g, std::set<std::string>& ops) {
  for (const Node& n : g.nodes) {
    ops.insert((n.domain.empty() || n.domain == "ai.onnx" ? "" : n.domain + ".") + n.op_type);
    for (const auto& [k, a] : n.attrs) {
      if (a.g) collect_ops(*a.g, ops);
      for (const auto& sg : a.graphs) if (sg) collect_ops(*sg, ops);
    }
  }
}

bool all_supported(const Graph& g, std::string* missing) {
  const OpRegistry& registry = OpRegistry::instance();
  for (const Node& n : g.nodes) {
    const std::string d = n.domain == "ai.onnx" ? "" : n.domain;
    int64_t opset = g.opset(d);
    if (!registry.find(d, n.op_type, opset == 0 ? 21 : opset)) {
      *missing = (d.empty() ? "" : d + ".") + n.op_type;
      return false;
    }
    for (const auto& [k, a] : n.attrs) {
      if (a.g && !all_supported(*a.g, missing)) return false;
      for (const auto& sg : a.graphs) if (sg && !all_supported(*sg, missing)) return false;
    }
  }
  return true;
}

// Reads input_N.pb / output_N.pb files of a data set in index order.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> files;
  for (int i = 0;; ++i) {
    fs::path p = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    files.push_back(p);
  }
  return files;
}

const SkipRule* find_skip(const std::string& name, const std::string& path) {
  for (const SkipRule& r : conformance_skip_list()) {
    if (!r.path_contains.empty() && path.find(r.path_contains) == std::string::npos) continue;
    if (r.exact ? name == r.pattern : name.rfind(r.pattern, 0) == 0) return &r;
  }
  return nullptr;
}

}  // namespace

ConformanceCase run_conformance_case(const std::string& test_dir, const ConformanceOptions& options) {
  ConformanceCase c;
  c.path = test_dir;
  c.name = fs::path(test_dir).filename().string();
  const fs::path model_path = fs::path(test_dir) / "model.onnx";
  Model model;
  try {
    model = onnx_io::load_model(model_path.string());
  } catch (const Error& e) {
    c.status = ConformanceCase::Status::Skipped;
    c.reason = std::string("cannot import: ") + e.what();
    std::string w = e.what();
    // Sequence/optional/map-typed models are outside the tensor IR; anything else
    // the importer refuses is a failure of dnnf.
    if (w.find("sequence") == std::string::npos && w.find("optional") == std::string::npos &&
        w.find("map type") == std::string::npos) {
      c.status = ConformanceCase::Status::Failed;
      c.reason = e.what();
    }
    return c;
  }
  std::set<std::string> ops;
  collect_ops(model.graph, ops);
  c.ops.assign(ops.begin(), ops.end());
  std::string missing;
  c.ops_supported = all_supported(model.graph, &missing);
  if (!c.ops_supported) {
    c.status = ConformanceCase::Status::Skipped;
    c.reason = "operator " + missing + " is not supported";
    return c;
  }
  if (const SkipRule* rule = find_skip(c.name, c.path)) {
    c.status = ConformanceCase::Status::Skipped;
    c.reason = rule->reason;
    return c;
  }
  try {
    infer_shapes(model.graph);
    ReferenceExecutor executor(model.graph);
    bool any_set = false;
    for (const auto& entry : fs::directory_iterator(test_dir)) {
      if (!entry.is_directory() || entry.path().filename().string().rfind("test_data_set_", 0) != 0)
        continue;
      any_set = true;
      const auto in_files = numbered_files(entry.path(), "input");
      const auto out_files = numbered_files(entry.path(), "output");
      TensorMap inputs;
      // Inputs bind by name when the file names one, else by position; optional
      // graph inputs without a file are left out.
      for (size_t i = 0; i < in_files.size(); ++i) {
        std::string name;
        Tensor t = onnx_io::read_tensor_pb(in_files[i].string(), &name);
        if (name.empty() || !model.graph.is_graph_input(name)) {
          check(i < model.graph.inputs.size(), "test has more inputs than the model");
          name = model.graph.inputs[i].name;
        }
        // ONNX 1.12's test data stores bfloat16 tensors tagged as uint16.
        const TensorType* want = model.graph.type_of(name);
        if (want && want->dtype == DType::BF16 && t.dtype() == DType::U16) t = t.bitcast(DType::BF16);
        inputs[name] = t;
      }
      // Graph inputs with no data are optional inputs given as "" in ONNX tests.
      Graph& g = model.graph;
      g.inputs.erase(std::remove_if(g.inputs.begin(), g.inputs.end(),
                                    [&](const ValueInfo& v) { return !inputs.count(v.name); }),
                     g.inputs.end());
      TensorMap outputs = executor.run(inputs);
      check(out_files.size() == g.outputs.size(), "test has ", out_files.size(),
            " expected outputs, the model ", g.outputs.size());
      for (size_t i = 0; i < out_files.size(); ++i) {
        Tensor expected = onnx_io::read_tensor_pb(out_files[i].string());
        const Tensor& actual = outputs.at(g.outputs[i].name);
        if (actual.dtype() == DType::BF16 && expected.dtype() == DType::U16) expected = expected.bitcast(DType::BF16);
        const bool half = expected.dtype() == DType::F16 || expected.dtype() == DType::BF16;
        CompareResult r = compare_tensors(actual, expected, half ? options.fp16_tolerance : options.tolerance);
        if (!r.ok) fail("output '", g.outputs[i].name, "': ", r.message);
      }
    }
    check(any_set, "no test_data_set_* folder");
    c.status = ConformanceCase::Status::Passed;
  } catch (const Error& e) {
    c.status = ConformanceCase::Status::Failed;
    c.reason = e.what();
    const std::string w = e.what();
    if (w.find("sequence") != std::string::npos || w.find("SequenceProto") != std::string::npos) {
      c.status = ConformanceCase::Status::Skipped;
      c.reason = std::string("sequence-typed test data: ") + w;
    }
  } catch (const std::exception& e) {
    c.status = ConformanceCase::Status::Failed;
    c.reason = std::string("internal error: ") + e.what();
  }
  return c;
}

ConformanceReport run_conformance(const std::vector<std::string>& dirs, const ConformanceOptions& options) {
  std::vector<std::string> tests;
  for (const std::string& d : dirs) {
    check(fs::is_directory(d), "conformance folder '", d, "' does not exist");
    if (fs::exists(fs::path(d) / "model.onnx")) {
      tests.push_back(d);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(d))
      if (entry.is_directory() && fs::exists(entry.path() / "model.onnx")) found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    tests.insert(tests.end(), found.begin(), found.end());
  }
  ConformanceReport report;
  for (const std::string& t : tests) {
    if (!options.filter.empty() && fs::path(t).filename().string().find(options.filter) == std::string::npos)
      continue;
    ConformanceCase c = run_conformance_case(t, options);
    switch (c.status) {
      case ConformanceCase::Status::Passed: ++report.passed; break;
      case ConformanceCase::Status::Failed: ++report.failed; break;
      case ConformanceCase::Status::Skipped: ++report.skipped; break;
    }
    if (c.ops_supported) {
      ++report.supported_total;
      if (c.status == ConformanceCase::Status::Passed) ++report.supported_passed;
    }
    report.cases.push_back(std::move(c));
    if (options.on_case) options.on_case(report.cases.back(), report.cases.size(), tests.size());
  }
  return report;
}

}  // namespace dnnf
