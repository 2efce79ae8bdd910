// CUDA entry points of the box kernels. Same contract as boxes_cpu.h plus `stream`, the
// caller's cudaStream_t (torch's current stream) passed as an opaque pointer so that this
// header needs no CUDA include. Errors are thrown as std::runtime_error.
#pragma once

#include <cstdint>

namespace cvk {
namespace boxes {

void pairwise_cuda(int kind, int dtype, const void* a, const void* b, void* out, int64_t B,
                   int64_t N, int64_t M, double eps, void* stream);
void pairwise_backward_cuda(int kind, int dtype, const void* a, const void* b, const void* grad,
                            void* grad_a, void* grad_b, int64_t B, int64_t N, int64_t M,
                            double eps, void* stream);
void loss_cuda(int kind, int dtype, const void* a, const void* b, void* out, int64_t n,
               double eps, void* stream);
void loss_backward_cuda(int kind, int dtype, const void* a, const void* b, const void* grad,
                        void* grad_a, void* grad_b, int64_t n, double eps, void* stream);
void area_cuda(int dtype, const void* boxes, void* out, int64_t n, void* stream);
void convert_cuda(int dtype, const void* in, void* out, int64_t n, int from_fmt, int to_fmt,
                  void* stream);

}  // namespace boxes
}  // namespace cvk
