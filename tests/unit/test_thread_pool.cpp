// The thread pool covers every index exactly once, lets the caller work, and runs
// nested parallel_for calls inline instead of deadlocking.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "core/runtime/thread_pool.h"

using namespace dnnf;

namespace {

struct Coverage {
  std::vector<std::atomic<int>> hits;
  explicit Coverage(int64_t n) : hits(n) {}
};

void count_hits(void* ctx, int64_t begin, int64_t end) {
  auto* c = static_cast<Coverage*>(ctx);
  for (int64_t i = begin; i < end; ++i) c->hits[i]++;
}

struct Nested {
  ThreadPool* pool;
  Coverage* inner;  // rows x cols, flattened
  int64_t cols;
};

void row_of_nested(void* ctx, int64_t begin, int64_t end) {
  auto* nested = static_cast<Nested*>(ctx);
  for (int64_t row = begin; row < end; ++row) {
    struct Row {
      Coverage* c;
      int64_t base;
    } r{nested->inner, row * nested->cols};
    // Through the C ABI entry point, as a generated kernel would call it.
    thread_pool_parallel_for(
        nested->pool, nested->cols,
        [](void* ctx, int64_t b, int64_t e) {
          auto* r = static_cast<Row*>(ctx);
          for (int64_t i = b; i < e; ++i) r->c->hits[r->base + i]++;
        },
        &r);
  }
}

}  // namespace

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000, 100003}) {
      Coverage c(n);
      pool.parallel_for(n, count_hits, &c);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(c.hits[i].load(), 1) << "threads " << threads << " n " << n << " i " << i;
    }
    pool.parallel_for(0, count_hits, nullptr);  // nothing to do, nothing called
  }
}

TEST(ThreadPool, ManyJobsInARow) {
  ThreadPool pool(4);
  Coverage c(257);
  for (int round = 0; round < 500; ++round) pool.parallel_for(257, count_hits, &c);
  for (int64_t i = 0; i < 257; ++i) ASSERT_EQ(c.hits[i].load(), 500);
}

TEST(ThreadPool, NestedCallsRunInline) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    const int64_t rows = 16, cols = 33;
    Coverage inner(rows * cols);
    Nested nested{&pool, &inner, cols};
    pool.parallel_for(rows, row_of_nested, &nested);
    for (int64_t i = 0; i < rows * cols; ++i) ASSERT_EQ(inner.hits[i].load(), 1) << i;
  }
}

TEST(ThreadPool, DefaultThreadCountFollowsEnvironment) {
  const char* old = std::getenv("DNNF_THREADS");
  std::string saved = old ? old : "";
  setenv("DNNF_THREADS", "3", 1);
  EXPECT_EQ(default_thread_count(), 3);
  {
    ThreadPool pool;
    EXPECT_EQ(pool.num_threads(), 3);
  }
  setenv("DNNF_THREADS", "zero", 1);
  EXPECT_GE(default_thread_count(), 1);
  if (old) setenv("DNNF_THREADS", saved.c_str(), 1); else unsetenv("DNNF_THREADS");
}
