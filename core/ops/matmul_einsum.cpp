// Einsum (matmul family): general equations with ellipsis, repeated indices
// (diagonals), broadcasting of size-1 dims and implicit output.
#include <algorithm>
#include <map>
#include <set>

#include "core/ops/matmul_internal.h"
#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

// Label ids: letters keep their character code; the i-th ellipsis dimension
// (right-aligned across operands) is kEllBase + i.
constexpr int kEllBase = 1000;
constexpr int kEllToken = -1;

struct EinsumPlan {
  std::vector<std::vector<int>> operand_labels;  // one label per operand dim
  std::vector<int> out_labels;
  std::vector<int> all_labels;  // output labels first, then summed labels
};

std::vector<int> parse_term(const std::string& term, const Node& node) {
  std::vector<int> toks;
  bool seen_ell = false;
  for (size_t i = 0; i < term.size();) {
    const char c = term[i];
    if (c == '.') {
      check(term.compare(i, 3, "...") == 0, node.label(), ": bad ellipsis in einsum term '", term, "'");
      check(!seen_ell, node.label(), ": more than one ellipsis in einsum term '", term, "'");
      seen_ell = true;
      toks.push_back(kEllToken);
      i += 3;
    } else {
      check((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'), node.label(),
            ": bad character '", c, "' in einsum equation");
      toks.push_back(int(c));
      ++i;
    }
  }
  return toks;
}

EinsumPlan make_plan(const std::string& equation, const std::vector<int64_t>& ranks, const Node& node) {
  std::string eq;
  for (char c : equation)
    if (c != ' ' && c != '\t') eq += c;
  const size_t arrow = eq.find("->");
  const std::string lhs = arrow == std::string::npos ? eq : eq.substr(0, arrow);
  std::vector<std::string> terms;
  size_t start = 0;
  for (;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  check(terms.size() == ranks.size(), node.label(), ": einsum equation '", equation, "' has ",
        terms.size(), " operand terms but the node has ", ranks.size(), " inputs");

  EinsumPlan plan;
  std::vector<std::vector<int>> toks(terms.size());
  int64_t max_ell = 0;
  std::vector<int64_t> ell_rank(terms.size(), 0);
  for (size_t k = 0; k < terms.size(); ++k) {
    toks[k] = parse_term(terms[k], node);
    const int64_t letters = int64_t(std::count_if(toks[k].begin(), toks[k].end(), [](int t) { return t != kEllToken; }));
    const bool has_ell = letters != int64_t(toks[k].size());
    if (has_ell) {
      check(ranks[k] >= letters, node.label(), ": einsum term '", terms[k], "' needs rank >= ", letters,
            ", input ", k, " has rank ", ranks[k]);
      ell_rank[k] = ranks[k] - letters;
    } else {
      check(ranks[k] == letters, node.label(), ": einsum term '", terms[k], "' needs rank ", letters,
            ", input ", k, " has rank ", ranks[k]);
    }
    max_ell = std::max(max_ell, ell_rank[k]);
  }
  std::map<int, int> count;
  for (size_t k = 0; k < terms.size(); ++k) {
    std::vector<int> labels;
    for (int t : toks[k]) {
      if (t == kEllToken) {
        for (int64_t j = 0; j < ell_rank[k]; ++j) labels.push_back(kEllBase + int(max_ell - ell_rank[k] + j));
      } else {
        labels.push_back(t);
        ++count[t];
      }
    }
    plan.operand_labels.push_back(labels);
  }
  if (arrow != std::string::npos) {
    const std::vector<int> out_toks = parse_term(eq.substr(arrow + 2), node);
    std::set<int> seen;
    for (int t : out_toks) {
      if (t == kEllToken) {
        for (int64_t j = 0; j < max_ell; ++j) plan.out_labels.push_back(kEllBase + int(j));
        continue;
      }
      check(count.count(t) != 0, node.label(), ": einsum output label '", char(t),
            "' does not occur in any input");
      check(seen.insert(t).second, node.label(), ": einsum output label '", char(t), "' repeated");
      plan.out_labels.push_back(t);
    }
  } else {
    for (int64_t j = 0; j < max_ell; ++j) plan.out_labels.push_back(kEllBase + int(j));
    for (const auto& [label, n] : count)  // std::map: ascending character order
      if (n == 1) plan.out_labels.push_back(label);
  }
  plan.all_labels = plan.out_labels;
  std::set<int> in_out(plan.out_labels.begin(), plan.out_labels.end());
  for (const auto& labels : plan.operand_labels)
    for (int l : labels)
      if (!in_out.count(l)) {
        in_out.insert(l);
        plan.all_labels.push_back(l);
      }
  return plan;
}

std::string label_name(int l) {
  return l >= kEllBase ? "..." + std::to_string(l - kEllBase) : std::string(1, char(l));
}

// Size of every label from concrete shapes (size-1 dims broadcast).
std::map<int, int64_t> label_sizes(const EinsumPlan& plan, const std::vector<Shape>& shapes, const Node& node) {
  std::map<int, int64_t> sizes;
  for (size_t k = 0; k < shapes.size(); ++k) {
    std::map<int, int64_t> local;
    for (size_t d = 0; d < shapes[k].size(); ++d) {
      const int l = plan.operand_labels[k][d];
      const int64_t s = shapes[k][d];
      auto it = local.find(l);
      if (it != local.end())
        check(it->second == s, node.label(), ": einsum label '", label_name(l),
              "' repeated in input ", k, " with different sizes ", it->second, " and ", s);
      local[l] = s;
      auto g = sizes.find(l);
      if (g == sizes.end() || g->second == 1) sizes[l] = s;
      else
        check(s == 1 || s == g->second, node.label(), ": einsum label '", label_name(l),
              "' has inconsistent sizes ", g->second, " and ", s);
    }
  }
  return sizes;
}

template <class V>
std::vector<V> einsum_loop(const std::vector<std::vector<V>>& vals, const std::vector<std::vector<int64_t>>& strides,
                           const std::vector<int64_t>& out_strides, const std::vector<int64_t>& sizes,
                           int64_t out_numel) {
  std::vector<V> acc(size_t(out_numel), V(0));
  const size_t n = sizes.size(), k = vals.size();
  for (int64_t s : sizes)
    if (s == 0) return acc;
  if (n == 0) {
    V p = V(1);
    for (size_t j = 0; j < k; ++j) p *= vals[j][0];
    acc[0] = p;
    return acc;
  }
  std::vector<int64_t> offs(k, 0), coord(n, 0), inner(k);
  int64_t ooff = 0;
  const int64_t S = sizes[n - 1], ois = out_strides[n - 1];
  for (size_t j = 0; j < k; ++j) inner[j] = strides[j][n - 1];
  for (;;) {
    for (int64_t s = 0; s < S; ++s) {
      V p = V(1);
      for (size_t j = 0; j < k; ++j) p *= vals[j][size_t(offs[j] + s * inner[j])];
      acc[size_t(ooff + s * ois)] += p;
    }
    size_t d = n - 1;
    bool done = true;
    while (d-- > 0) {
      if (++coord[d] < sizes[d]) {
        for (size_t j = 0; j < k; ++j) offs[j] += strides[j][d];
        ooff += out_strides[d];
        done = false;
        break;
      }
      for (size_t j = 0; j < k; ++j) offs[j] -= strides[j][d] * (sizes[d] - 1);
      ooff -= out_strides[d] * (sizes[d] - 1);
      coord[d] = 0;
    }
    if (done) break;
  }
  return acc;
}

std::vector<Tensor> einsum_kernel(KernelContext& ctx) {
  const Node& node = ctx.node;
  check(ctx.num_inputs() >= 1, node.label(), ": Einsum needs at least one input");
  check(node.has_attr("equation"), node.label(), ": missing attribute 'equation'");
  const std::string equation = node.attr_string("equation", "");
  std::vector<Shape> shapes;
  std::vector<int64_t> ranks;
  const DType dt = ctx.in(0).dtype();
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& t = ctx.in(i);
    check(t.dtype() == dt, node.label(), ": input ", i, " has type ", dtype_name(t.dtype()), ", expected ",
          dtype_name(dt));
    shapes.push_back(t.shape());
    ranks.push_back(t.rank());
  }
  const EinsumPlan plan = make_plan(equation, ranks, node);
  const std::map<int, int64_t> sz = label_sizes(plan, shapes, node);
  std::vector<int64_t> sizes;
  for (int l : plan.all_labels) sizes.push_back(sz.at(l));
  Shape out_shape;
  for (int l : plan.out_labels) out_shape.push_back(sz.at(l));
  const int64_t out_numel = shape_numel(out_shape);
  check_tensor_size(out_numel, dt, node.label() + " output");

  // Per-operand stride of each label (summed over repeated dims; 0 where broadcast).
  std::vector<std::vector<int64_t>> strides(shapes.size(), std::vector<int64_t>(sizes.size(), 0));
  for (size_t k = 0; k < shapes.size(); ++k) {
    const std::vector<int64_t> st = strides_of(shapes[k]);
    for (size_t d = 0; d < shapes[k].size(); ++d) {
      if (shapes[k][d] == 1) continue;
      const size_t li = size_t(std::find(plan.all_labels.begin(), plan.all_labels.end(),
                                         plan.operand_labels[k][d]) - plan.all_labels.begin());
      strides[k][li] += st[d];
    }
  }
  std::vector<int64_t> out_strides(sizes.size(), 0);
  const std::vector<int64_t> ost = strides_of(out_shape);
  for (size_t i = 0; i < plan.out_labels.size(); ++i) out_strides[i] = ost[i];

  Tensor out(dt, out_shape);
  if (dtype_is_float(dt)) {
    std::vector<std::vector<double>> vals;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) vals.push_back(mm::to_f64(ctx.in(i)));
    const std::vector<double> r = einsum_loop<double>(vals, strides, out_strides, sizes, out_numel);
    if (dt == DType::F32) {
      float* o = out.data<float>();
      for (int64_t i = 0; i < out_numel; ++i) o[i] = float(r[size_t(i)]);
    } else {
      for (int64_t i = 0; i < out_numel; ++i) out.set_f64(i, r[size_t(i)]);
    }
  } else {
    check(dtype_is_integer(dt), node.label(), ": element type ", dtype_name(dt), " is not supported");
    std::vector<std::vector<int64_t>> vals;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) vals.push_back(ctx.in(i).to_i64_vector());
    const std::vector<int64_t> r = einsum_loop<int64_t>(vals, strides, out_strides, sizes, out_numel);
    for (int64_t i = 0; i < out_numel; ++i) out.set_i64(i, r[size_t(i)]);
  }
  return {out};
}

