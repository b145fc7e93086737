// A 128-bit content hash (two independent 64-bit FNV-1a style streams) printed as 32 hex
// digits: the names of cached kernels, units and header sets. Not cryptographic; it
// only has to make accidental collisions between kernel sources practically impossible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dnnf::codegen {

class ContentHash {
 public:
  // Each part is length-prefixed so ("ab", "c") and ("a", "bc") hash differently.
  ContentHash& add(std::string_view part) {
    uint64_t length = part.size();
    mix(std::string_view(reinterpret_cast<const char*>(&length), sizeof length));
    mix(part);
    return *this;
  }

  std::string hex() const {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint64_t h : {finalize(a_), finalize(b_)})
      for (int shift = 60; shift >= 0; shift -= 4) out += digits[(h >> shift) & 15];
    return out;
  }

 private:
  void mix(std::string_view bytes) {
    for (unsigned char c : bytes) {
      a_ = (a_ ^ c) * 0x100000001b3ull;                 // FNV-1a 64
      b_ = (b_ ^ (c + 0x9eull)) * 0x9e3779b97f4a7c15ull;  // a second, differently seeded stream
      b_ ^= b_ >> 29;
    }
  }
  // Avalanche the final state (splitmix64) so similar inputs differ in every digit.
  static uint64_t finalize(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  uint64_t a_ = 0xcbf29ce484222325ull;
  uint64_t b_ = 0x84222325cbf29ce4ull;
};

}  // namespace dnnf::codegen
