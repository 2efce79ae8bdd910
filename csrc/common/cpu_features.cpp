#include "common/cpu_features.h"

#include <atomic>

namespace cvk {
namespace {
bool detect() {
#if defined(CVK_HAVE_AVX2_TU) && CVK_HAVE_AVX2_TU && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}
bool detect512() {
#if defined(CVK_HAVE_AVX2_TU) && CVK_HAVE_AVX2_TU && (defined(__x86_64__) || defined(__i386__))
  return detect() && __builtin_cpu_supports("avx512f");  // libgcc also checks the OS saves zmm
#else
  return false;
#endif
}
const bool g_has_avx2 = detect();
const bool g_has_avx512 = detect512();
std::atomic<bool> g_enabled{true};
std::atomic<bool> g_avx512_enabled{true};
}  // namespace

bool cpu_has_avx2() { return g_has_avx2; }
void set_simd_enabled(bool on) { g_enabled.store(on); }
bool use_avx2() { return g_has_avx2 && g_enabled.load(); }
void set_avx512_enabled(bool on) { g_avx512_enabled.store(on); }
bool use_avx512() { return g_has_avx512 && g_enabled.load() && g_avx512_enabled.load(); }

}  // namespace cvk
