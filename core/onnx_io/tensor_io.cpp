// Tensor files: ONNX TensorProto (.pb) and NumPy .npy (format versions 1.0, 2.0, 3.0;
// little-endian, C order).
#include "core/onnx_io/tensor_io.h"

#include <cctype>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/onnx_io/onnx_proto_detail.h"

#include <onnx/onnx-data.pb.h>
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace dnnf::onnx_io {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicLen = 6;

struct NpyDType {
  const char* descr;
  DType dtype;
};

// The descriptors dnnf reads and writes; '=' (native) and '|' are accepted on read for
// one-byte types, and '=' for the others on this little-endian host.
constexpr NpyDType kNpyTypes[] = {
    {"f4", DType::F32}, {"f2", DType::F16}, {"f8", DType::F64}, {"i8", DType::I64},
    {"i4", DType::I32}, {"i2", DType::I16}, {"i1", DType::I8},  {"u1", DType::U8},
    {"b1", DType::Bool}, {"u2", DType::U16}, {"u4", DType::U32}, {"u8", DType::U64},
};

std::string npy_descr(DType t, const std::string& path) {
  for (const auto& e : kNpyTypes)
    if (e.dtype == t) return std::string(dtype_size(t) == 1 ? "|" : "<") + e.descr;
  fail("cannot write '", path, "': element type ", dtype_name(t), " has no NumPy equivalent");
}

// A tiny reader for the Python dict literal of an .npy header.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran, Shape& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"')
          bad("structured or non-string 'descr' is not supported");
        descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape)
      bad("the header lacks 'descr', 'fortran_order' or 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& why) {
    fail("cannot read '", path_, "' as .npy: ", why);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) bad(std::string("malformed header (expected '") + c + "')");
    ++pos_;
  }
  std::string quoted() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') bad("malformed header (expected a string)");
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) bad("malformed header (unterminated string)");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) { pos_ += 4; return true; }
    if (s_.compare(pos_, 5, "False") == 0) { pos_ += 5; return false; }
    bad("malformed header ('fortran_order' is not True or False)");
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    for (;;) {
      skip_ws();
      if (peek() == ')') { ++pos_; break; }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("malformed header (bad shape)");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (v > (INT64_MAX - 9) / 10) bad("a dimension in the shape is too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') bad("malformed header (bad shape)");
    }
    return shape;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

uint32_t read_le(const std::string& b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint32_t(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

std::string shape_tuple(const Shape& s) {
  if (s.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

std::string lower_ext(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  const std::string b = detail::read_file(path, 0, "tensor-file");
  check(b.size() >= 10 && b.compare(0, kNpyMagicLen, kNpyMagic, kNpyMagicLen) == 0, "cannot read '",
        path, "' as .npy: ", b.empty() ? "the file is empty" : "no NumPy magic header");
  const int major = static_cast<unsigned char>(b[6]);
  check(major >= 1 && major <= 3, "cannot read '", path, "' as .npy: format version ", major,
        ".", int(static_cast<unsigned char>(b[7])), " is not supported (1.0, 2.0, 3.0 are)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  check(b.size() >= 8 + len_bytes, "cannot read '", path, "' as .npy: truncated header");
  const size_t header_len = read_le(b, 8, len_bytes);
  const size_t data_start = 8 + len_bytes + header_len;
  check(data_start <= b.size(), "cannot read '", path, "' as .npy: truncated header");
  const std::string header = b.substr(8 + len_bytes, header_len);

  std::string descr;
  bool fortran = false;
  Shape shape;
  HeaderParser(header, path).parse(descr, fortran, shape);
  check(!fortran, "cannot read '", path, "': Fortran-order arrays are not supported (save it C-ordered)");
  check(descr.size() >= 2, "cannot read '", path, "': unknown dtype '", descr, "'");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  DType dtype = DType::Undefined;
  for (const auto& e : kNpyTypes)
    if (code == e.descr) dtype = e.dtype;
  check(dtype != DType::Undefined, "cannot read '", path, "': dtype '", descr, "' is not supported");
  const bool one_byte = dtype_size(dtype) == 1;
  check(order == '<' || order == '=' || (one_byte && order == '|'), "cannot read '", path,
        "': dtype '", descr, "' is ", order == '>' ? "big-endian" : "of unknown byte order",
        ", only little-endian is supported");

  int64_t numel = 0;
  try {
    numel = shape_numel(shape);
  } catch (const Error& e) {
    fail("cannot read '", path, "': ", e.what());
  }
  check_tensor_size(numel, dtype, "tensor in '" + path + "'");
  const size_t nbytes = size_t(numel) * dtype_size(dtype);
  check(b.size() - data_start == nbytes, "cannot read '", path, "': it holds ", b.size() - data_start,
        " data bytes, the header ", shape_tuple(shape), " ", descr, " needs ", nbytes);
  Tensor t(dtype, shape);
  if (nbytes) std::memcpy(t.raw(), b.data() + data_start, nbytes);
  if (dtype == DType::Bool) {
    auto* p = static_cast<unsigned char*>(t.raw());
    for (int64_t i = 0; i < numel; ++i) p[i] = p[i] != 0;
  }
  return t;
}

void write_npy(const Tensor& t, const std::string& path) {
  check(t.defined(), "cannot write '", path, "': the tensor is undefined");
  std::string header = "{'descr': '" + npy_descr(t.dtype(), path) +
                       "', 'fortran_order': False, 'shape': " + shape_tuple(t.shape()) + ", }";
  // Pad with spaces and a newline so the data starts on a 64-byte boundary.
  size_t prefix = 10;
  int major = 1;
  if (header.size() + 1 + prefix > 65535) {
    major = 2;
    prefix = 12;
  }
  const size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');
  std::string out(kNpyMagic, kNpyMagicLen);
  out.push_back(char(major));
  out.push_back('\0');
  const size_t hl = header.size();
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(char((hl >> (8 * i)) & 0xff));
  out += header;
  out.append(static_cast<const char*>(t.raw()) ? static_cast<const char*>(t.raw()) : "", t.nbytes());
  detail::write_file_atomic(path, out);
}

Tensor read_tensor_pb(const std::string& path, std::string* name) {
  const std::string b = detail::read_file(path, 0, "tensor-file");
  check(!b.empty(), "cannot parse '", path, "' as an ONNX TensorProto (the file is empty)");
  onnx::TensorProto tp;
  if (!detail::parse_message(b.data(), b.size(), &tp))
    fail("cannot parse '", path, "' as an ONNX TensorProto (truncated or corrupt protobuf)");
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  Tensor t;
  try {
    t = detail::tensor_from_proto(tp, dir, "tensor '" + tp.name() + "'");
  } catch (const Error& e) {
    // SequenceProto/OptionalProto files (ONNX test data of sequence and optional ops)
    // also parse as a TensorProto, into nonsense; say what they are instead.
    onnx::SequenceProto seq;
    if (detail::parse_message(b.data(), b.size(), &seq) && seq.unknown_fields().empty() &&
        seq.elem_type() >= 0 && seq.elem_type() <= onnx::SequenceProto::OPTIONAL)
      fail("cannot read '", path,
           "': it holds a sequence or optional value, not a tensor, which dnnf does not support");
    fail("cannot read '", path, "': ", e.what());
  }
  if (name) *name = tp.name();
  return t;
}

void write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path) {
  onnx::TensorProto tp;
  try {
    detail::tensor_to_proto(t, name, &tp);
  } catch (const Error& e) {
    fail("cannot write '", path, "': ", e.what());
  }
  std::string bytes;
  check(tp.ByteSizeLong() < size_t(INT32_MAX) && tp.SerializeToString(&bytes), "cannot write '",
        path, "': the tensor is over protobuf's 2 GiB limit");
  detail::write_file_atomic(path, bytes);
}

Tensor read_tensor_file(const std::string& path, std::string* name) {
  const std::string ext = lower_ext(path);
  if (ext == ".npy") {
    if (name) name->clear();
    return read_npy(path);
  }
  if (ext == ".pb") return read_tensor_pb(path, name);
  // Unknown extension: sniff the NumPy magic, else try a TensorProto.
  char head[kNpyMagicLen] = {};
  {
    std::ifstream in(path, std::ios::binary);
    if (in) in.read(head, kNpyMagicLen);
  }
  if (std::memcmp(head, kNpyMagic, kNpyMagicLen) == 0) {
    if (name) name->clear();
    return read_npy(path);
  }
  return read_tensor_pb(path, name);
}

}  // namespace dnnf::onnx_io
