// cvkernels._C: the CPU extension module. One register_<area> per csrc/<area>/.
#include "bindings/bindings.h"
#include "bindings/boxes.h"
#include "bindings/conv.h"
#include "bindings/roi.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "cvkernels CPU kernels (private: use the cvkernels package)";
  cvk::bindings::register_common(m);
  cvk::bindings::register_constants(m);
  cvk::bindings::register_boxes<cvk::bindings::Cpu>(m);
  cvk::bindings::register_nms(m);
  cvk::bindings::register_roi<cvk::bindings::Cpu>(m);
  cvk::bindings::register_eval(m);
  cvk::bindings::register_masks(m);
  cvk::bindings::register_rle(m);
  cvk::bindings::register_conv<cvk::bindings::Cpu>(m);
  cvk::bindings::register_assignment(m);
  cvk::bindings::register_losses(m);
  cvk::bindings::register_decode(m);
  cvk::bindings::register_rotated(m);
  cvk::bindings::register_classification(m);
  cvk::bindings::register_panoptic(m);
}
