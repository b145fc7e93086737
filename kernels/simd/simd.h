/* Portable SIMD layer for generated block kernels and the CPU micro-kernels.
 *
 * One source for x86 (SSE2 / AVX / AVX2 / AVX-512) and aarch64 (NEON) built on GCC vector
 * extensions only, so a generated kernel that includes it compiles fast and never needs
 * <immintrin.h> or <cmath>. Every operation exists for T = float (scalar tails) and T = vf
 * (the main loop), so the code generator emits one body and instantiates it twice.
 *
 * Assumptions: no -ffast-math (NaN tests, the round-to-even trick and the exp/log range
 * handling rely on IEEE semantics). -fno-math-errno lets vsqrt become one vector
 * instruction; without it vsqrt is a correct per-lane loop. Vectors are loaded and stored
 * through __builtin_memcpy, so pointers need only float alignment.
 *
 * Accuracy (checked by tests/unit/test_simd.cpp against double precision): exp, log,
 * tanh, sigmoid, erf, pow (integer and non-integer exponents of moderate magnitude),
 * sin/cos (|x| < ~1e4), atan: about 1e-6 relative or better; sqrt, floor, ceil, round,
 * trunc, fmod, min, max exact. */
#ifndef DNNF_SIMD_H
#define DNNF_SIMD_H

#include <stdint.h>

#if defined(__AVX512F__)
#define DNNF_SIMD_VL 16
#elif defined(__AVX__)
#define DNNF_SIMD_VL 8
#else
#define DNNF_SIMD_VL 4
#endif

/* Internal linkage everywhere: kernels built with different -march flags may live in one
 * process, and their vf types differ. */
#define DNNF_SIMD_INLINE static inline __attribute__((always_inline))
#define DNNF_SIMD_FN static inline

namespace dnnf_simd {

constexpr int VL = DNNF_SIMD_VL;
typedef float vf __attribute__((vector_size(DNNF_SIMD_VL * 4)));
typedef int32_t vi __attribute__((vector_size(DNNF_SIMD_VL * 4)));

namespace detail {

template <class T> struct traits;
template <> struct traits<float> {
  typedef int32_t I;  // integer lane type
  typedef bool M;     // comparison result
};
template <> struct traits<vf> {
  typedef vi I;
  typedef vi M;
};

DNNF_SIMD_INLINE int32_t as_int(float x) {
  int32_t i;
  __builtin_memcpy(&i, &x, 4);
  return i;
}
DNNF_SIMD_INLINE vi as_int(vf x) { return (vi)x; }
DNNF_SIMD_INLINE float as_float(int32_t i) {
  float x;
  __builtin_memcpy(&x, &i, 4);
  return x;
}
DNNF_SIMD_INLINE vf as_float(vi i) { return (vf)i; }

/* float -> int32 with truncation; callers clamp into int range first. */
DNNF_SIMD_INLINE int32_t to_int(float x) { return (int32_t)x; }
DNNF_SIMD_INLINE vi to_int(vf x) { return __builtin_convertvector(x, vi); }
DNNF_SIMD_INLINE float to_float(int32_t i) { return (float)i; }
DNNF_SIMD_INLINE vf to_float(vi i) { return __builtin_convertvector(i, vf); }

template <class T> DNNF_SIMD_INLINE T broadcast(float x) {
  if constexpr (sizeof(T) == sizeof(float)) return x;
  else return x - T{};  // x - 0 is x for every x; 0 + x would turn -0 into +0
}
template <class T> DNNF_SIMD_INLINE typename traits<T>::I ibroadcast(int32_t x) {
  if constexpr (sizeof(T) == sizeof(float)) return x;
  else return typename traits<T>::I{} + x;
}

/* mask -> 1.0f / 0.0f */
DNNF_SIMD_INLINE float mask_to_float(bool m) { return m ? 1.0f : 0.0f; }
DNNF_SIMD_INLINE vf mask_to_float(vi m) { return as_float(m & as_int(1.0f)); }

/* Select with a comparison mask; ?: works for bool and for vector masks alike. */
template <class T> DNNF_SIMD_INLINE T sel(typename traits<T>::M m, T a, T b) { return m ? a : b; }

template <class T> DNNF_SIMD_INLINE T copysign_of(T mag, T sign) {
  return as_float((as_int(mag) & 0x7fffffff) | (as_int(sign) & (int32_t)0x80000000));
}

template <class T> DNNF_SIMD_INLINE T trunc_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const T big = broadcast<T>(8388608.0f);  // 2^23: already an integer (also inf)
  const T t = to_float(to_int(sel<T>(ax < big, x, broadcast<T>(0.0f))));
  return sel<T>(ax < big, copysign_of(t, x), x);  // NaN compares false: passes through
}

template <class T> DNNF_SIMD_INLINE T round_even_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const T big = broadcast<T>(8388608.0f);
  const T r = (ax + big) - big;  // the FPU's round-to-nearest-even does the work
  return sel<T>(ax < big, copysign_of(r, x), x);
}

