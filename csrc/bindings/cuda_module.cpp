// cvkernels._C_cuda: the CUDA extension module (built with -DCVK_CUDA=ON). Same entry points
// as cvkernels._C, each with a trailing `stream` argument: the integer value of the caller's
// cudaStream_t (torch.cuda.current_stream().cuda_stream). Kernels never launch on stream 0
// unless that is the caller's current stream.
#include "bindings/bindings.h"
#include "bindings/device.h"

#include <cuda_runtime.h>

namespace cvk {
namespace bindings {
// The CUDA side of bindings/device.h: a launch runs with the buffers' device made current
// (and the caller's current device restored after), on the caller's stream.
struct Cuda {
  static constexpr bool cuda = true;
  static constexpr int device_type = kCUDA;
  class Guard {
   public:
    Guard(const Buffer& b, uintptr_t) : dev_(b.device_id) {
      if (cudaGetDevice(&prev_) != cudaSuccess) throw std::runtime_error("cvkernels: no CUDA device");
      if (prev_ != dev_ && cudaSetDevice(dev_) != cudaSuccess)
        throw std::runtime_error("cvkernels: cannot switch to CUDA device " + std::to_string(dev_));
    }
    ~Guard() {
      if (prev_ != dev_) cudaSetDevice(prev_);
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    int dev_ = 0, prev_ = 0;
  };
};
}  // namespace bindings
}  // namespace cvk

#include "bindings/boxes.h"
#include "bindings/conv.h"
#include "bindings/roi.h"
#include "boxes/boxes_cuda.h"
#include "nms/nms_cuda.h"
#include "roi/roi_cuda.h"
#include "conv/conv_cuda.h"
#include "masks/masks_cuda.h"

#include <pybind11/stl.h>
#include <tuple>

namespace {
void* sptr(uintptr_t s) { return reinterpret_cast<void*>(s); }
int64_t* iptr(uintptr_t p) { return reinterpret_cast<int64_t*>(p); }
}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  using namespace cvk::boxes;
  using cvk::bindings::cptr;
  using cvk::bindings::mptr;
  using cvk::bindings::nogil;
  m.doc() = "cvkernels CUDA kernels (private: use the cvkernels package)";
  cvk::bindings::register_boxes<cvk::bindings::Cuda>(m);

  m.def(
      "nms",
      [](int dtype, uintptr_t boxes, uintptr_t cls, int64_t n, double thr, uintptr_t mask,
         uintptr_t keep, uintptr_t count, uintptr_t s) {
        cvk::nms::nms_cuda(dtype, cptr(boxes), cls ? iptr(cls) : nullptr, n, thr, iptr(mask),
                           iptr(keep), iptr(count), sptr(s));
      },
      nogil());
  m.def(
      "soft_nms",
      [](int dtype, uintptr_t boxes, uintptr_t scores, uintptr_t offsets, int64_t segments,
         double thr, double sigma, double score_thr, int method, uintptr_t keep,
         uintptr_t kept_scores, uintptr_t counts, uintptr_t s) {
        cvk::nms::soft_nms_cuda(dtype, cptr(boxes), cptr(scores), iptr(offsets), segments, thr,
                                sigma, score_thr, method, iptr(keep), mptr(kept_scores),
                                iptr(counts), sptr(s));
      },
      nogil());
  m.def(
      "greedy_sets",
      [](int dtype, uintptr_t boxes, uintptr_t cand, uintptr_t valid, int64_t sets,
         int64_t sets_per_image, int64_t L, int64_t N, int64_t C, bool per_class, double thr,
         int64_t cap, uintptr_t kept_ids, uintptr_t kept_n, uintptr_t scratch, uintptr_t s) {
        cvk::nms::greedy_sets_cuda(dtype, cptr(boxes), iptr(cand), iptr(valid), sets,
                                   sets_per_image, L, N, C, per_class, thr, cap, iptr(kept_ids),
                                   iptr(kept_n), mptr(scratch), sptr(s));
      },
      nogil());

  m.def(
      "mask_binary_counts",
      [](uintptr_t p, uintptr_t t, int64_t n, int64_t size, uintptr_t I, uintptr_t P, uintptr_t T,
         uintptr_t s) {
        binary_counts_cuda(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<const uint8_t*>(t), n,
                           size, iptr(I), iptr(P), iptr(T), sptr(s));
      },
      nogil());
  m.def(
      "mask_label_counts",
      [](uintptr_t p, uintptr_t t, int64_t N, int64_t size, int64_t C, int64_t ignore_index,
         uintptr_t I, uintptr_t P, uintptr_t T, uintptr_t bad, uintptr_t s) {
        label_counts_cuda(iptr(p), iptr(t), N, size, C, ignore_index, iptr(I), iptr(P), iptr(T),
                          iptr(bad), sptr(s));
      },
      nogil());
  m.def(
      "mask_argmax",
      [](int dtype, uintptr_t x, int64_t N, int64_t C, int64_t size, uintptr_t out, uintptr_t s) {
        argmax_channels_cuda(dtype, cptr(x), N, C, size, iptr(out), sptr(s));
      },
      nogil());
  m.def("dice_stats_blocks", &dice_stats_blocks);
  m.def(
      "dice_stats",
      [](int dtype, uintptr_t x, uintptr_t labels, uintptr_t dense, int64_t N, int64_t C,
         int64_t size, int activation, int64_t ignore_index, uintptr_t partial, uintptr_t stats,
         uintptr_t s) {
        dice_stats_cuda(dtype, cptr(x), labels ? iptr(labels) : nullptr, dense ? cptr(dense) : nullptr, N,
                        C, size, activation, ignore_index, reinterpret_cast<double*>(partial),
                        reinterpret_cast<double*>(stats), sptr(s));
      },
      nogil());
  m.def(
      "dice_stats_backward",
      [](int dtype, uintptr_t x, uintptr_t labels, uintptr_t dense, int64_t N, int64_t C,
         int64_t size, int activation, int64_t ignore_index, uintptr_t grad_stats, uintptr_t gx,
         uintptr_t s) {
        dice_stats_backward_cuda(dtype, cptr(x), labels ? iptr(labels) : nullptr,
                                 dense ? cptr(dense) : nullptr, N, C, size, activation, ignore_index,
                                 reinterpret_cast<const double*>(grad_stats), mptr(gx), sptr(s));
      },
      nogil());
  m.def(
      "pairwise_masks",
      [](uintptr_t a, int64_t N, uintptr_t b, int64_t M, int64_t H, int64_t W, bool dice, int dtype,
         uintptr_t out, uintptr_t bits, uintptr_t info, uintptr_t s) {
        pairwise_masks_cuda(reinterpret_cast<const uint8_t*>(a), N, reinterpret_cast<const uint8_t*>(b), M,
                            H, W, dice, dtype, mptr(out), reinterpret_cast<uint64_t*>(bits), iptr(info),
                            sptr(s));
      },
      nogil());
  cvk::bindings::register_roi<cvk::bindings::Cuda>(m);
  cvk::bindings::register_conv<cvk::bindings::Cuda>(m);
}
