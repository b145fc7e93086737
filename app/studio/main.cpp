// dnnf-studio: the desktop app over dnnf_views. Opens the model given on the command
// line (or the bundled default model, offering to restore a session a crash
// interrupted), or renders a screenshot offscreen and exits.
#include <QApplication>
#include <QFileInfo>
#include <QTimer>
#include <cstdio>
#include <stdexcept>

#include "app/studio/layout_bench.h"
#include "app/studio/screenshot.h"
#include "app/studio/session_start.h"
#include "app/studio/studio_options.h"
#include "views/session/session_autosaver.h"
#include "views/window/main_window.h"

int main(int argc, char** argv) {
  dnnf::studio::StudioOptions options;
  try {
    options = dnnf::studio::parse_studio_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "dnnf-studio: %s\n%s", e.what(), dnnf::studio::studio_usage());
    return 2;
  }
  if (options.help) {
    std::printf("%s", dnnf::studio::studio_usage());
    return 0;
  }
  // Screenshots need no display: render offscreen unless a platform was chosen.
  if ((!options.screenshot.empty() || options.bench_layout) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setApplicationName("DNNF Studio");
  QApplication::setOrganizationName("dnnf");
  if (options.bench_layout) return dnnf::studio::run_layout_bench(options.models);
  dnnf::views::MainWindow window;
  if (!options.screenshot.empty()) {
    if (options.model.empty()) options.model = dnnf::views::MainWindow::default_model_path().toStdString();
    return dnnf::studio::take_screenshot(window, options);
  }
  // Read the previous run's session before this run writes its own.
  window.enable_autosave(dnnf::views::SessionAutosaver::default_file());
  window.show();
  int status = 0;
  QTimer::singleShot(0, &window, [&window, &options, &status] {
    dnnf::studio::start_session(window, options);
    if (options.dump_state.empty()) return;
    if (!dnnf::studio::dump_state_when_idle(window, QString::fromStdString(options.dump_state))) status = 1;
    QApplication::quit();  // an error box left open would keep the app running
  });
  const int code = app.exec();
  return status ? status : code;
}
