#include "core/fusion/planner.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/fusion/mapping_table.h"
#include "core/util/error.h"

namespace dnnf::fusion {

namespace {

int64_t value_bytes(const Graph& g, const std::string& v) {
  const TensorType* t = g.type_of(v);
  if (!t || !t->is_static()) return int64_t(1) << 40;  // unknown: treat as huge
  return t->numel_or(0) * int64_t(dtype_size(t->dtype));
}

class Planner {
 public:
  Planner(const Graph& g, const PlannerOptions& o, Journal* j, BlockProfiler& p)
      : g_(g), opt_(o), journal_(j), profiler_(p) {
    const OpRegistry& reg = OpRegistry::instance();
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      mapping_.push_back(reg.mapping_of(n, g.types_of(n.inputs), g.types_of(n.outputs)));
      for (const std::string& out : n.outputs)
        if (!out.empty()) producer_[out] = i;
    }
    consumers_.resize(g.nodes.size());
    preds_.resize(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const std::string& in : node_reads(g.nodes[i])) {
        auto it = producer_.find(in);
        if (it == producer_.end()) continue;
        if (std::find(preds_[i].begin(), preds_[i].end(), it->second) == preds_[i].end()) preds_[i].push_back(it->second);
        auto& c = consumers_[it->second];
        if (std::find(c.begin(), c.end(), i) == c.end()) c.push_back(i);
      }
    block_of_.assign(g.nodes.size(), -1);
    load_time_ = load_time_nodes(g);
    fusible_.assign(g.nodes.size(), true);
    unfusible_why_.assign(g.nodes.size(), "");
    if (o.fusible)
      for (size_t i = 0; i < g.nodes.size(); ++i) fusible_[i] = o.fusible(g.nodes[i], &unfusible_why_[i]);
  }

  FusionPlan run() {
    FusionPlan plan;
    plan.target = opt_.target;
    if (opt_.enabled) {
      grow_blocks();
      chain_blocks();
    }
    // Every operator not in a block runs alone; constants are data, not kernels.
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (block_of_[i] >= 0 || load_time_[i]) continue;
      block_of_[i] = int(blocks_.size());
      blocks_.push_back({{i}, mapping_[i], -1});
    }
    for (const Work& w : blocks_) {
      if (w.nodes.empty()) continue;  // joined into another block (chain_blocks)
      FusedBlock fb;
      for (size_t i : w.nodes) fb.nodes.push_back(g_.nodes[i].id);
      fb.type = w.type;
      fb.seed = w.seed >= 0 ? g_.nodes[size_t(w.seed)].id : -1;
      plan.blocks.push_back(std::move(fb));
    }
    finish_plan(g_, plan);
    return plan;
  }

 private:
  struct Work {
    std::vector<size_t> nodes;
    MappingType type;
    int64_t seed;
  };

