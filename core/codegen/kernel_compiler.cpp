#include "core/codegen/kernel_compiler.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "core/codegen/cache_files.h"
#include "core/codegen/content_hash.h"
#include "core/codegen/embedded_headers.h"
#include "core/codegen/subprocess.h"
#include "core/util/error.h"
#include "kernels/abi/dnnf_abi.h"

namespace dnnf::codegen {

namespace fs = std::filesystem;

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::vector<std::string> split_on_spaces(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// With -march=native (or -mcpu=native) the object code depends on the CPU, so a cache
// shared between machines (an NFS home) must not hand one machine's kernels to another.
std::string cpu_identity() {
  static const std::string identity = [] {
    std::string out;
    std::set<std::string> seen;
    std::istringstream in(read_file("/proc/cpuinfo").value_or(""));
    for (std::string line; std::getline(in, line);) {
      std::string key = line.substr(0, line.find(':'));
      while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
      bool wanted = key == "model name" || key == "flags" || key == "Features" || key == "CPU implementer" ||
                    key == "CPU part" || key == "isa";
      if (wanted && seen.insert(key).second) out += line + "\n";
    }
    return out;
  }();
  return identity;
}

// Everything about the compiler invocation that changes the produced object code.
std::string command_identity(const CompilerOptions& options) {
  std::string id = "cxx=" + options.cxx;
  bool native = false;
  for (const std::string& f : options.flags) {
    id += "\nflag=" + f;
    native = native || f.find("=native") != std::string::npos;
  }
  if (native) id += "\ncpu=" + cpu_identity();
  return id;
}

// Writes the embedded headers into <root>/include-<hash>/ unless already there. The
// directory is filled under a temporary name and renamed, so it is complete if it exists.
struct HeaderDir {
  std::string path;
  std::string hash;
};

HeaderDir ensure_header_dir(const std::string& root) {
  ContentHash h;
  for (const EmbeddedHeader& header : embedded_kernel_headers())
    h.add(header.name).add(std::string_view(header.data, header.size));
  HeaderDir dir{(fs::path(root) / ("include-" + h.hex())).string(), h.hex()};
  if (fs::is_directory(dir.path)) return dir;

  std::string temp = temp_name_for(dir.path);
  make_directories(temp);
  for (const EmbeddedHeader& header : embedded_kernel_headers())
    write_file_atomically((fs::path(temp) / header.name).string(), std::string(header.data, header.size));
  std::error_code ec;
  fs::rename(temp, dir.path, ec);
  if (ec) {  // another process won the race; its copy is identical
    fs::remove_all(temp, ec);
    check(fs::is_directory(dir.path), "cannot create kernel header directory '", dir.path, "'");
  }
  return dir;
}

bool is_include_line(const std::string& line) {
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line[i] != '#') return false;
  i = line.find_first_not_of(" \t", i + 1);
  return i != std::string::npos && line.compare(i, 7, "include") == 0;
}

struct PendingKernel {
  const KernelSource* source;
  std::string key;
};

// One .cpp for several kernels: all #include lines first (deduplicated), then each kernel
// in a namespace of its own so that static helpers of different kernels do not clash.
// #line keeps compiler messages pointing at "<symbol>.cpp" and its own line numbers.
std::string unit_source(const std::vector<PendingKernel>& kernels) {
  std::vector<std::string> includes;
  std::string bodies;
  for (const PendingKernel& k : kernels) {
    bodies += "namespace dnnf_kernel_" + k.key + " {\n#line 1 \"" + k.source->symbol + ".cpp\"\n";
    std::istringstream in(k.source->code);
    for (std::string line; std::getline(in, line);) {
      if (is_include_line(line)) {
        if (std::find(includes.begin(), includes.end(), line) == includes.end()) includes.push_back(line);
        line.clear();  // keep the line count for #line
      }
      bodies += line + "\n";
    }
    bodies += "}  // namespace dnnf_kernel_" + k.key + "\n\n";
  }
  std::string out = "// dnnf kernel unit (generated; " + std::to_string(kernels.size()) + " kernels)\n";
  for (const std::string& inc : includes) out += inc + "\n";
  return out + "\n" + bodies;
}

std::string first_error_line(const std::string& log) {
  std::istringstream in(log);
  std::string first_nonempty;
  for (std::string line; std::getline(in, line);) {
    if (line.find("error") != std::string::npos) return line;
    if (first_nonempty.empty() && line.find_first_not_of(" \t") != std::string::npos) first_nonempty = line;
  }
  return first_nonempty;
}

// The unit .so name an index entry holds, or "" if the entry is missing or malformed.
std::string read_index_entry(const std::string& path) {
  std::string name = read_file(path).value_or("");
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  bool plausible = name.rfind("unit-", 0) == 0 && name.size() > 8 && name.ends_with(".so") &&
                   name.find('/') == std::string::npos;
  return plausible ? name : "";
}

struct CacheLayout {
  std::string root, lib, index, src;
  explicit CacheLayout(const std::string& r)
      : root(r), lib(r + "/lib"), index(r + "/index"), src(r + "/src") {}
};

// A unit is named after the kernels it holds, so its content never changes under a name.
std::string unit_name(const std::vector<PendingKernel>& kernels) {
  ContentHash h;
  for (const PendingKernel& k : kernels) h.add(k.key);
  return "unit-" + h.hex();
}

// Compiles one unit into <lib>/<unit name>.so and records its kernels in the index.
// Returns "" on success or the error message.
std::string compile_unit(const std::vector<PendingKernel>& kernels, const CacheLayout& cache,
                         const HeaderDir& headers, const CompilerOptions& options) {
  std::string unit = unit_name(kernels);
  std::string so_path = cache.lib + "/" + unit + ".so";

  // Private source and log names: another process may be compiling the same unit.
  std::string kept_src = cache.src + "/" + unit + ".cpp", kept_log = cache.src + "/" + unit + ".log";
  std::string src = temp_name_for(kept_src) + ".cpp", log = temp_name_for(kept_log);
  write_file_atomically(src, unit_source(kernels));

  std::string temp_so = temp_name_for(so_path);
  std::vector<std::string> argv = split_on_spaces(options.cxx);
  check(!argv.empty(), "kernel compiler command is empty");
  argv.insert(argv.end(), options.flags.begin(), options.flags.end());
  argv.insert(argv.end(), {"-I" + headers.path, "-o", temp_so, src});
  ProcessResult run = run_process(argv, log);

  std::error_code ec;
  if (!run.started || run.exit_code != 0 || !fs::exists(temp_so)) {
    fs::remove(temp_so, ec);
    fs::rename(src, kept_src, ec);
    fs::rename(log, kept_log, ec);
    std::string reason = run.error;
    if (reason.empty()) reason = first_error_line(read_file(kept_log).value_or(""));
    if (reason.empty()) reason = "exit code " + std::to_string(run.exit_code);
    return "kernel compile failed: " + reason + " (source kept at " + kept_src + ", log at " + kept_log + ")";
  }
  fs::remove(src, ec);
  fs::remove(log, ec);
  fs::rename(temp_so, so_path, ec);
  if (ec) return "cannot move compiled kernel unit to '" + so_path + "': " + ec.message();
  // Index entries last: whoever reads one finds the .so already in place.
  for (const PendingKernel& k : kernels) write_file_atomically(cache.index + "/" + k.key, unit + ".so\n");
  return "";
}

// Splits n kernels into units of at most per_unit, but into at least `jobs` units when
// there are enough kernels, so a small model still keeps every compiler slot busy.
std::vector<std::vector<PendingKernel>> group_into_units(const std::vector<PendingKernel>& pending, size_t per_unit,
                                                         size_t jobs) {
  std::vector<std::vector<PendingKernel>> units;
  if (pending.empty()) return units;
  size_t n = pending.size();
  per_unit = std::max<size_t>(per_unit, 1);
  size_t count = std::max((n + per_unit - 1) / per_unit, std::min(jobs, n));
  size_t size = (n + count - 1) / count;
  for (size_t i = 0; i < n; i += size)
    units.emplace_back(pending.begin() + i, pending.begin() + std::min(n, i + size));
  return units;
}

}  // namespace

