// A fast layered ("Sugiyama-lite") layout for graphs too big for Graphviz dot to lay
// out in seconds (on this machine dot needs 56 s for the 1,845 operators of MobileBERT
// and 85 s for the 3,836 of TFBertForQuestionAnswering, most of it in crossing
// minimisation over long edges). Ranks by
// longest path, orders each rank by the mean position of its neighbours in a few
// sweeps down and up, and draws edges straight. Linear-ish time: well under a second
// for 4,000 nodes. Same input and output as layout_graph.
#pragma once

#include "views/layout/graphviz_layout.h"

namespace dnnf::views {

LayoutResult layered_layout(const LayoutInput& input);

// Graphs with more nodes than this are laid out by layered_layout instead of dot.
constexpr size_t kLayeredLayoutAbove = 1000;

// dot for small and medium graphs, layered_layout above kLayeredLayoutAbove nodes.
LayoutResult layout_for_display(const LayoutInput& input);

}  // namespace dnnf::views
