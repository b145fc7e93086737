// Operator rows of the control_flow family (see op_families.h): If, Loop, Scan.
//
// Kernels run their subgraph attributes through ctx.run_subgraph (the executor binds
// the enclosing scope). Shape functions read the subgraphs' inferred output types,
// which the graph-level inference fills in before calling them.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

// ---- subgraph access -------------------------------------------------------------------------
const Graph& subgraph(const Node& node, const char* name) {
  const Attribute* a = node.attr(name);
  check(a != nullptr, node.label(), ": missing graph attribute '", name, "'");
  check(a->kind == Attribute::Kind::Graph && a->g != nullptr, node.label(), ": attribute '", name,
        "' must be a graph");
  return *a->g;
}

bool is_sequence_op(const std::string& op) {
  return op.rfind("Sequence", 0) == 0 || op.rfind("Optional", 0) == 0 || op == "SplitToSequence" ||
         op == "ConcatFromSequence";
}

// True if the graph (or a nested subgraph) uses sequence or optional values.
bool uses_sequences(const Graph& g) {
  for (const Node& n : g.nodes) {
    if (is_sequence_op(n.op_type)) return true;
    for (const auto& [k, a] : n.attrs) {
      (void)k;
      if (a.g && uses_sequences(*a.g)) return true;
      for (const auto& sg : a.graphs)
        if (sg && uses_sequences(*sg)) return true;
    }
  }
  return false;
}

void refuse_sequences(const Node& node, const Graph& body) {
  check(!uses_sequences(body), node.label(),
        ": sequence-typed (or optional-typed) loop state is not supported by dnnf");
}

// Inferred type of the i-th output of a subgraph (Undefined dtype if not known).
TensorType output_type(const Graph& g, size_t i) {
  const ValueInfo& vi = g.outputs.at(i);
  auto it = g.value_types.find(vi.name);
  if (it != g.value_types.end() && it->second.dtype != DType::Undefined) return it->second;
  if (vi.type.dtype != DType::Undefined) return vi.type;
  if (const TensorType* t = g.type_of(vi.name)) return *t;
  return vi.type;
}

// Merges two possible types of one value: dims that differ become unknown.
TensorType merge_types(const Node& node, const TensorType& a, const TensorType& b) {
  if (a.dtype == DType::Undefined) return b;
  if (b.dtype == DType::Undefined) return a;
  check(a.dtype == b.dtype, node.label(), ": element types ", dtype_name(a.dtype), " and ",
        dtype_name(b.dtype), " of one output disagree");
  if (!a.has_shape || !b.has_shape || a.rank() != b.rank()) return TensorType::unknown_shape(a.dtype);
  std::vector<Dim> dims;
  for (size_t i = 0; i < a.dims.size(); ++i) dims.push_back(a.dims[i] == b.dims[i] ? a.dims[i] : Dim());
  return TensorType(a.dtype, dims);
}

// Type of a value that starts as `initial` and is then replaced by the body's output.
TensorType carried_type(const Node& node, const TensorType& initial, const TensorType& body_out) {
  if (body_out.dtype == DType::Undefined) return TensorType::unknown_shape(initial.dtype);
  return merge_types(node, initial, body_out);
}

// Body type with an extra dim inserted at `axis` (for stacked scan outputs).
TensorType stacked_type(const TensorType& elem, int64_t axis, Dim count) {
  if (!elem.has_shape) return TensorType::unknown_shape(elem.dtype);
  std::vector<Dim> dims = elem.dims;
  axis = std::clamp<int64_t>(axis, 0, int64_t(dims.size()));
  dims.insert(dims.begin() + axis, count);
  return TensorType(elem.dtype, dims);
}

// ---- tensor slicing / stacking along one axis (byte copies, any fixed-size dtype) -----
size_t element_bytes(const Node& node, DType t) {
  check(t != DType::String && t != DType::Undefined, node.label(), ": ", dtype_name(t),
        " tensors cannot be scanned or stacked");
  return dtype_size(t);
}

