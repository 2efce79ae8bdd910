// AVX2/FMA copy of the loss inner loops (compiled with -mavx2 -mfma, chosen at run time).
#define CVK_SIMD_NS avx2
#include "losses/losses_simd_impl.h"
