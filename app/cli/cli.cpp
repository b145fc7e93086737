#include "app/cli/cli.h"

#include "core/pipeline/pipeline.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/ir/shape_inference.h"
#include "core/onnx_io/onnx_import.h"
#include "core/util/error.h"

namespace dnnf::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
           const std::vector<std::string>& flags) {
  auto takes_value = [&](const std::string& s) {
    return std::find(with_value.begin(), with_value.end(), s) != with_value.end();
  };
  auto is_flag = [&](const std::string& s) { return std::find(flags.begin(), flags.end(), s) != flags.end(); };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a, val;
      const size_t eq = a.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        name = a.substr(0, eq);
        val = a.substr(eq + 1);
      }
      if (takes_value(name)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) throw UsageError("option " + name + " needs a value");
          val = argv[++i];
        }
        values_.emplace(name, val);
      } else if (is_flag(name) && !inline_value) {
        flags_[name] = true;
      } else {
        throw UsageError("unknown option " + name);
      }
    } else {
      positional_.push_back(a);
    }
  }
}

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::values(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

std::string Args::value_or(const std::string& name, const std::string& def) const {
  auto v = value(name);
  return v ? *v : def;
}

int64_t Args::int_or(const std::string& name, int64_t def) const {
  auto v = value(name);
  if (!v) return def;
  try {
    size_t used = 0;
    const long long n = std::stoll(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return n;
  } catch (const std::exception&) {
    throw UsageError("option " + name + " needs an integer, got '" + *v + "'");
  }
}

double Args::double_or(const std::string& name, double def) const {
  auto v = value(name);
  if (!v) return def;
  try {
    return std::stod(*v);
  } catch (const std::exception&) {
    throw UsageError("option " + name + " needs a number, got '" + *v + "'");
  }
}

void write_json(const nlohmann::json& j, const std::string& path) {
  const std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::cout << text << std::flush;
    return;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    check(bool(f), "cannot write '", path, "'");
    f << text;
    check(bool(f), "cannot write '", path, "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  check(!ec, "cannot write '", path, "': ", ec.message());
}

Model load_and_infer(const std::string& path, const std::map<std::string, int64_t>& bind_dims) {
  return dnnf::load_and_infer(path, bind_dims);
}

std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs) {
  std::map<std::string, int64_t> dims;
  for (const std::string& s : specs) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos) throw UsageError("--dim needs NAME=SIZE, got '" + s + "'");
    try {
      dims[s.substr(0, eq)] = std::stoll(s.substr(eq + 1));
    } catch (const std::exception&) {
      throw UsageError("--dim needs NAME=SIZE, got '" + s + "'");
    }
  }
  return dims;
}

Progress::Progress(std::string label) : label_(std::move(label)) {
  const char* env = std::getenv("DNNF_PROGRESS");
  enabled_ = env ? std::string(env) != "0" : isatty(2) != 0;
}

Progress::~Progress() { finish(); }

void Progress::finish() {
  if (enabled_ && last_percent_ != 101) std::fprintf(stderr, "\n");
  last_percent_ = 101;
}

void Progress::set_label(const std::string& label) {
  if (label == label_) return;
  finish();
  label_ = label;
}

void Progress::update(size_t done, size_t total) {
  if (!enabled_ || total == 0) return;
  const size_t percent = done * 100 / total;
  if (percent == last_percent_) return;
  last_percent_ = percent;
  std::fprintf(stderr, "\r%s %zu/%zu (%zu%%)", label_.c_str(), done, total, percent);
  std::fflush(stderr);
}

}  // namespace dnnf::cli
