#include "tests/fuzz/graph_generator.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/ir/op_registry.h"
#include "core/ir/shape_inference.h"
#include "core/util/error.h"

namespace dnnf::fuzz {
namespace {

// Operators the generator draws from: every ai.onnx row of the registry except those
// that need a subgraph attribute (their bodies are the importer fuzzer's business).
const std::vector<std::string>& op_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const OpInfo& row : OpRegistry::instance().all()) {
      if (!row.domain.empty() || row.name == "If" || row.name == "Loop" || row.name == "Scan") continue;
      if (out.empty() || out.back() != row.name) out.push_back(row.name);
    }
    return out;
  }();
  return names;
}

const DType kDTypes[] = {DType::F32, DType::F32, DType::F32, DType::I64, DType::I32, DType::F16,
                         DType::Bool, DType::U8, DType::I8, DType::F64, DType::BF16};

// Dims with a bias to the small and the odd: 0, 1, and sizes that do not divide evenly.
int64_t odd_dim(FuzzedDataProvider& in) {
  static const int64_t kDims[] = {1, 1, 2, 3, 4, 0, 5, 7, 8, 16, 1, 3};
  return kDims[in.ConsumeIntegralInRange<size_t>(0, std::size(kDims) - 1)];
}

// Integers for attributes and shape constants: axes, sizes, and the extremes.
int64_t odd_int(FuzzedDataProvider& in) {
  static const int64_t kInts[] = {0, 1, -1, 2, -2, 3, 4, 1, 0, -3, 8, 64, 1000000000,
                                  std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int32_t>::max(), -1000000000};
  if (in.ConsumeBool()) return kInts[in.ConsumeIntegralInRange<size_t>(0, 5)];
  return kInts[in.ConsumeIntegralInRange<size_t>(0, std::size(kInts) - 1)];
}

float odd_float(FuzzedDataProvider& in) {
  static const float kFloats[] = {0.f, 1.f, -1.f, 0.5f, 2.f, 1e-5f, -0.f, 1e30f, 0.1f,
                                  std::numeric_limits<float>::infinity(), std::nanf(""), -1e30f};
  if (in.ConsumeBool()) return kFloats[in.ConsumeIntegralInRange<size_t>(0, 4)];
  return kFloats[in.ConsumeIntegralInRange<size_t>(0, std::size(kFloats) - 1)];
}

std::vector<int64_t> odd_ints(FuzzedDataProvider& in) {
  std::vector<int64_t> v(in.ConsumeIntegralInRange<size_t>(0, 5));
  for (int64_t& x : v) x = odd_int(in);
  return v;
}

Shape odd_shape(FuzzedDataProvider& in) {
  Shape s(in.ConsumeIntegralInRange<size_t>(0, 4));
  for (int64_t& d : s) d = odd_dim(in);
  return s;
}

Tensor odd_tensor(FuzzedDataProvider& in, DType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::F32 || dtype == DType::F64 || dtype == DType::F16 || dtype == DType::BF16)
      t.set_f64(i, in.ConsumeBool() ? double(odd_float(in)) : double(in.ConsumeIntegralInRange<int>(-4, 4)));
    else if (dtype == DType::Bool)
      t.set_f64(i, in.ConsumeBool() ? 1 : 0);
    else
      t.set_f64(i, double(in.ConsumeIntegralInRange<int>(-3, 5)));
  }
  return t;
}

