#include "app/cli/cpu_program_args.h"

namespace dnnf::cli {

CompiledCpuProgram compile_cpu_program(Model& model, const Args& args) {
  PipelineOptions popts;
  popts.rewrite = !args.flag("--no-rewrite");
  popts.fusion = !args.flag("--no-fusion");
  popts.use_db = !args.flag("--no-db");
  popts.db_path = args.value_or("--db", "");
  CompiledCpuProgram out;
  out.pipeline = run_pipeline(model, popts);
  CpuRuntimeOptions ropts;
  ropts.threads = int(args.int_or("--threads", 0));
  Progress progress("compiling");
  ropts.on_progress = [&](const std::string& phase, size_t done, size_t total) {
    progress.set_label(phase == "compile" ? "compiling kernels" : phase == "generate" ? "generating code"
                                                                                       : "packing weights");
    progress.update(done, total);
  };
  out.program = std::make_unique<CpuProgram>(model.graph, out.pipeline.plan, ropts);
  return out;
}

}  // namespace dnnf::cli
