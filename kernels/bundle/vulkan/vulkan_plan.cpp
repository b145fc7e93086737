#include "vulkan_plan.h"

#include <cctype>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace dnnf_bundle {

namespace {

struct DtypeSize {
  const char* name;
  size_t bytes;
};
// The dtypes a bundle input or output may have: each converts exactly (or by the usual
// rounding) to and from the float32 the shaders compute in.
constexpr DtypeSize kDtypes[] = {{"float32", 4}, {"float64", 8}, {"int8", 1},   {"int16", 2},  {"int32", 4},
                                 {"int64", 8},   {"uint8", 1},   {"uint16", 2}, {"uint32", 4}, {"uint64", 8},
                                 {"bool", 1}};

bool plain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string tensor_line(const char* kind, const PlanTensor& t) {
  std::string s = t.on_host ? "host_output " + t.dtype + " " + std::to_string(t.dims.size())
                            : std::string(kind) + " " + std::to_string(t.value) + " " + t.dtype + " " +
                                  std::to_string(t.dims.size());
  for (int64_t d : t.dims) s += d < 0 ? std::string(" ?") : " " + std::to_string(d);
  return s + " " + plan_encode_name(t.name) + "\n";
}

// One line split on spaces, read field by field with errors that name the line.
class Line {
 public:
  Line(const std::string& text, size_t number) : number_(number) {
    std::istringstream in(text);
    std::string w;
    while (in >> w) words_.push_back(w);
  }
  bool empty() const { return words_.empty(); }
  const std::string& keyword() const { return words_[0]; }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("plan.txt line " + std::to_string(number_) + ": " + what);
  }
  std::string word() {
    if (next_ >= words_.size()) fail("'" + words_[0] + "' line is too short");
    return words_[next_++];
  }
  uint64_t number(uint64_t max = std::numeric_limits<uint64_t>::max()) {
    const std::string w = word();
    if (w.empty() || w.size() > 20) fail("'" + w + "' is not a number");
    uint64_t v = 0;
    for (char c : w) {
      if (c < '0' || c > '9') fail("'" + w + "' is not a number");
      if (v > (std::numeric_limits<uint64_t>::max() - uint64_t(c - '0')) / 10) fail("'" + w + "' is too large");
      v = v * 10 + uint64_t(c - '0');
    }
    if (v > max) fail(w + " is out of range (at most " + std::to_string(max) + ")");
    return v;
  }
  uint32_t id(size_t count, const char* what) {
    const uint64_t v = number();
    if (v >= count) fail(std::string(what) + " " + std::to_string(v) + " is not defined above");
    return uint32_t(v);
  }
  std::string name() {
    try {
      return plan_decode_name(word());
    } catch (const std::runtime_error& e) {
      fail(e.what());
    }
  }
  std::string peek() const { return next_ < words_.size() ? words_[next_] : std::string(); }
  void end() const {
    if (next_ != words_.size()) fail("unexpected '" + words_[next_] + "'");
  }
  size_t line_number() const { return number_; }

 private:
  std::vector<std::string> words_;
  size_t next_ = 1;
  size_t number_;
};

PlanTensor read_tensor(Line& l, size_t values, bool on_host = false) {
  PlanTensor t;
  t.on_host = on_host;
  if (!on_host) t.value = l.id(values, "value");
  t.dtype = l.word();
  if (plan_dtype_size(t.dtype) == 0) l.fail("dtype '" + t.dtype + "' is not one a bundle takes");
  const uint64_t rank = l.number(64);
  for (uint64_t k = 0; k < rank; ++k) {
    if (on_host && l.peek() == "?") {
      l.word();
      t.dims.push_back(-1);
      continue;
    }
    t.dims.push_back(int64_t(l.number(uint64_t(1) << 40)));
  }
  t.name = l.name();
  return t;
}

}  // namespace

int64_t PlanTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

size_t VulkanPlan::host_step_count() const {
  size_t n = 0;
  for (const PlanStep& s : steps) n += s.is_host ? 1 : 0;
  return n;
}

size_t VulkanPlan::dispatch_count() const {
  size_t n = 0;
  for (const PlanStep& s : steps) n += s.dispatches.size();
  return n;
}

size_t VulkanPlan::copy_count() const {
  size_t n = 0;
  for (const PlanStep& s : steps) n += s.is_copy ? 1 : 0;
  return n;
}

size_t VulkanPlan::barrier_count() const {
  size_t n = 0;
  for (const PlanStep& s : steps) {
    n += s.is_copy && s.copy.barrier ? 1 : 0;
    for (const PlanDispatch& d : s.dispatches) n += d.barrier ? 1 : 0;
  }
  return n;
}

size_t plan_dtype_size(const std::string& dtype) {
  for (const DtypeSize& d : kDtypes)
    if (dtype == d.name) return d.bytes;
  return 0;
}

