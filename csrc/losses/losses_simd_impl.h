// Inner loops of the loss kernels, compiled for baseline x86-64 (losses_cpu.cpp) and AVX2/FMA
// (losses_avx2.cpp); CVK_SIMD_NS names the copy. Element loops over contiguous arrays that the
// compiler vectorizes (focal.h is branch-free for the compile-time exponents).
#include <algorithm>
#include <cstdint>

#include "losses/focal.h"

namespace cvk {
namespace losses {
namespace CVK_SIMD_NS {

// One chunk of the focal loss: blocks of 256 elements computed into loss (or a stack buffer)
// and grad, each block's losses then summed in double, in order.
template <int G, class T>
double focal_chunk(const T* __restrict__ x, const T* __restrict__ t, int64_t n, T alpha, T gamma, T* __restrict__ loss,
                   T* __restrict__ grad) {
  constexpr int64_t kBlock = 256;
  T buf[kBlock];
  double sum = 0;
  for (int64_t s = 0; s < n; s += kBlock) {
    const int64_t len = std::min(kBlock, n - s);
    T* __restrict__ l = loss != nullptr ? loss + s : buf;
    if (grad != nullptr) {
      T* __restrict__ g = grad + s;
      for (int64_t i = 0; i < len; ++i) {
        const FocalOut<T> o = sigmoid_focal<G>(x[s + i], t[s + i], alpha, gamma);
        l[i] = o.loss;
        g[i] = o.grad;
      }
    } else {
      for (int64_t i = 0; i < len; ++i) l[i] = sigmoid_focal<G>(x[s + i], t[s + i], alpha, gamma).loss;
    }
    // eight running sums (independent chains, a fixed order: deterministic), then in order
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(l[i + k]);
    for (; i < len; ++i) acc[0] += static_cast<double>(l[i]);
    for (int k = 0; k < 8; ++k) sum += acc[k];
  }
  return sum;
}

template <class T>
double focal_chunk_any(const T* x, const T* t, int64_t n, T alpha, T gamma, T* loss, T* grad) {
  if (gamma == T(2)) return focal_chunk<2>(x, t, n, alpha, gamma, loss, grad);
  if (gamma == T(0)) return focal_chunk<0>(x, t, n, alpha, gamma, loss, grad);
  if (gamma == T(1)) return focal_chunk<1>(x, t, n, alpha, gamma, loss, grad);
  if (gamma == T(3)) return focal_chunk<3>(x, t, n, alpha, gamma, loss, grad);
  return focal_chunk<-1>(x, t, n, alpha, gamma, loss, grad);
}

double focal_chunk_f32(const float* x, const float* t, int64_t n, float alpha, float gamma, float* loss, float* grad) {
  return focal_chunk_any(x, t, n, alpha, gamma, loss, grad);
}

double focal_chunk_f64(const double* x, const double* t, int64_t n, double alpha, double gamma, double* loss,
                       double* grad) {
  return focal_chunk_any(x, t, n, alpha, gamma, loss, grad);
}

}  // namespace CVK_SIMD_NS
}  // namespace losses
}  // namespace cvk
