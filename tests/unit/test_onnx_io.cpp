// ONNX import/export and tensor files (.pb, .npy).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/ir/graph.h"
#include "core/onnx_io/onnx_export.h"
#include "core/onnx_io/onnx_import.h"
#include "core/onnx_io/onnx_proto_detail.h"
#include "core/onnx_io/tensor_io.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using namespace dnnf;
using namespace dnnf::onnx_io;
namespace pbd = dnnf::onnx_io::detail;

namespace {

// A fresh temporary directory, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("dnnf_onnxio_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Expects a dnnf::Error whose message contains every needle.
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& needles) {
  try {
    fn();
    ADD_FAILURE() << "expected a dnnf::Error containing '" << needles.front() << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "multi-line message: " << msg;
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
  }
}

const std::vector<DType> kAllDTypes = {DType::F32, DType::F16, DType::BF16, DType::F64,
                                       DType::I64, DType::I32, DType::I16,  DType::I8,
                                       DType::U8,  DType::U16, DType::U32,  DType::U64,
                                       DType::Bool, DType::String};

// A tensor of shape [2,3] (or given) with a byte pattern (0/1 for bool).
Tensor pattern_tensor(DType t, Shape shape = {2, 3}) {
  Tensor x(t, shape);
  if (t == DType::String) {
    for (int64_t i = 0; i < x.numel(); ++i) x.strings()[size_t(i)] = "s" + std::to_string(i * 7) + std::string(size_t(i), 'x');
    return x;
  }
  auto* p = static_cast<unsigned char*>(x.raw());
  for (size_t i = 0; i < x.nbytes(); ++i) p[i] = t == DType::Bool ? (i % 3 == 1) : (unsigned char)((i * 37 + 11) & 0xff);
  return x;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.dtype() == DType::String) return a.strings() == b.strings();
  return a.nbytes() == b.nbytes() && (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

bool same_graph(const Graph& a, const Graph& b, std::string& why);

bool same_attr(const Attribute& a, const Attribute& b, std::string& why) {
  if (a.kind != b.kind) return why = "attribute kind", false;
  using K = Attribute::Kind;
  switch (a.kind) {
    case K::Float: return a.f == b.f || (why = "float value", false);
    case K::Int: return a.i == b.i || (why = "int value", false);
    case K::String: return a.s == b.s || (why = "string value", false);
    case K::Tensor: return same_tensor(a.t, b.t) || (why = "tensor value", false);
    case K::Graph: return same_graph(*a.g, *b.g, why);
    case K::Floats: return a.floats == b.floats || (why = "floats", false);
    case K::Ints: return a.ints == b.ints || (why = "ints", false);
    case K::Strings: return a.strings == b.strings || (why = "strings", false);
    case K::Tensors:
      if (a.tensors.size() != b.tensors.size()) return why = "tensors count", false;
      for (size_t i = 0; i < a.tensors.size(); ++i)
        if (!same_tensor(a.tensors[i], b.tensors[i])) return why = "tensors", false;
      return true;
    case K::Graphs:
      if (a.graphs.size() != b.graphs.size()) return why = "graphs count", false;
      for (size_t i = 0; i < a.graphs.size(); ++i)
        if (!same_graph(*a.graphs[i], *b.graphs[i], why)) return false;
      return true;
  }
  return false;
}

bool same_values(const std::vector<ValueInfo>& a, const std::vector<ValueInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || !(a[i].type == b[i].type)) return false;
  return true;
}

bool same_graph(const Graph& a, const Graph& b, std::string& why) {
  if (!same_values(a.inputs, b.inputs)) return why = "inputs of " + a.name, false;
  if (!same_values(a.outputs, b.outputs)) return why = "outputs of " + a.name, false;
  if (a.opsets != b.opsets) return why = "opsets", false;
  if (a.value_types != b.value_types) return why = "value types of " + a.name, false;
  if (a.initializers.size() != b.initializers.size()) return why = "initializer count", false;
  for (const auto& [name, t] : a.initializers) {
    auto it = b.initializers.find(name);
    if (it == b.initializers.end() || !same_tensor(t, it->second)) return why = "initializer " + name, false;
  }
  if (a.nodes.size() != b.nodes.size()) return why = "node count", false;
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node& x = a.nodes[i];
    const Node& y = b.nodes[i];
    if (x.op_type != y.op_type || x.domain != y.domain || x.name != y.name || x.inputs != y.inputs ||
        x.outputs != y.outputs || x.attrs.size() != y.attrs.size())
      return why = "node " + x.name, false;
    for (const auto& [k, v] : x.attrs) {
      auto it = y.attrs.find(k);
      if (it == y.attrs.end()) return why = "attribute " + k + " of " + x.name, false;
      if (!same_attr(v, it->second, why)) return why += " of " + k + " in " + x.name, false;
    }
  }
  return true;
}

// ---- protobuf builders for test models ----

// dims: digits = fixed size, "?" = unknown, anything else = symbol.
void set_type(onnx::ValueInfoProto* v, const std::string& name, int elem,
              const std::vector<std::string>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (d == "?") continue;
    if (d.find_first_not_of("0123456789") == std::string::npos) dim->set_dim_value(std::stoll(d));
    else dim->set_dim_param(d);
  }
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op,
                          const std::vector<std::string>& in, const std::vector<std::string>& out,
                          const std::string& name = "") {
  auto* n = g->add_node();
  n->set_op_type(op);
  for (const auto& s : in) n->add_input(s);
  for (const auto& s : out) n->add_output(s);
  if (!name.empty()) n->set_name(name);
  return n;
}

onnx::AttributeProto* add_float_attr(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
  return a;
}

void add_float_init(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
                    const std::vector<float>& vals) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  for (float v : vals) t->add_float_data(v);
}

onnx::ModelProto base_model(int64_t ir = 8, int64_t opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(ir);
  m.set_producer_name("dnnf-test");
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(opset);
  m.mutable_graph()->set_name("test_graph");
  return m;
}

std::string serialize(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

// x[N,4] -> Relu -> Add(w) -> y, with w a [4] initializer.
onnx::ModelProto small_model() {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {"N", "4"});
  set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {"N", "4"});
  add_float_init(g, "w", {4}, {1, 2, 3, 4});
  add_node(g, "Relu", {"x"}, {"r"}, "relu");
  add_node(g, "Add", {"r", "w"}, {"y"});
  return m;
}

std::string models_dir() {
  if (const char* env = std::getenv("DNNF_MODELS")) return env;
  return DNNF_DEFAULT_MODELS_DIR;
}

size_t proto_node_count(const onnx::GraphProto& g) {
  size_t n = size_t(g.node_size());
  for (const auto& node : g.node())
    for (const auto& a : node.attribute()) {
      if (a.has_g()) n += proto_node_count(a.g());
      for (const auto& sg : a.graphs()) n += proto_node_count(sg);
    }
  return n;
}

bool python_onnx_available() {
  static const int rc = std::system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1");
  return rc == 0;
}

// Runs onnx.checker (full_check) on a file; returns "" on success, else its output.
std::string onnx_check(const std::string& path) {
  const std::string log = path + ".check.log";
  const std::string cmd =
      "/usr/bin/python3 -c \"import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
      "full_check=True)\" '" + path + "' >'" + log + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string out = read_bytes(log);
  fs::remove(log);
  return rc == 0 ? std::string() : (out.empty() ? "checker failed" : out);
}

}  // namespace

// ---------------------------------------------------------------- tensor files

