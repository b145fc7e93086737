#include "core/journal/journal.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/util/error.h"
#include "core/util/limits.h"

namespace dnnf {

namespace {

nlohmann::json cost_json(const CostSnapshot& c) {
  return {{"flops", c.flops}, {"bytes", c.bytes}, {"nodes", c.nodes}};
}

CostSnapshot cost_from(const nlohmann::json& j) {
  CostSnapshot c;
  c.flops = j.at("flops").get<double>();
  c.bytes = j.at("bytes").get<double>();
  c.nodes = j.at("nodes").get<int64_t>();
  return c;
}

}  // namespace

nlohmann::json Journal::to_json() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (size_t i = 0; i < steps.size(); ++i) {
    const JournalStep& s = steps[i];
    steps_json.push_back({{"index", i},
                          {"stage", s.stage},
                          {"rule", s.rule},
                          {"family", s.family},
                          {"matched", s.matched},
                          {"created", s.created},
                          {"removed", s.removed},
                          {"reason", s.reason},
                          {"cost_before", cost_json(s.cost_before)},
                          {"cost_after", cost_json(s.cost_after)},
                          {"accepted", s.accepted},
                          {"details", s.details.is_null() ? nlohmann::json::object() : s.details}});
  }
  return {{"format", "dnnf-journal-1"}, {"model", model}, {"steps", steps_json}};
}

Journal Journal::from_json(const nlohmann::json& j) {
  try {
    check(j.is_object() && j.value("format", "") == "dnnf-journal-1", "not a dnnf journal (format tag missing)");
    Journal journal;
    journal.model = j.value("model", "");
    for (const auto& s : j.at("steps")) {
      JournalStep step;
      step.stage = s.at("stage").get<std::string>();
      step.rule = s.at("rule").get<std::string>();
      step.family = s.value("family", "");
      step.matched = s.at("matched").get<std::vector<NodeId>>();
      step.created = s.at("created").get<std::vector<NodeId>>();
      step.removed = s.at("removed").get<std::vector<NodeId>>();
      step.reason = s.value("reason", "");
      step.cost_before = cost_from(s.at("cost_before"));
      step.cost_after = cost_from(s.at("cost_after"));
      step.accepted = s.value("accepted", true);
      step.details = s.value("details", nlohmann::json::object());
      journal.steps.push_back(std::move(step));
    }
    return journal;
  } catch (const nlohmann::json::exception& e) {
    fail("malformed journal: ", e.what());
  }
}

void Journal::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    check(bool(f), "cannot write journal '", path, "'");
    f << to_json().dump(1) << "\n";
    check(bool(f), "cannot write journal '", path, "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  check(!ec, "cannot write journal '", path, "': ", ec.message());
}

Journal Journal::load(const std::string& path) {
  std::error_code ec;
  check(!std::filesystem::is_directory(path, ec), "cannot open journal '", path, "': it is a directory");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec) check_limit("journal-file", int64_t(size), "journal '" + path + "'", "is");
  std::ifstream f(path, std::ios::binary);
  check(bool(f), "cannot open journal '", path, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  check_limit("journal-file", int64_t(ss.str().size()), "journal '" + path + "'", "is");
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  check(!j.is_discarded(), "journal '", path, "' is not valid JSON");
  return from_json(j);
}

}  // namespace dnnf
