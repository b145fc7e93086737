#include "core/codegen/glsl/glsl_prelude.h"

namespace dnnf::codegen::glsl {

const std::string& prelude() {
  static const std::string p = R"(
float dnnf_inf() { return uintBitsToFloat(0x7f800000u); }
float dnnf_nan() { return uintBitsToFloat(0x7fc00000u); }
int dnnf_group() { return int(gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x); }
int dnnf_lid() { return int(gl_LocalInvocationID.x); }
int ix_fdiv(int a, int d) { int q = a / d; return (a % d != 0 && a < 0) ? q - 1 : q; }
int ix_fmod(int a, int d) { int r = a - (a / d) * d; return r < 0 ? r + d : r; }
int ix_clamp(int a, int lo, int hi) { return a < lo ? lo : (a > hi ? hi : a); }
int ix_gidx(int v, int dim) { if (v < 0) v += dim; return ix_clamp(v, 0, dim - 1); }
float mask_(bool b) { return b ? 1.0f : 0.0f; }
float vmin(float a, float b) { return (isnan(a) || isnan(b)) ? a + b : (a < b ? a : b); }
float vmax(float a, float b) { return (isnan(a) || isnan(b)) ? a + b : (a > b ? a : b); }
float vabs(float x) { return abs(x); }
float vneg(float x) { return -x; }
float vrecip(float x) { return 1.0f / x; }
float vround(float x) { return roundEven(x); }
float vfloor(float x) { return floor(x); }
float vceil(float x) { return ceil(x); }
float vsqrt(float x) { return sqrt(x); }
float vsign(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x); }
float vexp(float x) { return exp(x); }
float vlog(float x) { return x < 0.0f ? dnnf_nan() : (x == 0.0f ? -dnnf_inf() : log(x)); }
float vsin(float x) { return sin(x); }
float vcos(float x) { return cos(x); }
float vtanh(float x) {
  float ax = abs(x);
  if (ax < 0.625f) {
    float s = x * x;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    return p * s * x + x;
  }
  if (ax > 9.0f) return sign(x);
  float e = exp(ax + ax);
  float r = 1.0f - 2.0f / (e + 1.0f);
  return x < 0.0f ? -r : r;
}
float vsigmoid(float x) {
  float e = exp(-abs(x));
  float d = 1.0f / (1.0f + e);
  return x < 0.0f ? e * d : d;
}
float verf(float x) {
  if (isnan(x)) return x;
  float ax = abs(x);
  if (ax < 1.0f) {
    float z = x * x;
    float s = 7.853861353153693e-5f;
    s = s * z - 8.010193625184903e-4f;
    s = s * z + 5.188327685732524e-3f;
    s = s * z - 2.685381193529856e-2f;
    s = s * z + 1.128358514861418e-1f;
    s = s * z - 3.761262582423300e-1f;
    s = s * z + 1.28379165726710e-1f;
    return x + x * s;
  }
  if (ax > 3.92f) return x < 0.0f ? -1.0f : 1.0f;
  float q = 1.0f / ax;
  float y = q * q;
  float r;
  if (ax < 2.0f) {
    r = 2.326819970068386e-2f;
    r = r * y - 1.387039388740657e-1f;
    r = r * y + 3.687424674597105e-1f;
    r = r * y - 5.824733027278666e-1f;
    r = r * y + 6.210004621745983e-1f;
    r = r * y - 4.944515323274145e-1f;
    r = r * y + 3.404879937665872e-1f;
    r = r * y - 2.741127028184656e-1f;
    r = r * y + 5.638259427386472e-1f;
  } else {
    r = -1.047766399936249e+1f;
    r = r * y + 1.297719955372516e+1f;
    r = r * y - 7.495518717768503e+0f;
    r = r * y + 2.921019019210786e+0f;
    r = r * y - 1.015265279202700e+0f;
    r = r * y + 4.218463358204948e-1f;
    r = r * y - 2.820767439740514e-1f;
    r = r * y + 5.641895067754075e-1f;
  }
  float erfc = exp(-(ax * ax)) * q * r;
  return x < 0.0f ? erfc - 1.0f : 1.0f - erfc;
}
float vpow(float a, float b) {
  if (b == 0.0f || a == 1.0f) return 1.0f;
  if (isnan(a) || isnan(b)) return a + b;
  float bb = abs(b);
  bool b_int = trunc(b) == b;
  if (b_int && bb <= 64.0f) {  // repeated squaring: exact for small powers (x*x)
    int e = int(bb);
    float base = a, acc = 1.0f;
    for (int bit = 0; bit < 7; ++bit) {
      if ((e & 1) != 0) acc *= base;
      base *= base;
      e >>= 1;
    }
    return b < 0.0f ? 1.0f / acc : acc;
  }
  if (b == 0.5f) return sqrt(a);
  float g = exp2(b * log2(abs(a)));
  if (a < 0.0f) {
    if (!b_int) return dnnf_nan();
    if (bb < 16777216.0f && (int(bb) & 1) != 0) g = -g;
  }
  return g;
}
float vfmod(float a, float b) { return a - b * trunc(a / b); }
float vmod_floor(float a, float b) { float r = a - b * floor(a / b); return r; }
float vlt(float a, float b) { return mask_(a < b); }
float vle(float a, float b) { return mask_(a <= b); }
float vgt(float a, float b) { return mask_(a > b); }
float vge(float a, float b) { return mask_(a >= b); }
float veq(float a, float b) { return mask_(a == b); }
float vne(float a, float b) { return mask_(a != b); }
float vand(float a, float b) { return mask_(a != 0.0f && b != 0.0f); }
float vor(float a, float b) { return mask_(a != 0.0f || b != 0.0f); }
float vxor(float a, float b) { return mask_((a != 0.0f) != (b != 0.0f)); }
float vnot(float x) { return mask_(x == 0.0f); }
float visnan(float x) { return mask_(isnan(x)); }
float visinf(float x) { return mask_(isinf(x)); }
float vwhere(float c, float a, float b) { return c != 0.0f ? a : b; }
)";
  return p;
}

}  // namespace dnnf::codegen::glsl
