// cvkernels._C_cuda: the CUDA extension module (built with -DCVK_CUDA=ON). Buffers are DLPack
// capsules of CUDA tensors, checked as in _C (bindings/buffer.h); the trailing `stream` is the
// caller's cudaStream_t as an integer (torch.cuda.current_stream().cuda_stream), and each launch
// runs with the buffers' device made current.
//   * boxes, roi, conv and the label counts of the classification metrics: the very entries of
//     _C (bindings/<area>.h, written once for both);
//   * masks: _C's names and arguments, plus the device scratch a kernel needs before the stream;
//   * nms: building blocks of their own (nms_sorted, soft_nms_segments, greedy_sets), which
//     cvkernels/_launch/nms_cuda.py orchestrates with torch (ranking, gathering, merging).
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
#include "bindings/classification.h"
#include "bindings/conv.h"
#include "bindings/roi.h"
#include "bindings/masks.h"
#include "boxes/boxes_cuda.h"
#include "classification/ranking_cuda.h"
#include "boxes/rotated_cuda.h"
#include "nms/nms_cuda.h"
#include "roi/roi_cuda.h"
#include "conv/conv_cuda.h"
#include "masks/masks_cuda.h"

#include <pybind11/stl.h>
#include <tuple>

namespace {
void* sptr(uintptr_t s) { return reinterpret_cast<void*>(s); }
}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  using namespace cvk::bindings;
  using namespace cvk::masks;
  m.doc() = "cvkernels CUDA kernels (private: use the cvkernels package)";
  cvk::bindings::register_boxes<cvk::bindings::Cuda>(m);
  cvk::bindings::register_label_counts<cvk::bindings::Cuda>(m);
  // Rotated boxes: boxes1 (N, 5), boxes2 (M, 5), out (N, M), one float dtype (as _C's).
  m.def("box_iou_rotated", [](py::handle a_, py::handle b_, py::handle out_, uintptr_t stream) {
    Buffer a = take_on(a_, "boxes1", kCUDA), b = take_on(b_, "boxes2", kCUDA), out = take_on(out_, "out", kCUDA);
    a.floating();
    a.rank(2).dim(1, 5);
    b.like(a).on(a).rank(2).dim(1, 5);
    const int64_t n = a.size(0), k = b.size(0);
    out.like(a).on(a).writable().is_shape({n, k});
    Cuda::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    cvk::boxes::box_iou_rotated_cuda(a.floating(), a.data, n, b.data, k, out.data, sptr(stream));
  }, py::arg("boxes1"), py::arg("boxes2"), py::arg("out"), py::arg("stream"));

  // --- NMS building blocks (orchestrated by cvkernels/_launch/nms_cuda.py) ----------------
  m.attr("NMS_SORTED_MAX_BOXES") = cvk::nms::kMaxSortedBoxes;
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

  // --- mask metrics: the CPU entries' arguments (bindings/masks.h), plus the device scratch
  // some kernels need (allocated by torch's caching allocator) before the stream --------------
  using namespace masks_detail;
  m.def("mask_binary_counts", [](py::handle p_, py::handle t_, py::handle i_, py::handle ps_, py::handle ts_,
                                 uintptr_t stream) {
    Buffer p = take_on(p_, "preds", kCUDA), t = take_on(t_, "target", kCUDA);
    Buffer I = take_on(i_, "inter", kCUDA), P = take_on(ps_, "psum", kCUDA), T = take_on(ts_, "tsum", kCUDA);
    planes(p, t);
    count_outputs({&I, &P, &T}, p.size(0), p);
    Cuda::Guard guard(p, stream);
    py::gil_scoped_release nogil;
    binary_counts_cuda(p.cp<uint8_t>(), t.cp<uint8_t>(), p.size(0), p.size(1), I.mp<int64_t>(), P.mp<int64_t>(),
                       T.mp<int64_t>(), sptr(stream));
  }, py::arg("preds"), py::arg("target"), py::arg("inter"), py::arg("psum"), py::arg("tsum"), py::arg("stream"));
  // bad (1,) int64 receives the position of the first invalid label, or -1.
  m.def("mask_label_counts", [](py::handle p_, py::handle t_, int64_t C, int64_t ignore_index, py::handle i_,
                                py::handle ps_, py::handle ts_, py::handle bad_, uintptr_t stream) {
    Buffer p = take_on(p_, "preds", kCUDA), t = take_on(t_, "target", kCUDA), bad = take_on(bad_, "bad", kCUDA);
    Buffer I = take_on(i_, "inter", kCUDA), P = take_on(ps_, "psum", kCUDA), T = take_on(ts_, "tsum", kCUDA);
    label_maps(p, t);
    if (C < 1) throw py::value_error("num_classes must be >= 1");
    count_outputs({&I, &P, &T}, p.size(0) * C, p);
    bad.dtype(Elem::I64).on(p).writable().is_shape({1});
    Cuda::Guard guard(p, stream);
    py::gil_scoped_release nogil;
    label_counts_cuda(p.cp<int64_t>(), t.cp<int64_t>(), p.size(0), p.size(1), C, ignore_index, I.mp<int64_t>(),
                      P.mp<int64_t>(), T.mp<int64_t>(), bad.mp<int64_t>(), sptr(stream));
  }, py::arg("preds"), py::arg("target"), py::arg("num_classes"), py::arg("ignore_index"), py::arg("inter"),
     py::arg("psum"), py::arg("tsum"), py::arg("bad"), py::arg("stream"));
  m.def("mask_argmax", [](py::handle x_, py::handle out_, uintptr_t stream) {
    Buffer x = take_on(x_, "scores", kCUDA), out = take_on(out_, "out", kCUDA);
    x.floating();
    x.rank_in(2, 64);
    out.dtype(Elem::I64).on(x).writable().is_shape(without_channels(x));
    if (x.size(1) == 0 && out.numel() > 0) throw py::value_error("scores must have at least one channel");
    Cuda::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    argmax_channels_cuda(x.floating(), x.data, x.size(0), x.size(1), pixels(x), out.mp<int64_t>(), sptr(stream));
  }, py::arg("scores"), py::arg("out"), py::arg("stream"));
  m.def("dice_stats_blocks", &dice_stats_blocks, "Rows of the partial-sum scratch of dice_stats for this many pixels");
  // partial (dice_stats_blocks(N * size), C, 3) float64 scratch.
  m.def("dice_stats", [](py::handle x_, py::handle l_, py::handle d_, int activation, int64_t ignore_index,
                         py::handle stats_, py::handle partial_, uintptr_t stream) {
    Buffer x = take_on(x_, "input", kCUDA), lab = take_opt(l_, "labels", kCUDA), dense = take_opt(d_, "dense", kCUDA);
    Buffer stats = take_on(stats_, "stats", kCUDA), partial = take_on(partial_, "partial", kCUDA);
    int64_t N, C, size;
    dice(x, l_, lab, d_, dense, activation, N, C, size);
    stats.dtype(Elem::F64).on(x).writable().is_shape({C, 3});
    partial.dtype(Elem::F64).on(x).writable().is_shape({dice_stats_blocks(N * size), C, 3});
    Cuda::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    dice_stats_cuda(x.floating(), x.data, lab.cp<int64_t>(), dense.data, N, C, size, activation, ignore_index,
                    partial.mp<double>(), stats.mp<double>(), sptr(stream));
  }, py::arg("input"), py::arg("labels"), py::arg("dense"), py::arg("activation"), py::arg("ignore_index"),
     py::arg("stats"), py::arg("partial"), py::arg("stream"));
  m.def("dice_stats_backward", [](py::handle x_, py::handle l_, py::handle d_, int activation, int64_t ignore_index,
                                  py::handle g_, py::handle gx_, uintptr_t stream) {
    Buffer x = take_on(x_, "input", kCUDA), lab = take_opt(l_, "labels", kCUDA), dense = take_opt(d_, "dense", kCUDA);
    Buffer g = take_on(g_, "grad_stats", kCUDA), gx = take_on(gx_, "grad_input", kCUDA);
    int64_t N, C, size;
    dice(x, l_, lab, d_, dense, activation, N, C, size);
    g.dtype(Elem::F64).on(x).is_shape({C, 3});
    gx.like(x).on(x).writable().is_shape(x.shape);
    Cuda::Guard guard(x, stream);
    py::gil_scoped_release nogil;
    dice_stats_backward_cuda(x.floating(), x.data, lab.cp<int64_t>(), dense.data, N, C, size, activation,
                             ignore_index, g.cp<double>(), gx.data, sptr(stream));
  }, py::arg("input"), py::arg("labels"), py::arg("dense"), py::arg("activation"), py::arg("ignore_index"),
     py::arg("grad_stats"), py::arg("grad_input"), py::arg("stream"));
  // bits ((N + M) * H * ceil(W / 64),) and info ((N + M) * 5,) int64 scratch.
  m.def("pairwise_masks", [](py::handle a_, py::handle b_, bool dice_, py::handle out_, py::handle bits_,
                             py::handle info_, uintptr_t stream) {
    Buffer a = take_on(a_, "masks1", kCUDA), b = take_on(b_, "masks2", kCUDA), out = take_on(out_, "out", kCUDA);
    Buffer bits = take_on(bits_, "bits", kCUDA), info = take_on(info_, "info", kCUDA);
    pairwise(a, b, out);
    const int64_t rows = a.size(0) + b.size(0);
    bits.dtype(Elem::I64).on(a).writable().is_shape({rows * a.size(1) * ((a.size(2) + 63) / 64)});
    info.dtype(Elem::I64).on(a).writable().is_shape({rows * 5});
    Cuda::Guard guard(a, stream);
    py::gil_scoped_release nogil;
    pairwise_masks_cuda(a.cp<uint8_t>(), a.size(0), b.cp<uint8_t>(), b.size(0), a.size(1), a.size(2), dice_,
                        out.floating(), out.data, bits.mp<uint64_t>(), info.mp<int64_t>(), sptr(stream));
  }, py::arg("masks1"), py::arg("masks2"), py::arg("dice"), py::arg("out"), py::arg("bits"), py::arg("info"),
     py::arg("stream"));

  // --- ranking summaries (_C's ranking_columns, unweighted, plus its device scratch) ----------
  m.def("ranking_columns_scratch", [](py::handle s_) {
    Buffer s = take_on(s_, "y_score", kCUDA);
    const int dt = s.floating();
    s.rank(2);
    return cvk::classification::ranking_columns_scratch_cuda(dt, s.size(0), s.size(1));
  }, py::arg("y_score"), "Bytes of scratch that ranking_columns needs for this score matrix");
  // y_score (N, C) finite float32/float64 (N, C >= 1, N * C < 2^31); labels (N,) int64 or
  // indicator (N, C) 0/1, exactly one; (C,) float64 outputs as _C's (pauc may be None);
  // scratch: ranking_columns_scratch(y_score) bytes, uint8.
  m.def("ranking_columns", [](py::handle s_, py::handle lab_, py::handle ind_, py::handle w_, double max_fpr,
                              py::handle npos_, py::handle nneg_, py::handle auc_, py::handle pauc_, py::handle ap_,
                              py::handle scratch_, uintptr_t stream) {
    Buffer s = take_on(s_, "y_score", kCUDA);
    const int dt = s.floating();
    s.rank(2);
    const int64_t N = s.size(0), C = s.size(1);
    if (N < 1 || C < 1) throw py::value_error("y_score must have at least one row and one column");
    if (!w_.is_none()) throw py::value_error("sample_weight must be None for CUDA scores (weighted ranking runs on the CPU)");
    Buffer lab = take_opt(lab_, "labels", kCUDA), ind = take_opt(ind_, "indicator", kCUDA);
    if ((lab.data == nullptr) == (ind.data == nullptr)) throw py::value_error("give exactly one of labels and indicator");
    if (lab.data) lab.dtype(Elem::I64).on(s).is_shape({N});
    if (ind.data) {
      if (ind.elem != Elem::U8 && ind.elem != Elem::Bool)
        throw py::type_error(std::string("indicator must be uint8 or bool, got ") + elem_name(ind.elem));
      ind.on(s).is_shape({N, C});
    }
    Buffer npos = take_on(npos_, "npos", kCUDA), nneg = take_on(nneg_, "nneg", kCUDA);
    Buffer auc = take_on(auc_, "auc", kCUDA), ap = take_on(ap_, "ap", kCUDA), pauc = take_opt(pauc_, "pauc", kCUDA);
    for (Buffer* b : {&npos, &nneg, &auc, &ap}) b->dtype(Elem::F64).on(s).writable().is_shape({C});
    if (pauc.data) pauc.dtype(Elem::F64).on(s).writable().is_shape({C});
    Buffer scratch = take_on(scratch_, "scratch", kCUDA);
    scratch.dtype(Elem::U8).on(s).writable().rank(1);
    const int64_t need = cvk::classification::ranking_columns_scratch_cuda(dt, N, C);
    if (scratch.size(0) < need)
      throw py::value_error("scratch must hold at least " + std::to_string(need) + " bytes");
    Cuda::Guard guard(s, stream);
    py::gil_scoped_release nogil;
    cvk::classification::ranking_columns_cuda(dt, s.data, N, C, lab.cp<int64_t>(), ind.cp<uint8_t>(), max_fpr,
                                              npos.mp<double>(), nneg.mp<double>(), auc.mp<double>(),
                                              pauc.mp<double>(), ap.mp<double>(), scratch.mp<uint8_t>(),
                                              scratch.size(0), sptr(stream));
  }, py::arg("y_score"), py::arg("labels"), py::arg("indicator"), py::arg("sample_weight"), py::arg("max_fpr"),
     py::arg("npos"), py::arg("nneg"), py::arg("auc"), py::arg("pauc"), py::arg("ap"), py::arg("scratch"),
     py::arg("stream"));
  cvk::bindings::register_roi<cvk::bindings::Cuda>(m);
  cvk::bindings::register_conv<cvk::bindings::Cuda>(m);
}
