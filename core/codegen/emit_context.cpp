#include "core/codegen/emit_context.h"

#include <cmath>
#include <cstdio>

#include "core/codegen/pull_ops.h"
#include "core/util/error.h"

namespace dnnf::codegen {

int64_t KernelBuffer::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}
int64_t KernelBuffer::bytes() const { return numel() * int64_t(dtype_size(dtype)); }

const std::string* Body::find(const std::string& key) const {
  for (const Body* b = this; b; b = b->parent) {
    auto it = b->memo.find(key);
    if (it != b->memo.end()) return &it->second;
  }
  return nullptr;
}

void Body::add_text(const std::string& text) {
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
}

std::string Body::render(int indent) const {
  std::string out;
  const std::string pad(size_t(indent), ' ');
  for (const std::string& l : lines) out += pad + l + "\n";
  return out;
}

std::string float_literal(double v) {
  if (std::isnan(v)) return "__builtin_nanf(\"\")";
  if (std::isinf(v)) return v > 0 ? "__builtin_inff()" : "(-__builtin_inff())";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%af", double(float(v)));
  return v < 0 ? "(" + std::string(buf) + ")" : std::string(buf);
}

std::vector<int> vars_of(const Ix& e) {
  std::vector<int> out;
  std::function<void(const Ix&)> walk = [&](const Ix& x) {
    if (x->kind == IndexNode::Kind::Var) out.push_back(x->var);
    if (x->kind == IndexNode::Kind::Opaque) out.insert(out.end(), x->uses.begin(), x->uses.end());
    for (const Ix& a : x->args) walk(a);
  };
  walk(e);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<int64_t> inner_coefficient(const Ix& e, int var) {
  if (var < 0 || !uses_var(e, var)) return int64_t(0);
  std::vector<Ix> terms;
  std::function<void(const Ix&)> flat = [&](const Ix& x) {
    if (x->kind == IndexNode::Kind::Add)
      for (const Ix& a : x->args) flat(a);
    else
      terms.push_back(x);
  };
  flat(e);
  int64_t coef = 0;
  for (const Ix& t : terms) {
    if (!uses_var(t, var)) continue;
    if (t->kind == IndexNode::Kind::Var) coef += 1;
    else if (t->kind == IndexNode::Kind::Mul && t->args[0]->kind == IndexNode::Kind::Var) coef += t->value;
    else return std::nullopt;
  }
  return coef;
}

EmitContext::EmitContext(const Graph& graph, const std::vector<const Node*>& nodes, const Dialect* dialect)
    : graph_(graph), dialect_(dialect ? dialect : &cpp_dialect()) {
  for (const Node* n : nodes)
    for (const std::string& o : n->outputs)
      if (!o.empty()) producers_[o] = n;
}

const Node* EmitContext::producer(const std::string& value) const {
  auto it = producers_.find(value);
  return it == producers_.end() ? nullptr : it->second;
}

std::vector<int64_t> EmitContext::shape_of(const std::string& value) const {
  const TensorType* t = graph_.type_of(value);
  check(t && t->is_static(), "codegen: value '", value, "' has no static shape");
  return *t->static_shape();
}

DType EmitContext::dtype_of(const std::string& value) const {
  const TensorType* t = graph_.type_of(value);
  return t ? t->dtype : DType::Undefined;
}

int EmitContext::add_buffer(const KernelBuffer& b) {
  const int slot = int(buffers_.size());
  buffers_.push_back(b);
  slots_[b.value] = slot;
  return slot;
}

int EmitContext::buffer_slot(const std::string& value) const {
  if (auto a = aliases_.find(value); a != aliases_.end()) return buffer_slot(a->second);
  auto it = slots_.find(value);
  return it == slots_.end() ? -1 : it->second;
}

void EmitContext::set_available(const std::string& value, bool on) {
  if (on) available_.insert(value);
  else available_.erase(value);
}

int EmitContext::new_var(const std::string& name, int64_t extent) {
  const int id = int(vars_.size());
  vars_.push_back({name, ix_var(id, extent)});
  names_.push_back(name);
  return id;
}

void EmitContext::set_column_window(const std::string& value, const Ix& first) {
  if (first) column_windows_[value] = first;
  else column_windows_.erase(value);
}

void EmitContext::reset_vars() {
  vars_.clear();
  names_.clear();
  inner_ = -1;
  vectorised_ = false;
  reads_.clear();
}

std::string EmitContext::fresh(const std::string& prefix) { return prefix + std::to_string(counter_++); }

const Tensor* EmitContext::constant(const std::string& value) const {
  auto it = graph_.initializers.find(value);
  return it == graph_.initializers.end() ? nullptr : &it->second;
}

std::string EmitContext::memo_key(const std::string& v, const std::vector<Ix>& idx) const {
  std::string k = v + "@";
  static const std::vector<std::string> none;
  for (const Ix& i : idx) k += ix_text(i, none) + ",";
  return k;
}

std::string EmitContext::bind(Body& body, const std::string& expr) {
  const std::string name = fresh();
  body.lines.push_back(dialect_->bind(name, expr));
  return name;
}

void EmitContext::preset(Body& body, const std::string& value, const std::vector<Ix>& idx,
                         const std::string& expr) {
  body.memo[memo_key(value, idx)] = expr;
}

std::vector<Ix> EmitContext::bcast_index(const std::string& input, const std::vector<Ix>& out_idx) const {
  const std::vector<int64_t> s = shape_of(input);
  std::vector<Ix> idx(s.size());
  const size_t off = out_idx.size() - s.size();
  for (size_t j = 0; j < s.size(); ++j) idx[j] = s[j] == 1 ? ix_const(0) : out_idx[off + j];
  return idx;
}

std::string EmitContext::input_bcast(Body& body, const Node& node, size_t i, const std::vector<Ix>& out_idx) {
  return value_at(body, node.inputs.at(i), bcast_index(node.inputs.at(i), out_idx));
}

std::string EmitContext::value_at(Body& body, const std::string& v, const std::vector<Ix>& idx) {
  const std::string key = memo_key(v, idx);
  if (const std::string* hit = body.find(key)) return *hit;
  std::string result;
  const Tensor* c = constant(v);
  if (c && c->numel() == 1) {
    result = lit(c->get_f64(0));
  } else if (available(v) || c || !producer(v)) {
    if (buffer_slot(v) < 0) {
      mark_unsupported("value '" + v + "' is read but not in memory");
      return splat("0.0f");
    }
    auto window = column_windows_.find(v);
    if (window == column_windows_.end()) {
      result = load(body, v, ix_linear(idx, row_major_strides(shape_of(v))));
    } else {
      std::vector<Ix> at = idx;
      at.back() = ix_sub(at.back(), window->second);
      result = load(body, v, ix_linear(at, row_major_strides(buffers_[size_t(buffer_slot(v))].shape)));
    }
  } else {
    const Node& n = *producer(v);
    const PullRow* row = find_pull(n.op_type);
    if (!row) {
      mark_unsupported(n.op_type + " cannot be inlined");
      return splat("0.0f");
    }
    size_t out = 0;
    while (n.outputs[out] != v) ++out;
    result = bind(body, row->pull(*this, body, n, out, idx));
  }
  body.memo[key] = result;
  return result;
}

std::string EmitContext::gather_lambda(const std::string& value, const Ix& address) {
  const int slot = buffer_slot(value);
  std::vector<std::string> lane_names = names_;
  const std::string lane_var = inner_ >= 0 ? names_[size_t(inner_)] + "l" : "";
  if (inner_ >= 0) lane_names[size_t(inner_)] = lane_var;
  const std::string addr = ix_text(address, lane_names);
  std::string pre = inner_ >= 0 ? "const int64_t " + lane_var + " = " + names_[size_t(inner_)] + " + l; " : "";
  return "gather<T>([&](int l) { " + pre + "(void)l; return (float)b" + std::to_string(slot) + "[" + addr + "]; })";
}

std::string EmitContext::load(Body& body, const std::string& value, const Ix& address) {
  reads_.push_back({value, address});
  accesses_.push_back({value, address, false});
  const int slot = buffer_slot(value);
  const std::string b = "b" + std::to_string(slot);
  const bool is_float = buffers_[size_t(slot)].dtype == DType::F32;
  const std::optional<int64_t> coef = vectorised_ ? inner_coefficient(address, inner_) : std::optional<int64_t>(0);
  std::string expr;
  if (coef && *coef == 0) expr = splat(dialect_->element(slot, ix(address)));
  else if (coef && *coef == 1 && is_float) expr = "load<T>(" + b + " + " + ix(address) + ")";
  else expr = gather_lambda(value, address);
  return bind(body, expr);
}

std::string EmitContext::store(const std::string& value, const Ix& address, const std::string& expr) {
  accesses_.push_back({value, address, true});
  const int slot = buffer_slot(value);
  const std::string b = "b" + std::to_string(slot);
  const bool is_float = buffers_[size_t(slot)].dtype == DType::F32;
  if (!vectorised_) return dialect_->scalar_store(slot, ix(address), expr, is_float);
  const std::string cast = is_float ? "x" : "(uint8_t)(x != 0.0f)";
  const std::optional<int64_t> coef = vectorised_ ? inner_coefficient(address, inner_) : std::optional<int64_t>(0);
  if (is_float && coef && (*coef == 1 || !vectorised_)) return "store(" + b + " + " + ix(address) + ", " + expr + ");";
  std::vector<std::string> lane_names = names_;
  std::string pre;
  if (inner_ >= 0 && vectorised_) {
    lane_names[size_t(inner_)] = names_[size_t(inner_)] + "l";
    pre = "const int64_t " + lane_names[size_t(inner_)] + " = " + names_[size_t(inner_)] + " + l; ";
  }
  return "scatter<T>(" + expr + ", [&](int l, float x) { " + pre + "(void)l; " + b + "[" +
         ix_text(address, lane_names) + "] = " + cast + "; });";
}

Ix EmitContext::clamp(const Ix& e, int64_t lo, int64_t hi) {
  if (e->lo >= lo && e->hi <= hi) return e;
  return ix_opaque("ix_clamp(" + ix_placeholder(e) + ", " + int_lit(lo) + ", " + int_lit(hi) + ")", vars_of(e),
                   std::max(lo, std::min(e->lo, hi)), std::min(hi, std::max(e->hi, lo)));
}

std::string EmitContext::ix_placeholder(const Ix& e) const {
  std::vector<std::string> ph;
  for (size_t i = 0; i < names_.size(); ++i) ph.push_back("$" + std::to_string(i) + "$");
  return ix_text(e, ph, dialect_->ix());
}

std::string EmitContext::index_in_range(Body& body, const Ix& e, int64_t lo, int64_t hi_exclusive) {
  if (e->lo >= lo && e->hi < hi_exclusive) return splat("1.0f");
  if (e->hi < lo || e->lo >= hi_exclusive) return splat("0.0f");
  const bool lanes = vectorised_ && inner_ >= 0 && uses_var(e, inner_);
  if (!lanes)
    return bind(body, splat("(" + ix(e) + " >= " + int_lit(lo) + " && " + ix(e) + " < " + int_lit(hi_exclusive) +
                            ") ? 1.0f : 0.0f"));
  std::vector<std::string> lane_names = names_;
  lane_names[size_t(inner_)] = names_[size_t(inner_)] + "l";
  const std::string t = ix_text(e, lane_names);
  return bind(body, "gather<T>([&](int l) { const int64_t " + lane_names[size_t(inner_)] + " = " +
                        names_[size_t(inner_)] + " + l; (void)l; return (" + t + " >= " + std::to_string(lo) +
                        "LL && " + t + " < " + std::to_string(hi_exclusive) + "LL) ? 1.0f : 0.0f; })");
}

}  // namespace dnnf::codegen