  // Seeds in phases of rising transformation impedance. Phase 1 is the paper's
  // (One-to-One operators, smallest intermediate result first); the paper stops
  // there and leaves the rest unfused. dnnf goes on with Reorganize/Shuffle, then
  // One-to-Many, then Many-to-Many seeds, so that e.g. a MatMul still takes its
  // Reshape/Transpose neighbours; the table decides every edge as before.
  void grow_blocks() {
    const std::vector<std::vector<MappingType>> phases = {
        {MappingType::OneToOne},
        {MappingType::Reorganize, MappingType::Shuffle},
        {MappingType::OneToMany},
        {MappingType::ManyToMany}};
    for (size_t phase = 0; phase < phases.size(); ++phase) {
      std::vector<size_t> seeds;
      for (size_t i = 0; i < g_.nodes.size(); ++i) {
        const auto& types = phases[phase];
        if (!load_time_[i] && fusible_[i] &&
            std::find(types.begin(), types.end(), mapping_[i]) != types.end())
          seeds.push_back(i);
      }
      std::stable_sort(seeds.begin(), seeds.end(), [&](size_t a, size_t b) { return irs(a) < irs(b); });
      for (size_t s : seeds) {
        if (block_of_[s] >= 0) continue;
        const int b = int(blocks_.size());
        blocks_.push_back({{s}, mapping_[s], int64_t(s)});
        block_of_[s] = b;
        // Seeds that are a Many-to-Many producer's natural epilogue walk to it first (see
        // epilogue_first); the journal says which order a seed took and why.
        const bool producer_first = epilogue_first(s);
        record("seed", s, s, b, Verdict::Fuse, true,
               std::string(phase == 0 ? "One-to-One operator with the smallest intermediate result among those left"
                                      : std::string("no One-to-One seed left: ") + mapping_type_name(mapping_[s]) +
                                            " operator with the smallest intermediate result among those left") +
                   (producer_first ? "; its value is written anyway (read outside the block too), so it joins its "
                                     "Many-to-Many producer first and keeps that producer's output out of memory"
                                   : ""),
               {{"phase", phase + 1}, {"walk", producer_first ? "predecessors first" : "successors first"}});
        if (producer_first) {
          fuse_predecessors(b, s);
          fuse_successors(b, s);
        } else {
          fuse_successors(b, s);
          fuse_predecessors(b, s);
        }
      }
    }
  }

  // The paper walks successors first. That can turn a One-to-One seed's block Many-to-Many
  // through a consumer (Silu -> GlobalAveragePool) and then break on the seed's own
  // Many-to-Many producer (the depthwise Conv before that Silu), whose whole output then
  // goes through memory for nothing. When the seed's value has to be written anyway (it has
  // more than one reader, or is a graph output) and its only producer is a free
  // Many-to-Many operator that nothing else reads, the predecessor walk goes first: the
  // seed becomes that producer's epilogue.
  bool epilogue_first(size_t s) const {
    if (mapping_[s] != MappingType::OneToOne || preds_[s].size() != 1) return false;
    const size_t p = preds_[s].front();
    if (mapping_[p] != MappingType::ManyToMany || block_of_[p] >= 0 || load_time_[p] || !fusible_[p]) return false;
    if (consumers_[p].size() != 1) return false;
    for (const std::string& o : g_.nodes[p].outputs)
      if (!o.empty() && g_.is_graph_output(o)) return false;
    bool many_to_many_reader = false;  // else the successor walk cannot lose the producer
    for (size_t c : consumers_[s]) many_to_many_reader |= mapping_[c] == MappingType::ManyToMany;
    if (!many_to_many_reader) return false;
    bool written_anyway = consumers_[s].size() > 1;
    for (const std::string& o : g_.nodes[s].outputs)
      if (!o.empty() && g_.is_graph_output(o)) written_anyway = true;
    return written_anyway;
  }

