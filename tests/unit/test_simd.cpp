// kernels/simd/simd.h against <cmath> in double precision, for the scalar (float) and the
// vector (vf) instantiation of every function, over sweeps plus edge cases.
#include "kernels/simd/simd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using dnnf_simd::vf;
using dnnf_simd::VL;

const float kInf = std::numeric_limits<float>::infinity();
const float kNan = std::numeric_limits<float>::quiet_NaN();

uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

// Edge cases, a log-spaced sweep of magnitudes, a dense sweep of [-20, 20] and a
// stride through all bit patterns.
std::vector<float> test_inputs() {
  std::vector<float> v = {0.0f, -0.0f, kInf, -kInf, kNan, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f,
                          -1.5f, 2.5f, -2.5f, 1e-45f, -1e-45f, 1.17549435e-38f, 3.4028235e38f,
                          -3.4028235e38f, 88.7f, 89.0f, -87.3f, -103.9f, -104.0f, 8388607.5f,
                          8388608.0f, -8388609.0f, 0.49999997f, 9.0f, 9.01f, -9.01f, 4.0f};
  for (double e = -45; e <= 38; e += 0.0137) {
    v.push_back((float)std::pow(10.0, e));
    v.push_back(-(float)std::pow(10.0, e));
  }
  for (float x = -20.0f; x <= 20.0f; x += 0.0019f) v.push_back(x);
  for (uint64_t b = 0; b < (1ull << 32); b += 40009) {
    float x;
    uint32_t b32 = (uint32_t)b;
    std::memcpy(&x, &b32, 4);
    v.push_back(x);
  }
  while (v.size() % VL) v.push_back(0.0f);
  return v;
}

const std::vector<float>& inputs() {
  static const std::vector<float> v = test_inputs();
  return v;
}

// Evaluates f over `xs` both lane-by-lane with float and VL lanes at a time with vf.
template <class F> void eval_both(F f, const std::vector<float>& xs, std::vector<float>& scalar,
                                  std::vector<float>& vector) {
  scalar.resize(xs.size());
  vector.resize(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) scalar[i] = f(xs[i]);
  for (size_t i = 0; i < xs.size(); i += VL) {
    vf x = dnnf_simd::load<vf>(&xs[i]);
    dnnf_simd::store(&vector[i], f(x));
  }
}

struct Tolerance {
  double rel;
  double abs;  // for results near zero / in the subnormal range
};

// Agreement with a double-precision reference: NaN where it is NaN, infinities exact.
::testing::AssertionResult close(float got, double ref, float x, Tolerance tol) {
  if (std::isnan(ref)) {
    if (std::isnan(got)) return ::testing::AssertionSuccess();
  } else if (std::isinf((float)ref) && (float)ref == got) {  // beyond float range: inf
    return ::testing::AssertionSuccess();
  } else if (!std::isnan(got) && std::fabs(got - ref) <= tol.rel * std::fabs(ref) + tol.abs) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "x=" << x << " got " << got << " want " << ref;
}

template <class F> void check_unary(const char* name, F f, double (*ref)(double), Tolerance tol,
                                    std::function<bool(float)> in_domain = nullptr) {
  std::vector<float> xs;
  for (float x : inputs())
    if (!in_domain || in_domain(x)) xs.push_back(x);
  while (xs.size() % VL) xs.push_back(0.0f);
  std::vector<float> s, v;
  eval_both(f, xs, s, v);
  int failures = 0;
  for (size_t i = 0; i < xs.size() && failures < 5; ++i) {
    const double r = ref((double)xs[i]);
    auto a = close(s[i], r, xs[i], tol);
    auto b = close(v[i], r, xs[i], tol);
    if (!a || !b) ++failures;
    EXPECT_TRUE(a) << name << " (float)";
    EXPECT_TRUE(b) << name << " (vf)";
  }
}

// Bit-exact against a float reference (sign of zero included; any NaN matches NaN).
template <class F, class R> void check_exact(const char* name, F f, R ref) {
  std::vector<float> s, v;
  eval_both(f, inputs(), s, v);
  int failures = 0;
  for (size_t i = 0; i < inputs().size() && failures < 5; ++i) {
    const float want = ref(inputs()[i]);
    for (float got : {s[i], v[i]}) {
      const bool ok = std::isnan(want) ? std::isnan(got) : bits_of(got) == bits_of(want);
      if (!ok) ++failures;
      EXPECT_TRUE(ok) << name << "(" << inputs()[i] << ") = " << got << ", want " << want;
    }
  }
}

const Tolerance kMath{5e-7, 1e-37};

