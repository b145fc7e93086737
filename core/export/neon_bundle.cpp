#include "core/export/neon_bundle.h"

#include "core/export/bundle_sources.h"
#include "core/export/bundle_writer.h"
#include "core/export/neon_program.h"

namespace dnnf::exporter {

namespace {

// The runtime sources every NEON bundle carries, at their dnnf source paths under src/
// (so their #include lines work unchanged), and the bundle's own build files.
void add_runtime_sources(BundleWriter& w, std::vector<std::string>& library_sources) {
  for (const char* folder : {"kernels/abi/", "kernels/simd/", "kernels/cpu/"})
    for (const std::string& path : bundle_sources_under(folder)) {
      w.add_file("src/" + path, bundle_source(path));
      if (path.ends_with(".cpp")) library_sources.push_back("src/" + path);
    }
  for (const char* path : {"core/runtime/thread_pool.h", "core/runtime/thread_pool.cpp"})
    w.add_file(std::string("src/") + path, bundle_source(path));
  library_sources.push_back("src/core/runtime/thread_pool.cpp");
  w.add_file("src/runtime/plan_table.h", bundle_source("kernels/bundle/neon/plan_table.h"));
  w.add_file("src/kernels/bundle/interp/host_interpreter.h", bundle_source("kernels/bundle/interp/host_interpreter.h"));
  w.add_file("src/runtime/neon_runtime.cpp", bundle_source("kernels/bundle/neon/neon_runtime.cpp"));
  library_sources.push_back("src/runtime/neon_runtime.cpp");
  w.add_file("CMakeLists.txt", bundle_source("kernels/bundle/neon/CMakeLists.txt"));
}

}  // namespace

NeonExportReport export_neon_bundle(const BundleRequest& request, const NeonExportOptions& options,
                                    const BundleProgressFn& progress) {
  auto report = [&](const std::string& stage, size_t done, size_t total) {
    if (progress) progress(stage, done, total);
  };
  BundleWriter w(request.output_dir);  // checks DIR before the long stages
  PlannedModel pm = plan_for_bundle(request, "neon", progress);

  report("generating kernels", 0, pm.result.plan.blocks.size());
  const NeonProgram program = build_neon_program(pm.model.graph, pm.result.plan, [&](size_t done, size_t total) {
    report("generating kernels", done, total);
  });

  report("writing", 0, 1);
  std::vector<std::string> library_sources;
  add_common_bundle_files(w);
  add_runtime_sources(w, library_sources);
  for (const NeonKernel& k : program.kernels) {
    const std::string rel = "src/blocks/" + k.symbol + ".cpp";
    w.add_file(rel, neon_kernel_file(k));
    library_sources.push_back(rel);
  }
  w.add_file("src/runtime/plan.cpp", neon_plan_source(program, pm.manifest.model_file));
  library_sources.push_back("src/runtime/plan.cpp");
  if (program.interp) {
    for (const std::string& path : interpreter_bundle_sources()) {
      w.add_file("src/" + path, bundle_source(path));
      if (path.ends_with(".cpp")) library_sources.push_back("src/" + path);
    }
    w.add_file("interp.txt", dnnf_bundle::write_interp_plan(*program.interp));
  }
  w.add_file("weights.bin", program.weights.bytes());
  report("writing", 1, 1);

  NeonExportReport out;
  const std::optional<std::string> cxx =
      !options.cxx.empty() ? std::optional<std::string>(options.cxx) : find_aarch64_compiler();
  if (!options.compile) {
    out.not_compiled_why = "not asked to compile";
  } else if (!cxx) {
    out.not_compiled_why = "no aarch64 cross compiler (aarch64-linux-gnu-g++ or $DNNF_AARCH64_CXX) found";
  } else {
    NeonBuildOptions bopt;
    bopt.cxx = *cxx;
    bopt.cache_dir = options.cache_dir;
    bopt.on_progress = [&](size_t done, size_t total) { report("compiling", done, total); };
    report("compiling", 0, library_sources.size() + 1);
    out.build = build_neon_binaries(w, library_sources, "src/runner/runner.cpp", bopt);
    out.compiled = true;
    out.compiler = *cxx;
  }

  BundleManifest& m = pm.manifest;
  m.plan.blocks = program.steps.size();
  size_t interpreted = 0;
  for (const NeonStep& st : program.steps) interpreted += st.host_step >= 0 ? 1 : 0;
  m.plan.unique_kernels = program.kernels.size();
  m.weights = program.weights.table();
  nlohmann::json flags = nlohmann::json::array();
  for (const std::string& f : neon_compile_flags()) flags.push_back(f);
  m.target_details = {{"arch", "aarch64"},
                      {"arena_bytes", program.arena_bytes},
                      {"arena_bytes_without_reuse", program.unplanned_bytes},
                      {"weights_bytes", program.weights.bytes().size()},
                      {"interpreted_steps", interpreted},
                      {"binaries", out.compiled},
                      {"compiler", out.compiled ? nlohmann::json(out.compiler) : nlohmann::json()},
                      {"compile_flags", flags}};
  out.files = w.files().size() + 1;
  out.bundle_bytes = w.commit(m.to_json());
  out.plan = m.plan;
  out.interpreted_steps = interpreted;
  out.weights_bytes = program.weights.bytes().size();
  out.arena_bytes = program.arena_bytes;
  return out;
}

}  // namespace dnnf::exporter
