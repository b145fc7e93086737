// Every rewrite rule, registered in one place. Families live in rules/*.cpp.
#include "core/rewrite/driver.h"
#include "core/rewrite/rules/rule_families.h"

namespace dnnf::rewrite {

const std::vector<std::unique_ptr<Rule>>& all_rules() {
  static const std::vector<std::unique_ptr<Rule>> rules = [] {
    std::vector<std::unique_ptr<Rule>> r;
    add_cleanup_rules(r);
    add_folding_rules(r);
    add_algebra_rules(r);
    add_layout_rules(r);
    add_composite_rules(r);
    return r;
  }();
  return rules;
}

}  // namespace dnnf::rewrite