TEST(OnnxIoTensor, PbRoundTripAllDtypes) {
  TempDir dir;
  for (DType t : kAllDTypes) {
    SCOPED_TRACE(dtype_name(t));
    for (const Shape& shape : {Shape{2, 3}, Shape{}, Shape{0, 4}}) {
      const Tensor x = pattern_tensor(t, shape);
      const std::string path = dir.file(std::string(dtype_name(t)) + ".pb");
      write_tensor_pb(x, "my_tensor", path);
      std::string name;
      const Tensor y = read_tensor_pb(path, &name);
      EXPECT_EQ(name, "my_tensor");
      EXPECT_TRUE(same_tensor(x, y)) << shape_str(shape);
      // Dispatch by extension gives the same.
      EXPECT_TRUE(same_tensor(x, read_tensor_file(path)));
    }
  }
}

TEST(OnnxIoTensor, NpyRoundTripAllDtypes) {
  TempDir dir;
  for (DType t : kAllDTypes) {
    SCOPED_TRACE(dtype_name(t));
    const std::string path = dir.file(std::string(dtype_name(t)) + ".npy");
    if (t == DType::BF16 || t == DType::String) {
      expect_error([&] { write_npy(pattern_tensor(t), path); }, {path, "NumPy"});
      continue;
    }
    for (const Shape& shape : {Shape{2, 3}, Shape{}, Shape{5}, Shape{2, 0}, Shape{1, 2, 3, 4}}) {
      const Tensor x = pattern_tensor(t, shape);
      write_npy(x, path);
      const std::string bytes = read_bytes(path);
      ASSERT_GE(bytes.size(), 10u);
      const size_t header = size_t((unsigned char)bytes[8]) | size_t((unsigned char)bytes[9]) << 8;
      EXPECT_EQ((10 + header) % 64, 0u) << "data not 64-byte aligned";
      EXPECT_TRUE(same_tensor(x, read_npy(path))) << shape_str(shape);
      std::string name = "unchanged";
      EXPECT_TRUE(same_tensor(x, read_tensor_file(path, &name)));
      EXPECT_EQ(name, "");
    }
  }
}

TEST(OnnxIoTensor, NpyHeaderVersionsAndErrors) {
  TempDir dir;
  auto make = [](int major, const std::string& dict, const std::string& data) {
    std::string header = dict;
    const size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::string out = std::string("\x93NUMPY", 6) + char(major) + '\0';
    for (size_t i = 0; i < prefix - 8; ++i) out += char((header.size() >> (8 * i)) & 0xff);
    return out + header + data;
  };
  const int32_t vals[3] = {7, -8, 9};
  const std::string data(reinterpret_cast<const char*>(vals), sizeof vals);
  for (int major : {1, 2, 3}) {
    const std::string p = dir.file("v" + std::to_string(major) + ".npy");
    write_bytes(p, make(major, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data));
    const Tensor t = read_npy(p);
    ASSERT_EQ(t.dtype(), DType::I32);
    ASSERT_EQ(t.shape(), Shape({3}));
    EXPECT_EQ(t.data<int32_t>()[1], -8);
  }
  // Double-quoted keys, no trailing comma, reordered keys.
  const std::string q = dir.file("quotes.npy");
  write_bytes(q, make(1, "{\"shape\": (1, 3), \"fortran_order\": False, \"descr\": \"=i4\"}", data));
  EXPECT_EQ(read_npy(q).shape(), Shape({1, 3}));

  const std::string f = dir.file("fortran.npy");
  write_bytes(f, make(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }", data));
  expect_error([&] { read_npy(f); }, {f, "Fortran"});
  const std::string be = dir.file("bigendian.npy");
  write_bytes(be, make(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }", data));
  expect_error([&] { read_npy(be); }, {be, "big-endian"});
  const std::string short_data = dir.file("short.npy");
  write_bytes(short_data, make(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", data));
  expect_error([&] { read_npy(short_data); }, {short_data, "data bytes"});
  const std::string unk = dir.file("complex.npy");
  write_bytes(unk, make(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data));
  expect_error([&] { read_npy(unk); }, {unk, "<c8"});
  const std::string v4 = dir.file("v4.npy");
  write_bytes(v4, make(4, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", data));
  expect_error([&] { read_npy(v4); }, {v4, "version"});
  const std::string huge = dir.file("huge.npy");
  write_bytes(huge, make(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }", data));
  expect_error([&] { read_npy(huge); }, {huge, "limit"});
}

TEST(OnnxIoTensor, NpyMatchesNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";
  TempDir dir;
  const std::string p = dir.file("np.npy");
  const std::string cmd = "/usr/bin/python3 -c \"import numpy as np; "
                          "np.save('" + p + "', np.arange(24, dtype=np.float16).reshape(2,3,4) / 4)\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const Tensor t = read_npy(p);
  ASSERT_EQ(t.dtype(), DType::F16);
  ASSERT_EQ(t.shape(), Shape({2, 3, 4}));
  EXPECT_FLOAT_EQ(half_to_float(t.data<uint16_t>()[23]), 23.0f / 4);
  // And numpy reads what dnnf writes.
  const std::string q = dir.file("dnnf.npy");
  Tensor x(DType::I64, {3, 2});
  for (int64_t i = 0; i < 6; ++i) x.data<int64_t>()[i] = i * 1000000000000LL - 5;
  write_npy(x, q);
  const std::string check = "/usr/bin/python3 -c \"import numpy as np; a=np.load('" + q +
                            "'); assert a.dtype==np.int64 and a.shape==(3,2) and a[2,1]==5000000000000-5\"";
  EXPECT_EQ(std::system(check.c_str()), 0);
}

TEST(OnnxIoTensor, TypedFieldsAllDtypes) {
  auto make = [](int code, std::vector<int64_t> dims) {
    onnx::TensorProto tp;
    tp.set_name("t");
    tp.set_data_type(code);
    for (auto d : dims) tp.add_dims(d);
    return tp;
  };
  using TP = onnx::TensorProto;
  {
    auto tp = make(TP::FLOAT, {2});
    tp.add_float_data(1.5f);
    tp.add_float_data(-2.0f);
    Tensor t = pbd::tensor_from_proto(tp, "", "t");
    EXPECT_EQ(t.data<float>()[1], -2.0f);
  }
  {
    auto tp = make(TP::DOUBLE, {2});
    tp.add_double_data(0.25);
    tp.add_double_data(-1e300);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<double>()[1], -1e300);
  }
  {
    auto tp = make(TP::INT64, {2});
    tp.add_int64_data(-5);
    tp.add_int64_data(int64_t(1) << 40);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<int64_t>()[1], int64_t(1) << 40);
  }
  {
    auto tp = make(TP::INT32, {2});
    tp.add_int32_data(-7);
    tp.add_int32_data(9);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<int32_t>()[0], -7);
  }
  {
    auto tp = make(TP::INT16, {2});
    tp.add_int32_data(-300);
    tp.add_int32_data(300);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<int16_t>()[0], -300);
  }
  {
    auto tp = make(TP::INT8, {2});
    tp.add_int32_data(-100);
    tp.add_int32_data(100);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<int8_t>()[0], -100);
  }
  {
    auto tp = make(TP::UINT8, {2});
    tp.add_int32_data(200);
    tp.add_int32_data(3);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<uint8_t>()[0], 200);
  }
  {
    auto tp = make(TP::UINT16, {2});
    tp.add_int32_data(60000);
    tp.add_int32_data(1);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<uint16_t>()[0], 60000);
  }
  {
    auto tp = make(TP::BOOL, {3});
    tp.add_int32_data(0);
    tp.add_int32_data(5);
    tp.add_int32_data(1);
    Tensor t = pbd::tensor_from_proto(tp, "", "t");
    EXPECT_EQ(t.data<uint8_t>()[0], 0);
    EXPECT_EQ(t.data<uint8_t>()[1], 1);
  }
  {
    auto tp = make(TP::FLOAT16, {2});
    tp.add_int32_data(float_to_half(1.5f));
    tp.add_int32_data(float_to_half(-2.0f));
    EXPECT_EQ(half_to_float(pbd::tensor_from_proto(tp, "", "t").data<uint16_t>()[1]), -2.0f);
  }
  {
    auto tp = make(TP::BFLOAT16, {1});
    tp.add_int32_data(float_to_bf16(3.0f));
    EXPECT_EQ(bf16_to_float(pbd::tensor_from_proto(tp, "", "t").data<uint16_t>()[0]), 3.0f);
  }
  {
    auto tp = make(TP::UINT32, {2});
    tp.add_uint64_data(4000000000u);
    tp.add_uint64_data(1);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<uint32_t>()[0], 4000000000u);
  }
  {
    auto tp = make(TP::UINT64, {1});
    tp.add_uint64_data(uint64_t(1) << 63);
    EXPECT_EQ(pbd::tensor_from_proto(tp, "", "t").data<uint64_t>()[0], uint64_t(1) << 63);
  }
  {
    auto tp = make(TP::STRING, {2});
    tp.add_string_data("a");
    tp.add_string_data(std::string("b\0c", 3));
    Tensor t = pbd::tensor_from_proto(tp, "", "t");
    EXPECT_EQ(t.strings()[1], std::string("b\0c", 3));
  }
  // Mismatched counts and sizes are errors, not crashes.
  {
    auto tp = make(TP::FLOAT, {3});
    tp.add_float_data(1);
    expect_error([&] { pbd::tensor_from_proto(tp, "", "tensor 'q'"); }, {"tensor 'q'", "float_data"});
  }
  {
    auto tp = make(TP::INT64, {2});
    tp.set_raw_data(std::string(15, '\0'));
    expect_error([&] { pbd::tensor_from_proto(tp, "", "tensor 'q'"); }, {"raw_data", "15"});
  }
  {
    auto tp = make(TP::FLOAT, {2});
    expect_error([&] { pbd::tensor_from_proto(tp, "", "tensor 'q'"); }, {"tensor 'q'"});
  }
  {
    auto tp = make(14 /* complex64 */, {1});
    expect_error([&] { pbd::tensor_from_proto(tp, "", "tensor 'q'"); }, {"complex64"});
  }
  {
    auto tp = make(TP::FLOAT, {-1});
    expect_error([&] { pbd::tensor_from_proto(tp, "", "tensor 'q'"); }, {"negative"});
  }
}

