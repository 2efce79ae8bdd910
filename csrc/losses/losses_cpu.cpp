// CPU loss kernels. Sigmoid focal loss: one pass over the logits and targets that writes the
// loss (reduction "none") and, when a backward will follow, the derivative, so the backward is
// a single multiply by the incoming gradient. Threads over fixed chunks of 2^16 elements whose
// double partial sums are reduced in order (deterministic for any thread count). Softmax focal
// loss: blocks of 256 pixels of one image, each class plane read contiguously (max, sum of
// exponentials, then the derivative), the same in-order reduction.
#define CVK_SIMD_NS base
#include "losses/losses_simd_impl.h"
#undef CVK_SIMD_NS

#include <vector>

#include "common/cpu_features.h"
#include "common/thread_pool.h"
#include "losses/losses_cpu.h"

namespace cvk {
namespace losses {
namespace avx2 {
double focal_chunk_f32(const float* x, const float* t, int64_t n, float alpha, float gamma, float* loss, float* grad);
double focal_chunk_f64(const double* x, const double* t, int64_t n, double alpha, double gamma, double* loss,
                       double* grad);
double softmax_block_f32(const float* x, const int64_t* t, const float* w, int64_t C, int64_t S, int64_t len,
                         float gamma, int64_t ignore, float* loss, float* grad, double* wsum);
double softmax_block_f64(const double* x, const int64_t* t, const double* w, int64_t C, int64_t S, int64_t len,
                         double gamma, int64_t ignore, double* loss, double* grad, double* wsum);
}  // namespace avx2

namespace {

constexpr int64_t kChunk = 1 << 16;

template <class T, class Chunk>
double focal_all(const T* x, const T* t, int64_t n, double alpha, double gamma, T* loss, T* grad, Chunk chunk) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(chunks), 0.0);
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t s = c * kChunk, len = std::min(kChunk, n - s);
      part[c] = chunk(x + s, t + s, len, static_cast<T>(alpha), static_cast<T>(gamma),
                      loss != nullptr ? loss + s : nullptr, grad != nullptr ? grad + s : nullptr);
    }
  });
  double sum = 0;
  for (double v : part) sum += v;
  return sum;
}

}  // namespace

double sigmoid_focal_loss(const float* x, const float* t, int64_t n, double alpha, double gamma, float* loss,
                          float* grad) {
  return focal_all(x, t, n, alpha, gamma, loss, grad, use_avx2() ? avx2::focal_chunk_f32 : base::focal_chunk_f32);
}

double sigmoid_focal_loss(const double* x, const double* t, int64_t n, double alpha, double gamma, double* loss,
                          double* grad) {
  return focal_all(x, t, n, alpha, gamma, loss, grad, use_avx2() ? avx2::focal_chunk_f64 : base::focal_chunk_f64);
}

namespace {

template <class T, class Block>
double softmax_focal_all(const T* x, const int64_t* t, const T* w, int64_t N, int64_t C, int64_t S, double gamma,
                         int64_t ignore_index, T* loss, T* grad, double* weight_sum, Block block) {
  // Tasks of 256 pixels of one image, their double sums reduced in order: deterministic.
  const int64_t per = (S + 255) / 256, tasks = N * per;
  std::vector<double> part(static_cast<size_t>(2 * tasks), 0.0);
  parallel_for(0, tasks, 16, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t n = k / per, s0 = (k % per) * 256, len = std::min<int64_t>(256, S - s0);
      const int64_t px = n * S + s0, off = n * C * S + s0;
      part[2 * k] = block(x + off, t + px, w, C, S, len, static_cast<T>(gamma), ignore_index,
                          loss != nullptr ? loss + px : nullptr, grad != nullptr ? grad + off : nullptr,
                          &part[2 * k + 1]);
    }
  });
  double sum = 0, wsum = 0;
  for (int64_t k = 0; k < tasks; ++k) {
    sum += part[2 * k];
    wsum += part[2 * k + 1];
  }
  *weight_sum = wsum;
  return sum;
}

}  // namespace

double softmax_focal_loss(const float* x, const int64_t* t, const float* w, int64_t N, int64_t C, int64_t S,
                          double gamma, int64_t ignore_index, float* loss, float* grad, double* weight_sum) {
  return softmax_focal_all(x, t, w, N, C, S, gamma, ignore_index, loss, grad, weight_sum,
                           use_avx2() ? avx2::softmax_block_f32 : base::softmax_block_f32);
}

double softmax_focal_loss(const double* x, const int64_t* t, const double* w, int64_t N, int64_t C, int64_t S,
                          double gamma, int64_t ignore_index, double* loss, double* grad, double* weight_sum) {
  return softmax_focal_all(x, t, w, N, C, S, gamma, ignore_index, loss, grad, weight_sum,
                           use_avx2() ? avx2::softmax_block_f64 : base::softmax_block_f64);
}

}  // namespace losses
}  // namespace cvk
