// Layouts already computed, keyed by the drawing's identity (DisplayGraph::layout_key),
// so stepping back and forth through the journal lays out each graph state once.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "views/layout/graphviz_layout.h"

namespace dnnf::views {

class LayoutCache {
 public:
  explicit LayoutCache(size_t capacity = 256) : capacity_(capacity) {}
  std::shared_ptr<const LayoutResult> find(uint64_t key) const;
  void put(uint64_t key, std::shared_ptr<const LayoutResult> layout);
  size_t size() const;
  void clear();  // for the layout benchmark: measure cold layouts

 private:
  size_t capacity_;
  mutable std::mutex mutex_;  // filled from layout jobs, read from the UI thread
  std::map<uint64_t, std::shared_ptr<const LayoutResult>> entries_;
  std::deque<uint64_t> order_;  // oldest first, for eviction
};

}  // namespace dnnf::views
