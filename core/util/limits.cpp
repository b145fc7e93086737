// The process-wide limits table (see limits.h).
#include "core/util/limits.h"

#include <cctype>
#include <cstdlib>
#include <cstdint>

#include "core/util/error.h"

namespace dnnf {
namespace {

Limits& current() {
  // Read DNNF_LIMITS once, on first use; a bad value is an error at that point.
  static Limits l = [] {
    Limits from_env;
    if (const char* env = std::getenv("DNNF_LIMITS"); env && *env) {
      try {
        apply_limit_list(env, from_env);
      } catch (const Error& e) {
        fail("DNNF_LIMITS: ", e.what());
      }
    }
    return from_env;
  }();
  return l;
}

const LimitInfo& find_limit(const std::string& name) {
  for (const LimitInfo& info : limit_table())
    if (name == info.name) return info;
  std::string known;
  for (const LimitInfo& info : limit_table()) known += std::string(known.empty() ? "" : ", ") + info.name;
  fail("unknown limit '", name, "' (known: ", known, ")");
}

// "512M" -> 512 << 20; a positive integer with an optional K/M/G/T suffix.
int64_t parse_value(const std::string& name, const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int shift = 0;
  if (digits + 1 == text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text.back()))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: shift = -1;
    }
  }
  check(digits > 0 && digits <= 18 && shift >= 0 && (digits == text.size() || shift > 0), "limit ", name,
        ": '", text, "' is not a positive integer (optionally with K, M, G or T)");
  const int64_t v = std::strtoll(text.substr(0, digits).c_str(), nullptr, 10);
  check(v > 0, "limit ", name, ": the value must be positive");
  check(v <= (INT64_MAX >> shift), "limit ", name, ": '", text, "' is too large");
  return v << shift;
}

}  // namespace

const std::vector<LimitInfo>& limit_table() {
  static const std::vector<LimitInfo> table = {
      {"tensor-elements", "elements of one tensor (constant, input or inferred)", "elements", &Limits::tensor_elements},
      {"plan-memory", "bytes of one execution plan (activation arena + packed weights)", "bytes", &Limits::plan_memory},
      {"subgraph-depth", "nesting depth of If/Loop/Scan bodies and ONNX functions", "levels", &Limits::subgraph_depth},
      {"model-file", "bytes of a model file", "bytes", &Limits::model_file},
      {"tensor-file", "bytes of a .pb or .npy tensor file", "bytes", &Limits::tensor_file},
      {"journal-file", "bytes of a journal file", "bytes", &Limits::journal_file},
      {"external-data", "bytes of one external-data file of a model", "bytes", &Limits::external_data},
  };
  return table;
}

const Limits& limits() { return current(); }

void set_limits(const Limits& l) { current() = l; }

void apply_limit_list(const std::string& list, Limits& into) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(start, end - start);
    if (!item.empty()) {
      const size_t eq = item.find('=');
      check(eq != std::string::npos, "'", item, "' is not NAME=VALUE");
      const LimitInfo& info = find_limit(item.substr(0, eq));
      into.*(info.field) = parse_value(info.name, item.substr(eq + 1));
    }
    start = end + 1;
  }
}

void set_limit(const std::string& assignment) { apply_limit_list(assignment, current()); }

int64_t limit_value(const std::string& name) { return current().*(find_limit(name).field); }

void limit_exceeded(const std::string& name, const std::string& what_happened) {
  limit_exceeded(name, what_happened, current().*(find_limit(name).field));
}

void limit_exceeded(const std::string& name, const std::string& what_happened, int64_t value) {
  const LimitInfo& info = find_limit(name);
  fail(what_happened, ", over the limit ", name, "=", value, " ", info.unit, " (--limit ", name,
       "=N or DNNF_LIMITS raises it)");
}

void check_limit(const std::string& name, int64_t value, const std::string& subject, const char* verb) {
  const LimitInfo& info = find_limit(name);
  if (value > current().*(info.field))
    limit_exceeded(name, subject + " " + verb + " " + std::to_string(value) + " " + info.unit);
}

}  // namespace dnnf
