// The command-line runner of a dnnf model bundle (every target), written against the
// bundle's C API (include/dnnf_model.h) only:
//
//   runner BUNDLE_DIR --input NAME=FILE.npy ... --output OUTDIR [--runs N] [--owned-outputs]
//   runner BUNDLE_DIR --info
//
// Same .npy conventions as `dnnf run --input/--output`: little-endian, C order, the
// input's element type and exact shape; one OUTDIR/<output name>.npy per output, the
// name with every character other than [A-Za-z0-9_.-] replaced by '_'. --runs N runs N
// inferences and prints the median and minimum wall time. --owned-outputs runs with
// dnnf_model_run_owned (outputs the model allocates, shapes read after the run), which
// the runner also uses whenever an output's shape is not fixed. Errors: one line on stderr,
// exit 1 (exit 2 for a malformed command line); an output file is written whole or not
// at all.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnnf_model.h"

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// dnnf dtype name -> NumPy descr and element size.
struct NpyType {
  const char* dtype;
  const char* descr;
  size_t size;
};
constexpr NpyType kTypes[] = {
    {"float32", "<f4", 4}, {"float16", "<f2", 2}, {"float64", "<f8", 8}, {"int64", "<i8", 8},
    {"int32", "<i4", 4},   {"int16", "<i2", 2},   {"int8", "|i1", 1},    {"uint8", "|u1", 1},
    {"bool", "|b1", 1},    {"uint16", "<u2", 2},  {"uint32", "<u4", 4},  {"uint64", "<u8", 8},
};

const NpyType& npy_type(const std::string& dtype) {
  for (const NpyType& t : kTypes)
    if (dtype == t.dtype) return t;
  throw Failure("element type " + dtype + " has no NumPy equivalent");
}