// Attribute names with the kind of value they usually hold; the value is odd anyway.
enum class AttrKind { Int, Ints, Float, String, Tensor };
struct AttrSpec {
  const char* name;
  AttrKind kind;
};
const AttrSpec kAttrs[] = {
    {"axis", AttrKind::Int}, {"axes", AttrKind::Ints}, {"keepdims", AttrKind::Int}, {"perm", AttrKind::Ints},
    {"kernel_shape", AttrKind::Ints}, {"strides", AttrKind::Ints}, {"pads", AttrKind::Ints},
    {"dilations", AttrKind::Ints}, {"group", AttrKind::Int}, {"transA", AttrKind::Int}, {"transB", AttrKind::Int},
    {"alpha", AttrKind::Float}, {"beta", AttrKind::Float}, {"epsilon", AttrKind::Float}, {"to", AttrKind::Int},
    {"mode", AttrKind::String}, {"auto_pad", AttrKind::String}, {"split", AttrKind::Ints},
    {"starts", AttrKind::Ints}, {"ends", AttrKind::Ints}, {"shape", AttrKind::Ints}, {"value", AttrKind::Tensor},
    {"blocksize", AttrKind::Int}, {"batch_dims", AttrKind::Int}, {"ceil_mode", AttrKind::Int},
    {"count_include_pad", AttrKind::Int}, {"allowzero", AttrKind::Int}, {"noop_with_empty_axes", AttrKind::Int},
    {"equation", AttrKind::String}, {"min", AttrKind::Float}, {"max", AttrKind::Float}, {"gamma", AttrKind::Float},
    {"select_last_index", AttrKind::Int}, {"output_padding", AttrKind::Ints}, {"output_shape", AttrKind::Ints},
    {"largest", AttrKind::Int}, {"sorted", AttrKind::Int}, {"exclusive", AttrKind::Int}, {"reverse", AttrKind::Int},
    {"coordinate_transformation_mode", AttrKind::String}, {"reduction", AttrKind::String},
    {"value_float", AttrKind::Float}, {"value_ints", AttrKind::Ints}, {"num_outputs", AttrKind::Int},
    {"stash_type", AttrKind::Int}, {"approximate", AttrKind::String}, {"direction", AttrKind::String},
    {"hidden_size", AttrKind::Int}, {"layout", AttrKind::Int}, {"p", AttrKind::Int}, {"lambd", AttrKind::Float},
};
const char* const kStrings[] = {"constant", "reflect", "edge", "wrap", "nearest", "linear", "cubic", "DCR", "CRD",
                                "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "none", "add", "mul", "max", "min",
                                "ij,jk->ik", "...ii->...i", "i,i", "bij,bjk->bik", "ab->ba", "a", "->", "",
                                "half_pixel", "align_corners", "asymmetric", "tanh", "forward", "reverse",
                                "bidirectional", "LEFT", "RIGHT"};

Attribute odd_attr(FuzzedDataProvider& in, AttrKind kind) {
  switch (kind) {
    case AttrKind::Int: return Attribute::from_int(odd_int(in));
    case AttrKind::Ints: return Attribute::from_ints(odd_ints(in));
    case AttrKind::Float: return Attribute::from_float(odd_float(in));
    case AttrKind::String:
      return Attribute::from_string(kStrings[in.ConsumeIntegralInRange<size_t>(0, std::size(kStrings) - 1)]);
    case AttrKind::Tensor: {
      const DType dt = kDTypes[in.ConsumeIntegralInRange<size_t>(0, std::size(kDTypes) - 1)];
      Shape s = in.ConsumeBool() ? Shape{} : Shape{in.ConsumeIntegralInRange<int64_t>(0, 3)};
      return Attribute::from_tensor(odd_tensor(in, dt, s));
    }
  }
  return Attribute::from_int(0);
}

class Builder {
 public:
  explicit Builder(FuzzedDataProvider& in) : in_(in) {}

