// ONNX import: ModelProto -> dnnf::Model.
//
// The importer converts the protobuf graph into dnnf's Graph in file order, inlines
// calls of the model's local functions (so the rest of dnnf only sees standard ops),
// converts every attribute kind (subgraphs recursively), resolves external data, and
// finally sorts and validates each graph. Every failure is one dnnf::Error line that
// names the file.
#include "core/onnx_io/onnx_import.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <google/protobuf/unknown_field_set.h>

#include "core/onnx_io/onnx_proto_detail.h"
#include "core/util/error.h"
#include "core/util/limits.h"

namespace fs = std::filesystem;

namespace dnnf::onnx_io {
namespace {

// Newest IR version whose format dnnf was written against; newer files load with a note.
constexpr int64_t kMaxKnownIrVersion = 10;

// Fields newer than Debian's onnx.proto (1.12) arrive as unknown fields.
constexpr int kNodeOverloadField = 8;          // NodeProto.overload (IR 10)
constexpr int kFunctionAttributeProtoField = 11;  // FunctionProto.attribute_proto (IR 9)
constexpr int kFunctionOverloadField = 13;     // FunctionProto.overload (IR 10)

std::string unknown_string(const google::protobuf::UnknownFieldSet& u, int number) {
  for (int i = 0; i < u.field_count(); ++i) {
    const auto& f = u.field(i);
    if (f.number() == number && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      return f.length_delimited();
  }
  return "";
}

std::string norm_domain(const std::string& d) { return d == "ai.onnx" ? std::string() : d; }

std::string function_key(const std::string& domain, const std::string& name,
                         const std::string& overload) {
  return norm_domain(domain) + '\x1f' + name + '\x1f' + overload;
}

struct LocalFunction {
  const onnx::FunctionProto* proto = nullptr;
  std::map<std::string, onnx::AttributeProto> defaults;  // attribute_proto entries
};

// Every value name used anywhere in a graph (recursively), for collision-free renaming.
void collect_names(const onnx::GraphProto& g, std::unordered_set<std::string>& out);

void collect_names(const onnx::NodeProto& n, std::unordered_set<std::string>& out) {
  for (const auto& s : n.input()) out.insert(s);
  for (const auto& s : n.output()) out.insert(s);
  for (const auto& a : n.attribute()) {
    if (a.has_g()) collect_names(a.g(), out);
    for (const auto& g : a.graphs()) collect_names(g, out);
  }
}

void collect_names(const onnx::GraphProto& g, std::unordered_set<std::string>& out) {
  for (const auto& v : g.input()) out.insert(v.name());
  for (const auto& v : g.output()) out.insert(v.name());
  for (const auto& v : g.value_info()) out.insert(v.name());
  for (const auto& t : g.initializer()) out.insert(t.name());
  for (const auto& n : g.node()) collect_names(n, out);
}

// Names defined inside a function body (node outputs; subgraph inputs, initializers
// and node outputs), which get fresh names at each inlined call.
void collect_defined(const onnx::GraphProto& g, std::set<std::string>& out);

void collect_defined(const onnx::NodeProto& n, std::set<std::string>& out) {
  for (const auto& s : n.output())
    if (!s.empty()) out.insert(s);
  for (const auto& a : n.attribute()) {
    if (a.has_g()) collect_defined(a.g(), out);
    for (const auto& g : a.graphs()) collect_defined(g, out);
  }
}

void collect_defined(const onnx::GraphProto& g, std::set<std::string>& out) {
  for (const auto& v : g.input()) out.insert(v.name());
  for (const auto& t : g.initializer()) out.insert(t.name());
  for (const auto& n : g.node()) collect_defined(n, out);
}

using RenameMap = std::unordered_map<std::string, std::string>;

std::string renamed(const RenameMap& m, const std::string& s) {
  auto it = m.find(s);
  return it == m.end() ? s : it->second;
}

void rename_graph(onnx::GraphProto& g, const RenameMap& m);

void rename_node(onnx::NodeProto& n, const RenameMap& m) {
  for (auto& s : *n.mutable_input()) s = renamed(m, s);
  for (auto& s : *n.mutable_output()) s = renamed(m, s);
  for (auto& a : *n.mutable_attribute()) {
    if (a.has_g()) rename_graph(*a.mutable_g(), m);
    for (auto& g : *a.mutable_graphs()) rename_graph(g, m);
  }
}

void rename_graph(onnx::GraphProto& g, const RenameMap& m) {
  for (auto& v : *g.mutable_input()) v.set_name(renamed(m, v.name()));
  for (auto& v : *g.mutable_output()) v.set_name(renamed(m, v.name()));
  for (auto& v : *g.mutable_value_info()) v.set_name(renamed(m, v.name()));
  for (auto& t : *g.mutable_initializer()) t.set_name(renamed(m, t.name()));
  for (auto& n : *g.mutable_node()) rename_node(n, m);
}

// Replaces attribute references (ref_attr_name) by the call's attribute values, or the
// function's defaults; a reference to an attribute the call does not give is dropped.
void bind_attributes(onnx::NodeProto& n, const onnx::NodeProto& call, const LocalFunction& fn) {
  auto* attrs = n.mutable_attribute();
  for (int i = 0; i < attrs->size();) {
    onnx::AttributeProto& a = *attrs->Mutable(i);
    if (!a.ref_attr_name().empty()) {
      const onnx::AttributeProto* src = nullptr;
      for (const auto& ca : call.attribute())
        if (ca.name() == a.ref_attr_name()) src = &ca;
      if (!src) {
        auto it = fn.defaults.find(a.ref_attr_name());
        if (it != fn.defaults.end()) src = &it->second;
      }
      if (!src) {
        attrs->DeleteSubrange(i, 1);
        continue;
      }
      const std::string name = a.name();
      a = *src;
      a.set_name(name);
      a.clear_ref_attr_name();
    }
    if (a.has_g())
      for (auto& sn : *a.mutable_g()->mutable_node()) bind_attributes(sn, call, fn);
    for (auto& g : *a.mutable_graphs())
      for (auto& sn : *g.mutable_node()) bind_attributes(sn, call, fn);
    ++i;
  }
}

const char* non_tensor_kind(const onnx::TypeProto& t) {
  switch (t.value_case()) {
    case onnx::TypeProto::kSequenceType: return "a sequence type";
    case onnx::TypeProto::kMapType: return "a map type";
    case onnx::TypeProto::kOptionalType: return "an optional type";
    case onnx::TypeProto::kSparseTensorType: return "a sparse tensor type";
    case onnx::TypeProto::kOpaqueType: return "an opaque type";
    default: return nullptr;
  }
}

void resolve_redefined_constants(Graph& g);

class Importer {
 public:
  Importer(const ImportOptions& options, std::string base_dir)
      : options_(options), base_dir_(std::move(base_dir)) {}

  Model run(onnx::ModelProto& mp);

 private:
  // `release`, when given, is gp itself: initializer bytes are freed once converted.
  std::shared_ptr<Graph> convert_graph(const onnx::GraphProto& gp, bool is_main,
                                       const std::string& where, int depth,
                                       onnx::GraphProto* release = nullptr);
  void emit_node(const onnx::NodeProto& np, Graph& g, std::unordered_set<std::string>& node_names,
                 int depth);
  void inline_call(const onnx::NodeProto& call, const std::string& call_name,
                   const LocalFunction& fn, Graph& g, std::unordered_set<std::string>& node_names,
                   int depth);
  Attribute convert_attr(const onnx::AttributeProto& ap, const std::string& where, int depth);
  TensorType convert_type(const onnx::TypeProto& tp, const std::string& value);
  std::string unique_value(const std::string& base);

  const ImportOptions& options_;
  std::string base_dir_;
  std::unordered_map<std::string, LocalFunction> functions_;
  std::unordered_set<std::string> used_names_;
  Model* model_ = nullptr;
};

std::string Importer::unique_value(const std::string& base) {
  std::string name = base;
  for (int64_t k = 1; used_names_.count(name); ++k) name = base + "_" + std::to_string(k);
  used_names_.insert(name);
  return name;
}

TensorType Importer::convert_type(const onnx::TypeProto& tp, const std::string& value) {
  if (const char* kind = non_tensor_kind(tp))
    fail("value '", value, "' has ", kind, ", which dnnf does not support");
  if (!tp.has_tensor_type()) return TensorType();
  const auto& tt = tp.tensor_type();
  DType dtype = DType::Undefined;
  if (tt.elem_type() != 0) {
    dtype = dtype_from_onnx(tt.elem_type());
    check(dtype != DType::Undefined, "value '", value, "' has element type ",
          detail::onnx_type_name(tt.elem_type()), ", which dnnf does not support");
  }
  if (!tt.has_shape()) return TensorType::unknown_shape(dtype);
  std::vector<Dim> dims;
  dims.reserve(size_t(tt.shape().dim_size()));
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value() && d.dim_value() >= 0) dims.emplace_back(d.dim_value());
    else if (d.has_dim_param()) dims.push_back(Dim::sym(d.dim_param()));
    else dims.push_back(Dim::sym(""));
  }
  return TensorType(dtype, std::move(dims));
}

Attribute Importer::convert_attr(const onnx::AttributeProto& ap, const std::string& where,
                                 int depth) {
  const std::string what = where + ": attribute '" + ap.name() + "'";
  check(ap.ref_attr_name().empty(), what, " refers to function attribute '", ap.ref_attr_name(),
        "' outside a function");
  auto type = ap.type();
  if (type == onnx::AttributeProto::UNDEFINED) {
    // IR < 3 files may omit the type; infer it from the field that is set.
    if (ap.has_f()) type = onnx::AttributeProto::FLOAT;
    else if (ap.has_i()) type = onnx::AttributeProto::INT;
    else if (ap.has_s()) type = onnx::AttributeProto::STRING;
    else if (ap.has_t()) type = onnx::AttributeProto::TENSOR;
    else if (ap.has_g()) type = onnx::AttributeProto::GRAPH;
    else if (ap.floats_size()) type = onnx::AttributeProto::FLOATS;
    else if (ap.ints_size()) type = onnx::AttributeProto::INTS;
    else if (ap.strings_size()) type = onnx::AttributeProto::STRINGS;
    else if (ap.tensors_size()) type = onnx::AttributeProto::TENSORS;
    else if (ap.graphs_size()) type = onnx::AttributeProto::GRAPHS;
    else fail(what, " has no type and no value");
  }
  Attribute a;
  switch (type) {
    case onnx::AttributeProto::FLOAT: a.kind = Attribute::Kind::Float; a.f = ap.f(); break;
    case onnx::AttributeProto::INT: a.kind = Attribute::Kind::Int; a.i = ap.i(); break;
    case onnx::AttributeProto::STRING: a.kind = Attribute::Kind::String; a.s = ap.s(); break;
    case onnx::AttributeProto::TENSOR:
      a.kind = Attribute::Kind::Tensor;
      a.t = detail::tensor_from_proto(ap.t(), base_dir_, what);
      break;
    case onnx::AttributeProto::SPARSE_TENSOR:
      // Only Constant has a sparse attribute; it becomes the equivalent dense 'value'.
      a.kind = Attribute::Kind::Tensor;
      a.t = detail::tensor_from_sparse_proto(ap.sparse_tensor(), base_dir_, what);
      break;
    case onnx::AttributeProto::GRAPH: {
      a.kind = Attribute::Kind::Graph;
      a.g = convert_graph(ap.g(), false, what, depth + 1);
      break;
    }
    case onnx::AttributeProto::FLOATS:
      a.kind = Attribute::Kind::Floats;
      a.floats.assign(ap.floats().begin(), ap.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      a.kind = Attribute::Kind::Ints;
      a.ints.assign(ap.ints().begin(), ap.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      a.kind = Attribute::Kind::Strings;
      a.strings.assign(ap.strings().begin(), ap.strings().end());
      break;
    case onnx::AttributeProto::TENSORS:
      a.kind = Attribute::Kind::Tensors;
      for (int k = 0; k < ap.tensors_size(); ++k)
        a.tensors.push_back(detail::tensor_from_proto(ap.tensors(k), base_dir_,
                                                      what + " tensor " + std::to_string(k)));
      break;
    case onnx::AttributeProto::GRAPHS:
      a.kind = Attribute::Kind::Graphs;
      for (int k = 0; k < ap.graphs_size(); ++k) {
        a.graphs.push_back(
            convert_graph(ap.graphs(k), false, what + " graph " + std::to_string(k), depth + 1));
      }
      break;
    case onnx::AttributeProto::SPARSE_TENSORS:
      fail(what, " is a list of sparse tensors, which dnnf does not support");
    case onnx::AttributeProto::TYPE_PROTO:
    case onnx::AttributeProto::TYPE_PROTOS:
      fail(what, " is a type attribute, which dnnf does not support");
    default:
      fail(what, " has unknown attribute type ", int(type));
  }
  return a;
}

void Importer::inline_call(const onnx::NodeProto& call, const std::string& call_name,
                           const LocalFunction& fn, Graph& g,
                           std::unordered_set<std::string>& node_names, int depth) {
  const onnx::FunctionProto& f = *fn.proto;
  const std::string what = "node '" + call_name + "' (call of local function '" + f.name() + "')";
  // The function's body sits one level below the caller's graph.
  if (depth + 1 > limits().subgraph_depth)
    limit_exceeded("subgraph-depth",
                   what + ": local function calls nest " + std::to_string(depth + 1) + " levels deep (recursion?)");
  check(call.input_size() <= f.input_size(), what, ": has ", call.input_size(),
        " inputs, the function takes ", f.input_size());
  check(call.output_size() <= f.output_size(), what, ": has ", call.output_size(),
        " outputs, the function returns ", f.output_size());

  RenameMap m;
  for (int i = 0; i < f.input_size(); ++i)
    m[f.input(i)] = i < call.input_size() ? call.input(i) : std::string();
  std::set<std::string> defined;
  for (const auto& n : f.node()) collect_defined(n, defined);
  for (int i = 0; i < f.output_size(); ++i) {
    if (i < call.output_size() && !call.output(i).empty()) {
      m[f.output(i)] = call.output(i);
    } else {
      m[f.output(i)] = unique_value(call_name + "/" + f.output(i));
    }
  }
  for (const std::string& name : defined)
    if (!m.count(name)) m[name] = unique_value(call_name + "/" + name);

  for (int k = 0; k < f.node_size(); ++k) {
    onnx::NodeProto n = f.node(k);
    rename_node(n, m);
    bind_attributes(n, call, fn);
    const std::string inner = n.name().empty() ? n.op_type() + "_" + std::to_string(k) : n.name();
    std::string name = call_name + "/" + inner;
    for (int64_t j = 1; node_names.count(name); ++j) name = call_name + "/" + inner + "_" + std::to_string(j);
    n.set_name(name);
    emit_node(n, g, node_names, depth + 1);
  }
  // Opsets the function body relies on must be known to the graph.
  for (const auto& os : f.opset_import()) {
    const std::string d = norm_domain(os.domain());
    auto it = model_->graph.opsets.find(d);
    if (it == model_->graph.opsets.end()) {
      model_->graph.opsets[d] = os.version();
      g.opsets.emplace(d, os.version());
    } else if (it->second != os.version()) {
      model_->graph.doc["import.function_opset"] =
          "local function '" + f.name() + "' imports opset " + std::to_string(os.version()) +
          " of domain '" + d + "' but the model uses " + std::to_string(it->second) +
          "; its inlined nodes follow the model's opset";
    }
  }
}

void Importer::emit_node(const onnx::NodeProto& np, Graph& g,
                         std::unordered_set<std::string>& node_names, int depth) {
  std::string name = np.name();
  if (name.empty()) {
    const std::string base = np.op_type() + "_" + std::to_string(g.nodes.size());
    name = base;
    for (int64_t k = 1; node_names.count(name); ++k) name = base + "_" + std::to_string(k);
  }
  node_names.insert(name);
  check(!np.op_type().empty(), "node '", name, "' has no op_type");
  const std::string domain = norm_domain(np.domain());

  if (!functions_.empty()) {
    const std::string overload = unknown_string(np.unknown_fields(), kNodeOverloadField);
    auto it = functions_.find(function_key(domain, np.op_type(), overload));
    if (it != functions_.end()) {
      inline_call(np, name, it->second, g, node_names, depth);
      return;
    }
  }

  Node n;
  n.op_type = np.op_type();
  n.domain = domain;
  n.name = name;
  n.inputs.assign(np.input().begin(), np.input().end());
  n.outputs.assign(np.output().begin(), np.output().end());
  const std::string where = np.op_type() + " node '" + name + "'";
  for (const auto& ap : np.attribute()) {
    check(!ap.name().empty(), where, ": has an attribute without a name");
    std::string key = ap.name();
    if (n.op_type == "Constant" && domain.empty() && key == "sparse_value") key = "value";
    check(!n.attrs.count(key), where, ": attribute '", key, "' is given twice");
    n.attrs.emplace(key, convert_attr(ap, where, depth));
  }
  g.add_node(std::move(n));
}

std::shared_ptr<Graph> Importer::convert_graph(const onnx::GraphProto& gp, bool is_main,
                                               const std::string& where, int depth,
                                               onnx::GraphProto* release) {
  if (depth > limits().subgraph_depth)  // the main graph is depth 0
    limit_exceeded("subgraph-depth", where + ": subgraphs nest " + std::to_string(depth) + " levels deep");
  auto g = std::make_shared<Graph>();
  g->name = gp.name();
  if (!is_main) g->opsets = model_->graph.opsets;

  const std::string gwhere = is_main ? std::string("graph") : where + " subgraph";
  for (int i = 0; i < gp.initializer_size(); ++i) {
    const onnx::TensorProto& tp = gp.initializer(i);
    const std::string& name = tp.name();
    check(!name.empty(), gwhere, ": has an initializer without a name");
    check(!g->initializers.count(name), gwhere, ": initializer '", name, "' is defined twice");
    Tensor t = detail::tensor_from_proto(tp, base_dir_, "initializer '" + name + "'");
    // Drop the protobuf copy of the bytes now: large models would otherwise hold both.
    if (release) std::string().swap(*release->mutable_initializer(i)->mutable_raw_data());
    g->value_types[name] = TensorType(t.dtype(), t.shape());
    g->initializers.emplace(name, std::move(t));
  }
  for (const auto& sp : gp.sparse_initializer()) {
    const std::string& name = sp.values().name();
    check(!name.empty(), gwhere, ": has a sparse initializer without a name");
    check(!g->initializers.count(name), gwhere, ": initializer '", name, "' is defined twice");
    Tensor t = detail::tensor_from_sparse_proto(sp, base_dir_, "sparse initializer '" + name + "'");
    g->value_types[name] = TensorType(t.dtype(), t.shape());
    g->initializers.emplace(name, std::move(t));
  }

  std::unordered_set<std::string> seen_inputs;
  for (const auto& vi : gp.input()) {
    check(!vi.name().empty(), gwhere, ": has an input without a name");
    check(seen_inputs.insert(vi.name()).second, gwhere, ": input '", vi.name(), "' is listed twice");
    TensorType type = vi.has_type() ? convert_type(vi.type(), vi.name()) : TensorType();
    if (g->initializers.count(vi.name()) && !options_.initializers_as_inputs) continue;
    if (!g->initializers.count(vi.name()) && type.dtype != DType::Undefined)
      g->value_types[vi.name()] = type;
    g->inputs.push_back({vi.name(), std::move(type)});
  }
  for (const auto& vi : gp.output()) {
    check(!vi.name().empty(), gwhere, ": has an output without a name");
    TensorType type = vi.has_type() ? convert_type(vi.type(), vi.name()) : TensorType();
    if (type.dtype != DType::Undefined && !g->initializers.count(vi.name()))
      g->value_types[vi.name()] = type;
    g->outputs.push_back({vi.name(), std::move(type)});
  }
  // value_info of values no node produces (stale entries some exporters leave) is dropped.
  std::unordered_set<std::string> produced;
  for (const auto& np : gp.node())
    for (const auto& o : np.output()) produced.insert(o);
  for (const auto& vi : gp.value_info()) {
    if (vi.name().empty() || !vi.has_type() || !produced.count(vi.name())) continue;
    TensorType type = convert_type(vi.type(), vi.name());
    if (type.dtype == DType::Undefined || g->initializers.count(vi.name())) continue;
    g->value_types.emplace(vi.name(), std::move(type));
  }

  std::unordered_set<std::string> node_names;
  for (const auto& np : gp.node())
    if (!np.name().empty()) node_names.insert(np.name());
  g->nodes.reserve(size_t(gp.node_size()));
  for (const auto& np : gp.node()) emit_node(np, *g, node_names, depth);
  resolve_redefined_constants(*g);
  return g;
}

// Some exporters' post-processing appends Constant nodes that redefine a value (e.g.
// the shared gpt2_past.onnx redefines 48 head-size constants). onnxruntime turns
// Constants into initializers and keeps the last definition; dnnf does the same by
// renaming the outputs of the earlier Constant nodes (which become dead). A value
// redefined by any other op stays an error (reported by topo_sort).
void resolve_redefined_constants(Graph& g) {
  std::unordered_map<std::string, size_t> last;
  std::vector<size_t> shadowed;  // node indices whose single output is redefined later
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const Node& n = g.nodes[i];
    for (const std::string& o : n.outputs) {
      if (o.empty()) continue;
      auto [it, fresh] = last.emplace(o, i);
      if (!fresh && n.op_type == "Constant" && n.domain.empty() && n.outputs.size() == 1 &&
          g.nodes[it->second].op_type == "Constant" && g.nodes[it->second].domain.empty())
        shadowed.push_back(i);
    }
  }
  if (shadowed.empty()) return;
  std::unordered_set<std::string> used;
  for (const Node& n : g.nodes) {
    for (const std::string& s : n.inputs) used.insert(s);
    for (const std::string& s : n.outputs) used.insert(s);
  }
  for (const ValueInfo& v : g.outputs) used.insert(v.name);
  const std::string example = g.nodes[shadowed.back()].outputs[0];
  for (size_t i : shadowed) {
    std::string& out = g.nodes[i].outputs[0];
    std::string name = out + "__shadowed";
    for (int64_t k = 1; used.count(name); ++k) name = out + "__shadowed_" + std::to_string(k);
    used.insert(name);
    out = name;
  }
  g.doc["import.redefined_constants"] =
      std::to_string(shadowed.size()) + " values are defined by more than one Constant node (e.g. '" +
      example + "'); the last definition is used, as onnxruntime does";
}

// Sorts each subgraph with the names its enclosing graphs define in scope.
void sort_subgraphs(Graph& g, const std::vector<std::string>& outer) {
  bool has_sub = false;
  for (const Node& n : g.nodes)
    for (const auto& [k, a] : n.attrs)
      if (a.g || !a.graphs.empty()) has_sub = true;
  if (!has_sub) return;
  std::vector<std::string> scope = outer;
  for (const ValueInfo& v : g.inputs) scope.push_back(v.name);
  for (const auto& [name, t] : g.initializers) scope.push_back(name);
  for (const Node& n : g.nodes)
    for (const std::string& o : n.outputs)
      if (!o.empty()) scope.push_back(o);
  for (Node& n : g.nodes) {
    for (auto& [k, a] : n.attrs) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sg : subs) {
        if (!sg) continue;
        try {
          sg->topo_sort(scope);
          sg->validate(scope);
        } catch (const Error& e) {
          fail(n.label(), ": attribute '", k, "': ", e.what());
        }
        sort_subgraphs(*sg, scope);
      }
    }
  }
}

