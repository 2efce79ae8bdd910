// Entry points of the CPU mask metrics (csrc/masks/); the checks are in bindings/masks.h.
#include "bindings/bindings.h"
#include "bindings/masks.h"
#include "masks/mask_math.h"
#include "masks/masks_cpu.h"

namespace cvk {
namespace bindings {

namespace {

// The dice kernels index the target planes by label: every label must be in [0, C) or be
// ignore_index, whoever calls.
void check_dice_labels(const Buffer& labels, int64_t C, int64_t ignore_index) {
  const int64_t* l = labels.cp<int64_t>();
  for (int64_t i = 0, n = labels.numel(); i < n; ++i)
    if ((l[i] < 0 || l[i] >= C) && l[i] != ignore_index)
      throw py::value_error("target label " + std::to_string(l[i]) + " is outside [0, " + std::to_string(C) +
                            ") and is not ignore_index");
}

}  // namespace

void register_masks(py::module_& m) {
  using namespace cvk::masks;
  using namespace masks_detail;
  m.def("mask_binary_counts", [](py::handle p_, py::handle t_, py::handle i_, py::handle ps_, py::handle ts_,
                                 uintptr_t stream) {
    Buffer p = take_on(p_, "preds", kCPU), t = take_on(t_, "target", kCPU);
    Buffer I = take_on(i_, "inter", kCPU), P = take_on(ps_, "psum", kCPU), T = take_on(ts_, "tsum", kCPU);
    Cpu::Guard guard(p, stream);
    planes(p, t);
    count_outputs({&I, &P, &T}, p.size(0), p);
    py::gil_scoped_release nogil;
    binary_counts(p.cp<uint8_t>(), t.cp<uint8_t>(), p.size(0), p.size(1), I.mp<int64_t>(), P.mp<int64_t>(),
                  T.mp<int64_t>());
  }, py::arg("preds"), py::arg("target"), py::arg("inter"), py::arg("psum"), py::arg("tsum"), py::arg("stream") = 0);

  // Returns (position of the first label outside [0, C) that is not ignored, or -1; its value).
  m.def("mask_label_counts", [](py::handle p_, py::handle t_, int64_t C, int64_t ignore_index, py::handle i_,
                                py::handle ps_, py::handle ts_, uintptr_t stream) {
    Buffer p = take_on(p_, "preds", kCPU), t = take_on(t_, "target", kCPU);
    Buffer I = take_on(i_, "inter", kCPU), P = take_on(ps_, "psum", kCPU), T = take_on(ts_, "tsum", kCPU);
    Cpu::Guard guard(p, stream);
    label_maps(p, t);
    if (C < 1) throw py::value_error("num_classes must be >= 1");
    count_outputs({&I, &P, &T}, p.size(0) * C, p);
    int64_t bad_value = 0, at;
    {
      py::gil_scoped_release nogil;
      at = label_counts(p.cp<int64_t>(), t.cp<int64_t>(), p.size(0), p.size(1), C, ignore_index, I.mp<int64_t>(),
                        P.mp<int64_t>(), T.mp<int64_t>(), &bad_value);
    }
    return std::make_pair(at, bad_value);
  }, py::arg("preds"), py::arg("target"), py::arg("num_classes"), py::arg("ignore_index"), py::arg("inter"),
     py::arg("psum"), py::arg("tsum"), py::arg("stream") = 0);

  // labels (N, size) int64 on one side, planes (N * C, size) uint8 on the other; returns the
  // position of the first label outside [0, C), or -1.
  m.def("mask_mixed_counts", [](py::handle l_, py::handle pl_, int64_t C, bool labels_are_pred, py::handle i_,
                                py::handle ps_, py::handle ts_, uintptr_t stream) {
    Buffer lab = take_on(l_, "labels", kCPU), pl = take_on(pl_, "planes", kCPU);
    Buffer I = take_on(i_, "inter", kCPU), P = take_on(ps_, "psum", kCPU), T = take_on(ts_, "tsum", kCPU);
    Cpu::Guard guard(lab, stream);
    lab.dtype(Elem::I64).rank(2);
    pl.dtype(Elem::U8).rank(2).dim(1, lab.size(1));
    const int64_t N = lab.size(0);
    if (C < 1) throw py::value_error("num_classes must be >= 1");
    pl.dim(0, N * C);
    count_outputs({&I, &P, &T}, N * C, lab);
    py::gil_scoped_release nogil;
    return mixed_counts(lab.cp<int64_t>(), pl.cp<uint8_t>(), labels_are_pred, N, lab.size(1), C, I.mp<int64_t>(),
                        P.mp<int64_t>(), T.mp<int64_t>());
  }, py::arg("labels"), py::arg("planes"), py::arg("num_classes"), py::arg("labels_are_pred"), py::arg("inter"),
     py::arg("psum"),
     py::arg("tsum"), py::arg("stream") = 0);

  m.def("mask_argmax", [](py::handle x_, py::handle out_, uintptr_t stream) {
    Buffer x = take_on(x_, "scores", kCPU), out = take_on(out_, "out", kCPU);
    Cpu::Guard guard(x, stream);
    x.floating();
    x.rank_in(2, 64);
    out.dtype(Elem::I64).writable().is_shape(without_channels(x));
    if (x.size(1) == 0 && out.numel() > 0) throw py::value_error("scores must have at least one channel");
    py::gil_scoped_release nogil;
    argmax_channels(x.floating(), x.data, x.size(0), x.size(1), pixels(x), out.mp<int64_t>());
  }, py::arg("scores"), py::arg("out"), py::arg("stream") = 0);

  m.def("dice_stats", [](py::handle x_, py::handle l_, py::handle d_, int activation, int64_t ignore_index,
                         py::handle stats_, uintptr_t stream) {
    Buffer x = take_on(x_, "input", kCPU), lab = take_opt(l_, "labels", kCPU), dense = take_opt(d_, "dense", kCPU);
    Buffer stats = take_on(stats_, "stats", kCPU);
    Cpu::Guard guard(x, stream);
    int64_t N, C, size;
    dice(x, l_, lab, d_, dense, activation, N, C, size);
    stats.dtype(Elem::F64).writable().is_shape({C, 3});
    if (lab.data) check_dice_labels(lab, C, ignore_index);
    py::gil_scoped_release nogil;
    dice_stats(x.floating(), x.data, lab.cp<int64_t>(), dense.data, N, C, size, activation, ignore_index,
               stats.mp<double>());
  }, py::arg("input"), py::arg("labels"), py::arg("dense"), py::arg("activation"), py::arg("ignore_index"),
     py::arg("stats"), py::arg("stream") = 0);

  m.def("dice_stats_backward", [](py::handle x_, py::handle l_, py::handle d_, int activation, int64_t ignore_index,
                                  py::handle g_, py::handle gx_, uintptr_t stream) {
    Buffer x = take_on(x_, "input", kCPU), lab = take_opt(l_, "labels", kCPU), dense = take_opt(d_, "dense", kCPU);
    Buffer g = take_on(g_, "grad_stats", kCPU), gx = take_on(gx_, "grad_input", kCPU);
    Cpu::Guard guard(x, stream);
    int64_t N, C, size;
    dice(x, l_, lab, d_, dense, activation, N, C, size);
    g.dtype(Elem::F64).is_shape({C, 3});
    gx.like(x).writable().is_shape(x.shape);
    if (lab.data) check_dice_labels(lab, C, ignore_index);
    py::gil_scoped_release nogil;
    dice_stats_backward(x.floating(), x.data, lab.cp<int64_t>(), dense.data, N, C, size, activation, ignore_index,
                        g.cp<double>(), gx.data);
  }, py::arg("input"), py::arg("labels"), py::arg("dense"), py::arg("activation"), py::arg("ignore_index"),
     py::arg("grad_stats"), py::arg("grad_input"), py::arg("stream") = 0);

  py::dict activations;
  activations["none"] = static_cast<int>(kActNone);
  activations["sigmoid"] = static_cast<int>(kActSigmoid);
  activations["softmax"] = static_cast<int>(kActSoftmax);
  m.attr("DICE_ACTIVATIONS") = activations;

  m.def("pairwise_masks", [](py::handle a_, py::handle b_, bool dice_, py::handle out_, uintptr_t stream) {
    Buffer a = take_on(a_, "masks1", kCPU), b = take_on(b_, "masks2", kCPU), out = take_on(out_, "out", kCPU);
    Cpu::Guard guard(a, stream);
    pairwise(a, b, out);
    py::gil_scoped_release nogil;
    pairwise_masks(a.cp<uint8_t>(), a.size(0), b.cp<uint8_t>(), b.size(0), a.size(1), a.size(2), dice_, out.floating(),
                   out.data);
  }, py::arg("masks1"), py::arg("masks2"), py::arg("dice"), py::arg("out"), py::arg("stream") = 0);
}

}  // namespace bindings
}  // namespace cvk
