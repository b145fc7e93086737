// The state shared while generating one block's kernel: the buffers the kernel sees,
// loop variables, and scoped statement bodies. `value_at` is the data-flow tree walk:
// it pulls a value at a multi-index, inlining One-to-One producers, rewriting the index
// through Reorganize/Shuffle/One-to-Many producers, and loading from a buffer only for
// values that are materialised (block inputs, Many-to-Many results, block outputs).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/codegen/dialect.h"
#include "core/codegen/index_expr.h"
#include "core/ir/graph.h"

namespace dnnf::codegen {

enum class BufferRole { Input, Output, Scratch };

struct KernelBuffer {
  std::string value;        // graph value name (scratch: a block-internal value)
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  BufferRole role = BufferRole::Input;
  bool constant = false;    // an initializer: bound before _prepare
  int64_t numel() const;
  int64_t bytes() const;
};

// One scope of generated statements. Sub-expressions are memoised per scope so a
// value read twice at the same index is computed once.
struct Body {
  explicit Body(Body* parent = nullptr) : parent(parent) {}
  Body* parent;
  std::vector<std::string> lines;
  std::map<std::string, std::string> memo;
  const std::string* find(const std::string& key) const;
  // Appends statements written as text, one line per newline-terminated line.
  void add_text(const std::string& text);
  std::string render(int indent) const;
};

// A read of a materialised value, recorded so the planner of stages can tell whether
// an epilogue reads an anchor only at the element being produced.
struct BufferRead {
  std::string value;
  Ix address;
};

// A load or store of a buffer element, in the order the statements are written: what
// tells whether a block output may be written over a block input (codegen::in_place_pairs).
struct BufferAccess {
  std::string value;
  Ix address;
  bool write = false;
};

class EmitContext {
 public:
  // `dialect`: the language to write (C++ for the CPU kernels when null).
  EmitContext(const Graph& graph, const std::vector<const Node*>& nodes, const Dialect* dialect = nullptr);

  const Graph& graph() const { return graph_; }
  const Dialect& dialect() const { return *dialect_; }
  // A scalar broadcast to T, a float literal broadcast to T, an index literal.
  std::string splat(const std::string& scalar) const { return dialect_->splat(scalar); }
  std::string lit(double v) const { return splat(dialect_->float_literal(v)); }
  std::string int_lit(int64_t v) const { return std::to_string(v) + dialect_->ix().int_suffix; }
  const Node* producer(const std::string& value) const;  // in-block producer or nullptr
  std::vector<int64_t> shape_of(const std::string& value) const;
  DType dtype_of(const std::string& value) const;

  // Buffers in kernel-argument order (inputs, outputs, scratch).
  int add_buffer(const KernelBuffer& b);
  int buffer_slot(const std::string& value) const;  // -1 if none (follows aliases)
  // `value` is a reshaped view of `root`'s memory (same elements, same order).
  void set_alias(const std::string& value, const std::string& root) { aliases_[value] = root; }
  const std::vector<KernelBuffer>& buffers() const { return buffers_; }
  // `value`'s buffer holds a block of its columns starting at `first` (an index over the
  // stage's loop variables): value_at reads it at column c - first, in the buffer's own
  // shape. Empty `first` removes the window.
  void set_column_window(const std::string& value, const Ix& first);
  // Values readable from memory in the stage being generated.
  void set_available(const std::string& value, bool on);
  bool available(const std::string& value) const { return available_.count(value) != 0; }

  // Loop variables of the stage being generated.
  int new_var(const std::string& name, int64_t extent);
  Ix var(int id) const { return vars_.at(size_t(id)).ix; }
  const std::vector<std::string>& var_names() const { return names_; }
  void set_inner(int var, bool vectorised) { inner_ = var; vectorised_ = vectorised; }
  int inner() const { return inner_; }
  bool vectorised() const { return vectorised_; }
  void reset_vars();