  // Many-to-Many + Many-to-Many, which the table breaks: a block whose one Many-to-Many
  // operator reads the output of another block's joins that block when the target runs
  // the pair one group at a time (PlannerOptions::chains: a depthwise Conv per channel
  // group of a pointwise Conv, a MatMul per column block of a MatMul, an Attention per
  // head of its projections). Each block must have
  // that operator as its only Many-to-Many one, and the producing block must hand on
  // nothing but the consumer's input, computed by One-to-One operators and read by the
  // consumer alone: then no value between the two is ever in memory whole.
  void chain_blocks() {
    if (!opt_.chains) return;
    const size_t count = blocks_.size();
    for (size_t bd = 0; bd < count; ++bd) {
      const int64_t d = sole_many_to_many(bd);
      if (d < 0) continue;
      const Node& dn = g_.nodes[size_t(d)];
      // Every operand of the consumer may come from a chained producer (an Attention's
      // queries and values); each joins the consumer's block in turn.
      for (const std::string& direct : dn.inputs) {
        if (direct.empty()) continue;
        const size_t into = size_t(block_of_[size_t(d)]);
        // The operand may reach the consumer through nodes of its own block (an
        // Attention's Reshape and Transpose to heads): follow single-operand nodes back
        // to the value that enters the block, and the node that reads it.
        std::string operand = direct;
        size_t reader = size_t(d);
        auto it = producer_.find(operand);
        while (it != producer_.end() && block_of_[it->second] == int(into)) {
          std::string only;
          int sources = 0;
          for (const std::string& in : g_.nodes[it->second].inputs)
            if (!in.empty() && !g_.is_constant(in)) only = in, ++sources;
          if (sources != 1) break;
          reader = it->second;
          operand = only;
          it = producer_.find(operand);
        }
        const bool to_heads = dn.op_type == "Attention";
        if (it == producer_.end() || block_of_[it->second] < 0 || (reader != size_t(d) && !to_heads)) continue;
        const size_t from = it->second, ba = size_t(block_of_[from]);
        if (ba == into) continue;
        const int64_t p = sole_many_to_many(ba);
        if (p < 0) continue;
        const std::string how = opt_.chains(g_.nodes[size_t(p)], dn);
        if (how.empty()) continue;
        const nlohmann::json extra = {{"merged_block", into}, {"producer", g_.nodes[size_t(p)].id}};
        std::string why;
        std::unordered_set<size_t> members(blocks_[ba].nodes.begin(), blocks_[ba].nodes.end());
        members.insert(blocks_[into].nodes.begin(), blocks_[into].nodes.end());
        if (!hands_on_only(ba, size_t(p), operand, reader, to_heads, &why) || !members_hold(members, &why)) {
          record("chain", from, size_t(d), int(ba), Verdict::Break, false, "not chained: " + why, extra);
          continue;
        }
        record("chain", from, size_t(d), int(ba), Verdict::Fuse, true,
               how + " (Many-to-Many + Many-to-Many, which the table breaks): the tensor between them is in "
                     "memory one group at a time",
               extra);
        for (size_t n : blocks_[into].nodes) {
          blocks_[ba].nodes.push_back(n);
          block_of_[n] = int(ba);
        }
        blocks_[into].nodes.clear();
      }
    }
  }

  // The block's one Many-to-Many node, or -1.
  int64_t sole_many_to_many(size_t b) const {
    int64_t found = -1;
    for (size_t n : blocks_[b].nodes)
      if (mapping_[n] == MappingType::ManyToMany) {
        if (found >= 0) return -1;
        found = int64_t(n);
      }
    return found;
  }

  // Whether node `n` is One-to-One, or an element-wise operator that is One-to-Many only
  // because it broadcasts constants (a bias added to every row of a product): element i
  // of its output still reads element i of each in-block input.
  bool elementwise_over(size_t n, const std::unordered_set<size_t>& members) const {
    if (mapping_[n] == MappingType::OneToOne) return true;
    const OpInfo* row = OpRegistry::instance().find_any(g_.nodes[n].domain, g_.nodes[n].op_type);
    if (!row || row->family != "elementwise" || row->mapping != MappingType::OneToOne) return false;
    const TensorType* out = g_.nodes[n].outputs.empty() ? nullptr : g_.type_of(g_.nodes[n].outputs[0]);
    for (const std::string& in : g_.nodes[n].inputs) {
      if (in.empty()) continue;
      auto p = producer_.find(in);
      const bool inside = p != producer_.end() && members.count(p->second);
      if (!inside && !g_.is_constant(in)) return false;
      if (inside && (!out || !g_.type_of(in) || g_.type_of(in)->static_shape() != out->static_shape())) return false;
    }
    return true;
  }

