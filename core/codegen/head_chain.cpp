#include "core/codegen/head_chain.h"

#include <algorithm>

#include "core/codegen/matmul_chain.h"
#include "core/ir/op_registry.h"

namespace dnnf::codegen {

namespace {

const Node* producer(const Graph& g, const std::string& v) {
  const int64_t i = g.producer_index(v);
  return i < 0 ? nullptr : &g.nodes[size_t(i)];
}

std::optional<std::vector<int64_t>> shape(const Graph& g, const std::string& v) {
  const TensorType* t = g.type_of(v);
  if (!t || !t->is_static() || t->dtype != DType::F32) return std::nullopt;
  return *t->static_shape();
}

// An element-wise node whose operands other than `along` are constants that are the same
// for every row of a [.., columns] value: a scalar or a [columns] vector.
bool row_constant_elementwise(const Graph& g, const Node& n, const std::string& along, int64_t columns) {
  const OpInfo* row = OpRegistry::instance().find_any(n.domain, n.op_type);
  if (!row || row->family != "elementwise" || row->mapping != MappingType::OneToOne || n.outputs.size() != 1)
    return false;
  bool seen = false;
  for (const std::string& in : n.inputs) {
    if (in == along && !seen) {
      seen = true;
      continue;
    }
    if (!g.is_constant(in)) return false;
    const std::vector<int64_t> cs = *g.type_of(in)->static_shape();
    int64_t numel = 1;
    for (int64_t d : cs) numel *= d;
    if (numel != 1 && !(numel == columns && !cs.empty() && cs.back() == columns)) return false;
  }
  return seen && shape(g, n.outputs[0]) == shape(g, along);
}

}  // namespace

std::optional<HeadSource> head_source(const Graph& g, const Node& a, size_t input) {
  if (a.op_type != "Attention" || a.domain != "dnnf" || input > 2 || !a.has_input(input) || a.outputs.empty())
    return std::nullopt;
  const auto ys = shape(g, a.outputs[0]);
  if (!ys || ys->size() != 4 || (*ys)[0] != 1) return std::nullopt;
  HeadSource hs;
  std::vector<std::string> path = {a.inputs[input]};
  const Node* t = producer(g, path.back());
  const std::vector<int64_t> perm = input == 1 ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3};
  if (!t || t->op_type != "Transpose" || t->attr_ints("perm") != perm) return std::nullopt;
  path.push_back(t->inputs[0]);
  const Node* r = producer(g, path.back());
  if (!r || r->op_type != "Reshape") return std::nullopt;
  const auto rs = shape(g, r->outputs[0]), xs = shape(g, r->inputs[0]);
  if (!rs || !xs || rs->size() != 4 || (*rs)[0] != 1 || xs->size() < 2 || xs->back() != (*rs)[2] * (*rs)[3] ||
      (*xs)[xs->size() - 2] != (*rs)[1])
    return std::nullopt;
  for (size_t d = 0; d + 2 < xs->size(); ++d)
    if ((*xs)[d] != 1) return std::nullopt;
  hs.heads = (*rs)[2];
  hs.head_size = (*rs)[3];
  path.push_back(r->inputs[0]);
  const Node* n = producer(g, path.back());
  while (n && n->op_type != "MatMul") {
    std::string along;
    for (const std::string& in : n->inputs)
      if (!g.is_constant(in)) along = in;
    if (along.empty() || !row_constant_elementwise(g, *n, along, xs->back())) return std::nullopt;
    path.push_back(along);
    n = producer(g, along);
  }
  if (!n || !is_matrix_by_weights(g, *n) || shape(g, n->outputs[0]) != xs) return std::nullopt;
  hs.matmul = n;
  std::reverse(path.begin(), path.end());
  hs.path = path;
  return hs;
}

bool chains_heads(const Graph& g, const Node& matmul, const Node& attention) {
  std::vector<const Node*> projections;
  std::optional<HeadSource> chained;
  for (size_t i = 0; i < 3; ++i) {
    std::optional<HeadSource> hs = head_source(g, attention, i);
    if (!hs) continue;
    projections.push_back(hs->matmul);
    if (hs->matmul == &matmul && hs->heads >= 2 && i != kKeys) chained = hs;
  }
  if (!chained) return false;
  // The projection's input is held while the chained block runs; it costs nothing extra
  // when something other than the projections reads it later anyway (a transformer's
  // residual connection).
  bool held_anyway = false;
  for (const Node& n : g.nodes)
    if (std::find(projections.begin(), projections.end(), &n) == projections.end())
      held_anyway = held_anyway || std::find(n.inputs.begin(), n.inputs.end(), matmul.inputs[0]) != n.inputs.end();
  held_anyway = held_anyway || g.is_graph_output(matmul.inputs[0]);
  // Chained, the block holds the input (unless held anyway), one head of the projection
  // and the Attention's other operands and output; apart, the projection's block holds
  // the input and the whole projection, the Attention's block the projection, the other
  // operands and the output.
  int64_t others = 0;
  for (size_t i = 0; i < attention.inputs.size(); ++i)
    if (attention.has_input(i) && attention.inputs[i] != chained->path.back())
      others += g.type_of(attention.inputs[i])->numel_or(0);
  const int64_t in = g.type_of(matmul.inputs[0])->numel_or(0), whole = g.type_of(matmul.outputs[0])->numel_or(0);
  const int64_t head = whole / chained->heads, out = g.type_of(attention.outputs[0])->numel_or(0);
  return (held_anyway ? 0 : in) + head + others + out < std::max(in + whole, whole + others + out);
}

std::optional<MergedHeads> merged_heads_operand(const Graph& g, const Node& matmul) {
  if (!is_matrix_by_weights(g, matmul)) return std::nullopt;
  MergedHeads mh;
  mh.merged = matmul.inputs[0];
  const Node* r = producer(g, mh.merged);
  if (!r || r->op_type != "Reshape") return std::nullopt;
  mh.transposed = r->inputs[0];
  const Node* t = producer(g, mh.transposed);
  if (!t || t->op_type != "Transpose" || t->attr_ints("perm") != std::vector<int64_t>{0, 2, 1, 3}) return std::nullopt;
  mh.source = t->inputs[0];
  const auto ss = shape(g, mh.source), ms = shape(g, mh.merged);
  if (!ss || !ms || ss->size() != 4 || (*ss)[0] != 1 || ms->size() < 2) return std::nullopt;
  mh.heads = (*ss)[1];
  mh.head_size = (*ss)[3];
  if (ms->back() != mh.heads * mh.head_size || (*ms)[ms->size() - 2] != (*ss)[2] || mh.heads < 2) return std::nullopt;
  return mh;
}

}  // namespace dnnf::codegen
