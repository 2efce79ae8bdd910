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
  using namespace cvk::bindings;
  using namespace cvk::masks;
  m.doc() = "cvkernels CUDA kernels (private: use the cvkernels package)";
  cvk::bindings::register_boxes<cvk::bindings::Cuda>(m);

  // --- NMS building blocks (orchestrated by cvkernels/_launch/nms_cuda.py) ----------------
  // boxes (n, 4) already in rank order, cls (n,) int64 or None; mask (n, ceil(n/64)) int64
  // scratch; keep (n,) int64 positions kept, count (1,) int64.
  m.def("nms_sorted", [](py::handle b_, py::handle c_, double thr, py::handle mask_, py::handle keep_,
                         py::handle count_, uintptr_t stream) {
    Buffer b = take_on(b_, "boxes", kCUDA), cls = take_opt(c_, "cls", kCUDA), mask = take_on(mask_, "mask", kCUDA);
    Buffer keep = take_on(keep_, "keep", kCUDA), count = take_on(count_, "count", kCUDA);
    b.floating();
    b.rank(2).dim(1, 4);
    const int64_t n = b.size(0);
    if (!c_.is_none()) cls.dtype(Elem::I64).on(b).is_shape({n});
    mask.dtype(Elem::I64).on(b).writable().is_shape({n, (n + 63) / 64});
    keep.dtype(Elem::I64).on(b).writable().is_shape({n});
    count.dtype(Elem::I64).on(b).writable().is_shape({1});
    Cuda::Guard guard(b, stream);
    py::gil_scoped_release nogil;
    cvk::nms::nms_cuda(b.floating(), b.data, cls.cp<int64_t>(), n, thr, mask.mp<int64_t>(), keep.mp<int64_t>(),
                       count.mp<int64_t>(), sptr(stream));
  }, py::arg("boxes"), py::arg("cls"), py::arg("iou_threshold"), py::arg("mask"), py::arg("keep"), py::arg("count"),
     py::arg("stream"));
  // Soft-NMS of each segment [offsets[k], offsets[k+1]) of boxes/scores (n,) by one block.
  m.def("soft_nms_segments", [](py::handle b_, py::handle s_, py::handle off_, double thr, double sigma,
                                double score_thr, int method, py::handle keep_, py::handle kept_,
                                py::handle counts_, uintptr_t stream) {
    Buffer b = take_on(b_, "boxes", kCUDA), s = take_on(s_, "scores", kCUDA), off = take_on(off_, "offsets", kCUDA);
    Buffer keep = take_on(keep_, "keep", kCUDA), kept = take_on(kept_, "kept_scores", kCUDA);
    Buffer counts = take_on(counts_, "counts", kCUDA);
    b.floating();
    b.rank(2).dim(1, 4);
    const int64_t n = b.size(0);
    s.like(b).on(b).is_shape({n});
    off.dtype(Elem::I64).on(b).rank(1);
    const int64_t segs = off.size(0) - 1;
    if (segs < 0) throw py::value_error("offsets must hold at least one value");
    keep.dtype(Elem::I64).on(b).writable().is_shape({n});
    kept.like(b).on(b).writable().is_shape({n});
    counts.dtype(Elem::I64).on(b).writable().is_shape({segs});
    Cuda::Guard guard(b, stream);
    py::gil_scoped_release nogil;
    cvk::nms::soft_nms_cuda(b.floating(), b.data, s.data, off.cp<int64_t>(), segs, thr, sigma, score_thr, method,
                            keep.mp<int64_t>(), kept.data, counts.mp<int64_t>(), sptr(stream));
  }, py::arg("boxes"), py::arg("scores"), py::arg("offsets"), py::arg("iou_threshold"), py::arg("sigma"),
     py::arg("score_threshold"), py::arg("method"), py::arg("keep"), py::arg("kept_scores"), py::arg("counts"),
     py::arg("stream"));
  // Greedy NMS of candidate sets: boxes (B, N, 4) or (B, N, C, 4); cand (B, S, L) candidate ids
  // (n * C + c) in rank order, valid (B, S) how many of each set pass; at most cap kept per set
  // into kept_ids (B, S, max(cap, 1)) and kept_n (B, S); scratch (B * S, max(cap, 1), 4).
  m.def("greedy_sets", [](py::handle b_, py::handle cand_, py::handle valid_, int64_t C, double thr, int64_t cap,
                          py::handle ids_, py::handle n_, py::handle scratch_, uintptr_t stream) {
    Buffer b = take_on(b_, "boxes", kCUDA), cand = take_on(cand_, "cand", kCUDA), valid = take_on(valid_, "valid", kCUDA);
    Buffer ids = take_on(ids_, "kept_ids", kCUDA), kn = take_on(n_, "kept_n", kCUDA);
    Buffer scratch = take_on(scratch_, "scratch", kCUDA);
    b.floating();
    b.rank_in(3, 4).dim(-1, 4);
    const bool per_class = b.ndim() == 4;
    const int64_t B = b.size(0), N = b.size(1);
    if (per_class) b.dim(2, C);
    if (C < 1 || cap < 0) throw py::value_error("need C >= 1 and cap >= 0");
    cand.dtype(Elem::I64).on(b).rank(3).dim(0, B);
    const int64_t S = cand.size(1), L = cand.size(2);
    if (L > N * C) throw py::value_error("cand holds more candidates than boxes times classes");
    valid.dtype(Elem::I64).on(b).is_shape({B, S});
    const int64_t slots = cap > 0 ? cap : 1;
    ids.dtype(Elem::I64).on(b).writable().is_shape({B, S, slots});
    kn.dtype(Elem::I64).on(b).writable().is_shape({B, S});
    scratch.like(b).on(b).writable().is_shape({B * S, slots, 4});
    Cuda::Guard guard(b, stream);
    py::gil_scoped_release nogil;
    cvk::nms::greedy_sets_cuda(b.floating(), b.data, cand.cp<int64_t>(), valid.cp<int64_t>(), B * S, S, L, N, C,
                               per_class, thr, cap, ids.mp<int64_t>(), kn.mp<int64_t>(), scratch.data,
                               sptr(stream));
  }, py::arg("boxes"), py::arg("cand"), py::arg("valid"), py::arg("num_classes"), py::arg("iou_threshold"),
     py::arg("cap"), py::arg("kept_ids"), py::arg("kept_n"), py::arg("scratch"), py::arg("stream"));

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
