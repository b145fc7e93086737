// Operator rows of the recurrent family (see op_families.h): LSTM, GRU, RNN.
//
// All three share one driver: inputs are read into float buffers in the canonical
// layout (X [seq, batch, input]), each direction runs its own recurrence over the
// valid steps of every batch entry (sequence_lens), and outputs are written back in
// the requested layout (opset 14 `layout` attribute) and in X's element type.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/op_families.h"
#include "core/ops/op_util.h"

namespace dnnf::ops {
namespace {

enum class RnnKind { Simple, Gru, Lstm };

struct RnnTraits {
  RnnKind kind;
  int64_t gates;        // rows of W/R per hidden unit
  int64_t activations;  // activation functions per direction
};

RnnTraits traits_of(RnnKind k) {
  switch (k) {
    case RnnKind::Simple: return {k, 1, 1};
    case RnnKind::Gru: return {k, 3, 2};
    case RnnKind::Lstm: return {k, 4, 3};
  }
  return {k, 1, 1};
}

// ---- activation functions --------------------------------------------------------------
enum class ActKind {
  Sigmoid, Tanh, Relu, HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu,
  Softsign, Softplus
};

struct Activation {
  ActKind kind = ActKind::Tanh;
  double alpha = 0;
  double beta = 0;

  double operator()(double x) const {
    switch (kind) {
      case ActKind::Sigmoid: return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
      case ActKind::Tanh: return std::tanh(x);
      case ActKind::Relu: return x > 0 ? x : 0.0;
      case ActKind::HardSigmoid: return std::min(1.0, std::max(0.0, alpha * x + beta));
      case ActKind::Affine: return alpha * x + beta;
      case ActKind::LeakyRelu: return x >= 0 ? x : alpha * x;
      case ActKind::ThresholdedRelu: return x > alpha ? x : 0.0;
      case ActKind::ScaledTanh: return alpha * std::tanh(beta * x);
      case ActKind::Elu: return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
      case ActKind::Softsign: return x / (1.0 + std::fabs(x));
      case ActKind::Softplus: return x > 30 ? x : std::log1p(std::exp(x));
    }
    return x;
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one activation name; alpha/beta are consumed in order by the functions that
// take them, with the defaults of the corresponding ONNX operators otherwise.
Activation parse_activation(const Node& node, const std::string& name, const std::vector<float>& alphas,
                            size_t& ai, const std::vector<float>& betas, size_t& bi) {
  struct Entry { const char* name; ActKind kind; bool has_alpha; bool has_beta; double da; double db; };
  static const Entry table[] = {
      {"sigmoid", ActKind::Sigmoid, false, false, 0, 0},
      {"tanh", ActKind::Tanh, false, false, 0, 0},
      {"relu", ActKind::Relu, false, false, 0, 0},
      {"hardsigmoid", ActKind::HardSigmoid, true, true, 0.2, 0.5},
      {"affine", ActKind::Affine, true, true, 1.0, 0.0},
      {"leakyrelu", ActKind::LeakyRelu, true, false, 0.01, 0},
      {"thresholdedrelu", ActKind::ThresholdedRelu, true, false, 1.0, 0},
      {"scaledtanh", ActKind::ScaledTanh, true, true, 1.0, 1.0},
      {"elu", ActKind::Elu, true, false, 1.0, 0},
      {"softsign", ActKind::Softsign, false, false, 0, 0},
      {"softplus", ActKind::Softplus, false, false, 0, 0},
  };
  const std::string key = lower(name);
  for (const auto& e : table) {
    if (key != e.name) continue;
    Activation a;
    a.kind = e.kind;
    a.alpha = e.da;
    a.beta = e.db;
    if (e.has_alpha && ai < alphas.size()) a.alpha = alphas[ai++];
    if (e.has_beta && bi < betas.size()) a.beta = betas[bi++];
    return a;
  }
  fail(node.label(), ": unsupported activation function '", name,
       "' (expected one of Sigmoid, Tanh, Relu, HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, "
       "ScaledTanh, Elu, Softsign, Softplus)");
}

// Activation functions per direction ([dir][k]).
std::vector<std::vector<Activation>> parse_activations(const Node& node, const RnnTraits& tr,
                                                       int64_t num_dirs) {
  std::vector<std::string> names;
  if (const Attribute* a = node.attr("activations")) names = a->strings;
  if (names.empty()) {
    if (tr.kind == RnnKind::Simple) names = {"Tanh"};
    else if (tr.kind == RnnKind::Gru) names = {"Sigmoid", "Tanh"};
    else names = {"Sigmoid", "Tanh", "Tanh"};
    if (num_dirs == 2) {
      auto copy = names;
      names.insert(names.end(), copy.begin(), copy.end());
    }
  }
  const size_t per_dir = size_t(tr.activations);
  if (names.size() == per_dir && num_dirs == 2) {
    auto copy = names;
    names.insert(names.end(), copy.begin(), copy.end());
  }
  check(names.size() == per_dir * size_t(num_dirs), node.label(), ": 'activations' has ", names.size(),
        " entries, expected ", per_dir * size_t(num_dirs), " (", per_dir, " per direction)");
  const auto alphas = node.attr_floats("activation_alpha");
  const auto betas = node.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<std::vector<Activation>> out(static_cast<size_t>(num_dirs));
  for (size_t d = 0; d < size_t(num_dirs); ++d)
    for (size_t k = 0; k < per_dir; ++k)
      out[d].push_back(parse_activation(node, names[d * per_dir + k], alphas, ai, betas, bi));
  return out;
}

int64_t num_directions(const Node& node) {
  const std::string dir = node.attr_string("direction", "forward");
  if (dir == "forward" || dir == "reverse") return 1;
  if (dir == "bidirectional") return 2;
  fail(node.label(), ": unsupported direction '", dir, "' (expected forward, reverse or bidirectional)");
}

int64_t layout_of(const Node& node) {
  const int64_t layout = node.attr_int("layout", 0);
  check(layout == 0 || layout == 1, node.label(), ": layout must be 0 or 1, got ", layout);
  return layout;
}

// Number of outputs the row allows.
size_t max_outputs(RnnKind k) { return k == RnnKind::Lstm ? 3 : 2; }
// Number of inputs the row allows.
size_t max_inputs(RnnKind k) { return k == RnnKind::Lstm ? 8 : 6; }

void check_float_dtype(const Node& node, DType t, const char* what) {
  check(t == DType::F32 || t == DType::F16 || t == DType::F64 || t == DType::BF16, node.label(), ": ",
        what, " must be a float tensor, got ", dtype_name(t));
}

// ---- shape function ------------------------------------------------------------------------
std::vector<TensorType> rnn_shape(const InferContext& ctx, RnnKind kind) {
  const Node& node = ctx.node;
  const RnnTraits tr = traits_of(kind);
  require_inputs(ctx, 3);
  check(ctx.num_inputs() <= max_inputs(kind), node.label(), ": at most ", max_inputs(kind),
        " inputs are allowed, got ", ctx.num_inputs());
  check(ctx.num_outputs() <= max_outputs(kind), node.label(), ": at most ", max_outputs(kind),
        " outputs are allowed, got ", ctx.num_outputs());
  const TensorType& x = ctx.in(0);
  const TensorType& w = ctx.in(1);
  const TensorType& r = ctx.in(2);
  check_float_dtype(node, x.dtype, "X");
  const int64_t dirs = num_directions(node);
  const int64_t layout = layout_of(node);
  (void)parse_activations(node, tr, dirs);
  for (const auto* t : {&x, &w, &r})
    check(!t->has_shape || t->rank() == 3, node.label(), ": X, W and R must be rank 3");
  Dim seq, batch, hidden;
  if (x.has_shape) {
    seq = layout == 0 ? x.dims[0] : x.dims[1];
    batch = layout == 0 ? x.dims[1] : x.dims[0];
  }
  if (node.has_attr("hidden_size")) {
    const int64_t h = node.attr_int("hidden_size", 0);
    check(h > 0, node.label(), ": hidden_size must be positive, got ", h);
    hidden = h;
  } else if (r.has_shape) {
    hidden = r.dims[2];
  }
  if (w.has_shape && w.dims[0].known())
    check(w.dims[0].value == dirs, node.label(), ": W has ", w.dims[0].value, " directions, expected ", dirs);
  if (w.has_shape && w.dims[1].known() && hidden.known())
    check(w.dims[1].value == tr.gates * hidden.value, node.label(), ": W dim 1 is ", w.dims[1].value,
          ", expected ", tr.gates * hidden.value);
  if (r.has_shape && r.dims[2].known() && hidden.known())
    check(r.dims[2].value == hidden.value, node.label(), ": R dim 2 is ", r.dims[2].value,
          ", expected hidden_size ", hidden.value);
  if (x.has_shape && w.has_shape && x.dims[2].known() && w.dims[2].known())
    check(x.dims[2].value == w.dims[2].value, node.label(), ": X input size ", x.dims[2].value,
          " does not match W dim 2 ", w.dims[2].value);
  const bool known_rank = x.has_shape;
  std::vector<TensorType> out;
  const DType dt = x.dtype;
  // Y
  if (known_rank)
    out.push_back(layout == 0 ? TensorType(dt, std::vector<Dim>{seq, Dim(dirs), batch, hidden})
                              : TensorType(dt, std::vector<Dim>{batch, seq, Dim(dirs), hidden}));
  else
    out.push_back(TensorType::unknown_shape(dt));
  // Y_h, Y_c
  for (size_t i = 1; i < max_outputs(kind); ++i) {
    if (known_rank)
      out.push_back(layout == 0 ? TensorType(dt, std::vector<Dim>{Dim(dirs), batch, hidden})
                                : TensorType(dt, std::vector<Dim>{batch, Dim(dirs), hidden}));
    else
      out.push_back(TensorType::unknown_shape(dt));
  }
  out.resize(ctx.num_outputs());
  return out;
}

// ---- reference kernel ------------------------------------------------------------------------
std::vector<float> as_floats(const Tensor& t) { return t.to_f32_vector(); }

Tensor make_output(DType dtype, const Shape& shape, const std::vector<float>& data) {
  Tensor f(DType::F32, shape);
  std::copy(data.begin(), data.end(), f.data<float>());
  return dtype == DType::F32 ? f : f.cast(dtype);
}

void check_shape(const Node& node, const Tensor& t, const Shape& expected, const char* what) {
  check(t.shape() == expected, node.label(), ": ", what, " has shape ", shape_str(t.shape()),
        ", expected ", shape_str(expected));
}

std::vector<Tensor> rnn_kernel(KernelContext& ctx, RnnKind kind) {
  const Node& node = ctx.node;
  const RnnTraits tr = traits_of(kind);
  require_inputs(ctx, 3);
  check(ctx.num_inputs() <= max_inputs(kind), node.label(), ": at most ", max_inputs(kind),
        " inputs are allowed, got ", ctx.num_inputs());
  const Tensor& X = ctx.in(0);
  const Tensor& W = ctx.in(1);
  const Tensor& R = ctx.in(2);
  check_float_dtype(node, X.dtype(), "X");
  const int64_t dirs = num_directions(node);
  const std::string direction = node.attr_string("direction", "forward");
  const int64_t layout = layout_of(node);
  const auto acts = parse_activations(node, tr, dirs);
  check(X.rank() == 3 && W.rank() == 3 && R.rank() == 3, node.label(), ": X, W and R must be rank 3, got ",
        shape_str(X.shape()), ", ", shape_str(W.shape()), ", ", shape_str(R.shape()));
  const int64_t seq = layout == 0 ? X.dim(0) : X.dim(1);
  const int64_t batch = layout == 0 ? X.dim(1) : X.dim(0);
  const int64_t in_size = X.dim(2);
  const int64_t H = node.has_attr("hidden_size") ? node.attr_int("hidden_size", 0) : R.dim(2);
  check(H > 0, node.label(), ": hidden_size must be positive, got ", H);
  const int64_t G = tr.gates;
  check_shape(node, W, {dirs, G * H, in_size}, "W");
  check_shape(node, R, {dirs, G * H, H}, "R");
  const double clip = node.has_attr("clip") ? double(node.attr_float("clip", 0)) : -1.0;
  check(!node.has_attr("clip") || clip > 0, node.label(), ": clip must be positive");
  const bool input_forget = kind == RnnKind::Lstm && node.attr_int("input_forget", 0) != 0;
  const bool linear_before_reset = kind == RnnKind::Gru && node.attr_int("linear_before_reset", 0) != 0;

  // Canonical X: [seq, batch, input].
  std::vector<float> x = as_floats(X);
  if (layout == 1) {
    std::vector<float> t(x.size());
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < seq; ++s)
        std::copy_n(&x[size_t((b * seq + s) * in_size)], in_size, &t[size_t((s * batch + b) * in_size)]);
    x.swap(t);
  }
  const std::vector<float> w = as_floats(W);
  const std::vector<float> r = as_floats(R);
  std::vector<float> bias(size_t(dirs * 2 * G * H), 0.0f);
  if (ctx.has_input(3)) {
    check_shape(node, ctx.in(3), {dirs, 2 * G * H}, "B");
    bias = as_floats(ctx.in(3));
  }
  std::vector<int64_t> lens(size_t(batch), seq);
  if (ctx.has_input(4)) {
    const Tensor& sl = ctx.in(4);
    check(dtype_is_integer(sl.dtype()), node.label(), ": sequence_lens must be an integer tensor");
    check_shape(node, sl, {batch}, "sequence_lens");
    lens = sl.to_i64_vector();
    for (int64_t l : lens)
      check(l >= 0 && l <= seq, node.label(), ": sequence_lens value ", l, " is outside [0, ", seq, "]");
  }
  // Reads an optional [dirs, batch, H] state (layout 1: [batch, dirs, H]) into canonical order.
  auto read_state = [&](size_t idx, const char* what) {
    std::vector<float> s(size_t(dirs * batch * H), 0.0f);
    if (!ctx.has_input(idx)) return s;
    const Tensor& t = ctx.in(idx);
    check_shape(node, t, layout == 0 ? Shape{dirs, batch, H} : Shape{batch, dirs, H}, what);
    const std::vector<float> v = as_floats(t);
    if (layout == 0) return v;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t d = 0; d < dirs; ++d)
        std::copy_n(&v[size_t((b * dirs + d) * H)], H, &s[size_t((d * batch + b) * H)]);
    return s;
  };
  std::vector<float> h0 = read_state(5, "initial_h");
  std::vector<float> c0;
  std::vector<float> peep(size_t(dirs * 3 * H), 0.0f);
  if (kind == RnnKind::Lstm) {
    c0 = read_state(6, "initial_c");
    if (ctx.has_input(7)) {
      check_shape(node, ctx.in(7), {dirs, 3 * H}, "P");
      peep = as_floats(ctx.in(7));
    }
  }

