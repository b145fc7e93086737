#include "views/jobs/job_runner.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include "core/util/error.h"

namespace dnnf::views {

JobRunner::JobRunner(QObject* parent) : QObject(parent), watcher_(new QFutureWatcher<Outcome>(this)) {
  connect(watcher_, &QFutureWatcher<Outcome>::finished, this, &JobRunner::on_done);
}

JobRunner::~JobRunner() {
  // The worker may still run; it must not outlive the objects its result touches.
  control_.cancel();
  watcher_->waitForFinished();
}

bool JobRunner::busy() const { return running_; }

void JobRunner::start(const QString& title, Work work) {
  if (busy()) {
    // Waiting here would freeze the window until the old job notices the cancel.
    control_.cancel();
    queued_ = std::make_unique<Queued>(Queued{title, std::move(work)});
    emit progress(-1, "stopping " + title_ + " before " + title);
    return;
  }
  launch(title, std::move(work));
}

void JobRunner::launch(const QString& title, Work work) {
  // Progress goes through a queued call so the UI thread owns every widget update.
  QPointer<JobRunner> self(this);
  const uint64_t job = ++launched_;
  control_ = JobControl(
      [self](int percent, const std::string& message) {
        if (!self) return;
        const QString text = QString::fromStdString(message);
        QMetaObject::invokeMethod(self, [self, percent, text] {
          if (self) emit self->progress(percent, text);
        }, Qt::QueuedConnection);
      },
      [self, job](std::function<void()> apply) {
        if (!self) return;
        // A partial result counts only while its job is the one still wanted.
        QMetaObject::invokeMethod(self, [self, job, apply = std::move(apply)] {
          if (self && self->running_ && self->launched_ == job && !self->control_.cancelled() && !self->queued_) apply();
        }, Qt::QueuedConnection);
      });
  title_ = title;
  running_ = true;
  emit started(title);
  const JobControl control = control_;
  watcher_->setFuture(QtConcurrent::run([work = std::move(work), control]() -> Outcome {
    Outcome out;
    try {
      control.check_cancelled();
      out.apply = work(control);
      out.cancelled = control.cancelled();
    } catch (const JobCancelled&) {
      out.cancelled = true;
    } catch (const std::exception& e) {
      out.error = QString::fromStdString(e.what());
    }
    return out;
  }));
}

void JobRunner::cancel() {
  control_.cancel();
  queued_.reset();  // "cancel" means: stop everything that was asked for
}

void JobRunner::wait_idle() {
  while (busy()) {
    QEventLoop loop;
    connect(this, &JobRunner::finished, &loop, &QEventLoop::quit);
    loop.exec();
  }
}

void JobRunner::on_done() {
  Outcome out = watcher_->result();
  running_ = false;
  if (queued_) {  // superseded: drop the result whatever it was, start the next job
    std::unique_ptr<Queued> next = std::move(queued_);
    emit cancelled(title_);
    emit finished(false, title_);
    launch(next->title, std::move(next->work));
    return;
  }
  // A cancel asked for after the work returned still drops its result: the UI thread
  // has not applied it yet, and "cancel" may follow a partial result the user saw.
  if (out.cancelled || control_.cancelled()) {
    emit cancelled(title_);
    emit finished(false, title_);
  } else if (!out.error.isEmpty()) {
    emit failed(title_, out.error);
    emit finished(false, title_);
  } else {
    if (out.apply) out.apply();
    emit finished(true, title_);
  }
}

}  // namespace dnnf::views
