// Winograd F(2x2, 3x3) for float32 3x3 convolutions at stride 1 (any dilation, one group).
//
// A dilated 3x3 convolution at stride 1 is, on each of the dh x dw sub-grids of output pixels
// with the same (oh mod dh, ow mod dw), an ordinary 3x3 convolution of the input sampled at
// stride (dh, dw). Each 2x2 block of such outputs (oh, oh + dh) x (ow, ow + dw) - a tile -
// reads a 4x4 input patch d (rows oh - pt + {0, 1, 2, 3} dh, columns likewise) and is
//   Y = A^T [ sum_ci (G g G^T) .* (B^T d B) ] A
// (Lavin & Gray, 2016), 16 multiplications per tile and channel pair instead of 36:
//   1. the weights are transformed once per call, U[e][co][ci], stored as the micro-kernel's
//      B panels; the input is transposed to HWC;
//   2. the tiles are cut into blocks, one block per task: its patches are transformed,
//      V[e][tile][ci] (in the micro-kernel's A-panel layout), the 16 products
//      M[e] (tiles x Cout) = V[e] (tiles x Cin) * U[e]^T (Cin x Cout) are formed tile by tile of
//      the micro-kernel (gemm.h), and each tile's 16 values are transformed back to its 2x2
//      outputs (HWC), so a block's V and M never leave that core's caches;
//   3. the output is transposed to CHW with the bias added.
// The weight gradient runs the same transforms the other way over all tiles at once, with 16
// GEMMs summing over the tiles (winograd_cpu.cpp).
// Rounding differs from the direct sum (the transforms add and halve values), by a few units
// in the last place of the result's magnitude: far inside the 1e-4 the float32 contract allows.
#pragma once

#include "conv/conv_cpu.h"

namespace cvk {
namespace conv {

// Whether the Winograd forward takes this float32 convolution (and is switched on).
bool winograd_suits(const ConvShape& s);
void set_winograd_enabled(bool on);  // tests compare it with the GEMM path

void winograd_forward(const float* x, const float* w, const float* bias, float* out,
                      const ConvShape& s);
// grad_w (Cout, Cin, 3, 3) of the same convolution from grad_out (winograd_cpu.cpp).
void winograd_weight_grad(const float* gout, const float* x, float* gw, const ConvShape& s);

}  // namespace conv
}  // namespace cvk