  std::vector<float> Y(size_t(seq * dirs * batch * H), 0.0f);  // canonical [seq, dirs, batch, H]
  std::vector<float> Yh(size_t(dirs * batch * H), 0.0f);       // canonical [dirs, batch, H]
  std::vector<float> Yc(size_t(dirs * batch * H), 0.0f);
  const size_t gh = static_cast<size_t>(G * H), hs = static_cast<size_t>(H);
  std::vector<double> xw(gh), hr(gh);
  std::vector<double> h(hs), c(hs), hn(hs), cn(hs), zg(hs), rg(hs);
  auto clipped = [&](double v) { return clip > 0 ? std::min(clip, std::max(-clip, v)) : v; };

  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const float* Wd = &w[size_t(d * G * H * in_size)];
    const float* Rd = &r[size_t(d * G * H * H)];
    const float* Wb = &bias[size_t(d * 2 * G * H)];
    const float* Rb = Wb + G * H;
    const float* Pd = &peep[size_t(d * 3 * H)];
    const auto& act = acts[size_t(d)];
    for (int64_t b = 0; b < batch; ++b) {
      const size_t state_off = size_t((d * batch + b) * H);
      for (int64_t j = 0; j < H; ++j) {
        h[size_t(j)] = h0[state_off + size_t(j)];
        c[size_t(j)] = kind == RnnKind::Lstm ? c0[state_off + size_t(j)] : 0.0;
      }
      const int64_t len = lens[size_t(b)];
      for (int64_t s = 0; s < len; ++s) {
        const int64_t t = reverse ? len - 1 - s : s;
        const float* xt = &x[size_t((t * batch + b) * in_size)];
        for (int64_t g = 0; g < G * H; ++g) {
          double accx = 0, acch = 0;
          const float* wrow = Wd + g * in_size;
          for (int64_t k = 0; k < in_size; ++k) accx += double(xt[k]) * double(wrow[k]);
          const float* rrow = Rd + g * H;
          for (int64_t k = 0; k < H; ++k) acch += h[size_t(k)] * double(rrow[k]);
          xw[size_t(g)] = accx + double(Wb[g]);
          hr[size_t(g)] = acch + double(Rb[g]);
        }
        if (kind == RnnKind::Simple) {
          for (int64_t j = 0; j < H; ++j) hn[size_t(j)] = act[0](clipped(xw[size_t(j)] + hr[size_t(j)]));
        } else if (kind == RnnKind::Gru) {
          // Gate order z, r, h.
          for (int64_t j = 0; j < H; ++j) {
            zg[size_t(j)] = act[0](clipped(xw[size_t(j)] + hr[size_t(j)]));
            rg[size_t(j)] = act[0](clipped(xw[size_t(H + j)] + hr[size_t(H + j)]));
          }
          for (int64_t j = 0; j < H; ++j) {
            const size_t hj = size_t(2 * H + j);
            double pre;
            if (linear_before_reset) {
              pre = xw[hj] + rg[size_t(j)] * hr[hj];
            } else {
              // (r . Ht-1) * Rh^T + Rbh
              double acc = 0;
              const float* rrow = Rd + (2 * H + j) * H;
              for (int64_t k = 0; k < H; ++k) acc += rg[size_t(k)] * h[size_t(k)] * double(rrow[k]);
              pre = xw[hj] + acc + double(Rb[2 * H + j]);
            }
            const double hh = act[1](clipped(pre));
            hn[size_t(j)] = (1.0 - zg[size_t(j)]) * hh + zg[size_t(j)] * h[size_t(j)];
          }
        } else {
          // Gate order i, o, f, c; peepholes i, o, f.
          for (int64_t j = 0; j < H; ++j) {
            const size_t ij = size_t(j), oj = size_t(H + j), fj = size_t(2 * H + j), cj = size_t(3 * H + j);
            const double cprev = c[size_t(j)];
            const double ig = act[0](clipped(xw[ij] + hr[ij] + double(Pd[j]) * cprev));
            const double fg = input_forget ? 1.0 - ig
                                           : act[0](clipped(xw[fj] + hr[fj] + double(Pd[2 * H + j]) * cprev));
            const double cc = act[1](clipped(xw[cj] + hr[cj]));
            const double cnew = fg * cprev + ig * cc;
            const double og = act[0](clipped(xw[oj] + hr[oj] + double(Pd[H + j]) * cnew));
            cn[size_t(j)] = cnew;
            hn[size_t(j)] = og * act[2](cnew);
          }
          c = cn;
        }
        h = hn;
        float* yt = &Y[size_t(((t * dirs + d) * batch + b) * H)];
        for (int64_t j = 0; j < H; ++j) yt[j] = float(h[size_t(j)]);
      }
      for (int64_t j = 0; j < H; ++j) {
        Yh[state_off + size_t(j)] = float(h[size_t(j)]);
        Yc[state_off + size_t(j)] = float(c[size_t(j)]);
      }
    }
  }