// x with dimension `axis` removed, taking index `index` along it.
Tensor take_along(const Node& node, const Tensor& x, int64_t axis, int64_t index) {
  const size_t esz = element_bytes(node, x.dtype());
  Shape out_shape = x.shape();
  out_shape.erase(out_shape.begin() + axis);
  Tensor out(x.dtype(), out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t len = x.dim(axis);
  const auto* src = static_cast<const unsigned char*>(x.raw());
  auto* dst = static_cast<unsigned char*>(out.raw());
  const size_t block = size_t(inner) * esz;
  if (block == 0) return out;
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(dst + size_t(o) * block, src + (size_t(o * len + index)) * block, block);
  return out;
}

// Stacks equally-shaped parts along a new dimension `axis` (parts[p] lands at index p).
Tensor stack_along(const Node& node, const std::vector<Tensor>& parts, int64_t axis, const char* what) {
  const Tensor& first = parts.at(0);
  const size_t esz = element_bytes(node, first.dtype());
  for (const Tensor& p : parts) {
    check(p.dtype() == first.dtype(), node.label(), ": ", what, " changes element type between iterations (",
          dtype_name(first.dtype()), " vs ", dtype_name(p.dtype()), ")");
    check(p.shape() == first.shape(), node.label(), ": ", what, " changes shape between iterations (",
          shape_str(first.shape()), " vs ", shape_str(p.shape()), ")");
  }
  Shape out_shape = first.shape();
  out_shape.insert(out_shape.begin() + axis, int64_t(parts.size()));
  Tensor out(first.dtype(), out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= first.dim(d);
  for (int64_t d = axis; d < first.rank(); ++d) inner *= first.dim(d);
  const size_t block = size_t(inner) * esz;
  if (block == 0) return out;
  auto* dst = static_cast<unsigned char*>(out.raw());
  const int64_t count = int64_t(parts.size());
  for (int64_t p = 0; p < count; ++p) {
    const auto* src = static_cast<const unsigned char*>(parts[size_t(p)].raw());
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + size_t(o * count + p) * block, src + size_t(o) * block, block);
  }
  return out;
}

// An empty stacked output when a loop ran zero times: shape from the body's type when
// its rank is known (unknown dims become 0), else rank 1.
Tensor empty_stack(const TensorType& elem, int64_t axis, DType fallback) {
  const DType dt = elem.dtype == DType::Undefined ? fallback : elem.dtype;
  Shape shape;
  if (elem.has_shape) {
    for (const Dim& d : elem.dims) shape.push_back(d.known() ? d.value : 0);
    axis = std::clamp<int64_t>(axis, 0, int64_t(shape.size()));
    shape.insert(shape.begin() + axis, 0);
  } else {
    shape = {0};
  }
  return Tensor(dt, shape);
}

bool truthy(const Node& node, const Tensor& t, const char* what) {
  check(t.numel() >= 1, node.label(), ": ", what, " is empty");
  check(t.dtype() != DType::String, node.label(), ": ", what, " must be a boolean tensor");
  return t.get_f64(0) != 0.0;
}

// Cost of running a graph once: the sum of its nodes' costs (nodes the registry cannot
// price, e.g. without known types, count as zero).
OpCost graph_cost(const Graph& g) {
  OpCost total;
  const OpRegistry& reg = OpRegistry::instance();
  for (const Node& n : g.nodes) {
    std::vector<TensorType> in, out;
    for (const auto& name : n.inputs) {
      const TensorType* t = name.empty() ? nullptr : g.type_of(name);
      in.push_back(t ? *t : TensorType());
    }
    for (const auto& name : n.outputs) {
      const TensorType* t = name.empty() ? nullptr : g.type_of(name);
      out.push_back(t ? *t : TensorType());
    }
    try {
      const OpCost c = reg.cost_of(n, in, out);
      total.flops += c.flops;
      total.bytes += c.bytes;
    } catch (const Error&) {
      // An op the registry does not know contributes nothing to the estimate.
    }
  }
  return total;
}

// ---- If --------------------------------------------------------------------------------------
std::vector<TensorType> if_shape(const InferContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 1);
  const Graph& then_g = subgraph(node, "then_branch");
  const Graph& else_g = subgraph(node, "else_branch");
  check(then_g.outputs.size() == else_g.outputs.size(), node.label(), ": then_branch has ",
        then_g.outputs.size(), " outputs but else_branch has ", else_g.outputs.size());
  check(ctx.num_outputs() <= then_g.outputs.size(), node.label(), ": node has ", ctx.num_outputs(),
        " outputs but its branches produce ", then_g.outputs.size());
  std::vector<TensorType> out;
  const Tensor* cond = ctx.value(0);
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const TensorType a = output_type(then_g, i), b = output_type(else_g, i);
    if (cond != nullptr && cond->numel() >= 1 && cond->dtype() != DType::String)
      out.push_back(cond->get_f64(0) != 0.0 ? a : b);
    else
      out.push_back(merge_types(node, a, b));
  }
  return out;
}

