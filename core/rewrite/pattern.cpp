#include <algorithm>

#include "core/rewrite/rule.h"

namespace dnnf::rewrite {

std::string Builder::add(const std::string& op, std::vector<std::string> inputs,
                         std::map<std::string, Attribute> attrs, size_t num_outputs,
                         const std::string& domain) {
  Node n;
  n.op_type = op;
  n.domain = domain;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("$" + std::to_string(counter_++));
  rw_.new_nodes.push_back(std::move(n));
  return rw_.new_nodes.back().outputs[0];
}

std::string Builder::constant(Tensor value) {
  const std::string name = "$c" + std::to_string(counter_++);
  rw_.new_constants[name] = std::move(value);
  return name;
}

std::string Builder::scalar_like(double v, DType dtype) {
  Tensor t(dtype, {});
  t.set_f64(0, v);
  return constant(t);
}

Pattern op(const std::string& type, std::vector<Pattern> args, const std::string& name) {
  Pattern p;
  p.kind = Pattern::Kind::Op;
  p.op = type;
  p.args = std::move(args);
  p.name = name;
  return p;
}

Pattern any(const std::string& name) {
  Pattern p;
  p.kind = Pattern::Kind::Any;
  p.name = name;
  return p;
}

Pattern cst(const std::string& name) {
  Pattern p;
  p.kind = Pattern::Kind::Const;
  p.name = name;
  return p;
}

namespace {

bool bind_value(Bindings& b, const std::string& name, const std::string& value) {
  if (name.empty()) return true;
  auto it = b.values.find(name);
  if (it != b.values.end()) return it->second == value;
  b.values[name] = value;
  return true;
}

using Worklist = std::vector<std::pair<const Pattern*, std::string>>;

// Matches every (pattern, value) pair of `work`, backtracking over the operand order
// of commutative operators, so A*B + C*A finds A whichever side it is on.
bool match_all(const RewriteEnv& env, Worklist work, Bindings& b) {
  if (work.empty()) return true;
  const auto [p, value] = work.back();
  work.pop_back();
  if (value.empty()) return false;
  if (p->kind == Pattern::Kind::Any || p->kind == Pattern::Kind::Const) {
    if (p->kind == Pattern::Kind::Const && !env.constant(value)) return false;
    Bindings saved = b;
    if (bind_value(b, p->name, value) && match_all(env, work, b)) return true;
    b = saved;
    return false;
  }
  const Node* n = env.producer(value);
  if (!n || n->op_type != p->op || !(n->domain.empty() || n->domain == "ai.onnx")) return false;
  if (n->outputs.empty() || n->outputs[0] != value || n->inputs.size() != p->args.size()) return false;
  if (p->node_condition && !p->node_condition(*n)) return false;
  if (!p->name.empty()) {
    auto it = b.nodes.find(p->name);
    if (it != b.nodes.end() && it->second != n) return false;
  }
  const MathProps* props = env.props(*n);
  const bool commutative = props && props->commutative && p->args.size() == 2;
  for (int order = 0; order < (commutative ? 2 : 1); ++order) {
    Bindings saved = b;
    Worklist next = work;
    for (size_t i = p->args.size(); i-- > 0;) {
      const size_t input = order == 0 ? i : 1 - i;
      next.emplace_back(&p->args[i], n->inputs[input]);
    }
    if (!p->name.empty()) b.nodes[p->name] = n;
    const bool seen = std::find(b.matched.begin(), b.matched.end(), n->id) != b.matched.end();
    if (!seen) b.matched.push_back(n->id);
    if (match_all(env, next, b)) return true;
    b = saved;
  }
  return false;
}

}  // namespace

bool match_pattern(const RewriteEnv& env, const Pattern& p, const std::string& value, Bindings& b) {
  Bindings trial = b;
  if (!match_all(env, {{&p, value}}, trial)) return false;
  b = std::move(trial);
  return true;
}

namespace {

class PatternRule : public Rule {
 public:
  explicit PatternRule(PatternRuleSpec spec) : spec_(std::move(spec)) {}
  const std::string& name() const override { return spec_.name; }
  const std::string& family() const override { return spec_.family; }
  const std::string& description() const override { return spec_.description; }
  std::vector<std::string> roots() const override { return {spec_.pattern.op}; }

  std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const override {
    if (root.outputs.empty()) return std::nullopt;
    Bindings b;
    if (!match_pattern(env, spec_.pattern, root.outputs[0], b)) return std::nullopt;
    if (spec_.condition && !spec_.condition(env, b)) return std::nullopt;
    Rewrite rw;
    rw.root = root.id;
    rw.matched = b.matched;
    Builder builder(rw);
    const std::string result = spec_.build(env, b, builder);
    if (result.empty()) return std::nullopt;
    rw.replace.emplace_back(root.outputs[0], result);
    rw.reason = spec_.description;
    return rw;
  }

 private:
  PatternRuleSpec spec_;
};

}  // namespace

std::unique_ptr<Rule> make_pattern_rule(PatternRuleSpec spec) {
  return std::make_unique<PatternRule>(std::move(spec));
}

}  // namespace dnnf::rewrite
