#include "views/export/export_job.h"

#include "core/export/vulkan_bundle_export.h"
#include "core/util/error.h"

namespace dnnf::views {

namespace {

ExportJobResult run_onnx(const ExportJobRequest& request, const JobControl& job) {
  // Rewriting's sweep count is not known ahead: a busy indicator with the sweep number.
  const exporter::OnnxExportReport r =
      exporter::export_onnx_model(request.onnx, [&job](const std::string& stage, size_t done, size_t) {
        if (stage == "rewriting") job.progress(-1, "rewriting: sweep " + std::to_string(done));
        else if (stage == "planning fusion") job.progress(done ? 90 : 60, "planning fusion");
        else job.progress(done ? 100 : 95, "writing the ONNX file");
      });
  return {request.output,
          QString("Wrote %1\n\n%2 bytes. %3 nodes imported, %4 after rewriting; %5 fused layers, "
                  "%6 fused blocks written as calls of %7 functions.")
              .arg(request.output).arg(qulonglong(r.stats.bytes)).arg(r.nodes_before).arg(r.nodes_after)
              .arg(qulonglong(r.fused_layers)).arg(qulonglong(r.stats.calls)).arg(qulonglong(r.stats.functions))};
}

ExportJobResult run_neon(const ExportJobRequest& request, const JobControl& job) {
  auto span = [](int from, int to, size_t done, size_t total) {
    return total ? from + int((to - from) * double(done) / double(total)) : from;
  };
  const exporter::NeonExportReport r = exporter::export_neon_bundle(
      request.bundle, {}, [&](const std::string& stage, size_t done, size_t total) {
        if (stage == "rewriting") job.progress(-1, "rewriting: sweep " + std::to_string(done));
        else if (stage == "planning fusion") job.progress(done ? 20 : 10, "planning fusion");
        else if (stage == "generating kernels") job.progress(span(20, 40, done, total), "generating block kernels");
        else if (stage == "compiling") job.progress(span(40, 98, done, total), "compiling for aarch64");
        else job.progress(done ? 99 : 98, "writing the bundle");
      });
  QString summary = QString("Wrote the NEON bundle %1\n\n%2 files, %3 bytes (weights %4 bytes, arena %5 bytes). "
                            "%6 nodes imported, %7 after rewriting; %8 blocks as %9 generated kernels.\n\n")
                        .arg(request.output).arg(qulonglong(r.files)).arg(qulonglong(r.bundle_bytes))
                        .arg(qulonglong(r.weights_bytes)).arg(qulonglong(r.arena_bytes)).arg(r.plan.nodes_before)
                        .arg(r.plan.nodes_after).arg(qulonglong(r.plan.blocks)).arg(qulonglong(r.plan.unique_kernels));
  if (r.compiled)
    summary += QString("Built lib/libmodel.so and a static bin/runner with %1.").arg(QString::fromStdString(r.compiler));
  else
    summary += QString("Sources only (%1): build them with the bundle's CMakeLists.txt.")
                   .arg(QString::fromStdString(r.not_compiled_why));
  return {request.output, summary};
}

ExportJobResult run_vulkan(const ExportJobRequest& request, const JobControl& job) {
  auto span = [](int from, int to, size_t done, size_t total) {
    return total ? from + int((to - from) * double(done) / double(total)) : from;
  };
  const exporter::VulkanBundleReport r = exporter::export_vulkan_bundle(
      request.bundle, {}, [&](const std::string& stage, size_t done, size_t total) {
        if (stage == "rewriting") job.progress(-1, "rewriting: sweep " + std::to_string(done));
        else if (stage == "planning fusion") job.progress(done ? 20 : 10, "planning fusion");
        else if (stage == "generating shaders") job.progress(done ? 30 : 25, "generating shaders");
        else if (stage == "compiling shaders") job.progress(span(30, 80, done, total), "compiling shaders to SPIR-V");
        else if (stage == "building") job.progress(done ? 97 : 85, "building lib/libmodel.so and bin/runner");
        else job.progress(done ? 99 : 98, "writing the bundle");
      });
  QString summary = QString("Wrote the Vulkan bundle %1\n\n%2 bytes (weights %3 bytes, arena %4 bytes). "
                            "%5 nodes imported, %6 after rewriting; %7 steps, %8 SPIR-V modules, %9 dispatches.\n\n")
                        .arg(request.output).arg(qulonglong(r.bundle_bytes)).arg(qulonglong(r.weights_bytes))
                        .arg(qulonglong(r.arena_bytes)).arg(r.nodes_before).arg(r.nodes_after)
                        .arg(qulonglong(r.blocks)).arg(qulonglong(r.shaders)).arg(qulonglong(r.dispatches));
  if (r.built) summary += "Built lib/libmodel.so and bin/runner for this machine.";
  else summary += QString("Sources only (%1): build them with the bundle's CMakeLists.txt.")
                      .arg(QString::fromStdString(r.build_note));
  return {request.output, summary};
}

}  // namespace

ExportJobResult run_export_job(const ExportJobRequest& request, const JobControl& job) {
  if (request.target == "onnx") return run_onnx(request, job);
  if (request.target == "neon") return run_neon(request, job);
  if (request.target == "vulkan") return run_vulkan(request, job);
  fail("export target '", request.target.toStdString(), "' is not available");
}

}  // namespace dnnf::views
