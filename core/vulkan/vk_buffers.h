// Device memory for one program: a bump suballocator over a few large VkDeviceMemory
// blocks, each with one VkBuffer spanning it; a tensor is a range of such a buffer
// (descriptors bind buffer + offset + range). Memory is host-visible and coherent, so
// upload and download are copies through the mapping; among such types a device-local
// one is preferred (integrated GPUs, lavapipe, resizable BAR). On a discrete GPU without
// resizable BAR the device-local host-visible heap is small (256 MB): when it is full,
// blocks come from the next qualifying type (host memory the GPU reads over the bus).
//
// Every element on the device is a 32-bit float: integer and bool tensors are converted
// at upload (the CPU kernels read them as (float) too) and bool results at download.
#pragma once

#include <cstdint>
#include <vector>

#include "core/ir/tensor.h"
#include "core/vulkan/vk_context.h"

namespace dnnf::vk {

struct DeviceBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize bytes = 0;
  float* mapped = nullptr;   // host pointer to the first element
  int64_t elements() const { return int64_t(bytes / sizeof(float)); }
};

class BufferPool {
 public:
  explicit BufferPool(const Context& cx, VkDeviceSize block_bytes = VkDeviceSize(64) << 20);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // `elements` floats, aligned for a storage-buffer descriptor. Throws dnnf::Error when
  // the device has no memory left.
  DeviceBuffer allocate(int64_t elements);

  size_t blocks() const { return blocks_.size(); }
  VkDeviceSize reserved_bytes() const;
  VkDeviceSize used_bytes() const { return used_; }
  bool device_local() const { return device_local_; }

 private:
  struct Block {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize size = 0, top = 0;
    char* mapped = nullptr;
  };
  void add_block(VkDeviceSize bytes);

  const Context& cx_;
  VkDeviceSize block_bytes_;
  VkDeviceSize alignment_;
  std::vector<uint32_t> memory_types_;  // qualifying types, preferred first
  bool device_local_ = false;           // the preferred type is device-local
  std::vector<Block> blocks_;
  VkDeviceSize used_ = 0;
};

// The memory type for host-visible coherent storage buffers among `type_bits`:
// device-local preferred. Throws dnnf::Error if none qualifies.
uint32_t choose_memory_type(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits, bool* device_local);
// Every qualifying type, in the order choose_memory_type prefers them (device-local
// first, then by index). Empty if none qualifies.
std::vector<uint32_t> memory_type_candidates(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits);

// Host <-> device copies with the float conversion described above.
void upload(const DeviceBuffer& dst, const Tensor& src);
Tensor download(const DeviceBuffer& src, DType dtype, const Shape& shape);

}  // namespace dnnf::vk
