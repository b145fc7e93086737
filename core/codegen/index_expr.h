// Integer index expressions of generated loops. Reorganize and Shuffle operators are
// not copied: they rewrite the index expression through which their consumer reads
// (paper §4.4). The simplifier keeps addresses affine where it can, because an affine
// address tells the emitter whether a load is contiguous, invariant or a gather.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dnnf::codegen {

struct IndexNode;
using Ix = std::shared_ptr<const IndexNode>;

struct IndexNode {
  enum class Kind { Const, Var, Add, Mul, Div, Mod, Opaque } kind = Kind::Const;
  int64_t value = 0;        // Const: the value; Mul/Div/Mod: the constant factor
  int var = -1;             // Var: loop variable id
  std::vector<Ix> args;     // Add: terms; Mul/Div/Mod: one argument
  std::string text;         // Opaque: C++ text (e.g. an index loaded from a tensor)
  std::vector<int> uses;    // Opaque: loop variables the text reads
  int64_t lo = 0, hi = 0;   // inclusive value range
};

Ix ix_const(int64_t v);
Ix ix_var(int var, int64_t extent);  // 0 .. extent-1
Ix ix_add(const Ix& a, const Ix& b);
Ix ix_sub(const Ix& a, const Ix& b);
Ix ix_mul(const Ix& a, int64_t c);
Ix ix_div(const Ix& a, int64_t d);   // floor division, d > 0
Ix ix_mod(const Ix& a, int64_t d);   // floor modulo, d > 0
Ix ix_opaque(std::string text, std::vector<int> uses, int64_t lo, int64_t hi);

// Affine form sum(coef[var] * var) + offset, if the expression is affine.
struct Affine {
  std::map<int, int64_t> coef;
  int64_t offset = 0;
  bool operator==(const Affine& o) const { return coef == o.coef && offset == o.offset; }
};
std::optional<Affine> affine_of(const Ix& e);
bool uses_var(const Ix& e, int var);

// Linear address sum(idx[i] * strides[i]).
Ix ix_linear(const std::vector<Ix>& idx, const std::vector<int64_t>& strides);
// Splits a linear index into the multi-index of `shape` (row-major).
std::vector<Ix> ix_unravel(const Ix& linear, const std::vector<int64_t>& shape);
std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape);

// How integer indices are spelled in a generated language.
struct IxSyntax {
  std::string int_suffix;  // of integer literals ("LL" in C++: indices are 64-bit)
  std::string fdiv, fmod;  // floor division / modulo helpers for possibly negative operands
};
const IxSyntax& cpp_ix_syntax();

// Source text (C++ unless told); names[var] is the variable's name.
std::string ix_text(const Ix& e, const std::vector<std::string>& names, const IxSyntax& syntax = cpp_ix_syntax());

}  // namespace dnnf::codegen