TEST(OnnxIoTensor, HugeTensorRefusedWithoutAllocating) {
  onnx::TensorProto tp;
  tp.set_name("huge");
  tp.set_data_type(onnx::TensorProto::FLOAT);
  tp.add_dims(int64_t(1) << 20);
  tp.add_dims(int64_t(1) << 20);  // 2^40 elements = 4 TiB
  tp.set_raw_data(std::string(16, '\0'));
  expect_error([&] { pbd::tensor_from_proto(tp, "", "initializer 'huge'"); },
               {"initializer 'huge'", "limit"});
  // Overflowing element counts are refused too.
  onnx::TensorProto over = tp;
  over.add_dims(int64_t(1) << 40);
  expect_error([&] { pbd::tensor_from_proto(over, "", "initializer 'huge'"); }, {"initializer 'huge'"});
  // The same through a whole model file.
  TempDir dir;
  onnx::ModelProto m = small_model();
  *m.mutable_graph()->add_initializer() = tp;
  const std::string p = dir.file("huge.onnx");
  write_bytes(p, serialize(m));
  expect_error([&] { load_model(p); }, {p, "initializer 'huge'", "limit"});
}

TEST(OnnxIoTensor, BadFiles) {
  TempDir dir;
  const std::string good_pb = dir.file("good.pb");
  write_tensor_pb(pattern_tensor(DType::F32, {64}), "x", good_pb);
  const std::string bytes = read_bytes(good_pb);
  const std::string trunc = dir.file("trunc.pb");
  write_bytes(trunc, bytes.substr(0, bytes.size() / 2));
  expect_error([&] { read_tensor_pb(trunc); }, {trunc});
  const std::string empty = dir.file("empty.pb");
  write_bytes(empty, "");
  expect_error([&] { read_tensor_file(empty); }, {empty, "empty"});
  const std::string missing = dir.file("missing.pb");
  expect_error([&] { read_tensor_file(missing); }, {missing, "no such file"});
  expect_error([&] { read_tensor_file(dir.path().string()); }, {dir.path().string(), "directory"});
  std::mt19937 rng(42);
  for (int k = 0; k < 50; ++k) {
    std::string junk(size_t(1 + rng() % 300), '\0');
    for (char& c : junk) c = char(rng());
    const std::string p = dir.file("junk" + std::to_string(k) + ".pb");
    write_bytes(p, junk);
    try {
      (void)read_tensor_pb(p);  // may legitimately parse as some tiny tensor
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
    const std::string q = dir.file("junk" + std::to_string(k) + ".npy");
    write_bytes(q, std::string("\x93NUMPY", 6) + junk);
    try {
      (void)read_npy(q);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(q), std::string::npos) << e.what();
    }
  }
  const std::string npy_trunc = dir.file("trunc.npy");
  write_npy(pattern_tensor(DType::F64, {10}), npy_trunc);
  const std::string nb = read_bytes(npy_trunc);
  write_bytes(npy_trunc, nb.substr(0, nb.size() - 5));
  expect_error([&] { read_tensor_file(npy_trunc); }, {npy_trunc});
  write_bytes(npy_trunc, nb.substr(0, 9));
  expect_error([&] { read_npy(npy_trunc); }, {npy_trunc});
}

// ---------------------------------------------------------------- import

TEST(OnnxIoImport, SmallModelFields) {
  onnx::ModelProto m = small_model();
  m.set_producer_version("1.2.3");
  m.set_domain("org.test");
  m.set_model_version(42);
  auto* kv = m.add_metadata_props();
  kv->set_key("author");
  kv->set_value("me");
  auto* os = m.add_opset_import();
  os->set_domain("com.microsoft");
  os->set_version(1);
  const Model model = parse_model(serialize(m), "", "mem.onnx");
  EXPECT_EQ(model.ir_version, 8);
  EXPECT_EQ(model.producer_name, "dnnf-test");
  EXPECT_EQ(model.producer_version, "1.2.3");
  EXPECT_EQ(model.domain, "org.test");
  EXPECT_EQ(model.model_version, 42);
  EXPECT_EQ(model.metadata.at("author"), "me");
  EXPECT_EQ(model.source_path, "mem.onnx");
  const Graph& g = model.graph;
  EXPECT_EQ(g.name, "test_graph");
  EXPECT_EQ(g.opset(""), 13);
  EXPECT_EQ(g.opset("com.microsoft"), 1);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "x");
  ASSERT_EQ(g.inputs[0].type.dims.size(), 2u);
  EXPECT_EQ(g.inputs[0].type.dims[0].symbol, "N");
  EXPECT_FALSE(g.inputs[0].type.dims[0].known());
  EXPECT_EQ(g.inputs[0].type.dims[1].value, 4);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].name, "relu");
  EXPECT_EQ(g.nodes[1].name, "Add_1");  // assigned: <op>_<index>
  EXPECT_EQ(g.nodes[0].id, 0);
  EXPECT_EQ(g.nodes[1].id, 1);
  ASSERT_TRUE(g.initializers.count("w"));
  EXPECT_EQ(g.initializers.at("w").data<float>()[3], 4.0f);
  EXPECT_EQ(g.value_types.at("y").str(), "float32[N,4]");
  EXPECT_TRUE(g.doc.empty());
}

