// Run-time SIMD dispatch: wheels are built for baseline x86-64; the *_avx2.cpp translation
// units are compiled with -mavx2 -mfma -mpopcnt and used only when the CPU reports all three;
// *_avx512.cpp units (-mavx512f) only when it also reports AVX-512F with OS support.
#pragma once

namespace cvk {

bool cpu_has_avx2();          // AVX2, FMA and POPCNT present (and the AVX2 units were built)
void set_simd_enabled(bool);  // lets tests and benchmarks force the baseline path
bool use_avx2();              // cpu_has_avx2() && enabled
void set_avx512_enabled(bool);  // lets tests run the AVX2 path on an AVX-512 CPU
bool use_avx512();            // AVX-512F too (and the *_avx512.cpp units were built) && enabled

}  // namespace cvk
