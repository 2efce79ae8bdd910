// AVX2/FMA copy of the channels-last RoI kernels (compiled with -mavx2 -mfma, chosen at run
// time; -ffp-contract=off keeps torchvision's roundings).
#define CVK_SIMD_NS avx2
#include "roi/roi_simd_impl.h"
