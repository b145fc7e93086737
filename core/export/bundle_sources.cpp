#include "core/export/bundle_sources.h"

#include <algorithm>

#include "core/util/error.h"

namespace dnnf::exporter {

std::string_view bundle_source(const std::string& path) {
  for (const BundleSource& s : bundle_sources())
    if (path == s.path) return s.text();
  fail("bundle source '", path, "' is not embedded in this dnnf build");
}

std::vector<std::string> bundle_sources_under(const std::string& folder) {
  std::vector<std::string> out;
  for (const BundleSource& s : bundle_sources())
    if (std::string_view(s.path).rfind(folder, 0) == 0) out.push_back(s.path);
  return out;
}

std::vector<std::string> interpreter_bundle_sources() {
  std::vector<std::string> out;
  for (const char* folder : {"core/ir/", "core/ops/", "core/runtime/reference_executor.", "core/util/",
                             "kernels/bundle/interp/"})
    for (const std::string& p : bundle_sources_under(folder))
      if (p != "kernels/bundle/interp/host_interpreter.h") out.push_back(p);  // every NEON bundle has it
  std::sort(out.begin(), out.end());
  return out;
}

bool bundle_source_needs_cxx20(const std::string& path) {
  for (const char* prefix : {"src/core/ir/", "src/core/ops/", "src/core/runtime/reference_executor.", "src/core/util/",
                             "src/kernels/bundle/interp/"})
    if (path.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace dnnf::exporter