std::string cache_dir(const CompilerOptions& options) {
  std::string dir = options.cache_dir;
  if (dir.empty()) dir = env_or_empty("DNNF_KERNEL_CACHE");
  if (dir.empty() && !env_or_empty("XDG_CACHE_HOME").empty()) dir = env_or_empty("XDG_CACHE_HOME") + "/dnnf/kernels";
  if (dir.empty() && !env_or_empty("HOME").empty()) dir = env_or_empty("HOME") + "/.cache/dnnf/kernels";
  check(!dir.empty(), "no kernel cache directory: set DNNF_KERNEL_CACHE or HOME");
  make_directories(dir);
  return dir;
}

KernelLibrary::~KernelLibrary() { release(); }

KernelLibrary::KernelLibrary(KernelLibrary&& other) noexcept { *this = std::move(other); }

KernelLibrary& KernelLibrary::operator=(KernelLibrary&& other) noexcept {
  if (this != &other) {
    release();
    units_ = std::move(other.units_);
    kernels_ = std::move(other.kernels_);
    stats_ = other.stats_;
    other.units_.clear();
    other.kernels_.clear();
    other.stats_ = {};
  }
  return *this;
}

void KernelLibrary::release() {
  for (auto& [path, handle] : units_) dlclose(handle);
  units_.clear();
  kernels_.clear();
}