TEST(Simd, ExactRounding) {
  check_exact("vfloor", [](auto x) { return dnnf_simd::vfloor(x); }, [](float x) { return std::floor(x); });
  check_exact("vceil", [](auto x) { return dnnf_simd::vceil(x); }, [](float x) { return std::ceil(x); });
  check_exact("vtrunc", [](auto x) { return dnnf_simd::vtrunc(x); }, [](float x) { return std::trunc(x); });
  check_exact("vround", [](auto x) { return dnnf_simd::vround(x); }, [](float x) { return std::nearbyint(x); });
  check_exact("vsqrt", [](auto x) { return dnnf_simd::vsqrt(x); }, [](float x) { return std::sqrt(x); });
  check_exact("vabs", [](auto x) { return dnnf_simd::vabs(x); }, [](float x) { return std::fabs(x); });
  check_exact("vneg", [](auto x) { return dnnf_simd::vneg(x); }, [](float x) { return -x; });
  check_exact("vrecip", [](auto x) { return dnnf_simd::vrecip(x); }, [](float x) { return 1.0f / x; });
  check_exact("vsign", [](auto x) { return dnnf_simd::vsign(x); },
              [](float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; });
}

TEST(Simd, RoundHalfToEven) {
  EXPECT_EQ(dnnf_simd::vround(2.5f), 2.0f);
  EXPECT_EQ(dnnf_simd::vround(-2.5f), -2.0f);
  EXPECT_EQ(dnnf_simd::vround(3.5f), 4.0f);
  EXPECT_EQ(dnnf_simd::vround(0.49999997f), 0.0f);
  EXPECT_TRUE(std::signbit(dnnf_simd::vround(-0.4f)));
  EXPECT_EQ(dnnf_simd::vfloor(-0.5f), -1.0f);
  EXPECT_TRUE(std::signbit(dnnf_simd::vceil(-0.5f)));
}

