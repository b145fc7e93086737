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

// Checks a proposal against the current graph. Every question about the whole graph
// (which values exist, who reads what, which nodes the rewrite frees) goes through
// `env`, which the driver keeps current, so the cost is local to the rewrite.
Evaluation evaluate(const RewriteEnv& env, const Rewrite& proposal) {
  const Graph& graph = env.graph();
  Evaluation ev;
  ev.rw = proposal;
  Rewrite& rw = ev.rw;
  for (NodeId id : rw.matched)
    if (!env.node(id)) { ev.why_invalid = "matched node gone"; return ev; }

  for (Node& n : rw.new_nodes)
    if (n.name.empty()) n.name = n.outputs.empty() ? n.op_type : n.outputs[0];

  // Every value the new nodes read must exist.
  std::unordered_set<std::string> new_outputs;
  auto defined = [&](const std::string& v) {
    return new_outputs.count(v) || rw.new_constants.count(v) || env.defines(v);
  };
  for (const Node& n : rw.new_nodes) {
    for (const std::string& in : n.inputs)
      if (!in.empty() && !defined(in)) { ev.why_invalid = "reads undefined " + in; return ev; }
    for (const std::string& o : n.outputs) new_outputs.insert(o);
  }
  for (const auto& [from, to] : rw.replace)
    if (!defined(to)) { ev.why_invalid = "replacement undefined"; return ev; }

  // Type the new nodes in order.
  auto type_of = [&](const std::string& v) -> const TensorType* {
    auto it = ev.new_types.find(v);
    if (it != ev.new_types.end()) return &it->second;
    return graph.type_of(v);
  };
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

  // Uses after rewiring, then the matched nodes that become dead. A value's count is
  // taken from the graph the first time it is touched, then adjusted here.
  std::unordered_map<std::string, int64_t> uses;
  auto use = [&](const std::string& v) -> int64_t& {
    auto [it, fresh] = uses.try_emplace(v, 0);
    if (fresh) it->second = env.read_count(v);
    return it->second;
  };
  for (const auto& [from, to] : rw.replace) {
    // Outer-scope reads inside subgraphs cannot be rewired by renaming inputs.
    if (env.read_in_subgraph(from)) {
      ev.why_invalid = "value read from inside a subgraph";
      return ev;
    }
    if (graph.is_graph_output(from) && (graph.is_graph_input(to) || graph.initializers.count(to) ||
                                        rw.new_constants.count(to) || graph.is_graph_output(to))) {
      ev.why_invalid = "graph output would alias an input or constant";
      return ev;
    }
    const int64_t moved = use(from);
    use(to) += moved;
    use(from) = 0;
  }
  for (const Node& n : rw.new_nodes)
    for (const std::string& in : n.inputs) ++use(in);
  std::set<size_t> dead;
  for (bool changed = true; changed;) {
    changed = false;
    for (NodeId id : rw.matched) {
      const size_t i = env.index_of(id);
      if (dead.count(i)) continue;
      const Node& n = graph.nodes[i];
      bool unused = true;
      for (const std::string& o : n.outputs)
        if (!o.empty() && use(o) > 0) unused = false;
      if (!unused) continue;
      dead.insert(i);
      changed = true;
      for (const std::string& in : node_reads(n)) --use(in);
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

// Renames a value everywhere a node mentions it (the nodes that produce or read it).
void rename_value(Graph& graph, RewriteEnv& env, const std::string& from, const std::string& to) {
  std::vector<NodeId> touched;
  if (from.empty()) {
    // Never indexed under the empty name: look at every node (a rule never does this).
    for (const Node& n : graph.nodes) touched.push_back(n.id);
  } else {
    if (const Node* p = env.producer(from)) touched.push_back(p->id);
    for (const Node* c : env.consumers(from)) touched.push_back(c->id);
  }
  for (NodeId id : touched) {
    Node& n = graph.nodes[env.index_of(id)];
    env.forget_node(n);
    for (std::string& in : n.inputs) if (in == from) in = to;
    for (std::string& o : n.outputs) if (o == from) o = to;
    env.index_node(n);
  }
  auto it = graph.value_types.find(from);
  if (it != graph.value_types.end()) {
    graph.value_types[to] = it->second;
    graph.value_types.erase(from);
  }
}

// Points the readers of `from` at `to`.
void rewire_readers(Graph& graph, RewriteEnv& env, const std::string& from, const std::string& to) {
  std::vector<NodeId> readers;
  for (const Node* c : env.consumers(from)) readers.push_back(c->id);
  for (NodeId id : readers) {
    Node& n = graph.nodes[env.index_of(id)];
    if (std::find(n.inputs.begin(), n.inputs.end(), from) == n.inputs.end()) continue;
    env.forget_node(n);
    for (std::string& in : n.inputs) if (in == from) in = to;
    env.index_node(n);
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

// Applies an evaluated rewrite to env's graph and brings env up to date.
JournalStep commit(Graph& graph, RewriteEnv& env, const Rule& rule, Evaluation& ev) {
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
  // Nodes before the first dead one stay where they are.
  const size_t first_dead = ev.dead.empty() ? graph.nodes.size() : ev.dead.front();
  size_t kept = first_dead, next_dead = 0;
  for (size_t i = first_dead; i < graph.nodes.size(); ++i) {
    if (next_dead < ev.dead.size() && ev.dead[next_dead] == i) {
      ++next_dead;
      step.removed.push_back(graph.nodes[i].id);
      env.forget_node(graph.nodes[i]);
      for (const std::string& o : graph.nodes[i].outputs)
        if (!graph.is_graph_output(o)) graph.value_types.erase(o);
    } else {
      graph.nodes[kept++] = std::move(graph.nodes[i]);
    }
  }
  graph.nodes.resize(kept);
  for (const auto& [k, t] : ev.new_types) graph.value_types[k] = t;
  const size_t first_new = graph.nodes.size();
  for (Node& n : rw.new_nodes) {
    // Operators the rewriter introduces in dnnf's own domain need its opset import.
    if (!n.domain.empty() && n.domain != "ai.onnx" && !graph.opsets.count(n.domain)) graph.opsets[n.domain] = 1;
    Node& added = graph.add_node(std::move(n));
    step.created.push_back(added.id);
  }
  env.renumber();
  for (size_t i = first_new; i < graph.nodes.size(); ++i) env.index_node(graph.nodes[i]);
  // Rewire readers; a graph output keeps its name by renaming its new producer.
  for (const auto& [from, to] : rw.replace) {
    if (graph.is_graph_output(from)) rename_value(graph, env, to, from);
    else rewire_readers(graph, env, from, to);
  }
  return step;
}

std::optional<JournalStep> apply_with(Graph& graph, RewriteEnv& env, const Rule& rule, const Rewrite& rw, bool force) {
  Evaluation ev = evaluate(env, rw);
  if (!ev.valid) return std::nullopt;
  if (!force && !rule.always_accept() && !cheaper(ev.after, ev.before)) return std::nullopt;
  return commit(graph, env, rule, ev);
}

bool rule_enabled(const Rule& r, const RewriteOptions& o) {
  if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), r.name()) == o.only.end()) return false;
  return std::find(o.disabled.begin(), o.disabled.end(), r.name()) == o.disabled.end();
}

}  // namespace

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

const Rule* find_rule(const std::string& name) {
  for (const auto& r : all_rules())
    if (r->name() == name) return r.get();
  return nullptr;
}

std::optional<JournalStep> apply_rewrite(Graph& graph, const Rule& rule, const Rewrite& rw, bool force) {
  RewriteEnv env(graph);
  return apply_with(graph, env, rule, rw, force);
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
    // One index of the graph for the whole sweep, kept current by every commit.
    RewriteEnv env(graph);
    {
      for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& n = graph.nodes[i];
        auto try_rules = [&](const std::vector<const Rule*>& rules) {
          for (const Rule* r : rules) {
            std::optional<Rewrite> rw = r->match(env, n);
            if (!rw) continue;
            Evaluation ev = evaluate(env, *rw);
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
    for (Candidate& c : candidates) {
      bool overlaps = false;
      for (NodeId id : c.rw.matched) overlaps = overlaps || touched.count(id);
      if (overlaps) continue;
      const Node* root = env.node(c.rw.root);
      if (!root) continue;
      std::optional<Rewrite> rw = c.rule->match(env, *root);
      if (!rw || rw->matched != c.rw.matched) continue;
      std::optional<JournalStep> step = apply_with(graph, env, *c.rule, *rw, /*force=*/false);
      if (!step) continue;
      if (options.check_index)
        check(env.same_as(RewriteEnv(graph)), "rewrite index out of date after ", c.rule->name(), " at node #", c.rw.root);
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
  RewriteReplayer replayer(graph);
  for (const JournalStep& step : journal.steps)
    if (step.stage == "rewrite") replayer.apply(step);
  replayer.finish();
}

RewriteReplayer::RewriteReplayer(Graph& graph, int64_t sweep) : graph_(graph), sweep_(sweep) {}

RewriteReplayer::~RewriteReplayer() = default;

void RewriteReplayer::apply(const JournalStep& step) {
  check(step.stage == "rewrite", "journal step ", step.rule, " is not a rewrite step");
  const int64_t sweep = step.details.value("sweep", int64_t(0));
  if (sweep_ >= 0 && sweep != sweep_) {
    finish_sweep(graph_);  // the driver tidies between sweeps and re-indexes the graph
    env_.reset();
  }
  sweep_ = sweep;
  const Rule* rule = find_rule(step.rule);
  check(rule != nullptr, "journal names unknown rule '", step.rule, "'");
  if (!env_) env_ = std::make_unique<RewriteEnv>(graph_);
  const NodeId root_id = step.details.value("root", NodeId(-1));
  const Node* root = env_->node(root_id);
  check(root != nullptr, "journal step ", step.rule, ": node #", root_id, " is not in the graph");
  std::optional<Rewrite> rw = rule->match(*env_, *root);
  check(rw.has_value(), "journal step ", step.rule, " no longer matches at node #", root_id);
  check(rw->matched == step.matched, "journal step ", step.rule, " matches different nodes at #", root_id);
  std::optional<JournalStep> applied = apply_with(graph_, *env_, *rule, *rw, /*force=*/true);
  check(applied.has_value(), "journal step ", step.rule, " cannot be applied at node #", root_id);
  check(applied->created.size() == step.created.size() && applied->removed == step.removed,
        "journal step ", step.rule, " at #", root_id, " changed different nodes on replay");
}

void RewriteReplayer::finish() {
  if (sweep_ >= 0) finish_sweep(graph_);
  env_.reset();
}

}  // namespace dnnf::rewrite
