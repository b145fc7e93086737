#include "core/export/bundle_writer.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "core/export/bundle_sha256.h"
#include "core/util/error.h"

namespace dnnf::exporter {

namespace fs = std::filesystem;

namespace {

std::string staging_prefix(const fs::path& dir) { return "." + dir.filename().string() + ".dnnf-staging-"; }

// Removes staging folders of earlier exports to `dir` whose process no longer runs.
void remove_stale_staging(const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = staging_prefix(dir);
  for (const fs::directory_entry& e : fs::directory_iterator(dir.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && pid != long(::getpid()) && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

bool is_replaceable(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_empty(dir, ec) && !ec) return true;
  std::ifstream in(dir / "manifest.json");
  if (!in) return false;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    return j.is_object() && j.value("format", "") == kBundleFormat;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool is_bundle_relative_path(const std::string& rel) {
  if (rel.empty() || rel.front() == '/' || rel.back() == '/') return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = rel.find('/', start);
    const std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

BundleWriter::BundleWriter(std::string dir) : dir_(std::move(dir)) {
  check(!dir_.empty(), "the output folder name is empty");
  fs::path p = fs::absolute(fs::path(dir_)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "out/" -> "out"
  const fs::path parent = p.parent_path();
  std::error_code ec;
  check(fs::is_directory(parent, ec), "cannot write bundle '", dir_, "': folder '", parent.string(),
        "' does not exist");
  check(::access(parent.c_str(), W_OK | X_OK) == 0, "cannot write bundle '", dir_, "': folder '", parent.string(),
        "' is not writable");
  if (fs::exists(fs::symlink_status(p, ec))) {
    check(fs::is_directory(fs::symlink_status(p, ec)), "cannot write bundle '", dir_, "': it exists and is not a folder");
    check(is_replaceable(p), "cannot write bundle '", dir_,
          "': the folder exists and is neither empty nor a dnnf bundle (refusing to replace it)");
  }
  remove_stale_staging(p);
  static std::atomic<int> counter{0};
  staging_ = (parent / (staging_prefix(p) + std::to_string(::getpid()) + "-" + std::to_string(counter++))).string();
  dir_ = p.string();
  fs::create_directory(staging_, ec);
  check(!ec, "cannot create '", staging_, "': ", ec.message());
}

BundleWriter::~BundleWriter() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

std::string BundleWriter::staging_path(const std::string& rel) {
  check(is_bundle_relative_path(rel), "bundle file name '", rel, "' is not a relative path");
  const fs::path p = fs::path(staging_) / rel;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  check(!ec, "cannot create '", p.parent_path().string(), "': ", ec.message());
  return p.string();
}

void BundleWriter::add_file(const std::string& rel, std::string_view bytes, bool executable) {
  const std::string path = staging_path(rel);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    check(bool(out), "cannot write '", path, "' (disk full?)");
  }
  // Fixed modes, not the umask's: the bundle's bytes and modes are the same everywhere.
  ::chmod(path.c_str(), executable ? 0755 : 0644);
  files_[rel] = {{"sha256", sha256_hex(bytes)}, {"bytes", bytes.size()}};
}

void BundleWriter::adopt_file(const std::string& rel) {
  const std::string path = staging_path(rel);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  check(!ec, "bundle file '", rel, "' was not produced");
  files_[rel] = {{"sha256", sha256_file(path)}, {"bytes", size_t(size)}};
}

size_t BundleWriter::commit(nlohmann::json manifest) {
  check(!committed_, "bundle '", dir_, "' is already written");
  nlohmann::json files = nlohmann::json::object();
  size_t total = 0;
  for (const auto& [rel, entry] : files_) {
    files[rel] = entry;
    total += entry.at("bytes").get<size_t>();
  }
  manifest["format"] = kBundleFormat;
  manifest["files"] = files;
  const std::string text = manifest.dump(2) + "\n";
  {
    const std::string path = staging_path("manifest.json");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    check(bool(out), "cannot write '", path, "' (disk full?)");
    ::chmod(path.c_str(), 0644);
  }
  total += text.size();
  ::chmod(staging_.c_str(), 0755);

  std::error_code ec;
  std::string old;
  if (fs::exists(fs::symlink_status(dir_, ec))) {
    old = staging_ + ".old";
    fs::rename(dir_, old, ec);
    check(!ec, "cannot replace '", dir_, "': ", ec.message());
  }
  fs::rename(staging_, dir_, ec);
  if (ec) {
    std::error_code ignored;
    if (!old.empty()) fs::rename(old, dir_, ignored);  // put the previous bundle back
    fail("cannot rename '", staging_, "' to '", dir_, "': ", ec.message());
  }
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
  return total;
}

}  // namespace dnnf::exporter
