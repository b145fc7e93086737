// Helpers shared by the data-movement operator families (see shape_ops_common.h).
#include "core/ops/shape_ops_common.h"
#include "core/util/limits.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace dnnf::ops::movement {

namespace {

// Calls fn(T{}) with an unsigned storage type of the element size (or std::string).
template <class Fn>
void by_storage(DType dtype, Fn&& fn) {
  if (dtype == DType::String) return fn(std::string{});
  switch (dtype_size(dtype)) {
    case 1: return fn(uint8_t{});
    case 2: return fn(uint16_t{});
    case 4: return fn(uint32_t{});
    case 8: return fn(uint64_t{});
    default: break;
  }
  fail("element type ", dtype_name(dtype), " cannot be copied");
}

template <class T>
T* storage(Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) return t.strings().data();
  else return t.data<T>();
}
template <class T>
const T* storage(const Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) return t.strings().data();
  else return t.data<T>();
}

template <class T>
void strided_copy_rows(const T* s, int64_t so, const int64_t* ss, T* d, int64_t dof,
                       const int64_t* ds, const int64_t* ext, int64_t r) {
  if (r == 0) {
    d[dof] = s[so];
    return;
  }
  for (int64_t k = 0; k < r; ++k)
    if (ext[k] == 0) return;
  std::vector<int64_t> c(size_t(r), 0);
  const int64_t n = ext[r - 1], sst = ss[r - 1], dst = ds[r - 1];
  for (;;) {
    const T* sp = s + so;
    T* dp = d + dof;
    if constexpr (std::is_trivially_copyable_v<T>) {
      if (sst == 1 && dst == 1) {
        std::memcpy(dp, sp, size_t(n) * sizeof(T));
      } else {
        for (int64_t i = 0; i < n; ++i) dp[i * dst] = sp[i * sst];
      }
    } else {
      for (int64_t i = 0; i < n; ++i) dp[i * dst] = sp[i * sst];
    }
    int64_t k = r - 2;
    for (; k >= 0; --k) {
      ++c[size_t(k)];
      so += ss[k];
      dof += ds[k];
      if (c[size_t(k)] < ext[k]) break;
      so -= ss[k] * ext[k];
      dof -= ds[k] * ext[k];
      c[size_t(k)] = 0;
    }
    if (k < 0) break;
  }
}

// Row-by-row copy, except when the source walks its last dim with a stride while some
// other dim is contiguous (a transpose): then the two dims are copied in 32x32 tiles so
// both the reads and the writes stay in cache.
template <class T>
void strided_copy_t(const T* s, int64_t so, const int64_t* ss, T* d, int64_t dof,
                    const int64_t* ds, const int64_t* ext, int64_t r) {
  constexpr int64_t B = 32;
  if (r >= 2 && ss[r - 1] != 1) {
    int64_t k = -1;
    for (int64_t q = r - 2; q >= 0; --q)
      if (ss[q] == 1) {
        k = q;
        break;
      }
    if (k >= 0 && ext[k] > B && ext[r - 1] > B) {
      std::vector<int64_t> sub(ext, ext + r);
      for (int64_t i0 = 0; i0 < ext[k]; i0 += B)
        for (int64_t j0 = 0; j0 < ext[r - 1]; j0 += B) {
          sub[size_t(k)] = std::min(B, ext[k] - i0);
          sub[size_t(r - 1)] = std::min(B, ext[r - 1] - j0);
          strided_copy_rows<T>(s, so + i0 * ss[k] + j0 * ss[r - 1], ss, d, dof + i0 * ds[k] + j0 * ds[r - 1], ds,
                               sub.data(), r);
        }
      return;
    }
  }
  strided_copy_rows<T>(s, so, ss, d, dof, ds, ext, r);
}

void parse_symbol(const std::string& s, DimProduct& p) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('*', start);
    if (end == std::string::npos) end = s.size();
    std::string tok = s.substr(start, end - start);
    bool numeric = !tok.empty() && std::all_of(tok.begin(), tok.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (numeric && tok.size() < 18) p.mul(Dim(std::stoll(tok)));
    else if (!tok.empty()) p.syms.push_back(tok);
    start = end + 1;
  }
}

}  // namespace

