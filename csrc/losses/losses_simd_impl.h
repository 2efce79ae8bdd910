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

// Softmax focal loss of one block of len <= 256 pixels of one image: x points to the image's
// (C, S) logits at pixel s0, t to its labels at s0, loss / grad likewise (or null). The loops
// run over pixels (contiguous, vectorized) inside loops over classes. Returns the block's loss
// sum; adds its kept weight to *wsum.
template <int G, class T>
double softmax_block(const T* __restrict__ x, const int64_t* __restrict__ t, const T* __restrict__ w, int64_t C,
                     int64_t S, int64_t len, T gamma, int64_t ignore, T* __restrict__ loss, T* __restrict__ grad,
                     double* wsum) {
  constexpr int64_t kBlock = 256;
  T mx[kBlock], sum[kBlock], lse[kBlock], lt[kBlock], wt[kBlock], gk[kBlock], l[kBlock];
  for (int64_t i = 0; i < len; ++i) mx[i] = x[i];
  for (int64_t c = 1; c < C; ++c) {
    const T* xc = x + c * S;
    for (int64_t i = 0; i < len; ++i) mx[i] = xc[i] > mx[i] ? xc[i] : mx[i];
  }
  for (int64_t i = 0; i < len; ++i) sum[i] = T(0);
  for (int64_t c = 0; c < C; ++c) {
    const T* xc = x + c * S;
    for (int64_t i = 0; i < len; ++i) sum[i] += focal_exp(xc[i] - mx[i]);
  }
  for (int64_t i = 0; i < len; ++i) lse[i] = focal_log(sum[i]);
  for (int64_t i = 0; i < len; ++i) {  // the target's logit: a gather, ignored pixels weigh 0
    const bool kept = t[i] != ignore;
    const int64_t c = kept ? t[i] : 0;
    wt[i] = kept ? (w != nullptr ? w[c] : T(1)) : T(0);
    lt[i] = kept ? (x[c * S + i] - mx[i]) - lse[i] : T(0);
  }
  for (int64_t i = 0; i < len; ++i) {
    const T p = focal_exp(lt[i]);
    const T m = T(1) - p;
    const T mg = focal_pow<G>(m, gamma);
    l[i] = -wt[i] * mg * lt[i];
    // an ignored pixel (weight 0) has p = 1 here: keep g (1-p)^(g-1) (infinite for g < 1) out
    gk[i] = wt[i] == T(0) ? T(0) : wt[i] * (mg - focal_dpow<G>(m, gamma) * p * lt[i]);
  }
  if (grad != nullptr)
    for (int64_t c = 0; c < C; ++c) {
      const T* xc = x + c * S;
      T* gc = grad + c * S;
      for (int64_t i = 0; i < len; ++i)
        gc[i] = gk[i] * (focal_exp((xc[i] - mx[i]) - lse[i]) - (t[i] == c ? T(1) : T(0)));
    }
  if (loss != nullptr)
    for (int64_t i = 0; i < len; ++i) loss[i] = l[i];
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, wacc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= len; i += 8)
    for (int k = 0; k < 8; ++k) {
      acc[k] += static_cast<double>(l[i + k]);
      wacc[k] += static_cast<double>(wt[i + k]);
    }
  for (; i < len; ++i) {
    acc[0] += static_cast<double>(l[i]);
    wacc[0] += static_cast<double>(wt[i]);
  }
  double total = 0, wtotal = 0;
  for (int k = 0; k < 8; ++k) {
    total += acc[k];
    wtotal += wacc[k];
  }
  *wsum += wtotal;
  return total;
}

template <class T>
double softmax_block_any(const T* x, const int64_t* t, const T* w, int64_t C, int64_t S, int64_t len, T gamma,
                         int64_t ignore, T* loss, T* grad, double* wsum) {
  if (gamma == T(2)) return softmax_block<2>(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
  if (gamma == T(0)) return softmax_block<0>(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
  if (gamma == T(1)) return softmax_block<1>(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
  return softmax_block<-1>(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
}

double softmax_block_f32(const float* x, const int64_t* t, const float* w, int64_t C, int64_t S, int64_t len,
                         float gamma, int64_t ignore, float* loss, float* grad, double* wsum) {
  return softmax_block_any(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
}

double softmax_block_f64(const double* x, const int64_t* t, const double* w, int64_t C, int64_t S, int64_t len,
                         double gamma, int64_t ignore, double* loss, double* grad, double* wsum) {
  return softmax_block_any(x, t, w, C, S, len, gamma, ignore, loss, grad, wsum);
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
