#include "core/peers/peer_compare.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/codegen/content_hash.h"
#include "core/peers/peer_emulator.h"
#include "core/peers/peer_output_parsers.h"
#include "core/peers/peer_rules.h"
#include "core/peers/timed_process.h"
#include "core/util/error.h"

namespace dnnf::peers {

namespace fs = std::filesystem;

nlohmann::json CompareRow::to_json() const {
  nlohmann::json j;
  j["system"] = system;
  j["version"] = version;
  j["layers"] = layers < 0 ? nlohmann::json(nullptr) : nlohmann::json(layers);
  j["fused_groups"] = fused_groups < 0 ? nlohmann::json(nullptr) : nlohmann::json(fused_groups);
  j["source"] = source;
  if (!error.empty()) j["error"] = error;
  if (!note.empty()) j["note"] = note;
  if (!detail.is_null()) j["detail"] = detail;
  return j;
}

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "cannot read '", path, "'");
  codegen::ContentHash h;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    h.add(std::string_view(buf.data(), size_t(in.gcount())));
  }
  return h.hex();
}

std::vector<std::string> parse_peer_list(const std::string& spec) {
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    if (item == "all") {
      for (const PeerTable& t : peer_tables()) out.push_back(t.id);
      continue;
    }
    const PeerTable* t = find_peer_table(item);
    check(t != nullptr, "unknown peer '", item, "' (known: ", peer_ids(), ")");
    out.push_back(t->id);
  }
  return out;
}

namespace {

std::string system_name(const std::string& peer) {
  const PeerTable* t = find_peer_table(peer);
  return t ? t->system : peer;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::string cache_file(const PeerEnv& env, const std::string& peer, const std::string& hash,
                       const std::string& version) {
  codegen::ContentHash key;
  key.add(peer).add(version);
  return (fs::path(env.cache_dir) / (hash + "-" + peer + "-" + key.hex().substr(0, 12) + ".json")).string();
}

}  // namespace

CompareRow run_peer_tool(const std::string& peer, const std::string& model_path, const std::string& model_hash,
                         const PeerEnv& env, bool use_cache) {
  CompareRow row;
  row.system = system_name(peer);
  row.source = "tool";
  const std::optional<std::string> version = installed_peer_version(env, peer);
  row.version = version.value_or("");
  const std::string cached = cache_file(env, peer, model_hash, row.version);
  if (use_cache && fs::exists(cached)) {
    try {
      std::ifstream in(cached);
      const nlohmann::json j = nlohmann::json::parse(in);
      row.layers = j.value("layers", int64_t(-1));
      row.fused_groups = j.value("fused_groups", int64_t(-1));
      row.error = j.value("error", std::string());
      row.note = "cached";
      return row;
    } catch (const std::exception&) {
      // A damaged cache entry is ignored and rewritten below.
    }
  }

  std::error_code ec;
  const fs::path work = fs::temp_directory_path() / ("dnnf-peer-" + peer + "-" + std::to_string(::getpid()));
  fs::remove_all(work, ec);
  fs::create_directories(work);
  const std::string script = (fs::path(env.scripts_dir) / ("peer_" + peer + ".py")).string();
  const std::string out_path = (work / "stdout.txt").string(), err_path = (work / "stderr.txt").string();
  const TimedResult run =
      run_with_time_limit({env.python, script, fs::absolute(model_path).string(), (work / "out").string()}, out_path,
                          err_path, env.timeout_seconds);
  const std::string result_line = last_line(out_path);
  nlohmann::json result;
  try {
    if (!result_line.empty()) result = nlohmann::json::parse(result_line);
  } catch (const std::exception&) {
  }
  if (!run.started) {
    row.error = run.error;
  } else if (run.timed_out || run.signal) {
    row.error = run.error;
  } else if (result.is_object() && result.contains("error")) {
    row.error = result["error"].get<std::string>();
  } else if (run.exit_code != 0 || !result.is_object() || !result.contains("ops_file")) {
    std::string tail = last_line(err_path);
    if (tail.size() > 300) tail = tail.substr(tail.size() - 300);
    row.error = "converter exited with code " + std::to_string(run.exit_code) + (tail.empty() ? "" : ": " + tail);
  } else {
    try {
      const PeerCounts counts = parse_peer_output(peer, result["ops_file"].get<std::string>());
      row.layers = counts.layers;
      row.fused_groups = counts.fused_groups;
      if (result.contains("version")) row.version = result["version"].get<std::string>();
    } catch (const Error& e) {
      row.error = e.what();
    }
  }
  fs::remove_all(work, ec);
  // Timeouts depend on the machine's load, so they are not remembered.
  if (use_cache && !run.timed_out && run.started) {
    nlohmann::json j = row.to_json();
    fs::create_directories(env.cache_dir, ec);
    std::ofstream(cached) << j.dump(1) << "\n";
  }
  return row;
}

CompareRow emulate_peer(const std::string& peer, const Model& model) {
  CompareRow row;
  row.system = system_name(peer);
  row.source = "rules";
  row.version = "rules";
  const PeerTable* table = find_peer_table(peer);
  if (!table) {
    row.error = "no rule table for peer '" + peer + "'";
    return row;
  }
  try {
    const Emulation e = emulate(model, *table);
    row.layers = e.layers;
    row.fused_groups = e.fused_groups;
    row.detail = {{"rule_hits", e.rule_hits}, {"single_ops", e.single_ops}, {"expanded", e.expanded}};
  } catch (const Error& err) {
    row.error = err.what();
  }
  return row;
}

CompareRow peer_row(const std::string& peer, const std::string& model_path, const std::string& model_hash,
                    const Model& model, const PeerEnv& env, PeerMode mode, bool use_cache) {
  const bool installed = installed_peer_version(env, peer).has_value();
  if (mode == PeerMode::Rules || (mode == PeerMode::Auto && !installed)) {
    CompareRow row = emulate_peer(peer, model);
    if (!installed) row.note = "emulated: " + peer + " is not installed (dnnf peers --setup)";
    return row;
  }
  if (!installed && mode == PeerMode::Tool) {
    CompareRow row;
    row.system = system_name(peer);
    row.source = "tool";
    row.error = peer + " is not installed in " + env.venv + " (dnnf peers --setup)";
    return row;
  }
  return run_peer_tool(peer, model_path, model_hash, env, use_cache);
}

}  // namespace dnnf::peers
