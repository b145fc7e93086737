// Small helpers shared by rule families.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/rewrite/rule.h"

namespace dnnf::rewrite {

// Runs a node's reference kernel on known input values (nullptr = omitted input).
std::vector<Tensor> evaluate_node(const Graph& graph, const Node& node, const std::vector<const Tensor*>& inputs);

// A Rewrite that replaces `node`'s first output by an existing value.
Rewrite bypass(const Node& node, const std::string& replacement, const std::string& reason);

// True when two attributes hold the same value.
bool same_attribute(const Attribute& a, const Attribute& b);
bool same_tensor(const Tensor& a, const Tensor& b);

// Only the first output is read (Dropout's mask, MaxPool's indices unused...).
bool only_first_output_used(const RewriteEnv& env, const Node& n);

}  // namespace dnnf::rewrite
