#include "interp_plan.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

#include "core/util/error.h"

namespace dnnf_bundle {

using dnnf::Attribute;
using dnnf::Dim;
using dnnf::DType;
using dnnf::Graph;
using dnnf::Node;
using dnnf::Shape;
using dnnf::Tensor;
using dnnf::TensorType;

namespace {

bool plain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == ':' || c == '/' || c == '-';
}

std::string enc(const std::string& s) {
  if (s.empty()) return "~";
  std::string out;
  for (unsigned char c : s) {
    if (plain(c)) {
      out += char(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string float_text(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", double(f));
  return buf;
}

const char* kHex = "0123456789abcdef";

// ---- writing -------------------------------------------------------------------------

class Writer {
 public:
  std::string text;

  void line(const std::string& s) { text += s + "\n"; }

  static std::string shape_text(const Shape& s) {
    std::string out = std::to_string(s.size());
    for (int64_t d : s) out += " " + std::to_string(d);
    return out;
  }

  static std::string type_text(const TensorType& t) {
    std::string out = dnnf::dtype_name(t.dtype);
    if (!t.has_shape) return out + " -";
    out += " " + std::to_string(t.dims.size());
    for (const Dim& d : t.dims) out += d.known() ? " " + std::to_string(d.value) : " ?" + enc(d.symbol);
    return out;
  }

  static std::string tensor_text(const Tensor& t) {
    std::string out = std::string(dnnf::dtype_name(t.dtype())) + " " + shape_text(t.shape());
    if (t.dtype() == DType::String) {
      for (const std::string& s : t.strings()) out += " " + enc(s);
      return out;
    }
    if (t.nbytes() == 0) return out + " ~";
    out += " ";
    const auto* p = static_cast<const unsigned char*>(t.raw());
    for (size_t i = 0; i < t.nbytes(); ++i) {
      out += kHex[p[i] >> 4];
      out += kHex[p[i] & 15];
    }
    return out;
  }

  void attribute(const std::string& name, const Attribute& a) {
    std::string s = "attr " + enc(name) + " ";
    switch (a.kind) {
      case Attribute::Kind::Float: line(s + "f " + float_text(a.f)); return;
      case Attribute::Kind::Int: line(s + "i " + std::to_string(a.i)); return;
      case Attribute::Kind::String: line(s + "s " + enc(a.s)); return;
      case Attribute::Kind::Tensor: line(s + "t " + tensor_text(a.t)); return;
      case Attribute::Kind::Floats:
        s += "floats " + std::to_string(a.floats.size());
        for (float f : a.floats) s += " " + float_text(f);
        line(s);
        return;
      case Attribute::Kind::Ints:
        s += "ints " + std::to_string(a.ints.size());
        for (int64_t i : a.ints) s += " " + std::to_string(i);
        line(s);
        return;
      case Attribute::Kind::Strings:
        s += "strings " + std::to_string(a.strings.size());
        for (const std::string& v : a.strings) s += " " + enc(v);
        line(s);
        return;
      case Attribute::Kind::Tensors:
        line(s + "tensors " + std::to_string(a.tensors.size()));
        for (const Tensor& t : a.tensors) line("tensor " + tensor_text(t));
        return;
      case Attribute::Kind::Graph:
        dnnf::check(a.g != nullptr, "attribute '", name, "' has no graph");
        line(s + "g");
        graph(*a.g);
        return;
      case Attribute::Kind::Graphs:
        line(s + "graphs " + std::to_string(a.graphs.size()));
        for (const auto& g : a.graphs) {
          dnnf::check(g != nullptr, "attribute '", name, "' has a null graph");
          graph(*g);
        }
        return;
    }
  }

  void graph(const Graph& g) {
    line("graph " + enc(g.name));
    for (const auto& [domain, version] : g.opsets) line("opset " + enc(domain) + " " + std::to_string(version));
    for (const dnnf::ValueInfo& v : g.inputs) line("input " + enc(v.name) + " " + type_text(v.type));
    for (const dnnf::ValueInfo& v : g.outputs) line("output " + enc(v.name) + " " + type_text(v.type));
    for (const auto& [name, t] : g.value_types) line("type " + enc(name) + " " + type_text(t));
    for (const auto& [name, t] : g.initializers) line("init " + enc(name) + " " + tensor_text(t));
    for (const Node& n : g.nodes) {
      std::string s = "node " + std::to_string(n.id) + " " + enc(n.op_type) + " " + enc(n.domain) + " " + enc(n.name) +
                      " " + std::to_string(n.inputs.size());
      for (const std::string& v : n.inputs) s += " " + enc(v);
      s += " " + std::to_string(n.outputs.size());
      for (const std::string& v : n.outputs) s += " " + enc(v);
      line(s + " " + std::to_string(n.attrs.size()));
      for (const auto& [name, a] : n.attrs) attribute(name, a);
    }
    line("end");
  }
};

// ---- reading -------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(const std::string& text) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines_.push_back(l);
  }

  [[noreturn]] void bad(const std::string& why) const {
    dnnf::fail("interp.txt line ", line_no_, ": ", why);
  }

  // The next line's tokens (empty at the end of the text).
  bool next_line() {
    if (next_ >= lines_.size()) return false;
    line_no_ = next_ + 1;
    const std::string& l = lines_[next_++];
    tokens_.clear();
    pos_ = 0;
    size_t i = 0;
    while (i <= l.size()) {
      const size_t j = l.find(' ', i);
      const size_t end = j == std::string::npos ? l.size() : j;
      if (end == i) bad("empty token (two spaces, or a space at the end of the line)");
      tokens_.push_back(l.substr(i, end - i));
      if (j == std::string::npos) break;
      i = j + 1;
    }
    return true;
  }

  void expect_line(const char* what) {
    if (!next_line()) dnnf::fail("interp.txt: ends early, ", what, " expected after line ", line_no_);
  }

  bool done() const { return pos_ >= tokens_.size(); }
  void finish() const {
    if (!done()) bad("unexpected '" + tokens_[pos_] + "' at the end of the line");
  }
  const std::string& keyword() const { return tokens_.front(); }

  std::string word(const char* what) {
    if (pos_ >= tokens_.size()) bad(std::string("missing ") + what);
    return tokens_[pos_++];
  }

  int64_t integer(const char* what) {
    const std::string w = word(what);
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(w.c_str(), &end, 10);
    if (w.empty() || *end != '\0' || errno == ERANGE) bad(std::string("bad ") + what + " '" + w + "'");
    return int64_t(v);
  }

  uint64_t count(const char* what, uint64_t most = uint64_t(1) << 32) {
    const int64_t v = integer(what);
    if (v < 0 || uint64_t(v) > most) bad(std::string(what) + " " + std::to_string(v) + " out of range");
    return uint64_t(v);
  }

  float real(const char* what) {
    const std::string w = word(what);
    char* end = nullptr;
    const float f = std::strtof(w.c_str(), &end);
    if (w.empty() || *end != '\0') bad(std::string("bad ") + what + " '" + w + "'");
    return f;
  }

  std::string text(const char* what) {
    const std::string w = word(what);
    if (w == "~") return "";
    std::string out;
    for (size_t i = 0; i < w.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(w[i]);
      if (c == '%') {
        if (i + 2 >= w.size()) bad(std::string("bad escape in ") + what + " '" + w + "'");
        const int hi = hex_digit(w[i + 1]), lo = hex_digit(w[i + 2]);
        if (hi < 0 || lo < 0) bad(std::string("bad escape in ") + what + " '" + w + "'");
        out += char(hi * 16 + lo);
        i += 2;
      } else if (plain(c)) {
        out += char(c);
      } else {
        bad(std::string("character not allowed in ") + what + " '" + w + "'");
      }
    }
    return out;
  }

  DType dtype(const char* what) {
    const std::string w = word(what);
    for (int k = int(DType::F32); k <= int(DType::String); ++k)
      if (w == dnnf::dtype_name(DType(k))) return DType(k);
    bad("unknown element type '" + w + "'");
  }

  Shape shape() {
    const uint64_t rank = count("rank", 64);
    Shape s;
    for (uint64_t d = 0; d < rank; ++d) {
      const int64_t v = integer("dimension");
      if (v < 0) bad("negative dimension " + std::to_string(v));
      s.push_back(v);
    }
    return s;
  }

  TensorType type() {
    TensorType t;
    t.dtype = dtype("element type");
    if (pos_ < tokens_.size() && tokens_[pos_] == "-") {
      ++pos_;
      return t;
    }
    t.has_shape = true;
    const uint64_t rank = count("rank", 64);
    for (uint64_t d = 0; d < rank; ++d) {
      const std::string w = word("dimension");
      if (!w.empty() && w[0] == '?') {
        tokens_[--pos_] = w.substr(1);  // the symbol, decoded like any string
        t.dims.push_back(Dim::sym(text("dimension symbol")));
      } else {
        --pos_;
        const int64_t v = integer("dimension");
        if (v < 0) bad("negative dimension " + std::to_string(v));
        t.dims.push_back(Dim(v));
      }
    }
    return t;
  }

  // Sizes are checked against the line before anything is allocated, so a corrupt
  // count cannot ask for gigabytes.
  Tensor tensor() {
    const DType dt = dtype("element type");
    const Shape s = shape();
    int64_t numel = 0;
    try {
      numel = dnnf::shape_numel(s);
    } catch (const dnnf::Error& e) {
      bad(e.what());
    }
    if (dt == DType::String) {
      if (uint64_t(numel) != tokens_.size() - pos_)
        bad("string tensor of shape " + dnnf::shape_str(s) + " needs " + std::to_string(numel) + " strings");
      Tensor t(dt, s);
      for (std::string& v : t.strings()) v = text("string element");
      return t;
    }
    const std::string hex = word("tensor bytes");
    const uint64_t bytes = uint64_t(numel) * dnnf::dtype_size(dt);
    if ((hex == "~" ? 0 : hex.size()) != 2 * bytes)
      bad("tensor of shape " + dnnf::shape_str(s) + " needs " + std::to_string(bytes) + " bytes, the line has " +
          std::to_string(hex == "~" ? 0 : hex.size() / 2));
    Tensor t(dt, s);
    auto* p = static_cast<unsigned char*>(t.raw());
    for (size_t i = 0; i < bytes; ++i) {
      const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) bad("bad hex digit in tensor bytes");
      p[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return t;
  }

  Attribute attribute() {
    Attribute a;
    const std::string kind = word("attribute kind");
    if (kind == "f") {
      a.kind = Attribute::Kind::Float;
      a.f = real("float");
    } else if (kind == "i") {
      a.kind = Attribute::Kind::Int;
      a.i = integer("int");
    } else if (kind == "s") {
      a.kind = Attribute::Kind::String;
      a.s = text("string");
    } else if (kind == "t") {
      a.kind = Attribute::Kind::Tensor;
      a.t = tensor();
    } else if (kind == "floats") {
      a.kind = Attribute::Kind::Floats;
      for (uint64_t n = count("count", tokens_.size()), k = 0; k < n; ++k) a.floats.push_back(real("float"));
    } else if (kind == "ints") {
      a.kind = Attribute::Kind::Ints;
      for (uint64_t n = count("count", tokens_.size()), k = 0; k < n; ++k) a.ints.push_back(integer("int"));
    } else if (kind == "strings") {
      a.kind = Attribute::Kind::Strings;
      for (uint64_t n = count("count", tokens_.size()), k = 0; k < n; ++k) a.strings.push_back(text("string"));
    } else if (kind == "tensors") {
      a.kind = Attribute::Kind::Tensors;
      const uint64_t n = count("count", lines_.size());
      finish();
      for (uint64_t k = 0; k < n; ++k) {
        expect_line("a tensor line");
        if (word("keyword") != "tensor") bad("'tensor' expected");
        a.tensors.push_back(tensor());
        finish();
      }
      return a;
    } else if (kind == "g") {
      a.kind = Attribute::Kind::Graph;
      finish();
      a.g = std::make_shared<Graph>(nested_graph());
      return a;
    } else if (kind == "graphs") {
      a.kind = Attribute::Kind::Graphs;
      const uint64_t n = count("count", lines_.size());
      finish();
      for (uint64_t k = 0; k < n; ++k) a.graphs.push_back(std::make_shared<Graph>(nested_graph()));
      return a;
    } else {
      bad("unknown attribute kind '" + kind + "'");
    }
    finish();
    return a;
  }

  Graph nested_graph() {
    expect_line("a graph");
    if (word("keyword") != "graph") bad("'graph' expected");
    return graph_body();
  }

  // After a "graph NAME" line (the current one): its lines up to the matching "end".
  Graph graph_body() {
    if (++depth_ > 64) bad("graphs nested more than 64 deep");
    Graph g;
    g.name = text("graph name");
    finish();
    for (;;) {
      expect_line("'end'");
      const std::string k = word("keyword");
      if (k == "end") {
        finish();
        break;
      }
      if (k == "opset") {
        const std::string domain = text("domain");
        g.opsets[domain] = integer("opset version");
      } else if (k == "input" || k == "output") {
        dnnf::ValueInfo v;
        v.name = text("value name");
        v.type = type();
        (k == "input" ? g.inputs : g.outputs).push_back(v);
      } else if (k == "type") {
        const std::string name = text("value name");
        g.value_types[name] = type();
      } else if (k == "init") {
        const std::string name = text("value name");
        g.initializers[name] = tensor();
      } else if (k == "node") {
        node(g);
        continue;  // node() read its attribute lines
      } else {
        bad("unknown graph line '" + k + "'");
      }
      finish();
    }
    --depth_;
    return g;
  }

  void node(Graph& g) {
    Node n;
    n.id = integer("node id");
    if (n.id < 0) bad("negative node id");
    n.op_type = text("operator");
    if (n.op_type.empty()) bad("empty operator name");
    n.domain = text("domain");
    n.name = text("node name");
    for (uint64_t c = count("input count", tokens_.size()), k = 0; k < c; ++k) n.inputs.push_back(text("input name"));
    for (uint64_t c = count("output count", tokens_.size()), k = 0; k < c; ++k) n.outputs.push_back(text("output name"));
    const uint64_t attrs = count("attribute count", lines_.size());
    finish();
    for (uint64_t k = 0; k < attrs; ++k) {
      expect_line("an attribute line");
      if (word("keyword") != "attr") bad("'attr' expected");
      const std::string name = text("attribute name");
      if (n.attrs.count(name)) bad("attribute '" + name + "' given twice");
      n.attrs[name] = attribute();
    }
    g.reserve_ids_past(n.id);
    g.nodes.push_back(std::move(n));
  }

  InterpPlan plan() {
    InterpPlan p;
    if (!next_line() || tokens_.size() != 2 || tokens_[0] != "dnnf-interp-plan")
      dnnf::fail("interp.txt line 1: not a dnnf interpreter plan (expected 'dnnf-interp-plan ", kInterpPlanVersion,
                 "')");
    pos_ = 1;
    const int64_t version = integer("version");
    if (version != kInterpPlanVersion)
      bad("plan version " + std::to_string(version) + ", this runtime reads version " +
          std::to_string(kInterpPlanVersion));
    bool have_graph = false, have_weights_bytes = false;
    while (next_line()) {
      const std::string k = word("keyword");
      if (k == "weights_bytes") {
        p.weights_bytes = count("weights_bytes", uint64_t(1) << 62);
        have_weights_bytes = true;
      } else if (k == "weight") {
        InterpWeight w;
        w.name = text("weight name");
        w.dtype = dtype("element type");
        if (w.dtype == DType::String) bad("a string weight cannot live in weights.bin");
        w.offset = count("offset", uint64_t(1) << 62);
        w.shape = shape();
        const uint64_t bytes = uint64_t(dnnf::shape_numel(w.shape)) * dnnf::dtype_size(w.dtype);
        if (!have_weights_bytes || w.offset > p.weights_bytes || bytes > p.weights_bytes - w.offset)
          bad("weight '" + w.name + "' lies outside weights.bin (" + std::to_string(p.weights_bytes) + " bytes)");
        p.weights.push_back(std::move(w));
      } else if (k == "import") {
        InterpImport im;
        im.name = text("import name");
        im.dtype = dtype("element type");
        im.shape = shape();
        p.imports.push_back(std::move(im));
      } else if (k == "graph") {
        if (have_graph) bad("a second top-level graph");
        p.graph = graph_body();
        have_graph = true;
        continue;
      } else if (k == "step") {
        if (!have_graph) bad("a step before the graph");
        std::vector<uint32_t> nodes;
        for (uint64_t c = count("node count", tokens_.size()), i = 0; i < c; ++i) {
          const uint64_t idx = count("node index", p.graph.nodes.size());
          if (idx >= p.graph.nodes.size())
            bad("node index " + std::to_string(idx) + " out of range (" + std::to_string(p.graph.nodes.size()) +
                " nodes)");
          nodes.push_back(uint32_t(idx));
        }
        p.steps.push_back(std::move(nodes));
      } else {
        bad("unknown line '" + k + "'");
      }
      finish();
    }
    if (!have_graph) dnnf::fail("interp.txt: no graph (truncated?)");
    if (!have_weights_bytes) dnnf::fail("interp.txt: no weights_bytes line");
    return p;
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  std::vector<std::string> lines_;
  size_t next_ = 0, line_no_ = 0;
  std::vector<std::string> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string write_interp_plan(const InterpPlan& p) {
  Writer w;
  w.line("dnnf-interp-plan " + std::to_string(kInterpPlanVersion));
  w.line("weights_bytes " + std::to_string(p.weights_bytes));
  for (const InterpWeight& x : p.weights)
    w.line("weight " + enc(x.name) + " " + dnnf::dtype_name(x.dtype) + " " + std::to_string(x.offset) + " " +
           Writer::shape_text(x.shape));
  for (const InterpImport& x : p.imports)
    w.line("import " + enc(x.name) + " " + dnnf::dtype_name(x.dtype) + " " + Writer::shape_text(x.shape));
  dnnf::check(p.graph.initializers.empty(), "interpreter plan: top-level constants belong in weights.bin");
  w.graph(p.graph);
  for (const std::vector<uint32_t>& s : p.steps) {
    std::string l = "step " + std::to_string(s.size());
    for (uint32_t i : s) l += " " + std::to_string(i);
    w.line(l);
  }
  return w.text;
}

InterpPlan read_interp_plan(const std::string& text) { return Reader(text).plan(); }

}  // namespace dnnf_bundle
