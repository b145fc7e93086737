// The part of a display graph around some nodes: the nodes themselves and their direct
// producers and consumers, with the edges among them and the fused-block clusters cut
// down to what is left. What the before/after split view draws for one journal step.
#pragma once

#include <set>

#include "views/graph/display_graph.h"

namespace dnnf::views {

// `focus`: display ids; those not in `graph` are ignored. `max_nodes` caps the result
// (focus nodes first) so a step touching a huge region still draws quickly.
// `also`: further ids to keep (without their neighbours), e.g. what surrounded the
// step before it, so a side where the focus nodes vanished still shows their context.
DisplayGraph neighbourhood(const DisplayGraph& graph, const std::set<NodeId>& focus, size_t max_nodes = 400,
                           const std::set<NodeId>& also = {});

}  // namespace dnnf::views
