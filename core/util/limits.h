// Limits on what dnnf accepts from a model or a file: one table of named limits with
// sane defaults, set for the whole process by `dnnf --limit NAME=VALUE` or the
// environment variable DNNF_LIMITS="NAME=VALUE,NAME=VALUE". Anything over a limit is
// refused with a dnnf::Error that names the limit, its value and the offending
// tensor, file or node (see limit_exceeded), never by a crash or an allocation failure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnnf {

struct Limits {
  int64_t tensor_elements = int64_t(1) << 32;   // elements of one tensor (constant or inferred)
  int64_t plan_memory = int64_t(16) << 30;      // bytes of one plan: activation arena + packed weights
  int64_t subgraph_depth = 64;                  // nesting of If/Loop/Scan bodies and ONNX functions
  int64_t model_file = int64_t(4) << 30;        // bytes of a model (.onnx) file
  int64_t tensor_file = int64_t(4) << 30;       // bytes of a .pb / .npy tensor file
  int64_t journal_file = int64_t(256) << 20;    // bytes of a journal (.json) file
  int64_t external_data = int64_t(64) << 30;    // bytes of one external-data file a model names
};

// One row per limit: its command-line name, what it bounds, its unit and where it lives.
struct LimitInfo {
  const char* name;   // "tensor-elements"
  const char* what;   // "elements per tensor"
  const char* unit;   // "elements", "bytes" or "levels"
  int64_t Limits::*field;
};
const std::vector<LimitInfo>& limit_table();

// The limits in force (defaults, then DNNF_LIMITS on first use, then set_limit calls).
const Limits& limits();
void set_limits(const Limits& l);
// Applies "NAME=VALUE" (VALUE: a positive integer, optionally with a K/M/G/T suffix of
// powers of 1024, e.g. 512M); throws dnnf::Error naming the bad part.
void set_limit(const std::string& assignment);
// Parses "NAME=VALUE,NAME=VALUE" into `into` (the DNNF_LIMITS format).
void apply_limit_list(const std::string& list, Limits& into);

// Throws dnnf::Error: "<what_happened>, over the limit <name>=<value> <unit> (--limit
// <name>=N or DNNF_LIMITS raises it)", e.g. what_happened = "initializer 'w' has 5000000
// elements (float32)".
[[noreturn]] void limit_exceeded(const std::string& name, const std::string& what_happened);
// The same with the value that was in force (a caller's own override of the limit).
[[noreturn]] void limit_exceeded(const std::string& name, const std::string& what_happened, int64_t value);
// limit_exceeded(name, subject + " " + verb + " " + value + " " + unit) when value is over it.
void check_limit(const std::string& name, int64_t value, const std::string& subject,
                 const char* verb = "has");
// The value of a limit by name (throws dnnf::Error for an unknown name).
int64_t limit_value(const std::string& name);

}  // namespace dnnf
