#include "core/vulkan/vk_program.h"

#include <chrono>
#include <map>
#include <set>

#include "core/codegen/content_hash.h"
#include "core/codegen/glsl/glsl_block.h"
#include "core/util/error.h"
#include "core/vulkan/vk_buffers.h"
#include "core/vulkan/vk_pipeline.h"

namespace dnnf::vk {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Work-group size for this device: a power of two within its limits, 256 on GPUs. A
// CPU driver (lavapipe) runs each work group on one thread and switches between its
// invocations at every barrier(), so small groups spread over more threads and switch
// less: 32 there (BERT-base small: 11.4 ms at 256, 3.9 ms at 32; 16 and 8 are slower).
// The GEMM shape follows the same split (see emit_gemm_rows in glsl_gemm.cpp), unless
// the caller pins one. So does Attention: CPU drivers run it on the host, where the
// reference kernel is faster than the shader (BERT-base on lavapipe, 2-core AMD EPYC:
// 7 ms per attention block on the host against 58 ms as a shader, which spends its
// time in per-lane loads); elsewhere it is a shader. CPU drivers also read inputs
// through texel buffers: llvmpipe turns a storage-buffer load into a loop over the
// lanes, each lane's float checked against the buffer size in a branch and inserted
// into the vector through the stack (a store-forwarding stall), while a texel fetch is
// a straight-line gather.
codegen::glsl::Target target_for(const DeviceInfo& d, std::optional<codegen::glsl::GemmShape> gemm = std::nullopt,
                                 std::optional<bool> attention = std::nullopt,
                                 std::optional<bool> texel_reads = std::nullopt) {
  codegen::glsl::Target t;
  const uint32_t want = d.type == "cpu" ? 32u : 256u;
  const uint32_t cap = std::min<uint32_t>({want, d.max_workgroup_invocations, d.max_workgroup_size[0]});
  t.local_size = 1;
  while (uint32_t(t.local_size) * 2 <= cap) t.local_size *= 2;
  t.shared_bytes = d.max_shared_memory;
  using codegen::glsl::GemmShape;
  t.gemm = gemm ? *gemm : d.type == "cpu" ? GemmShape::RowsBroadcast : GemmShape::Tiles;
  if (t.gemm == GemmShape::RowsBroadcast && !d.subgroup_ballot) t.gemm = GemmShape::Rows;
  t.subgroup_size = int(d.subgroup_size);
  t.attention = attention ? *attention : d.type != "cpu";
  t.texel_reads = texel_reads ? *texel_reads : d.type == "cpu";
  t.max_texel_elements = d.max_texel_buffer_elements;
  return t;
}

// A buffer of `k` larger than one descriptor may address (maxStorageBufferRange: 128 MB
// on lavapipe and many GPUs), or nullptr.
const std::string* over_range(const codegen::glsl::ShaderKernel& k, const DeviceInfo& d) {
  for (const codegen::KernelBuffer& b : k.buffers)
    if (uint64_t(b.numel()) * sizeof(float) > d.max_storage_buffer_range) return &b.value;
  return nullptr;
}

}  // namespace

fusion::FusionPlan split_blocks_without_shader(const Graph& graph, const fusion::FusionPlan& plan,
                                               const DeviceInfo& device, size_t* split) {
  const codegen::glsl::Target target = target_for(device);
  fusion::FusionPlan out = plan;
  out.blocks.clear();
  size_t n = 0;
  for (const fusion::FusedBlock& b : plan.blocks) {
    bool keep = b.nodes.size() < 2;
    if (!keep) {
      std::string why;
      const auto k = codegen::glsl::generate_shader(graph, b, target, &why);
      keep = k && k->buffers.size() <= device.max_storage_buffers && !over_range(*k, device);
    }
    if (keep) {
      out.blocks.push_back(b);
      continue;
    }
    ++n;
    for (NodeId id : b.nodes) {
      fusion::FusedBlock single;
      single.nodes = {id};
      single.type = b.type;
      out.blocks.push_back(single);
    }
  }
  if (split) *split = n;
  if (n > 0) fusion::finish_plan(graph, out);
  return out;
}

