// Runs one long job at a time on a worker thread (QtConcurrent) and reports progress,
// success, failure or cancellation back on the UI thread as signals. The job's result
// is handed over through a callback that runs on the UI thread; a job may also hand
// over partial results on the way (JobControl::deliver).
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <cstdint>
#include <functional>
#include <memory>

#include "views/jobs/job_control.h"

namespace dnnf::views {

class JobRunner : public QObject {
  Q_OBJECT
 public:
  // The work runs on the worker thread; `done` runs on the UI thread only on success.
  using Work = std::function<std::function<void()>(const JobControl&)>;

  explicit JobRunner(QObject* parent = nullptr);
  ~JobRunner() override;

  // Starts a job. A job already running is told to cancel and its result is dropped;
  // the new job starts as soon as the old one has returned. Never blocks the UI
  // thread: the old job may take a while to notice the cancel.
  void start(const QString& title, Work work);
  void cancel();
  bool busy() const;
  // Blocks (processing events) until the current job and any queued one have finished;
  // for --screenshot and tests.
  void wait_idle();

 signals:
  void started(const QString& title);
  void progress(int percent, const QString& message);
  void finished(bool ok, const QString& title);            // ok=false after an error or cancel
  void failed(const QString& title, const QString& error);  // error message for the user
  void cancelled(const QString& title);

 private:
  struct Outcome {
    std::function<void()> apply;
    QString error;
    bool cancelled = false;
  };
  void launch(const QString& title, Work work);
  void on_done();

  QFutureWatcher<Outcome>* watcher_;
  JobControl control_;
  QString title_;
  bool running_ = false;  // from start() until the outcome was delivered
  uint64_t launched_ = 0;  // jobs launched so far: tells a late partial result from the current job's
  // The job asked for while another was still stopping; started from on_done().
  struct Queued {
    QString title;
    Work work;
  };
  std::unique_ptr<Queued> queued_;
};

}  // namespace dnnf::views
