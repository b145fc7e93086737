#include "core/rewrite/driver.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/ir/shape_inference.h"
#include "core/rewrite/cost_model.h"
#include "core/util/error.h"

namespace dnnf::rewrite {

namespace {

// A rewrite with its local names resolved, its new nodes typed and its effect known.
struct Evaluation {
  bool valid = false;
  std::string why_invalid;
  Rewrite rw;                                     // local names replaced
  std::map<std::string, TensorType> new_types;    // types of new values
  std::vector<size_t> dead;                       // indices of matched nodes that die
  CostSnapshot before, after;
};

std::string resolve(const std::map<std::string, std::string>& names, const std::string& v) {
  auto it = names.find(v);
  return it == names.end() ? v : it->second;
}

Evaluation evaluate(Graph& graph, const Rewrite& proposal) {
  Evaluation ev;
  ev.rw = proposal;
  Rewrite& rw = ev.rw;
  std::unordered_map<NodeId, size_t> index_of;
  for (size_t i = 0; i < graph.nodes.size(); ++i) index_of[graph.nodes[i].id] = i;
  for (NodeId id : rw.matched)
    if (!index_of.count(id)) { ev.why_invalid = "matched node gone"; return ev; }

  for (Node& n : rw.new_nodes)
    if (n.name.empty()) n.name = n.outputs.empty() ? n.op_type : n.outputs[0];

  // Every value the new nodes read must exist.
  std::unordered_set<std::string> defined;
  for (const ValueInfo& v : graph.inputs) defined.insert(v.name);
  for (const auto& [k, t] : graph.initializers) defined.insert(k);
  for (const auto& [k, t] : rw.new_constants) defined.insert(k);
  for (const Node& n : graph.nodes)
    for (const std::string& o : n.outputs) defined.insert(o);
  for (const Node& n : rw.new_nodes) {
    for (const std::string& in : n.inputs)
      if (!in.empty() && !defined.count(in)) { ev.why_invalid = "reads undefined " + in; return ev; }
    for (const std::string& o : n.outputs) defined.insert(o);
  }
  for (const auto& [from, to] : rw.replace)
    if (!defined.count(to)) { ev.why_invalid = "replacement undefined"; return ev; }

  // Type the new nodes in order.
  auto type_of = [&](const std::string& v) -> const TensorType* {
    auto it = ev.new_types.find(v);
    if (it != ev.new_types.end()) return &it->second;
    return graph.type_of(v);
  };
  std::map<std::string, Tensor> const_nodes;
  auto value_of = [&](const std::string& v) -> const Tensor* {
    auto it = rw.new_constants.find(v);
    if (it != rw.new_constants.end()) return &it->second;
    auto jt = graph.initializers.find(v);
    return jt == graph.initializers.end() ? nullptr : &jt->second;
  };
  for (const auto& [k, t] : rw.new_constants) ev.new_types[k] = TensorType(t.dtype(), t.shape());
  try {
    for (const Node& n : rw.new_nodes) {
      const std::vector<TensorType> outs = infer_node_types(graph, n, type_of, value_of);
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty()) ev.new_types[n.outputs[i]] = outs[i];
    }
  } catch (const Error& e) {
    ev.why_invalid = std::string("new nodes do not type-check: ") + e.what();
    return ev;
  }
  // The replacement must have the same element type (and shape when both are known).
  for (const auto& [from, to] : rw.replace) {
    const TensorType* a = graph.type_of(from);
    const TensorType* b = type_of(to);
    if (!a || !b || a->dtype != b->dtype) { ev.why_invalid = "replacement changes the element type"; return ev; }
    if (a->is_static() && b->is_static() && a->static_shape() != b->static_shape()) {
      ev.why_invalid = "replacement changes the shape";
      return ev;
    }
  }

