// What an interactive dnnf-studio opens first: a model on the command line (it wins over
// a restore), the session a crash interrupted (restored at once with --restore, else
// offered in the restore bar while the default model opens), or the default model.
#pragma once

#include <QString>

#include "app/studio/studio_options.h"

namespace dnnf::views {
class MainWindow;
}

namespace dnnf::studio {

void start_session(views::MainWindow& window, const StudioOptions& options);

// --dump-state: waits until every job and layout has finished, writes the window's
// state (model, journal position and count, overlay, view, restore message, last error)
// as JSON to `file`, then closes the window. Returns false if the file cannot be written.
bool dump_state_when_idle(views::MainWindow& window, const QString& file);

}  // namespace dnnf::studio
