#include "core/peers/peer_emulator.h"

#include <algorithm>
#include <set>

#include "core/fusion/fusion_plan.h"
#include "core/ir/op_registry.h"
#include "core/rewrite/driver.h"

namespace dnnf::peers {

namespace {

bool op_in_class(const Graph& g, const Node& n, const std::string& cls) {
  const OpInfo* info = OpRegistry::instance().find_any(n.domain, n.op_type);
  if (!info) return false;
  const MappingType m = OpRegistry::instance().mapping_of(n, g.types_of(n.inputs), g.types_of(n.outputs));
  // DNNFusion calls a broadcasting binary op One-to-Many; TVM's kBroadcast fuses like kElemWise.
  const bool elementwise = m == MappingType::OneToOne ||
                           (m == MappingType::OneToMany && (info->family == "elementwise" || info->family == "activation"));
  if (cls == "@elementwise") return elementwise;
  if (cls == "@injective") return elementwise || m == MappingType::Reorganize || m == MappingType::Shuffle;
  return false;
}

int64_t rank_of(const Graph& g, const std::string& value) {
  const TensorType* t = value.empty() ? nullptr : g.type_of(value);
  return t && t->has_shape ? t->rank() : -1;
}

// Spatial dims (all after N, C) of a 4-D/5-D value: -1 unknown, 0 all ones, 1 some > 1.
int spatial_extent(const Graph& g, const std::string& value) {
  const TensorType* t = g.type_of(value);
  if (!t || !t->has_shape || t->rank() < 4) return -1;
  for (int64_t i = 2; i < t->rank(); ++i) {
    if (!t->dims[size_t(i)].known()) return -1;
    if (t->dims[size_t(i)].value > 1) return 1;
  }
  return 0;
}

// Kernel depth of a 5-D Conv's weight (1 when unknown or not 5-D).
int64_t kernel_depth(const Graph& g, const Node& n) {
  const TensorType* w = n.inputs.size() > 1 ? g.type_of(n.inputs[1]) : nullptr;
  return w && w->has_shape && w->rank() == 5 && w->dims[2].known() ? w->dims[2].value : 1;
}

bool any_nonzero(const std::vector<int64_t>& v) {
  for (int64_t x : v)
    if (x != 0) return true;
  return false;
}

// TF pads SAME as total = max((ceil(in/s) - 1) * s + (k - 1) * d + 1 - in, 0), the odd
// one after; VALID is no pad. ONNX pads equal to either need no explicit PAD.
bool pads_same_or_valid(const Graph& g, const Node& n) {
  const std::vector<int64_t> pads = n.attr_ints("pads");
  if (!any_nonzero(pads)) return true;
  const TensorType* x = n.inputs.empty() ? nullptr : g.type_of(n.inputs[0]);
  std::vector<int64_t> k = n.attr_ints("kernel_shape");
  if (k.empty() && n.inputs.size() > 1) {  // Conv without kernel_shape: the weight's spatial dims
    const TensorType* w = g.type_of(n.inputs[1]);
    if (w && w->is_static())
      for (int64_t i = 2; i < w->rank(); ++i) k.push_back(w->dims[size_t(i)].value);
  }
  const size_t d = k.size();
  if (!x || !x->is_static() || size_t(x->rank()) != d + 2 || pads.size() != 2 * d) return false;
  const std::vector<int64_t> strides = n.attr_ints("strides", std::vector<int64_t>(d, 1));
  const std::vector<int64_t> dil = n.attr_ints("dilations", std::vector<int64_t>(d, 1));
  for (size_t i = 0; i < d; ++i) {
    const int64_t in = x->dims[i + 2].value, s = strides[i], out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>((out - 1) * s + (k[i] - 1) * dil[i] + 1 - in, 0);
    if (pads[i] != total / 2 || pads[i + d] != total - total / 2) return false;
  }
  return true;
}

}  // namespace

bool when_holds(const Graph& g, const Node& n, When when) {
  const std::string in0 = n.inputs.empty() ? "" : n.inputs[0];
  switch (when) {
    case When::Always: return true;
    case When::Volumetric: return rank_of(g, in0) == 5;
    case When::VolumetricComputed: return rank_of(g, in0) == 5 && !g.is_graph_input(in0);
    case When::Planar: return rank_of(g, in0) >= 0 && rank_of(g, in0) <= 4;
    case When::OneConvKernel:
      return rank_of(g, in0) >= 0 && (rank_of(g, in0) <= 4 || (rank_of(g, in0) == 5 && kernel_depth(g, n) == 1));
    case When::DeepKernel: return rank_of(g, in0) == 5 && kernel_depth(g, n) > 1;
    case When::ReadsConv: {
      const int64_t p = g.producer_index(in0);
      return p >= 0 && g.nodes[size_t(p)].op_type == "Conv";
    }
    case When::VolumetricWithBias:
      return rank_of(g, in0) == 5 && n.inputs.size() > 2 && !n.inputs[2].empty();
    case When::PadsNotSame: return !pads_same_or_valid(g, n);
    case When::Padded: return any_nonzero(n.attr_ints("pads"));
    case When::FullyConnected: {
      if (n.inputs.size() < 2 || !g.is_constant(n.inputs[1]) || rank_of(g, n.inputs[1]) != 2) return false;
      return n.op_type == "MatMul" || (n.op_type == "Gemm" && n.attr_int("transA", 0) == 0);
    }
    case When::FullyConnectedOnFlatten: {
      if (!when_holds(g, n, When::FullyConnected)) return false;
      const int64_t p = g.producer_index(in0);
      // A Flatten, or a Reshape that flattens a 4-D map to 2-D (older exports).
      if (p < 0) return false;
      const Node& flat = g.nodes[size_t(p)];
      return flat.op_type == "Flatten" ||
             (flat.op_type == "Reshape" && rank_of(g, flat.inputs[0]) == 4 && rank_of(g, in0) == 2);
    }
    case When::ReadsGraphInput: return g.is_graph_input(in0) && rank_of(g, in0) == 4;
    case When::ReadsConcat: {
      const int64_t p = g.producer_index(in0);
      return p >= 0 && g.nodes[size_t(p)].op_type == "Concat";
    }
    case When::WritesGraphOutput: return !n.outputs.empty() && g.is_graph_output(n.outputs[0]);
    case When::FlattenSpatial: return spatial_extent(g, in0) == 1;
    case When::FlattenUnitSpatial: return spatial_extent(g, in0) == 0;
    case When::DynamicIndices: return n.inputs.size() > 1 && !g.is_constant(n.inputs[1]);
    case When::ScalarConstantIndex:
      return n.inputs.size() > 1 && !g.is_constant(in0) && g.is_constant(n.inputs[1]) &&
             rank_of(g, n.inputs[1]) == 0;
    case When::CastNoOp: {
      const TensorType* t = in0.empty() ? nullptr : g.type_of(in0);
      if (!t || n.op_type != "Cast") return false;
      const DType to = dtype_from_onnx(int(n.attr_int("to", 0)));
      const auto is_index = [](DType d) { return d == DType::I32 || d == DType::I64; };
      // MNN's Cast to bool targets DT_INT32 while comparisons yield DT_BOOL: never a no-op.
      if (to == DType::Bool) return false;
      return t->dtype == to || (is_index(t->dtype) && is_index(to));
    }
    case When::ToChannelsLast:
      return rank_of(g, in0) == 4 && n.attr_ints("perm") == std::vector<int64_t>{0, 2, 3, 1};
  }
  return false;
}

namespace {

bool step_accepts(const Graph& g, const Node& n, const ChainStep& step, const std::string& chain_value) {
  if (!when_holds(g, n, step.when)) return false;
  bool op_ok = false;
  for (const std::string& o : step.ops) {
    if (o.empty()) continue;
    if (o[0] == '@' ? op_in_class(g, n, o) : n.op_type == o) {
      op_ok = true;
      break;
    }
  }
  if (!op_ok) return false;
  if (step.operand == Operand::Constant) {
    // Inside a chain the other operands must be constants. A chain's first step has no
    // chain value yet: one input is its data, every other one a constant (ORT's BiasGelu
    // anchors at Add(x, bias)).
    int64_t data_inputs = chain_value.empty() ? 1 : 0;
    for (const std::string& in : n.inputs)
      if (!in.empty() && in != chain_value && !g.is_constant(in) && --data_inputs < 0) return false;
  }
  return true;
}

// The single consumer of a node's only output, if the output is read once and is not a
// graph output (a fused intermediate is never written back to memory).
int64_t sole_consumer(const Graph& g, const Node& n) {
  size_t produced = 0;
  for (const std::string& o : n.outputs) produced += o.empty() ? 0 : 1;
  if (produced != 1 || n.outputs[0].empty() || g.is_graph_output(n.outputs[0])) return -1;
  const std::vector<size_t> users = g.consumer_indices(n.outputs[0]);
  if (users.size() != 1) return -1;
  // A node reading the value twice (x * x) is still one consumer.
  return int64_t(users[0]);
}

// Tries a chain rule anchored at node `start`; returns the claimed node indices.
// Greedy: a repeating step keeps matching unless the next step accepts the node;
// optional steps are skipped when they do not match.
std::vector<size_t> match_at(const Graph& g, size_t start, const PeerRule& rule, const std::vector<bool>& taken) {
  const std::vector<ChainStep>& steps = rule.steps;
  if (steps.empty() || !step_accepts(g, g.nodes[start], steps[0], "")) return {};
  std::vector<size_t> claimed = {start};
  size_t si = 0;  // the step that matched last
  while (true) {
    const int64_t next = sole_consumer(g, g.nodes[claimed.back()]);
    if (next < 0 || taken[size_t(next)]) break;
    const Node& cand = g.nodes[size_t(next)];
    const std::string value = g.nodes[claimed.back()].outputs[0];
    bool advanced = false;
    for (size_t j = si + 1; j < steps.size(); ++j) {
      if (step_accepts(g, cand, steps[j], value)) {
        si = j;
        advanced = true;
        break;
      }
      if (!steps[j].optional) break;
    }
    if (!advanced && !(steps[si].repeat && step_accepts(g, cand, steps[si], value))) break;
    claimed.push_back(size_t(next));
  }
  for (size_t j = si + 1; j < steps.size(); ++j)
    if (!steps[j].optional) return {};
  if (claimed.size() < 2) return {};
  return claimed;
}

}  // namespace

Emulation match_chains(const Graph& g, const PeerTable& table) {
  Emulation e;
  std::set<std::string> dropped;
  for (const PeerRule& r : table.rules)
    if (r.kind == RuleKind::Drop) dropped.insert(r.drop_ops.begin(), r.drop_ops.end());
  std::vector<bool> taken(g.nodes.size(), false);
  // Computed once at load (constants and operators of constants only): never a kernel.
  const std::vector<bool> load_time = fusion::load_time_nodes(g);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (load_time[i]) taken[i] = true;
  // Expand rows first: a node the peer absorbs takes part in no chain; one it expands
  // still anchors or joins a chain and adds the extra kernels of every row that matches.
  std::set<std::pair<std::string, std::string>> shared_inputs;  // (row, value) counted once
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (taken[i]) continue;
    const Node& n = g.nodes[i];
    for (const PeerRule& r : table.rules) {
      if (r.kind != RuleKind::Expand) continue;
      if (std::find(r.drop_ops.begin(), r.drop_ops.end(), n.op_type) == r.drop_ops.end()) continue;
      if (!when_holds(g, n, r.when)) continue;
      e.rule_hits[r.name]++;
      if (r.extra < 0) {
        taken[i] = true;
        e.expanded -= 1;
        break;
      }
      int64_t add = r.extra;
      if (r.extra_per_depth) add += r.extra_per_depth * kernel_depth(g, n);
      if (r.extra_per_input && !n.inputs.empty() && shared_inputs.insert({r.name, n.inputs[0]}).second)
        add += r.extra_per_input;
      e.expanded += add;
      e.layers += add;  // every matching row adds (a strided 3-D conv gets a PAD and an ADD)
    }
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (taken[i]) continue;
    const Node& n = g.nodes[i];
    if (n.op_type == "Constant") continue;  // a constant, not a kernel
    if (dropped.count(n.op_type)) {
      taken[i] = true;
      e.rule_hits["drop " + n.op_type]++;
      continue;
    }
    bool grouped = false;
    for (const PeerRule& r : table.rules) {
      if (r.kind != RuleKind::Chain) continue;
      const std::vector<size_t> claimed = match_at(g, i, r, taken);
      if (claimed.empty()) continue;
      EmulatedGroup group{r.name, {}};
      for (size_t c : claimed) {
        taken[c] = true;
        group.op_types.push_back(g.nodes[c].op_type);
      }
      e.groups.push_back(std::move(group));
      e.rule_hits[r.name]++;
      e.layers++;
      e.fused_groups++;
      grouped = true;
      break;
    }
    if (!grouped) {
      taken[i] = true;
      e.layers++;
      e.single_ops[n.op_type]++;
      // A composite recognised by a rewrite row (dnnf.LayerNormalization, dnnf.Gelu, ...)
      // is one kernel made of several ONNX operators.
      if (n.domain == "dnnf") e.fused_groups++;
    }
  }
  return e;
}

