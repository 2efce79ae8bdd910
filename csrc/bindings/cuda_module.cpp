// cvkernels._C_cuda: the CUDA extension module (built with -DCVK_CUDA=ON). Same entry points
// as cvkernels._C, each with a trailing `stream` argument: the integer value of the caller's
// cudaStream_t (torch.cuda.current_stream().cuda_stream). Kernels never launch on stream 0
// unless that is the caller's current stream.
#include "bindings/bindings.h"
#include "boxes/boxes_cuda.h"

namespace {
void* sptr(uintptr_t s) { return reinterpret_cast<void*>(s); }
}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  using namespace cvk::boxes;
  using cvk::bindings::cptr;
  using cvk::bindings::mptr;
  using cvk::bindings::nogil;
  m.doc() = "cvkernels CUDA kernels (private: use the cvkernels package)";
  m.def(
      "box_pairwise",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t out, int64_t B, int64_t N,
         int64_t M, double eps, uintptr_t s) {
        pairwise_cuda(kind, dtype, cptr(a), cptr(b), mptr(out), B, N, M, eps, sptr(s));
      },
      nogil());
  m.def(
      "box_pairwise_backward",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t grad, uintptr_t ga,
         uintptr_t gb, int64_t B, int64_t N, int64_t M, double eps, uintptr_t s) {
        pairwise_backward_cuda(kind, dtype, cptr(a), cptr(b), cptr(grad), mptr(ga), mptr(gb), B,
                               N, M, eps, sptr(s));
      },
      nogil());
  m.def(
      "box_loss",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t out, int64_t n, double eps,
         uintptr_t s) { loss_cuda(kind, dtype, cptr(a), cptr(b), mptr(out), n, eps, sptr(s)); },
      nogil());
  m.def(
      "box_loss_backward",
      [](int kind, int dtype, uintptr_t a, uintptr_t b, uintptr_t grad, uintptr_t ga,
         uintptr_t gb, int64_t n, double eps, uintptr_t s) {
        loss_backward_cuda(kind, dtype, cptr(a), cptr(b), cptr(grad), mptr(ga), mptr(gb), n, eps,
                           sptr(s));
      },
      nogil());
  m.def(
      "box_area",
      [](int dtype, uintptr_t boxes, uintptr_t out, int64_t n, uintptr_t s) {
        area_cuda(dtype, cptr(boxes), mptr(out), n, sptr(s));
      },
      nogil());
  m.def(
      "box_convert",
      [](int dtype, uintptr_t in, uintptr_t out, int64_t n, int from_fmt, int to_fmt,
         uintptr_t s) { convert_cuda(dtype, cptr(in), mptr(out), n, from_fmt, to_fmt, sptr(s)); },
      nogil());
}