TEST(OnnxIoImport, UnknownDimsAndNewerIr) {
  onnx::ModelProto m = small_model();
  m.set_ir_version(13);
  m.mutable_graph()->mutable_input(0)->Clear();
  set_type(m.mutable_graph()->mutable_input(0), "x", onnx::TensorProto::FLOAT, {"?", "4"});
  const Model model = parse_model(serialize(m), "", "new.onnx");
  const Dim& d = model.graph.inputs[0].type.dims[0];
  EXPECT_FALSE(d.known());
  EXPECT_EQ(d.symbol, "");
  ASSERT_TRUE(model.graph.doc.count("import.ir_version"));
  EXPECT_NE(model.graph.doc.at("import.ir_version").find("13"), std::string::npos);
  m.set_ir_version(2);
  expect_error([&] { parse_model(serialize(m), "", "old.onnx"); }, {"old.onnx", "IR version 2"});
}

TEST(OnnxIoImport, TopoSortsAndAssignsFileOrderIds) {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {"3"});
  set_type(g->add_output(), "z", onnx::TensorProto::FLOAT, {"3"});
  add_node(g, "Neg", {"y"}, {"z"});  // consumer listed first
  add_node(g, "Relu", {"x"}, {"y"});
  const Model model = parse_model(serialize(m), "", "order.onnx");
  ASSERT_EQ(model.graph.nodes.size(), 2u);
  EXPECT_EQ(model.graph.nodes[0].op_type, "Relu");
  EXPECT_EQ(model.graph.nodes[0].id, 1);  // ids follow the file order
  EXPECT_EQ(model.graph.nodes[1].name, "Neg_0");
  EXPECT_EQ(model.graph.nodes[1].id, 0);
  // A cycle and an undefined input are errors naming the file.
  add_node(g, "Abs", {"z"}, {"y"});
  expect_error([&] { parse_model(serialize(m), "", "cycle.onnx"); }, {"cycle.onnx"});
  onnx::ModelProto u = small_model();
  u.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
  expect_error([&] { parse_model(serialize(u), "", "undef.onnx"); }, {"undef.onnx", "nowhere"});
}

TEST(OnnxIoImport, RedefinedConstantLastWins) {
  onnx::ModelProto m = base_model();
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "x", onnx::TensorProto::INT64, {"1"});
  set_type(g->add_output(), "y", onnx::TensorProto::INT64, {"1"});
  auto constant = [&](int64_t v) {
    auto* n = add_node(g, "Constant", {}, {"k"});
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
    a->mutable_t()->add_int64_data(v);
  };
  constant(12);
  add_node(g, "Div", {"x", "k"}, {"y"});
  constant(2);  // appended later: this definition is the one in force
  const Model model = parse_model(serialize(m), "", "redef.onnx");
  ASSERT_EQ(model.graph.nodes.size(), 3u);
  const Node* live = nullptr;
  for (const Node& n : model.graph.nodes)
    if (n.op_type == "Constant" && n.outputs[0] == "k") live = &n;
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->attr("value")->t.data<int64_t>()[0], 2);
  EXPECT_TRUE(model.graph.doc.count("import.redefined_constants"));
  // A value produced twice by other ops stays an error.
  onnx::ModelProto bad = small_model();
  add_node(bad.mutable_graph(), "Neg", {"x"}, {"r"});
  expect_error([&] { parse_model(serialize(bad), "", "dup.onnx"); }, {"dup.onnx", "'r'"});
}

TEST(OnnxIoImport, InitializersListedAsInputs) {
  onnx::ModelProto m = small_model();
  m.set_ir_version(3);
  set_type(m.mutable_graph()->add_input(), "w", onnx::TensorProto::FLOAT, {"4"});
  const std::string bytes = serialize(m);
  const Model def = parse_model(bytes, "", "ir3.onnx");
  ASSERT_EQ(def.graph.inputs.size(), 1u);
  EXPECT_EQ(def.graph.inputs[0].name, "x");
  EXPECT_TRUE(def.graph.is_constant("w"));
  ImportOptions opts;
  opts.initializers_as_inputs = true;
  const Model over = parse_model(bytes, "", "ir3.onnx", opts);
  ASSERT_EQ(over.graph.inputs.size(), 2u);
  EXPECT_EQ(over.graph.inputs[1].name, "w");
  EXPECT_EQ(over.graph.inputs[1].type.str(), "float32[4]");
  EXPECT_TRUE(over.graph.initializers.count("w"));  // kept as the default value
}

TEST(OnnxIoImport, NonTensorTypesRejected) {
  onnx::ModelProto m = small_model();
  auto* seq = m.mutable_graph()->add_input();
  seq->set_name("s");
  seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  expect_error([&] { parse_model(serialize(m), "", "seq.onnx"); },
               {"seq.onnx", "value 's' has a sequence type, which dnnf does not support"});
  onnx::ModelProto o = small_model();
  auto* opt = o.mutable_graph()->add_value_info();
  opt->set_name("r");
  opt->mutable_type()->mutable_optional_type();
  expect_error([&] { parse_model(serialize(o), "", "opt.onnx"); }, {"value 'r' has an optional type"});
  onnx::ModelProto c = small_model();
  c.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(14);
  expect_error([&] { parse_model(serialize(c), "", "cplx.onnx"); }, {"complex64"});
}

TEST(OnnxIoImport, BadFiles) {
  TempDir dir;
  const std::string good = dir.file("good.onnx");
  write_bytes(good, serialize(small_model()));
  ASSERT_EQ(load_model(good).graph.nodes.size(), 2u);
  const std::string bytes = read_bytes(good);

  const std::string trunc = dir.file("trunc.onnx");
  write_bytes(trunc, bytes.substr(0, bytes.size() - 7));
  expect_error([&] { load_model(trunc); }, {"cannot parse '" + trunc + "' as an ONNX model"});
  const std::string empty = dir.file("empty.onnx");
  write_bytes(empty, "");
  expect_error([&] { load_model(empty); }, {empty, "empty"});
  const std::string missing = dir.file("missing.onnx");
  expect_error([&] { load_model(missing); }, {missing, "no such file"});
  expect_error([&] { load_model(dir.path().string()); }, {dir.path().string(), "directory"});
  ImportOptions small;
  small.max_file_bytes = 16;
  expect_error([&] { load_model(good, small); }, {good, "limit"});
  expect_error([&] { parse_model(bytes, "", "mem.onnx", small); }, {"mem.onnx", "limit"});

  std::mt19937 rng(7);
  for (int k = 0; k < 200; ++k) {
    std::string junk(size_t(1 + rng() % 512), '\0');
    for (char& c : junk) c = char(rng());
    const std::string p = dir.file("junk.onnx");
    write_bytes(p, junk);
    expect_error([&] { load_model(p); }, {p});
  }
  // Every truncation of a real model fails cleanly.
  for (size_t cut = 1; cut < bytes.size(); cut += 3) {
    try {
      (void)parse_model(bytes.substr(0, cut), "", "cut.onnx");
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("cut.onnx"), std::string::npos);
    }
  }
  // Flipped bytes inside a valid model: errors or a model, never a crash.
  for (int k = 0; k < 300; ++k) {
    std::string b = bytes;
    b[rng() % b.size()] = char(rng());
    try {
      (void)parse_model(b, "", "flip.onnx");
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("flip.onnx"), std::string::npos);
    }
  }
}

