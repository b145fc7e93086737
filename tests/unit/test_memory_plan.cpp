// The static memory plan: buffers alive at the same step never share bytes, the arena
// never exceeds one allocation per buffer, and a chain of buffers reuses two slots.
#include <gtest/gtest.h>

#include <random>

#include "core/runtime/memory_plan.h"
#include "core/util/error.h"

using namespace dnnf;

namespace {

void expect_valid(const std::vector<BufferLifetime>& buffers, const MemoryPlan& plan) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  EXPECT_LE(plan.arena_bytes, plan.total_bytes);
  EXPECT_EQ(plan.arena_bytes % kArenaAlignment, 0u);
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(plan.offsets[i] + buffers[i].bytes, plan.arena_bytes);
  }
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const BufferLifetime &a = buffers[i], &b = buffers[j];
      bool live_together = a.first_step <= b.last_step && b.first_step <= a.last_step;
      bool share_bytes = plan.offsets[i] < plan.offsets[j] + b.bytes && plan.offsets[j] < plan.offsets[i] + a.bytes;
      if (a.bytes == 0 || b.bytes == 0) continue;  // empty buffers occupy nothing
      ASSERT_FALSE(live_together && share_bytes) << "buffers " << a.id << " and " << b.id;
    }
}

}  // namespace

TEST(MemoryPlan, RandomLifetimesNeverOverlapInMemory) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> buffers;
    int count = 1 + static_cast<int>(rng() % 120);
    for (int i = 0; i < count; ++i) {
      int64_t first = rng() % 60, length = rng() % 12;
      size_t bytes = rng() % 5 == 0 ? rng() % 100 : 1 + rng() % 100000;  // some tiny, some zero
      buffers.push_back({i, bytes, first, first + length});
    }
    MemoryPlan plan = plan_memory(buffers);
    expect_valid(buffers, plan);
    EXPECT_GE(plan.reuse_ratio(), 1.0);
  }
}

TEST(MemoryPlan, ChainOfEqualBuffersUsesTwoSlots) {
  const size_t bytes = 1000, slot = 1024;  // 1000 rounded up to the 64-byte alignment
  std::vector<BufferLifetime> chain;
  for (int i = 0; i < 20; ++i) chain.push_back({i, bytes, i, i + 1});  // written at i, read at i + 1
  MemoryPlan plan = plan_memory(chain);
  expect_valid(chain, plan);
  EXPECT_EQ(plan.arena_bytes, 2 * slot);
  EXPECT_EQ(plan.total_bytes, 20 * slot);
  EXPECT_DOUBLE_EQ(plan.reuse_ratio(), 10.0);
}

TEST(MemoryPlan, BestFitPicksTheSmallestGap) {
  // Placed largest first: p at 0, q after it, u after q, r after u. Once p and u are dead,
  // the long-lived q and r leave an 8 KiB hole (p's) and a 2 KiB hole (u's); the 1 KiB
  // buffer t must take the 2 KiB hole, not the first one.
  std::vector<BufferLifetime> buffers = {{0, 8192, 0, 1},   // p
                                         {1, 4096, 0, 10},  // q
                                         {2, 2048, 0, 1},   // u
                                         {3, 1536, 0, 10},  // r
                                         {4, 1024, 5, 6}};  // t
  MemoryPlan plan = plan_memory(buffers);
  expect_valid(buffers, plan);
  EXPECT_EQ(plan.offsets[1], 8192u);
  EXPECT_EQ(plan.offsets[4], plan.offsets[2]);
  EXPECT_EQ(plan.arena_bytes, 8192u + 4096 + 2048 + 1536);
}

TEST(MemoryPlan, RejectsBackwardLifetimes) {
  EXPECT_THROW(plan_memory({{7, 64, 5, 4}}), Error);
  MemoryPlan empty = plan_memory({});
  EXPECT_EQ(empty.arena_bytes, 0u);
  EXPECT_DOUBLE_EQ(empty.reuse_ratio(), 1.0);
}

TEST(MemoryPlan, InPlaceOutputTakesTheBytesOfAnInputThatDiesWhereItIsWritten) {
  // a -> b -> c, each read only by the next step's kernel, which writes over it in place:
  // one slot for the chain instead of two. The group lives from a's first step to c's last.
  std::vector<BufferLifetime> chain = {{0, 1000, 0, 1}, {1, 1000, 1, 2}, {2, 1000, 2, 3}, {3, 1000, 3, 4}};
  MemoryPlan plan = plan_memory(chain, {{1, 0}, {2, 1}});
  EXPECT_EQ(plan.in_place, 2u);
  EXPECT_EQ(plan.offsets[0], plan.offsets[1]);
  EXPECT_EQ(plan.offsets[1], plan.offsets[2]);
  EXPECT_NE(plan.offsets[3], plan.offsets[2]);  // d was not offered: c is alive when d is written
  EXPECT_EQ(plan.arena_bytes, 2 * 1024u);
  EXPECT_EQ(plan.total_bytes, 4 * 1024u);
}

TEST(MemoryPlan, InPlaceIsRefusedWhenTheInputLivesOnOrTheSizesDiffer) {
  std::vector<BufferLifetime> buffers = {{0, 1000, 0, 2},   // read again at step 2
                                         {1, 1000, 1, 3},   // written at step 1
                                         {2, 1000, 4, 5},
                                         {3, 2000, 5, 6},   // larger than its input
                                         {4, 1000, 6, 7},
                                         {5, 1000, 6, 8}};  // begins with its input (not after it)
  MemoryPlan plan = plan_memory(buffers, {{1, 0}, {3, 2}, {5, 4}});
  EXPECT_EQ(plan.in_place, 0u);
  expect_valid(buffers, plan);  // no two buffers alive together share a byte
}

TEST(MemoryPlan, AnotherOrderFillsTheHoleLargestFirstLeaves) {
  // Largest first: a at 0, b at 0 (a is dead by then), d after b, c after everything:
  // 512 bytes, while at most 448 are alive at once. In order of first use a, c and d fit
  // in 320 bytes and b goes on top of d: 448.
  const std::vector<BufferLifetime> buffers = {{0, 256, 1, 2},   // a
                                               {1, 256, 4, 4},   // b
                                               {2, 64, 1, 3},    // c
                                               {3, 192, 3, 5}};  // d
  const MemoryPlan plan = plan_memory(buffers);
  expect_valid(buffers, plan);
  EXPECT_EQ(plan.arena_bytes, 448u);
}