namespace {

// Nodes computed from constants alone (not Shape of a run-time value, which MNN keeps).
std::vector<bool> constant_nodes(const Graph& g) {
  std::vector<bool> constant(g.nodes.size(), false);
  std::set<std::string> known;
  for (const auto& [name, t] : g.initializers) known.insert(name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {  // topological order
    bool all = true;
    for (const std::string& in : node_reads(g.nodes[i])) all &= in.empty() || known.count(in) != 0;
    if (!all) continue;
    constant[i] = true;
    for (const std::string& o : g.nodes[i].outputs) known.insert(o);
  }
  return constant;
}

// Large values computed from constants that run-time operators read become initializers
// (zeros of their type: the counts depend on the values being known, not on what they
// are). Small ones are left to the constant-folding row, which computes them: rules that
// test constant values (the GELU pattern's 0.5 and sqrt(2)) need the real values.
void load_time_values_to_constants(Graph& g) {
  constexpr int64_t kLarge = int64_t(1) << 20;
  const std::vector<bool> load_time = constant_nodes(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!load_time[i]) continue;
    for (const std::string& o : g.nodes[i].outputs) {
      const TensorType* t = o.empty() ? nullptr : g.type_of(o);
      if (!t || !t->is_static() || (t->numel_or(0) < kLarge && g.nodes[i].op_type != "ConstantOfShape")) continue;
      bool read_at_run_time = false;
      for (size_t u : g.consumer_indices(o)) read_at_run_time |= !load_time[u];
      if (read_at_run_time) g.initializers.emplace(o, Tensor(t->dtype, *t->static_shape()));
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    bool all_constant = true;
    for (const std::string& o : g.nodes[i].outputs) all_constant &= o.empty() || g.initializers.count(o) != 0;
    if (!(load_time[i] && all_constant)) kept.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(kept);
}

}  // namespace

Emulation emulate(const Model& model, const PeerTable& table) {
  Model m = model;
  if (table.folds_large_constants) load_time_values_to_constants(m.graph);
  std::map<std::string, int64_t> rewrite_hits;
  for (const PeerRule& r : table.rules) {
    if (r.kind != RuleKind::Rewrite) continue;
    rewrite::RewriteOptions opts;
    opts.only = r.rewrites;
    // Folding exposes more folding: each row runs with the cleanup rules to a fixed point.
    for (const char* cleanup : {"dead-code", "constant-to-initializer"}) opts.only.push_back(cleanup);
    const rewrite::RewriteSummary s = rewrite::run_rewrites(m.graph, nullptr, opts);
    int64_t applied = 0;
    for (const std::string& name : r.rewrites)
      if (auto it = s.rewrites.find(name); it != s.rewrites.end()) applied += it->second;
    if (applied) rewrite_hits[r.name] += applied;
  }
  Emulation e = match_chains(m.graph, table);
  for (const auto& [k, v] : rewrite_hits) e.rule_hits[k] += v;
  return e;
}

}  // namespace dnnf::peers
