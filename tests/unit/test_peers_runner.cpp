// A peer converter that crashes, runs past its time limit or reports an error becomes a
// failed row with the reason, never an exception (fake peer scripts written here).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/peers/peer_compare.h"

namespace dnnf::peers {
namespace {

namespace fs = std::filesystem;

class PeersRunner : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dnnf-test-peers-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    env_.python = "python3";
    env_.scripts_dir = dir_.string();
    env_.cache_dir = (dir_ / "cache").string();
    env_.venv = (dir_ / "no-venv").string();
    env_.timeout_seconds = 60;
    model_ = std::string(DNNF_TEST_DATA_DIR) + "/data/peers/tflite_ops.txt";  // any file: the fakes ignore it
  }
  void TearDown() override { fs::remove_all(dir_); }
  void fake(const std::string& peer, const std::string& body) {
    std::ofstream(dir_ / ("peer_" + peer + ".py")) << "import os, sys, time, json\n" << body << "\n";
  }
  fs::path dir_;
  PeerEnv env_;
  std::string model_;
};

TEST_F(PeersRunner, CrashingConverterIsAFailedRow) {
  fake("mnn", "print('converting', flush=True)\nos.abort()");
  const CompareRow row = run_peer_tool("mnn", model_, "h1", env_, false);
  EXPECT_EQ(row.layers, -1);
  EXPECT_NE(row.error.find("signal 6"), std::string::npos) << row.error;
  EXPECT_EQ(row.source, "tool");
  EXPECT_TRUE(row.to_json()["layers"].is_null());
}

TEST_F(PeersRunner, ConverterPastTheTimeLimitIsKilled) {
  fake("tflite", "time.sleep(120)");
  env_.timeout_seconds = 1;
  const CompareRow row = run_peer_tool("tflite", model_, "h2", env_, true);
  EXPECT_EQ(row.layers, -1);
  EXPECT_NE(row.error.find("timed out"), std::string::npos) << row.error;
  EXPECT_FALSE(fs::exists(env_.cache_dir) && !fs::is_empty(env_.cache_dir));  // timeouts are not cached
}

TEST_F(PeersRunner, ReportedErrorAndNonZeroExitAreFailedRows) {
  fake("tvm", "print(json.dumps({'system': 'tvm', 'error': 'OpNotImplemented: RoiAlign'}))\nsys.exit(1)");
  EXPECT_EQ(run_peer_tool("tvm", model_, "h3", env_, false).error, "OpNotImplemented: RoiAlign");
  fake("onnxruntime", "sys.stderr.write('Traceback: boom\\n')\nsys.exit(3)");
  const CompareRow row = run_peer_tool("onnxruntime", model_, "h4", env_, false);
  EXPECT_NE(row.error.find("code 3"), std::string::npos) << row.error;
  EXPECT_NE(row.error.find("boom"), std::string::npos) << row.error;
}

TEST_F(PeersRunner, SuccessfulRunIsParsedAndCached) {
  const std::string ops = (dir_ / "ops.txt").string();
  std::ofstream(ops) << "CONV_2D+RELU\nADD\n";
  fake("tflite", "print(json.dumps({'system': 'tflite', 'version': 'fake 1', 'ops_file': '" + ops + "'}))");
  const CompareRow row = run_peer_tool("tflite", model_, "h5", env_, true);
  EXPECT_EQ(row.error, "");
  EXPECT_EQ(row.layers, 2);
  EXPECT_EQ(row.fused_groups, 1);
  EXPECT_EQ(row.version, "fake 1");
  fake("tflite", "os.abort()");  // the second call must come from the cache
  const CompareRow again = run_peer_tool("tflite", model_, "h5", env_, true);
  EXPECT_EQ(again.layers, 2);
  EXPECT_EQ(again.note, "cached");
}

TEST_F(PeersRunner, MissingPythonIsAFailedRow) {
  env_.python = (dir_ / "no-such-python").string();
  fake("mnn", "pass");
  const CompareRow row = run_peer_tool("mnn", model_, "h6", env_, false);
  EXPECT_NE(row.error.find("cannot run"), std::string::npos) << row.error;
}

TEST(PeersList, ParsesKnownPeersAndRejectsUnknown) {
  EXPECT_EQ(parse_peer_list("tflite,ort"), (std::vector<std::string>{"tflite", "onnxruntime"}));
  EXPECT_EQ(parse_peer_list("all").size(), 4u);
  EXPECT_THROW(parse_peer_list("tflite,caffe"), Error);
}

}  // namespace
}  // namespace dnnf::peers