Model Importer::run(onnx::ModelProto& mp) {
  Model model;
  model_ = &model;
  model.ir_version = mp.ir_version();
  check(mp.has_graph(), "the file has no graph (not an ONNX model?)");
  check(mp.ir_version() >= 3, "IR version ", mp.ir_version(),
        " is not supported (dnnf reads IR version 3 and newer)");
  if (mp.ir_version() > kMaxKnownIrVersion) {
    model.graph.doc["import.ir_version"] =
        "IR version " + std::to_string(mp.ir_version()) + " is newer than " +
        std::to_string(kMaxKnownIrVersion) + ", the newest dnnf knows; fields it does not know are ignored";
  }
  model.producer_name = mp.producer_name();
  model.producer_version = mp.producer_version();
  model.domain = mp.domain();
  model.model_version = mp.model_version();
  for (const auto& kv : mp.metadata_props()) model.metadata[kv.key()] = kv.value();
  for (const auto& os : mp.opset_import()) {
    const std::string d = norm_domain(os.domain());
    check(!model.graph.opsets.count(d), "opset of domain '", d, "' is imported twice");
    model.graph.opsets[d] = os.version();
  }
  if (mp.training_info_size() > 0)
    model.graph.doc["import.training_info"] = "training information is ignored";

  for (const auto& f : mp.functions()) {
    LocalFunction lf;
    lf.proto = &f;
    const auto& u = f.unknown_fields();
    for (int i = 0; i < u.field_count(); ++i) {
      const auto& uf = u.field(i);
      if (uf.number() != kFunctionAttributeProtoField ||
          uf.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
        continue;
      onnx::AttributeProto ap;
      const std::string& bytes = uf.length_delimited();
      check(detail::parse_message(bytes.data(), bytes.size(), &ap), "local function '", f.name(),
            "': cannot parse a default attribute");
      lf.defaults[ap.name()] = ap;
    }
    const std::string key =
        function_key(f.domain(), f.name(), unknown_string(u, kFunctionOverloadField));
    check(!functions_.count(key), "local function '", f.name(), "' of domain '", f.domain(),
          "' is defined twice");
    functions_.emplace(key, std::move(lf));
  }
  if (!functions_.empty()) {
    collect_names(mp.graph(), used_names_);
    for (const auto& f : mp.functions()) {
      for (const auto& s : f.input()) used_names_.insert(s);
      for (const auto& s : f.output()) used_names_.insert(s);
    }
  }

  auto g = convert_graph(mp.graph(), true, "graph", 0, mp.mutable_graph());
  g->opsets = model.graph.opsets;
  for (auto& [k, v] : model.graph.doc) g->doc.emplace(k, v);
  model.graph = std::move(*g);
  model_ = nullptr;

  bool uses_default = false;
  for (const Node& n : model.graph.nodes)
    if (n.domain.empty()) uses_default = true;
  check(!uses_default || model.graph.opsets.count(""),
        "the model uses ai.onnx operators but imports no ai.onnx opset");

  model.graph.topo_sort();
  model.graph.validate();
  sort_subgraphs(model.graph, {});
  return model;
}

int64_t effective_limit(const ImportOptions& options) {
  return options.max_file_bytes > 0 ? options.max_file_bytes : limits().model_file;
}

void check_size(size_t size, const std::string& name, const ImportOptions& options) {
  check(size > 0, "cannot parse '", name, "' as an ONNX model (the file is empty)");
  const int64_t limit = effective_limit(options);
  if (int64_t(size) > limit)
    limit_exceeded("model-file", "cannot load '" + name + "': the model is " + std::to_string(size) + " bytes", limit);
  check(size < size_t(INT32_MAX), "cannot load '", name, "': the model is ", size,
        " bytes, over protobuf's 2 GiB limit for one message (store the weights as external data)");
}

void parse_proto(const std::string& bytes, const std::string& name, onnx::ModelProto& mp) {
  if (!detail::parse_message(bytes.data(), bytes.size(), &mp))
    fail("cannot parse '", name, "' as an ONNX model (truncated or corrupt protobuf)");
}

// Converts a parsed model; errors are prefixed with the file name.
Model convert_model(onnx::ModelProto& mp, const std::string& base_dir, const std::string& name,
                    const ImportOptions& options) {
  try {
    Importer importer(options, base_dir);
    Model model = importer.run(mp);
    model.source_path = name;
    return model;
  } catch (const Error& e) {
    fail("cannot load '", name, "': ", e.what());
  }
}

}  // namespace

Model parse_model(const std::string& bytes, const std::string& base_dir,
                  const std::string& name_for_errors, const ImportOptions& options) {
  check_size(bytes.size(), name_for_errors, options);
  onnx::ModelProto mp;
  parse_proto(bytes, name_for_errors, mp);
  return convert_model(mp, base_dir, name_for_errors, options);
}

Model load_model(const std::string& path, const ImportOptions& options) {
  onnx::ModelProto mp;
  {
    // Map the file (no copy of its bytes); fall back to reading it (pipes, odd files).
    detail::MappedFile file(path, effective_limit(options), "model-file");
    check_size(file.size(), path, options);
    if (!detail::parse_message(file.data(), file.size(), &mp))
      fail("cannot parse '", path, "' as an ONNX model (truncated or corrupt protobuf)");
  }  // the file is unmapped before conversion
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return convert_model(mp, dir, path, options);
}

}  // namespace dnnf::onnx_io
