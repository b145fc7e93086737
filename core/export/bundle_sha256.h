// SHA-256 (FIPS 180-4) of bytes and files, for bundle manifests: every file a bundle
// holds and the source model are recorded by their SHA-256, so that a user can check a
// bundle with sha256sum alone. Written here because dnnf links no crypto library.
#pragma once

#include <string>
#include <string_view>

namespace dnnf::exporter {

// 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// SHA-256 of a file's bytes; throws dnnf::Error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace dnnf::exporter