std::string shape_tuple(const std::vector<int64_t>& s) {
  if (s.empty()) return "()";
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

std::string safe_file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) c = '_';
  return s.empty() ? "output" : s;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("cannot read '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The value of `key` in an .npy header dict ("'descr': '<f4', 'fortran_order': False,
// 'shape': (1, 3), }"), as its literal text.
std::string header_field(const std::string& header, const std::string& key, const std::string& path) {
  const size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw Failure("cannot read '" + path + "' as .npy: no '" + key + "' in the header");
  size_t p = header.find(':', k);
  if (p == std::string::npos) throw Failure("cannot read '" + path + "' as .npy: malformed header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t end = p;
  if (p < header.size() && header[p] == '(') end = header.find(')', p) + 1;
  else if (p < header.size() && header[p] == '\'') end = header.find('\'', p + 1) + 1;
  else end = header.find_first_of(",}", p);
  if (end == std::string::npos || end == 0) throw Failure("cannot read '" + path + "' as .npy: malformed header");
  return header.substr(p, end - p);
}

std::vector<int64_t> parse_shape(const std::string& tuple, const std::string& path) {
  std::vector<int64_t> shape;
  for (size_t i = 1; i + 1 < tuple.size();) {
    while (i + 1 < tuple.size() && (tuple[i] == ' ' || tuple[i] == ',')) ++i;
    if (i + 1 >= tuple.size()) break;
    char* end = nullptr;
    const long long v = std::strtoll(tuple.c_str() + i, &end, 10);
    if (end == tuple.c_str() + i || v < 0) throw Failure("cannot read '" + path + "' as .npy: bad shape " + tuple);
    shape.push_back(v);
    i = size_t(end - tuple.c_str());
  }
  return shape;
}

// Reads FILE.npy and checks it holds `dtype` elements of exactly `shape`.
std::string read_npy(const std::string& path, const std::string& input, const std::string& dtype,
                     const std::vector<int64_t>& shape) {
  const std::string b = read_whole_file(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0)
    throw Failure("cannot read '" + path + "' as .npy: no NumPy magic header");
  const int major = static_cast<unsigned char>(b[6]);
  if (major < 1 || major > 3) throw Failure("cannot read '" + path + "' as .npy: unsupported format version");
  const size_t len_bytes = major == 1 ? 2 : 4;
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(static_cast<unsigned char>(b[8 + i])) << (8 * i);
  const size_t start = 8 + len_bytes + header_len;
  if (start > b.size()) throw Failure("cannot read '" + path + "' as .npy: truncated header");
  const std::string header = b.substr(8 + len_bytes, header_len);
  if (header_field(header, "fortran_order", path) != "False")
    throw Failure("cannot read '" + path + "': Fortran-order arrays are not supported (save it C-ordered)");
  std::string descr = header_field(header, "descr", path);
  descr = descr.size() >= 2 ? descr.substr(1, descr.size() - 2) : descr;
  const NpyType& want = npy_type(dtype);
  const bool same = descr == want.descr || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == want.descr + 1);
  if (!same)
    throw Failure("input '" + input + "' is " + dtype + " ('" + want.descr + "'), '" + path + "' holds '" + descr + "'");
  const std::vector<int64_t> got = parse_shape(header_field(header, "shape", path), path);
  if (got != shape)
    throw Failure("input '" + input + "' has shape " + shape_tuple(shape) + ", '" + path + "' holds " + shape_tuple(got));
  size_t numel = 1;
  for (int64_t d : shape) numel *= size_t(d);
  if (b.size() - start != numel * want.size)
    throw Failure("cannot read '" + path + "': it holds " + std::to_string(b.size() - start) + " data bytes, " +
                  std::to_string(numel * want.size) + " expected");
  return b.substr(start);
}

// Writes the array like dnnf's write_npy: version 1.0, data on a 64-byte boundary.
void write_npy(const std::string& path, const std::string& dtype, const std::vector<int64_t>& shape,
               const std::string& data) {
  std::string header = std::string("{'descr': '") + npy_type(dtype).descr +
                       "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\0');
  out.push_back(char(header.size() & 0xff));
  out.push_back(char((header.size() >> 8) & 0xff));
  out += header;
  out += data;
  const std::string temp = path + ".tmp";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f.write(out.data(), std::streamsize(out.size()));
    f.close();
    if (!f) {
      std::remove(temp.c_str());
      throw Failure("cannot write '" + path + "'");
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    throw Failure("cannot write '" + path + "'");
  }
}

struct Port {
  std::string name, dtype;
  std::vector<int64_t> shape;
  size_t bytes = 0;
};

std::vector<Port> ports(const dnnf_model* m, bool inputs) {
  std::vector<Port> out;
  const int n = inputs ? dnnf_model_num_inputs(m) : dnnf_model_num_outputs(m);
  for (int i = 0; i < n; ++i) {
    Port p;
    p.name = inputs ? dnnf_model_input_name(m, i) : dnnf_model_output_name(m, i);
    p.dtype = inputs ? dnnf_model_input_dtype(m, i) : dnnf_model_output_dtype(m, i);
    const int rank = inputs ? dnnf_model_input_rank(m, i) : dnnf_model_output_rank(m, i);
    const int64_t* dims = inputs ? dnnf_model_input_shape(m, i) : dnnf_model_output_shape(m, i);
    p.shape.assign(dims, dims + rank);
    // -1 for an output whose size depends on the data, before a run.
    const int64_t n = inputs ? dnnf_model_input_size(m, i) : dnnf_model_output_size(m, i);
    p.bytes = n > 0 ? size_t(n) * npy_type(p.dtype).size : 0;
    out.push_back(p);
  }
  return out;
}

struct ModelHandle {
  dnnf_model* m = nullptr;
  ~ModelHandle() { dnnf_model_destroy(m); }
};

int run(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-')
    throw UsageError("usage: runner BUNDLE_DIR --input NAME=FILE.npy ... --output OUTDIR [--runs N] [--owned-outputs] "
                     "| --info");
  const std::string bundle = argv[1];
  std::map<std::string, std::string> given;
  std::string outdir;
  int runs = 1;
  bool info = false, owned = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--input") {
      const std::string spec = value();
      const size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError("--input needs NAME=FILE.npy, got '" + spec + "'");
      if (!given.emplace(spec.substr(0, eq), spec.substr(eq + 1)).second)
        throw UsageError("input '" + spec.substr(0, eq) + "' given twice");
    } else if (a == "--output") {
      outdir = value();
    } else if (a == "--runs") {
      const std::string v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 1 || n > 1000000) throw UsageError("--runs needs a positive count, got '" + v + "'");
      runs = int(n);
    } else if (a == "--info") {
      info = true;
    } else if (a == "--owned-outputs") {
      owned = true;
    } else {
      throw UsageError("unknown option '" + a + "'");
    }
  }

  ModelHandle h;
  h.m = dnnf_model_create(bundle.c_str());
  if (!h.m) throw Failure(dnnf_model_last_error());
  const std::vector<Port> ins = ports(h.m, true), outs = ports(h.m, false);
  if (info) {
    std::printf("target %s\n", dnnf_model_target());
    for (const Port& p : ins) std::printf("input  %s %s %s\n", p.name.c_str(), p.dtype.c_str(), shape_tuple(p.shape).c_str());
    for (const Port& p : outs) std::printf("output %s %s %s\n", p.name.c_str(), p.dtype.c_str(), shape_tuple(p.shape).c_str());
    return 0;
  }
  if (outdir.empty()) throw UsageError("--output OUTDIR is required");

  std::vector<std::string> in_data;
  for (const Port& p : ins) {
    auto it = given.find(p.name);
    if (it == given.end()) throw Failure("input '" + p.name + "' is not given (--input " + p.name + "=FILE.npy)");
    in_data.push_back(read_npy(it->second, p.name, p.dtype, p.shape));
    given.erase(it);
  }
  if (!given.empty()) throw Failure("the model has no input named '" + given.begin()->first + "'");

  std::vector<const float*> in_ptrs;
  for (const std::string& d : in_data) in_ptrs.push_back(reinterpret_cast<const float*>(d.data()));
  // Outputs whose shape depends on the data can only be run into buffers the model
  // owns (API version 2); --owned-outputs runs every model that way.
  for (size_t o = 0; o < outs.size(); ++o)
    if (dnnf_model_output_shape_is_fixed(h.m, int(o)) != 1) owned = true;
  std::vector<std::string> out_data;
  if (!owned)
    for (const Port& p : outs) out_data.emplace_back(p.bytes, '\0');
  std::vector<float*> out_ptrs;
  for (std::string& d : out_data) out_ptrs.push_back(reinterpret_cast<float*>(&d[0]));

  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const int status = owned ? dnnf_model_run_owned(h.m, in_ptrs.data())
                             : dnnf_model_run(h.m, in_ptrs.data(), out_ptrs.data());
    if (status != 0) throw Failure(dnnf_model_last_error());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<Port> got = outs;
  if (owned) {
    got = ports(h.m, false);  // this run's shapes
    for (size_t o = 0; o < got.size(); ++o) {
      const char* data = static_cast<const char*>(dnnf_model_output_data(h.m, int(o)));
      if (!data && got[o].bytes) throw Failure("output '" + got[o].name + "' has no data after the run");
      out_data.emplace_back(data ? data : "", got[o].bytes);
    }
  }
  if (runs > 1) {
    std::sort(ms.begin(), ms.end());
    std::printf("%d runs: median %.3f ms, min %.3f ms\n", runs, ms[ms.size() / 2], ms.front());
  }

  std::error_code ec;
  std::filesystem::create_directories(outdir, ec);
  if (ec) throw Failure("cannot create '" + outdir + "': " + ec.message());
  for (size_t o = 0; o < outs.size(); ++o)
    write_npy((std::filesystem::path(outdir) / (safe_file_name(got[o].name) + ".npy")).string(), got[o].dtype,
              got[o].shape, out_data[o]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "runner: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runner: %s\n", e.what());
    return 1;
  }
}
