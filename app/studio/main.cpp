// dnnf-studio: the desktop app over dnnf_views. Opens the model given on the command
// line (or the bundled default model), or renders a screenshot offscreen and exits.
#include <QApplication>
#include <QFileInfo>
#include <QTimer>
#include <cstdio>
#include <stdexcept>

#include "app/studio/layout_bench.h"
#include "app/studio/screenshot.h"
#include "app/studio/studio_options.h"
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
  if (options.model.empty()) options.model = dnnf::views::MainWindow::default_model_path().toStdString();
  if (!options.screenshot.empty()) return dnnf::studio::take_screenshot(window, options);
  window.show();
  const QString model = QString::fromStdString(options.model);
  QTimer::singleShot(0, &window, [&window, model] { window.open_model(model); });
  return app.exec();
}
