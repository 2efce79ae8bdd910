// exp(x) for float without a library call, so that per-pixel loops vectorize (glibc's expf is a
// call per element). Cephes' expf: x = n ln2 + r with n = round(x / ln2) and ln2 split in two
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

}  // namespace cvk
