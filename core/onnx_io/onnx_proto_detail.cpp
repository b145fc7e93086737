#include "core/onnx_io/onnx_proto_detail.h"

#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <google/protobuf/io/coded_stream.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/limits.h"

namespace fs = std::filesystem;

namespace dnnf::onnx_io::detail {

static_assert(std::endian::native == std::endian::little,
              "dnnf reads ONNX raw_data (little-endian) by copying bytes");

std::string onnx_type_name(int32_t code) {
  switch (code) {
    case 0: return "undefined";
    case 14: return "complex64";
    case 15: return "complex128";
    case 17: return "float8e4m3fn";
    case 18: return "float8e4m3fnuz";
    case 19: return "float8e5m2";
    case 20: return "float8e5m2fnuz";
    case 21: return "uint4";
    case 22: return "int4";
    case 23: return "float4e2m1";
    case 24: return "float8e8m0";
    default: break;
  }
  const DType t = dtype_from_onnx(code);
  if (t != DType::Undefined) return dtype_name(t);
  return "type code " + std::to_string(code);
}

namespace {

// Parses a non-negative decimal integer of an external_data entry.
int64_t parse_ext_int(const std::string& s, const std::string& key, const std::string& what) {
  check(!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos,
        what, ": external data '", key, "' is '", s, "', not a non-negative integer");
  return std::stoll(s);
}

// Reads `nbytes` bytes of a tensor's external data into dst.
void read_external(const onnx::TensorProto& tp, const std::string& base_dir, const std::string& what,
                   int64_t nbytes, void* dst) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = parse_ext_int(kv.value(), "offset", what);
    else if (kv.key() == "length") length = parse_ext_int(kv.value(), "length", what);
  }
  check(!location.empty(), what, ": external data has no 'location'");
  check(!base_dir.empty(), what, ": has external data ('", location,
        "'), but the model was not loaded from a file, so there is no directory to find it in");
  const fs::path rel = fs::path(location).lexically_normal();
  check(!rel.is_absolute() && !rel.has_root_name() && !rel.empty() && *rel.begin() != "..",
        what, ": external data location '", location, "' escapes the model's directory");
  const fs::path full = fs::path(base_dir) / rel;
  std::error_code ec;
  const auto st = fs::status(full, ec);
  check(!ec && fs::exists(st), what, ": external data file '", full.string(), "' does not exist");
  check(fs::is_regular_file(st), what, ": external data path '", full.string(),
        "' is not a regular file");
  const auto fsize = int64_t(fs::file_size(full, ec));
  check(!ec, what, ": cannot read the size of external data file '", full.string(), "'");
  check_limit("external-data", fsize, what + ": external data file '" + full.string() + "'", "is");
  if (length >= 0) {
    check(length == nbytes, what, ": external data length is ", length, " bytes, but the tensor needs ",
          nbytes, " bytes");
  }
  check(offset <= fsize && nbytes <= fsize - offset, what, ": external data (offset ", offset, ", ",
        nbytes, " bytes) runs past the end of '", full.string(), "' (", fsize, " bytes)");
  if (nbytes == 0) return;
  std::ifstream in(full, std::ios::binary);
  check(bool(in), what, ": cannot open external data file '", full.string(), "'");
  in.seekg(offset);
  in.read(static_cast<char*>(dst), std::streamsize(nbytes));
  check(bool(in) && in.gcount() == std::streamsize(nbytes), what,
        ": cannot read external data from '", full.string(), "'");
}