std::vector<Tensor> if_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 1);
  check(static_cast<bool>(ctx.run_subgraph), node.label(), ": no subgraph runner is available");
  const bool c = truthy(node, ctx.in(0), "condition");
  const Graph& branch = subgraph(node, c ? "then_branch" : "else_branch");
  std::vector<Tensor> outs = ctx.run_subgraph(branch, {});
  check(outs.size() >= ctx.num_outputs(), node.label(), ": branch produced ", outs.size(),
        " outputs, node expects ", ctx.num_outputs());
  outs.resize(ctx.num_outputs());
  return outs;
}

OpCost if_cost(const Node& node, const std::vector<TensorType>&, const std::vector<TensorType>&) {
  OpCost a, b;
  if (const Attribute* t = node.attr("then_branch"); t && t->g) a = graph_cost(*t->g);
  if (const Attribute* e = node.attr("else_branch"); e && e->g) b = graph_cost(*e->g);
  return {std::max(a.flops, b.flops), std::max(a.bytes, b.bytes)};
}

// ---- Loop ------------------------------------------------------------------------------------
// Counts of loop-carried values (N) and scan outputs (K), validated against the body.
struct LoopCounts { size_t carried; size_t scans; };

LoopCounts loop_counts(const Node& node, const Graph& body, size_t num_inputs, size_t num_outputs) {
  check(num_inputs >= 2, node.label(), ": Loop needs inputs M and cond (either may be empty)");
  const size_t n = num_inputs - 2;
  check(body.inputs.size() == n + 2, node.label(), ": body has ", body.inputs.size(), " inputs, expected ",
        n + 2, " (iteration number, condition and ", n, " loop-carried values)");
  check(body.outputs.size() >= n + 1, node.label(), ": body has ", body.outputs.size(),
        " outputs, expected at least ", n + 1, " (condition and ", n, " loop-carried values)");
  const size_t k = body.outputs.size() - 1 - n;
  check(num_outputs <= n + k, node.label(), ": node has ", num_outputs, " outputs but the body produces ",
        n + k, " (", n, " loop-carried, ", k, " scan)");
  return {n, k};
}

std::vector<TensorType> loop_shape(const InferContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = subgraph(node, "body");
  refuse_sequences(node, body);
  const LoopCounts lc = loop_counts(node, body, ctx.num_inputs(), ctx.num_outputs());
  // Known trip count without a condition input fixes the scan length.
  Dim trips;
  if (ctx.has_input(0) && !ctx.has_input(1) && ctx.value(0) != nullptr && ctx.value(0)->numel() >= 1)
    trips = std::max<int64_t>(0, ctx.value(0)->get_i64(0));
  std::vector<TensorType> out;
  for (size_t j = 0; j < lc.carried; ++j)
    out.push_back(carried_type(node, ctx.in(2 + j), output_type(body, 1 + j)));
  for (size_t k = 0; k < lc.scans; ++k) out.push_back(stacked_type(output_type(body, 1 + lc.carried + k), 0, trips));
  out.resize(ctx.num_outputs());
  return out;
}

