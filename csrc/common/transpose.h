// Batched 2-D transpose (N, A, B) -> (N, B, A) on the thread pool: the NCHW <-> NHWC layout
// changes of the RoI kernels (and any other kernel that wants channels contiguous). Cache
// blocked; the float32 blocks use an AVX2 8x8 register transpose when the CPU has it.
#pragma once

#include <cstdint>

namespace cvk {

void transpose_batched(int dtype, const void* in, void* out, int64_t N, int64_t A, int64_t B);

namespace avx2 {
// One 8x8 float block: dst[j * dst_stride + i] = src[i * src_stride + j], i, j < 8.
void transpose8x8(const float* src, int64_t src_stride, float* dst, int64_t dst_stride);
}

}  // namespace cvk