TEST(Simd, ExpLog) {
  check_unary("vexp", [](auto x) { return dnnf_simd::vexp(x); }, [](double x) { return std::exp(x); }, kMath);
  check_unary("vlog", [](auto x) { return dnnf_simd::vlog(x); }, [](double x) { return std::log(x); }, kMath);
  EXPECT_EQ(dnnf_simd::vexp(-kInf), 0.0f);
  EXPECT_EQ(dnnf_simd::vexp(100.0f), kInf);
  EXPECT_EQ(dnnf_simd::vexp(-200.0f), 0.0f);
  EXPECT_EQ(dnnf_simd::vexp(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(dnnf_simd::vexp(kNan)));
  EXPECT_EQ(dnnf_simd::vlog(0.0f), -kInf);
  EXPECT_EQ(dnnf_simd::vlog(-0.0f), -kInf);
  EXPECT_TRUE(std::isnan(dnnf_simd::vlog(-1.0f)));
  EXPECT_EQ(dnnf_simd::vlog(kInf), kInf);
  EXPECT_EQ(dnnf_simd::vlog(1.0f), 0.0f);
}

TEST(Simd, Activations) {
  check_unary("vtanh", [](auto x) { return dnnf_simd::vtanh(x); }, [](double x) { return std::tanh(x); }, kMath);
  check_unary("vsigmoid", [](auto x) { return dnnf_simd::vsigmoid(x); },
              [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, kMath);
  check_unary("verf", [](auto x) { return dnnf_simd::verf(x); }, [](double x) { return std::erf(x); },
              {2e-7, 1e-38});
  EXPECT_EQ(dnnf_simd::vtanh(9.5f), 1.0f);
  EXPECT_EQ(dnnf_simd::vtanh(-kInf), -1.0f);
  EXPECT_EQ(dnnf_simd::verf(kInf), 1.0f);
  EXPECT_EQ(dnnf_simd::vsigmoid(-kInf), 0.0f);
  EXPECT_EQ(dnnf_simd::vsigmoid(kInf), 1.0f);
  EXPECT_TRUE(std::isnan(dnnf_simd::vtanh(kNan)));
  EXPECT_TRUE(std::isnan(dnnf_simd::verf(kNan)));
  EXPECT_TRUE(std::isnan(dnnf_simd::vsigmoid(kNan)));
}

TEST(Simd, Trigonometry) {
  auto moderate = [](float x) { return std::fabs(x) < 1e4f || !std::isfinite(x); };
  check_unary("vsin", [](auto x) { return dnnf_simd::vsin(x); }, [](double x) { return std::sin(x); },
              {1e-6, 2e-7}, moderate);
  check_unary("vcos", [](auto x) { return dnnf_simd::vcos(x); }, [](double x) { return std::cos(x); },
              {1e-6, 2e-7}, moderate);
  check_unary("vatan", [](auto x) { return dnnf_simd::vatan(x); }, [](double x) { return std::atan(x); }, kMath);
}

TEST(Simd, MinMaxPropagateNan) {
  const float xs[] = {1.0f, -2.0f, kNan, kInf, -0.0f};
  for (float a : xs)
    for (float b : xs) {
      const bool nan = std::isnan(a) || std::isnan(b);
      for (float got : {dnnf_simd::vmax(a, b), dnnf_simd::vmax(dnnf_simd::splat<vf>(a), dnnf_simd::splat<vf>(b))[0]})
        if (nan) EXPECT_TRUE(std::isnan(got)); else EXPECT_EQ(got, std::fmax(a, b));
      for (float got : {dnnf_simd::vmin(a, b), dnnf_simd::vmin(dnnf_simd::splat<vf>(a), dnnf_simd::splat<vf>(b))[0]})
        if (nan) EXPECT_TRUE(std::isnan(got)); else EXPECT_EQ(got, std::fmin(a, b));
    }
  EXPECT_TRUE(std::isnan(dnnf_simd::vmax(kNan, 0.0f)));  // Relu keeps NaN
}

// Applies a binary function over a grid for float and vf; `check(a, b, got)` judges.
template <class F, class C> void over_grid(const std::vector<float>& as, const std::vector<float>& bs, F f, C check) {
  for (float a : as)
    for (float b : bs) {
      check(a, b, f(a, b));
      check(a, b, f(dnnf_simd::splat<vf>(a), dnnf_simd::splat<vf>(b))[VL - 1]);
    }
}

TEST(Simd, Pow) {
  std::vector<float> as = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 0.5f, -0.5f, 3.7f, -3.7f, 1e-3f, 1e3f,
                           kInf, -kInf, kNan, 1e-20f, 17.0f};
  for (float a = -9.0f; a < 9.0f; a += 0.173f) as.push_back(a);
  std::vector<float> bs = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 3.0f, 0.5f, -0.5f, 1.5f, 2.2f, -2.7f,
                           7.0f, 10.0f, 64.0f, 65.0f, -33.0f, 1e-4f, 100.5f, kInf, -kInf, kNan};
  over_grid(as, bs, [](auto a, auto b) { return dnnf_simd::vpow(a, b); }, [](float a, float b, float got) {
    EXPECT_TRUE(close(got, std::pow((double)a, (double)b), a, {1e-6 * (1 + std::fmin(std::fabs(b), 100.0f) / 8), 1e-37}))
        << "pow(" << a << ", " << b << ") = " << got;
  });
  for (float a : as) {
    EXPECT_EQ(bits_of(dnnf_simd::vpow(a, 2.0f)), bits_of(a * a)) << a;
    EXPECT_EQ(dnnf_simd::vpow(a, 0.0f), 1.0f);
    if (a >= 0) {
      EXPECT_EQ(bits_of(dnnf_simd::vpow(a, 0.5f)), bits_of(std::sqrt(a) + 0.0f)) << a;
    }
  }
  EXPECT_EQ(dnnf_simd::vpow(-2.0f, 3.0f), -8.0f);
  EXPECT_NEAR(dnnf_simd::vpow(-2.0f, 101.0f) / -(float)std::pow(2.0, 101.0), 1.0, 2e-5);
  EXPECT_TRUE(std::signbit(dnnf_simd::splat<vf>(-0.0f)[0]));
  EXPECT_TRUE(std::isnan(dnnf_simd::vpow(-2.0f, 0.5f)));
  EXPECT_EQ(dnnf_simd::vpow(0.0f, -1.0f), kInf);
}

TEST(Simd, Modulo) {
  std::vector<float> as = {0.0f, -0.0f, 5.5f, -5.5f, 7.0f, -7.0f, 1e30f, -1e-30f, 3.0f, kInf, kNan};
  std::vector<float> bs = {2.0f, -2.0f, 0.3f, -0.3f, 3.0f, 1e-3f, kInf, 0.0f};
  over_grid(as, bs, [](auto a, auto b) { return dnnf_simd::vfmod(a, b); }, [](float a, float b, float got) {
    const float want = std::fmod(a, b);
    EXPECT_TRUE(std::isnan(want) ? std::isnan(got) : bits_of(got) == bits_of(want)) << a << " fmod " << b;
  });
  EXPECT_EQ(dnnf_simd::vmod_floor(-7.0f, 3.0f), 2.0f);
  EXPECT_EQ(dnnf_simd::vmod_floor(7.0f, -3.0f), -2.0f);
  EXPECT_EQ(dnnf_simd::vmod_floor(-6.0f, 3.0f), 0.0f);
  EXPECT_EQ(dnnf_simd::vmod_floor(dnnf_simd::splat<vf>(-5.5f), dnnf_simd::splat<vf>(2.0f))[0], 0.5f);
}

