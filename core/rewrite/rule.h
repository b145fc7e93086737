// Rewrite rules. A rule looks at a root node and, when its pattern and conditions
// hold, proposes a Rewrite: the nodes it covers, the nodes that replace them and the
// values to rewire. The driver owns the loop, the cost check and the journal, so rules
// stay small. Most rules are PatternRules: a pattern tree plus a builder (data); the
// few that need real code (constant folding, CSE, BN folding) subclass Rule.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/rewrite/rewrite_env.h"

namespace dnnf::rewrite {

// A proposed change. New value names starting with '$' are local to the rewrite;
// the driver gives them fresh graph-wide names when it applies the rewrite.
struct Rewrite {
  NodeId root = -1;
  std::vector<NodeId> matched;
  std::vector<Node> new_nodes;                      // in dependency order, ids unset
  std::map<std::string, Tensor> new_constants;      // '$'-named or fresh initializers
  std::vector<std::pair<std::string, std::string>> replace;  // readers of first read second
  std::string reason;
};

// Helps a rule emit nodes and constants with local names.
class Builder {
 public:
  explicit Builder(Rewrite& rw) : rw_(rw) {}
  // Adds a node; returns the name of its (first) output.
  std::string add(const std::string& op, std::vector<std::string> inputs,
                  std::map<std::string, Attribute> attrs = {}, size_t num_outputs = 1,
                  const std::string& domain = "");
  std::string constant(Tensor value);
  std::string scalar_like(double v, DType dtype);  // 0-d constant of a given dtype

 private:
  Rewrite& rw_;
  int counter_ = 0;
};

class Rule {
 public:
  virtual ~Rule() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& family() const = 0;   // associative, distributive, commutative, fold, cleanup, composite, layout
  virtual const std::string& description() const = 0;
  virtual std::vector<std::string> roots() const = 0;  // op types this rule anchors on ("*" = any)
  virtual std::optional<Rewrite> match(const RewriteEnv& env, const Node& root) const = 0;
  // Rules that never lower FLOPs/nodes by the cost model's measure but are always
  // wanted (cleanups such as DCE) return true.
  virtual bool always_accept() const { return false; }
};

// ---- patterns ------------------------------------------------------------------------
struct Pattern {
  enum class Kind { Op, Any, Const };
  Kind kind = Kind::Any;
  std::string op;                 // Op: operator type
  std::vector<Pattern> args;      // Op: one pattern per node input (exact arity)
  std::string name;               // binds the node (Op) or the value (Any/Const)
  std::function<bool(const Node&)> node_condition;
};

Pattern op(const std::string& type, std::vector<Pattern> args, const std::string& name = "");
Pattern any(const std::string& name);   // any value; a repeated name must bind the same value
Pattern cst(const std::string& name);   // a constant value

struct Bindings {
  std::map<std::string, std::string> values;   // pattern name -> value name
  std::map<std::string, const Node*> nodes;    // pattern name -> node
  std::vector<NodeId> matched;
  const std::string& v(const std::string& k) const { return values.at(k); }
};

// Matches `pattern` against the value `value` (its producer for Op patterns).
// Commutative binary ops (registry properties) are tried in both orders.
bool match_pattern(const RewriteEnv& env, const Pattern& pattern, const std::string& value, Bindings& b);

// A rule written as data: pattern, condition, builder.
struct PatternRuleSpec {
  std::string name;
  std::string family;
  std::string description;        // one line, e.g. "A*C + A*B -> A*(B+C)"
  Pattern pattern;                // root is an Op pattern
  std::function<bool(const RewriteEnv&, const Bindings&)> condition;  // optional
  // Emits the replacement and returns the value that replaces the root's output.
  std::function<std::string(const RewriteEnv&, const Bindings&, Builder&)> build;
};

std::unique_ptr<Rule> make_pattern_rule(PatternRuleSpec spec);

// Base for hand-written rules: name, family and description as data.
class NamedRule : public Rule {
 public:
  NamedRule(std::string name, std::string family, std::string description)
      : name_(std::move(name)), family_(std::move(family)), description_(std::move(description)) {}
  const std::string& name() const override { return name_; }
  const std::string& family() const override { return family_; }
  const std::string& description() const override { return description_; }

 private:
  std::string name_, family_, description_;
};

}  // namespace dnnf::rewrite
