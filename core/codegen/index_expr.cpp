#include "core/codegen/index_expr.h"

#include <algorithm>

namespace dnnf::codegen {

namespace {

using K = IndexNode::Kind;

int64_t floor_div(int64_t a, int64_t d) { return a >= 0 ? a / d : -((-a + d - 1) / d); }
int64_t floor_mod(int64_t a, int64_t d) { return a - floor_div(a, d) * d; }

Ix make(IndexNode n) { return std::make_shared<const IndexNode>(std::move(n)); }

// Canonical text used to compare sub-expressions structurally.
std::string key(const Ix& e) {
  static const std::vector<std::string> none;
  return ix_text(e, none);
}

// A term split into (base, coefficient); base == nullptr for a constant.
std::pair<Ix, int64_t> split_term(const Ix& t) {
  if (t->kind == K::Const) return {nullptr, t->value};
  if (t->kind == K::Mul) return {t->args[0], t->value};
  return {t, 1};
}

void flatten(const Ix& e, std::vector<Ix>& out) {
  if (e->kind == K::Add)
    for (const Ix& a : e->args) flatten(a, out);
  else
    out.push_back(e);
}

Ix build_sum(std::vector<Ix> terms) {
  int64_t c = 0;
  std::vector<Ix> rest;
  for (const Ix& t : terms) {
    if (t->kind == K::Const) c += t->value;
    else rest.push_back(t);
  }
  if (c != 0 || rest.empty()) rest.push_back(ix_const(c));
  if (rest.size() == 1) return rest[0];
  IndexNode n;
  n.kind = K::Add;
  n.lo = n.hi = 0;
  for (const Ix& t : rest) {
    n.lo += t->lo;
    n.hi += t->hi;
  }
  n.args = std::move(rest);
  return make(std::move(n));
}

}  // namespace

Ix ix_const(int64_t v) {
  IndexNode n;
  n.kind = K::Const;
  n.value = n.lo = n.hi = v;
  return make(std::move(n));
}

Ix ix_var(int var, int64_t extent) {
  if (extent <= 1) return ix_const(0);
  IndexNode n;
  n.kind = K::Var;
  n.var = var;
  n.lo = 0;
  n.hi = extent - 1;
  return make(std::move(n));
}

Ix ix_opaque(std::string text, std::vector<int> uses, int64_t lo, int64_t hi) {
  IndexNode n;
  n.kind = K::Opaque;
  n.text = std::move(text);
  n.uses = std::move(uses);
  n.lo = lo;
  n.hi = hi;
  return make(std::move(n));
}

Ix ix_add(const Ix& a, const Ix& b) {
  std::vector<Ix> terms;
  flatten(a, terms);
  flatten(b, terms);
  // Combine like terms: coefficient per structural base.
  std::vector<std::pair<Ix, int64_t>> combined;
  std::map<std::string, size_t> slot;
  int64_t constant = 0;
  for (const Ix& t : terms) {
    auto [base, coef] = split_term(t);
    if (!base) {
      constant += coef;
      continue;
    }
    const std::string k = key(base);
    auto it = slot.find(k);
    if (it == slot.end()) {
      slot[k] = combined.size();
      combined.push_back({base, coef});
    } else {
      combined[it->second].second += coef;
    }
  }
  // (x / d) * d * k + (x % d) * k  ->  x * k: what unravel-then-ravel leaves behind.
  for (size_t i = 0; i < combined.size(); ++i) {
    const Ix& m = combined[i].first;
    if (m->kind != K::Mod || combined[i].second == 0) continue;
    const int64_t k = combined[i].second;
    const std::string div_key = "(" + key(m->args[0]) + " / " + std::to_string(m->value) + ")";
    auto it = slot.find(div_key);
    if (it == slot.end() || combined[it->second].second != k * m->value) continue;
    combined[it->second].second = 0;
    combined[i].second = 0;
    std::vector<Ix> rest;
    for (auto& [base, coef] : combined)
      if (coef != 0) rest.push_back(ix_mul(base, coef));
    rest.push_back(ix_const(constant));
    Ix sum = build_sum(rest);
    return ix_add(sum, ix_mul(m->args[0], k));
  }
  std::vector<Ix> rest;
  for (auto& [base, coef] : combined)
    if (coef != 0) rest.push_back(ix_mul(base, coef));
  rest.push_back(ix_const(constant));
  return build_sum(rest);
}

Ix ix_sub(const Ix& a, const Ix& b) { return ix_add(a, ix_mul(b, -1)); }

Ix ix_mul(const Ix& a, int64_t c) {
  if (c == 0) return ix_const(0);
  if (c == 1) return a;
  if (a->kind == K::Const) return ix_const(a->value * c);
  if (a->kind == K::Mul) return ix_mul(a->args[0], a->value * c);
  if (a->kind == K::Add) {
    Ix sum = ix_const(0);
    for (const Ix& t : a->args) sum = ix_add(sum, ix_mul(t, c));
    return sum;
  }
  IndexNode n;
  n.kind = K::Mul;
  n.value = c;
  n.args = {a};
  n.lo = c > 0 ? a->lo * c : a->hi * c;
  n.hi = c > 0 ? a->hi * c : a->lo * c;
  return make(std::move(n));
}

Ix ix_div(const Ix& a, int64_t d) {
  if (d == 1) return a;
  if (a->kind == K::Const) return ix_const(floor_div(a->value, d));
  if (a->lo >= 0 && a->hi < d) return ix_const(0);
  if (a->kind == K::Div) return ix_div(a->args[0], a->value * d);
  if (a->kind == K::Mul) {
    if (a->value % d == 0) return ix_mul(a->args[0], a->value / d);
    if (a->value > 0 && d % a->value == 0) return ix_div(a->args[0], d / a->value);
  }
  if (a->kind == K::Add) {
    // floor((d*q + r) / d) = q + floor(r / d) for any integers.
    std::vector<Ix> multiples, rest;
    for (const Ix& t : a->args) {
      auto [base, coef] = split_term(t);
      (coef % d == 0 ? multiples : rest).push_back(t);
    }
    if (!multiples.empty()) {
      Ix q = ix_const(0);
      for (const Ix& t : multiples) {
        auto [base, coef] = split_term(t);
        q = ix_add(q, base ? ix_mul(base, coef / d) : ix_const(coef / d));
      }
      Ix r = ix_const(0);
      for (const Ix& t : rest) r = ix_add(r, t);
      return ix_add(q, ix_div(r, d));
    }
  }
  IndexNode n;
  n.kind = K::Div;
  n.value = d;
  n.args = {a};
  n.lo = floor_div(a->lo, d);
  n.hi = floor_div(a->hi, d);
  return make(std::move(n));
}

Ix ix_mod(const Ix& a, int64_t d) {
  if (d == 1) return ix_const(0);
  if (a->kind == K::Const) return ix_const(floor_mod(a->value, d));
  if (a->lo >= 0 && a->hi < d) return a;
  if (a->kind == K::Mod && a->value % d == 0) return ix_mod(a->args[0], d);
  if (a->kind == K::Mul) {
    if (a->value % d == 0) return ix_const(0);
    if (a->value > 0 && d % a->value == 0) return ix_mul(ix_mod(a->args[0], d / a->value), a->value);
  }
  if (a->kind == K::Add) {
    std::vector<Ix> rest;
    bool dropped = false;
    for (const Ix& t : a->args) {
      auto [base, coef] = split_term(t);
      if (coef % d == 0) dropped = true;
      else rest.push_back(t);
    }
    if (dropped) {
      Ix r = ix_const(0);
      for (const Ix& t : rest) r = ix_add(r, t);
      return ix_mod(r, d);
    }
  }
  IndexNode n;
  n.kind = K::Mod;
  n.value = d;
  n.args = {a};
  n.lo = 0;
  n.hi = d - 1;
  return make(std::move(n));
}

std::optional<Affine> affine_of(const Ix& e) {
  Affine r;
  std::vector<Ix> terms;
  flatten(e, terms);
  for (const Ix& t : terms) {
    auto [base, coef] = split_term(t);
    if (!base) r.offset += coef;
    else if (base->kind == K::Var) r.coef[base->var] += coef;
    else return std::nullopt;
  }
  return r;
}

bool uses_var(const Ix& e, int var) {
  if (e->kind == K::Var) return e->var == var;
  if (e->kind == K::Opaque) return std::find(e->uses.begin(), e->uses.end(), var) != e->uses.end();
  for (const Ix& a : e->args)
    if (uses_var(a, var)) return true;
  return false;
}

Ix ix_linear(const std::vector<Ix>& idx, const std::vector<int64_t>& strides) {
  Ix sum = ix_const(0);
  for (size_t i = 0; i < idx.size(); ++i) sum = ix_add(sum, ix_mul(idx[i], strides[i]));
  return sum;
}

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

std::vector<Ix> ix_unravel(const Ix& linear, const std::vector<int64_t>& shape) {
  const std::vector<int64_t> strides = row_major_strides(shape);
  std::vector<Ix> out;
  for (size_t i = 0; i < shape.size(); ++i) {
    Ix q = ix_div(linear, strides[i]);
    out.push_back(i == 0 ? q : ix_mod(q, shape[i]));
  }
  return out;
}

const IxSyntax& cpp_ix_syntax() {
  static const IxSyntax s{"LL", "ix_fdiv", "ix_fmod"};
  return s;
}

std::string ix_text(const Ix& e, const std::vector<std::string>& names, const IxSyntax& syntax) {
  const std::string& sfx = syntax.int_suffix;
  switch (e->kind) {
    case K::Const:
      return e->value < 0 ? "(" + std::to_string(e->value) + sfx + ")" : std::to_string(e->value) + sfx;
    case K::Var:
      return size_t(e->var) < names.size() ? names[size_t(e->var)] : "v" + std::to_string(e->var);
    case K::Opaque: {
      if (names.empty()) return "{" + e->text + "}";
      std::string t = e->text;  // placeholders $<var>$ name loop variables
      for (int v : e->uses) {
        const std::string ph = "$" + std::to_string(v) + "$";
        const std::string& to = names.at(size_t(v));
        for (size_t p = t.find(ph); p != std::string::npos; p = t.find(ph, p + to.size())) t.replace(p, ph.size(), to);
      }
      return t;
    }
    case K::Add: {
      std::string s = "(";
      for (size_t i = 0; i < e->args.size(); ++i) s += (i ? " + " : "") + ix_text(e->args[i], names, syntax);
      return s + ")";
    }
    case K::Mul:
      return "(" + ix_text(e->args[0], names, syntax) + " * " + std::to_string(e->value) + sfx + ")";
    case K::Div:
      if (e->args[0]->lo >= 0) return "(" + ix_text(e->args[0], names, syntax) + " / " + std::to_string(e->value) + ")";
      return syntax.fdiv + "(" + ix_text(e->args[0], names, syntax) + ", " + std::to_string(e->value) + ")";
    case K::Mod:
      if (e->args[0]->lo >= 0) return "(" + ix_text(e->args[0], names, syntax) + " % " + std::to_string(e->value) + ")";
      return syntax.fmod + "(" + ix_text(e->args[0], names, syntax) + ", " + std::to_string(e->value) + ")";
  }
  return "0";
}

}  // namespace dnnf::codegen
