// dnnf-studio's command line: [MODEL] [--screenshot FILE.png] [--step N]
// [--overlay latency|bytes|flops] [--view graph|compare] [--size WxH].
#pragma once

#include <optional>
#include <string>

namespace dnnf::studio {

struct StudioOptions {
  std::string model;                 // empty: the bundled default model
  std::string screenshot;            // non-empty: render offscreen to this file and exit
  std::optional<long> step;          // journal position to show (0 = original graph)
  std::string overlay = "none";
  std::string view = "graph";
  int width = 1600, height = 1000;
  bool help = false;
};

// Throws std::invalid_argument with a one-line message on a bad command line.
StudioOptions parse_studio_options(int argc, char** argv);
const char* studio_usage();

}  // namespace dnnf::studio
