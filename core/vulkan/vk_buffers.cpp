#include "core/vulkan/vk_buffers.h"

#include <algorithm>
#include <cstring>

#include "core/util/error.h"

namespace dnnf::vk {

namespace {

VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a) { return (v + a - 1) / a * a; }

constexpr VkBufferUsageFlags kUsage =
    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
    VK_BUFFER_USAGE_TRANSFER_DST_BIT;

}  // namespace

std::vector<uint32_t> memory_type_candidates(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits) {
  const VkMemoryPropertyFlags need = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  std::vector<uint32_t> local, other;
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
    if ((f & need) != need) continue;
    (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT ? local : other).push_back(i);
  }
  local.insert(local.end(), other.begin(), other.end());
  return local;
}

uint32_t choose_memory_type(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits, bool* device_local) {
  const std::vector<uint32_t> types = memory_type_candidates(props, type_bits);
  check(!types.empty(), "the Vulkan device has no host-visible coherent memory for storage buffers");
  if (device_local) *device_local = props.memoryTypes[types[0]].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  return types[0];
}

BufferPool::BufferPool(const Context& cx, VkDeviceSize block_bytes) : cx_(cx), block_bytes_(block_bytes) {
  // Every tensor may be bound as a storage buffer and as a texel buffer view.
  alignment_ = std::max<VkDeviceSize>({cx.info().storage_offset_alignment, cx.info().texel_offset_alignment, 16});
  // Probe a small buffer for the memory types storage buffers may use.
  auto bi = make_info<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bi.size = 256;
  bi.usage = kUsage;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer probe = VK_NULL_HANDLE;
  check_vk(cx.vk().vkCreateBuffer(cx.device(), &bi, nullptr, &probe), "vkCreateBuffer");
  VkMemoryRequirements req{};
  cx.vk().vkGetBufferMemoryRequirements(cx.device(), probe, &req);
  cx.vk().vkDestroyBuffer(cx.device(), probe, nullptr);
  choose_memory_type(cx.memory_properties(), req.memoryTypeBits, &device_local_);
  memory_types_ = memory_type_candidates(cx.memory_properties(), req.memoryTypeBits);
  alignment_ = std::max(alignment_, req.alignment);
}

BufferPool::~BufferPool() {
  const Functions& f = cx_.vk();
  for (Block& b : blocks_) {
    if (b.mapped) f.vkUnmapMemory(cx_.device(), b.memory);
    f.vkDestroyBuffer(cx_.device(), b.buffer, nullptr);
    f.vkFreeMemory(cx_.device(), b.memory, nullptr);
  }
}

void BufferPool::add_block(VkDeviceSize bytes) {
  const Functions& f = cx_.vk();
  Block b;
  b.size = bytes;
  auto bi = make_info<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  bi.size = bytes;
  bi.usage = kUsage;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check_vk(f.vkCreateBuffer(cx_.device(), &bi, nullptr, &b.buffer), "vkCreateBuffer");
  VkMemoryRequirements req{};
  f.vkGetBufferMemoryRequirements(cx_.device(), b.buffer, &req);
  auto ai = make_info<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  ai.allocationSize = req.size;
  VkResult r = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  for (uint32_t type : memory_types_) {
    if (!(req.memoryTypeBits & (1u << type))) continue;
    ai.memoryTypeIndex = type;
    r = f.vkAllocateMemory(cx_.device(), &ai, nullptr, &b.memory);
    if (r == VK_SUCCESS) break;
    // A full heap: the next qualifying type (another heap) may have room.
    if (r != VK_ERROR_OUT_OF_DEVICE_MEMORY && r != VK_ERROR_OUT_OF_HOST_MEMORY) break;
  }
  if (r != VK_SUCCESS) {
    f.vkDestroyBuffer(cx_.device(), b.buffer, nullptr);
    fail("cannot allocate ", bytes, " bytes of Vulkan device memory: ", result_name(r));
  }
  check_vk(f.vkBindBufferMemory(cx_.device(), b.buffer, b.memory, 0), "vkBindBufferMemory");
  void* p = nullptr;
  check_vk(f.vkMapMemory(cx_.device(), b.memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
  b.mapped = static_cast<char*>(p);
  blocks_.push_back(b);
}

DeviceBuffer BufferPool::allocate(int64_t elements) {
  const VkDeviceSize bytes = align_up(VkDeviceSize(std::max<int64_t>(elements, 1)) * sizeof(float), 16);
  check(bytes <= cx_.info().max_storage_buffer_range, "a tensor of ", bytes,
        " bytes exceeds the device's storage-buffer range of ", cx_.info().max_storage_buffer_range);
  Block* target = nullptr;
  for (Block& b : blocks_)
    if (align_up(b.top, alignment_) + bytes <= b.size) {
      target = &b;
      break;
    }
  if (!target) {
    add_block(std::max(block_bytes_, align_up(bytes, alignment_)));
    target = &blocks_.back();
  }
  const VkDeviceSize offset = align_up(target->top, alignment_);
  target->top = offset + bytes;
  used_ += bytes;
  return {target->buffer, offset, bytes, reinterpret_cast<float*>(target->mapped + offset)};
}

VkDeviceSize BufferPool::reserved_bytes() const {
  VkDeviceSize s = 0;
  for (const Block& b : blocks_) s += b.size;
  return s;
}

void upload(const DeviceBuffer& dst, const Tensor& src) {
  check(src.numel() <= dst.elements(), "upload of ", src.numel(), " elements into a buffer of ", dst.elements());
  if (src.numel() == 0) return;  // an empty tensor has no storage: raw() is null
  if (src.dtype() == DType::F32) {
    std::memcpy(dst.mapped, src.raw(), size_t(src.numel()) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < src.numel(); ++i) dst.mapped[i] = float(src.get_f64(i));
}

Tensor download(const DeviceBuffer& src, DType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  check(t.numel() <= src.elements(), "download of ", t.numel(), " elements from a buffer of ", src.elements());
  if (t.numel() == 0) return t;  // no storage to copy into (raw() is null)
  if (dtype == DType::F32) {
    std::memcpy(t.raw(), src.mapped, size_t(t.numel()) * sizeof(float));
  } else if (dtype == DType::Bool) {
    for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, src.mapped[i] != 0.0f ? 1.0 : 0.0);
  } else {
    for (int64_t i = 0; i < t.numel(); ++i) t.set_f64(i, double(src.mapped[i]));
  }
  return t;
}

}  // namespace dnnf::vk
