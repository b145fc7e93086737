#include "core/codegen/glsl/glsl_block.h"

#include <algorithm>
#include <set>

#include "core/codegen/block_codegen.h"
#include "core/codegen/glsl/glsl_dialect.h"
#include "core/codegen/glsl/glsl_prelude.h"
#include "core/util/error.h"

namespace dnnf::codegen::glsl {

namespace {

// Every buffer is read through ld<k>(i), and through ld<k>v(i) four floats at a time
// for the slots a stage reads so. A buffer is a storage buffer at binding k: a float
// view, and a vec4 view of the same binding (no `restrict`: it aliases the float view).
// With Target::texel_reads, buffers that fit the texel limit are read from uniform
// texel buffers instead, listed in `texel_views`: an R32 view where some stage reads
// one float at a time (`scalar_reads`), an RGBA32 view for vec4 reads. That is
//  - an input always (its storage binding stays in the layout, unused);
//  - an output or scratch buffer in the stages that read it (`readers`) but do not
//    write it (`writers`): they read what earlier dispatches wrote, behind the barrier
//    between dispatches. A texel fetch need not see the writes of its own dispatch, so
//    a stage that writes the buffer reads it from storage (no stage of the test and
//    shared models reads a buffer it writes; the guard keeps such a stage correct).
//    The stage is a specialization constant, so each pipeline keeps one of the two
//    reads; with the push constant (dnnf_stage_spec < 0) every read is a storage read.
std::string buffer_declarations(const std::vector<KernelBuffer>& buffers, const std::set<int>& vec4_views,
                                const std::vector<std::set<size_t>>& readers, const std::set<size_t>& scalar_reads,
                                const std::vector<std::set<size_t>>& writers, const Target& target,
                                std::vector<TexelView>* texel_views) {
  std::string s;
  auto texel_binding = [&](size_t buffer, int components) {
    texel_views->push_back({int(buffer), components});
    return std::to_string(buffers.size() + texel_views->size() - 1);
  };
  for (size_t i = 0; i < buffers.size(); ++i) {
    const std::string k = std::to_string(i);
    const bool input = buffers[i].role == BufferRole::Input;
    const int64_t n = buffers[i].numel();
    const bool fits = target.texel_reads && n > 0 && n <= target.max_texel_elements;
    const bool read_unwritten = std::any_of(readers[i].begin(), readers[i].end(),
                                            [&](size_t st) { return !writers[i].count(st); });
    if (fits && (input || read_unwritten)) {
      // The stages that write the buffer (and the push-constant path) keep storage reads;
      // an input has no writer and no storage view.
      std::string written;
      if (!input) {
        written = "dnnf_stage_spec < 0";
        for (size_t w : writers[i]) written += " || dnnf_stage_spec == " + std::to_string(w);
        s += "layout(std430, set = 0, binding = " + k + ") restrict buffer B" + k + " { float b" + k + "[]; };\n";
      }
      // ld<k><suffix>(): a texel fetch of `components` floats, behind the writer guard.
      auto texel_read = [&](const std::string& type, const std::string& suffix, int components,
                            const std::string& pick) {
        const std::string t = "t" + k + suffix;
        s += "layout(set = 0, binding = " + texel_binding(i, components) + ") uniform samplerBuffer " + t + ";\n";
        s += type + " ld" + k + suffix + "(int i) { ";
        if (!written.empty()) s += "if (" + written + ") return b" + k + suffix + "[i]; ";
        s += "return texelFetch(" + t + ", i)" + pick + "; }\n";
      };
      if (scalar_reads.count(i)) texel_read("float", "", 1, ".x");
      if (vec4_views.count(int(i))) {
        if (!input)
          s += "layout(std430, set = 0, binding = " + k + ") readonly buffer B" + k + "v { vec4 b" + k + "v[]; };\n";
        texel_read("vec4", "v", 4, "");
      }
      continue;
    }
    s += "layout(std430, set = 0, binding = " + k + ") restrict " + (input ? "readonly " : "") + "buffer B" + k +
         " { float b" + k + "[]; };\n";
    s += "float ld" + k + "(int i) { return b" + k + "[i]; }\n";
    if (vec4_views.count(int(i))) {
      s += "layout(std430, set = 0, binding = " + k + ") readonly buffer B" + k + "v { vec4 b" + k + "v[]; };\n";
      s += "vec4 ld" + k + "v(int i) { return b" + k + "v[i]; }\n";
    }
  }
  return s;
}

std::optional<ShaderKernel> generate(const Graph& graph, const fusion::FusedBlock& block, const Target& target,
                                     std::string* why) {
  std::optional<BlockLayout> layout = plan_block(graph, block, why, /*scaled_inputs=*/true);
  if (!layout) return std::nullopt;
  for (const Stage& s : layout->stages)
    if (s.kind == StageKind::Attention && !target.attention) {
      *why = "Attention runs on the host on this device (faster there than as a shader on CPU drivers)";
      return std::nullopt;
    }
  EmitContext cx(graph, layout->nodes, &glsl_dialect());
  bind_layout(cx, *layout);
  ShaderKernel k;
  std::string functions, cases;
  int64_t shared = 0;
  std::set<int> vec4_views;
  std::vector<std::set<size_t>> writers;  // per buffer slot, the stages storing to it
  std::vector<std::string> stage_functions;
  for (size_t i = 0; i < layout->stages.size(); ++i) {
    const Stage& s = layout->stages[i];
    const std::string name = "s" + std::to_string(i);
    cx.take_accesses();
    ShaderStage st = emit_shader_stage(cx, s, name, target);
    for (const BufferAccess& a : cx.take_accesses())
      if (const int slot = cx.buffer_slot(a.value); a.write && slot >= 0) {
        writers.resize(std::max(writers.size(), size_t(slot) + 1));
        writers[size_t(slot)].insert(i);
      }
    if (cx.unsupported()) {
      *why = cx.unsupported_reason();
      return std::nullopt;
    }
    functions += st.function;
    stage_functions.push_back(st.function);
    cases += "    case " + std::to_string(i) + ": " + name + "(); break;\n";
    shared = std::max(shared, st.shared_floats);
    vec4_views.insert(st.vec4_views.begin(), st.vec4_views.end());
    k.dispatches.push_back({st.groups, st.what});
    k.merged_epilogues += int(s.epilogue.size());
    if (s.store_value) cx.set_available(s.value, true);
    for (const std::string& e : s.epilogue) cx.set_available(e, true);
  }
  if (shared * 4 > target.shared_bytes) {
    *why = "shader needs " + std::to_string(shared * 4) + " bytes of shared memory";
    return std::nullopt;
  }
  std::string src = "#version 450\n";
  if (target.gemm == GemmShape::RowsBroadcast) src += "#extension GL_KHR_shader_subgroup_ballot : require\n";
  src += "// Generated by dnnf: one fused block.\n";
  src += "layout(local_size_x = " + std::to_string(target.local_size) + ") in;\n";
  // The stage to run: a specialization constant when the pipeline sets one (the
  // runtime makes one pipeline per stage, so the compiler sees one stage's code and no
  // branch around it), else the push constant (exported bundles).
  src += "layout(push_constant) uniform DnnfPush { int stage; } dnnf_pc;\n";
  src += "layout(constant_id = 0) const int dnnf_stage_spec = -1;\n";
  // Every read is a call of ld<slot>() or ld<slot>v(): the stages whose code calls one
  // read the slot.
  writers.resize(cx.buffers().size());
  std::vector<std::set<size_t>> readers(cx.buffers().size());
  std::set<size_t> scalar_reads;  // slots some stage reads one float at a time
  for (size_t slot = 0; slot < readers.size(); ++slot)
    for (size_t i = 0; i < stage_functions.size(); ++i) {
      const std::string ld = "ld" + std::to_string(slot);
      const bool scalar = stage_functions[i].find(ld + "(") != std::string::npos;
      if (scalar) scalar_reads.insert(slot);
      if (scalar || stage_functions[i].find(ld + "v(") != std::string::npos) readers[slot].insert(i);
    }
  src += buffer_declarations(cx.buffers(), vec4_views, readers, scalar_reads, writers, target, &k.texel_views);
  if (shared > 0) src += "shared float sh_[" + std::to_string(shared) + "];\n";
  src += prelude();
  src += cx.globals();
  src += functions;
  src += "void main() {\n  switch (dnnf_stage_spec >= 0 ? dnnf_stage_spec : dnnf_pc.stage) {\n" + cases +
         "    default: break;\n  }\n}\n";
  k.source = std::move(src);
  k.buffers = cx.buffers();
  return k;
}

}  // namespace

std::optional<ShaderKernel> generate_shader(const Graph& graph, const fusion::FusedBlock& block, const Target& target,
                                            std::string* why) {
  try {
    return generate(graph, block, target, why);
  } catch (const Error& e) {
    *why = e.what();
    return std::nullopt;
  }
}

}  // namespace dnnf::codegen::glsl