void* KernelLibrary::open_unit(const std::string& path) {
  auto it = units_.find(path);
  if (it != units_.end()) return it->second;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle) units_[path] = handle;
  return handle;
}

void KernelLibrary::build(const std::vector<KernelSource>& kernels, const CompilerOptions& options) {
  CacheLayout cache(cache_dir(options));
  for (const std::string& dir : {cache.lib, cache.index, cache.src}) make_directories(dir);
  HeaderDir headers = ensure_header_dir(cache.root);

  std::string command = command_identity(options);
  std::map<std::string, std::string> requested;  // symbol -> key, to catch clashes
  std::vector<PendingKernel> pending;
  for (const KernelSource& k : kernels) {
    check(is_identifier(k.symbol), "kernel symbol '", k.symbol, "' is not a C identifier");
    std::string key = ContentHash()
                          .add("dnnf-abi-" + std::to_string(DNNF_ABI_VERSION))
                          .add(headers.hash)
                          .add(command)
                          .add(k.symbol)
                          .add(k.code)
                          .hex();
    auto [it, inserted] = requested.emplace(k.symbol, key);
    check(it->second == key, "two different kernels are both named '", k.symbol, "'");
    if (!inserted) continue;
    auto loaded = kernels_.find(k.symbol);
    if (loaded != kernels_.end()) {
      check(loaded->second.code_key == key, "kernel '", k.symbol, "' is already loaded with different code");
      continue;
    }
    ++stats_.kernels;

    // Cached if the index names a unit that exists and (when loading) really defines
    // the symbol; anything else (missing, stale, corrupt) is simply compiled again.
    std::string unit = read_index_entry(cache.index + "/" + key);
    std::string path = unit.empty() ? "" : cache.lib + "/" + unit;
    void* handle = nullptr;
    bool usable = !path.empty() && fs::exists(path);
    if (usable && options.load) {
      handle = open_unit(path);
      usable = handle && dlsym(handle, k.symbol.c_str());
    }
    if (usable) {
      kernels_[k.symbol] = {key, path, handle};
      ++stats_.cached;
    } else {
      pending.push_back({&k, key});
    }
  }
  if (pending.empty()) return;

  size_t jobs = options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::vector<PendingKernel>> units = group_into_units(pending, options.kernels_per_unit, jobs);
  auto start = std::chrono::steady_clock::now();

  std::atomic<size_t> next_unit{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards first_error, done and the progress callback
  std::string first_error;
  size_t done = 0;
  auto compile_units = [&] {
    for (size_t u; !failed && (u = next_unit++) < units.size();) {
      std::string error;
      try {
        error = compile_unit(units[u], cache, headers, options);
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard lock(mutex);
      if (!error.empty()) {
        if (first_error.empty()) first_error = error;
        failed = true;
        continue;
      }
      done += units[u].size();
      try {
        if (options.on_progress) options.on_progress(done, pending.size());
      } catch (const std::exception& e) {  // must not escape a compiler thread
        if (first_error.empty()) first_error = e.what();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(jobs, units.size()); ++t) threads.emplace_back(compile_units);
  compile_units();
  for (std::thread& t : threads) t.join();
  stats_.compile_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (failed) throw Error(first_error);

  for (const auto& unit : units) {
    std::string path = cache.lib + "/" + unit_name(unit) + ".so";
    void* handle = nullptr;
    if (options.load) {
      handle = open_unit(path);
      if (!handle) fail("cannot load kernel unit '", path, "': ", dlerror());
    }
    for (const PendingKernel& k : unit) {
      check(!handle || dlsym(handle, k.source->symbol.c_str()) != nullptr, "kernel unit '", path,
            "' does not define '", k.source->symbol, "'");
      kernels_[k.source->symbol] = {k.key, path, handle};
    }
    ++stats_.units_compiled;
    stats_.compiled += unit.size();
  }
}

void* KernelLibrary::symbol(const std::string& name) const {
  std::string base = name;
  for (const char* suffix : {"_prepare", "_release"})
    if (!kernels_.count(name) && name.ends_with(suffix)) base = name.substr(0, name.size() - std::strlen(suffix));
  auto it = kernels_.find(base);
  check(it != kernels_.end(), "kernel symbol '", name, "' is not part of this kernel library");
  check(it->second.handle != nullptr, "kernel '", base, "' was built without loading (CompilerOptions::load)");
  void* address = dlsym(it->second.handle, name.c_str());
  check(address != nullptr, "kernel symbol '", name, "' is not defined by its kernel unit");
  return address;
}

std::vector<std::string> KernelLibrary::unit_paths() const {
  std::set<std::string> paths;
  for (const auto& [symbol, where] : kernels_) paths.insert(where.path);
  return {paths.begin(), paths.end()};
}

}  // namespace dnnf::codegen