struct VulkanProgram::Impl {
  struct Step {
    const fusion::FusedBlock* block = nullptr;
    std::vector<const Node*> nodes;
    bool shader = false;
    codegen::glsl::ShaderKernel kernel;
    const ComputePipeline* pipeline = nullptr;
    VkDescriptorSet set = VK_NULL_HANDLE;
    int segment = -1;
    uint32_t first_query = 0;               // timestamp before its first dispatch
    std::vector<std::string> uploads_after;  // host step: its results read by shaders
  };
  struct Segment {
    size_t first_step = 0, end_step = 0;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    uint32_t first_query = 0, queries = 0;
  };

  const Graph& g;
  std::unique_ptr<Context> cx;
  std::unique_ptr<BufferPool> pool;
  std::vector<Step> steps;
  std::vector<Segment> segments;
  std::map<std::string, std::unique_ptr<ComputePipeline>> pipelines;  // by source hash
  std::map<std::string, DeviceBuffer> device;  // every value a shader touches
  std::set<std::string> shader_results;        // values shaders write (downloaded on demand)
  std::vector<std::string> input_uploads;      // graph inputs shaders read
  TensorMap constants;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  std::vector<VkBufferView> buffer_views;      // the texel views of every step
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkQueryPool query_pool = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VulkanRuntimeStats stats;

  Impl(const Graph& graph, const fusion::FusionPlan& plan, const VulkanRuntimeOptions& o) : g(graph) {
    cx = std::make_unique<Context>(o.context);
    pool = std::make_unique<BufferPool>(*cx);
    stats.device = cx->info().name + " (" + cx->info().type + ")";
    run_constant_nodes();
    generate(plan, o);
    build_pipelines(o);
    allocate_buffers();
    create_descriptor_sets();
    record_command_buffers();
  }

  ~Impl() {
    const Functions& f = cx->vk();
    VkDevice d = cx->device();
    f.vkDeviceWaitIdle(d);
    if (fence) f.vkDestroyFence(d, fence, nullptr);
    if (query_pool) f.vkDestroyQueryPool(d, query_pool, nullptr);
    if (command_pool) f.vkDestroyCommandPool(d, command_pool, nullptr);
    if (descriptor_pool) f.vkDestroyDescriptorPool(d, descriptor_pool, nullptr);
    for (VkBufferView v : buffer_views) f.vkDestroyBufferView(d, v, nullptr);
    pipelines.clear();
    pool.reset();
  }

  const Tensor* constant_value(const std::string& v) const {
    if (auto it = constants.find(v); it != constants.end()) return &it->second;
    if (auto it = g.initializers.find(v); it != g.initializers.end()) return &it->second;
    return nullptr;
  }