/* 2^n for integer-valued n in [-150, 129]: two factors keep each one a normal float. */
template <class T> DNNF_SIMD_INLINE T scale_pow2(T p, typename traits<T>::I n) {
  const typename traits<T>::I n1 = n >> 1;
  const typename traits<T>::I n2 = n - n1;
  return p * as_float((n1 + 127) << 23) * as_float((n2 + 127) << 23);
}

/* exp(x) / 2^fn for fn = round(x / ln 2): Cody-Waite reduction (ln2 = C1 + C2 with C1
 * exact in few bits) to r in [-ln2/2, ln2/2], then a degree-7 polynomial in r. */
template <class T> DNNF_SIMD_INLINE T exp_reduced(T x, T fn) {
  T r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  T p = broadcast<T>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  return p * (r * r) + r + 1.0f;
}

template <class T> DNNF_SIMD_FN T exp_impl(T x) {
  typedef typename traits<T>::I I;
  const T xc = sel<T>(x > broadcast<T>(89.0f), broadcast<T>(89.0f),
                      sel<T>(x < broadcast<T>(-104.0f), broadcast<T>(-104.0f), x));
  const T fn = round_even_impl(xc * 1.44269504088896341f);
  const I n = to_int(sel<T>(xc == xc, fn, broadcast<T>(0.0f)));
  return sel<T>(xc == xc, scale_pow2(exp_reduced(xc, fn), n), x);
}

template <class T> DNNF_SIMD_FN T log_impl(T x) {
  typedef typename traits<T>::I I;
  // Subnormals: scale into the normal range first.
  const typename traits<T>::M tiny = x < broadcast<T>(1.17549435e-38f);
  const T xs = sel<T>(tiny, x * 8388608.0f, x);
  const I bits = as_int(xs);
  I e = ((bits >> 23) & 0xff) - 126;
  e = e - (tiny ? ibroadcast<T>(23) : ibroadcast<T>(0));
  T m = as_float((bits & 0x007fffff) | 0x3f000000);  // mantissa in [0.5, 1)
  const typename traits<T>::M small = m < broadcast<T>(0.707106781186547524f);
  e = e - (small ? ibroadcast<T>(1) : ibroadcast<T>(0));
  m = sel<T>(small, m + m, m) - 1.0f;
  const T fe = to_float(e);
  const T z = m * m;
  T y = broadcast<T>(7.0376836292e-2f);
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y = y + fe * -2.12194440e-4f;
  y = y - z * 0.5f;
  T r = m + y;
  r = r + fe * 0.693359375f;
  const T inf = as_float(ibroadcast<T>(0x7f800000));
  const T nan = as_float(ibroadcast<T>(0x7fc00000));
  r = sel<T>(x == inf, inf, r);
  r = sel<T>(x == broadcast<T>(0.0f), -inf, r);
  r = sel<T>(x < broadcast<T>(0.0f), nan, r);
  return sel<T>(x == x, r, x);
}

/* exp(t) for t <= 0 (for sigmoid, tanh and erf) in fewer steps than exp_impl: t is
 * clamped to -87.3, so n = round(t / ln 2) is in [-126, 0] and 2^n one normal factor;
 * the rounding is the 1.5 * 2^23 shift, whose low bits are n (no float-to-int
 * conversion, so a NaN stays a bit pattern; callers select NaN through). The same
 * exp_reduced as exp_impl. */
