// Shared plumbing of the libFuzzer targets: tight limits (so that a fuzzed size makes a
// dnnf::Error, not an out-of-memory report) and a private scratch directory for the
// readers that take a path. Expected failures are dnnf::Error; anything else escaping a
// target (another exception, a crash, a sanitizer report) is a finding.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "core/util/limits.h"

namespace dnnf::fuzz {

// Limits small enough that no fuzzed input reaches libFuzzer's memory or time limits.
inline void set_fuzz_limits() {
  Limits l;
  l.tensor_elements = 1 << 16;
  l.plan_memory = int64_t(64) << 20;
  l.subgraph_depth = 16;
  l.model_file = l.tensor_file = l.journal_file = l.external_data = int64_t(1) << 20;
  set_limits(l);
}

// This process's scratch directory (removed at exit).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/dnnf-fuzz-XXXXXX";
    if (!::mkdtemp(templ.data())) std::abort();
    static const std::string keep = templ;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return std::filesystem::path(templ);
  }();
  return dir;
}

// Writes the fuzz input to scratch_dir()/name and returns the path.
inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (scratch_dir() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 std::streamsize(size));
  return path;
}

}  // namespace dnnf::fuzz
