// What a long job sees of its runner: a way to report progress and to learn that the
// user cancelled. Plain C++ so the session code below it stays free of Qt threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace dnnf::views {

// Thrown from inside a job when it notices a cancel request; the runner reports
// "cancelled" instead of an error.
struct JobCancelled : std::runtime_error {
  JobCancelled() : std::runtime_error("cancelled") {}
};

class JobControl {
 public:
  // percent < 0: progress not known (busy indicator).
  using ProgressFn = std::function<void(int percent, const std::string& message)>;
  // Takes a partial result (a callback for the UI thread) from the job.
  using DeliverFn = std::function<void(std::function<void()> apply)>;

  JobControl() : cancel_(std::make_shared<std::atomic<bool>>(false)) {}
  explicit JobControl(ProgressFn progress, DeliverFn deliver = {}) : JobControl() {
    progress_ = std::move(progress);
    deliver_ = std::move(deliver);
  }

  void progress(int percent, const std::string& message) const {
    check_cancelled();
    if (progress_) progress_(percent, message);
  }
  // Hands over something to show before the job ends (e.g. the imported graph while it
  // is optimised): `apply` runs later on the UI thread, unless the job was cancelled or
  // replaced by then. Without a runner it is dropped.
  void deliver(std::function<void()> apply) const {
    check_cancelled();
    if (deliver_) deliver_(std::move(apply));
  }
  void cancel() const { cancel_->store(true); }
  bool cancelled() const { return cancel_->load(); }
  void check_cancelled() const {
    if (cancelled()) throw JobCancelled();
  }

 private:
  ProgressFn progress_;
  DeliverFn deliver_;
  std::shared_ptr<std::atomic<bool>> cancel_;  // shared: copies cancel together
};

}  // namespace dnnf::views