  std::string fresh(const std::string& prefix = "t");
  std::string ix(const Ix& e) const { return ix_text(e, names_, dialect_->ix()); }
  // Placeholder text of `e` ($<var>$ for each loop variable) for an opaque index.
  std::string ix_placeholder(const Ix& e) const;

  // The value `v` at multi-index `idx` as a T expression (a local name or a literal).
  std::string value_at(Body& body, const std::string& v, const std::vector<Ix>& idx);
  // Input `i` of `node` at the node's output index `out_idx`, with ONNX broadcasting.
  std::string input_bcast(Body& body, const Node& node, size_t i, const std::vector<Ix>& out_idx);
  // Index of input `i` of `node` broadcast from the output index.
  std::vector<Ix> bcast_index(const std::string& input, const std::vector<Ix>& out_idx) const;
  // A constant input's values (nullptr if the input is not an initializer).
  const Tensor* constant(const std::string& value) const;

  // T expressions for memory access; `address` is an element offset.
  std::string load(Body& body, const std::string& value, const Ix& address);
  std::string store(const std::string& value, const Ix& address, const std::string& expr);
  // Binds a T expression to a named local and returns the name.
  std::string bind(Body& body, const std::string& expr);
  // A T mask (1/0) for an index condition "e < bound" / "e >= 0 && e < bound".
  std::string index_in_range(Body& body, const Ix& e, int64_t lo, int64_t hi_exclusive);
  // `e` clamped into [lo, hi] (an opaque index when its range exceeds them): reads of
  // a branch that a mask discards stay in bounds.
  Ix clamp(const Ix& e, int64_t lo, int64_t hi);

  // Lets the stage being generated provide a value at an index without memory
  // (the anchor's own result inside its epilogue).
  void preset(Body& body, const std::string& value, const std::vector<Ix>& idx, const std::string& expr);

  // File-scope declarations the kernel needs (index tables); emitted before its stages.
  void add_global(const std::string& text) { globals_ += text; }
  const std::string& globals() const { return globals_; }

  std::vector<BufferRead>& reads() { return reads_; }
  // Every load and store since the last call (reset_vars keeps them), in writing order.
  std::vector<BufferAccess> take_accesses() { return std::exchange(accesses_, {}); }
  const std::vector<BufferAccess>& accesses() const { return accesses_; }
  // A read of a buffer made without load() (an index table read by a pull).
  void note_read(const std::string& value, const Ix& address) { accesses_.push_back({value, address, false}); }
  bool unsupported() const { return !unsupported_.empty(); }
  const std::string& unsupported_reason() const { return unsupported_; }
  void mark_unsupported(const std::string& why) { if (unsupported_.empty()) unsupported_ = why; }

 private:
  std::string memo_key(const std::string& v, const std::vector<Ix>& idx) const;
  std::string gather_lambda(const std::string& value, const Ix& address);

  const Graph& graph_;
  const Dialect* dialect_;
  std::map<std::string, const Node*> producers_;
  std::vector<KernelBuffer> buffers_;
  std::map<std::string, int> slots_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, Ix> column_windows_;
  std::set<std::string> available_;
  struct Var { std::string name; Ix ix; };
  std::vector<Var> vars_;
  std::vector<std::string> names_;
  int inner_ = -1;
  bool vectorised_ = false;
  int counter_ = 0;
  std::vector<BufferRead> reads_;
  std::vector<BufferAccess> accesses_;
  std::string unsupported_;
  std::string globals_;
};

// Formats a float as a C++ literal (hex for exactness; inf/nan via builtins).
std::string float_literal(double v);
// Vars (placeholder form) an index expression reads.
std::vector<int> vars_of(const Ix& e);
// Coefficient of `var` if e = rest + coef * var with rest free of var; nullopt otherwise.
std::optional<int64_t> inner_coefficient(const Ix& e, int var);

}  // namespace dnnf::codegen