  std::vector<Tensor> out;
  const DType dt = X.dtype();
  // Y
  if (layout == 0) {
    out.push_back(make_output(dt, {seq, dirs, batch, H}, Y));
  } else {
    std::vector<float> t(Y.size());
    for (int64_t s = 0; s < seq; ++s)
      for (int64_t d = 0; d < dirs; ++d)
        for (int64_t b = 0; b < batch; ++b)
          std::copy_n(&Y[size_t(((s * dirs + d) * batch + b) * H)], H,
                      &t[size_t(((b * seq + s) * dirs + d) * H)]);
    out.push_back(make_output(dt, {batch, seq, dirs, H}, t));
  }
  auto state_out = [&](const std::vector<float>& v) {
    if (layout == 0) return make_output(dt, {dirs, batch, H}, v);
    std::vector<float> t(v.size());
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(&v[size_t((d * batch + b) * H)], H, &t[size_t((b * dirs + d) * H)]);
    return make_output(dt, {batch, dirs, H}, t);
  };
  out.push_back(state_out(Yh));
  if (kind == RnnKind::Lstm) out.push_back(state_out(Yc));
  check(ctx.num_outputs() <= out.size(), node.label(), ": at most ", out.size(), " outputs are allowed, got ",
        ctx.num_outputs());
  out.resize(ctx.num_outputs());
  return out;
}

// ---- cost ------------------------------------------------------------------------------------
double static_bytes(const std::vector<TensorType>& types) {
  double total = 0;
  for (const auto& t : types)
    if (t.dtype != DType::Undefined && t.dtype != DType::String && t.is_static())
      total += double(t.numel_or(0)) * double(dtype_size(t.dtype));
  return total;
}

OpCost rnn_cost(const Node& node, const std::vector<TensorType>& in, const std::vector<TensorType>& out,
                RnnKind kind) {
  OpCost cost;
  cost.bytes = static_bytes(in) + static_bytes(out);
  if (in.size() < 3 || !in[0].is_static() || !in[1].is_static() || in[0].rank() != 3 || in[1].rank() != 3)
    return cost;
  const int64_t layout = node.attr_int("layout", 0);
  const double seq = double(layout == 0 ? in[0].dims[0].value : in[0].dims[1].value);
  const double batch = double(layout == 0 ? in[0].dims[1].value : in[0].dims[0].value);
  const double input = double(in[0].dims[2].value);
  const double dirs = double(in[1].dims[0].value);
  const double gh = double(in[1].dims[1].value);  // gates * hidden
  const double gates = double(traits_of(kind).gates);
  const double hidden = gh / gates;
  // Two flops per multiply-add of the input and recurrent products, plus ~6 element-wise
  // operations (bias, activation, state update) per gate value.
  cost.flops = dirs * seq * batch * (2.0 * gh * (input + hidden) + 6.0 * gh + 4.0 * hidden);
  return cost;
}

void add_rnn_row(OpRegistry& r, const char* name, RnnKind kind, const char* summary) {
  OpInfo info;
  info.name = name;
  info.since = 1;
  info.family = "recurrent";
  info.mapping = MappingType::ManyToMany;
  info.shape = [kind](const InferContext& ctx) { return rnn_shape(ctx, kind); };
  info.kernel = [kind](KernelContext& ctx) { return rnn_kernel(ctx, kind); };
  info.cost = [kind](const Node& n, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
    return rnn_cost(n, in, out, kind);
  };
  info.summary = summary;
  r.add(std::move(info));
}

}  // namespace

void register_recurrent_ops(OpRegistry& r) {
  add_rnn_row(r, "RNN", RnnKind::Simple,
              "one-layer Elman RNN: Ht = f(Xt*Wi^T + Ht-1*Ri^T + Wbi + Rbi), forward/reverse/bidirectional");
  add_rnn_row(r, "GRU", RnnKind::Gru,
              "one-layer GRU (gates z, r, h; linear_before_reset), forward/reverse/bidirectional");
  add_rnn_row(r, "LSTM", RnnKind::Lstm,
              "one-layer LSTM (gates i, o, f, c; peepholes, input_forget), forward/reverse/bidirectional");
}

}  // namespace dnnf::ops
