// What each fuzz target does with one input, shared by the libFuzzer targets
// (fuzz_*.cpp) and the regression test that replays every committed finding in the
// normal build (tests/unit/test_fuzz_regressions.cpp). Each returns whether the input
// was accepted; a dnnf::Error is the expected way to refuse one. A broken invariant (a
// round trip that changes data, an invalid graph after a pass) calls fuzz_violation,
// which aborts, as does any other exception or crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "core/fusion/fusion_db.h"
#include "core/fusion/planner.h"
#include "core/ir/shape_inference.h"
#include "core/journal/journal.h"
#include "core/onnx_io/onnx_import.h"
#include "core/onnx_io/tensor_io.h"
#include "core/pipeline/pipeline.h"
#include "core/rewrite/driver.h"
#include "core/util/error.h"

namespace dnnf::fuzz {

[[noreturn]] inline void fuzz_violation(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::abort();
}

// ONNX importer on raw bytes; external data resolves against `dir`.
inline bool import_model_bytes(const std::string& bytes, const std::string& dir, Model* out = nullptr) {
  try {
    Model m = onnx_io::parse_model(bytes, dir, "fuzz.onnx");
    if (out) *out = std::move(m);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Shape inference on an imported graph: symbolic dims kept, then bound to 1 (as the CLI).
inline bool infer_imported(const std::string& bytes) {
  Model m;
  if (!import_model_bytes(bytes, "", &m)) return false;
  Graph bound = m.graph;
  try {
    infer_shapes(m.graph);
  } catch (const Error&) {
  }
  try {
    InferOptions options;
    for (const ValueInfo& in : bound.inputs)
      for (const Dim& d : in.type.dims)
        if (!d.known()) options.bind_dims[d.symbol] = 1;
    infer_shapes(bound, options);
  } catch (const Error&) {
  }
  return true;
}

// The rewrite driver and the fusion planner (`dnnf optimize`, analytic estimates, no
// database) on a graph; what they accept must stay valid, each node in at most one block.
inline bool optimize_graph(Model& m) {
  try {
    infer_shapes(m.graph);
  } catch (const Error&) {
    return false;
  }
  PipelineOptions options;
  options.use_db = false;
  options.measure = false;
  options.rewrite_options.max_sweeps = 20;
  PipelineResult r;
  try {
    r = run_pipeline(m, options);
  } catch (const Error&) {
    return false;
  }
  try {
    m.graph.validate();
  } catch (const Error& e) {
    fuzz_violation(std::string("the pipeline left an invalid graph: ") + e.what());
  }
  std::set<NodeId> covered;
  for (const auto& block : r.plan.blocks)
    for (NodeId id : block.nodes)
      if (!covered.insert(id).second) fuzz_violation("node #" + std::to_string(id) + " is in two fused blocks");
  return true;
}

// x -> Relu -> Add(c) -> Mul(c) -> Transpose -> Transpose -> y (node ids 0..4): the
// graph fuzzed journals are replayed on.
inline Graph journal_target_graph() {
  Graph g;
  g.name = "journal_target";
  g.opsets[""] = 17;
  g.inputs.push_back({"x", TensorType(DType::F32, Shape{1, 3, 4})});
  g.initializers["c"] = Tensor::scalar_f32(2.0f);
  auto add = [&](const char* op, std::vector<std::string> in, const char* out) {
    Node n;
    n.op_type = op;
    n.name = out;
    n.inputs = std::move(in);
    n.outputs = {out};
    if (std::string(op) == "Transpose") n.attrs["perm"] = Attribute::from_ints({0, 2, 1});
    g.add_node(std::move(n));
  };
  add("Relu", {"x"}, "r");
  add("Add", {"r", "c"}, "a");
  add("Mul", {"a", "c"}, "m");
  add("Transpose", {"m"}, "t1");
  add("Transpose", {"t1"}, "y");
  g.outputs.push_back({"y", TensorType(DType::F32, Shape{1, 3, 4})});
  infer_shapes(g);
  return g;
}

// The journal reader (a file, with its size limit), a JSON round trip of what it read,
// then replaying its rewrite steps and rebuilding a fusion plan from it.
inline bool load_journal_file(const std::string& path, const Graph& target) {
  Journal j;
  try {
    j = Journal::load(path);
  } catch (const Error&) {
    return false;
  }
  const nlohmann::json once = j.to_json();
  try {
    if (Journal::from_json(once).to_json() != once) fuzz_violation("journal JSON round trip changed it");
  } catch (const Error& e) {
    fuzz_violation(std::string("a loaded journal's own JSON does not load: ") + e.what());
  }
  try {
    Graph g = target;
    rewrite::replay_rewrites(g, j);
    (void)fusion::plan_from_journal(g, j, "cpu");
  } catch (const Error&) {
  }
  return true;
}

// The fusion database on a file: open, look up, count, integrity check; then the file
// and SQLite's side files are removed.
inline bool open_fusion_db(const std::string& path) {
  bool ok = true;
  try {
    fusion::FusionDatabase db(path);
    (void)db.lookup("Relu|f32[1,3,4]");
    (void)db.lookup("");
    (void)db.stats();
    (void)db.integrity_check();
  } catch (const Error&) {
    ok = false;
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
  return ok;
}

inline bool same_tensor_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

// .npy reader; what it reads must come back unchanged through write_npy + read_npy.
inline bool read_npy_file(const std::string& path, const std::string& scratch) {
  Tensor t;
  try {
    t = onnx_io::read_npy(path);
  } catch (const Error&) {
    return false;
  }
  onnx_io::write_npy(t, scratch);
  if (!same_tensor_bytes(t, onnx_io::read_npy(scratch))) fuzz_violation(".npy round trip changed the tensor");
  return true;
}

// .pb (TensorProto) reader; numeric tensors must survive write_tensor_pb + read.
inline bool read_pb_file(const std::string& path, const std::string& scratch) {
  Tensor t;
  std::string name;
  try {
    t = onnx_io::read_tensor_pb(path, &name);
  } catch (const Error&) {
    return false;
  }
  if (t.dtype() == DType::String) return true;  // strings live apart from raw()
  onnx_io::write_tensor_pb(t, name, scratch);
  if (!same_tensor_bytes(t, onnx_io::read_tensor_pb(scratch))) fuzz_violation(".pb round trip changed the tensor");
  return true;
}

}  // namespace dnnf::fuzz