std::vector<Tensor> loop_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = subgraph(node, "body");
  refuse_sequences(node, body);
  check(static_cast<bool>(ctx.run_subgraph), node.label(), ": no subgraph runner is available");
  const LoopCounts lc = loop_counts(node, body, ctx.num_inputs(), ctx.num_outputs());
  const bool has_max = ctx.has_input(0);
  const bool has_cond = ctx.has_input(1);
  check(has_max || has_cond, node.label(),
        ": Loop without trip count and without condition would never terminate");
  int64_t max_trips = 0;
  if (has_max) {
    const Tensor& m = ctx.in(0);
    check(m.numel() == 1 && dtype_is_integer(m.dtype()), node.label(), ": trip count M must be an integer scalar");
    max_trips = m.get_i64(0);
  }
  bool cond = has_cond ? truthy(node, ctx.in(1), "initial condition") : true;
  std::vector<Tensor> carried;
  for (size_t j = 0; j < lc.carried; ++j) {
    check(ctx.has_input(2 + j), node.label(), ": loop-carried input ", j, " is missing");
    carried.push_back(*ctx.inputs[2 + j]);
  }
  std::vector<std::vector<Tensor>> scans(lc.scans);
  int64_t iter = 0;
  while ((!has_max || iter < max_trips) && (!has_cond || cond)) {
    std::vector<Tensor> args;
    args.push_back(Tensor::scalar_i64(iter));
    Tensor c(DType::Bool, Shape{});
    *c.data<bool>() = cond;
    args.push_back(c);
    args.insert(args.end(), carried.begin(), carried.end());
    std::vector<Tensor> res = ctx.run_subgraph(body, args);
    check(res.size() == 1 + lc.carried + lc.scans, node.label(), ": body returned ", res.size(),
          " values, expected ", 1 + lc.carried + lc.scans);
    if (has_cond) cond = truthy(node, res[0], "body condition output");
    for (size_t j = 0; j < lc.carried; ++j) carried[j] = res[1 + j];
    for (size_t k = 0; k < lc.scans; ++k) scans[k].push_back(res[1 + lc.carried + k]);
    ++iter;
  }
  std::vector<Tensor> out = carried;
  for (size_t k = 0; k < lc.scans; ++k) {
    if (scans[k].empty())
      out.push_back(empty_stack(output_type(body, 1 + lc.carried + k), 0, DType::F32));
    else
      out.push_back(stack_along(node, scans[k], 0, "a scan output"));
  }
  out.resize(ctx.num_outputs());
  return out;
}

OpCost loop_cost(const Node& node, const std::vector<TensorType>&, const std::vector<TensorType>&) {
  const Attribute* b = node.attr("body");
  if (!b || !b->g) return {};
  // Trip count is rarely static at this level: price one iteration.
  return graph_cost(*b->g);
}

