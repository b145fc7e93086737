// dnnf-studio's command line: [MODEL] [--screenshot FILE.png] [--step N]
// [--overlay latency|bytes|flops] [--view graph|compare] [--size WxH] [--restore]
// [--dump-state FILE]; dnnf-studio --bench-layout MODEL...
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace dnnf::studio {

struct StudioOptions {
  std::string model;                 // empty: the bundled default model
  std::string screenshot;            // non-empty: render offscreen to this file and exit
  std::optional<long> step;          // journal position to show (0 = original graph)
  std::string overlay = "none";
  std::string view = "graph";
  int width = 1600, height = 1000;
  bool help = false;
  // Restore the previous session without asking, when it did not close cleanly (a
  // MODEL given on the command line still wins).
  bool restore = false;
  // Once the start-up open (or restore) has finished, write the window's state as JSON
  // to this file and exit: for scripts and the crash-restore test.
  std::string dump_state;
  // --bench-layout MODEL...: time opening and layout-and-show of every model, then exit.
  bool bench_layout = false;
  std::vector<std::string> models;   // every MODEL given (only --bench-layout takes several)
};

// Throws std::invalid_argument with a one-line message on a bad command line.
StudioOptions parse_studio_options(int argc, char** argv);
const char* studio_usage();

}  // namespace dnnf::studio
