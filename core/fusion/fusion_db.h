// The persistent fusion database: profiled results keyed by a block's canonical
// signature, so later runs and other models reuse them. SQLite in WAL mode, one
// transaction per write, so a killed writer never leaves a broken file.
#pragma once

#include <memory>
#include <map>
#include <optional>
#include <string>

#include "core/fusion/profiler.h"

struct sqlite3;

namespace dnnf::fusion {

class FusionDatabase {
 public:
  // Opens (creating if needed) the database file; throws dnnf::Error naming it.
  explicit FusionDatabase(const std::string& path);
  ~FusionDatabase();
  FusionDatabase(const FusionDatabase&) = delete;
  FusionDatabase& operator=(const FusionDatabase&) = delete;

  // Default location: $DNNF_CACHE_DIR or $XDG_CACHE_HOME/dnnf or ~/.cache/dnnf, + fusion.db.
  static std::string default_path();

  std::optional<ProfileResult> lookup(const std::string& signature);
  void store(const std::string& signature, const std::string& target, const ProfileResult& r);
  struct Stats {
    int64_t entries = 0;
    int64_t hits = 0;       // this process
    int64_t misses = 0;     // this process
    std::map<std::string, int64_t> per_target;
  };
  Stats stats();
  // SQLite's own consistency check of the file: "ok", or what is wrong.
  std::string integrity_check();
  void clear();
  const std::string& path() const { return path_; }

 private:
  void exec(const char* sql);
  std::string path_;
  sqlite3* db_ = nullptr;
  int64_t hits_ = 0, misses_ = 0;
};

// A profiler that answers from the database and asks `inner` (then stores) on a miss.
std::unique_ptr<BlockProfiler> make_cached_profiler(FusionDatabase& db, BlockProfiler& inner);

}  // namespace dnnf::fusion
