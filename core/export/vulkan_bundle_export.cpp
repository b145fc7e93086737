#include "core/export/vulkan_bundle_export.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <fstream>
#include <sstream>

#include "core/codegen/cache_files.h"
#include "core/codegen/content_hash.h"
#include "core/codegen/kernel_compiler.h"
#include "core/codegen/subprocess.h"
#include "core/export/bundle_sources.h"
#include "core/export/bundle_writer.h"
#include "core/export/vulkan_bundle_plan_builder.h"
#include "core/util/error.h"
#ifdef DNNF_HAVE_VULKAN
#include "core/vulkan/vk_pipeline.h"
#endif

namespace dnnf::exporter {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRuntimeFolder = "kernels/bundle/vulkan/";
constexpr const char* kRunnerFolder = "kernels/bundle/runner/";
constexpr const char* kHeader = "kernels/bundle/include/dnnf_model.h";

// Fixed flags: no debug information, no symbol table (it would name the staging
// folder), the C API exported as it is. The bundle's CMakeLists.txt uses the same.
const std::vector<std::string> kCompileFlags = {"-std=c++17", "-O2", "-fPIC", "-g0", "-s", "-Wall"};

// A bundle with host steps ships the interpreter (dnnf's IR and reference kernels), which
// is C++20: the whole library is compiled so.
std::vector<std::string> compile_flags(bool interpreter) {
  std::vector<std::string> flags = kCompileFlags;
  if (interpreter) flags[0] = "-std=c++20";
  return flags;
}

std::string bundle_cmakelists(const std::vector<std::string>& runtime, const std::vector<std::string>& runner,
                              bool interpreter) {
  std::string s =
      "# Builds this dnnf Vulkan bundle: lib/libmodel.so (the C API of include/dnnf_model.h) and\n"
      "# bin/runner. Needs a C++" + std::string(interpreter ? "20" : "17") +
      " compiler and the Vulkan headers (libvulkan-dev); the library\n"
      "# opens the Vulkan loader (libvulkan.so.1) when a model is created.\n"
      "#   cmake -S . -B build && cmake --build build   ->  build/lib/libmodel.so, build/bin/runner\n"
      "cmake_minimum_required(VERSION 3.16)\n"
      "project(dnnf_vulkan_bundle CXX)\n"
      "set(CMAKE_CXX_STANDARD " + std::string(interpreter ? "20" : "17") + ")\n"
      "set(CMAKE_CXX_STANDARD_REQUIRED ON)\n"
      "if(NOT CMAKE_BUILD_TYPE)\n  set(CMAKE_BUILD_TYPE Release)\nendif()\n"
      "find_path(DNNF_VULKAN_INCLUDE_DIR vulkan/vulkan.h)\n"
      "if(NOT DNNF_VULKAN_INCLUDE_DIR)\n"
      "  message(FATAL_ERROR \"vulkan/vulkan.h not found: install the Vulkan headers (Debian: libvulkan-dev)\")\n"
      "endif()\n"
      "add_library(model SHARED";
  for (const std::string& f : runtime)
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".cpp") == 0) s += "\n  src/" + f;
  s += ")\n"
       "target_include_directories(model PRIVATE include src ${DNNF_VULKAN_INCLUDE_DIR})\n"
       "target_link_libraries(model PRIVATE ${CMAKE_DL_LIBS})\n"
       "set_target_properties(model PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)\n"
       "add_executable(runner";
  for (const std::string& f : runner)
    if (f.size() > 4 && f.compare(f.size() - 4, 4, ".cpp") == 0) s += "\n  src/" + f;
  s += ")\n"
       "target_include_directories(runner PRIVATE include)\n"
       "target_link_libraries(runner PRIVATE model)\n"
       "set_target_properties(runner PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin\n"
       "                      BUILD_RPATH \"\\$ORIGIN/../lib\" INSTALL_RPATH \"\\$ORIGIN/../lib\")\n";
  return s;
}