TEST(OnnxIoImport, ModelOver64MiB) {
  // protobuf's old default limit was 64 MiB; the importer must raise it.
  TempDir dir;
  onnx::ModelProto m = small_model();
  const int64_t n = int64_t(20) << 20;  // 20 Mi floats = 80 MiB
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("big");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(n);
  std::string raw(size_t(n) * 4, '\0');
  for (int64_t i = 0; i < n; i += 4096) reinterpret_cast<float*>(raw.data())[i] = float(i);
  t->set_raw_data(std::move(raw));
  const std::string p = dir.file("big.onnx");
  write_bytes(p, serialize(m));
  ASSERT_GT(fs::file_size(p), size_t(64) << 20);
  const auto t0 = std::chrono::steady_clock::now();
  const Model model = load_model(p);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ onnx_io  ] 80 MiB model loaded in " << ms << " ms\n";
  const Tensor& big = model.graph.initializers.at("big");
  ASSERT_EQ(big.numel(), n);
  EXPECT_EQ(big.data<float>()[4096 * 100], float(4096 * 100));
  ImportOptions small;
  small.max_file_bytes = int64_t(64) << 20;
  expect_error([&] { load_model(p, small); }, {p, "limit"});
}

TEST(OnnxIoImport, ExternalData) {
  TempDir dir;
  const std::vector<float> w = {1.5f, -2.5f, 3.25f, 4.0f};
  const std::vector<int64_t> shape_vals = {2, 2};
  {
    std::string blob(100, 'x');  // padding before the data
    blob.append(reinterpret_cast<const char*>(w.data()), w.size() * 4);
    blob.append(reinterpret_cast<const char*>(shape_vals.data()), 16);
    fs::create_directories(dir.path() / "weights");
    write_bytes(dir.file("weights/data.bin"), blob);
  }
  auto make = [&](const std::string& location, const std::string& offset, const std::string& length) {
    onnx::ModelProto m = base_model();
    auto* g = m.mutable_graph();
    set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {"2", "2"});
    set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {"2", "2"});
    auto* t = g->add_initializer();
    t->set_name("w");
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(4);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    auto add_kv = [&](const std::string& k, const std::string& v) {
      auto* kv = t->add_external_data();
      kv->set_key(k);
      kv->set_value(v);
    };
    add_kv("location", location);
    if (!offset.empty()) add_kv("offset", offset);
    if (!length.empty()) add_kv("length", length);
    auto* s = g->add_initializer();
    s->set_name("shape");
    s->set_data_type(onnx::TensorProto::INT64);
    s->add_dims(2);
    s->set_data_location(onnx::TensorProto::EXTERNAL);
    auto* kv = s->add_external_data();
    kv->set_key("location");
    kv->set_value("weights/data.bin");
    kv = s->add_external_data();
    kv->set_key("offset");
    kv->set_value("116");
    add_node(g, "Add", {"x", "w"}, {"a"});  // broadcast-free: reshape w first
    g->mutable_node(0)->set_input(1, "w2");
    add_node(g, "Reshape", {"w", "shape"}, {"w2"});
    add_node(g, "Identity", {"a"}, {"y"});
    return m;
  };
  const std::string p = dir.file("ext.onnx");
  write_bytes(p, serialize(make("weights/data.bin", "100", "16")));
  const Model model = load_model(p);
  const Tensor& t = model.graph.initializers.at("w");
  ASSERT_EQ(t.shape(), Shape({4}));
  EXPECT_EQ(t.data<float>()[0], 1.5f);
  EXPECT_EQ(t.data<float>()[3], 4.0f);
  EXPECT_EQ(model.graph.initializers.at("shape").data<int64_t>()[1], 2);

  // Loaded through a relative path too (base directory resolution).
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  EXPECT_NO_THROW(load_model("ext.onnx"));
  fs::current_path(cwd);

  // Export embeds the data; the re-imported model is identical.
  const Model again = parse_model(serialize_model(model), "", "mem.onnx");
  std::string why;
  EXPECT_TRUE(same_graph(model.graph, again.graph, why)) << why;

  struct Bad {
    std::string location, offset, length, needle;
  };
  const std::vector<Bad> bads = {
      {"../data.bin", "100", "16", "escapes"},
      {"/etc/passwd", "", "", "escapes"},
      {"weights/../../x.bin", "", "", "escapes"},
      {"weights/none.bin", "", "", "does not exist"},
      {"weights", "", "", "not a regular file"},
      {"weights/data.bin", "120", "16", "runs past the end"},
      {"weights/data.bin", "100", "12", "length"},
      {"weights/data.bin", "-4", "", "offset"},
      {"weights/data.bin", "abc", "", "offset"},
      {"", "", "", "location"},
  };
  for (const Bad& b : bads) {
    SCOPED_TRACE(b.location + " " + b.offset + " " + b.length);
    const std::string q = dir.file("bad.onnx");
    write_bytes(q, serialize(make(b.location, b.offset, b.length)));
    expect_error([&] { load_model(q); }, {q, "initializer 'w'", b.needle});
  }
  // From memory there is no directory to resolve external data against.
  expect_error([&] { parse_model(serialize(make("weights/data.bin", "100", "16")), "", "mem.onnx"); },
               {"mem.onnx", "external data"});
}

TEST(OnnxIoImport, IfSubgraph) {
  onnx::ModelProto m = base_model(8, 13);
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "cond", onnx::TensorProto::BOOL, {});
  set_type(g->add_input(), "x", onnx::TensorProto::FLOAT, {"B", "3"});
  set_type(g->add_output(), "y", onnx::TensorProto::FLOAT, {"B", "3"});
  add_float_init(g, "bias", {3}, {1, 2, 3});
  auto* iff = add_node(g, "If", {"cond"}, {"y"}, "branch");
  auto* then_attr = iff->add_attribute();
  then_attr->set_name("then_branch");
  then_attr->set_type(onnx::AttributeProto::GRAPH);
  auto* tg = then_attr->mutable_g();
  tg->set_name("then");
  add_float_init(tg, "two", {}, {2});
  add_node(tg, "Mul", {"x2", "two"}, {"t_out"});
  add_node(tg, "Add", {"x", "x"}, {"x2"});  // out of order inside the subgraph
  set_type(tg->add_output(), "t_out", onnx::TensorProto::FLOAT, {"B", "3"});
  auto* else_attr = iff->add_attribute();
  else_attr->set_name("else_branch");
  else_attr->set_type(onnx::AttributeProto::GRAPH);
  auto* eg = else_attr->mutable_g();
  eg->set_name("else");
  add_node(eg, "Sub", {"x", "bias"}, {"e_out"});
  set_type(eg->add_output(), "e_out", onnx::TensorProto::FLOAT, {"B", "3"});

  const Model model = parse_model(serialize(m), "", "if.onnx");
  ASSERT_EQ(model.graph.nodes.size(), 1u);
  const Node& n = model.graph.nodes[0];
  ASSERT_TRUE(n.attr("then_branch") && n.attr("then_branch")->kind == Attribute::Kind::Graph);
  const Graph& then_g = *n.attr("then_branch")->g;
  EXPECT_EQ(then_g.name, "then");
  ASSERT_EQ(then_g.nodes.size(), 2u);
  EXPECT_EQ(then_g.nodes[0].op_type, "Add");  // sorted with the outer scope visible
  EXPECT_EQ(then_g.initializers.at("two").data<float>()[0], 2.0f);
  ASSERT_EQ(then_g.outputs.size(), 1u);
  EXPECT_EQ(then_g.outputs[0].type.str(), "float32[B,3]");
  EXPECT_EQ(n.attr("else_branch")->g->nodes[0].op_type, "Sub");
  EXPECT_EQ(count_nodes_recursive(model.graph), 4u);

  // Round trip keeps the subgraphs.
  const Model again = parse_model(serialize_model(model), "", "again.onnx");
  std::string why;
  EXPECT_TRUE(same_graph(model.graph, again.graph, why)) << why;

  // A subgraph reading a value nothing defines is an error naming it.
  eg->mutable_node(0)->set_input(1, "ghost");
  expect_error([&] { parse_model(serialize(m), "", "ghost.onnx"); }, {"ghost.onnx", "ghost"});
}

