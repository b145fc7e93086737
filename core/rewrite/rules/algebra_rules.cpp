// Algebraic rules (DNNFusion §4.2, Table 4): the associative, distributive and
// commutative families. Each family lives in its own file (algebra_assoc.cpp,
// algebra_distrib.cpp, algebra_commute.cpp) with shared helpers in algebra_support.*.
#include "core/rewrite/rules/algebra_support.h"

namespace dnnf::rewrite {

void add_algebra_rules(RuleList& r) {
  alg::add_associative_rules(r);
  alg::add_distributive_rules(r);
  alg::add_commutative_rules(r);
}

}  // namespace dnnf::rewrite
