#include "core/export/neon_cross_compile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/codegen/cache_files.h"
#include "core/codegen/content_hash.h"
#include "core/codegen/kernel_compiler.h"
#include "core/codegen/subprocess.h"
#include "core/export/bundle_sources.h"
#include "core/util/error.h"

namespace dnnf::exporter {

namespace fs = std::filesystem;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && ::access((fs::path(d) / program).c_str(), X_OK) == 0) return true;
  return false;
}

std::vector<std::string> split_on_spaces(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string first_error_line(const std::string& log) {
  std::istringstream in(log);
  std::string first;
  for (std::string line; std::getline(in, line);) {
    if (line.find("error") != std::string::npos) return line;
    if (first.empty() && line.find_first_not_of(" \t") != std::string::npos) first = line;
  }
  return first;
}

// Runs argv; on failure throws with the first error line of its output.
void run_or_fail(const std::vector<std::string>& argv, const std::string& log, const std::string& what) {
  const codegen::ProcessResult r = codegen::run_process(argv, log);
  if (r.started && r.exit_code == 0) {
    std::error_code ec;
    fs::remove(log, ec);
    return;
  }
  std::string reason = r.error;
  if (reason.empty()) reason = first_error_line(codegen::read_file(log).value_or(""));
  if (reason.empty()) reason = "exit code " + std::to_string(r.exit_code);
  fail(what, " failed: ", reason, " (log kept at ", log, ")");
}

// What identifies the compiler: its name and its --version text.
std::string compiler_identity(const std::string& cxx, const std::string& scratch) {
  std::vector<std::string> argv = split_on_spaces(cxx);
  argv.push_back("--version");
  const std::string log = codegen::temp_name_for(scratch + "/version.log");
  const codegen::ProcessResult r = codegen::run_process(argv, log);
  std::string text = codegen::read_file(log).value_or("");
  std::error_code ec;
  fs::remove(log, ec);
  check(r.started && r.exit_code == 0, "cannot run the aarch64 compiler '", cxx, "': ",
        r.error.empty() ? first_error_line(text) : r.error);
  return cxx + "\n" + text;
}

}  // namespace

std::optional<std::string> find_aarch64_compiler() {
  if (const char* env = std::getenv("DNNF_AARCH64_CXX")) {
    const std::vector<std::string> words = split_on_spaces(env);
    if (words.empty() || !on_path(words.back())) return std::nullopt;
    return std::string(env);
  }
  if (on_path("aarch64-linux-gnu-g++")) return std::string("aarch64-linux-gnu-g++");
  return std::nullopt;
}

const std::vector<std::string>& neon_compile_flags() {
  // armv8-a: every aarch64 core has NEON (Advanced SIMD), so the vector code is NEON.
  // No -ffast-math: the SIMD layer relies on IEEE semantics (kernels/simd/simd.h).
  static const std::vector<std::string> flags = {"-O3", "-march=armv8-a", "-std=c++17", "-fPIC",
                                                 "-fno-math-errno", "-ffp-contract=fast", "-fvisibility=hidden",
                                                 "-pthread"};
  return flags;
}

