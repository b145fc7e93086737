// Writes an export bundle folder all at once: files go into a staging folder beside the
// destination, and only a complete bundle (manifest last) is renamed into place, so a
// failed, cancelled or killed export never leaves a half-written DIR.
//
// Bundle layout (every target; `dnnf export MODEL --target T -o DIR`):
//   DIR/manifest.json        format id "dnnf-bundle/1", dnnf version, target, source model
//                            (file name, sha256), plan summary, inputs/outputs, the weights
//                            table and the sha256 + size of every other file (bundle_manifest.h)
//   DIR/weights.bin          every constant the kernels read, each at a 64-byte aligned
//                            offset recorded in the manifest (bundle_weights.h)
//   DIR/include/dnnf_model.h the C API (kernels/bundle/include/dnnf_model.h)
//   DIR/src/runner/runner.cpp the command-line runner over that API (kernels/bundle/runner)
//   DIR/CMakeLists.txt       builds lib/libmodel.so and bin/runner from DIR/src alone
//   DIR/src/...              the target's runtime and generated kernels (NEON: neon_bundle.h)
//   DIR/lib/libmodel.so, DIR/bin/runner   when the target's compiler was found
//
// Replacing: an existing DIR is replaced only if it is an empty folder or a dnnf bundle
// (it has a manifest.json of this format); anything else is refused. A staging folder
// left by a killed export (".NAME.dnnf-staging-PID-N" beside DIR) is removed by the next
// export to the same place once its process is gone.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dnnf::exporter {

inline constexpr const char* kBundleFormat = "dnnf-bundle/1";

class BundleWriter {
 public:
  // Checks that `dir` can be written (its parent exists and is writable; `dir` is absent,
  // empty or a bundle) and creates the staging folder. Throws dnnf::Error naming `dir`.
  explicit BundleWriter(std::string dir);
  ~BundleWriter();  // not committed: removes the staging folder
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // Writes `rel` (a relative path with '/' separators, no "..") in the staging folder.
  void add_file(const std::string& rel, std::string_view bytes, bool executable = false);

  // Where a tool (a compiler) should write `rel`; its folder exists. Call adopt_file
  // once the file is there so that the manifest records it.
  std::string staging_path(const std::string& rel);
  void adopt_file(const std::string& rel);

  // The staging folder (for tools that need a working directory inside the bundle).
  const std::string& staging_dir() const { return staging_; }
  const std::string& final_dir() const { return dir_; }

  // rel -> {"sha256", "bytes"} of every file added so far.
  const std::map<std::string, nlohmann::json>& files() const { return files_; }

  // Adds "files" to `manifest`, writes manifest.json and renames the staging folder to
  // DIR (replacing a previous bundle). Returns the total size of the bundle in bytes.
  size_t commit(nlohmann::json manifest);

 private:
  std::string dir_, staging_;
  std::map<std::string, nlohmann::json> files_;
  bool committed_ = false;
};

// Whether `rel` is a safe relative bundle path (used for every file name we write).
bool is_bundle_relative_path(const std::string& rel);

}  // namespace dnnf::exporter
