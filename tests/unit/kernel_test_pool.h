// A tiny thread pool for kernel tests: parallel_for hands out single tasks to `threads`
// workers (the caller among them) from a shared counter, so tasks really run concurrently
// and in no fixed order.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "kernels/abi/dnnf_abi.h"

namespace dnnf_test {

class TaskPool {
 public:
  explicit TaskPool(int threads) : threads_(threads) {}

  // Matches dnnf_parallel_for_fn.
  static void parallel_for(void* pool, int64_t n, dnnf_task_fn fn, void* ctx) {
    auto* self = static_cast<TaskPool*>(pool);
    self->calls_++;
    std::atomic<int64_t> next{0};
    auto work = [&] {
      for (int64_t i = next++; i < n; i = next++) fn(ctx, i, i + 1);
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < self->threads_; ++t) workers.emplace_back(work);
    work();
    for (auto& w : workers) w.join();
  }

  int calls() const { return calls_.load(); }

 private:
  int threads_;
  std::atomic<int> calls_{0};
};

}  // namespace dnnf_test
