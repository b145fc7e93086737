#include "core/runtime/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

namespace dnnf {

namespace {
// Set while this thread runs a task, so that a nested parallel_for runs inline.
thread_local bool in_task = false;

// How long a thread spins for the next job (workers) or for the workers' last chunks (the
// caller) before blocking.
constexpr std::chrono::microseconds kSpin{200};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until done() or kSpin has passed; returns done().
template <typename Done>
bool spin_until(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return done();
    cpu_relax();
  }
}

struct InTask {
  bool previous = in_task;
  InTask() { in_task = true; }
  ~InTask() { in_task = previous; }
};
}  // namespace

int default_thread_count() {
  if (const char* env = std::getenv("DNNF_THREADS")) {
    char* end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value > 0) return static_cast<int>(std::min(value, 1024L));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = default_thread_count();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_workers_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  InTask guard;
  for (;;) {
    int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= n_) return;
    fn_(ctx_, begin, std::min(n_, begin + chunk_));
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    spin_until([&] {
      return stopping_.load(std::memory_order_relaxed) || generation_.load(std::memory_order_acquire) != seen;
    });
    std::unique_lock lock(mutex_);
    wake_workers_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    if (!job_open_) continue;  // came after the job was already finished
    ++active_;
    lock.unlock();
    run_chunks();
    lock.lock();
    if (--active_ == 0) job_finished_.notify_one();
  }
}

void ThreadPool::parallel_for(int64_t n, dnnf_task_fn fn, void* ctx) {
  if (n <= 0) return;
  if (workers_.empty() || n == 1 || in_task) {
    InTask guard;
    fn(ctx, 0, n);
    return;
  }
  std::lock_guard submit(submit_mutex_);
  {
    std::lock_guard lock(mutex_);
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    chunk_ = std::max<int64_t>(1, n / (4 * num_threads()));
    next_.store(0, std::memory_order_relaxed);
    job_open_ = true;
    ++generation_;
  }
  wake_workers_.notify_all();
  run_chunks();
  // Every chunk is taken; wait for the workers still running theirs, then close the job
  // so a late-waking worker does not touch it after we return.
  spin_until([&] { return active_.load(std::memory_order_acquire) == 0; });
  std::unique_lock lock(mutex_);
  job_finished_.wait(lock, [&] { return active_ == 0; });
  job_open_ = false;
}

}  // namespace dnnf

extern "C" void thread_pool_parallel_for(void* pool, int64_t n, dnnf_task_fn fn, void* ctx) {
  static_cast<dnnf::ThreadPool*>(pool)->parallel_for(n, fn, ctx);
}