std::vector<TensorType> einsum_shape(const InferContext& ctx) {
  const Node& node = ctx.node;
  require_inputs(ctx, 1);
  check(node.has_attr("equation"), node.label(), ": missing attribute 'equation'");
  const DType dt = ctx.in(0).dtype;
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.in(i).has_shape) return {TensorType::unknown_shape(dt)};
    ranks.push_back(ctx.in(i).rank());
  }
  const EinsumPlan plan = make_plan(node.attr_string("equation", ""), ranks, node);
  std::map<int, Dim> dims;
  for (size_t k = 0; k < ranks.size(); ++k)
    for (size_t d = 0; d < size_t(ranks[k]); ++d) {
      const int l = plan.operand_labels[k][d];
      const Dim& v = ctx.in(k).dims[d];
      auto it = dims.find(l);
      if (it == dims.end()) {
        dims[l] = v;
      } else if (v.known() && it->second.known()) {
        if (it->second.value == 1) it->second = v;
        else
          check(v.value == 1 || v.value == it->second.value, node.label(), ": einsum label '",
                label_name(l), "' has inconsistent sizes ", it->second.value, " and ", v.value);
      } else if (v.known() && v.value != 1) {
        it->second = v;
      }
    }
  std::vector<Dim> out;
  for (int l : plan.out_labels) out.push_back(dims.at(l));
  return {TensorType(dt, out)};
}

OpCost einsum_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  c.bytes = mm::io_bytes(in, out);
  std::vector<Shape> shapes;
  std::vector<int64_t> ranks;
  for (const TensorType& t : in) {
    auto s = t.static_shape();
    if (!s) return c;
    shapes.push_back(*s);
    ranks.push_back(int64_t(s->size()));
  }
  try {
    const EinsumPlan plan = make_plan(node.attr_string("equation", ""), ranks, node);
    double total = 1;
    for (const auto& [l, s] : label_sizes(plan, shapes, node)) total *= double(s);
    c.flops = total * double(std::max<size_t>(in.size(), 1));
  } catch (const Error&) {
    c.flops = 0;
  }
  return c;
}

}  // namespace

void register_einsum_op(OpRegistry& r) {
  OpInfo info;
  info.name = "Einsum";
  info.family = "matmul";
  info.mapping = MappingType::ManyToMany;
  info.shape = einsum_shape;
  info.kernel = einsum_kernel;
  info.cost = einsum_cost;
  info.summary = "Einstein summation: any equation (ellipsis, diagonals, implicit output)";
  r.add(info);
}

}  // namespace dnnf::ops
