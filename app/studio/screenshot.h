// --screenshot: open the model, go to the requested step / overlay / view, wait for
// every job and layout, and save a picture of the window (graph) or the compare panel.
#pragma once

#include "app/studio/studio_options.h"

namespace dnnf::views { class MainWindow; }

namespace dnnf::studio {

// Returns the process exit code (0 on success; errors are printed to stderr).
int take_screenshot(views::MainWindow& window, const StudioOptions& options);

}  // namespace dnnf::studio
