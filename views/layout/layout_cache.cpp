#include "views/layout/layout_cache.h"

namespace dnnf::views {

std::shared_ptr<const LayoutResult> LayoutCache::find(uint64_t key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void LayoutCache::put(uint64_t key, std::shared_ptr<const LayoutResult> layout) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.emplace(key, std::move(layout)).second) order_.push_back(key);
  while (order_.size() > capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

size_t LayoutCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void LayoutCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  order_.clear();
}

}  // namespace dnnf::views
