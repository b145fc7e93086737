#include "app/studio/session_start.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <cstdio>

#include "views/jobs/job_runner.h"
#include "views/session/graph_timeline.h"
#include "views/session/session_autosaver.h"
#include "views/session/studio_session.h"
#include "views/window/graph_controller.h"
#include "views/window/main_window.h"
#include "views/window/restore_bar.h"

namespace dnnf::studio {

void start_session(views::MainWindow& window, const StudioOptions& o) {
  views::ShowTarget target;
  if (o.step) target.position = size_t(*o.step);
  target.overlay = views::overlay_from_name(QString::fromStdString(o.overlay));
  target.compare_view = o.view == "compare";
  if (!o.model.empty()) {
    window.open_model_at(QString::fromStdString(o.model), target);
    return;
  }
  const bool crashed = window.offer_restore();
  if (crashed && o.restore && window.restore_previous_session()) return;
  window.open_model_at(views::MainWindow::default_model_path(), target);
}

bool dump_state_when_idle(views::MainWindow& window, const QString& file) {
  // A finished open starts layouts (and, for the latency overlay, a profiling job):
  // wait until nothing is left running.
  do window.wait_idle();
  while (window.jobs()->busy() || window.controller()->layout_pending());
  QJsonObject o;
  const auto session = window.session();
  o["model"] = session ? QFileInfo(QString::fromStdString(session->path)).absoluteFilePath() : QString();
  o["optimised"] = session && session->optimised;
  if (std::optional<views::SavedSession> s = window.saved_state()) {
    o["position"] = double(s->position);
    o["positions"] = double(s->positions);
    o["overlay"] = s->overlay;
    o["view"] = s->view;
    o["zoom"] = s->zoom;
    o["selected"] = double(s->selected);
  }
  o["restore_message"] = window.restore_message();
  o["restore_bar_visible"] = window.restore_bar()->isVisible();
  o["error"] = window.last_error();
  QSaveFile out(file);
  const QByteArray bytes = QJsonDocument(o).toJson();
  const bool ok = out.open(QIODevice::WriteOnly) && out.write(bytes) == bytes.size() && out.commit();
  if (!ok) std::fprintf(stderr, "dnnf-studio: cannot write %s: %s\n", file.toLocal8Bit().constData(), out.errorString().toLocal8Bit().constData());
  window.close();
  return ok;
}

}  // namespace dnnf::studio