template <class T> DNNF_SIMD_INLINE T exp_nonpositive(T t) {
  const T tc = sel<T>(t < broadcast<T>(-87.3f), broadcast<T>(-87.3f), t);
  const T shifted = tc * 1.44269504088896341f + 12582912.0f;
  const T fn = shifted - 12582912.0f;
  const typename traits<T>::I n = as_int(shifted) - as_int(12582912.0f);
  return exp_reduced(tc, fn) * as_float((n + 127) << 23);
}

template <class T> DNNF_SIMD_FN T tanh_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const T s = x * x;
  T p = broadcast<T>(-5.70498872745e-3f);
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const T small = p * s * x + x;
  const T e = exp_nonpositive(-(ax + ax));  // tanh|x| = (1 - e) / (1 + e)
  const T large = copysign_of(1.0f - (e + e) / (e + 1.0f), x);
  T r = sel<T>(ax < broadcast<T>(0.625f), small, large);
  r = sel<T>(ax > broadcast<T>(9.0f), copysign_of(broadcast<T>(1.0f), x), r);
  return sel<T>(x == x, r, x);
}

/* 1 / (1 + e^-|x|), mirrored for x < 0. Below -87 the value (under 1.6e-38) is 0.
 * (Newton's reciprocal instead of the division measured slower here and missed the
 * error bound: bench/kernels/bench_unary.cpp.) */
template <class T> DNNF_SIMD_FN T sigmoid_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const T e = sel<T>(ax > broadcast<T>(87.0f), broadcast<T>(0.0f), exp_nonpositive(-ax));  // in [0, 1]
  const T d = 1.0f / (1.0f + e);
  return sel<T>(x < broadcast<T>(0.0f), e * d, sel<T>(x == x, d, x));
}

/* erf: x * P(x^2) below 1 (Cephes erff); above, 1 - erfc with
 * erfc(x) = exp(-x^2) / x * R(1/x^2) (Cephes erfcf), so the absolute error stays near
 * float rounding; |erf| rounds to 1 in float beyond 3.92. */
template <class T> DNNF_SIMD_FN T erf_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const T z = x * x;
  T s = broadcast<T>(7.853861353153693e-5f);
  s = s * z - 8.010193625184903e-4f;
  s = s * z + 5.188327685732524e-3f;
  s = s * z - 2.685381193529856e-2f;
  s = s * z + 1.128358514861418e-1f;
  s = s * z - 3.761262582423300e-1f;
  s = s * z + 1.28379165726710e-1f;  // the leading 1 is added last: less rounding
  const T small = x + x * s;
  const T xa = sel<T>(ax < broadcast<T>(1.0f), broadcast<T>(1.0f),
                      sel<T>(ax > broadcast<T>(4.0f), broadcast<T>(4.0f), ax));
  const T q = 1.0f / xa;
  const T y = q * q;
  T p = broadcast<T>(2.326819970068386e-2f);
  p = p * y - 1.387039388740657e-1f;
  p = p * y + 3.687424674597105e-1f;
  p = p * y - 5.824733027278666e-1f;
  p = p * y + 6.210004621745983e-1f;
  p = p * y - 4.944515323274145e-1f;
  p = p * y + 3.404879937665872e-1f;
  p = p * y - 2.741127028184656e-1f;
  p = p * y + 5.638259427386472e-1f;
  T r = broadcast<T>(-1.047766399936249e+1f);
  r = r * y + 1.297719955372516e+1f;
  r = r * y - 7.495518717768503e+0f;
  r = r * y + 2.921019019210786e+0f;
  r = r * y - 1.015265279202700e+0f;
  r = r * y + 4.218463358204948e-1f;
  r = r * y - 2.820767439740514e-1f;
  r = r * y + 5.641895067754075e-1f;
  const T erfc = exp_nonpositive(-(xa * xa)) * q * sel<T>(xa < broadcast<T>(2.0f), p, r);  // xa in [1, 4]
  const T large = copysign_of(1.0f - erfc, x);
  T out = sel<T>(ax < broadcast<T>(1.0f), small, large);
  out = sel<T>(ax > broadcast<T>(3.92f), copysign_of(broadcast<T>(1.0f), x), out);
  return sel<T>(x == x, out, x);
}

