// Bindings of the panoptic quality kernel (csrc/panoptic/).
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "panoptic/panoptic.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

void register_panoptic(py::module_& m) {
  // Per-category panoptic statistics over image pairs. gt_maps, pred_maps: lists of (H, W)
  // int32 / int64 segment-id maps or (H, W, 3) uint8 PNG colours (one dtype for all, each
  // pair of one size). Segment tables,
  // all images concatenated, image i's rows in [offsets[i], offsets[i + 1]): gt_id, gt_cat
  // int64, gt_crowd uint8/bool, gt_area float64; pred_id, pred_cat int64. Categories are in
  // [0, num_categories). Writes tp, fp, fn (int64) and iou (float64), each (num_categories,).
  m.def("panoptic_stats", [](py::list gt_maps, py::list pred_maps, py::handle gid_, py::handle gcat_,
                             py::handle gcrowd_, py::handle garea_, py::handle goff_, py::handle pid_,
                             py::handle pcat_, py::handle poff_, int64_t num_categories, py::handle tp_,
                             py::handle fp_, py::handle fn_, py::handle iou_) {
    const int64_t n = static_cast<int64_t>(gt_maps.size());
    if (static_cast<int64_t>(pred_maps.size()) != n)
      throw py::value_error("gt_maps and pred_maps must have one map per image");
    if (num_categories < 0) throw py::value_error("num_categories must be >= 0");
    Buffer goff = take_on(goff_, "gt_offsets", kCPU), poff = take_on(poff_, "pred_offsets", kCPU);
    goff.dtype(Elem::I64).is_shape({n + 1});
    poff.dtype(Elem::I64).is_shape({n + 1});
    Buffer gid = take_on(gid_, "gt_id", kCPU), gcat = take_on(gcat_, "gt_cat", kCPU);
    Buffer gcrowd = take_on(gcrowd_, "gt_crowd", kCPU), garea = take_on(garea_, "gt_area", kCPU);
    Buffer pid = take_on(pid_, "pred_id", kCPU), pcat = take_on(pcat_, "pred_cat", kCPU);
    gid.dtype(Elem::I64).rank(1);
    const int64_t ng = gid.size(0);
    gcat.dtype(Elem::I64).is_shape({ng});
    if (gcrowd.elem != Elem::U8 && gcrowd.elem != Elem::Bool) throw py::type_error("gt_crowd must be uint8 or bool");
    gcrowd.is_shape({ng});
    garea.dtype(Elem::F64).is_shape({ng});
    pid.dtype(Elem::I64).rank(1);
    const int64_t np_ = pid.size(0);
    pcat.dtype(Elem::I64).is_shape({np_});
    const int64_t *go = goff.cp<int64_t>(), *po = poff.cp<int64_t>();
    if (go[0] != 0 || go[n] != ng || po[0] != 0 || po[n] != np_)
      throw py::value_error("the offsets must start at 0 and end at the table sizes");
    for (int64_t i = 0; i < n; ++i)
      if (go[i + 1] < go[i] || po[i + 1] < po[i]) throw py::value_error("the offsets must not decrease");
    for (const char* which : {"gt", "pred"}) {
      const Buffer& cat = which[0] == 'g' ? gcat : pcat;
      const int64_t* c = cat.cp<int64_t>();
      for (int64_t k = 0; k < cat.size(0); ++k)
        if (c[k] < 0 || c[k] >= num_categories)
          throw py::value_error(std::string(which) + "_cat holds " + std::to_string(c[k]) + ", outside [0, " +
                                std::to_string(num_categories) + ")");
    }
    Buffer tp = take_on(tp_, "tp", kCPU), fp = take_on(fp_, "fp", kCPU), fn = take_on(fn_, "fn", kCPU);
    Buffer iou = take_on(iou_, "iou", kCPU);
    for (Buffer* b : {&tp, &fp, &fn}) b->dtype(Elem::I64).writable().is_shape({num_categories});
    iou.dtype(Elem::F64).writable().is_shape({num_categories});
    std::vector<panoptic::ImagePair> images(static_cast<size_t>(n));
    std::vector<Buffer> keep;  // the maps' views, alive for the call
    keep.reserve(static_cast<size_t>(2 * n));
    Elem map_elem = Elem::Other;
    for (int64_t i = 0; i < n; ++i) {
      keep.push_back(take_on(gt_maps[i], "gt_maps[i]", kCPU));
      Buffer& g = keep.back();
      keep.push_back(take_on(pred_maps[i], "pred_maps[i]", kCPU));
      Buffer& p = keep.back();
      if (g.elem != Elem::I32 && g.elem != Elem::I64 && g.elem != Elem::U8)
        throw py::type_error("the maps must be int32 or int64 ids, or (H, W, 3) uint8 colours");
      if (map_elem == Elem::Other) map_elem = g.elem;
      g.dtype(map_elem).rank(map_elem == Elem::U8 ? 3 : 2);
      if (map_elem == Elem::U8) g.dim(2, 3);
      p.dtype(map_elem).is_shape(g.shape);
      panoptic::ImagePair& im = images[i];
      im.gt_map = g.data;
      im.pred_map = p.data;
      im.kind = map_elem == Elem::I32 ? panoptic::MapKind::I32
                : map_elem == Elem::I64 ? panoptic::MapKind::I64 : panoptic::MapKind::RGB;
      im.pixels = g.size(0) * g.size(1);
      im.row = std::max<int64_t>(1, g.size(1));
      im.gt_id = gid.cp<int64_t>() + go[i];
      im.gt_cat = gcat.cp<int64_t>() + go[i];
      im.gt_crowd = gcrowd.cp<uint8_t>() + go[i];
      im.gt_area = garea.cp<double>() + go[i];
      im.n_gt = go[i + 1] - go[i];
      im.pred_id = pid.cp<int64_t>() + po[i];
      im.pred_cat = pcat.cp<int64_t>() + po[i];
      im.n_pred = po[i + 1] - po[i];
    }
    std::string err;
    {
      py::gil_scoped_release nogil;
      err = panoptic::pq_stats(images, num_categories, tp.mp<int64_t>(), fp.mp<int64_t>(), fn.mp<int64_t>(),
                               iou.mp<double>());
    }
    return err;
  }, py::arg("gt_maps"), py::arg("pred_maps"), py::arg("gt_id"), py::arg("gt_cat"), py::arg("gt_crowd"),
     py::arg("gt_area"), py::arg("gt_offsets"), py::arg("pred_id"), py::arg("pred_cat"), py::arg("pred_offsets"),
     py::arg("num_categories"), py::arg("tp"), py::arg("fp"), py::arg("fn"), py::arg("iou"));
}

}  // namespace bindings
}  // namespace cvk
