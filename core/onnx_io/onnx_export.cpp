// ONNX export: dnnf::Model -> ModelProto. Initializers are written as raw_data,
// subgraphs recursively, value types with symbolic dims as dim_param.
#include "core/onnx_io/onnx_export.h"

#include <algorithm>
#include <climits>
#include <set>

#include "core/onnx_io/onnx_proto_detail.h"
#include "core/util/error.h"

namespace dnnf::onnx_io {
namespace {

// Oldest IR version that may carry a given ai.onnx opset (ONNX release table).
int64_t ir_for_opset(int64_t opset) {
  if (opset <= 8) return 3;
  if (opset == 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  if (opset == 23) return 11;
  if (opset == 24) return 12;
  return 13;
}

void type_to_proto(const TensorType& t, onnx::TypeProto* out) {
  auto* tt = out->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(t.dtype));
  if (!t.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : t.dims) {
    auto* dim = shape->add_dim();
    if (d.known()) dim->set_dim_value(d.value);
    else if (!d.symbol.empty()) dim->set_dim_param(d.symbol);
  }
}

// Type of a graph input/output: its own if it has one, else the graph's value type.
const TensorType* best_type(const Graph& g, const ValueInfo& v) {
  if (v.type.dtype != DType::Undefined) return &v.type;
  auto it = g.value_types.find(v.name);
  if (it != g.value_types.end() && it->second.dtype != DType::Undefined) return &it->second;
  return nullptr;
}

void value_info_to_proto(const std::string& name, const TensorType* t, onnx::ValueInfoProto* out) {
  out->set_name(name);
  if (t && t->dtype != DType::Undefined) type_to_proto(*t, out->mutable_type());
}

void graph_to_proto(const Graph& g, const std::string& default_name, onnx::GraphProto* out);

void attr_to_proto(const std::string& name, const Attribute& a, const std::string& where,
                   onnx::AttributeProto* out) {
  out->set_name(name);
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::Float:
      out->set_type(onnx::AttributeProto::FLOAT);
      out->set_f(a.f);
      break;
    case K::Int:
      out->set_type(onnx::AttributeProto::INT);
      out->set_i(a.i);
      break;
    case K::String:
      out->set_type(onnx::AttributeProto::STRING);
      out->set_s(a.s);
      break;
    case K::Tensor:
      out->set_type(onnx::AttributeProto::TENSOR);
      detail::tensor_to_proto(a.t, "", out->mutable_t());
      break;
    case K::Graph:
      out->set_type(onnx::AttributeProto::GRAPH);
      check(a.g != nullptr, where, ": attribute '", name, "' has no graph");
      graph_to_proto(*a.g, where + "_" + name, out->mutable_g());
      break;
    case K::Floats:
      out->set_type(onnx::AttributeProto::FLOATS);
      for (float v : a.floats) out->add_floats(v);
      break;
    case K::Ints:
      out->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : a.ints) out->add_ints(v);
      break;
    case K::Strings:
      out->set_type(onnx::AttributeProto::STRINGS);
      for (const std::string& v : a.strings) out->add_strings(v);
      break;
    case K::Tensors:
      out->set_type(onnx::AttributeProto::TENSORS);
      for (const Tensor& t : a.tensors) detail::tensor_to_proto(t, "", out->add_tensors());
      break;
    case K::Graphs:
      out->set_type(onnx::AttributeProto::GRAPHS);
      for (size_t k = 0; k < a.graphs.size(); ++k) {
        check(a.graphs[k] != nullptr, where, ": attribute '", name, "' has an empty graph");
        graph_to_proto(*a.graphs[k], where + "_" + name + "_" + std::to_string(k), out->add_graphs());
      }
      break;
  }
}

void graph_to_proto(const Graph& g, const std::string& default_name, onnx::GraphProto* out) {
  out->set_name(g.name.empty() ? default_name : g.name);
  std::set<std::string> listed;  // names that need no value_info entry
  for (const auto& [name, t] : g.initializers) {
    detail::tensor_to_proto(t, name, out->add_initializer());
    listed.insert(name);
  }
  for (const ValueInfo& v : g.inputs) {
    value_info_to_proto(v.name, best_type(g, v), out->add_input());
    listed.insert(v.name);
  }
  for (const ValueInfo& v : g.outputs) {
    value_info_to_proto(v.name, best_type(g, v), out->add_output());
    listed.insert(v.name);
  }
  std::set<std::string> produced;
  for (const Node& n : g.nodes) {
    detail::node_to_proto(n, out->add_node());
    for (const std::string& s : n.outputs)
      if (!s.empty()) produced.insert(s);
  }
  for (const auto& [name, t] : g.value_types) {
    if (listed.count(name) || !produced.count(name) || t.dtype == DType::Undefined) continue;
    value_info_to_proto(name, &t, out->add_value_info());
  }
}

}  // namespace

namespace detail {

void node_to_proto(const Node& n, onnx::NodeProto* out) {
  for (const std::string& s : n.inputs) out->add_input(s);
  for (const std::string& s : n.outputs) out->add_output(s);
  if (!n.name.empty()) out->set_name(n.name);
  out->set_op_type(n.op_type);
  if (!n.domain.empty()) out->set_domain(n.domain);
  const std::string where = n.name.empty() ? n.op_type + "_" + std::to_string(n.id) : n.name;
  for (const auto& [k, a] : n.attrs) attr_to_proto(k, a, where, out->add_attribute());
}

void model_to_proto(const Model& model, onnx::ModelProto* out) {
  onnx::ModelProto& mp = *out;
  int64_t ir = std::max<int64_t>(model.ir_version, 7);
  for (const auto& [domain, version] : model.graph.opsets) {
    auto* os = mp.add_opset_import();
    os->set_domain(domain);
    os->set_version(version);
    if (domain.empty() || domain == "ai.onnx") ir = std::max(ir, ir_for_opset(version));
  }
  mp.set_ir_version(ir);
  mp.set_producer_name(model.producer_name.empty() ? "dnnf" : model.producer_name);
  if (!model.producer_version.empty()) mp.set_producer_version(model.producer_version);
  if (!model.domain.empty()) mp.set_domain(model.domain);
  if (model.model_version != 0) mp.set_model_version(model.model_version);
  for (const auto& [k, v] : model.metadata) {
    auto* kv = mp.add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  graph_to_proto(model.graph, "main_graph", mp.mutable_graph());
}

std::string serialize_model_proto(const onnx::ModelProto& mp) {
  const size_t size = mp.ByteSizeLong();
  check(size < size_t(INT_MAX), "cannot export the model: it is ", size,
        " bytes, over protobuf's 2 GiB limit for one message");
  std::string bytes;
  check(mp.SerializeToString(&bytes), "cannot serialize the model to ONNX");
  return bytes;
}

}  // namespace detail

std::string serialize_model(const Model& model) {
  onnx::ModelProto mp;
  detail::model_to_proto(model, &mp);
  return detail::serialize_model_proto(mp);
}

void save_model(const Model& model, const std::string& path) {
  detail::write_file_atomic(path, serialize_model(model));
}

}  // namespace dnnf::onnx_io
