// The pieces every export bundle shares: SHA-256 against the FIPS test vectors, the
// weights file (alignment, one copy per name, the table), the bundle writer (nothing
// visible before commit, nothing left after a failure, manifest hashes that match the
// files, refusing to replace a folder that is not a bundle) and the embedded sources.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstring>

#include "core/export/bundle_manifest.h"
#include "core/export/bundle_sha256.h"
#include "core/export/bundle_sources.h"
#include "core/export/bundle_weights.h"
#include "core/export/bundle_writer.h"
#include "core/util/error.h"
#include "tests/support/test_util.h"

using namespace dnnf;
using namespace dnnf::exporter;
using dnnf::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t entries_in(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST(BundleSha256, MatchesFipsVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a': exercises many blocks and the length encoding.
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(BundleSha256, FileEqualsBytesAndMissingFileIsAnError) {
  TempDir t;
  const std::string bytes(70000, 'x');
  std::ofstream(t.file("f.bin"), std::ios::binary) << bytes;
  EXPECT_EQ(sha256_file(t.file("f.bin")), sha256_hex(bytes));
  EXPECT_THROW(sha256_file(t.file("missing")), Error);
}

TEST(BundleWeights, AlignsEveryConstantAndStoresEachNameOnce) {
  WeightsWriter w;
  Tensor a(DType::F32, {3});
  for (int i = 0; i < 3; ++i) a.data<float>()[i] = float(i + 1);
  Tensor b(DType::I64, {2, 5});
  for (int i = 0; i < 10; ++i) b.data<int64_t>()[i] = 100 + i;
  EXPECT_EQ(w.add("a", a), 0u);
  const uint64_t ob = w.add("b", b);
  EXPECT_EQ(ob, kWeightAlignment);
  EXPECT_EQ(w.add("a", a), 0u);  // same name: no second copy
  ASSERT_EQ(w.entries().size(), 2u);
  EXPECT_EQ(w.bytes().size() % kWeightAlignment, 0u);
  EXPECT_EQ(w.bytes().size(), 3 * kWeightAlignment);  // 12 bytes -> 64, 80 bytes -> 128
  int64_t back[10];
  std::memcpy(back, w.bytes().data() + ob, sizeof back);
  EXPECT_EQ(back[9], 109);
  float fa[3];
  std::memcpy(fa, w.bytes().data(), sizeof fa);
  EXPECT_EQ(fa[2], 3.0f);
  const nlohmann::json table = w.table();
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(table[1]["name"], "b");
  EXPECT_EQ(table[1]["dtype"], "int64");
  EXPECT_EQ(table[1]["shape"], nlohmann::json({2, 5}));
  EXPECT_EQ(table[1]["bytes"], 80);
  EXPECT_EQ(w.at("b").offset, ob);
  EXPECT_THROW(w.at("c"), Error);
}

TEST(BundleWriter, NothingIsVisibleBeforeCommitAndManifestHashesTheFiles) {
  TempDir t;
  const fs::path dir = t.path() / "bundle";
  {
    BundleWriter w(dir.string());
    w.add_file("weights.bin", std::string(128, '\1'));
    w.add_file("bin/tool", "#!/bin/sh\n", true);
    EXPECT_FALSE(fs::exists(dir));
    nlohmann::json m;
    m["target"] = "test";
    const size_t total = w.commit(m);
    EXPECT_GT(total, 128u + 10u);
  }
  ASSERT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(entries_in(t.path()), 1u);  // no staging folder left beside it
  const nlohmann::json m = nlohmann::json::parse(slurp(dir / "manifest.json"));
  EXPECT_EQ(m["format"], kBundleFormat);
  EXPECT_EQ(m["target"], "test");
  ASSERT_EQ(m["files"].size(), 2u);
  EXPECT_EQ(m["files"]["weights.bin"]["sha256"], sha256_file((dir / "weights.bin").string()));
  EXPECT_EQ(m["files"]["bin/tool"]["bytes"], 10);
  EXPECT_NE(fs::status(dir / "bin/tool").permissions() & fs::perms::owner_exec, fs::perms::none);
}

TEST(BundleWriter, AnAbandonedWriterLeavesNothing) {
  TempDir t;
  const fs::path dir = t.path() / "bundle";
  try {
    BundleWriter w(dir.string());
    w.add_file("weights.bin", "abc");
    throw Error("cancelled");
  } catch (const Error&) {
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(entries_in(t.path()), 0u);
}

TEST(BundleWriter, ReplacesABundleOrAnEmptyFolderButNothingElse) {
  TempDir t;
  const fs::path dir = t.path() / "bundle";
  fs::create_directory(dir);
  {
    BundleWriter w(dir.string());  // empty folder: fine
    w.add_file("a.txt", "first");
    w.commit({});
  }
  {
    BundleWriter w(dir.string());  // a bundle: replaced
    w.add_file("b.txt", "second");
    w.commit({});
  }
  EXPECT_FALSE(fs::exists(dir / "a.txt"));
  EXPECT_EQ(slurp(dir / "b.txt"), "second");
  EXPECT_EQ(entries_in(t.path()), 1u);

  const fs::path other = t.path() / "photos";
  fs::create_directory(other);
  std::ofstream(other / "cat.jpg") << "meow";
  try {
    BundleWriter w(other.string());
    FAIL() << "a folder that is not a bundle was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("neither empty nor a dnnf bundle"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(other / "cat.jpg"), "meow");
  std::ofstream(t.file("file")) << "x";
  EXPECT_THROW(BundleWriter(t.file("file")), Error);
  EXPECT_THROW(BundleWriter((t.path() / "no/such/parent/out").string()), Error);
}

TEST(BundleWriter, RemovesTheStagingFolderOfAKilledExport) {
  TempDir t;
  const fs::path dir = t.path() / "bundle";
  // A pid far above pid_max stands for a process that is gone.
  const fs::path stale = t.path() / ".bundle.dnnf-staging-999999999-0";
  fs::create_directories(stale / "src");
  BundleWriter w(dir.string());
  EXPECT_FALSE(fs::exists(stale));
}

TEST(BundleWriter, RefusesPathsOutsideTheBundle) {
  EXPECT_TRUE(is_bundle_relative_path("src/runtime/plan.cpp"));
  EXPECT_FALSE(is_bundle_relative_path("../x"));
  EXPECT_FALSE(is_bundle_relative_path("a/../../x"));
  EXPECT_FALSE(is_bundle_relative_path("/etc/passwd"));
  EXPECT_FALSE(is_bundle_relative_path(""));
  EXPECT_FALSE(is_bundle_relative_path("a//b"));
  TempDir t;
  BundleWriter w((t.path() / "b").string());
  EXPECT_THROW(w.add_file("../escape", "x"), Error);
  EXPECT_FALSE(fs::exists(t.path() / "escape"));
}

TEST(BundleSources, HoldTheCommonFilesByTheirSourcePaths) {
  EXPECT_NE(bundle_source("kernels/bundle/include/dnnf_model.h").find("dnnf_model_create"), std::string_view::npos);
  EXPECT_NE(bundle_source("kernels/bundle/runner/runner.cpp").find("dnnf_model_run"), std::string_view::npos);
  EXPECT_NE(bundle_source("kernels/abi/dnnf_abi.h").find("DNNF_ABI_VERSION"), std::string_view::npos);
  EXPECT_FALSE(bundle_sources_under("kernels/cpu/").empty());
  EXPECT_THROW(bundle_source("kernels/none.h"), Error);
}

TEST(BundleManifest, PortsNeedFixedShapes) {
  Graph g;
  ValueInfo x;
  x.name = "x";
  x.type = TensorType(DType::F32, {Dim(1), Dim::sym("batch")});
  g.inputs.push_back(x);
  try {
    bundle_inputs(g);
    FAIL() << "a symbolic input dimension was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x' has no fixed shape"), std::string::npos) << e.what();
  }
}

// Outputs may have dimensions that depend on the data (-1, read after an owned run), but
// not an unknown rank.
TEST(BundleManifest, OutputsMayHaveDataDependentDimsButAKnownRank) {
  Graph g;
  g.outputs.push_back({"boxes", TensorType(DType::F32, {Dim::sym("n"), Dim(4)})});
  const std::vector<BundlePort> ports = bundle_outputs(g);
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(ports[0].numel(), -1);
  EXPECT_FALSE(ports[0].fixed());
  g.outputs[0].type = TensorType::unknown_shape(DType::F32);
  EXPECT_THROW(bundle_outputs(g), Error);
}