  // Whether block `b` is `anchor` plus element-wise operators (elementwise_over) and hands
  // on only `value`, read by `reader` alone. An Attention reads its projections through
  // Reshape and Transpose (`to_heads`); the target's hook checked that path whole
  // (codegen::head_source), so those pass too.
  bool hands_on_only(size_t b, size_t anchor, const std::string& value, size_t reader, bool to_heads,
                     std::string* why) const {
    const std::unordered_set<size_t> members(blocks_[b].nodes.begin(), blocks_[b].nodes.end());
    for (size_t n : blocks_[b].nodes) {
      const std::string& op = g_.nodes[n].op_type;
      const bool to_head = to_heads && (op == "Reshape" || op == "Transpose");
      if (n != anchor && !to_head && !elementwise_over(n, members)) {
        *why = g_.nodes[n].op_type + " between the two Many-to-Many operators is " + mapping_type_name(mapping_[n]);
        return false;
      }
      for (const std::string& o : g_.nodes[n].outputs) {
        if (o.empty()) continue;
        if (g_.is_graph_output(o)) {
          *why = "'" + o + "' is a graph output";
          return false;
        }
        for (size_t c : consumers_[n]) {
          if (members.count(c)) continue;
          const auto& reads = g_.nodes[c].inputs;
          if (std::find(reads.begin(), reads.end(), o) == reads.end()) continue;
          if (o != value || c != reader) {
            *why = "'" + o + "' is read outside the pair (by " + g_.nodes[c].op_type + ")";
            return false;
          }
        }
      }
    }
    return true;
  }

  int64_t irs(size_t i) const {
    int64_t total = 0;
    for (const std::string& o : g_.nodes[i].outputs)
      if (!o.empty()) total += value_bytes(g_, o);
    return total;
  }

  void fuse_successors(int b, size_t from) {
    for (size_t c : consumers_[from]) {
      if (block_of_[c] >= 0 || load_time_[c]) continue;
      if (try_add(b, from, c, /*successor=*/true)) fuse_successors(b, c);
    }
  }

  void fuse_predecessors(int b, size_t from) {
    for (size_t p : preds_[from]) {
      if (block_of_[p] >= 0 || load_time_[p]) continue;
      if (try_add(b, from, p, /*successor=*/false)) fuse_predecessors(b, p);
    }
  }

  bool try_add(int b, size_t from, size_t cand, bool successor) {
    Work& w = blocks_[size_t(b)];
    const MappingType ct = mapping_[cand];
    FusionCell cell = successor ? fusion_cell(w.type, ct) : fusion_cell(ct, w.type);
    const char* kind = successor ? "fuse-successor" : "fuse-predecessor";
    nlohmann::json extra;
    const bool read_through = !edge_operand(opt_.reads_through, successor, from, cand).empty();
    // Only the One-to-Many -> Many-to-Many break: Many-to-Many + Many-to-Many stays broken
    // (a block has one Many-to-Many anchor) even when its edge is a channel scale.
    const bool through = read_through && cell.verdict == Verdict::Break && cell.first == MappingType::OneToMany &&
                         cell.second == MappingType::ManyToMany;
    if (through) {
      cell.verdict = Verdict::Fuse;
      cell.fused = MappingType::ManyToMany;
      cell.why = "the table breaks here for the consumer's contiguous reads, but the target reads the product "
                 "through (its input unscaled, the weights scaled per channel), so they stay contiguous";
    }
    if (cell.verdict == Verdict::Break) {
      record(kind, from, cand, b, cell.verdict, false, std::string("table says break: ") + cell.why, extra);
      return false;
    }
    std::string why;
    Verdict verdict = cell.verdict;
    if (verdict == Verdict::Fuse && !read_through) {
      // The edge joins a producer to the operand its consumer reads from memory.
      const std::string o = edge_operand(opt_.operand_in_memory, successor, from, cand);
      if (!o.empty()) {
        record(kind, from, cand, b, verdict, false,
               "target: " + g_.nodes[successor ? cand : from].op_type + " reads operand '" + o +
                   "' from memory, so fusing its producer saves no traffic (it can be an epilogue instead)",
               extra);
        return false;
      }
    }
    if (!fusible_[cand]) {
      record(kind, from, cand, b, verdict, false, "target: no generated code for this operator (" + unfusible_why_[cand] + ")", extra);
      return false;
    }
    if (!constraints_hold(b, cand, &why)) {
      record(kind, from, cand, b, verdict, false, "constraint: " + why, extra);
      return false;
    }
    if (verdict == Verdict::Profile) {
      std::vector<NodeId> ids;
      for (size_t i : w.nodes) ids.push_back(g_.nodes[i].id);
      const ProfileResult r = profiler_.compare(g_, ids, g_.nodes[cand].id);
      extra["profile"] = {{"fused_us", r.fused_us}, {"separate_us", r.separate_us}, {"source", r.source}};
      if (!(r.fused_us <= r.separate_us * (1.0 + opt_.profile_tolerance))) {
        record(kind, from, cand, b, verdict, false, "profiled: fused is not faster", extra);
        return false;
      }
    }
    std::string profiled = "profiled: fused is faster";
    if (verdict == Verdict::Profile && !(extra["profile"]["fused_us"].get<double>() < extra["profile"]["separate_us"].get<double>()))
      profiled = "profiled: fused is within " + std::to_string(int(opt_.profile_tolerance * 100 + 0.5)) +
                 "% of apart and keeps the intermediate out of memory";
    w.nodes.push_back(cand);
    block_of_[cand] = b;
    w.type = cell.fused;
    record(kind, from, cand, b, verdict, true,
           verdict == Verdict::Fuse ? std::string(through ? "target overrides a break: " : "table says fuse: ") + cell.why
                                    : profiled,
           extra);
    return true;
  }

