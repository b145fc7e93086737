// The kernel compiler: generated sources become callable functions, a second build finds
// them in the cache, compiler errors surface as dnnf::Error, and a damaged cache heals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/codegen/embedded_headers.h"
#include "core/codegen/kernel_compiler.h"
#include "core/util/error.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using namespace dnnf::codegen;
using dnnf::test::TempDir;

namespace {

// A trivial kernel returning `value`, with a static helper whose name every kernel shares
// (they land in one unit) and the _prepare/_release pair of the ABI.
KernelSource returning(const std::string& symbol, int value) {
  std::string code = "#include \"dnnf_abi.h\"\n#include \"simd.h\"\n"
                     "static int helper() { return " + std::to_string(value - 1) + "; }\n"
                     "extern \"C\" int " + symbol + "() { return helper() + 1 + 0 * DNNF_ABI_VERSION; }\n"
                     "extern \"C\" void* " + symbol + "_prepare(const dnnf_kernel_args*) { return nullptr; }\n"
                     "extern \"C\" void " + symbol + "_release(void*, const dnnf_api*) {}\n";
  return {symbol, code};
}

CompilerOptions options_in(const TempDir& dir) {
  CompilerOptions options;
  options.cache_dir = dir.file("cache");
  options.flags = {"-O1", "-std=c++17", "-fPIC", "-shared"};  // fast; the test is about caching
  options.jobs = 2;
  return options;
}

int call(const KernelLibrary& lib, const std::string& symbol) {
  return reinterpret_cast<int (*)()>(lib.symbol(symbol))();
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  return files;
}

}  // namespace

TEST(KernelCompiler, EmbedsTheAbiAndSimdHeaders) {
  bool abi = false, simd = false;
  for (const EmbeddedHeader& h : embedded_kernel_headers()) {
    abi = abi || (std::string(h.name) == "dnnf_abi.h" && std::string(h.data, h.size).find("DNNF_ABI_VERSION") !=
                                                             std::string::npos);
    simd = simd || std::string(h.name) == "simd.h";
  }
  EXPECT_TRUE(abi);
  EXPECT_TRUE(simd);
}

TEST(KernelCompiler, CompilesLoadsAndCaches) {
  TempDir dir;
  std::vector<KernelSource> kernels = {returning("k1", 42), returning("k2", 7)};
  CompilerOptions options = options_in(dir);
  options.jobs = 1;  // both kernels in one unit: their helpers must not clash
  size_t progress_calls = 0;
  options.on_progress = [&](size_t done, size_t total) {
    ++progress_calls;
    EXPECT_LE(done, total);
  };
  KernelLibrary first;
  first.build(kernels, options);
  EXPECT_EQ(call(first, "k1"), 42);
  EXPECT_EQ(call(first, "k2"), 7);
  EXPECT_NE(first.symbol("k1_prepare"), nullptr);
  EXPECT_NE(first.symbol("k2_release"), nullptr);
  EXPECT_THROW(first.symbol("k3"), Error);
  EXPECT_EQ(first.stats().compiled, 2u);
  EXPECT_EQ(first.stats().units_compiled, 1u);
  EXPECT_EQ(first.stats().cached, 0u);
  EXPECT_EQ(progress_calls, 1u);
  EXPECT_EQ(first.unit_paths().size(), 1u);
  // The headers were written into the cache: kernels do not need the source tree.
  bool headers_written = false;
  for (const auto& path : files_in(options.cache_dir))
    if (path.filename().string().starts_with("include-"))
      headers_written = std::filesystem::exists(path / "dnnf_abi.h") && std::filesystem::exists(path / "simd.h");
  EXPECT_TRUE(headers_written);

  KernelLibrary second;
  second.build(kernels, options);
  EXPECT_EQ(second.stats().cached, 2u);
  EXPECT_EQ(second.stats().compiled, 0u);
  EXPECT_EQ(call(second, "k1"), 42);

  // A shared kernel is compiled once: only the new one is compiled here.
  KernelLibrary third;
  third.build({returning("k1", 42), returning("k9", 9)}, options);
  EXPECT_EQ(third.stats().cached, 1u);
  EXPECT_EQ(third.stats().compiled, 1u);
  EXPECT_EQ(call(third, "k9"), 9);
}

