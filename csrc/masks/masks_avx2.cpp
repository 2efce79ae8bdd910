// AVX2/FMA copy of the mask inner loops (compiled with -mavx2 -mfma, chosen at run time).
#define CVK_SIMD_NS avx2
#include "masks/masks_simd_impl.h"