  // Uses after rewiring, then the matched nodes that become dead.
  std::unordered_map<std::string, int64_t> uses;
  for (const Node& n : graph.nodes)
    for (const std::string& in : node_reads(n)) ++uses[in];
  for (const ValueInfo& o : graph.outputs) ++uses[o.name];
  for (const auto& [from, to] : rw.replace) {
    // Outer-scope reads inside subgraphs cannot be rewired by renaming inputs.
    for (const Node& n : graph.nodes) {
      const auto inner = subgraph_reads(n);
      if (std::find(inner.begin(), inner.end(), from) != inner.end()) {
        ev.why_invalid = "value read from inside a subgraph";
        return ev;
      }
    }
    if (graph.is_graph_output(from) && (graph.is_graph_input(to) || graph.initializers.count(to) ||
                                        rw.new_constants.count(to) || graph.is_graph_output(to))) {
      ev.why_invalid = "graph output would alias an input or constant";
      return ev;
    }
    uses[to] += uses[from];
    uses[from] = 0;
  }
  for (const Node& n : rw.new_nodes)
    for (const std::string& in : n.inputs) ++uses[in];
  std::set<size_t> dead;
  for (bool changed = true; changed;) {
    changed = false;
    for (NodeId id : rw.matched) {
      const size_t i = index_of.at(id);
      if (dead.count(i)) continue;
      const Node& n = graph.nodes[i];
      bool unused = true;
      for (const std::string& o : n.outputs)
        if (!o.empty() && uses[o] > 0) unused = false;
      if (!unused) continue;
      dead.insert(i);
      changed = true;
      for (const std::string& in : node_reads(n)) --uses[in];
    }
  }
  ev.dead.assign(dead.begin(), dead.end());
  for (const auto& [from, to] : rw.replace) {
    // A graph output keeps its name, so its old producer must go.
    if (!graph.is_graph_output(from)) continue;
    const int64_t p = graph.producer_index(from);
    if (p >= 0 && !dead.count(size_t(p))) { ev.why_invalid = "graph output producer stays"; return ev; }
  }
  std::vector<const Node*> dead_nodes, new_nodes;
  for (size_t i : ev.dead) dead_nodes.push_back(&graph.nodes[i]);
  for (const Node& n : rw.new_nodes) new_nodes.push_back(&n);
  ev.before = nodes_cost(dead_nodes, [&](const std::string& v) { return graph.type_of(v); });
  ev.after = nodes_cost(new_nodes, type_of);
  ev.valid = true;
  return ev;
}

void rename_value(Graph& graph, const std::string& from, const std::string& to) {
  for (Node& n : graph.nodes) {
    for (std::string& in : n.inputs) if (in == from) in = to;
    for (std::string& o : n.outputs) if (o == from) o = to;
  }
  auto it = graph.value_types.find(from);
  if (it != graph.value_types.end()) {
    graph.value_types[to] = it->second;
    graph.value_types.erase(from);
  }
}

// Gives the rewrite's local '$' values fresh graph-wide names. Done only when a
// rewrite is committed, so that names do not depend on rejected candidates.
void assign_fresh_names(Graph& graph, Evaluation& ev) {
  Rewrite& rw = ev.rw;
  std::map<std::string, std::string> names;
  for (const auto& [k, t] : rw.new_constants)
    if (!k.empty() && k[0] == '$') names[k] = graph.fresh_name("dnnf_c");
  for (const Node& n : rw.new_nodes)
    for (const std::string& o : n.outputs)
      if (!o.empty() && o[0] == '$') names[o] = graph.fresh_name("dnnf_rw");
  std::map<std::string, Tensor> constants;
  for (auto& [k, t] : rw.new_constants) constants[resolve(names, k)] = t;
  rw.new_constants = std::move(constants);
  for (Node& n : rw.new_nodes) {
    for (std::string& in : n.inputs) in = resolve(names, in);
    for (std::string& o : n.outputs) o = resolve(names, o);
    if (!n.name.empty() && n.name[0] == '$') n.name = resolve(names, n.name);
  }
  for (auto& [from, to] : rw.replace) to = resolve(names, to);
  std::map<std::string, TensorType> types;
  for (auto& [k, t] : ev.new_types) types[resolve(names, k)] = t;
  ev.new_types = std::move(types);
}

JournalStep commit(Graph& graph, const Rule& rule, Evaluation& ev) {
  assign_fresh_names(graph, ev);
  Rewrite& rw = ev.rw;
  JournalStep step;
  step.stage = "rewrite";
  step.rule = rule.name();
  step.family = rule.family();
  step.matched = rw.matched;
  step.reason = rw.reason.empty() ? rule.description() : rw.reason;
  step.cost_before = ev.before;
  step.cost_after = ev.after;
  step.details = {{"root", rw.root}};

  for (auto& [k, t] : rw.new_constants) graph.initializers[k] = t;
  // Remove dead matched nodes first (their outputs may be re-used as names below).
  std::set<size_t> dead(ev.dead.begin(), ev.dead.end());
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size() + rw.new_nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (dead.count(i)) {
      step.removed.push_back(graph.nodes[i].id);
      for (const std::string& o : graph.nodes[i].outputs)
        if (!graph.is_graph_output(o)) graph.value_types.erase(o);
    } else {
      kept.push_back(std::move(graph.nodes[i]));
    }
  }
  graph.nodes = std::move(kept);
  for (const auto& [k, t] : ev.new_types) graph.value_types[k] = t;
  for (Node& n : rw.new_nodes) {
    // Operators the rewriter introduces in dnnf's own domain need its opset import.
    if (!n.domain.empty() && n.domain != "ai.onnx" && !graph.opsets.count(n.domain)) graph.opsets[n.domain] = 1;
    Node& added = graph.add_node(std::move(n));
    step.created.push_back(added.id);
  }
  // Rewire readers; a graph output keeps its name by renaming its new producer.
  for (const auto& [from, to] : rw.replace) {
    if (graph.is_graph_output(from)) {
      rename_value(graph, to, from);
    } else {
      for (Node& n : graph.nodes)
        for (std::string& in : n.inputs) if (in == from) in = to;
    }
  }
  return step;
}