  // Values known before any input (fusion::load_time_nodes): computed once, here.
  void run_constant_nodes() {
    const std::vector<bool> load_time = fusion::load_time_nodes(g);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (!load_time[i]) continue;
      const Node& n = g.nodes[i];
      std::vector<Tensor> out = run_node(g, n, [&](const std::string& v) { return constant_value(v); });
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (!n.outputs[k].empty()) constants[n.outputs[k]] = out[k];
    }
  }

  void generate(const fusion::FusionPlan& plan, const VulkanRuntimeOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    const codegen::glsl::Target target = target_for(cx->info(), o.gemm, o.attention_shader, o.texel_reads);
    codegen::glsl::Target storage_only = target;
    storage_only.texel_reads = false;
    size_t done = 0;
    for (const fusion::FusedBlock& b : plan.blocks) {
      Step s;
      s.block = &b;
      for (NodeId id : b.nodes) s.nodes.push_back(g.find_node(id));
      std::string why;
      auto k = codegen::glsl::generate_shader(g, b, target, &why);
      // More texel views than the device binds per stage: the same shader on storage
      // buffers alone.
      if (k && k->texel_views.size() > cx->info().max_sampled_per_stage)
        k = codegen::glsl::generate_shader(g, b, storage_only, &why);
      if (k) {
        if (k->buffers.size() > cx->info().max_storage_buffers) {
          why = "needs " + std::to_string(k->buffers.size()) + " storage buffers (device limit " +
                std::to_string(cx->info().max_storage_buffers) + ")";
        } else if (const std::string* big = over_range(*k, cx->info())) {
          why = "'" + *big + "' is larger than the device's storage-buffer range (" +
                std::to_string(cx->info().max_storage_buffer_range) + " bytes)";
        } else {
          s.shader = true;
          s.kernel = std::move(*k);
        }
      }
      if (!s.shader) stats.cpu_reasons.push_back("block " + std::to_string(b.id) + ": " + why);
      steps.push_back(std::move(s));
      if (o.on_progress) o.on_progress("generate", ++done, plan.blocks.size());
    }
    stats.generate_ms = ms_since(t0);
  }

  void build_pipelines(const VulkanRuntimeOptions& o) {
    std::map<std::string, std::string> sources;  // hash -> source
    for (Step& s : steps)
      if (s.shader) sources.emplace(codegen::ContentHash().add(s.kernel.source).hex(), s.kernel.source);
    size_t done = 0;
    std::map<std::string, std::string> failed;  // hash -> compiler message
    for (const auto& [hash, source] : sources) {
      try {
        auto t0 = std::chrono::steady_clock::now();
        SpirvResult spirv = compile_glsl(source, "block shader " + hash.substr(0, 12));
        stats.compile_ms += ms_since(t0);
        if (!spirv.cached) ++stats.compiled_shaders;
        t0 = std::chrono::steady_clock::now();
        uint32_t buffers = 0, stages = 0, texels = 0;
        for (const Step& s : steps)
          if (s.shader && s.kernel.source == source) {
            buffers = uint32_t(s.kernel.buffers.size());
            stages = uint32_t(s.kernel.dispatches.size());
            texels = uint32_t(s.kernel.texel_views.size());
          }
        pipelines[hash] = std::make_unique<ComputePipeline>(*cx, spirv.words, buffers, stages, texels);
        stats.pipeline_ms += ms_since(t0);
      } catch (const Error& e) {
        failed[hash] = e.what();  // the block runs on the host and says why
      }
      if (o.on_progress) o.on_progress("compile", ++done, sources.size());
    }
    for (Step& s : steps) {
      if (!s.shader) continue;
      const std::string hash = codegen::ContentHash().add(s.kernel.source).hex();
      if (auto f = failed.find(hash); f != failed.end()) {
        s.shader = false;
        stats.cpu_reasons.push_back("block " + std::to_string(s.block->id) + ": " + f->second);
        continue;
      }
      s.pipeline = pipelines.at(hash).get();
      s.kernel.source.clear();
    }
    stats.unique_shaders = pipelines.size();
    stats.blocks = steps.size();
    for (const Step& s : steps) {
      if (s.shader) {
        ++stats.shader_blocks;
        stats.dispatches += s.kernel.dispatches.size();
        stats.merged_epilogues += size_t(s.kernel.merged_epilogues);
      } else {
        ++stats.cpu_blocks;
      }
    }
  }

  // One device buffer per value a shader touches; constants uploaded now.
  void allocate_buffers() {
    std::set<std::string> shader_reads;
    for (const Step& s : steps) {
      if (!s.shader) continue;
      for (const codegen::KernelBuffer& b : s.kernel.buffers) {
        if (!device.count(b.value)) device[b.value] = pool->allocate(b.numel());
        if (b.role == codegen::BufferRole::Input) shader_reads.insert(b.value);
        else shader_results.insert(b.value);
      }
    }
    for (const std::string& v : shader_reads) {
      if (shader_results.count(v)) continue;
      if (const Tensor* c = constant_value(v)) {
        upload(device.at(v), *c);
        stats.weight_bytes += size_t(c->numel()) * sizeof(float);
      } else if (g.is_graph_input(v)) {
        input_uploads.push_back(v);
      }
    }
    // Host-step results that shaders read: uploaded right after the host step.
    for (Step& s : steps) {
      if (s.shader) continue;
      for (const Node* n : s.nodes)
        for (const std::string& o : n->outputs)
          if (!o.empty() && shader_reads.count(o)) s.uploads_after.push_back(o);
    }
    stats.device_bytes = size_t(pool->reserved_bytes());
  }

  void create_descriptor_sets() {
    const Functions& f = cx->vk();
    uint32_t sets = 0, descriptors = 0, texels = 0;
    for (const Step& s : steps)
      if (s.shader) {
        ++sets;
        descriptors += uint32_t(s.kernel.buffers.size());
        texels += uint32_t(s.kernel.texel_views.size());
      }
    if (sets == 0) return;
    const VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(descriptors, 1u)},
                                           {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, std::max(texels, 1u)}};
    auto pi = make_info<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
    pi.maxSets = sets;
    pi.poolSizeCount = 2;
    pi.pPoolSizes = sizes;
    check_vk(f.vkCreateDescriptorPool(cx->device(), &pi, nullptr, &descriptor_pool), "vkCreateDescriptorPool");
    for (Step& s : steps) {
      if (!s.shader) continue;
      VkDescriptorSetLayout layout = s.pipeline->set_layout();
      auto ai = make_info<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
      ai.descriptorPool = descriptor_pool;
      ai.descriptorSetCount = 1;
      ai.pSetLayouts = &layout;
      check_vk(f.vkAllocateDescriptorSets(cx->device(), &ai, &s.set), "vkAllocateDescriptorSets");
      const size_t nbuf = s.kernel.buffers.size();
      std::vector<VkDescriptorBufferInfo> infos(nbuf);
      std::vector<VkBufferView> views(s.kernel.texel_views.size());
      std::vector<VkWriteDescriptorSet> writes(nbuf + views.size());
      for (size_t t = 0; t < views.size(); ++t) {
        const codegen::glsl::TexelView& tv = s.kernel.texel_views[t];
        views[t] = texel_view(device.at(s.kernel.buffers[size_t(tv.buffer)].value), tv.components);
        writes[nbuf + t] = make_info<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
        writes[nbuf + t].dstSet = s.set;
        writes[nbuf + t].dstBinding = uint32_t(nbuf + t);
        writes[nbuf + t].descriptorCount = 1;
        writes[nbuf + t].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        writes[nbuf + t].pTexelBufferView = &views[t];
      }
      for (size_t k = 0; k < nbuf; ++k) {
        const DeviceBuffer& b = device.at(s.kernel.buffers[k].value);
        infos[k] = {b.buffer, b.offset, b.bytes};
        writes[k] = make_info<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
        writes[k].dstSet = s.set;
        writes[k].dstBinding = uint32_t(k);
        writes[k].descriptorCount = 1;
        writes[k].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[k].pBufferInfo = &infos[k];
      }
      f.vkUpdateDescriptorSets(cx->device(), uint32_t(writes.size()), writes.data(), 0, nullptr);
    }
  }

  // A texel view of a tensor's bytes (R32 or RGBA32 floats), kept until the program goes.
  VkBufferView texel_view(const DeviceBuffer& b, int components) {
    auto vi = make_info<VkBufferViewCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO);
    vi.buffer = b.buffer;
    vi.format = components == 4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT;
    vi.offset = b.offset;
    const VkDeviceSize texel = VkDeviceSize(components) * sizeof(float);
    vi.range = b.bytes / texel * texel;
    VkBufferView view = VK_NULL_HANDLE;
    check_vk(cx->vk().vkCreateBufferView(cx->device(), &vi, nullptr, &view), "vkCreateBufferView");
    buffer_views.push_back(view);
    return view;
  }

  // Consecutive shader steps form a segment: one command buffer, one submission.
  void record_command_buffers() {
    const Functions& f = cx->vk();
    for (size_t i = 0; i < steps.size();) {
      if (!steps[i].shader) {
        ++i;
        continue;
      }
      Segment seg;
      seg.first_step = i;
      while (i < steps.size() && steps[i].shader) steps[i++].segment = int(segments.size());
      seg.end_step = i;
      segments.push_back(seg);
    }
    stats.submits = segments.size();
    if (segments.empty()) return;
    auto ci = make_info<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
    ci.queueFamilyIndex = cx->queue_family();
    check_vk(f.vkCreateCommandPool(cx->device(), &ci, nullptr, &command_pool), "vkCreateCommandPool");
    std::vector<VkCommandBuffer> cmds(segments.size());
    auto ai = make_info<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    ai.commandPool = command_pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = uint32_t(cmds.size());
    check_vk(f.vkAllocateCommandBuffers(cx->device(), &ai, cmds.data()), "vkAllocateCommandBuffers");
    const bool timestamps = cx->info().timestamps;
    uint32_t queries = 0;
    for (Segment& seg : segments) {
      seg.first_query = queries;
      seg.queries = 1;
      for (size_t i = seg.first_step; i < seg.end_step; ++i) seg.queries += uint32_t(steps[i].kernel.dispatches.size());
      queries += seg.queries;
    }
    if (timestamps) {
      auto qi = make_info<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
      qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
      qi.queryCount = queries;
      check_vk(f.vkCreateQueryPool(cx->device(), &qi, nullptr, &query_pool), "vkCreateQueryPool");
    }
    auto fi = make_info<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    check_vk(f.vkCreateFence(cx->device(), &fi, nullptr, &fence), "vkCreateFence");
    const uint32_t max_x = cx->info().max_workgroup_count[0], max_y = cx->info().max_workgroup_count[1];
    for (size_t si = 0; si < segments.size(); ++si) {
      Segment& seg = segments[si];
      seg.cmd = cmds[si];
      auto bi = make_info<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
      check_vk(f.vkBeginCommandBuffer(seg.cmd, &bi), "vkBeginCommandBuffer");
      uint32_t q = seg.first_query;
      if (timestamps) {
        f.vkCmdResetQueryPool(seg.cmd, query_pool, seg.first_query, seg.queries);
        f.vkCmdWriteTimestamp(seg.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, query_pool, q++);
      }
      VkPipeline bound = VK_NULL_HANDLE;
      for (size_t i = seg.first_step; i < seg.end_step; ++i) {
        Step& s = steps[i];
        s.first_query = q - 1;
        f.vkCmdBindDescriptorSets(seg.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, s.pipeline->layout(), 0, 1, &s.set, 0,
                                  nullptr);
        for (size_t d = 0; d < s.kernel.dispatches.size(); ++d) {
          if (s.pipeline->pipeline(d) != bound) {
            bound = s.pipeline->pipeline(d);
            f.vkCmdBindPipeline(seg.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, bound);
          }
          // The pipeline is specialised to stage d; the push constant is set too because
          // the shader's main() reads it statically (validation requires it set).
          int32_t push[kPushConstantBytes / 4] = {int32_t(d), 0, 0, 0};
          f.vkCmdPushConstants(seg.cmd, s.pipeline->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes, push);
          const int64_t groups = s.kernel.dispatches[d].groups;
          const uint32_t x = uint32_t(std::min<int64_t>(groups, max_x));
          const int64_t y = x ? (groups + x - 1) / x : 0;
          check(y <= int64_t(max_y), "a dispatch of ", groups, " work groups exceeds the device's limits");
          if (groups > 0) f.vkCmdDispatch(seg.cmd, x, uint32_t(y), 1);
          // Every later dispatch may read what this one wrote.
          auto mb = make_info<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
          mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
          mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
          f.vkCmdPipelineBarrier(seg.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                                 1, &mb, 0, nullptr, 0, nullptr);
          if (timestamps) f.vkCmdWriteTimestamp(seg.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, query_pool, q++);
        }
      }
      // Results become visible to the host after the fence.
      auto mb = make_info<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
      mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
      mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
      f.vkCmdPipelineBarrier(seg.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                             nullptr, 0, nullptr);
      check_vk(f.vkEndCommandBuffer(seg.cmd), "vkEndCommandBuffer");
    }
  }

  void submit(const Segment& seg) {
    const Functions& f = cx->vk();
    auto si = make_info<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
    si.commandBufferCount = 1;
    si.pCommandBuffers = &seg.cmd;
    check_vk(f.vkResetFences(cx->device(), 1, &fence), "vkResetFences");
    check_vk(f.vkQueueSubmit(cx->queue(), 1, &si, fence), "vkQueueSubmit");
    check_vk(f.vkWaitForFences(cx->device(), 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  }

  // Device time of each shader step of `seg` in microseconds.
  void read_timestamps(const Segment& seg, std::vector<double>* block_us) {
    if (!query_pool || !block_us) return;
    std::vector<uint64_t> t(seg.queries);
    check_vk(cx->vk().vkGetQueryPoolResults(cx->device(), query_pool, seg.first_query, seg.queries,
                                           t.size() * sizeof(uint64_t), t.data(), sizeof(uint64_t),
                                           VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
             "vkGetQueryPoolResults");
    const double ns = cx->info().timestamp_period_ns;
    const uint32_t bits = cx->info().timestamp_bits;
    const uint64_t mask = bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
    for (size_t i = seg.first_step; i < seg.end_step; ++i) {
      const Step& s = steps[i];
      const uint32_t a = s.first_query - seg.first_query, b = a + uint32_t(s.kernel.dispatches.size());
      (*block_us)[i] = double((t[b] - t[a]) & mask) * ns / 1000.0;
    }
  }

  Tensor host_copy(const std::string& v) const {
    const TensorType* t = g.type_of(v);
    check(t && t->is_static(), "vulkan runtime: value '", v, "' has no static type");
    return download(device.at(v), t->dtype, *t->static_shape());
  }

  TensorMap run(const TensorMap& inputs, std::vector<double>* block_us) {
    check_model_inputs(g, inputs);
    if (block_us) block_us->assign(steps.size(), 0.0);
    for (const std::string& v : input_uploads) upload(device.at(v), inputs.at(v));
    std::map<std::string, Tensor> env(inputs.begin(), inputs.end());
    auto lookup = [&](const std::string& v) -> const Tensor* {
      if (auto it = env.find(v); it != env.end()) return &it->second;
      if (const Tensor* c = constant_value(v)) return c;
      if (shader_results.count(v)) return &(env[v] = host_copy(v));
      return nullptr;
    };
    for (size_t i = 0; i < steps.size();) {
      Step& s = steps[i];
      if (s.shader) {
        const Segment& seg = segments[size_t(s.segment)];
        submit(seg);
        read_timestamps(seg, block_us);
        i = seg.end_step;
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      for (const Node* n : s.nodes) {
        std::vector<Tensor> outs = run_node(g, *n, lookup);
        for (size_t k = 0; k < n->outputs.size(); ++k)
          if (!n->outputs[k].empty()) env[n->outputs[k]] = std::move(outs[k]);
      }
      for (const std::string& v : s.uploads_after) upload(device.at(v), env.at(v));
      if (block_us) (*block_us)[i] = ms_since(t0) * 1000.0;
      ++i;
    }
    TensorMap out;
    for (const ValueInfo& o : g.outputs) {
      const Tensor* t = lookup(o.name);
      check(t != nullptr, "graph output '", o.name, "' has no value");
      out[o.name] = *t;
    }
    return out;
  }
};

VulkanProgram::VulkanProgram(const Graph& graph, const fusion::FusionPlan& plan, const VulkanRuntimeOptions& options)
    : impl_(std::make_unique<Impl>(graph, plan, options)) {}
VulkanProgram::~VulkanProgram() = default;
TensorMap VulkanProgram::run(const TensorMap& inputs) { return impl_->run(inputs, nullptr); }
TensorMap VulkanProgram::run_profiled(const TensorMap& inputs, std::vector<double>* block_us) {
  return impl_->run(inputs, block_us);
}
const VulkanRuntimeStats& VulkanProgram::stats() const { return impl_->stats; }
const Context& VulkanProgram::context() const { return *impl_->cx; }

}  // namespace dnnf::vk