/* sin and cos share one reduction to r in [-pi/4, pi/4] and quadrant q. */
template <class T> DNNF_SIMD_INLINE T sin_poly(T r, T z) {
  T p = broadcast<T>(-1.9515295891e-4f);
  p = p * z + 8.3321608736e-3f;
  p = p * z - 1.6666654611e-1f;
  return p * z * r + r;
}
template <class T> DNNF_SIMD_INLINE T cos_poly(T z) {
  T p = broadcast<T>(2.443315711809948e-5f);
  p = p * z - 1.388731625493765e-3f;
  p = p * z + 4.166664568298827e-2f;
  return p * z * z - z * 0.5f + 1.0f;
}
template <class T> DNNF_SIMD_FN T sincos_impl(T x, int32_t quadrant_shift) {
  typedef typename traits<T>::I I;
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const typename traits<T>::M ok = ax < broadcast<T>(1.0e7f);  // also false for inf/NaN
  const T xs = sel<T>(ok, x, broadcast<T>(0.0f));
  const T fq = round_even_impl(xs * 0.636619772367581343f);
  const I q = to_int(fq) + quadrant_shift;
  T r = xs - fq * 1.5703125f;
  r = r - fq * 4.837512969970703125e-4f;
  r = r - fq * 7.54978995489188216e-8f;
  const T z = r * r;
  const T s = sin_poly(r, z);
  const T c = cos_poly(z);
  T v = sel<T>((q & 1) != 0, c, s);
  v = sel<T>((q & 2) != 0, -v, v);
  const T nan = as_float(ibroadcast<T>(0x7fc00000));
  return sel<T>(ok, v, sel<T>(x == x, nan, x));
}

template <class T> DNNF_SIMD_FN T atan_impl(T x) {
  const T ax = as_float(as_int(x) & 0x7fffffff);
  const typename traits<T>::M hi = ax > broadcast<T>(2.414213562373095f);
  const typename traits<T>::M mid = ax > broadcast<T>(0.4142135623730950f);
  const T base = sel<T>(hi, broadcast<T>(1.570796326794896f),
                        sel<T>(mid, broadcast<T>(0.7853981633974483f), broadcast<T>(0.0f)));
  const T t = sel<T>(hi, -1.0f / ax, sel<T>(mid, (ax - 1.0f) / (ax + 1.0f), ax));
  const T z = t * t;
  T p = broadcast<T>(8.05374449538e-2f);
  p = p * z - 1.38776856032e-1f;
  p = p * z + 1.99777106478e-1f;
  p = p * z - 3.33329491539e-1f;
  const T r = base + (p * z * t + t);
  return copysign_of(r, x);  // NaN: t is NaN, so r is NaN
}

}  // namespace detail

/* ---- memory and lane access ------------------------------------------------------ */

template <class T> DNNF_SIMD_INLINE T load(const float* p) {
  T v;
  __builtin_memcpy(&v, p, sizeof(T));
  return v;
}

DNNF_SIMD_INLINE void store(float* p, float v) { *p = v; }
DNNF_SIMD_INLINE void store(float* p, vf v) { __builtin_memcpy(p, &v, sizeof(vf)); }

template <class T> DNNF_SIMD_INLINE T splat(float x) { return detail::broadcast<T>(x); }

template <class T, class F> DNNF_SIMD_INLINE T gather(F f) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return (T)f(0);
  } else {
    T v;
    for (int i = 0; i < VL; ++i) v[i] = f(i);
    return v;
  }
}

template <class T> DNNF_SIMD_INLINE T lane_index() {
  return gather<T>([](int i) { return (float)i; });
}

template <class T, class F> DNNF_SIMD_INLINE void scatter(T v, F f) {
  if constexpr (sizeof(T) == sizeof(float)) {
    f(0, (float)v);
  } else {
    for (int i = 0; i < VL; ++i) f(i, v[i]);
  }
}

/* ---- horizontal ------------------------------------------------------------------ */

DNNF_SIMD_INLINE float hsum(float v) { return v; }
DNNF_SIMD_INLINE float hsum(vf v) {
  // Pairwise halves: log2(VL) dependent adds instead of VL - 1 (and a smaller error).
  for (int w = VL / 2; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) v[i] += v[i + w];
  return v[0];
}
DNNF_SIMD_INLINE float hmax(float v) { return v; }
DNNF_SIMD_INLINE float hmax(vf v) {
  float m = v[0];
  for (int i = 1; i < VL; ++i) m = (m != m || v[i] != v[i]) ? m + v[i] : (v[i] > m ? v[i] : m);
  return m;
}
DNNF_SIMD_INLINE float hmin(float v) { return v; }
DNNF_SIMD_INLINE float hmin(vf v) {
  float m = v[0];
  for (int i = 1; i < VL; ++i) m = (m != m || v[i] != v[i]) ? m + v[i] : (v[i] < m ? v[i] : m);
  return m;
}