namespace {

// Local function "custom.Scale"(X, Y) -> (Z) with attributes alpha (no default) and
// beta (default 2.0 via attribute_proto, a field newer than Debian's onnx.proto):
//   t = Mul(X, Y); u = LeakyRelu(t, alpha=@alpha); Z = Elu(u, alpha=@beta)
void add_scale_function(onnx::ModelProto& m) {
  auto* f = m.add_functions();
  f->set_name("Scale");
  f->set_domain("custom");
  f->add_input("X");
  f->add_input("Y");
  f->add_output("Z");
  f->add_attribute("alpha");
  auto* os = f->add_opset_import();
  os->set_domain("");
  os->set_version(13);
  onnx::GraphProto body;  // build nodes through a GraphProto helper
  add_node(&body, "Mul", {"X", "Y"}, {"t"});
  auto* lr = add_node(&body, "LeakyRelu", {"t"}, {"u"}, "lrelu");
  auto* a = lr->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_ref_attr_name("alpha");
  auto* elu = add_node(&body, "Elu", {"u"}, {"Z"});
  a = elu->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_ref_attr_name("beta");
  for (const auto& n : body.node()) *f->add_node() = n;
  onnx::AttributeProto beta_default;
  beta_default.set_name("beta");
  beta_default.set_type(onnx::AttributeProto::FLOAT);
  beta_default.set_f(2.0f);
  f->mutable_unknown_fields()->AddLengthDelimited(11, beta_default.SerializeAsString());
}

}  // namespace

TEST(OnnxIoImport, LocalFunctionsAreInlined) {
  onnx::ModelProto m = base_model(8, 13);
  auto* os = m.add_opset_import();
  os->set_domain("custom");
  os->set_version(1);
  add_scale_function(m);
  // "Twice"(A) -> (B) = Scale(Scale(A, A), A) with alpha forwarded: a nested call.
  auto* tw = m.add_functions();
  tw->set_name("Twice");
  tw->set_domain("custom");
  tw->add_input("A");
  tw->add_output("B");
  tw->add_attribute("alpha");
  {
    onnx::GraphProto body;
    auto* c1 = add_node(&body, "Scale", {"A", "A"}, {"mid"});
    c1->set_domain("custom");
    auto* r = c1->add_attribute();
    r->set_name("alpha");
    r->set_type(onnx::AttributeProto::FLOAT);
    r->set_ref_attr_name("alpha");
    auto* c2 = add_node(&body, "Scale", {"mid", "A"}, {"B"});
    c2->set_domain("custom");
    add_float_attr(c2, "alpha", 0.125f);
    for (const auto& n : body.node()) *tw->add_node() = n;
  }
  auto* g = m.mutable_graph();
  set_type(g->add_input(), "a", onnx::TensorProto::FLOAT, {"4"});
  set_type(g->add_input(), "b", onnx::TensorProto::FLOAT, {"4"});
  set_type(g->add_output(), "d", onnx::TensorProto::FLOAT, {"4"});
  set_type(g->add_output(), "e", onnx::TensorProto::FLOAT, {"4"});
  add_node(g, "Relu", {"a"}, {"t"}, "uses_t");  // clashes with the function's internal "t"
  auto* c1 = add_node(g, "Scale", {"t", "b"}, {"c"}, "call1");
  c1->set_domain("custom");
  add_float_attr(c1, "alpha", 0.5f);
  auto* c2 = add_node(g, "Scale", {"c", "b"}, {"d"});
  c2->set_domain("custom");
  add_float_attr(c2, "alpha", 0.25f);
  add_float_attr(c2, "beta", 3.0f);
  auto* c3 = add_node(g, "Twice", {"d"}, {"e"}, "twice");
  c3->set_domain("custom");
  add_float_attr(c3, "alpha", 0.75f);

  const Model model = parse_model(serialize(m), "", "fn.onnx");
  const Graph& gr = model.graph;
  std::vector<std::string> ops;
  for (const Node& n : gr.nodes) {
    ops.push_back(n.op_type);
    EXPECT_EQ(n.domain, "") << n.name;
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"Relu", "Mul", "LeakyRelu", "Elu", "Mul", "LeakyRelu",
                                           "Elu", "Mul", "LeakyRelu", "Elu", "Mul", "LeakyRelu", "Elu"}));
  // Attributes bound per call (alpha from the call, beta from the call or its default).
  EXPECT_EQ(gr.nodes[2].attr_float("alpha", -1), 0.5f);
  EXPECT_EQ(gr.nodes[3].attr_float("alpha", -1), 2.0f);
  EXPECT_EQ(gr.nodes[5].attr_float("alpha", -1), 0.25f);
  EXPECT_EQ(gr.nodes[6].attr_float("alpha", -1), 3.0f);
  EXPECT_EQ(gr.nodes[8].attr_float("alpha", -1), 0.75f);  // forwarded through Twice
  EXPECT_EQ(gr.nodes[11].attr_float("alpha", -1), 0.125f);
  for (const Node& n : gr.nodes)
    for (const auto& [k, a] : n.attrs) EXPECT_EQ(a.kind, Attribute::Kind::Float);
  // Wiring: formal inputs/outputs map to the call's values; internals are fresh names.
  EXPECT_EQ(gr.nodes[1].inputs, (std::vector<std::string>{"t", "b"}));
  EXPECT_NE(gr.nodes[1].outputs[0], "t");
  EXPECT_NE(gr.nodes[1].outputs[0], gr.nodes[4].outputs[0]);
  EXPECT_EQ(gr.nodes[3].outputs[0], "c");
  EXPECT_EQ(gr.nodes[4].inputs[0], "c");
  EXPECT_EQ(gr.nodes[12].outputs[0], "e");
  EXPECT_EQ(gr.nodes[2].name, "call1/lrelu");
  std::set<std::string> names;
  for (const Node& n : gr.nodes) EXPECT_TRUE(names.insert(n.name).second) << "duplicate " << n.name;
  // A recursive function is refused, not a stack overflow.
  onnx::ModelProto r = base_model();
  auto* rf = r.add_functions();
  rf->set_name("Loopy");
  rf->set_domain("custom");
  rf->add_input("X");
  rf->add_output("Y");
  auto* self = rf->add_node();
  self->set_op_type("Loopy");
  self->set_domain("custom");
  self->add_input("X");
  self->add_output("Y");
  auto* rg = r.mutable_graph();
  set_type(rg->add_input(), "x", onnx::TensorProto::FLOAT, {"1"});
  set_type(rg->add_output(), "y", onnx::TensorProto::FLOAT, {"1"});
  auto* call = add_node(rg, "Loopy", {"x"}, {"y"});
  call->set_domain("custom");
  expect_error([&] { parse_model(serialize(r), "", "rec.onnx"); }, {"rec.onnx", "Loopy"});
}

