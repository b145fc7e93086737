// algebra rules.
#include "core/rewrite/rules/rule_families.h"
#include "core/rewrite/rules/rule_helpers.h"

namespace dnnf::rewrite {

void add_algebra_rules(RuleList& r) { (void)r; }

}  // namespace dnnf::rewrite
