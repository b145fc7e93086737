#include "core/fusion/fusion_db.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/util/error.h"

namespace dnnf::fusion {

std::string FusionDatabase::default_path() {
  namespace fs = std::filesystem;
  fs::path dir;
  if (const char* d = std::getenv("DNNF_CACHE_DIR")) dir = d;
  else if (const char* x = std::getenv("XDG_CACHE_HOME")) dir = fs::path(x) / "dnnf";
  else if (const char* h = std::getenv("HOME")) dir = fs::path(h) / ".cache" / "dnnf";
  else dir = fs::temp_directory_path() / "dnnf";
  return (dir / "fusion.db").string();
}

FusionDatabase::FusionDatabase(const std::string& path) : path_(path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    fail("cannot open fusion database '", path, "': ", msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("CREATE TABLE IF NOT EXISTS profiles (signature TEXT PRIMARY KEY, target TEXT NOT NULL, "
         "fused_us REAL NOT NULL, separate_us REAL NOT NULL, source TEXT NOT NULL, "
         "created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
  } catch (...) {
    // A corrupt file fails here; no destructor runs for a throwing constructor, so the
    // connection is closed now (fuzz_fusion_db found it leaking).
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

FusionDatabase::~FusionDatabase() {
  if (db_) sqlite3_close(db_);
}

void FusionDatabase::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    fail("fusion database '", path_, "': ", msg);
  }
}

namespace {
struct Statement {
  sqlite3_stmt* s = nullptr;
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
      fail("fusion database '", path, "': ", sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(s); }
};
}  // namespace

std::optional<ProfileResult> FusionDatabase::lookup(const std::string& signature) {
  Statement st(db_, "SELECT fused_us, separate_us FROM profiles WHERE signature = ?", path_);
  sqlite3_bind_text(st.s, 1, signature.c_str(), int(signature.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) == SQLITE_ROW) {
    ++hits_;
    ProfileResult r;
    r.fused_us = sqlite3_column_double(st.s, 0);
    r.separate_us = sqlite3_column_double(st.s, 1);
    r.source = "database";
    return r;
  }
  ++misses_;
  return std::nullopt;
}

void FusionDatabase::store(const std::string& signature, const std::string& target, const ProfileResult& r) {
  Statement st(db_,
               "INSERT OR REPLACE INTO profiles (signature, target, fused_us, separate_us, source) "
               "VALUES (?, ?, ?, ?, ?)",
               path_);
  sqlite3_bind_text(st.s, 1, signature.c_str(), int(signature.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, target.c_str(), int(target.size()), SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, 3, r.fused_us);
  sqlite3_bind_double(st.s, 4, r.separate_us);
  sqlite3_bind_text(st.s, 5, r.source.c_str(), int(r.source.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) fail("fusion database '", path_, "': ", sqlite3_errmsg(db_));
}

FusionDatabase::Stats FusionDatabase::stats() {
  Stats s;
  s.hits = hits_;
  s.misses = misses_;
  Statement st(db_, "SELECT target, COUNT(*) FROM profiles GROUP BY target", path_);
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    const int64_t n = sqlite3_column_int64(st.s, 1);
    s.per_target[t ? t : ""] = n;
    s.entries += n;
  }
  return s;
}

std::string FusionDatabase::integrity_check() {
  Statement st(db_, "PRAGMA integrity_check", path_);
  std::string out;
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    const auto* line = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    if (!out.empty()) out += "; ";
    out += line ? line : "";
  }
  return out;
}

void FusionDatabase::clear() { exec("DELETE FROM profiles"); }

namespace {
class CachedProfiler : public BlockProfiler {
 public:
  CachedProfiler(FusionDatabase& db, BlockProfiler& inner) : db_(db), inner_(inner) {}
  std::string target() const override { return inner_.target(); }
  ProfileResult compare(const Graph& g, const std::vector<NodeId>& block, NodeId candidate) override {
    std::vector<NodeId> all = block;
    all.push_back(candidate);
    const std::string sig = block_signature(g, all, inner_.target());
    if (auto hit = db_.lookup(sig)) return *hit;
    ProfileResult r = inner_.compare(g, block, candidate);
    db_.store(sig, inner_.target(), r);
    return r;
  }

 private:
  FusionDatabase& db_;
  BlockProfiler& inner_;
};
}  // namespace

std::unique_ptr<BlockProfiler> make_cached_profiler(FusionDatabase& db, BlockProfiler& inner) {
  return std::make_unique<CachedProfiler>(db, inner);
}

}  // namespace dnnf::fusion
