// Cleanup rules: operators that do nothing, dead code, duplicated work, Constant nodes.
#include <algorithm>

#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite {

namespace {

// Identity(x) -> x; Dropout(x) at inference -> x (its mask unused).
class RemoveIdentity : public NamedRule {
 public:
  RemoveIdentity() : NamedRule("remove-identity", "cleanup", "Identity(x) and inference Dropout(x) -> x") {}
  std::vector<std::string> roots() const override { return {"Identity", "Dropout"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!n.has_input(0) || n.outputs.empty() || !only_first_output_used(env, n)) return std::nullopt;
    if (n.op_type == "Dropout") {
      // Opset 12+: training_mode input; a known false (or absent) means inference. A
      // malformed one (empty, or not one value) is not read: it says nothing.
      if (n.has_input(2)) {
        const Tensor* t = env.constant(n.inputs[2]);
        const std::optional<double> training = t ? splat_value(*t) : std::nullopt;
        if (!training || *training != 0) return std::nullopt;
      }
    }
    return bypass(n, n.inputs[0], description());
  }
};

// Operators whose output equals their input: Cast to the same type, Pad by zero,
// Reshape/Flatten/Squeeze/Unsqueeze/Expand to the same shape, identity Transpose,
// Slice over everything.
class RemoveNoOp : public NamedRule {
 public:
  RemoveNoOp()
      : NamedRule("remove-no-op", "cleanup",
                  "Cast to the same type, zero Pad, same-shape Reshape/Expand, identity Transpose -> x") {}
  std::vector<std::string> roots() const override {
    return {"Cast", "Pad", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand", "Transpose", "Slice", "Tile"};
  }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (!n.has_input(0) || n.outputs.size() != 1) return std::nullopt;
    const TensorType* in = env.type(n.inputs[0]);
    const TensorType* out = env.type(n.outputs[0]);
    if (!in || !out || in->dtype != out->dtype) return std::nullopt;
    if (n.op_type == "Transpose") {
      const auto perm = n.attr_ints("perm");
      if (perm.empty() && in->rank() > 1) return std::nullopt;
      for (size_t i = 0; i < perm.size(); ++i)
        if (perm[i] != int64_t(i)) return std::nullopt;
      return bypass(n, n.inputs[0], "identity permutation");
    }
    if (n.op_type == "Pad") {
      std::vector<int64_t> pads = n.attr_ints("pads");
      if (n.has_input(1)) {
        const Tensor* p = env.constant(n.inputs[1]);
        if (!p) return std::nullopt;
        pads = p->to_i64_vector();
      }
      if (std::any_of(pads.begin(), pads.end(), [](int64_t v) { return v != 0; })) return std::nullopt;
      return bypass(n, n.inputs[0], "all pads are zero");
    }
    if (n.op_type == "Cast") return bypass(n, n.inputs[0], "Cast to the type it already has");
    if (n.op_type == "Slice") {
      // Same shape is a copy only with unit steps: a step of -1 reverses the data.
      if (n.has_input(4)) {
        const Tensor* steps = env.constant(n.inputs[4]);
        if (!steps) return std::nullopt;
        for (int64_t v : steps->to_i64_vector())
          if (v != 1) return std::nullopt;
      }
    }
    // Shape-preserving data movement: same static shape in and out means a copy.
    auto si = in->static_shape(), so = out->static_shape();
    if (!si || !so || *si != *so) return std::nullopt;
    return bypass(n, n.inputs[0], "output shape equals input shape");
  }
};

class DeadCode : public NamedRule {
 public:
  DeadCode() : NamedRule("dead-code", "cleanup", "remove operators whose results nobody reads") {}
  std::vector<std::string> roots() const override { return {"*"}; }
  bool always_accept() const override { return true; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    for (const std::string& o : n.outputs)
      if (!o.empty() && env.uses(o) > 0) return std::nullopt;
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {n.id};
    rw.reason = "no reader of its outputs";
    return rw;
  }
};

// Constant node -> initializer: constants are data, not operators.
class ConstantToInitializer : public NamedRule {
 public:
  ConstantToInitializer()
      : NamedRule("constant-to-initializer", "cleanup", "Constant node -> graph constant (initializer)") {}
  std::vector<std::string> roots() const override { return {"Constant"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (n.outputs.size() != 1 || env.is_graph_output(n.outputs[0])) return std::nullopt;
    const Tensor* t = env.constant(n.outputs[0]);
    Tensor value;
    if (t) {
      value = *t;
    } else {
      std::vector<Tensor> out = evaluate_node(env.graph(), n, {});
      if (out.empty()) return std::nullopt;
      value = out[0];
    }
    Rewrite rw;
    rw.root = n.id;
    rw.matched = {n.id};
    Builder b(rw);
    rw.replace.emplace_back(n.outputs[0], b.constant(value));
    rw.reason = description();
    return rw;
  }
};

// Common-subexpression elimination: the same op on the same inputs with the same
// attributes is computed once.
class CommonSubexpression : public NamedRule {
 public:
  CommonSubexpression()
      : NamedRule("common-subexpression", "cleanup", "same operator, inputs and attributes computed twice -> once") {}
  std::vector<std::string> roots() const override { return {"*"}; }
  std::optional<Rewrite> match(const RewriteEnv& env, const Node& n) const override {
    if (n.inputs.empty() || n.outputs.empty()) return std::nullopt;
    if (is_random_op(n.op_type)) return std::nullopt;
    const std::string& first = n.inputs[0];
    if (first.empty()) return std::nullopt;
    for (const Node* other : env.consumers(first)) {
      if (other == &n || other->id >= n.id || !same_node(*other, n)) continue;
      Rewrite rw;
      rw.root = n.id;
      rw.matched = {n.id};
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty() && !other->outputs[i].empty()) rw.replace.emplace_back(n.outputs[i], other->outputs[i]);
      rw.reason = "same as " + other->label();
      return rw;
    }
    return std::nullopt;
  }

 private:
  static bool same_node(const Node& a, const Node& b) {
    if (a.op_type != b.op_type || a.domain != b.domain || a.inputs != b.inputs) return false;
    if (a.outputs.size() != b.outputs.size() || a.attrs.size() != b.attrs.size()) return false;
    for (size_t i = 0; i < a.outputs.size(); ++i)
      if (a.outputs[i].empty() != b.outputs[i].empty()) return false;
    for (const auto& [k, v] : a.attrs) {
      const Attribute* o = b.attr(k);
      if (!o || !same_attribute(v, *o)) return false;
    }
    return true;
  }
};

}  // namespace

void add_cleanup_rules(RuleList& r) {
  r.push_back(std::make_unique<RemoveIdentity>());
  r.push_back(std::make_unique<RemoveNoOp>());
  r.push_back(std::make_unique<DeadCode>());
  r.push_back(std::make_unique<ConstantToInitializer>());
  r.push_back(std::make_unique<CommonSubexpression>());
}

}  // namespace dnnf::rewrite