// ---- Scan ------------------------------------------------------------------------------------
struct ScanConfig {
  size_t states = 0;   // N
  size_t inputs = 0;   // M
  size_t outputs = 0;  // K
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

// For opset 9+: node inputs are N states followed by M scan inputs.
ScanConfig scan_config(const Node& node, const Graph& body, size_t num_inputs, size_t num_outputs,
                       int64_t opset) {
  ScanConfig sc;
  check(node.has_attr("num_scan_inputs"), node.label(), ": missing attribute num_scan_inputs");
  const int64_t m = node.attr_int("num_scan_inputs", 0);
  const size_t first = opset < 9 ? 1 : 0;  // opset 8: input 0 is sequence_lens
  check(m >= 1 && size_t(m) + first <= num_inputs, node.label(), ": num_scan_inputs ", m,
        " does not fit the node's ", num_inputs, " inputs");
  sc.inputs = size_t(m);
  sc.states = num_inputs - first - sc.inputs;
  check(body.inputs.size() == sc.states + sc.inputs, node.label(), ": body has ", body.inputs.size(),
        " inputs, expected ", sc.states + sc.inputs);
  check(body.outputs.size() >= sc.states, node.label(), ": body has ", body.outputs.size(),
        " outputs, expected at least ", sc.states);
  sc.outputs = body.outputs.size() - sc.states;
  check(num_outputs <= sc.states + sc.outputs, node.label(), ": node has ", num_outputs,
        " outputs but the body produces ", sc.states + sc.outputs);
  auto read = [&](const char* name, size_t count, std::vector<int64_t>& dst) {
    dst = node.attr_ints(name, std::vector<int64_t>(count, 0));
    check(dst.size() == count, node.label(), ": attribute ", name, " has ", dst.size(), " entries, expected ",
          count);
  };
  if (opset < 9) {
    read("directions", sc.inputs, sc.in_dirs);
    sc.in_axes.assign(sc.inputs, 0);
    sc.out_axes.assign(sc.outputs, 0);
    sc.out_dirs.assign(sc.outputs, 0);
  } else {
    read("scan_input_axes", sc.inputs, sc.in_axes);
    read("scan_input_directions", sc.inputs, sc.in_dirs);
    read("scan_output_axes", sc.outputs, sc.out_axes);
    read("scan_output_directions", sc.outputs, sc.out_dirs);
  }
  for (auto* v : {&sc.in_dirs, &sc.out_dirs})
    for (int64_t d : *v) check(d == 0 || d == 1, node.label(), ": scan direction must be 0 or 1, got ", d);
  return sc;
}

std::vector<TensorType> scan_shape(const InferContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = subgraph(node, "body");
  refuse_sequences(node, body);
  const ScanConfig sc = scan_config(node, body, ctx.num_inputs(), ctx.num_outputs(), ctx.opset);
  std::vector<TensorType> out;
  if (ctx.opset < 9) {
    // Batched form: states [batch, ...], scan inputs [batch, seq, ...].
    Dim batch, seq;
    const TensorType& x0 = ctx.in(1 + sc.states);
    if (x0.has_shape && x0.rank() >= 2) { batch = x0.dims[0]; seq = x0.dims[1]; }
    for (size_t j = 0; j < sc.states; ++j) {
      const TensorType& init = ctx.in(1 + j);
      TensorType body_t = stacked_type(output_type(body, j), 0, batch);
      out.push_back(carried_type(node, init, body_t));
    }
    for (size_t k = 0; k < sc.outputs; ++k) {
      TensorType t = stacked_type(output_type(body, sc.states + k), 0, seq);
      out.push_back(stacked_type(t, 0, batch));
    }
    out.resize(ctx.num_outputs());
    return out;
  }
  Dim seq;
  for (size_t i = 0; i < sc.inputs; ++i) {
    const TensorType& x = ctx.in(sc.states + i);
    if (!x.has_shape) continue;
    const int64_t axis = normalize_axis(sc.in_axes[i], x.rank(), node);
    const Dim& d = x.dims[size_t(axis)];
    if (d.known() && seq.known())
      check(d.value == seq.value, node.label(), ": scan inputs have different sequence lengths ", seq.value,
            " and ", d.value);
    if (!seq.known() && (d.known() || !d.symbol.empty())) seq = d;
  }
  for (size_t j = 0; j < sc.states; ++j) out.push_back(carried_type(node, ctx.in(j), output_type(body, j)));
  for (size_t k = 0; k < sc.outputs; ++k) {
    const TensorType elem = output_type(body, sc.states + k);
    int64_t axis = sc.out_axes[k];
    if (elem.has_shape) axis = normalize_axis(axis, elem.rank() + 1, node);
    out.push_back(stacked_type(elem, axis, seq));
  }
  out.resize(ctx.num_outputs());
  return out;
}

// Runs the scan recurrence over `len` steps. inputs[i] has its scanned axis at in_axes[i].
void scan_run(KernelContext& ctx, const Graph& body, const ScanConfig& sc, std::vector<Tensor>& states,
              const std::vector<Tensor>& inputs, int64_t len, std::vector<std::vector<Tensor>>& steps) {
  const Node& node = ctx.node;
  steps.assign(sc.outputs, {});
  for (int64_t t = 0; t < len; ++t) {
    std::vector<Tensor> args = states;
    for (size_t i = 0; i < sc.inputs; ++i) {
      const int64_t idx = sc.in_dirs[i] == 1 ? len - 1 - t : t;
      args.push_back(take_along(node, inputs[i], sc.in_axes[i], idx));
    }
    std::vector<Tensor> res = ctx.run_subgraph(body, args);
    check(res.size() == sc.states + sc.outputs, node.label(), ": body returned ", res.size(),
          " values, expected ", sc.states + sc.outputs);
    for (size_t j = 0; j < sc.states; ++j) states[j] = res[j];
    for (size_t k = 0; k < sc.outputs; ++k) steps[k].push_back(res[sc.states + k]);
  }
}

std::vector<Tensor> scan_kernel9(KernelContext& ctx, const Graph& body, ScanConfig sc) {
  const Node& node = ctx.node;
  std::vector<Tensor> states, inputs;
  for (size_t j = 0; j < sc.states; ++j) states.push_back(ctx.in(j));
  int64_t len = -1;
  for (size_t i = 0; i < sc.inputs; ++i) {
    const Tensor& x = ctx.in(sc.states + i);
    check(x.rank() >= 1, node.label(), ": scan input ", i, " must have rank >= 1");
    sc.in_axes[i] = normalize_axis(sc.in_axes[i], x.rank(), node);
    const int64_t l = x.dim(sc.in_axes[i]);
    check(len < 0 || l == len, node.label(), ": scan inputs have different sequence lengths ", len, " and ", l);
    len = l;
    inputs.push_back(x);
  }
  std::vector<std::vector<Tensor>> steps;
  scan_run(ctx, body, sc, states, inputs, len, steps);
  std::vector<Tensor> out = states;
  for (size_t k = 0; k < sc.outputs; ++k) {
    if (steps[k].empty()) {
      const TensorType elem = output_type(body, sc.states + k);
      int64_t axis = sc.out_axes[k];
      if (elem.has_shape) axis = normalize_axis(axis, elem.rank() + 1, node);
      out.push_back(empty_stack(elem, axis, DType::F32));
      continue;
    }
    if (sc.out_dirs[k] == 1) std::reverse(steps[k].begin(), steps[k].end());
    const int64_t axis = normalize_axis(sc.out_axes[k], steps[k][0].rank() + 1, node);
    out.push_back(stack_along(node, steps[k], axis, "a scan output"));
  }
  out.resize(ctx.num_outputs());
  return out;
}

// Opset 8: batched form with optional sequence_lens; outputs shorter than the longest
// sequence are zero-padded.
std::vector<Tensor> scan_kernel8(KernelContext& ctx, const Graph& body, const ScanConfig& sc) {
  const Node& node = ctx.node;
  check(sc.inputs >= 1, node.label(), ": Scan needs at least one scan input");
  const Tensor& x0 = ctx.in(1 + sc.states);
  check(x0.rank() >= 2, node.label(), ": opset-8 scan inputs must be [batch, sequence, ...]");
  const int64_t batch = x0.dim(0), max_len = x0.dim(1);
  for (size_t i = 0; i < sc.inputs; ++i) {
    const Tensor& x = ctx.in(1 + sc.states + i);
    check(x.rank() >= 2 && x.dim(0) == batch && x.dim(1) == max_len, node.label(), ": scan input ", i,
          " has shape ", shape_str(x.shape()), ", expected [", batch, ",", max_len, ",...]");
  }
  for (size_t j = 0; j < sc.states; ++j) {
    const Tensor& s = ctx.in(1 + j);
    check(s.rank() >= 1 && s.dim(0) == batch, node.label(), ": state ", j, " must have batch size ", batch);
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), max_len);
  if (ctx.has_input(0)) {
    lens = ctx.in(0).to_i64_vector();
    check(int64_t(lens.size()) == batch, node.label(), ": sequence_lens has ", lens.size(),
          " entries, expected ", batch);
    for (int64_t l : lens)
      check(l >= 0 && l <= max_len, node.label(), ": sequence_lens value ", l, " is outside [0, ", max_len, "]");
  }
  std::vector<std::vector<Tensor>> final_states(sc.states);
  std::vector<std::vector<std::vector<Tensor>>> per_batch(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Tensor> states, inputs;
    for (size_t j = 0; j < sc.states; ++j) states.push_back(take_along(node, ctx.in(1 + j), 0, b));
    for (size_t i = 0; i < sc.inputs; ++i) {
      Tensor xb = take_along(node, ctx.in(1 + sc.states + i), 0, b);  // [seq, ...]
      if (lens[size_t(b)] < max_len) {
        // Keep only the valid prefix so that reverse scans start at the last valid step.
        std::vector<Tensor> parts;
        for (int64_t t = 0; t < lens[size_t(b)]; ++t) parts.push_back(take_along(node, xb, 0, t));
        if (parts.empty()) {
          Shape s = xb.shape();
          s[0] = 0;
          xb = Tensor(xb.dtype(), s);
        } else {
          xb = stack_along(node, parts, 0, "a scan input");
        }
      }
      inputs.push_back(xb);
    }
    scan_run(ctx, body, sc, states, inputs, lens[size_t(b)], per_batch[size_t(b)]);
    for (size_t j = 0; j < sc.states; ++j) final_states[j].push_back(states[j]);
  }
  std::vector<Tensor> out;
  for (size_t j = 0; j < sc.states; ++j) {
    if (batch == 0) out.push_back(ctx.in(1 + j));
    else out.push_back(stack_along(node, final_states[j], 0, "a state"));
  }
  for (size_t k = 0; k < sc.outputs; ++k) {
    // Element shape from any produced step.
    const Tensor* proto = nullptr;
    for (const auto& pb : per_batch)
      if (!pb[k].empty()) { proto = &pb[k][0]; break; }
    if (proto == nullptr) {
      const TensorType elem = output_type(body, sc.states + k);
      Tensor e = empty_stack(elem, 0, DType::F32);
      Shape s = e.shape();
      s[0] = max_len;
      s.insert(s.begin(), batch);
      out.push_back(Tensor(e.dtype(), s));
      continue;
    }
    std::vector<Tensor> rows;
    for (auto& pb : per_batch) {
      std::vector<Tensor> seq = pb[k];
      while (int64_t(seq.size()) < max_len) seq.push_back(Tensor(proto->dtype(), proto->shape()));
      rows.push_back(stack_along(node, seq, 0, "a scan output"));
    }
    out.push_back(stack_along(node, rows, 0, "a scan output"));
  }
  out.resize(ctx.num_outputs());
  return out;
}

