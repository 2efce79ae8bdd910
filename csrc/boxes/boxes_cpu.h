// CPU entry points of the box kernels. Pointers are to contiguous row-major buffers of the
// dtype given by `dtype` (0 float32, 1 float64); outputs are preallocated by the caller.
#pragma once

#include <cstdint>

namespace cvk {
namespace boxes {

// out[b, i, j] = metric(a[b, i], b[b, j]) for kind 0..3 = IoU, GIoU, DIoU, CIoU.
// a: (B, N, 4), b: (B, M, 4), out: (B, N, M).
void pairwise_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t B,
                  int64_t N, int64_t M, double eps);

// Gradients of sum(grad * pairwise(a, b)) with respect to a (B, N, 4) and b (B, M, 4).
void pairwise_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                           void* grad_a, void* grad_b, int64_t B, int64_t N, int64_t M,
                           double eps);

// Paired losses: out[i] = 1 - metric(a[i], b[i]) in the loss flavour (see box_math.h).
void loss_cpu(int kind, int dtype, const void* a, const void* b, void* out, int64_t n,
              double eps);
void loss_backward_cpu(int kind, int dtype, const void* a, const void* b, const void* grad,
                       void* grad_a, void* grad_b, int64_t n, double eps);

void area_cpu(int dtype, const void* boxes, void* out, int64_t n);
void convert_cpu(int dtype, const void* in, void* out, int64_t n, int from_fmt, int to_fmt);

// The SIMD-dispatched inner kernels (boxes_simd_impl.h), one copy per instruction set. Each
// runs one thread's share of the work.
#define CVK_BOXES_SIMD_DECLS                                                                    \
  void pairwise_rows(int kind, int dtype, const void* a, const void* soa, void* out,           \
                     int64_t rows, int64_t row0, int64_t N, int64_t M, double eps);            \
  void pairwise_grad_rows(int kind, int dtype, int side, const void* a, const void* b,         \
                          const void* g, void* out, int64_t r0, int64_t r1, int64_t N,         \
                          int64_t M, double eps);                                               \
  void loss_range(int kind, int dtype, const void* a, const void* b, const void* g, void* out, \
                  void* ga, void* gb, int64_t i0, int64_t i1, double eps);
namespace base {
CVK_BOXES_SIMD_DECLS
}
namespace avx2 {
CVK_BOXES_SIMD_DECLS
}
#undef CVK_BOXES_SIMD_DECLS

}  // namespace boxes
}  // namespace cvk