bool rule_enabled(const Rule& r, const RewriteOptions& o) {
  if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), r.name()) == o.only.end()) return false;
  return std::find(o.disabled.begin(), o.disabled.end(), r.name()) == o.disabled.end();
}

void finish_sweep(Graph& graph) {
  graph.topo_sort();
  // Initializers nobody reads any more (folded weights, replaced constants).
  std::unordered_set<std::string> read;
  for (const Node& n : graph.nodes)
    for (const std::string& in : node_reads(n)) read.insert(in);
  for (const ValueInfo& o : graph.outputs) read.insert(o.name);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (!read.count(it->first)) {
      graph.value_types.erase(it->first);
      it = graph.initializers.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

const Rule* find_rule(const std::string& name) {
  for (const auto& r : all_rules())
    if (r->name() == name) return r.get();
  return nullptr;
}

std::optional<JournalStep> apply_rewrite(Graph& graph, const Rule& rule, const Rewrite& rw, bool force) {
  Evaluation ev = evaluate(graph, rw);
  if (!ev.valid) return std::nullopt;
  if (!force && !rule.always_accept() && !cheaper(ev.after, ev.before)) return std::nullopt;
  return commit(graph, rule, ev);
}

RewriteSummary run_rewrites(Graph& graph, Journal* journal, const RewriteOptions& options) {
  RewriteSummary summary;
  const CostSnapshot start = graph_cost(graph);
  summary.nodes_before = int64_t(graph.nodes.size());
  summary.flops_before = start.flops;

  std::unordered_map<std::string, std::vector<const Rule*>> by_root;
  for (const auto& r : all_rules()) {
    if (!rule_enabled(*r, options)) continue;
    for (const std::string& root : r->roots()) by_root[root].push_back(r.get());
  }
  const auto& wildcard = by_root["*"];

  for (int sweep = 0; sweep < options.max_sweeps; ++sweep) {
    struct Candidate {
      const Rule* rule;
      Rewrite rw;
      double flop_gain;
      int64_t node_gain;
      size_t order;
    };
    std::vector<Candidate> candidates;
    {
      const RewriteEnv env(graph);
      for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& n = graph.nodes[i];
        auto try_rules = [&](const std::vector<const Rule*>& rules) {
          for (const Rule* r : rules) {
            std::optional<Rewrite> rw = r->match(env, n);
            if (!rw) continue;
            Evaluation ev = evaluate(graph, *rw);
            if (!ev.valid) continue;
            if (!r->always_accept() && !cheaper(ev.after, ev.before)) continue;
            candidates.push_back({r, std::move(*rw), ev.before.flops - ev.after.flops,
                                  ev.before.nodes - ev.after.nodes, candidates.size()});
          }
        };
        auto it = by_root.find(n.op_type);
        if (it != by_root.end()) try_rules(it->second);
        try_rules(wildcard);
      }
    }
    if (candidates.empty()) break;
    // Greedy as in the paper: the largest FLOP reduction first, then node reduction.
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      if (a.flop_gain != b.flop_gain) return a.flop_gain > b.flop_gain;
      if (a.node_gain != b.node_gain) return a.node_gain > b.node_gain;
      return a.order < b.order;
    });
    // Each candidate is matched again on the current graph before it is applied, so
    // the journal's steps replay exactly (see replay_rewrites).
    std::unordered_set<NodeId> touched;
    size_t applied = 0;
    std::unique_ptr<RewriteEnv> env;  // rebuilt only after the graph changed
    for (Candidate& c : candidates) {
      bool overlaps = false;
      for (NodeId id : c.rw.matched) overlaps = overlaps || touched.count(id);
      if (overlaps) continue;
      const Node* root = graph.find_node(c.rw.root);
      if (!root) continue;
      if (!env) env = std::make_unique<RewriteEnv>(graph);
      std::optional<Rewrite> rw = c.rule->match(*env, *root);
      if (!rw || rw->matched != c.rw.matched) continue;
      std::optional<JournalStep> step = apply_rewrite(graph, *c.rule, *rw);
      if (!step) continue;
      env.reset();
      for (NodeId id : c.rw.matched) touched.insert(id);
      ++summary.rewrites[c.rule->name()];
      ++applied;
      step->details["sweep"] = sweep;
      if (journal) journal->steps.push_back(std::move(*step));
    }
    finish_sweep(graph);
    summary.sweeps = sweep + 1;
    if (options.on_sweep) options.on_sweep(sweep, journal ? journal->steps.size() : applied);
    if (applied == 0) break;
  }
  const CostSnapshot end = graph_cost(graph);
  summary.nodes_after = int64_t(graph.nodes.size());
  summary.flops_after = end.flops;
  return summary;
}

