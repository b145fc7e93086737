// Runs one long job at a time on a worker thread (QtConcurrent) and reports progress,
// success, failure or cancellation back on the UI thread as signals. The job's result
// is handed over through a callback that runs on the UI thread.
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>
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

  // Starts a job; a job already running is cancelled first (its result is dropped).
  void start(const QString& title, Work work);
  void cancel();
  bool busy() const;
  // Blocks (processing events) until the current job has finished; for --screenshot
  // and tests.
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
  void on_done();

  QFutureWatcher<Outcome>* watcher_;
  JobControl control_;
  QString title_;
  bool running_ = false;  // from start() until the outcome was delivered
};

}  // namespace dnnf::views
