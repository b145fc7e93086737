// Keeps the session file up to date while the Studio runs: a change of state asks for a
// save, which happens once the state has been quiet for a moment (debounce), and a
// timer saves whatever changed unnoticed (zoom, selection). A clean exit marks the file
// closed; a file still open at the next start means the Studio did not exit cleanly.
#pragma once

#include <QObject>
#include <QTimer>
#include <functional>
#include <optional>

#include "views/session/saved_session.h"

namespace dnnf::views {

class SessionAutosaver : public QObject {
  Q_OBJECT
 public:
  // The current state, or nullopt while there is nothing worth saving (no model yet).
  using StateSource = std::function<std::optional<SavedSession>()>;

  // Reads what `file` holds from the previous run before anything overwrites it.
  SessionAutosaver(QString file, StateSource source, QObject* parent = nullptr);
  // <AppDataLocation>/session.json (~/.local/share/dnnf/DNNF Studio/session.json).
  static QString default_file();

  const QString& file() const { return file_; }
  // The previous run's session, if the file was there and sound.
  const std::optional<SavedSession>& previous() const { return previous_; }
  // Why the previous file could not be used (corrupt, unreadable); empty otherwise.
  const QString& previous_error() const { return previous_error_; }
  // The previous run did not exit cleanly and left a session to restore.
  bool previous_crashed() const { return previous_ && !previous_->closed_cleanly; }

  void set_debounce_ms(int ms) { debounce_.setInterval(ms); }
  void set_interval_ms(int ms) { periodic_.setInterval(ms); }

  // The state changed: save once it has been quiet for the debounce interval.
  void state_changed();
  // Saves now if the state differs from what the file holds; false on a write error.
  bool save_now();
  // Saves the latest state (or the previous run's, when nothing was opened) as closed.
  void mark_closed();

  const QString& last_error() const { return last_error_; }
  int saves() const { return saves_; }

 signals:
  void saved();

 private:
  bool write(const SavedSession& s);

  QString file_;
  StateSource source_;
  std::optional<SavedSession> previous_;
  QString previous_error_;
  std::optional<SavedSession> written_;  // what the file holds since this run wrote it
  QTimer debounce_, periodic_;
  QString last_error_;
  int saves_ = 0;
  bool closed_ = false;
};

}  // namespace dnnf::views