void copy_block(const Tensor& src, int64_t so, Tensor& dst, int64_t dof, int64_t n) {
  if (n <= 0) return;
  if (src.dtype() == DType::String) {
    const auto& s = src.strings();
    auto& d = dst.strings();
    std::copy(s.begin() + so, s.begin() + so + n, d.begin() + dof);
    return;
  }
  const size_t es = dtype_size(src.dtype());
  std::memcpy(static_cast<unsigned char*>(dst.raw()) + size_t(dof) * es,
              static_cast<const unsigned char*>(src.raw()) + size_t(so) * es, size_t(n) * es);
}

void strided_copy(const Tensor& src, int64_t so, const std::vector<int64_t>& src_str, Tensor& dst,
                  int64_t dof, const std::vector<int64_t>& dst_str, const Shape& extent) {
  by_storage(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    strided_copy_t<T>(storage<T>(src), so, src_str.data(), storage<T>(dst), dof, dst_str.data(),
                      extent.data(), int64_t(extent.size()));
  });
}

Tensor gather_flat(const Tensor& src, const Shape& out_shape, const std::vector<int64_t>& idx) {
  Tensor out(src.dtype(), out_shape);
  by_storage(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = storage<T>(src);
    T* d = storage<T>(out);
    for (size_t i = 0; i < idx.size(); ++i) d[i] = s[idx[i]];
  });
  return out;
}

Tensor gather_axes(const Tensor& src, const Shape& out_shape,
                   const std::vector<std::vector<int64_t>>& maps, const Tensor* fill) {
  Tensor out(src.dtype(), out_shape);
  const int64_t r = int64_t(out_shape.size());
  if (out.numel() == 0) return out;
  const std::vector<int64_t> st = strides_of(src.shape());
  by_storage(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = storage<T>(src);
    T* d = storage<T>(out);
    T fv{};
    if (fill) fv = storage<T>(*fill)[0];
    if (r == 0) {
      d[0] = s[0];
      return;
    }
    // Pre-scaled inner map (flat offsets), -1 stays "fill".
    const auto& inner = maps[size_t(r - 1)];
    std::vector<int64_t> inner_off(inner.size());
    for (size_t i = 0; i < inner.size(); ++i) inner_off[i] = inner[i] < 0 ? -1 : inner[i] * st[size_t(r - 1)];
    std::vector<int64_t> c(size_t(r), 0);
    const int64_t n = out_shape[size_t(r - 1)];
    int64_t o = 0;
    for (;;) {
      // Offset of the outer coordinates; a -1 there fills the whole row.
      int64_t base = 0;
      bool row_fill = false;
      for (int64_t k = 0; k + 1 < r; ++k) {
        int64_t m = maps[size_t(k)][size_t(c[size_t(k)])];
        if (m < 0) row_fill = true;
        else base += m * st[size_t(k)];
      }
      if (row_fill) {
        for (int64_t i = 0; i < n; ++i) d[o + i] = fv;
      } else {
        for (int64_t i = 0; i < n; ++i) {
          int64_t off = inner_off[size_t(i)];
          d[o + i] = off < 0 ? fv : s[base + off];
        }
      }
      o += n;
      int64_t k = r - 2;
      for (; k >= 0; --k) {
        if (++c[size_t(k)] < out_shape[size_t(k)]) break;
        c[size_t(k)] = 0;
      }
      if (k < 0) break;
    }
  });
  return out;
}

void check_out_shape(const Shape& shape, DType dtype, const Node& node) {
  const int64_t limit = limits().tensor_elements;
  for (int64_t d : shape)
    check(d >= 0 && d <= limit, node.label(), ": output dim ", d, " is negative or over the tensor limit");
  check_tensor_size(shape_numel(shape), dtype, node.label() + " output");
}

Tensor scalar_of_dtype(DType dtype, double v) {
  Tensor t(dtype, Shape{});
  if (dtype != DType::String) t.set_f64(0, v);
  return t;
}