  // The first output of the edge's producer that its consumer reads and `hook` (one of
  // the target's PlannerOptions hooks) holds for; empty if none or no hook.
  using OperandHook = std::function<bool(const Node& consumer, const std::string& operand)>;
  std::string edge_operand(const OperandHook& hook, bool successor, size_t from, size_t cand) const {
    if (!hook) return "";
    const Node& consumer = g_.nodes[successor ? cand : from];
    const Node& producer = g_.nodes[successor ? from : cand];
    for (const std::string& o : producer.outputs)
      if (!o.empty() && std::find(consumer.inputs.begin(), consumer.inputs.end(), o) != consumer.inputs.end() &&
          hook(consumer, o))
        return o;
    return "";
  }

  bool constraints_hold(int b, size_t cand, std::string* why) const {
    const Work& w = blocks_[size_t(b)];
    std::unordered_set<size_t> members(w.nodes.begin(), w.nodes.end());
    members.insert(cand);
    return members_hold(members, why);
  }

  // The target's limits and acyclicity for a block of `members`.
  bool members_hold(const std::unordered_set<size_t>& members, std::string* why) const {
    if (members.size() > opt_.limits.max_block_nodes) {
      *why = "block would exceed " + std::to_string(opt_.limits.max_block_nodes) + " operators";
      return false;
    }
    // Inputs and outputs of the grown block.
    std::set<std::string> ins, outs;
    for (size_t i : members) {
      for (const std::string& in : g_.nodes[i].inputs) {
        if (in.empty() || g_.is_constant(in)) continue;
        auto it = producer_.find(in);
        if (it == producer_.end() || !members.count(it->second)) ins.insert(in);
      }
      for (const std::string& o : g_.nodes[i].outputs) {
        if (o.empty()) continue;
        bool outside = g_.is_graph_output(o);
        for (size_t c : consumers_[i]) {
          if (members.count(c)) continue;
          const auto& reads = g_.nodes[c].inputs;
          if (std::find(reads.begin(), reads.end(), o) != reads.end()) outside = true;
        }
        if (outside) outs.insert(o);
      }
    }
    if (ins.size() > opt_.limits.max_block_inputs) {
      *why = "block would read " + std::to_string(ins.size()) + " tensors (limit " +
             std::to_string(opt_.limits.max_block_inputs) + ")";
      return false;
    }
    if (outs.size() > opt_.limits.max_block_outputs) {
      *why = "block would write " + std::to_string(outs.size()) + " tensors (limit " +
             std::to_string(opt_.limits.max_block_outputs) + ")";
      return false;
    }
    if (creates_cycle(members)) {
      *why = "the block graph would have a cycle (a path leaves the block and comes back)";
      return false;
    }
    return true;
  }

