// File helpers for the kernel cache, which several processes may share: every file is
// written under a temporary name in its final directory and renamed into place, so a
// reader (or a run killed half-way) never sees a partial file.
#pragma once

#include <optional>
#include <string>

namespace dnnf::codegen {

// A name in the same directory as `path`, unique to this process and call.
std::string temp_name_for(const std::string& path);

// Writes `bytes` to `path` atomically (temp file + rename). Throws dnnf::Error.
void write_file_atomically(const std::string& path, const std::string& bytes);

// The whole file, or nullopt if it does not exist or cannot be read.
std::optional<std::string> read_file(const std::string& path);

// mkdir -p; throws dnnf::Error naming the directory on failure.
void make_directories(const std::string& path);

}  // namespace dnnf::codegen
