// Compiles generated C++ block kernels into cached shared objects and loads them.
//
// Each kernel is cached under a key hashing its code, the compiler command and flags,
// the embedded kernel headers and DNNF_ABI_VERSION, so the same kernel in two models is
// compiled once. Uncached kernels are grouped into units (one .cpp -> one .so each, to
// pay the header parsing once per unit) and compiled by up to `jobs` compilers at once.
//
// Cache layout (shared safely by concurrent processes; every file is renamed into place):
//   <cache>/include-<hash>/   the embedded headers (dnnf_abi.h, simd.h, ...)
//   <cache>/lib/unit-<hash>.so
//   <cache>/index/<kernel>    name of the unit .so that holds the kernel
//   <cache>/src/unit-<hash>.cpp/.log   kept only when a compile fails
//
// Kernel sources: define extern "C" `symbol`, `symbol_prepare`, `symbol_release` (see
// kernels/abi/dnnf_abi.h) and include only headers by bare name ("dnnf_abi.h",
// "simd.h") or system headers. In a unit every #include line is hoisted to the top and
// the rest of each kernel is wrapped in its own namespace, so file-scope helpers of
// different kernels may share names; macros, however, leak from one kernel to the next.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dnnf::codegen {

struct KernelSource {
  std::string symbol;  // the kernel's entry point; also names _prepare and _release
  std::string code;    // a complete C++ translation unit
};

struct CompilerOptions {
  // The compiler program, split on spaces ("ccache c++", "aarch64-linux-gnu-g++").
  std::string cxx = "c++";
  std::vector<std::string> flags = {"-O3", "-march=native", "-std=c++17", "-fPIC", "-shared",
                                    "-fno-math-errno", "-ffp-contract=fast"};
  // Empty: $DNNF_KERNEL_CACHE, else $XDG_CACHE_HOME/dnnf/kernels, else ~/.cache/dnnf/kernels.
  std::string cache_dir;
  int jobs = 0;  // compilers at once; 0: hardware threads
  size_t kernels_per_unit = 24;
  // Called after each compiled unit with kernels compiled so far and kernels to compile;
  // calls are serialized but come from compiler threads.
  std::function<void(size_t done, size_t total)> on_progress;
  // false: compile and cache only, without dlopen (cross-compiled kernels for another
  // machine); symbol() then throws and unit_paths() says which .so files to ship.
  bool load = true;
};

// Owns the dlopen handles of the units holding its kernels; closes them on destruction,
// so function pointers from symbol() must not outlive the library.
class KernelLibrary {
 public:
  struct Stats {
    size_t kernels = 0;         // distinct kernels requested by build()
    size_t cached = 0;          // found in the cache
    size_t compiled = 0;        // compiled by this library
    size_t units_compiled = 0;  // .so files produced
    double compile_ms = 0;      // wall time spent compiling
  };

  KernelLibrary() = default;
  ~KernelLibrary();
  KernelLibrary(const KernelLibrary&) = delete;
  KernelLibrary& operator=(const KernelLibrary&) = delete;
  KernelLibrary(KernelLibrary&& other) noexcept;
  KernelLibrary& operator=(KernelLibrary&& other) noexcept;

  // Compiles whatever is not cached yet and loads every kernel. May be called again
  // with more kernels; a symbol already loaded with different code is an error.
  // Throws dnnf::Error("kernel compile failed: ...") when the compiler rejects a unit.
  void build(const std::vector<KernelSource>& kernels, const CompilerOptions& options);

  // `symbol`, `symbol_prepare` or `symbol_release` of a built kernel, resolved in the unit
  // its cache entry names (never in another unit that happens to export the same name).
  // Throws dnnf::Error if the name is not one of them or the unit does not define it.
  void* symbol(const std::string& name) const;

  Stats stats() const { return stats_; }

  // The unit .so files holding this library's kernels (for export bundles).
  std::vector<std::string> unit_paths() const;

 private:
  struct Loaded {
    std::string code_key;    // cache key of the kernel that defines the name
    std::string path;        // its unit .so
    void* handle = nullptr;  // null when built with load = false
  };
  void* open_unit(const std::string& path);  // cached per path; null if dlopen fails
  void release();

  std::map<std::string, void*> units_;      // .so path -> dlopen handle
  std::map<std::string, Loaded> kernels_;  // kernel symbol -> where it lives
  Stats stats_;
};

// The cache directory the options resolve to (created if missing).
std::string cache_dir(const CompilerOptions& options);

}  // namespace dnnf::codegen
