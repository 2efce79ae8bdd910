// AVX2/FMA copy of the pairwise inner loop (compiled with -mavx2 -mfma, chosen at run time).
#define CVK_SIMD_NS avx2
#include "boxes/boxes_simd_impl.h"