NeonBuildStats build_neon_binaries(BundleWriter& bundle, const std::vector<std::string>& library_sources,
                                   const std::string& runner_source, const NeonBuildOptions& options) {
  NeonBuildStats stats;
  codegen::CompilerOptions copt;
  copt.cache_dir = options.cache_dir;
  const std::string cache = codegen::cache_dir(copt) + "/neon-objects";
  codegen::make_directories(cache);
  const std::string root = bundle.staging_dir();
  const std::string identity = compiler_identity(options.cxx, cache);

  // Every header of the bundle goes into each object's key: a source's includes are
  // among them, and they are the same few files in every NEON bundle.
  codegen::ContentHash headers;
  for (const auto& [rel, entry] : bundle.files())
    if (rel.ends_with(".h")) headers.add(rel).add(entry.at("sha256").get<std::string>());
  const std::vector<std::string> includes = {"-I" + root + "/include", "-I" + root + "/src", "-I" + root + "/src/runtime",
                                             "-I" + root + "/src/kernels/abi", "-I" + root + "/src/kernels/simd"};

  std::vector<std::string> sources = library_sources;
  std::sort(sources.begin(), sources.end());
  sources.push_back(runner_source);
  std::vector<std::string> objects(sources.size());
  std::vector<bool> cached(sources.size(), false);
  for (size_t i = 0; i < sources.size(); ++i) {
    codegen::ContentHash key;
    key.add("neon-object-1").add(identity).add(headers.hex()).add(sources[i]);
    for (const std::string& f : neon_compile_flags()) key.add(f);
    if (bundle_source_needs_cxx20(sources[i])) key.add("-std=c++20").add("-O2");
    key.add(bundle.files().at(sources[i]).at("sha256").get<std::string>());
    objects[i] = cache + "/" + key.hex() + ".o";
    cached[i] = fs::exists(objects[i]);
  }

  const auto t0 = std::chrono::steady_clock::now();
  const size_t jobs = options.jobs > 0 ? size_t(options.jobs) : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string first_error;
  size_t done = 0;
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < sources.size();) {
      try {
        if (!cached[i]) {
          const std::string temp = codegen::temp_name_for(objects[i]);
          std::vector<std::string> argv = split_on_spaces(options.cxx);
          argv.insert(argv.end(), neon_compile_flags().begin(), neon_compile_flags().end());
          // The interpreter (dnnf's IR and reference kernels) is C++20, and compiled at -O2:
          // -O3 took 2.6 times as long to compile its 40 files (299 s against 114 s at -O1
          // on 2 cores), for plain loops over the few data-dependent nodes. The last flag wins.
          if (bundle_source_needs_cxx20(sources[i])) argv.insert(argv.end(), {"-std=c++20", "-O2"});
          argv.insert(argv.end(), includes.begin(), includes.end());
          argv.insert(argv.end(), {"-ffile-prefix-map=" + root + "=.", "-c", root + "/" + sources[i], "-o", temp});
          run_or_fail(argv, objects[i] + ".log", "aarch64 compile of " + sources[i]);
          std::error_code ec;
          fs::rename(temp, objects[i], ec);
          check(!ec, "cannot store '", objects[i], "': ", ec.message());
        }
        std::lock_guard lock(mutex);
        ++done;
        if (options.on_progress) options.on_progress(done, sources.size());
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        if (first_error.empty()) first_error = e.what();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(jobs, sources.size()); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (failed) throw Error(first_error);
  stats.objects = sources.size();
  stats.cached = size_t(std::count(cached.begin(), cached.end(), true));
  stats.compile_ms = ms_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::string> lib_objects(objects.begin(), objects.end() - 1);
  std::vector<std::string> argv = split_on_spaces(options.cxx);
  argv.insert(argv.end(), {"-shared", "-pthread", "-Wl,-soname,libmodel.so", "-o", bundle.staging_path("lib/libmodel.so")});
  argv.insert(argv.end(), lib_objects.begin(), lib_objects.end());
  const std::string link_log = codegen::temp_name_for(cache + "/link.log");
  run_or_fail(argv, link_log, "linking lib/libmodel.so");
  ::chmod(bundle.staging_path("lib/libmodel.so").c_str(), 0755);  // not the umask's mode
  bundle.adopt_file("lib/libmodel.so");

  argv = split_on_spaces(options.cxx);
  argv.insert(argv.end(), {"-static", "-pthread", "-o", bundle.staging_path("bin/runner"), objects.back()});
  argv.insert(argv.end(), lib_objects.begin(), lib_objects.end());
  run_or_fail(argv, link_log, "linking bin/runner");
  ::chmod(bundle.staging_path("bin/runner").c_str(), 0755);
  bundle.adopt_file("bin/runner");
  stats.link_ms = ms_since(t1);
  return stats;
}

}  // namespace dnnf::exporter