std::vector<Tensor> scan_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  const Graph& body = subgraph(node, "body");
  refuse_sequences(node, body);
  check(static_cast<bool>(ctx.run_subgraph), node.label(), ": no subgraph runner is available");
  const ScanConfig sc = scan_config(node, body, ctx.num_inputs(), ctx.num_outputs(), ctx.opset);
  return ctx.opset < 9 ? scan_kernel8(ctx, body, sc) : scan_kernel9(ctx, body, sc);
}

OpCost scan_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>&) {
  const Attribute* b = node.attr("body");
  if (!b || !b->g) return {};
  OpCost once = graph_cost(*b->g);
  // Multiply by the sequence length when the first scan input's axis is static.
  const int64_t m = node.attr_int("num_scan_inputs", 0);
  if (m < 1 || size_t(m) > in.size()) return once;
  const TensorType& x = in[in.size() - size_t(m)];
  const auto axes = node.attr_ints("scan_input_axes");
  int64_t axis = axes.empty() ? 0 : axes[0];
  if (!x.has_shape || x.rank() == 0) return once;
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank() || !x.dims[size_t(axis)].known()) return once;
  const double len = double(x.dims[size_t(axis)].value);
  return {once.flops * len, once.bytes * len};
}

void add_row(OpRegistry& r, const char* name, int since, ShapeFn shape, RefKernel kernel, CostFn cost,
             const char* summary) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = "control_flow";
  info.mapping = MappingType::ManyToMany;
  info.shape = std::move(shape);
  info.kernel = std::move(kernel);
  info.cost = std::move(cost);
  info.summary = summary;
  r.add(std::move(info));
}

}  // namespace

void register_control_flow_ops(OpRegistry& r) {
  add_row(r, "If", 1, if_shape, if_kernel, if_cost,
          "runs then_branch or else_branch by a boolean condition; branches see the enclosing scope");
  add_row(r, "Loop", 1, loop_shape, loop_kernel, loop_cost,
          "runs body while i < M and cond; loop-carried values plus scan outputs stacked on a new axis 0");
  add_row(r, "Scan", 8, scan_shape, scan_kernel, scan_cost,
          "runs body over slices of scan inputs (axes, directions) carrying state; stacks scan outputs");
}

}  // namespace dnnf::ops
