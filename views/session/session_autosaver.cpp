#include "views/session/session_autosaver.h"

#include <QDir>
#include <QStandardPaths>
#include <utility>

namespace dnnf::views {

namespace {
// Quiet time before a save: stepping through the journal with a held key saves once.
constexpr int kDebounceMs = 400;
// Catches what changes without telling (zoom, scrolling, selection).
constexpr int kIntervalMs = 30'000;
}  // namespace

SessionAutosaver::SessionAutosaver(QString file, StateSource source, QObject* parent)
    : QObject(parent), file_(std::move(file)), source_(std::move(source)) {
  previous_ = read_saved_session(file_, &previous_error_);
  debounce_.setSingleShot(true);
  debounce_.setInterval(kDebounceMs);
  periodic_.setInterval(kIntervalMs);
  connect(&debounce_, &QTimer::timeout, this, [this] { save_now(); });
  connect(&periodic_, &QTimer::timeout, this, [this] { save_now(); });
  periodic_.start();
}

QString SessionAutosaver::default_file() {
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath("session.json");
}

void SessionAutosaver::state_changed() {
  if (!closed_) debounce_.start();
}

bool SessionAutosaver::save_now() {
  if (closed_) return true;
  std::optional<SavedSession> s = source_();
  if (!s || s == written_) return true;
  s->closed_cleanly = false;
  return write(*s);
}

void SessionAutosaver::mark_closed() {
  if (closed_) return;
  std::optional<SavedSession> s = source_();
  if (!s) s = written_ ? written_ : previous_;
  closed_ = true;
  debounce_.stop();
  periodic_.stop();
  if (!s) return;  // nothing was ever saved: no file to mark
  s->closed_cleanly = true;
  write(*s);
}

bool SessionAutosaver::write(const SavedSession& s) {
  if (!write_saved_session(file_, s, &last_error_)) return false;
  last_error_.clear();
  written_ = s;
  ++saves_;
  emit saved();
  return true;
}

}  // namespace dnnf::views