  // A cycle appears when a path leaves `members` and re-enters it. Other blocks act
  // as single vertices: entering one node of a block reaches all of them.
  bool creates_cycle(const std::unordered_set<size_t>& members) const {
    std::vector<size_t> stack;
    std::vector<char> seen(g_.nodes.size(), 0);
    auto push = [&](size_t n) {
      if (members.count(n) || seen[n]) return;
      seen[n] = 1;
      stack.push_back(n);
    };
    for (size_t m : members)
      for (size_t c : consumers_[m]) push(c);
    while (!stack.empty()) {
      const size_t n = stack.back();
      stack.pop_back();
      const int ob = block_of_[n];
      std::vector<size_t> group = {n};
      if (ob >= 0) group = blocks_[size_t(ob)].nodes;
      for (size_t x : group) {
        if (!seen[x]) seen[x] = 1;
        for (size_t c : consumers_[x]) {
          if (members.count(c)) return true;
          push(c);
        }
      }
    }
    return false;
  }

  void record(const char* kind, size_t from, size_t cand, int b, Verdict v, bool accepted, const std::string& reason,
              const nlohmann::json& extra) {
    if (!journal_) return;
    JournalStep s;
    s.stage = "fusion";
    s.rule = kind;
    s.family = "fusion";
    s.matched = {g_.nodes[from].id, g_.nodes[cand].id};
    s.accepted = accepted;
    s.reason = reason;
    const Work& w = blocks_[size_t(b)];
    s.details = extra.is_null() ? nlohmann::json::object() : extra;
    s.details["block"] = b;
    s.details["block_type"] = mapping_type_name(w.type);
    s.details["candidate"] = g_.nodes[cand].id;
    s.details["candidate_op"] = g_.nodes[cand].op_type;
    s.details["candidate_type"] = mapping_type_name(mapping_[cand]);
    s.details["verdict"] = verdict_name(v);
    s.details["block_size"] = w.nodes.size();
    journal_->steps.push_back(std::move(s));
  }

  const Graph& g_;
  const PlannerOptions& opt_;
  Journal* journal_;
  BlockProfiler& profiler_;
  std::unordered_map<std::string, size_t> producer_;
  std::vector<MappingType> mapping_;
  std::vector<std::vector<size_t>> consumers_, preds_;
  std::vector<int> block_of_;
  std::vector<bool> fusible_;               // the target can generate code for the node
  std::vector<bool> load_time_;             // computed once at load, never in a block
  std::vector<std::string> unfusible_why_;
  std::vector<Work> blocks_;
};

}  // namespace

