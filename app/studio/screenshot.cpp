#include "app/studio/screenshot.h"

#include <QImage>
#include <QPixmap>
#include <cstdio>

#include "views/graph/graph_view.h"
#include "views/panels/compare_panel.h"
#include "views/session/graph_timeline.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"

namespace dnnf::studio {

int take_screenshot(views::MainWindow& window, const StudioOptions& o) {
  window.resize(o.width, o.height);
  window.show();
  window.open_model(QString::fromStdString(o.model));
  window.wait_idle();
  if (!window.session()) {
    std::fprintf(stderr, "dnnf-studio: cannot open %s: %s\n", o.model.c_str(), window.last_error().toStdString().c_str());
    return 1;
  }
  if (o.step) window.set_position(size_t(*o.step));
  window.wait_idle();
  const views::OverlayKind overlay = views::overlay_from_name(QString::fromStdString(o.overlay));
  if (overlay != views::OverlayKind::None) {
    window.set_overlay(overlay);
    window.wait_idle();
    if (!window.last_error().isEmpty()) {
      std::fprintf(stderr, "dnnf-studio: %s\n", window.last_error().toStdString().c_str());
      return 1;
    }
  }
  window.graph_view()->fit_readable();
  QPixmap shot;
  if (o.view == "compare") {
    window.compare_with_peers();
    window.wait_idle();
    views::ComparePanel* panel = window.compare_panel();
    panel->setParent(nullptr);  // on its own, at the requested size
    panel->resize(o.width, o.height);
    panel->show();
    shot = panel->grab();
  } else {
    shot = window.grab();
  }
  if (!shot.save(QString::fromStdString(o.screenshot))) {
    std::fprintf(stderr, "dnnf-studio: cannot write %s\n", o.screenshot.c_str());
    return 1;
  }
  std::printf("wrote %s (%dx%d)\n", o.screenshot.c_str(), shot.width(), shot.height());
  return 0;
}

}  // namespace dnnf::studio
