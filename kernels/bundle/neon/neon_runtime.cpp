// The runtime of a NEON bundle: the C API of include/dnnf_model.h over the plan table
// (plan_table.h). dnnf_model_create reads weights.bin once, allocates the arena, starts
// the thread pool (DNNF_THREADS threads, default: the hardware's) and lets every kernel
// pack its constant weights; dnnf_model_run binds the inputs, calls the block kernels in
// order and copies the outputs out (to the caller's buffers, or with
// dnnf_model_run_owned to buffers the model keeps). A bundle with interpreted steps
// also loads interp.txt into the interpreter (kernels/bundle/interp/host_interpreter.h)
// and calls it between the kernels; outputs it computes may have shapes known only after
// the run (dnnf_model_run_owned). Every failure (a missing or foreign weights file, a
// null pointer, an exception from a micro-kernel) becomes an error message and a null or
// non-zero result: nothing is thrown across the C API.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "core/runtime/thread_pool.h"
#include "dnnf_model.h"
#include "kernels/cpu/kernel_api.h"
#include "plan_table.h"

#define DNNF_PUBLIC extern "C" __attribute__((visibility("default")))

namespace {

thread_local std::string last_error;

struct AlignedBlock {
  void* p = nullptr;
  explicit AlignedBlock(size_t bytes) {
    p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) throw std::bad_alloc();
  }
  ~AlignedBlock() { std::free(p); }
  AlignedBlock(const AlignedBlock&) = delete;
  AlignedBlock& operator=(const AlignedBlock&) = delete;
  char* bytes() const { return static_cast<char*>(p); }
};

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "float64" || dtype == "int64" || dtype == "uint64") return 8;
  if (dtype == "float32" || dtype == "int32" || dtype == "uint32") return 4;
  if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16" || dtype == "uint16") return 2;
  return 1;  // int8, uint8, bool
}

struct Failure : std::exception {
  std::string message;
  explicit Failure(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
};

}  // namespace

struct dnnf_model {
  const dnnf_plan& plan = dnnf_bundle_plan;
  dnnf::ThreadPool pool;
  dnnf_api api;
  AlignedBlock weights;
  AlignedBlock arena;
  std::vector<void*> bufs;     // one per slot; input slots bound per run
  std::vector<void*> states;   // what each step's _prepare returned
  // Outputs of dnnf_model_run_owned; valid after a successful one until the next run,
  // with the shapes of that run.
  std::vector<std::vector<unsigned char>> owned;
  std::vector<std::vector<int64_t>> owned_shapes;
  bool owned_valid = false;
  // Interpreted steps (null without any) and where their imports live.
  std::unique_ptr<dnnf_bundle::HostInterpreter> interp;
  std::map<std::string, const dnnf_import*> imports;

  explicit dnnf_model(const std::string& dir)
      : pool(0), weights(size_t(dnnf_bundle_plan.weights_bytes)), arena(size_t(dnnf_bundle_plan.arena_bytes)) {
    api = dnnf_make_api(&pool, thread_pool_parallel_for, pool.num_threads());
    load_weights(dir + "/weights.bin");
    if (plan.make_interpreter) load_interpreter(dir + "/interp.txt");
    int32_t slots = 0;
    for (int32_t s = 0; s < plan.num_steps; ++s) slots = std::max(slots, plan.steps[s].first_slot + plan.steps[s].num_slots);
    bufs.assign(size_t(slots), nullptr);
    for (int32_t k = 0; k < slots; ++k) bufs[size_t(k)] = address(plan.slots[k], nullptr);
    prepare();
  }

  ~dnnf_model() {
    for (size_t s = 0; s < states.size(); ++s)
      if (states[s]) plan.steps[s].release(states[s], &api);
  }

