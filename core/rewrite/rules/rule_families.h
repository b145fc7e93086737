// Rule families; rule_list.cpp calls each once.
#pragma once

#include <memory>
#include <vector>

#include "core/rewrite/rule.h"

namespace dnnf::rewrite {

using RuleList = std::vector<std::unique_ptr<Rule>>;

void add_cleanup_rules(RuleList& r);    // Identity/Dropout/no-op removal, DCE, CSE, Constant -> initializer
void add_folding_rules(RuleList& r);    // constant folding, BatchNormalization folding
void add_algebra_rules(RuleList& r);    // associative / distributive / commutative families
void add_layout_rules(RuleList& r);     // Transpose/Reshape collapsing and cancelling
void add_composite_rules(RuleList& r);  // LayerNorm, RMSNorm, GELU, SiLU, HardSwish, Softmax, attention

}  // namespace dnnf::rewrite
