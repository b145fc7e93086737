#include "core/codegen/cache_files.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/util/error.h"

namespace dnnf::codegen {

namespace fs = std::filesystem;

std::string temp_name_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                             std::to_string(counter++)))
      .string();
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  std::string temp = temp_name_for(path);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::remove(temp.c_str());
      fail("cannot write '", temp, "'");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    fail("cannot rename '", temp, "' to '", path, "': ", ec.message());
  }
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return buffer.str();
}

void make_directories(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) fail("cannot create directory '", path, "': ", ec.message());
}

}  // namespace dnnf::codegen