template <class Field>
void check_count(const Field& field, int64_t numel, const char* field_name, const std::string& what) {
  check(int64_t(field.size()) == numel, what, ": has ", field.size(), " values in ", field_name,
        ", expected ", numel);
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir,
                         const std::string& what) {
  const DType dtype = dtype_from_onnx(tp.data_type());
  check(tp.data_type() != 0, what, ": has no element type");
  check(dtype != DType::Undefined, what, ": element type ", onnx_type_name(tp.data_type()),
        " is not supported by dnnf");
  check(!tp.has_segment(), what, ": segmented tensors are not supported");
  Shape shape(tp.dims().begin(), tp.dims().end());
  for (int64_t d : shape) check(d >= 0, what, ": negative dimension in shape ", shape_str(shape));
  int64_t numel = 0;
  try {
    numel = shape_numel(shape);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
  check_tensor_size(numel, dtype, what);

  const bool external = tp.data_location() == onnx::TensorProto::EXTERNAL;
  if (dtype == DType::String) {
    check(!external && !tp.has_raw_data(), what, ": string tensors must use string_data");
    check_count(tp.string_data(), numel, "string_data", what);
    Tensor t(dtype, shape);
    for (int64_t i = 0; i < numel; ++i) t.strings()[size_t(i)] = tp.string_data(int(i));
    return t;
  }
  const size_t esize = dtype_size(dtype);
  const int64_t nbytes = numel * int64_t(esize);

  if (external) {
    Tensor t(dtype, shape);
    read_external(tp, base_dir, what, nbytes, t.raw());
    if (dtype == DType::Bool) {
      auto* p = static_cast<unsigned char*>(t.raw());
      for (int64_t i = 0; i < numel; ++i) p[i] = p[i] != 0;
    }
    return t;
  }
  if (tp.has_raw_data()) {
    const std::string& raw = tp.raw_data();
    check(int64_t(raw.size()) == nbytes, what, ": raw_data has ", raw.size(), " bytes, expected ",
          nbytes, " (", numel, " x ", dtype_name(dtype), ")");
    Tensor t(dtype, shape);
    if (nbytes > 0) std::memcpy(t.raw(), raw.data(), size_t(nbytes));
    if (dtype == DType::Bool) {
      auto* p = static_cast<unsigned char*>(t.raw());
      for (int64_t i = 0; i < numel; ++i) p[i] = p[i] != 0;
    }
    return t;
  }

  // Typed fields (ONNX TensorProto rules: int32_data carries every type of 32 bits or
  // less except float, with float16/bfloat16 as their bit patterns; uint64_data carries
  // uint32 and uint64).
  Tensor t(dtype, shape);
  if (numel == 0) return t;
  switch (dtype) {
    case DType::F32:
      check_count(tp.float_data(), numel, "float_data", what);
      std::memcpy(t.raw(), tp.float_data().data(), size_t(nbytes));
      break;
    case DType::F64:
      check_count(tp.double_data(), numel, "double_data", what);
      std::memcpy(t.raw(), tp.double_data().data(), size_t(nbytes));
      break;
    case DType::I64:
      check_count(tp.int64_data(), numel, "int64_data", what);
      std::memcpy(t.raw(), tp.int64_data().data(), size_t(nbytes));
      break;
    case DType::U32: {
      check_count(tp.uint64_data(), numel, "uint64_data", what);
      auto* p = t.data<uint32_t>();
      for (int64_t i = 0; i < numel; ++i) p[i] = uint32_t(tp.uint64_data(int(i)));
      break;
    }
    case DType::U64:
      check_count(tp.uint64_data(), numel, "uint64_data", what);
      std::memcpy(t.raw(), tp.uint64_data().data(), size_t(nbytes));
      break;
    case DType::I32:
      check_count(tp.int32_data(), numel, "int32_data", what);
      std::memcpy(t.raw(), tp.int32_data().data(), size_t(nbytes));
      break;
    case DType::I16: case DType::U16: case DType::F16: case DType::BF16: {
      check_count(tp.int32_data(), numel, "int32_data", what);
      auto* p = t.data<uint16_t>();
      for (int64_t i = 0; i < numel; ++i) p[i] = uint16_t(tp.int32_data(int(i)));
      break;
    }
    case DType::I8: case DType::U8: {
      check_count(tp.int32_data(), numel, "int32_data", what);
      auto* p = t.data<uint8_t>();
      for (int64_t i = 0; i < numel; ++i) p[i] = uint8_t(tp.int32_data(int(i)));
      break;
    }
    case DType::Bool: {
      check_count(tp.int32_data(), numel, "int32_data", what);
      auto* p = t.data<uint8_t>();
      for (int64_t i = 0; i < numel; ++i) p[i] = tp.int32_data(int(i)) != 0;
      break;
    }
    default:
      fail(what, ": element type ", dtype_name(dtype), " is not supported");
  }
  return t;
}

Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& sp, const std::string& base_dir,
                                const std::string& what) {
  Shape shape(sp.dims().begin(), sp.dims().end());
  for (int64_t d : shape) check(d >= 0, what, ": negative dimension in sparse shape ", shape_str(shape));
  const Tensor values = tensor_from_proto(sp.values(), base_dir, what + " (sparse values)");
  const Tensor indices = tensor_from_proto(sp.indices(), base_dir, what + " (sparse indices)");
  check(values.dtype() != DType::String, what, ": sparse string tensors are not supported");
  check(values.rank() == 1, what, ": sparse values must be 1-D, got ", shape_str(values.shape()));
  check(indices.dtype() == DType::I64, what, ": sparse indices must be int64");
  const int64_t nnz = values.numel();
  const int64_t rank = int64_t(shape.size());
  const bool linear = indices.rank() == 1;
  check((linear && indices.dim(0) == nnz) ||
            (indices.rank() == 2 && indices.dim(0) == nnz && indices.dim(1) == rank),
        what, ": sparse indices of shape ", shape_str(indices.shape()), " do not match ", nnz,
        " values of a rank-", rank, " tensor");
  int64_t numel = 0;
  try {
    numel = shape_numel(shape);
  } catch (const Error& e) {
    fail(what, ": ", e.what());
  }
  check_tensor_size(numel, values.dtype(), what);
  Tensor dense(values.dtype(), shape);
  const size_t es = dtype_size(values.dtype());
  const int64_t* idx = indices.data<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t flat = 0;
    if (linear) {
      flat = idx[k];
    } else {
      for (int64_t r = 0; r < rank; ++r) {
        const int64_t c = idx[k * rank + r];
        check(c >= 0 && c < shape[size_t(r)], what, ": sparse index ", c, " out of range in axis ", r);
        flat = flat * shape[size_t(r)] + c;
      }
    }
    check(flat >= 0 && flat < numel, what, ": sparse index ", flat, " out of range for ", numel,
          " elements");
    std::memcpy(static_cast<unsigned char*>(dense.raw()) + size_t(flat) * es,
                static_cast<const unsigned char*>(values.raw()) + size_t(k) * es, es);
  }
  return dense;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* out) {
  check(t.defined(), "tensor '", name, "' is undefined and cannot be written");
  out->Clear();
  if (!name.empty()) out->set_name(name);
  out->set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.shape()) out->add_dims(d);
  if (t.dtype() == DType::String) {
    for (const std::string& s : t.strings()) out->add_string_data(s);
    return;
  }
  out->set_raw_data(t.nbytes() ? static_cast<const char*>(t.raw()) : "", t.nbytes());
}