  void load_weights(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw Failure("cannot read '" + path + "'");
    const std::streamoff size = in.tellg();
    if (size != plan.weights_bytes)
      throw Failure("'" + path + "' holds " + std::to_string(size) + " bytes, this bundle's plan needs " +
                    std::to_string(plan.weights_bytes) + " (a weights file from another export?)");
    in.seekg(0);
    in.read(weights.bytes(), size);
    if (!in) throw Failure("cannot read '" + path + "'");
    if (fnv1a(weights.bytes(), size_t(size)) != plan.weights_fnv1a)
      throw Failure("'" + path + "' does not match this bundle's plan (a weights file from another export?)");
  }

  void load_interpreter(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Failure("cannot read '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    interp = plan.make_interpreter(text.str(), weights.bytes(), size_t(plan.weights_bytes));
    for (int32_t i = 0; i < plan.num_imports; ++i) imports[plan.imports[i].name] = &plan.imports[i];
  }

  // Host slots are bound per step, from the interpreter; null until then.
  void* address(const dnnf_slot& s, const void* const* inputs) const {
    switch (s.kind) {
      case DNNF_SLOT_ARENA: return arena.bytes() + s.offset;
      case DNNF_SLOT_WEIGHTS: return weights.bytes() + s.offset;
      case DNNF_SLOT_HOST: return nullptr;
      default: return inputs ? const_cast<void*>(inputs[s.offset]) : nullptr;
    }
  }

  // What an interpreted step computed, with the size its reader expects.
  dnnf_bundle::HostValue host_value(int64_t index) const {
    const dnnf_host_value& hv = plan.host_values[index];
    dnnf_bundle::HostValue v;
    if (!interp || !interp->value(hv.name, &v))
      throw Failure(std::string("value '") + hv.name + "' was not computed by the interpreted steps");
    if (hv.bytes >= 0 && v.bytes != hv.bytes)
      throw Failure(std::string("value '") + hv.name + "' has " + std::to_string(v.bytes) + " bytes, the plan expects " +
                    std::to_string(hv.bytes));
    return v;
  }

  // The interpreter reads generated kernels' outputs and inputs by name, in the dtype
  // and static shape the plan gives them (the arena holds them in exactly that form).
  void begin_interpreted_run(const void* const* in) {
    if (!interp) return;
    interp->begin_run([this, in](const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                                 void* dst) {
      auto it = imports.find(name);
      if (it == imports.end()) throw Failure("the interpreter reads '" + name + "', which this bundle's plan lacks");
      size_t bytes = dtype_bytes(dtype);
      for (int64_t d : shape) bytes *= size_t(d);
      const void* src = address(it->second->source, in);
      if (!src) throw Failure("value '" + name + "' has no memory");
      if (bytes) std::memcpy(dst, src, bytes);
    });
  }

  // _prepare sees only the constant buffers (dnnf_abi.h), like the host runtime does.
  void prepare() {
    states.assign(size_t(plan.num_steps), nullptr);
    for (int32_t s = 0; s < plan.num_steps; ++s) {
      const dnnf_step& st = plan.steps[s];
      if (st.host_step >= 0) continue;  // interpreted: nothing to prepare
      std::vector<void*> consts(size_t(st.num_slots), nullptr);
      for (int32_t k = 0; k < st.num_slots; ++k)
        if (plan.slots[st.first_slot + k].constant) consts[size_t(k)] = bufs[size_t(st.first_slot + k)];
      dnnf_kernel_args args{consts.data(), &api, nullptr};
      states[size_t(s)] = st.prepare(&args);
    }
  }

  // The steps in order; outputs are left where the plan says (see output_source).
  void run_steps(const float* const* inputs) {
    if (plan.num_inputs > 0 && !inputs) throw Failure("dnnf_model_run: inputs is null");
    const void* const* in = reinterpret_cast<const void* const*>(inputs);
    for (int32_t i = 0; i < plan.num_inputs; ++i)
      if (!in[i] && plan.inputs[i].bytes) throw Failure(std::string("dnnf_model_run: input '") + plan.inputs[i].name + "' is null");
    for (size_t k = 0; k < bufs.size(); ++k)
      if (plan.slots[k].kind == DNNF_SLOT_INPUT) bufs[k] = address(plan.slots[k], in);
    begin_interpreted_run(in);
    for (int32_t s = 0; s < plan.num_steps; ++s) {
      const dnnf_step& st = plan.steps[s];
      if (st.host_step >= 0) {
        if (!interp) throw Failure("step " + std::to_string(s) + " is interpreted, but the bundle has no interpreter");
        interp->run_step(size_t(st.host_step));
        continue;
      }
      for (int32_t k = 0; k < st.num_slots; ++k)
        if (plan.slots[st.first_slot + k].kind == DNNF_SLOT_HOST)
          bufs[size_t(st.first_slot + k)] = const_cast<void*>(host_value(plan.slots[st.first_slot + k].offset).data);
      dnnf_kernel_args args{bufs.data() + st.first_slot, &api, states[size_t(s)]};
      st.run(&args);
    }
  }

  // Output o after run_steps: its bytes and this run's shape.
  const void* output_source(int32_t o, const void* const* in, int64_t* bytes, std::vector<int64_t>* shape) const {
    const dnnf_port& p = plan.outputs[o];
    if (p.source.kind == DNNF_SLOT_HOST) {
      const dnnf_bundle::HostValue v = host_value(p.source.offset);
      *bytes = v.bytes;
      *shape = v.shape;
      return v.data;
    }
    *bytes = p.bytes;
    shape->assign(p.shape, p.shape + p.rank);
    return address(p.source, in);
  }

  void run(const float* const* inputs, float* const* outputs) {
    if (plan.num_outputs > 0 && !outputs) throw Failure("dnnf_model_run: outputs is null");
    for (int32_t o = 0; o < plan.num_outputs; ++o) {
      if (plan.outputs[o].bytes < 0)
        throw Failure(std::string("dnnf_model_run: output '") + plan.outputs[o].name +
                      "' has a shape that depends on the data: run with dnnf_model_run_owned");
      if (!outputs[o] && plan.outputs[o].bytes)
        throw Failure(std::string("dnnf_model_run: output '") + plan.outputs[o].name + "' is null");
    }
    run_steps(inputs);
    const void* const* in = reinterpret_cast<const void* const*>(inputs);
    for (int32_t o = 0; o < plan.num_outputs; ++o) {
      int64_t bytes = 0;
      std::vector<int64_t> shape;
      const void* src = output_source(o, in, &bytes, &shape);
      if (bytes) std::memcpy(outputs[o], src, size_t(bytes));
    }
  }

  // Outputs into buffers the model keeps, sized by this run's shapes.
  void run_owned(const float* const* inputs) {
    owned_valid = false;
    owned.resize(size_t(plan.num_outputs));
    owned_shapes.resize(size_t(plan.num_outputs));
    run_steps(inputs);
    const void* const* in = reinterpret_cast<const void* const*>(inputs);
    for (int32_t o = 0; o < plan.num_outputs; ++o) {
      int64_t bytes = 0;
      const void* src = output_source(o, in, &bytes, &owned_shapes[size_t(o)]);
      owned[size_t(o)].assign(static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + bytes);
    }
    owned_valid = true;
  }
};

namespace {

template <class F>
auto guarded(F f, decltype(f()) on_error) -> decltype(f()) {
  try {
    last_error.clear();
    return f();
  } catch (const std::bad_alloc&) {
    last_error = "out of memory";
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown error";
  }
  return on_error;
}

const dnnf_port* port(const dnnf_model* m, int i, bool input) {
  if (!m) return nullptr;
  const int n = input ? m->plan.num_inputs : m->plan.num_outputs;
  if (i < 0 || i >= n) return nullptr;
  return input ? &m->plan.inputs[i] : &m->plan.outputs[i];
}

}  // namespace

DNNF_PUBLIC dnnf_model* dnnf_model_create(const char* bundle_dir) {
  return guarded(
      [&]() -> dnnf_model* {
        if (!bundle_dir) throw Failure("dnnf_model_create: bundle_dir is null");
        return new dnnf_model(bundle_dir);
      },
      nullptr);
}

DNNF_PUBLIC int dnnf_model_run(dnnf_model* model, const float* const* inputs, float* const* outputs) {
  return guarded(
      [&]() -> int {
        if (!model) throw Failure("dnnf_model_run: model is null");
        model->owned_valid = false;
        model->run(inputs, outputs);
        return 0;
      },
      1);
}

DNNF_PUBLIC int dnnf_model_run_owned(dnnf_model* model, const float* const* inputs) {
  return guarded(
      [&]() -> int {
        if (!model) throw Failure("dnnf_model_run_owned: model is null");
        model->run_owned(inputs);
        return 0;
      },
      1);
}

DNNF_PUBLIC const void* dnnf_model_output_data(const dnnf_model* m, int o) {
  if (!port(m, o, false) || !m->owned_valid) return nullptr;
  return m->owned[size_t(o)].data();
}

DNNF_PUBLIC int dnnf_model_output_shape_is_fixed(const dnnf_model* m, int o) {
  const dnnf_port* p = port(m, o, false);
  return p ? (p->bytes >= 0 ? 1 : 0) : -1;
}

DNNF_PUBLIC void dnnf_model_destroy(dnnf_model* model) { delete model; }
DNNF_PUBLIC const char* dnnf_model_last_error(void) { return last_error.c_str(); }
DNNF_PUBLIC const char* dnnf_model_target(void) { return "neon"; }
DNNF_PUBLIC int dnnf_model_num_inputs(const dnnf_model* m) { return m ? m->plan.num_inputs : -1; }
DNNF_PUBLIC int dnnf_model_num_outputs(const dnnf_model* m) { return m ? m->plan.num_outputs : -1; }
DNNF_PUBLIC const char* dnnf_model_input_name(const dnnf_model* m, int i) { auto p = port(m, i, true); return p ? p->name : nullptr; }
DNNF_PUBLIC const char* dnnf_model_output_name(const dnnf_model* m, int i) { auto p = port(m, i, false); return p ? p->name : nullptr; }
DNNF_PUBLIC const char* dnnf_model_input_dtype(const dnnf_model* m, int i) { auto p = port(m, i, true); return p ? p->dtype : nullptr; }
DNNF_PUBLIC const char* dnnf_model_output_dtype(const dnnf_model* m, int i) { auto p = port(m, i, false); return p ? p->dtype : nullptr; }
DNNF_PUBLIC int dnnf_model_input_rank(const dnnf_model* m, int i) { auto p = port(m, i, true); return p ? p->rank : -1; }
DNNF_PUBLIC int dnnf_model_output_rank(const dnnf_model* m, int i) { auto p = port(m, i, false); return p ? p->rank : -1; }
DNNF_PUBLIC const int64_t* dnnf_model_input_shape(const dnnf_model* m, int i) { auto p = port(m, i, true); return p ? p->shape : nullptr; }
// After a successful dnnf_model_run_owned: that run's shape (data-dependent outputs).
DNNF_PUBLIC const int64_t* dnnf_model_output_shape(const dnnf_model* m, int i) {
  auto p = port(m, i, false);
  if (p && m->owned_valid && p->bytes < 0) return m->owned_shapes[size_t(i)].data();
  return p ? p->shape : nullptr;
}
DNNF_PUBLIC int64_t dnnf_model_input_size(const dnnf_model* m, int i) { auto p = port(m, i, true); return p ? p->numel : -1; }
DNNF_PUBLIC int64_t dnnf_model_output_size(const dnnf_model* m, int i) {
  auto p = port(m, i, false);
  if (p && m->owned_valid && p->bytes < 0) {
    int64_t n = 1;
    for (int64_t d : m->owned_shapes[size_t(i)]) n *= d;
    return n;
  }
  return p ? p->numel : -1;
}
