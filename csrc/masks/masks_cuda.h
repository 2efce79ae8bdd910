// CUDA entry points of the mask kernels (built with CVK_CUDA=ON); same buffers as
// masks_cpu.h, plus the caller's stream. Counts are integers (atomic integer sums are exact,
// so the results do not depend on scheduling). Soft-Dice sums are gathered per block with
// shared-memory atomics (their order, hence the last bits, can vary from run to run) and then
// added block by block in a fixed order.
#pragma once

#include <cstdint>

namespace cvk {
namespace masks {

void binary_counts_cuda(const uint8_t* p, const uint8_t* t, int64_t n, int64_t size,
                        int64_t* inter, int64_t* psum, int64_t* tsum, void* stream);
// bad (one int64 on the device) receives the flat index of a label out of range, or stays -1.
void label_counts_cuda(const int64_t* p, const int64_t* t, int64_t N, int64_t size, int64_t C,
                       int64_t ignore_index, int64_t* inter, int64_t* psum, int64_t* tsum,
                       int64_t* bad, void* stream);
void argmax_channels_cuda(int dtype, const void* x, int64_t N, int64_t C, int64_t size,
                          int64_t* out, void* stream);
// partial: scratch of (blocks, C, 3) doubles, blocks = dice_stats_blocks(N * size).
int64_t dice_stats_blocks(int64_t pixels);
void dice_stats_cuda(int dtype, const void* x, const int64_t* labels, const void* dense,
                     int64_t N, int64_t C, int64_t size, int activation, int64_t ignore_index,
                     double* partial, double* stats, void* stream);
void dice_stats_backward_cuda(int dtype, const void* x, const int64_t* labels,
                              const void* dense, int64_t N, int64_t C, int64_t size,
                              int activation, int64_t ignore_index, const double* grad_stats,
                              void* grad_x, void* stream);
// bits: scratch of (N + M) * H * ceil(W / 64) words; info: (N + M) * 5 int64.
void pairwise_masks_cuda(const uint8_t* a, int64_t N, const uint8_t* b, int64_t M, int64_t H,
                         int64_t W, bool dice, int dtype, void* out, uint64_t* bits,
                         int64_t* info, void* stream);

}  // namespace masks
}  // namespace cvk
