// Fused ONNX export. Each fused block becomes a FunctionProto whose body is the block's
// operators with canonical value names (inputs x0.., outputs y0.., intermediates t0..,
// numbered in order of first use); the main graph calls it with the real value names.
//
// Identical blocks share one function. Canonical names make "identical" a byte
// comparison of the serialized body (operators, attributes, wiring and opsets), so no
// structural matcher is needed and sharing can never merge blocks that differ in any
// attribute. Node names are left out of bodies for that reason; each call node names
// its block ("block_<id>") and lists the fused operators in its doc_string instead.
#include "core/export/onnx_fused_export.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/codegen/content_hash.h"
#include "core/onnx_io/onnx_proto_detail.h"
#include "core/rewrite/driver.h"
#include "core/util/error.h"

namespace dnnf::exporter {
namespace {

using fusion::FusedBlock;

constexpr int64_t kFunctionDomainVersion = 1;
constexpr int64_t kMinIrWithLocalFunctions = 8;  // ModelProto.functions came with IR 8
constexpr size_t kOpsInFunctionName = 4;
constexpr const char* kDnnfDomain = "dnnf";  // the composites the rewriter creates

// A block written as a function: the outer names its call passes and receives, and the
// canonical body (function name not yet set).
struct BlockFunction {
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  onnx::FunctionProto body;
  std::string doc;  // the fused operators, for the call's doc_string
};

bool has_subgraph(const Node& n) {
  for (const auto& [k, a] : n.attrs)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

std::string sanitized(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// "block_7_Conv_Add_Relu", or "block_9_MatMul_Add_Reshape_Transpose_and_5_more".
std::string function_name(const FusedBlock& b, const Graph& g) {
  std::string name = "block_" + std::to_string(b.id);
  for (size_t i = 0; i < b.nodes.size() && i < kOpsInFunctionName; ++i)
    name += "_" + sanitized(g.find_node(b.nodes[i])->op_type);
  if (b.nodes.size() > kOpsInFunctionName)
    name += "_and_" + std::to_string(b.nodes.size() - kOpsInFunctionName) + "_more";
  return name;
}

// Sorted copies, for comparing the plan's (sorted) lists with the body's (use order).
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

BlockFunction make_block_function(const Graph& g, const FusedBlock& b, const std::string& domain) {
  BlockFunction f;
  std::vector<const Node*> nodes;
  std::set<std::string> produced_inside;
  for (NodeId id : b.nodes) {
    const Node* n = g.find_node(id);
    check(n != nullptr, "cannot export fused block ", b.id, ": the graph has no node #", id,
          " (the plan belongs to another graph?)");
    nodes.push_back(n);
    for (const std::string& o : n->outputs)
      if (!o.empty()) produced_inside.insert(o);
  }
  const std::set<std::string> block_outputs(b.outputs.begin(), b.outputs.end());

  std::unordered_map<std::string, std::string> canonical;
  for (const Node* n : nodes)
    for (const std::string& in : n->inputs)
      if (!in.empty() && !produced_inside.count(in) && !canonical.count(in)) {
        canonical[in] = "x" + std::to_string(f.inputs.size());
        f.inputs.push_back(in);
      }
  size_t internal = 0;
  for (const Node* n : nodes)
    for (const std::string& o : n->outputs) {
      if (o.empty()) continue;
      if (block_outputs.count(o)) {
        canonical[o] = "y" + std::to_string(f.outputs.size());
        f.outputs.push_back(o);
      } else {
        canonical[o] = "t" + std::to_string(internal++);
      }
    }
  check(sorted(f.inputs) == b.inputs && sorted(f.outputs) == b.outputs, "cannot export fused block ", b.id,
        ": its inputs or outputs differ from the fusion plan's (the plan belongs to another graph?)");

  onnx::FunctionProto& fp = f.body;
  fp.set_domain(domain);
  for (const std::string& in : f.inputs) fp.add_input(canonical.at(in));
  for (const std::string& out : f.outputs) fp.add_output(canonical.at(out));
  std::set<std::string> domains;
  std::string ops;
  for (const Node* n : nodes) {
    onnx::NodeProto* np = fp.add_node();
    onnx_io::detail::node_to_proto(*n, np);
    np->clear_name();
    for (auto& s : *np->mutable_input())
      if (!s.empty()) s = canonical.at(s);
    for (auto& s : *np->mutable_output())
      if (!s.empty()) s = canonical.at(s);
    domains.insert(n->domain == "ai.onnx" ? std::string() : n->domain);
    ops += (ops.empty() ? "" : ", ") + n->op_type;
    f.doc += (f.doc.empty() ? "fuses " : ", ") + n->label();
  }
  // The body imports the model's versions of the domains it uses: the checker rejects
  // a function whose opsets disagree with the model's.
  for (const std::string& d : domains) {
    const int64_t version = g.opset(d);
    check(version > 0, "cannot export fused block ", b.id, ": the model imports no opset of domain '", d, "'");
    auto* os = fp.add_opset_import();
    os->set_domain(d);
    os->set_version(version);
  }
  fp.set_doc_string("dnnf fused block: " + ops);
  return f;
}

// Fused blocks the export writes as function calls: more than one operator, none with a
// subgraph (whose outer-scope names the canonical renaming would have to follow).
bool written_as_call(const Graph& g, const FusedBlock& b) {
  if (b.nodes.size() < 2) return false;
  for (NodeId id : b.nodes) {
    const Node* n = g.find_node(id);
    check(n != nullptr, "cannot export fused block ", b.id, ": the graph has no node #", id,
          " (the plan belongs to another graph?)");
    if (has_subgraph(*n)) return false;
  }
  return true;
}

std::string unique_node_name(const std::string& base, std::set<std::string>& used) {
  std::string name = base;
  for (int64_t k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
  used.insert(name);
  return name;
}

// The journal summary readers of the file see (keys sorted by Model::metadata).
void add_summary_metadata(const Graph& graph, const PipelineResult& result, const FusedExportOptions& options,
                          const FusedExportStats& stats, std::map<std::string, std::string>& md) {
  int64_t rewrite_steps = 0;
  for (const JournalStep& s : result.journal.steps)
    if (s.stage == "rewrite" && s.accepted) ++rewrite_steps;
  md["dnnf.version"] = DNNF_VERSION;
  if (!options.source_name.empty())
    md["dnnf.source_model"] = std::filesystem::path(options.source_name).filename().string();
  if (!options.source_hash.empty()) md["dnnf.source_hash"] = options.source_hash;
  md["dnnf.rewrites"] = nlohmann::json(result.summary.rewrites).dump();
  md["dnnf.rewrite_steps"] = std::to_string(rewrite_steps);
  md["dnnf.nodes_before"] = std::to_string(result.summary.nodes_before);
  md["dnnf.nodes_after_rewrite"] = std::to_string(result.summary.nodes_after);
  md["dnnf.fusion_target"] = result.plan.target;
  md["dnnf.fused_layers"] = std::to_string(result.plan.fused_layers());
  md["dnnf.fused_calls"] = std::to_string(stats.calls);
  md["dnnf.fused_functions"] = std::to_string(stats.functions);
  md["dnnf.graph_nodes"] = std::to_string(stats.graph_nodes);
  std::set<std::string> own_ops;
  for (const Node& n : graph.nodes)
    if (n.domain == kDnnfDomain) own_ops.insert(n.op_type);
  if (!own_ops.empty()) {
    std::string list;
    for (const std::string& op : own_ops) list += (list.empty() ? "" : ",") + op;
    md["dnnf.dnnf_domain_ops"] = list;
  }
}

}  // namespace

std::string serialize_fused_model(const Model& model, const PipelineResult& result, const FusedExportOptions& options,
                                  FusedExportStats* stats_out) {
  const Graph& g = model.graph;
  check(!options.function_domain.empty(), "cannot export: the fused-function domain is empty");
  for (const Node& n : g.nodes)
    check(n.domain != options.function_domain, "cannot export: ", n.label(), " already uses the fused-function domain '",
          options.function_domain, "'");

  // Which blocks become calls, keyed by their first node (where the call is placed
  // before sorting).
  std::map<NodeId, const FusedBlock*> call_at;
  std::set<NodeId> inside_call;
  for (const FusedBlock& b : result.plan.blocks) {
    if (!written_as_call(g, b)) continue;
    call_at[b.nodes.front()] = &b;
    inside_call.insert(b.nodes.begin(), b.nodes.end());
  }

  Model out;
  out.ir_version = std::max(model.ir_version, kMinIrWithLocalFunctions);
  out.producer_name = "dnnf";
  out.producer_version = DNNF_VERSION;
  out.domain = model.domain;
  out.model_version = model.model_version;
  out.metadata = model.metadata;
  out.graph.name = g.name;
  out.graph.inputs = g.inputs;
  out.graph.outputs = g.outputs;
  out.graph.initializers = g.initializers;  // tensors share their bytes: no copy
  out.graph.value_types = g.value_types;
  out.graph.opsets = g.opsets;

  std::set<std::string> node_names;
  for (const Node& n : g.nodes)
    if (!n.name.empty()) node_names.insert(n.name);

  FusedExportStats stats;
  std::vector<onnx::FunctionProto> functions;
  std::map<std::string, size_t> function_of_body;  // serialized canonical body -> index
  std::map<std::string, std::string> call_docs;    // call node name -> doc_string
  for (const Node& n : g.nodes) {
    if (!inside_call.count(n.id)) {
      out.graph.add_node(n);
      continue;
    }
    auto it = call_at.find(n.id);
    if (it == call_at.end()) continue;  // a later node of a block already called
    const FusedBlock& b = *it->second;
    BlockFunction f = make_block_function(g, b, options.function_domain);
    const std::string key = f.body.SerializeAsString();
    auto [slot, fresh] = function_of_body.emplace(key, functions.size());
    if (fresh) {
      f.body.set_name(function_name(b, g));
      functions.push_back(std::move(f.body));
    }
    Node call;
    call.op_type = functions[slot->second].name();
    call.domain = options.function_domain;
    call.name = unique_node_name("block_" + std::to_string(b.id), node_names);
    call.inputs = f.inputs;
    call.outputs = f.outputs;
    call_docs[call.name] = f.doc;
    out.graph.add_node(std::move(call));
    ++stats.calls;
  }
  // A re-imported export keeps the domain's opset although its calls were inlined.
  out.graph.opsets.erase(options.function_domain);
  if (!functions.empty()) out.graph.opsets[options.function_domain] = kFunctionDomainVersion;
  // A call sits where its block's first operator was; an input produced by a node
  // between the block's operators needs it later. The stable sort moves only those.
  out.graph.topo_sort();
  stats.functions = functions.size();
  stats.graph_nodes = out.graph.nodes.size();
  add_summary_metadata(g, result, options, stats, out.metadata);

  onnx::ModelProto mp;
  onnx_io::detail::model_to_proto(out, &mp);
  for (auto& np : *mp.mutable_graph()->mutable_node()) {
    auto doc = call_docs.find(np.name());
    if (doc != call_docs.end() && np.domain() == options.function_domain) np.set_doc_string(doc->second);
  }
  for (auto& fp : functions) *mp.add_functions() = std::move(fp);
  std::string bytes = onnx_io::detail::serialize_model_proto(mp);
  stats.bytes = bytes.size();
  if (stats_out) *stats_out = stats;
  return bytes;
}

FusedExportStats save_fused_model(const Model& model, const PipelineResult& result, const std::string& path,
                                  const FusedExportOptions& options) {
  FusedExportStats stats;
  const std::string bytes = serialize_fused_model(model, result, options, &stats);
  onnx_io::detail::write_file_atomic(path, bytes);
  return stats;
}

std::vector<std::string> rules_creating_dnnf_ops() {
  std::vector<std::string> names;
  for (const auto& rule : rewrite::all_rules())
    if (rule->family() == "composite") names.push_back(rule->name());
  return names;
}

std::string hash_model_file(const std::string& path) {
  const onnx_io::detail::MappedFile file(path, 0, "");
  codegen::ContentHash h;
  h.add(std::string_view(file.data(), file.size()));
  return h.hex();
}

}  // namespace dnnf::exporter