namespace {

// Orders blocks topologically (Kahn; ready blocks by their earliest node) and sorts
// each block's nodes in graph order; renumbers ids and block_of.
void order_blocks(const Graph& graph, FusionPlan& plan) {
  std::unordered_map<NodeId, size_t> index;
  for (size_t i = 0; i < graph.nodes.size(); ++i) index[graph.nodes[i].id] = i;
  const size_t nb = plan.blocks.size();
  std::unordered_map<NodeId, size_t> owner;
  for (size_t b = 0; b < nb; ++b) {
    auto& nodes = plan.blocks[b].nodes;
    std::sort(nodes.begin(), nodes.end(), [&](NodeId x, NodeId y) { return index.at(x) < index.at(y); });
    for (NodeId id : nodes) owner[id] = b;
  }
  std::unordered_map<std::string, size_t> producer;
  for (const Node& n : graph.nodes)
    for (const std::string& o : n.outputs)
      if (!o.empty() && owner.count(n.id)) producer[o] = owner.at(n.id);
  std::vector<std::set<size_t>> succ(nb);
  std::vector<size_t> indeg(nb, 0);
  for (size_t b = 0; b < nb; ++b)
    for (NodeId id : plan.blocks[b].nodes)
      for (const std::string& in : node_reads(*graph.find_node(id))) {
        auto it = producer.find(in);
        if (it == producer.end() || it->second == b) continue;
        if (succ[it->second].insert(b).second) ++indeg[b];
      }
  auto key = [&](size_t b) { return index.at(plan.blocks[b].nodes.front()); };
  std::set<std::pair<size_t, size_t>> ready;
  for (size_t b = 0; b < nb; ++b)
    if (indeg[b] == 0) ready.insert({key(b), b});
  std::vector<FusedBlock> ordered;
  while (!ready.empty()) {
    const size_t b = ready.begin()->second;
    ready.erase(ready.begin());
    ordered.push_back(std::move(plan.blocks[b]));
    for (size_t s : succ[b])
      if (--indeg[s] == 0) ready.insert({key(s), s});
  }
  check(ordered.size() == nb, "fusion plan has a cycle between blocks");
  plan.blocks = std::move(ordered);
  plan.block_of.clear();
  for (size_t b = 0; b < nb; ++b) {
    plan.blocks[b].id = int(b);
    for (NodeId id : plan.blocks[b].nodes) plan.block_of[id] = int(b);
  }
}

}  // namespace

std::vector<bool> load_time_nodes(const Graph& graph) {
  std::vector<bool> out(graph.nodes.size(), false);
  std::set<std::string> known;
  for (const auto& [name, t] : graph.initializers) known.insert(name);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    bool all = !is_random_op(n.op_type) && subgraph_reads(n).empty();
    for (const std::string& in : n.inputs)
      if (!in.empty() && !known.count(in)) all = false;
    if (!all) continue;
    out[i] = true;
    for (const std::string& o : n.outputs)
      if (!o.empty()) known.insert(o);
  }
  return out;
}

void finish_plan(const Graph& graph, FusionPlan& plan) {
  order_blocks(graph, plan);
  std::unordered_map<std::string, int> producer_block;
  for (const FusedBlock& b : plan.blocks)
    for (NodeId id : b.nodes)
      for (const std::string& o : graph.find_node(id)->outputs)
        if (!o.empty()) producer_block[o] = b.id;
  std::unordered_map<std::string, std::set<int>> reader_blocks;
  for (const FusedBlock& b : plan.blocks)
    for (NodeId id : b.nodes)
      for (const std::string& in : node_reads(*graph.find_node(id))) reader_blocks[in].insert(b.id);
  plan.intermediate_bytes_before = plan.intermediate_bytes_after = 0;
  for (FusedBlock& b : plan.blocks) {
    std::set<std::string> ins, outs;
    for (NodeId id : b.nodes) {
      const Node& n = *graph.find_node(id);
      for (const std::string& in : node_reads(n)) {
        auto it = producer_block.find(in);
        if (it == producer_block.end() || it->second != b.id) ins.insert(in);
      }
      for (const std::string& o : n.outputs) {
        if (o.empty()) continue;
        const auto& readers = reader_blocks[o];
        const bool read_elsewhere = readers.size() > (readers.count(b.id) ? 1u : 0u);
        const int64_t bytes = graph.type_of(o) && graph.type_of(o)->is_static()
                                  ? graph.type_of(o)->numel_or(0) * int64_t(dtype_size(graph.type_of(o)->dtype))
                                  : 0;
        if (!readers.empty()) plan.intermediate_bytes_before += bytes;
        if (read_elsewhere || graph.is_graph_output(o)) outs.insert(o);
        if (read_elsewhere) plan.intermediate_bytes_after += bytes;
      }
    }
    b.inputs.assign(ins.begin(), ins.end());
    b.outputs.assign(outs.begin(), outs.end());
  }
}

