// --bench-layout MODEL...: for every model, the time until the first graph is painted
// (the imported graph, shown while the pipeline runs), the time to open it (load, infer,
// rewrite, fuse, replay the journal, lay out the fused state) and then the time from "show this graph state" until it is
// painted in the window (display graph, Graphviz layout, scene, first paint), for the
// state the window shows first and for the original graph. Prints a Markdown table.
#pragma once

#include <string>
#include <vector>

namespace dnnf::studio {

// Returns the process exit code (0 when every model was measured).
int run_layout_bench(const std::vector<std::string>& models);

}  // namespace dnnf::studio