bool parse_message(const void* data, size_t size, google::protobuf::MessageLite* msg) {
  if (size > size_t(INT_MAX)) return false;
  google::protobuf::io::CodedInputStream in(static_cast<const uint8_t*>(data), int(size));
  in.SetTotalBytesLimit(INT_MAX);
  return msg->ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

namespace {

int64_t effective_max(int64_t max_bytes, const std::string& limit_name) {
  if (max_bytes > 0 || limit_name.empty()) return max_bytes;
  return limit_value(limit_name);
}

[[noreturn]] void file_over_limit(const std::string& path, const std::string& size_text, int64_t max_bytes,
                                  const std::string& limit_name) {
  const std::string what = "cannot load '" + path + "': the file is " + size_text;
  if (limit_name.empty()) fail(what, ", over the limit of ", max_bytes, " bytes");
  limit_exceeded(limit_name, what, max_bytes);
}

}  // namespace

std::string read_file(const std::string& path, int64_t max_bytes_arg, const std::string& limit_name) {
  const int64_t max_bytes = effective_max(max_bytes_arg, limit_name);
  std::error_code ec;
  const auto st = fs::status(path, ec);
  check(!(ec || !fs::exists(st)), "cannot open '", path, "': no such file");
  check(!fs::is_directory(st), "cannot open '", path, "': it is a directory, not a file");
  check(fs::is_regular_file(st) || fs::is_character_file(st) || fs::is_fifo(st),
        "cannot open '", path, "': not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open '", path, "': ", std::strerror(errno));
  std::string bytes;
  if (fs::is_regular_file(st)) {
    const auto size = int64_t(fs::file_size(path, ec));
    if (!ec && max_bytes > 0 && size > max_bytes) {
      std::fclose(f);
      file_over_limit(path, std::to_string(size) + " bytes", max_bytes, limit_name);
    }
    if (!ec) bytes.reserve(size_t(size));
  }
  char buf[1 << 16];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    bytes.append(buf, n);
    if (max_bytes > 0 && int64_t(bytes.size()) > max_bytes) {
      std::fclose(f);
      file_over_limit(path, "more than " + std::to_string(max_bytes) + " bytes", max_bytes, limit_name);
    }
    if (n < sizeof buf) break;
  }
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  check(!bad, "cannot read '", path, "'");
  return bytes;
}

MappedFile::MappedFile(const std::string& path, int64_t max_bytes_arg, const std::string& limit_name) {
  const int64_t max_bytes = effective_max(max_bytes_arg, limit_name);
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!ec && fs::is_regular_file(st)) {
    const auto size = int64_t(fs::file_size(path, ec));
    if (!ec && size > 0) {
      if (max_bytes > 0 && size > max_bytes) file_over_limit(path, std::to_string(size) + " bytes", max_bytes, limit_name);
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_PRIVATE, fd, 0);
        ::close(fd);
        if (p != MAP_FAILED) {
          map_ = p;
          map_size_ = size_t(size);
          return;
        }
      }
    }
  }
  bytes_ = read_file(path, max_bytes, limit_name);
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, map_size_);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    check(bool(out), "cannot write '", tmp, "': ", std::strerror(errno));
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      fail("cannot write '", tmp, "' (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("cannot rename '", tmp, "' to '", path, "': ", ec.message());
  }
}

}  // namespace dnnf::onnx_io::detail