/* ---- element-wise math: float and vf overloads ----------------------------------- */

#define DNNF_SIMD_UNARY(name, expr)                               \
  DNNF_SIMD_FN float name(float x) { return expr; }               \
  DNNF_SIMD_FN vf name(vf x) { return expr; }
#define DNNF_SIMD_BINARY(name, expr)                              \
  DNNF_SIMD_FN float name(float a, float b) { return expr; }      \
  DNNF_SIMD_FN vf name(vf a, vf b) { return expr; }

/* min/max propagate NaN from either side (ONNX Min/Max; Relu = vmax(x, 0) keeps NaN). */
DNNF_SIMD_BINARY(vmin, (a != a || b != b) ? a + b : (a < b ? a : b))
DNNF_SIMD_BINARY(vmax, (a != a || b != b) ? a + b : (a > b ? a : b))
DNNF_SIMD_UNARY(vabs, detail::as_float(detail::as_int(x) & 0x7fffffff))
DNNF_SIMD_UNARY(vneg, -x)
DNNF_SIMD_UNARY(vrecip, 1.0f / x)
DNNF_SIMD_UNARY(vtrunc, detail::trunc_impl(x))
DNNF_SIMD_UNARY(vround, detail::round_even_impl(x))
DNNF_SIMD_UNARY(vexp, detail::exp_impl(x))
DNNF_SIMD_UNARY(vlog, detail::log_impl(x))
DNNF_SIMD_UNARY(vtanh, detail::tanh_impl(x))
DNNF_SIMD_UNARY(vsigmoid, detail::sigmoid_impl(x))
DNNF_SIMD_UNARY(verf, detail::erf_impl(x))
DNNF_SIMD_UNARY(vsin, detail::sincos_impl(x, 0))
DNNF_SIMD_UNARY(vcos, detail::sincos_impl(x, 1))
DNNF_SIMD_UNARY(vatan, detail::atan_impl(x))

/* floor/ceil from trunc: fix up when trunc moved the wrong way (signs of zero survive). */
DNNF_SIMD_FN float vfloor(float x) {
  const float t = vtrunc(x);
  return t > x ? t - 1.0f : t;
}
DNNF_SIMD_FN vf vfloor(vf x) {
  const vf t = vtrunc(x);
  return t > x ? t - 1.0f : t;
}
DNNF_SIMD_FN float vceil(float x) {
  const float t = vtrunc(x);
  return t < x ? t + 1.0f : t;
}
DNNF_SIMD_FN vf vceil(vf x) {
  const vf t = vtrunc(x);
  return t < x ? t + 1.0f : t;
}

/* Exact square root: a lane loop GCC turns into one sqrt instruction with
 * -fno-math-errno (and into correct scalar code without it). */
DNNF_SIMD_FN float vsqrt(float x) { return __builtin_sqrtf(x); }
DNNF_SIMD_FN vf vsqrt(vf x) {
  vf r;
  for (int i = 0; i < VL; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
}

/* sign: -1, 0 (keeping -0) or 1; NaN stays NaN. */
DNNF_SIMD_FN float vsign(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x); }
DNNF_SIMD_FN vf vsign(vf x) {
  return x > 0.0f ? splat<vf>(1.0f) : (x < 0.0f ? splat<vf>(-1.0f) : x);
}

/* C fmod (exact, sign of the dividend) and Python-style floor modulo (sign of the
 * divisor). Rare in models, so a per-lane libm call is fine. */
DNNF_SIMD_FN float vfmod(float a, float b) { return __builtin_fmodf(a, b); }
DNNF_SIMD_FN vf vfmod(vf a, vf b) {
  vf r;
  for (int i = 0; i < VL; ++i) r[i] = __builtin_fmodf(a[i], b[i]);
  return r;
}
DNNF_SIMD_FN float vmod_floor(float a, float b) {
  const float r = __builtin_fmodf(a, b);
  return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}
DNNF_SIMD_FN vf vmod_floor(vf a, vf b) {
  const vf r = vfmod(a, b);
  return (r != 0.0f) & ((r < 0.0f) != (b < 0.0f)) ? r + b : r;
}