nlohmann::json FusionPlan::to_json(const Graph& graph) const {
  nlohmann::json bl = nlohmann::json::array();
  const OpRegistry& reg = OpRegistry::instance();
  for (const FusedBlock& b : blocks) {
    nlohmann::json ops = nlohmann::json::array();
    for (NodeId id : b.nodes) {
      const Node& n = *graph.find_node(id);
      ops.push_back({{"id", id},
                     {"name", n.name},
                     {"op", n.op_type},
                     {"mapping_type", mapping_type_name(reg.mapping_of(n, graph.types_of(n.inputs),
                                                                       graph.types_of(n.outputs)))}});
    }
    bl.push_back({{"id", b.id}, {"type", mapping_type_name(b.type)}, {"seed", b.seed}, {"ops", ops},
                  {"inputs", b.inputs}, {"outputs", b.outputs}});
  }
  return {{"target", target}, {"fused_layers", fused_layers()}, {"blocks", bl},
          {"intermediate_bytes_before", intermediate_bytes_before},
          {"intermediate_bytes_after", intermediate_bytes_after}};
}

FusionPlan plan_fusion(const Graph& graph, const PlannerOptions& options, Journal* journal) {
  std::unique_ptr<BlockProfiler> fallback;
  BlockProfiler* profiler = options.profiler;
  if (!profiler) {
    fallback = make_estimating_profiler(options.target);
    profiler = fallback.get();
  }
  Planner planner(graph, options, journal, *profiler);
  return planner.run();
}

FusionPlan plan_from_journal(const Graph& graph, const Journal& journal, const std::string& target) {
  FusionPlan plan;
  plan.target = target;
  std::map<int, FusedBlock> fused;
  for (size_t i = 0; i < journal.steps.size(); ++i) {
    const JournalStep& s = journal.steps[i];
    if (s.stage != "fusion" || !s.accepted) continue;
    // A journal is user input: a fusion step without its block, candidate and block_type
    // (or with the wrong types) is refused with the step named, not a JSON exception.
    try {
      FusedBlock& fb = fused[s.details.at("block").get<int>()];
      const NodeId cand = s.details.at("candidate").get<NodeId>();
      check(graph.find_node(cand) != nullptr, "journal step ", i, " (fusion, ", s.rule, "): node #", cand,
            " is not in the graph");
      if (s.rule == "chain") {  // the merged block's nodes join this one
        const int merged = s.details.at("merged_block").get<int>();
        check(fused.count(merged) != 0, "journal step ", i, " (fusion, chain): block ", merged, " has no steps before it");
        fb.nodes.insert(fb.nodes.end(), fused[merged].nodes.begin(), fused[merged].nodes.end());
        fused.erase(merged);
        continue;
      }
      if (s.rule == "seed") fb.seed = cand;
      fb.nodes.push_back(cand);
      if (auto t = mapping_type_from_name(s.details.at("block_type").get<std::string>())) fb.type = *t;
    } catch (const nlohmann::json::exception& e) {
      fail("journal step ", i, " (fusion, ", s.rule, "): ", e.what());
    }
  }
  std::set<NodeId> covered;
  for (auto& [b, fb] : fused) {
    for (NodeId id : fb.nodes) covered.insert(id);
    plan.blocks.push_back(fb);
  }
  const OpRegistry& reg = OpRegistry::instance();
  const std::vector<bool> load_time = load_time_nodes(graph);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    if (covered.count(n.id) || load_time[i]) continue;
    FusedBlock fb;
    fb.nodes = {n.id};
    fb.type = reg.mapping_of(n, graph.types_of(n.inputs), graph.types_of(n.outputs));
    plan.blocks.push_back(fb);
  }
  finish_plan(graph, plan);
  return plan;
}

}  // namespace dnnf::fusion
