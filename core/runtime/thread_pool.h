// A fixed pool of worker threads behind the ABI's parallel_for (kernels/abi/dnnf_abi.h).
//
// parallel_for splits [0, n) into chunks handed out through an atomic counter (dynamic
// scheduling: a slow thread simply takes fewer chunks); the calling thread works too and
// returns when every chunk is done. A parallel_for issued from inside a task (a GEMM
// inside a fused kernel's task) runs serially inline, so nesting never deadlocks.
// Calls from different outside threads are serialized.
//
// Workers spin for a short while (kSpin) after each job before blocking, and the caller
// spins while workers finish theirs: inference issues parallel_for back to back, and
// waking a thread blocked on a condition variable took tens of microseconds on the
// 2-core VM, longer than many of those jobs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf {

// DNNF_THREADS if set to a positive number, else the hardware thread count (at least 1).
int default_thread_count();

class ThreadPool {
 public:
  // threads counts the caller: threads - 1 workers are started. 0: default_thread_count().
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(ctx, begin, end) over disjoint ranges covering [0, n) exactly once.
  void parallel_for(int64_t n, dnnf_task_fn fn, void* ctx);

 private:
  void worker_loop();
  void run_chunks();  // takes chunks of the current job until none are left

  std::vector<std::thread> workers_;
  std::mutex submit_mutex_;  // one job at a time

  std::mutex mutex_;  // guards everything below; the atomics are written under it too
  std::condition_variable wake_workers_, job_finished_;
  std::atomic<uint64_t> generation_{0};  // bumped for every job, so workers see each job once
  bool job_open_ = false;                // workers may still join the current job
  std::atomic<int> active_{0};           // workers inside run_chunks for the current job
  std::atomic<bool> stopping_{false};

  // The current job; written by the submitter while no worker is active.
  dnnf_task_fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace dnnf

// The dnnf_parallel_for_fn of dnnf_api: `pool` is a dnnf::ThreadPool*.
extern "C" void thread_pool_parallel_for(void* pool, int64_t n, dnnf_task_fn fn, void* ctx);
