// Shared by the composite-recognition rules (composite_*.cpp): walking producers
// through no-op Casts, reduction axes, scalar constants, normalisation parameters and
// the check that a matched subgraph is used only through its root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite::composite {

inline constexpr const char* kDomain = "dnnf";

// Collects the nodes a match covers, without duplicates, in the order seen.
struct NodeSet {
  std::vector<NodeId> ids;
  std::vector<const Node*> nodes;
  void add(const Node* n);
  void add_all(const NodeSet& other);
  bool has(NodeId id) const;
};

// Follows Casts to the type the value already has (exporters insert them freely)
// and returns the value they copy; the Casts go to `seen` when given.
std::string skip_noop_casts(const RewriteEnv& env, std::string v, NodeSet* seen = nullptr);

// The ai.onnx producer of `v` with op type `op` (after no-op Casts, recorded in
// `seen`), or nullptr.
const Node* producer_of(const RewriteEnv& env, const std::string& v, const char* op, NodeSet* seen = nullptr);

// Axes of a Reduce* node from its attribute or constant input; nullopt when unknown
// or absent (reduce-all), or when noop_with_empty_axes is set.
std::optional<std::vector<int64_t>> reduce_axes(const RewriteEnv& env, const Node& n);
bool keeps_dims(const Node& n);

// The axes as "the last k axes of a value of rank `rank`" (rank -1 = unknown): -k,
// or nullopt when they are anything else.
std::optional<int64_t> trailing_axis(std::vector<int64_t> axes, int64_t rank);

// Rank of a value's type, -1 when unknown.
int64_t rank_of(const RewriteEnv& env, const std::string& v);
bool is_float_value(const RewriteEnv& env, const std::string& v);

// The value of a one-element constant (any rank up to `max_rank`; -1 = any).
std::optional<double> scalar_constant(const RewriteEnv& env, const std::string& v, int64_t max_rank = -1);

// A per-feature parameter (scale or shift) of a normalisation over the last -axis
// axes of `x`: statically shaped, same element type, broadcasting onto the normalised
// suffix only (so it neither broadcasts x up nor varies along the outer axes).
bool is_suffix_param(const RewriteEnv& env, const std::string& p, const std::string& x, int64_t axis);
bool is_suffix_shape(const Shape& p, const TensorType& x, int64_t axis);

// Same value, looking through no-op Casts on both sides.
bool same_value(const RewriteEnv& env, const std::string& a, const std::string& b);

// True when no node outside the match reads a value computed by the match (other
// than the root's outputs) and none of them is a graph output.
bool closed_match(const RewriteEnv& env, const NodeSet& matched, NodeId root);

// Evaluates a binary ai.onnx operator (Mul, Add, Sub) on two known tensors.
std::optional<Tensor> fold_binary(const char* op, const Tensor& a, const Tensor& b);

// Rules of each file.
void add_norm_rules(RuleList& r);
void add_activation_rules(RuleList& r);
void add_attention_rules(RuleList& r);

}  // namespace dnnf::rewrite::composite
