#include "core/export/bundle_sources.h"

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

}  // namespace dnnf::exporter