TEST(OnnxIoImport, AttributeKinds) {
  onnx::ModelProto m = base_model(8, 13);
  auto* g = m.mutable_graph();
  set_type(g->add_output(), "c", onnx::TensorProto::INT64, {"2"});
  auto* n = add_node(g, "Constant", {}, {"c"});
  auto* a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  a->mutable_t()->add_dims(2);
  a->mutable_t()->add_int64_data(5);
  a->mutable_t()->add_int64_data(-6);
  // A made-up op carrying every other kind (the importer does not check op schemas).
  set_type(g->add_output(), "o", onnx::TensorProto::FLOAT, {});
  auto* k = add_node(g, "AllKinds", {}, {"o"});
  k->set_domain("test.kinds");
  auto add = [&](const std::string& name, onnx::AttributeProto::AttributeType t) {
    auto* x = k->add_attribute();
    x->set_name(name);
    x->set_type(t);
    return x;
  };
  add("f", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  add("i", onnx::AttributeProto::INT)->set_i(-3);
  add("s", onnx::AttributeProto::STRING)->set_s("hello");
  auto* fl = add("fs", onnx::AttributeProto::FLOATS);
  fl->add_floats(1);
  fl->add_floats(2);
  auto* il = add("is", onnx::AttributeProto::INTS);
  il->add_ints(7);
  auto* sl = add("ss", onnx::AttributeProto::STRINGS);
  sl->add_strings("a");
  sl->add_strings("b");
  auto* tl = add("ts", onnx::AttributeProto::TENSORS);
  pbd::tensor_to_proto(pattern_tensor(DType::F16, {3}), "", tl->add_tensors());
  auto* gl = add("gs", onnx::AttributeProto::GRAPHS);
  auto* sub = gl->add_graphs();
  sub->set_name("sub");
  add_node(sub, "Identity", {"c"}, {"sub_out"});
  set_type(sub->add_output(), "sub_out", onnx::TensorProto::INT64, {"2"});
  auto* untyped = k->add_attribute();  // IR<3 style: no type field
  untyped->set_name("legacy");
  untyped->add_ints(1);
  untyped->add_ints(2);
  auto* os = m.add_opset_import();
  os->set_domain("test.kinds");
  os->set_version(1);

  const Model model = parse_model(serialize(m), "", "kinds.onnx");
  const Node& c = model.graph.nodes[0];
  EXPECT_EQ(c.attr("value")->t.data<int64_t>()[1], -6);
  const Node& x = model.graph.nodes[1];
  EXPECT_EQ(x.attr_float("f", 0), 0.5f);
  EXPECT_EQ(x.attr_int("i", 0), -3);
  EXPECT_EQ(x.attr_string("s", ""), "hello");
  EXPECT_EQ(x.attr_floats("fs"), (std::vector<float>{1, 2}));
  EXPECT_EQ(x.attr_ints("is"), (std::vector<int64_t>{7}));
  EXPECT_EQ(x.attr("ss")->strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(x.attr("ts")->tensors.at(0).dtype(), DType::F16);
  ASSERT_EQ(x.attr("gs")->graphs.size(), 1u);
  EXPECT_EQ(x.attr("gs")->graphs[0]->nodes[0].op_type, "Identity");
  EXPECT_EQ(x.attr_ints("legacy"), (std::vector<int64_t>{1, 2}));

  const Model again = parse_model(serialize_model(model), "", "again.onnx");
  std::string why;
  EXPECT_TRUE(same_graph(model.graph, again.graph, why)) << why;

  // Refused kinds name the attribute.
  auto* tp = add("types", onnx::AttributeProto::TYPE_PROTO);
  tp->mutable_tp()->mutable_tensor_type()->set_elem_type(1);
  expect_error([&] { parse_model(serialize(m), "", "tp.onnx"); }, {"tp.onnx", "'types'"});
  k->mutable_attribute()->RemoveLast();
  auto* ref = add("r", onnx::AttributeProto::FLOAT);
  ref->set_ref_attr_name("outer");
  expect_error([&] { parse_model(serialize(m), "", "ref.onnx"); }, {"ref.onnx", "outside a function"});
}

TEST(OnnxIoImport, SparseConstantBecomesDense) {
  onnx::ModelProto m = base_model(8, 13);
  auto* g = m.mutable_graph();
  set_type(g->add_output(), "c", onnx::TensorProto::FLOAT, {"2", "3"});
  auto* n = add_node(g, "Constant", {}, {"c"});
  auto* a = n->add_attribute();
  a->set_name("sparse_value");
  a->set_type(onnx::AttributeProto::SPARSE_TENSOR);
  auto* sp = a->mutable_sparse_tensor();
  sp->add_dims(2);
  sp->add_dims(3);
  sp->mutable_values()->set_data_type(onnx::TensorProto::FLOAT);
  sp->mutable_values()->add_dims(2);
  sp->mutable_values()->add_float_data(7);
  sp->mutable_values()->add_float_data(9);
  sp->mutable_indices()->set_data_type(onnx::TensorProto::INT64);
  sp->mutable_indices()->add_dims(2);
  sp->mutable_indices()->add_int64_data(1);
  sp->mutable_indices()->add_int64_data(5);
  const Model model = parse_model(serialize(m), "", "sparse.onnx");
  const Tensor& t = model.graph.nodes[0].attr("value")->t;
  ASSERT_EQ(t.shape(), Shape({2, 3}));
  EXPECT_EQ(t.data<float>()[0], 0.0f);
  EXPECT_EQ(t.data<float>()[1], 7.0f);
  EXPECT_EQ(t.data<float>()[5], 9.0f);
  sp->mutable_indices()->set_int64_data(1, 6);
  expect_error([&] { parse_model(serialize(m), "", "sparse.onnx"); }, {"sparse.onnx", "out of range"});
}

// ---------------------------------------------------------------- export

TEST(OnnxIoExport, SerializeWritesValidModel) {
  Model model = parse_model(serialize(small_model()), "", "small.onnx");
  model.graph.value_types["r"] = TensorType(DType::F32, std::vector<Dim>{Dim::sym("N"), Dim(4)});
  onnx::ModelProto mp;
  ASSERT_TRUE(mp.ParseFromString(serialize_model(model)));
  EXPECT_EQ(mp.ir_version(), 8);
  ASSERT_EQ(mp.opset_import_size(), 1);
  EXPECT_EQ(mp.opset_import(0).version(), 13);
  EXPECT_EQ(mp.graph().node_size(), 2);
  EXPECT_EQ(mp.graph().initializer(0).raw_data().size(), 16u);
  ASSERT_EQ(mp.graph().value_info_size(), 1);
  EXPECT_EQ(mp.graph().value_info(0).type().tensor_type().shape().dim(0).dim_param(), "N");
  EXPECT_EQ(mp.graph().input(0).type().tensor_type().shape().dim(1).dim_value(), 4);

  // IR version follows what the opset needs (opset 18 -> IR 8, 21 -> 10; never below 7).
  model.ir_version = 3;
  model.graph.opsets[""] = 11;
  ASSERT_TRUE(mp.ParseFromString(serialize_model(model)));
  EXPECT_EQ(mp.ir_version(), 7);
  model.graph.opsets[""] = 21;
  ASSERT_TRUE(mp.ParseFromString(serialize_model(model)));
  EXPECT_EQ(mp.ir_version(), 10);

  TempDir dir;
  const std::string p = dir.file("out.onnx");
  model.graph.opsets[""] = 13;
  save_model(model, p);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  const Model back = load_model(p);
  std::string why;
  EXPECT_TRUE(same_graph(model.graph, back.graph, why)) << why;
  expect_error([&] { save_model(model, dir.file("no/such/dir/x.onnx")); }, {"no/such/dir"});
}

TEST(OnnxIoExport, CheckerAcceptsExports) {
  if (!python_onnx_available()) GTEST_SKIP() << "/usr/bin/python3 with onnx is not available";
  TempDir dir;
  std::vector<std::string> sources;
  const std::string mdir = models_dir();
  for (const char* rel : {"cnn/light_resnet50.onnx", "transformer/bert_toy_unfused.onnx",
                          "detect/ultraface-version-RFB-320.onnx"})
    if (fs::exists(fs::path(mdir) / rel)) sources.push_back((fs::path(mdir) / rel).string());
  {
    const std::string p = dir.file("small.onnx");
    write_bytes(p, serialize(small_model()));
    sources.push_back(p);
  }
  for (const std::string& src : sources) {
    SCOPED_TRACE(src);
    const Model model = load_model(src);
    const std::string out = dir.file("exported.onnx");
    save_model(model, out);
    EXPECT_EQ(onnx_check(out), "");
  }
}

// ---------------------------------------------------------------- shared models

TEST(OnnxIoModels, LoadEverySharedModel) {
  const fs::path root = models_dir();
  if (!fs::is_directory(root)) GTEST_SKIP() << "no shared models at " << root;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".onnx") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  size_t loaded = 0, unsupported = 0;
  fs::path largest;
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    onnx::ModelProto mp;
    {
      const std::string bytes = read_bytes(f.string());
      ASSERT_TRUE(pbd::parse_message(bytes.data(), bytes.size(), &mp));
    }
    if (largest.empty() || fs::file_size(f) > fs::file_size(largest)) largest = f;
    try {
      const Model model = load_model(f.string());
      ++loaded;
      EXPECT_EQ(model.graph.nodes.size(), size_t(mp.graph().node_size()));
      EXPECT_EQ(count_nodes_recursive(model.graph), proto_node_count(mp.graph()));
      EXPECT_EQ(model.ir_version, mp.ir_version());
      // Export and re-import: identical graph.
      const Model again = parse_model(serialize_model(model), "", "again.onnx");
      std::string why;
      EXPECT_TRUE(same_graph(model.graph, again.graph, why)) << why;
    } catch (const Error& e) {
      // Only models with types dnnf does not represent may be refused.
      const std::string msg = e.what();
      const bool type_refusal = msg.find("sequence type") != std::string::npos ||
                                msg.find("optional type") != std::string::npos ||
                                msg.find("map type") != std::string::npos ||
                                msg.find("which dnnf does not support") != std::string::npos ||
                                msg.find("is not supported by dnnf") != std::string::npos;
      EXPECT_TRUE(type_refusal) << msg;
      ++unsupported;
    }
  }
  std::cout << "[ onnx_io  ] loaded " << loaded << " models, " << unsupported
            << " refused for unsupported value types\n";
  EXPECT_GT(loaded, 10u);

  const auto t0 = std::chrono::steady_clock::now();
  const Model big = load_model(largest.string());
  const auto t1 = std::chrono::steady_clock::now();
  const std::string bytes = serialize_model(big);
  const auto t2 = std::chrono::steady_clock::now();
  std::cout << "[ onnx_io  ] largest model " << largest.filename().string() << " ("
            << fs::file_size(largest) << " bytes, " << big.graph.nodes.size() << " nodes): load "
            << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms, export "
            << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms\n";
}