std::string plan_encode_name(const std::string& name) {
  static const char* hex = "0123456789ABCDEF";
  std::string s;
  for (char c : name) {
    if (plain_char(c)) {
      s += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      s += '%';
      s += hex[u >> 4];
      s += hex[u & 15];
    }
  }
  return s.empty() ? "%" : s;  // a lone '%' stands for the empty name
}

std::string plan_decode_name(const std::string& text) {
  if (text == "%") return "";
  std::string s;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      s += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) throw std::runtime_error("bad escape in name '" + text + "'");
    s += char(hi * 16 + lo);
    i += 2;
  }
  return s;
}

std::string write_vulkan_plan(const VulkanPlan& p) {
  bool host = p.host_step_count() > 0;
  for (const PlanTensor& t : p.outputs) host = host || t.on_host;
  std::string s =
      "dnnf-vulkan-plan " + std::to_string(host ? kVulkanPlanVersionWithHostSteps : kVulkanPlanVersion) + "\n";
  s += "local_size " + std::to_string(p.local_size) + "\n";
  s += "shared_bytes " + std::to_string(p.shared_bytes) + "\n";
  s += "max_bindings " + std::to_string(p.max_bindings) + "\n";
  s += "arena_bytes " + std::to_string(p.arena_bytes) + "\n";
  s += "weights_bytes " + std::to_string(p.weights_bytes) + "\n";
  for (size_t i = 0; i < p.values.size(); ++i)
    s += "value " + std::to_string(i) + " " + std::to_string(p.values[i].offset) + " " +
         std::to_string(p.values[i].bytes) + " " + plan_encode_name(p.values[i].name) + "\n";
  for (const PlanConstant& c : p.constants)
    s += "constant " + std::to_string(c.value) + " " + std::to_string(c.weights_offset) + " " +
         std::to_string(c.bytes) + "\n";
  for (const PlanTensor& t : p.inputs) s += tensor_line("input", t);
  for (const PlanTensor& t : p.outputs) s += tensor_line("output", t);
  for (size_t i = 0; i < p.shaders.size(); ++i)
    s += "shader " + std::to_string(i) + " " + p.shaders[i].file + " " + std::to_string(p.shaders[i].bindings) + "\n";
  for (const PlanStep& st : p.steps) {
    if (st.is_host) {
      s += "host " + std::to_string(st.host_step) + "\n";
      for (const PlanUpload& u : st.uploads)
        s += "upload " + std::to_string(u.value) + " " + std::to_string(u.elements) + "\n";
      continue;
    }
    if (st.is_copy) {
      s += "copy " + std::to_string(st.copy.src) + " " + std::to_string(st.copy.dst) + " " +
           std::to_string(st.copy.bytes) + " " + (st.copy.barrier ? "1" : "0") + "\n";
      continue;
    }
    s += "step " + std::to_string(st.shader) + " " + std::to_string(st.bindings.size());
    for (uint32_t v : st.bindings) s += " " + std::to_string(v);
    s += "\n";
    for (const PlanDispatch& d : st.dispatches)
      s += "dispatch " + std::to_string(d.stage) + " " + std::to_string(d.groups[0]) + " " +
           std::to_string(d.groups[1]) + " " + std::to_string(d.groups[2]) + " " + (d.barrier ? "1" : "0") + "\n";
  }
  return s;
}