/* ---- comparisons and logic: 1.0f for true, 0.0f for false ------------------------ */

DNNF_SIMD_BINARY(vlt, detail::mask_to_float(a < b))
DNNF_SIMD_BINARY(vle, detail::mask_to_float(a <= b))
DNNF_SIMD_BINARY(vgt, detail::mask_to_float(a > b))
DNNF_SIMD_BINARY(vge, detail::mask_to_float(a >= b))
DNNF_SIMD_BINARY(veq, detail::mask_to_float(a == b))
DNNF_SIMD_BINARY(vne, detail::mask_to_float(a != b))
DNNF_SIMD_BINARY(vand, detail::mask_to_float((a != 0.0f) & (b != 0.0f)))
DNNF_SIMD_BINARY(vor, detail::mask_to_float((a != 0.0f) | (b != 0.0f)))
DNNF_SIMD_BINARY(vxor, detail::mask_to_float((a != 0.0f) != (b != 0.0f)))
DNNF_SIMD_UNARY(vnot, detail::mask_to_float(x == 0.0f))
DNNF_SIMD_UNARY(visnan, detail::mask_to_float(x != x))
DNNF_SIMD_UNARY(visinf, detail::mask_to_float(vabs(x) == __builtin_inff()))

DNNF_SIMD_FN float vwhere(float c, float a, float b) { return c != 0.0f ? a : b; }
DNNF_SIMD_FN vf vwhere(vf c, vf a, vf b) { return c != 0.0f ? a : b; }

/* ---- pow ------------------------------------------------------------------------- */

namespace detail {
template <class T> DNNF_SIMD_FN T pow_impl(T a, T b) {
  typedef typename traits<T>::M M;
  const T one = broadcast<T>(1.0f);
  const T nan = as_float(ibroadcast<T>(0x7fc00000));
  const T ab = as_float(as_int(a) & 0x7fffffff);
  const T bb = as_float(as_int(b) & 0x7fffffff);
  const M b_int = trunc_impl(b) == b;  // false for NaN; true for +-inf
  // Integer exponents up to 64 by repeated squaring: exact for small powers (x*x).
  const M small_int = b_int & (bb <= broadcast<T>(64.0f));
  typename traits<T>::I e = to_int(sel<T>(small_int, bb, broadcast<T>(0.0f)));
  T base = a, acc = one;
  for (int bit = 0; bit < 7; ++bit) {
    acc = sel<T>((e & 1) != 0, acc * base, acc);
    base = base * base;
    e = e >> 1;
  }
  const T by_squaring = sel<T>(b < broadcast<T>(0.0f), one / acc, acc);
  // General: |a|^b = exp(b * log|a|); negative base only with an integer exponent.
  T general = exp_impl(b * log_impl(ab));
  const M odd = b_int & (bb < broadcast<T>(16777216.0f)) &
                ((to_int(sel<T>(bb < broadcast<T>(16777216.0f), bb, broadcast<T>(0.0f))) & 1) != 0);
  general = sel<T>((a < broadcast<T>(0.0f)) & odd, -general, general);
  const T inf = as_float(ibroadcast<T>(0x7f800000));
  general = sel<T>((a < broadcast<T>(0.0f)) & (b_int == 0) & (a != -inf), nan, general);
  T r = sel<T>(small_int, by_squaring, general);
  // pow(x, 0.5) is sqrt exactly, except pow(-0, .5) = +0 and pow(-inf, .5) = +inf.
  r = sel<T>(b == broadcast<T>(0.5f), sel<T>(a == -inf, inf, vsqrt(a) + 0.0f), r);
  r = sel<T>((b == broadcast<T>(0.0f)) | (a == one) | ((a == -one) & (bb == inf)), one, r);
  return r;
}
}  // namespace detail

/* pow: exact for small integer exponents (x^2 == x*x), sqrt for 0.5, negative bases with
 * integer exponents, pow(x, 0) = pow(1, y) = 1 (even for NaN). */
DNNF_SIMD_BINARY(vpow, detail::pow_impl(a, b))

#undef DNNF_SIMD_UNARY
#undef DNNF_SIMD_BINARY

}  // namespace dnnf_simd

#endif /* DNNF_SIMD_H */