TEST(Simd, ComparisonsAndLogic) {
  const float xs[] = {-1.0f, 0.0f, 2.0f, kNan};
  for (float a : xs)
    for (float b : xs) {
      const vf va = dnnf_simd::splat<vf>(a), vb = dnnf_simd::splat<vf>(b);
      const bool truth[] = {a < b, a <= b, a > b, a >= b, a == b, a != b, (a != 0) && (b != 0),
                            (a != 0) || (b != 0), (a != 0) != (b != 0)};
      float expected[9];
      for (int i = 0; i < 9; ++i) expected[i] = truth[i] ? 1.0f : 0.0f;
      const float got_s[] = {dnnf_simd::vlt(a, b), dnnf_simd::vle(a, b), dnnf_simd::vgt(a, b),
                             dnnf_simd::vge(a, b), dnnf_simd::veq(a, b), dnnf_simd::vne(a, b),
                             dnnf_simd::vand(a, b), dnnf_simd::vor(a, b), dnnf_simd::vxor(a, b)};
      const vf got_v[] = {dnnf_simd::vlt(va, vb), dnnf_simd::vle(va, vb), dnnf_simd::vgt(va, vb),
                          dnnf_simd::vge(va, vb), dnnf_simd::veq(va, vb), dnnf_simd::vne(va, vb),
                          dnnf_simd::vand(va, vb), dnnf_simd::vor(va, vb), dnnf_simd::vxor(va, vb)};
      for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(got_s[i], expected[i]) << i << ": " << a << " vs " << b;
        EXPECT_EQ(got_v[i][VL - 1], expected[i]) << i << ": " << a << " vs " << b;
      }
      EXPECT_EQ(dnnf_simd::vwhere(a, 5.0f, 6.0f), a != 0 ? 5.0f : 6.0f);
      EXPECT_EQ(dnnf_simd::vwhere(va, dnnf_simd::splat<vf>(5.0f), dnnf_simd::splat<vf>(6.0f))[0], a != 0 ? 5.0f : 6.0f);
    }
  EXPECT_EQ(dnnf_simd::vnot(0.0f), 1.0f);
  EXPECT_EQ(dnnf_simd::vnot(dnnf_simd::splat<vf>(3.0f))[0], 0.0f);
  EXPECT_EQ(dnnf_simd::visnan(kNan), 1.0f);
  EXPECT_EQ(dnnf_simd::visnan(dnnf_simd::splat<vf>(kInf))[1], 0.0f);
  EXPECT_EQ(dnnf_simd::visinf(-kInf), 1.0f);
  EXPECT_EQ(dnnf_simd::visinf(dnnf_simd::splat<vf>(kInf))[0], 1.0f);
  EXPECT_EQ(dnnf_simd::visinf(3e38f), 0.0f);
}

TEST(Simd, LanesAndHorizontal) {
  float buf[64];
  for (int i = 0; i < 64; ++i) buf[i] = (float)(i * 3 % 17) - 5.0f;
  const vf v = dnnf_simd::load<vf>(buf + 1);  // unaligned on purpose
  float sum = 0, mx = buf[1], mn = buf[1];
  for (int i = 0; i < VL; ++i) {
    sum += buf[1 + i];
    mx = std::max(mx, buf[1 + i]);
    mn = std::min(mn, buf[1 + i]);
  }
  EXPECT_EQ(dnnf_simd::hsum(v), sum);
  EXPECT_EQ(dnnf_simd::hmax(v), mx);
  EXPECT_EQ(dnnf_simd::hmin(v), mn);
  EXPECT_EQ(dnnf_simd::hsum(2.0f), 2.0f);
  const vf idx = dnnf_simd::lane_index<vf>();
  for (int i = 0; i < VL; ++i) EXPECT_EQ(idx[i], (float)i);
  EXPECT_EQ(dnnf_simd::lane_index<float>(), 0.0f);
  const vf g = dnnf_simd::gather<vf>([&](int lane) { return buf[2 * lane]; });
  float out[64] = {};
  dnnf_simd::scatter(g, [&](int lane, float value) { out[3 * lane] = value; });
  for (int i = 0; i < VL; ++i) EXPECT_EQ(out[3 * i], buf[2 * i]);
  EXPECT_EQ(dnnf_simd::gather<float>([&](int lane) { return buf[lane + 5]; }), buf[5]);
  dnnf_simd::store(out + 3, v);
  for (int i = 0; i < VL; ++i) EXPECT_EQ(out[3 + i], buf[1 + i]);
  vf with_nan = v;
  with_nan[VL / 2] = kNan;
  EXPECT_TRUE(std::isnan(dnnf_simd::hmax(with_nan)));
  EXPECT_EQ(dnnf_simd::splat<vf>(1.5f)[VL - 1], 1.5f);
}

}  // namespace
