#include "core/peers/peer_output_parsers.h"

#include <fstream>
#include <set>
#include <sstream>

#include "core/util/error.h"

namespace dnnf::peers {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// Calls `f` for every non-empty line that is not a `#` comment.
template <class F>
void for_each_entry(std::istream& in, F f) {
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    f(line);
  }
}

// Reads a JSON string value starting right after its opening quote.
std::string read_json_string(std::istream& in) {
  std::string s;
  char c;
  while (in.get(c) && c != '"') {
    if (c == '\\' && in.get(c)) s += c;
    else s += c;
  }
  return s;
}

}  // namespace

PeerCounts parse_onnxruntime_ops(std::istream& in) {
  PeerCounts r;
  for_each_entry(in, [&](const std::string& line) {
    const size_t colon = line.find(':');
    const std::string domain = colon == std::string::npos ? "" : line.substr(0, colon);
    const std::string op = colon == std::string::npos ? line : line.substr(colon + 1);
    r.layers++;
    r.ops[op]++;
    // ORT's CPU fusions all emit contrib ops of the com.microsoft domain.
    if (domain == "com.microsoft") r.fused_groups++;
  });
  return r;
}

PeerCounts parse_mnn_json(std::istream& in) {
  // The dump writes each op's fields before its `"type": "...", "defaultDimentionFormat"`
  // pair; nested tables (Pooling's "type") lack that follower. So a streaming scan keeps
  // the flags seen since the previous op and settles them when the op's type appears.
  static const std::set<std::string> not_kernels = {"Input", "Const", "TrainableParam"};
  static const std::set<std::string> fused_ops = {"LayerNorm", "Attention", "FmhaV2", "GroupNorm"};
  static const std::set<std::string> fused_unary = {"GELU", "GELU_STANDARD", "SILU", "HARDSWISH"};
  PeerCounts r;
  bool relu = false, in_oplists = false;
  std::string unary, pending_type;
  std::string key;
  char c;
  int depth = 0, oplists_depth = -1;
  while (in.get(c)) {
    if (c == '{' || c == '[') {
      ++depth;
      continue;
    }
    if (c == '}' || c == ']') {
      if (in_oplists && depth == oplists_depth && c == ']') in_oplists = false;
      --depth;
      continue;
    }
    if (c != '"') continue;
    const std::string token = read_json_string(in);
    // A key is followed by ':'; skip blanks to see.
    while (in.peek() == ' ' || in.peek() == '\n' || in.peek() == '\r') in.get();
    if (in.peek() != ':') continue;
    in.get();
    key = token;
    while (in.peek() == ' ' || in.peek() == '\n' || in.peek() == '\r') in.get();
    if (key == "oplists") {
      in_oplists = true;
      oplists_depth = depth + 1;
      continue;
    }
    if (!in_oplists) continue;
    if ((key == "relu" || key == "relu6") && in.peek() == 't') relu = true;
    if (in.peek() != '"') continue;
    in.get();
    const std::string value = read_json_string(in);
    if (key == "opType") unary = value;
    if (key == "type") pending_type = value;
    if (key == "defaultDimentionFormat" && !pending_type.empty()) {
      if (!not_kernels.count(pending_type)) {
        r.layers++;
        r.ops[pending_type]++;
        const bool conv = pending_type.rfind("Convolution", 0) == 0 || pending_type.rfind("Deconvolution", 0) == 0;
        if ((conv && relu) || fused_ops.count(pending_type) || (pending_type == "UnaryOp" && fused_unary.count(unary)))
          r.fused_groups++;
      }
      pending_type.clear();
      unary.clear();
      relu = false;
    }
  }
  return r;
}

PeerCounts parse_tflite_ops(std::istream& in) {
  PeerCounts r;
  for_each_entry(in, [&](const std::string& line) {
    const size_t plus = line.find('+');
    r.layers++;
    r.ops[line.substr(0, plus)]++;
    if (plus != std::string::npos) r.fused_groups++;
  });
  return r;
}

PeerCounts parse_tvm_ops(std::istream& in) {
  PeerCounts r;
  for_each_entry(in, [&](const std::string& line) {
    std::istringstream ls(line);
    std::string name;
    int64_t n = 1;
    ls >> name >> n;
    check(!ls.fail(), "TVM op list: expected 'FUNCTION COUNT', got '", line, "'");
    r.layers++;
    r.ops[name.rfind("fused_", 0) == 0 ? "fused" : name]++;
    if (n > 1) r.fused_groups++;
  });
  return r;
}

PeerCounts parse_peer_output(const std::string& peer, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "cannot read peer output '", path, "'");
  if (peer == "onnxruntime") return parse_onnxruntime_ops(in);
  if (peer == "mnn") return parse_mnn_json(in);
  if (peer == "tflite") return parse_tflite_ops(in);
  if (peer == "tvm") return parse_tvm_ops(in);
  fail("no output parser for peer '", peer, "'");
}

}  // namespace dnnf::peers
