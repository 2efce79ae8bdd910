// CPU loss kernels. Sigmoid focal loss: one pass over the logits and targets that writes the
// loss (reduction "none") and, when a backward will follow, the derivative, so the backward is
// a single multiply by the incoming gradient. Threads over fixed chunks of 2^16 elements whose
// double partial sums are reduced in order (deterministic for any thread count).
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

}  // namespace losses
}  // namespace cvk