TEST(OnnxIoModels, ReadConformanceTensorFiles) {
  std::vector<fs::path> roots = {fs::path(models_dir()) / "conformance",
                                 "/usr/share/libonnx-testdata/data/node"};
  size_t read = 0, refused = 0;
  for (const fs::path& root : roots) {
    if (!fs::is_directory(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file() || e.path().extension() != ".pb") continue;
      try {
        std::string name;
        const Tensor t = read_tensor_file(e.path().string(), &name);
        EXPECT_TRUE(t.defined());
        ++read;
      } catch (const Error& err) {
        // Only SequenceProto/OptionalProto files (sequence and optional op tests) are refused.
        EXPECT_NE(std::string(err.what()).find(e.path().string()), std::string::npos) << err.what();
        EXPECT_NE(std::string(err.what()).find("sequence or optional value"), std::string::npos) << err.what();
        ++refused;
      }
    }
  }
  if (read + refused == 0) GTEST_SKIP() << "no conformance data found";
  std::cout << "[ onnx_io  ] read " << read << " conformance tensors, refused " << refused << "\n";
  EXPECT_GT(read, 10 * refused);
}

TEST(OnnxIoModels, LoadLibonnxTestdataModels) {
  const fs::path root = "/usr/share/libonnx-testdata/data";
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " is absent (apt install libonnx-testdata)";
  size_t loaded = 0, refused = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".onnx") continue;
    onnx::ModelProto mp;
    {
      const std::string bytes = read_bytes(e.path().string());
      ASSERT_TRUE(pbd::parse_message(bytes.data(), bytes.size(), &mp)) << e.path();
    }
    try {
      const Model model = load_model(e.path().string());
      EXPECT_EQ(count_nodes_recursive(model.graph), proto_node_count(mp.graph())) << e.path();
      ++loaded;
    } catch (const Error& err) {
      const std::string msg = err.what();
      EXPECT_TRUE(msg.find("has a sequence type") != std::string::npos ||
                  msg.find("has an optional type") != std::string::npos)
          << msg;
      ++refused;
    }
  }
  std::cout << "[ onnx_io  ] libonnx-testdata: loaded " << loaded << " models, refused " << refused
            << " (sequence/optional types)\n";
  EXPECT_GT(loaded, 900u);
}

TEST(OnnxIoModels, KnownNodeCounts) {
  const fs::path root = models_dir();
  const std::vector<std::pair<std::string, size_t>> expected = {
      {"transformer/bert_toy_unfused.onnx", 384},
      {"transformer/gpt2_past.onnx", 3069},
      {"cnn/light_resnet50.onnx", 415},
      {"transformer/TFBertForQuestionAnswering.onnx", 3836},
      {"detect/ultraface-version-RFB-320.onnx", 242},
  };
  size_t checked = 0;
  for (const auto& [rel, count] : expected) {
    const fs::path p = root / rel;
    if (!fs::exists(p)) continue;
    const Model model = load_model(p.string());
    EXPECT_EQ(model.graph.nodes.size(), count) << rel;
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no shared models at " << root;
}

TEST(OnnxIoModels, UltrafaceInitializersAreNotInputs) {
  const fs::path p = fs::path(models_dir()) / "detect/ultraface-version-RFB-320.onnx";
  if (!fs::exists(p)) GTEST_SKIP() << p << " is absent";
  const Model model = load_model(p.string());
  EXPECT_EQ(model.ir_version, 4);
  EXPECT_EQ(model.graph.inputs.size(), 1u);
  EXPECT_GT(model.graph.initializers.size(), 100u);
  for (const ValueInfo& v : model.graph.inputs) EXPECT_FALSE(model.graph.is_constant(v.name));
  ImportOptions opts;
  opts.initializers_as_inputs = true;
  EXPECT_GT(load_model(p.string(), opts).graph.inputs.size(), 100u);
}