  Model build(int max_nodes) {
    Model m;
    Graph& g = m.graph;
    g_ = &g;
    g.name = "fuzz";
    g.opsets[""] = in_.ConsumeIntegralInRange<int64_t>(7, 21);
    const size_t n_inputs = in_.ConsumeIntegralInRange<size_t>(1, 3);
    for (size_t i = 0; i < n_inputs; ++i) {
      const DType dt = pick_dtype();
      std::vector<Dim> dims;
      for (int64_t d : odd_shape(in_)) dims.push_back(in_.ConsumeIntegralInRange(0, 7) == 0 ? Dim::sym("N") : Dim(d));
      const std::string name = "in" + std::to_string(i);
      g.inputs.push_back({name, TensorType(dt, dims)});
      add_value(name, TensorType(dt, dims));
    }
    const auto& ops = op_names();
    for (int k = 0; k < max_nodes && in_.remaining_bytes() > 0; ++k) {
      Node n;
      n.op_type = ops[in_.ConsumeIntegralInRange<size_t>(0, ops.size() - 1)];
      n.name = "n" + std::to_string(k);
      const size_t n_in = in_.ConsumeIntegralInRange<size_t>(0, 4);
      for (size_t i = 0; i < n_in; ++i) n.inputs.push_back(pick_input(g));
      const size_t n_attrs = in_.ConsumeIntegralInRange<size_t>(0, 3);
      for (size_t i = 0; i < n_attrs; ++i) {
        const AttrSpec& a = kAttrs[in_.ConsumeIntegralInRange<size_t>(0, std::size(kAttrs) - 1)];
        n.attrs[a.name] = odd_attr(in_, a.kind);
      }
      const size_t n_out = in_.ConsumeIntegralInRange<size_t>(0, 3) == 0 ? in_.ConsumeIntegralInRange<size_t>(2, 3) : 1;
      for (size_t i = 0; i < n_out; ++i) n.outputs.push_back("v" + std::to_string(k) + "_" + std::to_string(i));
      std::vector<TensorType> outs;
      try {
        outs = infer_node_types(g, n, [&](const std::string& v) { return g.type_of(v); },
                                [&](const std::string& v) -> const Tensor* {
                                  auto it = g.initializers.find(v);
                                  return it == g.initializers.end() ? nullptr : &it->second;
                                });
      } catch (const Error&) {
        continue;  // the shape function refused it: a user's importer would too
      }
      for (size_t i = 0; i < n.outputs.size(); ++i) {
        const TensorType t = i < outs.size() ? outs[i] : TensorType();
        if (t.dtype == DType::Undefined) continue;
        add_value(n.outputs[i], t);
      }
      g.add_node(std::move(n));
    }
    // Outputs: the last values made, sometimes an input or a constant passed straight through.
    const size_t n_outputs = std::min<size_t>(values_.size(), in_.ConsumeIntegralInRange<size_t>(1, 3));
    for (size_t i = 0; i < n_outputs; ++i) {
      const size_t idx = in_.ConsumeBool() ? values_.size() - 1 - i : in_.ConsumeIntegralInRange<size_t>(0, values_.size() - 1);
      const std::string& v = values_[idx];
      bool dup = false;
      for (const ValueInfo& o : g.outputs) dup |= o.name == v;
      if (dup || g.is_constant(v)) continue;
      g.outputs.push_back({v, types_[idx]});
    }
    if (g.outputs.empty()) g.outputs.push_back({g.inputs[0].name, g.inputs[0].type});
    return m;
  }

 private:
  DType pick_dtype() { return kDTypes[in_.ConsumeIntegralInRange<size_t>(0, std::size(kDTypes) - 1)]; }

  void add_value(const std::string& name, const TensorType& t) {
    g_->value_types[name] = t;
    values_.push_back(name);
    types_.push_back(t);
  }

  // An input: an earlier value (reuse, often the latest), a new constant, or omitted.
  std::string pick_input(Graph& g) {
    switch (in_.ConsumeIntegralInRange(0, 9)) {
      case 0: return "";
      case 1: case 2: {
        // Constants: small int64 vectors (shapes, axes, pads) or small tensors.
        const std::string name = "c" + std::to_string(g.initializers.size());
        Tensor t;
        try {
          if (in_.ConsumeBool()) {
            t = Tensor::vector_i64(odd_ints(in_));
            for (int64_t i = 0; i < t.numel(); ++i)
              if (in_.ConsumeBool()) t.set_f64(i, double(in_.ConsumeIntegralInRange<int>(-2, 4)));
          } else {
            t = odd_tensor(in_, pick_dtype(), odd_shape(in_));
          }
        } catch (const Error&) {
          return values_.back();  // over the fuzzers' tensor-elements limit
        }
        add_value(name, TensorType(t.dtype(), t.shape()));
        g.initializers[name] = std::move(t);
        return name;
      }
      case 3: case 4: case 5: return values_.back();
      default: return values_[in_.ConsumeIntegralInRange<size_t>(0, values_.size() - 1)];
    }
  }

  FuzzedDataProvider& in_;
  Graph* g_ = nullptr;
  std::vector<std::string> values_;
  std::vector<TensorType> types_;
};

}  // namespace

Model generate_model(FuzzedDataProvider& in, int max_nodes) { return Builder(in).build(max_nodes); }

}  // namespace dnnf::fuzz