Tensor transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  const std::vector<int64_t> st = strides_of(x.shape());
  Shape out_shape(perm.size());
  std::vector<int64_t> src_str(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    out_shape[i] = x.shape()[size_t(perm[i])];
    src_str[i] = st[size_t(perm[i])];
  }
  Tensor out(x.dtype(), out_shape);
  strided_copy(x, 0, src_str, out, 0, strides_of(out_shape), out_shape);
  return out;
}

std::vector<int64_t> ints_of(const Tensor& t) {
  check(t.dtype() != DType::String, "expected an integer tensor, got strings");
  return t.to_i64_vector();
}

std::optional<std::vector<int64_t>> known_ints(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return std::nullopt;
  const Tensor* v = ctx.value(i);
  if (!v || !v->defined() || v->dtype() == DType::String) return std::nullopt;
  return v->to_i64_vector();
}

std::optional<std::vector<int64_t>> opt_ints(const KernelContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return std::nullopt;
  return ints_of(ctx.in(i));
}

void DimProduct::mul(const Dim& d) {
  if (d.known()) {
    if (__builtin_mul_overflow(known, d.value, &known)) {
      known = 1;
      unknown = true;
    }
  } else if (d.symbol.empty()) {
    unknown = true;
  } else {
    parse_symbol(d.symbol, *this);
    std::sort(syms.begin(), syms.end());
  }
}

std::optional<DimProduct> DimProduct::div(const DimProduct& o) const {
  if (unknown || o.unknown || o.known == 0) return std::nullopt;
  if (known % o.known != 0) return std::nullopt;
  DimProduct r;
  r.known = known / o.known;
  std::vector<std::string> rest = syms;
  for (const auto& s : o.syms) {
    auto it = std::find(rest.begin(), rest.end(), s);
    if (it == rest.end()) return std::nullopt;
    rest.erase(it);
  }
  r.syms = rest;
  return r;
}

Dim DimProduct::to_dim() const {
  if (known == 0) return Dim(0);
  if (unknown) return Dim();
  if (syms.empty()) return Dim(known);
  std::string s;
  for (const auto& x : syms) s += (s.empty() ? "" : "*") + x;
  if (known != 1) s += "*" + std::to_string(known);
  return Dim::sym(s);
}

DimProduct dim_product(const std::vector<Dim>& dims, size_t begin, size_t end) {
  DimProduct p;
  for (size_t i = begin; i < end && i < dims.size(); ++i) p.mul(dims[i]);
  return p;
}

Dim dim_add(const Dim& a, const Dim& b) {
  if (a.known() && b.known()) return Dim(a.value + b.value);
  if (a.known() && a.value == 0) return b;
  if (b.known() && b.value == 0) return a;
  return Dim();
}

Dim dim0_of(const TensorType& t) {
  if (!t.has_shape || t.dims.empty()) return Dim();
  return t.dims[0];
}

TensorType unknown_dims(DType dtype, int64_t rank) {
  return TensorType(dtype, std::vector<Dim>(size_t(std::max<int64_t>(rank, 0))));
}

std::optional<Shape> static_of(const TensorType& t) { return t.static_shape(); }

namespace {
double bytes_of(const TensorType& t) {
  if (t.dtype == DType::Undefined || !t.is_static()) return 0;
  return double(t.numel_or(0)) * double(std::max<size_t>(dtype_size(t.dtype), 1));
}
}  // namespace

OpCost movement_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  for (const auto& t : in) c.bytes += bytes_of(t);
  for (const auto& t : out) c.bytes += bytes_of(t);
  return c;
}

OpCost indexed_cost(const Node&, const std::vector<TensorType>& in, const std::vector<TensorType>& out) {
  OpCost c;
  for (size_t i = 1; i < in.size(); ++i) c.bytes += bytes_of(in[i]);
  for (const auto& t : out) c.bytes += 2 * bytes_of(t);  // read the picked elements, write them
  return c;
}

OpInfo movement_row(const char* name, int since, const char* family, MappingType mapping, const char* summary,
                    CostFn cost) {
  OpInfo info;
  info.name = name;
  info.since = since;
  info.family = family;
  info.mapping = mapping;
  info.summary = summary;
  info.cost = std::move(cost);
  return info;
}

}  // namespace dnnf::ops::movement
