// layout rules.
#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite {

void add_layout_rules(RuleList& r) { (void)r; }

}  // namespace dnnf::rewrite