VulkanPlan read_vulkan_plan(const std::string& text) {
  VulkanPlan p;
  std::istringstream in(text);
  std::string raw;
  size_t number = 0;
  bool header = false, version2 = false;
  while (std::getline(in, raw)) {
    Line l(raw, ++number);
    if (l.empty()) continue;
    const std::string& k = l.keyword();
    if (!header) {
      if (k != "dnnf-vulkan-plan") l.fail("not a dnnf Vulkan plan (expected 'dnnf-vulkan-plan')");
      const uint64_t version = l.number();
      if (version != uint64_t(kVulkanPlanVersion) && version != uint64_t(kVulkanPlanVersionWithHostSteps))
        l.fail("plan version " + std::to_string(version) + " (this runtime reads versions " +
               std::to_string(kVulkanPlanVersion) + " and " + std::to_string(kVulkanPlanVersionWithHostSteps) + ")");
      version2 = version == uint64_t(kVulkanPlanVersionWithHostSteps);
      header = true;
    } else if (k == "local_size") {
      p.local_size = uint32_t(l.number(1024));
      if (p.local_size == 0) l.fail("local_size 0");
    } else if (k == "shared_bytes") {
      p.shared_bytes = uint32_t(l.number(uint32_t(1) << 30));
    } else if (k == "max_bindings") {
      p.max_bindings = uint32_t(l.number(1u << 16));
    } else if (k == "arena_bytes") {
      p.arena_bytes = l.number();
    } else if (k == "weights_bytes") {
      p.weights_bytes = l.number();
    } else if (k == "value") {
      if (l.number() != p.values.size()) l.fail("values must be numbered 0, 1, 2, ... in order");
      PlanValue v;
      v.offset = l.number();
      v.bytes = l.number();
      v.name = l.name();
      if (v.offset % kArenaAlignment != 0) l.fail("offset " + std::to_string(v.offset) + " is not 256-aligned");
      if (v.bytes == 0 || v.bytes % 4 != 0) l.fail("a value's bytes must be a positive multiple of 4");
      if (v.offset > p.arena_bytes || v.bytes > p.arena_bytes - v.offset) l.fail("value lies outside the arena");
      p.values.push_back(v);
    } else if (k == "constant") {
      PlanConstant c;
      c.value = l.id(p.values.size(), "value");
      c.weights_offset = l.number();
      c.bytes = l.number();
      if (c.bytes > p.values[c.value].bytes) l.fail("constant is larger than its value");
      if (c.weights_offset > p.weights_bytes || c.bytes > p.weights_bytes - c.weights_offset)
        l.fail("constant lies outside weights.bin");
      p.constants.push_back(c);
    } else if (k == "input" || k == "output") {
      PlanTensor t = read_tensor(l, p.values.size());
      if (uint64_t(t.elements()) * 4 > p.values[t.value].bytes)
        l.fail("tensor '" + t.name + "' does not fit its value");
      (k == "input" ? p.inputs : p.outputs).push_back(t);
    } else if (version2 && k == "host_output") {
      p.outputs.push_back(read_tensor(l, p.values.size(), true));
    } else if (version2 && k == "host") {
      PlanStep st;
      st.is_host = true;
      st.host_step = uint32_t(l.number(1u << 30));
      p.steps.push_back(st);
    } else if (version2 && k == "upload") {
      if (p.steps.empty() || !p.steps.back().is_host) l.fail("upload outside a host step");
      PlanUpload u;
      u.value = l.id(p.values.size(), "value");
      u.elements = l.number(uint64_t(1) << 40);
      if (u.elements * 4 > p.values[u.value].bytes) l.fail("upload does not fit its value");
      p.steps.back().uploads.push_back(u);
    } else if (k == "shader") {
      if (l.number() != p.shaders.size()) l.fail("shaders must be numbered 0, 1, 2, ... in order");
      PlanShader s;
      s.file = l.word();
      if (s.file.find("..") != std::string::npos || s.file[0] == '/') l.fail("shader path '" + s.file + "' leaves the bundle");
      s.bindings = uint32_t(l.number(1u << 16));
      p.shaders.push_back(s);
    } else if (k == "step") {
      PlanStep st;
      st.shader = l.id(p.shaders.size(), "shader");
      const uint64_t n = l.number(1u << 16);
      if (n != p.shaders[st.shader].bindings)
        l.fail("step binds " + std::to_string(n) + " buffers, its shader has " +
               std::to_string(p.shaders[st.shader].bindings));
      for (uint64_t b = 0; b < n; ++b) st.bindings.push_back(l.id(p.values.size(), "value"));
      p.steps.push_back(st);
    } else if (k == "copy") {
      PlanStep st;
      st.is_copy = true;
      st.copy.src = l.id(p.values.size(), "value");
      st.copy.dst = l.id(p.values.size(), "value");
      st.copy.bytes = l.number();
      st.copy.barrier = l.number(1) == 1;
      if (st.copy.src == st.copy.dst) l.fail("copy of a value onto itself");
      if (st.copy.bytes > p.values[st.copy.src].bytes || st.copy.bytes > p.values[st.copy.dst].bytes)
        l.fail("copy is larger than its values");
      if (st.copy.bytes % 4 != 0) l.fail("copy bytes must be a multiple of 4");
      p.steps.push_back(st);
    } else if (k == "dispatch") {
      if (p.steps.empty() || p.steps.back().is_copy || p.steps.back().is_host) l.fail("dispatch before any step");
      PlanDispatch d;
      d.stage = int32_t(l.number(1u << 20));
      for (uint32_t& g : d.groups) g = uint32_t(l.number(0xffffffffu));
      d.barrier = l.number(1) == 1;
      p.steps.back().dispatches.push_back(d);
    } else {
      l.fail("unknown keyword '" + k + "'");
    }
    l.end();
  }
  if (!header) throw std::runtime_error("plan.txt: empty (expected 'dnnf-vulkan-plan')");
  for (const PlanShader& s : p.shaders)
    if (s.bindings > p.max_bindings) throw std::runtime_error("plan.txt: a shader binds more than max_bindings buffers");
  if (p.outputs.empty()) throw std::runtime_error("plan.txt: the plan has no output");
  return p;
}

}  // namespace dnnf_bundle
