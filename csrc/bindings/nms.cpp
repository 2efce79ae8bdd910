#include "bindings/bindings.h"
#include "nms/nms_cpu.h"

namespace cvk {
namespace bindings {

namespace {
const int64_t* iptr(uintptr_t p) { return reinterpret_cast<const int64_t*>(p); }
int64_t* miptr(uintptr_t p) { return reinterpret_cast<int64_t*>(p); }
}  // namespace

void register_nms(pybind11::module_& m) {
  using namespace cvk::nms;
  m.def(
      "nms",
      [](int dtype, uintptr_t boxes, uintptr_t scores, int64_t n, double thr, uintptr_t keep) {
        return nms_cpu(dtype, cptr(boxes), cptr(scores), n, thr, miptr(keep));
      },
      nogil());
  m.def(
      "batched_nms",
      [](int dtype, uintptr_t boxes, uintptr_t scores, uintptr_t idxs, int64_t n, double thr,
         uintptr_t keep) {
        return batched_nms_cpu(dtype, cptr(boxes), cptr(scores), iptr(idxs), n, thr, miptr(keep));
      },
      nogil());
  m.def(
      "soft_nms",
      [](int dtype, uintptr_t boxes, uintptr_t scores, uintptr_t idxs, int64_t n, double thr,
         double sigma, double score_thr, int method, uintptr_t keep, uintptr_t new_scores) {
        return soft_nms_cpu(dtype, cptr(boxes), cptr(scores), idxs ? iptr(idxs) : nullptr, n, thr,
                            sigma, score_thr, method, miptr(keep), mptr(new_scores));
      },
      nogil());
  m.def(
      "multiclass_nms",
      [](int dtype, uintptr_t boxes, uintptr_t scores, int64_t B, int64_t N, int64_t C,
         bool per_class, double score_thr, double iou_thr, int64_t max_per_class,
         int64_t max_total, bool agnostic, uintptr_t num_det, uintptr_t out_boxes,
         uintptr_t out_scores, uintptr_t out_classes) {
        multiclass_nms_cpu(dtype, cptr(boxes), cptr(scores), B, N, C, per_class, score_thr,
                           iou_thr, max_per_class, max_total, agnostic, miptr(num_det),
                           mptr(out_boxes), mptr(out_scores), miptr(out_classes));
      },
      nogil());
}

}  // namespace bindings
}  // namespace cvk
