#include "kernels/cpu/packed_buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace dnnf_kernels {
namespace {
constexpr uint32_t kMagic = 0x444e4e46;  // "DNNF"
static_assert(sizeof(PackedHeader) <= PackedHeader::kDataOffset);
}  // namespace

PackedHeader* allocate_packed(PackedKind kind, int64_t floats) {
  const size_t bytes = PackedHeader::kDataOffset + size_t(floats) * sizeof(float);
  void* raw = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!raw) throw std::bad_alloc();
  std::memset(raw, 0, bytes);
  auto* header = static_cast<PackedHeader*>(raw);
  header->magic = kMagic;
  header->kind = kind;
  header->floats = floats;
  return header;
}

bool packed_is(const void* p, PackedKind kind) {
  const auto* header = static_cast<const PackedHeader*>(p);
  return header && header->magic == kMagic && header->kind == kind;
}

const PackedHeader* packed_header(const void* p, PackedKind kind) {
  if (!packed_is(p, kind)) throw std::invalid_argument("packed operand handle is not of the expected kind");
  return static_cast<const PackedHeader*>(p);
}

void free_packed(void* p) {
  if (!p) return;
  static_cast<PackedHeader*>(p)->magic = 0;  // a second release fails the magic check in use
  std::free(p);
}

}  // namespace dnnf_kernels
