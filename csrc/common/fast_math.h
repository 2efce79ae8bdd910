// exp and log for float without a library call, so that per-element loops vectorize (glibc's
// expf / logf are a call per element).
//
// fast_expf: Cephes' expf: x = n ln2 + r with n = round(x / ln2) and ln2 split in two
// (Cody-Waite) so r is exact, e^r by a degree-6 polynomial, times 2^n built in the exponent
// bits. Relative error about 2e-7 over the clamped range [-87.3, 88.7] (below: 0, like
// underflow; above: the largest finite value). Selects only, no branches.
#pragma once

#include <cstdint>
#include <cstring>

#include "common/cvk.h"

namespace cvk {

CVK_HD inline float fast_expf(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  const float t = x * 1.44269504088896341f + 0.5f;
  int32_t n = t == t ? static_cast<int32_t>(t) : 0;  // NaN: any n, r and the result are NaN
  n -= (static_cast<float>(n) > t) ? 1 : 0;  // floor
  const float fn = static_cast<float>(n);
  float r = x - fn * 0.693359375f;
  r = r + fn * 2.12194440e-4f;
  const float z = r * r;
  float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
              4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

// log(x) for finite x > 0 (normal numbers): Cephes' logf. x = 2^e m with m in [sqrt(1/2),
// sqrt(2)), log(m) = f - f^2/2 + f^3 P(f) with f = m - 1 (degree-8 polynomial), plus e ln2
// (split in two). Relative error about 1e-7. Selects only, no branches.
CVK_HD inline float fast_logf(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  int32_t e = static_cast<int32_t>((bits >> 23) & 0xff) - 126;  // x = 2^e * m, m in [0.5, 1)
  bits = (bits & 0x807fffffu) | 0x3f000000u;
  float m;
  std::memcpy(&m, &bits, sizeof(m));
  const bool small = m < 0.707106781186547524f;
  e -= small ? 1 : 0;
  const float f = (small ? m + m : m) - 1.0f;
  const float z = f * f;
  float y = ((((((((7.0376836292e-2f * f - 1.1514610310e-1f) * f + 1.1676998740e-1f) * f - 1.2420140846e-1f) * f +
                 1.4249322787e-1f) * f - 1.6668057665e-1f) * f + 2.0000714765e-1f) * f - 2.4999993993e-1f) * f +
             3.3333331174e-1f) * f * z;
  const float fe = static_cast<float>(e);
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return (f + y) + 0.693359375f * fe;
}

}  // namespace cvk
