// Shared plumbing of the dnnf sub-commands: argument parsing, JSON output, loading.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ir/graph.h"

namespace dnnf::cli {

// Wrong command-line usage: printed with the command's usage line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parsed arguments: positionals, options with values, and flags.
class Args {
 public:
  // `with_value` lists options that take a value ("--json", "--input", ...);
  // `flags` lists boolean options. Anything else starting with "--" is a usage error.
  Args(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
       const std::vector<std::string>& flags);
  const std::vector<std::string>& positional() const { return positional_; }
  bool flag(const std::string& name) const { return flags_.count(name) != 0; }
  std::optional<std::string> value(const std::string& name) const;
  std::vector<std::string> values(const std::string& name) const;  // repeated option
  std::string value_or(const std::string& name, const std::string& def) const;
  int64_t int_or(const std::string& name, int64_t def) const;
  double double_or(const std::string& name, double def) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
};

// Writes `j` to FILE, or to standard output for "-" (atomically for files).
void write_json(const nlohmann::json& j, const std::string& path);

// Loads a model and infers shapes; prints a progress line on stderr for large files.
Model load_and_infer(const std::string& path, const std::map<std::string, int64_t>& bind_dims = {});

// Parses "name=value" pairs given to --dim.
std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs);

// Progress on stderr when it is a terminal (or DNNF_PROGRESS=1): "label 37/120".
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void update(size_t done, size_t total);
  // A new phase: ends the current line and reports under a new label.
  void set_label(const std::string& label);
  void finish();  // ends the current line (if any)

 private:
  std::string label_;
  bool enabled_;
  size_t last_percent_ = 101;
};

}  // namespace dnnf::cli