TEST(KernelCompiler, ParallelUnitsAndOneSymbolPerUnit) {
  TempDir dir;
  CompilerOptions options = options_in(dir);
  options.kernels_per_unit = 2;
  std::vector<KernelSource> kernels;
  for (int i = 0; i < 5; ++i) kernels.push_back(returning("p" + std::to_string(i), 100 + i));
  KernelLibrary lib;
  lib.build(kernels, options);
  EXPECT_EQ(lib.stats().units_compiled, 3u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call(lib, "p" + std::to_string(i)), 100 + i);

  // The same symbol with other code (another model) must resolve to its own unit.
  KernelLibrary other;
  other.build({returning("p0", 5)}, options);
  EXPECT_EQ(call(other, "p0"), 5);
  EXPECT_EQ(call(lib, "p0"), 100);
}

TEST(KernelCompiler, SyntaxErrorThrowsWithTheKeptSource) {
  TempDir dir;
  KernelLibrary lib;
  try {
    lib.build({{"bad", "#include \"dnnf_abi.h\"\nextern \"C\" int bad() { return 1 +; }\n"}}, options_in(dir));
    FAIL() << "expected dnnf::Error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("kernel compile failed"), std::string::npos) << message;
    EXPECT_NE(message.find("bad.cpp:2"), std::string::npos) << message;  // #line maps to the kernel
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    size_t at = message.find("source kept at ");
    ASSERT_NE(at, std::string::npos);
    std::string path = message.substr(at + 15, message.find(',', at) - at - 15);
    EXPECT_TRUE(std::filesystem::exists(path)) << path;
  }
}

TEST(KernelCompiler, RejectsClashingAndInvalidSymbols) {
  TempDir dir;
  KernelLibrary lib;
  EXPECT_THROW(lib.build({returning("same", 1), returning("same", 2)}, options_in(dir)), Error);
  EXPECT_THROW(lib.build({returning("not-an-identifier", 1)}, options_in(dir)), Error);
}

TEST(KernelCompiler, MissingCompilerIsAnError) {
  TempDir dir;
  CompilerOptions options = options_in(dir);
  options.cxx = "/nonexistent/dnnf-test-c++";
  KernelLibrary lib;
  try {
    lib.build({returning("k1", 1)}, options);
    FAIL() << "expected dnnf::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel compile failed"), std::string::npos) << e.what();
  }
}

TEST(KernelCompiler, DamagedCacheIsRebuilt) {
  TempDir dir;
  CompilerOptions options = options_in(dir);
  std::vector<KernelSource> kernels = {returning("k1", 42), returning("k2", 7)};
  {
    KernelLibrary lib;
    lib.build(kernels, options);
  }
  // Index entries pointing at a .so that does not exist.
  for (const auto& entry : files_in(options.cache_dir + "/index")) {
    std::ofstream(entry) << "unit-0123456789abcdef0123456789abcdef.so\n";
  }
  {
    KernelLibrary relinked;
    relinked.build(kernels, options);
    EXPECT_EQ(relinked.stats().compiled, 2u);
    EXPECT_EQ(call(relinked, "k1"), 42);
  }  // unloaded before its files are damaged below

  // A truncated .so (killed writer without atomic rename) is recompiled too.
  for (const auto& so : files_in(options.cache_dir + "/lib")) std::ofstream(so, std::ios::trunc) << "junk";
  KernelLibrary rebuilt;
  rebuilt.build({returning("k2", 7)}, options);
  EXPECT_EQ(rebuilt.stats().compiled, 1u);
  EXPECT_EQ(call(rebuilt, "k2"), 7);
}
