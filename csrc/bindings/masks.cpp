#include "bindings/bindings.h"
#include <pybind11/stl.h>
#include <utility>
#include "masks/masks_cpu.h"

namespace cvk {
namespace bindings {

namespace {
const uint8_t* u8(uintptr_t p) { return reinterpret_cast<const uint8_t*>(p); }
const int64_t* ci64(uintptr_t p) { return reinterpret_cast<const int64_t*>(p); }
int64_t* i64(uintptr_t p) { return reinterpret_cast<int64_t*>(p); }
double* f64(uintptr_t p) { return reinterpret_cast<double*>(p); }
}  // namespace

void register_masks(pybind11::module_& m) {
  using namespace cvk::masks;
  m.def(
      "mask_binary_counts",
      [](uintptr_t p, uintptr_t t, int64_t n, int64_t size, uintptr_t inter, uintptr_t psum,
         uintptr_t tsum) { binary_counts(u8(p), u8(t), n, size, i64(inter), i64(psum), i64(tsum)); },
      nogil());
  m.def(
      "mask_label_counts",
      [](uintptr_t p, uintptr_t t, int64_t N, int64_t size, int64_t C, int64_t ignore_index,
         uintptr_t inter, uintptr_t psum, uintptr_t tsum) {
        int64_t bad_value = 0;
        const int64_t at = label_counts(ci64(p), ci64(t), N, size, C, ignore_index, i64(inter),
                                        i64(psum), i64(tsum), &bad_value);
        return std::make_pair(at, bad_value);
      },
      nogil());
  m.def(
      "mask_mixed_counts",
      [](uintptr_t labels, uintptr_t planes, bool labels_are_pred, int64_t N, int64_t size,
         int64_t C, uintptr_t inter, uintptr_t psum, uintptr_t tsum) {
        return mixed_counts(ci64(labels), u8(planes), labels_are_pred, N, size, C, i64(inter),
                            i64(psum), i64(tsum));
      },
      nogil());
  m.def(
      "mask_argmax",
      [](int dtype, uintptr_t x, int64_t N, int64_t C, int64_t size, uintptr_t out) {
        argmax_channels(dtype, cptr(x), N, C, size, i64(out));
      },
      nogil());
  m.def(
      "dice_stats",
      [](int dtype, uintptr_t x, uintptr_t labels, uintptr_t dense, int64_t N, int64_t C,
         int64_t size, int activation, int64_t ignore_index, uintptr_t stats) {
        dice_stats(dtype, cptr(x), labels ? ci64(labels) : nullptr, dense ? cptr(dense) : nullptr,
                   N, C, size, activation, ignore_index, f64(stats));
      },
      nogil());
  m.def(
      "dice_stats_backward",
      [](int dtype, uintptr_t x, uintptr_t labels, uintptr_t dense, int64_t N, int64_t C,
         int64_t size, int activation, int64_t ignore_index, uintptr_t grad_stats,
         uintptr_t grad_x) {
        dice_stats_backward(dtype, cptr(x), labels ? ci64(labels) : nullptr,
                            dense ? cptr(dense) : nullptr, N, C, size, activation, ignore_index,
                            reinterpret_cast<const double*>(grad_stats), mptr(grad_x));
      },
      nogil());
  m.def(
      "pairwise_masks",
      [](uintptr_t a, int64_t N, uintptr_t b, int64_t M, int64_t H, int64_t W, bool dice,
         int dtype, uintptr_t out) { pairwise_masks(u8(a), N, u8(b), M, H, W, dice, dtype, mptr(out)); },
      nogil());
}

}  // namespace bindings
}  // namespace cvk