void replay_rewrites(Graph& graph, const Journal& journal) {
  int64_t current_sweep = -1;
  for (const JournalStep& step : journal.steps) {
    if (step.stage != "rewrite") continue;
    const int64_t sweep = step.details.value("sweep", int64_t(0));
    if (current_sweep >= 0 && sweep != current_sweep) finish_sweep(graph);
    current_sweep = sweep;
    const Rule* rule = find_rule(step.rule);
    check(rule != nullptr, "journal names unknown rule '", step.rule, "'");
    const NodeId root_id = step.details.value("root", NodeId(-1));
    const Node* root = graph.find_node(root_id);
    check(root != nullptr, "journal step ", step.rule, ": node #", root_id, " is not in the graph");
    const RewriteEnv env(graph);
    std::optional<Rewrite> rw = rule->match(env, *root);
    check(rw.has_value(), "journal step ", step.rule, " no longer matches at node #", root_id);
    check(rw->matched == step.matched, "journal step ", step.rule, " matches different nodes at #", root_id);
    std::optional<JournalStep> applied = apply_rewrite(graph, *rule, *rw, /*force=*/true);
    check(applied.has_value(), "journal step ", step.rule, " cannot be applied at node #", root_id);
    check(applied->created.size() == step.created.size() && applied->removed == step.removed,
          "journal step ", step.rule, " at #", root_id, " changed different nodes on replay");
  }
  if (current_sweep >= 0) finish_sweep(graph);
}

}  // namespace dnnf::rewrite
