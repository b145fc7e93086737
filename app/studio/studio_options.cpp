#include "app/studio/studio_options.h"

#include <stdexcept>

namespace dnnf::studio {

const char* studio_usage() {
  return "usage: dnnf-studio [MODEL.onnx] [--screenshot FILE.png] [--step N] [--overlay latency|bytes|flops]\n"
         "                   [--view graph|compare] [--size WxH] [--restore] [--dump-state FILE]\n"
         "       --step/--overlay/--view also choose what an interactive start shows first;\n"
         "       --restore restores a session a crash interrupted without asking;\n"
         "       --dump-state writes what the window shows after the start as JSON, then exits\n"
         "       dnnf-studio --bench-layout MODEL.onnx...   (layout-and-show time per model, Markdown table)\n";
}

StudioOptions parse_studio_options(int argc, char** argv) {
  StudioOptions o;
  auto value = [&](int& i, const std::string& flag) -> std::string {
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--bench-layout") o.bench_layout = true;
    else if (a == "--screenshot") o.screenshot = value(i, a);
    else if (a == "--restore") o.restore = true;
    else if (a == "--dump-state") o.dump_state = value(i, a);
    else if (a == "--step") {
      const std::string v = value(i, a);
      try {
        o.step = std::stol(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--step expects a number, got '" + v + "'");
      }
      if (*o.step < 0) throw std::invalid_argument("--step must be 0 or more");
    } else if (a == "--overlay") {
      o.overlay = value(i, a);
      if (o.overlay != "none" && o.overlay != "latency" && o.overlay != "bytes" && o.overlay != "flops")
        throw std::invalid_argument("unknown --overlay '" + o.overlay + "' (available: latency, bytes, flops)");
    } else if (a == "--view") {
      o.view = value(i, a);
      if (o.view != "graph" && o.view != "compare")
        throw std::invalid_argument("unknown --view '" + o.view + "' (available: graph, compare)");
    } else if (a == "--size") {
      const std::string v = value(i, a);
      const size_t x = v.find('x');
      try {
        if (x == std::string::npos) throw std::invalid_argument("");
        o.width = std::stoi(v.substr(0, x));
        o.height = std::stoi(v.substr(x + 1));
      } catch (const std::exception&) {
        throw std::invalid_argument("--size expects WxH, got '" + v + "'");
      }
    } else if (!a.empty() && a[0] == '-' && a.rfind("-qwindow", 0) != 0 && a != "-platform") {
      throw std::invalid_argument("unknown option '" + a + "'");
    } else if (a == "-platform") {
      ++i;  // Qt's own option, handled by QApplication
    } else if (a[0] != '-') {
      o.models.push_back(a);
    }
  }
  if (o.models.size() > 1 && !o.bench_layout)
    throw std::invalid_argument("expected one MODEL, got '" + o.models[0] + "' and '" + o.models[1] + "'");
  if (o.bench_layout && o.models.empty()) throw std::invalid_argument("--bench-layout needs at least one MODEL");
  if (!o.screenshot.empty() && (o.restore || !o.dump_state.empty()))
    throw std::invalid_argument("--screenshot cannot be combined with --restore or --dump-state");
  if (!o.models.empty()) o.model = o.models.front();
  return o;
}

}  // namespace dnnf::studio