// The first program named `name` on PATH, or "".
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// Where Debian's libvulkan-dev puts them; the bundle's CMakeLists.txt searches properly.
bool have_vulkan_headers() {
  for (const char* dir : {"/usr/include", "/usr/local/include"})
    if (fs::exists(fs::path(dir) / "vulkan" / "vulkan.h")) return true;
  return false;
}

// Runs the compiler; on failure throws its first error line.
void compile(const std::vector<std::string>& argv, const std::string& what) {
  static std::atomic<int> calls{0};
  const fs::path log = fs::temp_directory_path() / ("dnnf-vulkan-bundle-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(calls++) + ".log");
  const codegen::ProcessResult r = codegen::run_process(argv, log.string());
  std::string first;
  {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line))
      if (line.find("error") != std::string::npos) {
        first = line;
        break;
      }
  }
  std::error_code ec;
  fs::remove(log, ec);
  check(r.started, "cannot run ", argv[0], ": ", r.error);
  check(r.exit_code == 0, "building ", what, " failed: ", first.empty() ? r.error : first);
}

// `sources` compiled to objects with `base` (as many compilers at once as there are
// hardware threads: a bundle with host steps has some 45 sources, mostly the
// interpreter's), then linked with `link` in source order. The objects live in a
// temporary folder; stripped, the library does not name them.
void compile_and_link(const std::vector<std::string>& base, const std::vector<std::string>& sources,
                      std::vector<std::string> link, const std::string& what) {
  static std::atomic<int> builds{0};
  const fs::path objects = fs::temp_directory_path() / ("dnnf-vulkan-objects-" + std::to_string(::getpid()) + "-" +
                                                        std::to_string(builds++));
  std::error_code ec;
  fs::create_directories(objects, ec);
  check(!ec, "cannot create '", objects.string(), "': ", ec.message());
  std::vector<std::string> outs;
  for (size_t i = 0; i < sources.size(); ++i) outs.push_back((objects / (std::to_string(i) + ".o")).string());
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::string first_error;
  auto worker = [&] {
    for (size_t i; (i = next++) < sources.size();) {
      {
        std::lock_guard lock(mutex);
        if (!first_error.empty()) return;
      }
      try {
        std::vector<std::string> argv = base;
        argv.insert(argv.end(), {"-c", sources[i], "-o", outs[i]});
        compile(argv, what);
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        if (first_error.empty()) first_error = e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  const size_t jobs = std::max(1u, std::thread::hardware_concurrency());
  for (size_t t = 1; t < std::min(jobs, sources.size()); ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (first_error.empty()) {
    link.insert(link.end() - 1, outs.begin(), outs.end());  // before the trailing library (-ldl)
    try {
      compile(link, what);
    } catch (const std::exception& e) {
      first_error = e.what();
    }
  }
  fs::remove_all(objects, ec);
  if (!first_error.empty()) throw Error(first_error);
}

// What identifies the compiler binary: its resolved path, size and modification time.
std::string compiler_identity(const std::string& compiler) {
  std::error_code ec;
  const fs::path real = fs::canonical(compiler, ec);
  const fs::path p = ec ? fs::path(compiler) : real;
  const auto size = fs::file_size(p, ec);
  const auto time = fs::last_write_time(p, ec).time_since_epoch().count();
  return p.string() + " " + std::to_string(size) + " " + std::to_string(time);
}

// lib/libmodel.so and bin/runner inside the staging folder, from the files just written.
// Neither depends on the model (plan.txt, weights.bin and shaders/ are read at run time),
// so they are cached by their sources, flags and compiler under the kernel cache
// ($DNNF_KERNEL_CACHE, ...): after the first export, others copy them. Returns whether
// they came from the cache.
bool build_binaries(BundleWriter& w, const std::string& compiler, const std::vector<std::string>& runtime,
                    const std::vector<std::string>& runner, bool interpreter) {
  const std::vector<std::string> flags = compile_flags(interpreter);
  codegen::ContentHash key;
  key.add("dnnf vulkan bundle binaries 2").add(compiler_identity(compiler));
  for (const std::string& f : flags) key.add(f);
  for (const std::string& f : runtime) key.add(f).add(bundle_source(f));
  for (const std::string& f : runner) key.add(f).add(bundle_source(f));
  key.add(bundle_source(kHeader));
  const fs::path cached = fs::path(codegen::cache_dir(codegen::CompilerOptions{})) / "vulkan_bundle" / key.hex();
  const auto lib_bytes = codegen::read_file((cached / "libmodel.so").string());
  const auto runner_bytes = codegen::read_file((cached / "runner").string());
  if (lib_bytes && runner_bytes) {
    w.add_file("lib/libmodel.so", *lib_bytes, true);
    w.add_file("bin/runner", *runner_bytes, true);
    return true;
  }

  const std::string root = w.staging_dir();
  std::vector<std::string> base = {compiler};
  base.insert(base.end(), flags.begin(), flags.end());
  base.push_back("-ffile-prefix-map=" + root + "/=");
  base.push_back("-I" + root + "/include");
  base.push_back("-I" + root + "/src");
  std::vector<std::string> lib_sources;
  for (const std::string& f : runtime)
    if (f.ends_with(".cpp")) lib_sources.push_back(root + "/src/" + f);
  std::vector<std::string> lib = base;
  lib.insert(lib.end(), {"-shared", "-Wl,-soname,libmodel.so", "-o", w.staging_path("lib/libmodel.so"), "-ldl"});
  compile_and_link(base, lib_sources, lib, "lib/libmodel.so");
  w.adopt_file("lib/libmodel.so");
  std::vector<std::string> exe = base;
  exe.insert(exe.end(), {"-o", w.staging_path("bin/runner")});
  for (const std::string& f : runner)
    if (f.ends_with(".cpp")) exe.push_back(root + "/src/" + f);
  exe.insert(exe.end(), {"-L" + root + "/lib", "-lmodel", "-Wl,-rpath,$ORIGIN/../lib"});
  compile(exe, "bin/runner");
  w.adopt_file("bin/runner");
  // Best effort: a read-only cache only costs the next export a compile.
  try {
    codegen::make_directories(cached.string());
    codegen::write_file_atomically((cached / "libmodel.so").string(),
                                   *codegen::read_file(w.staging_path("lib/libmodel.so")));
    codegen::write_file_atomically((cached / "runner").string(), *codegen::read_file(w.staging_path("bin/runner")));
  } catch (const Error&) {
  }
  return false;
}

std::string spirv_bytes(const std::string& source, const std::string& name) {
#ifdef DNNF_HAVE_VULKAN
  const std::vector<uint32_t> words = vk::compile_glsl(source, name).words;
  return std::string(reinterpret_cast<const char*>(words.data()), words.size() * sizeof(uint32_t));
#else
  (void)source;
  fail("cannot compile ", name, ": this dnnf was built without Vulkan support (needs libvulkan-dev and "
       "libshaderc-dev at build time)");
#endif
}

}  // namespace

VulkanBundleReport export_vulkan_bundle(const BundleRequest& request, const VulkanBundleOptions& options,
                                        const BundleProgressFn& progress) {
  auto report = [&](const std::string& stage, size_t done, size_t total) {
    if (progress) progress(stage, done, total);
  };
  // Refuse an unwritable destination before the long stages.
  BundleWriter writer(request.output_dir);
  // The bundle keeps attention as its primitives (MatMul, Softmax, ...): dnnf.Attention's
  // shader holds a row of scores in shared memory, which the 16 KB every device
  // guarantees limits to about 4000 keys, and dnnf's runtime runs it on the host on CPU
  // drivers.
  BundleRequest vulkan_request = request;
  vulkan_request.disabled_rules.push_back("attention-from-primitives");
  PlannedModel pm = plan_for_bundle(vulkan_request, "vulkan", progress);

  report("generating shaders", 0, 1);
  VulkanBundleLimits limits;
  limits.local_size = options.local_size;
  VulkanBundleContent c = build_vulkan_bundle_plan(pm.model.graph, pm.result.plan, limits);
  report("generating shaders", 1, 1);

  for (size_t i = 0; i < c.shader_sources.size(); ++i) {
    report("compiling shaders", i, c.shader_sources.size());
    writer.add_file(c.plan.shaders[i].file, spirv_bytes(c.shader_sources[i], c.plan.shaders[i].file));
  }
  report("compiling shaders", c.shader_sources.size(), c.shader_sources.size());

  report("writing", 0, 1);
  writer.add_file("plan.txt", write_vulkan_plan(c.plan));
  writer.add_file("weights.bin", c.weights.bytes());
  writer.add_file("include/dnnf_model.h", bundle_source(kHeader));
  const bool interpreter = c.interp.has_value();
  std::vector<std::string> runtime = bundle_sources_under(kRuntimeFolder);
  runtime.push_back("kernels/bundle/interp/host_interpreter.h");
  if (interpreter) {
    writer.add_file("interp.txt", dnnf_bundle::write_interp_plan(*c.interp));
    for (const std::string& f : interpreter_bundle_sources()) runtime.push_back(f);
  }
  std::sort(runtime.begin(), runtime.end());
  const std::vector<std::string> runner = bundle_sources_under(kRunnerFolder);
  check(!runtime.empty() && !runner.empty(), "this dnnf build embeds no Vulkan bundle runtime");
  for (const std::string& f : runtime) writer.add_file("src/" + f, bundle_source(f));
  for (const std::string& f : runner) writer.add_file("src/" + f, bundle_source(f));
  writer.add_file("CMakeLists.txt", bundle_cmakelists(runtime, runner, interpreter));

  VulkanBundleReport r;
  if (options.build) {
    const std::string compiler = find_program("c++");
    if (compiler.empty()) {
      r.build_note = "no host C++ compiler (c++) on PATH: sources only";
    } else if (!have_vulkan_headers()) {
      r.build_note = "no Vulkan headers (vulkan/vulkan.h; Debian: libvulkan-dev): sources only";
    } else {
      report("building", 0, 1);
      r.binaries_cached = build_binaries(writer, compiler, runtime, runner, interpreter);
      report("building", 1, 1);
      r.built = true;
    }
  } else {
    r.build_note = "not built (asked not to)";
  }

  r.blocks = c.blocks;
  r.split_blocks = c.split_blocks;
  r.shaders = c.plan.shaders.size();
  r.host_steps = c.plan.host_step_count();
  r.dispatches = c.plan.dispatch_count();
  r.barriers = c.plan.barrier_count();
  r.arena_bytes = c.plan.arena_bytes;
  r.weights_bytes = c.plan.weights_bytes;
  r.nodes_before = pm.manifest.plan.nodes_before;
  r.nodes_after = pm.manifest.plan.nodes_after;
  r.fused_layers = pm.manifest.plan.fused_layers;

  BundleManifest& m = pm.manifest;
  m.plan.blocks = c.blocks;
  m.plan.unique_kernels = c.plan.shaders.size();
  m.weights = c.weights.table();
  m.target_details = {{"plan", "plan.txt"},
                      {"local_size", c.plan.local_size},
                      {"shared_bytes", c.plan.shared_bytes},
                      {"max_bindings", c.plan.max_bindings},
                      {"arena_bytes", c.plan.arena_bytes},
                      {"dispatches", r.dispatches},
                      {"barriers", r.barriers},
                      {"split_blocks", c.split_blocks},
                      {"load_time_values", c.load_time_values},
                      {"element_type", "every value is float32 on the device"},
                      {"built", r.built}};
  m.target_details["host_steps"] = c.plan.host_step_count();
  if (r.built) m.target_details["compile_flags"] = compile_flags(interpreter);
  else m.target_details["build_note"] = r.build_note;
  r.bundle_bytes = writer.commit(m.to_json());
  report("writing", 1, 1);
  return r;
}

}  // namespace dnnf::exporter
