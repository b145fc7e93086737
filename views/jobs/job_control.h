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

  JobControl() : cancel_(std::make_shared<std::atomic<bool>>(false)) {}
  explicit JobControl(ProgressFn progress) : JobControl() { progress_ = std::move(progress); }

  void progress(int percent, const std::string& message) const {
    check_cancelled();
    if (progress_) progress_(percent, message);
  }
  void cancel() const { cancel_->store(true); }
  bool cancelled() const { return cancel_->load(); }
  void check_cancelled() const {
    if (cancelled()) throw JobCancelled();
  }

 private:
  ProgressFn progress_;
  std::shared_ptr<std::atomic<bool>> cancel_;  // shared: copies cancel together
};

}  // namespace dnnf::views
