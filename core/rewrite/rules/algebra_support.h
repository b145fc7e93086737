// Helpers shared by the algebraic rule families (associative, distributive,
// commutative) and the layout rules: shape reasoning with symbolic dims, compile-time
// evaluation of constants with the reference kernels, reduction axes by opset, and a
// pattern rule with several alternative patterns under one name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite::alg {

// ---- registration of the algebra sub-families (algebra_rules.cpp calls them) ----------
void add_associative_rules(RuleList& r);
void add_distributive_rules(RuleList& r);
void add_commutative_rules(RuleList& r);

// ---- values and types -------------------------------------------------------------------
// True when the value's element type is known and a float type.
bool is_float_value(const RewriteEnv& env, const std::string& v);
// Numpy broadcasting is the rule from opset 7 on; before it, binary ops needed the
// legacy broadcast/axis attributes, which these rules do not reason about.
bool modern_broadcasting(const RewriteEnv& env);
// A plain default-domain node with the given type whose outputs are all named.
bool is_plain(const Node& n, const std::string& op_type);
// A binary arithmetic node without legacy broadcast attributes.
bool is_binary(const Node& n, const std::string& op_type);

// Numpy broadcast of two types; nullopt when a rank is unknown or the dims clash.
std::optional<TensorType> broadcast_types(const TensorType& a, const TensorType& b);
// Provably the same shape: same rank, each dim known and equal or the same named symbol.
bool provably_same_shape(const TensorType& a, const TensorType& b);
// Broadcasting a tensor of type `x` with a constant of shape `c` keeps x's shape.
bool neutral_broadcast(const TensorType& x, const Shape& c);
// Element-count estimate for ordering decisions (unknown dims count as large).
double estimated_numel(const TensorType& t);

// A constant holding one element whose rank does not exceed `max_rank`
// (so broadcasting it never changes another operand's shape).
const Tensor* scalar_constant(const RewriteEnv& env, const std::string& v, int64_t max_rank);
// A 0-d tensor of `dtype` holding v.
Tensor scalar_tensor(DType dtype, double v);

// ---- compile-time evaluation with the reference kernels ----------------------------------
Tensor fold_binary(const Graph& g, const std::string& op, const Tensor& a, const Tensor& b);
Tensor fold_unary(const Graph& g, const std::string& op, const Tensor& a);

// ---- non-negativity ----------------------------------------------------------------------
// True when every element of v is known to be >= 0 (or NaN): outputs of Abs, Exp, Relu,
// Sigmoid, Softmax, Sqrt, x*x, even powers, non-negative constants, and sums/products/
// means of such values.
bool known_nonnegative(const RewriteEnv& env, const std::string& v, int depth = 6);

// ---- reductions --------------------------------------------------------------------------
struct ReduceAxes {
  std::vector<int64_t> axes;  // as written (may be negative); empty = default
  bool keepdims = true;
  bool noop_with_empty_axes = false;
};
// First opset in which the reduction takes its axes as an input.
int axes_input_since(const std::string& reduce_op);
// The axes of a reduction node, from its attribute or (by opset) its constant input.
// nullopt when the axes input is not a constant.
std::optional<ReduceAxes> reduce_axes(const RewriteEnv& env, const Node& n);
// Emits `op` over x with the given axes, in the form the graph's opset expects.
std::string emit_reduce(const RewriteEnv& env, Builder& b, const std::string& op, const std::string& x,
                        const ReduceAxes& axes);
// Emits a copy of node n (same attributes and other inputs) reading `x` as input 0,
// optionally with another operator type (Max <-> Min share their signature).
std::string emit_copy(Builder& b, const Node& n, const std::string& x, const std::string& op_type = "");

// ---- a rule made of alternative patterns ---------------------------------------------------
struct Alternative {
  Pattern pattern;
  std::function<bool(const RewriteEnv&, const Bindings&)> condition;  // optional
  std::function<std::string(const RewriteEnv&, const Bindings&, Builder&)> build;
};

// Tries each alternative whose root operator matches, in order; the first whose
// pattern and condition hold and whose builder returns a value is the proposal.
// Refuses graphs with pre-opset-7 broadcasting.
std::unique_ptr<Rule> make_alternatives_rule(std::string name, std::string family, std::string description,
                                             std::vector<Alternative> alternatives);

// A pattern whose root node must also satisfy `cond`.
Pattern with_condition(Pattern p, std::function<bool(const Node&)> cond);

}  // namespace dnnf::rewrite::alg
