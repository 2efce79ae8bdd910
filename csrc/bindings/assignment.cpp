// Bindings of the linear sum assignment: a batch of cost matrices (read in place, float32 or
// float64), solved in parallel without the GIL, one matrix per task.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "assignment/detr_cost.h"
#include "assignment/lsa.h"
#include "bindings/bindings.h"
#include "bindings/buffer.h"
#include "common/thread_pool.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

namespace {

void throw_status(int status, int64_t b, bool maximize) {
  if (status == assignment::kLsaInvalid)
    throw py::value_error("cost matrix " + std::to_string(b) + " contains invalid numeric entries (NaN, or " +
                          (maximize ? "+inf when maximizing)" : "-inf)"));
  if (status == assignment::kLsaInfeasible)
    throw py::value_error("cost matrix " + std::to_string(b) +
                          " is infeasible: its allowed (finite) entries admit no full assignment");
}

template <class T>
using CArr = py::array_t<T, py::array::c_style>;

// DETR's matcher for a batch: probs (B, Q, C) class probabilities, boxes (B, Q, 4) cxcywh, and
// per image the ground truth's labels (n_b,) and boxes (n_b, 4) cxcywh. Per image (in
// parallel): the (Q, n_b) cost of detr_cost.h, in T, then its assignment in double.
template <class T>
py::list detr_match(CArr<T> probs, CArr<T> boxes, const std::vector<CArr<int64_t>>& labels,
                    const std::vector<CArr<T>>& gt_boxes, double w_class, double w_bbox, double w_giou) {
  if (probs.ndim() != 3 || boxes.ndim() != 3 || boxes.shape(2) != 4 || boxes.shape(0) != probs.shape(0) ||
      boxes.shape(1) != probs.shape(1))
    throw py::value_error("pred_logits must be (B, Q, C) and pred_boxes (B, Q, 4) with the same B and Q");
  const int64_t B = probs.shape(0), Q = probs.shape(1), C = probs.shape(2);
  if (static_cast<int64_t>(labels.size()) != B || static_cast<int64_t>(gt_boxes.size()) != B)
    throw py::value_error("targets must hold one entry per image: " + std::to_string(B));
  std::vector<int64_t> n(B);
  for (int64_t b = 0; b < B; ++b) {
    n[b] = labels[b].size();
    if (labels[b].ndim() != 1 || gt_boxes[b].ndim() != 2 || gt_boxes[b].shape(0) != n[b] || gt_boxes[b].shape(1) != 4)
      throw py::value_error("targets[" + std::to_string(b) + "]: labels must be (n,) and boxes (n, 4)");
    for (int64_t k = 0; k < n[b]; ++k)
      if (labels[b].data()[k] < 0 || labels[b].data()[k] >= C)
        throw py::value_error("targets[" + std::to_string(b) + "]: label " + std::to_string(labels[b].data()[k]) +
                              " is outside [0, " + std::to_string(C) + ")");
  }
  std::vector<py::array_t<int64_t>> ri, ci;
  std::vector<int64_t*> rp(B), cp(B);
  std::vector<const T*> lp_box(B);
  std::vector<const int64_t*> lp_lab(B);
  for (int64_t b = 0; b < B; ++b) {
    const py::ssize_t k = std::min(Q, n[b]);
    ri.emplace_back(k);
    ci.emplace_back(k);
    rp[b] = ri[b].mutable_data();
    cp[b] = ci[b].mutable_data();
    lp_box[b] = gt_boxes[b].data();
    lp_lab[b] = labels[b].data();
  }
  const T* pp = probs.data();
  const T* bp = boxes.data();
  std::vector<int> status(B, assignment::kLsaOk);
  {
    py::gil_scoped_release nogil;
    parallel_for_each(B, [&](int64_t b) {
      const int64_t G = n[b];
      std::vector<double> cost(static_cast<size_t>(Q * G));
      std::vector<boxes::BoxInfo<T>> gi(G);
      for (int64_t k = 0; k < G; ++k) {
        T xyxy[4];
        boxes::to_xyxy(boxes::BoxFmt::CXCYWH, lp_box[b] + 4 * k, xyxy);
        gi[k] = boxes::iou_box(xyxy);
      }
      for (int64_t q = 0; q < Q; ++q) {
        const T* pred = bp + (b * Q + q) * 4;
        const T* prob = pp + (b * Q + q) * C;
        T xyxy[4];
        boxes::to_xyxy(boxes::BoxFmt::CXCYWH, pred, xyxy);
        const boxes::BoxInfo<T> pi = boxes::iou_box(xyxy);
        for (int64_t k = 0; k < G; ++k)
          cost[q * G + k] = assignment::detr_cost<T>(prob[lp_lab[b][k]], pred, pi, lp_box[b] + 4 * k, gi[k],
                                                     static_cast<T>(w_class), static_cast<T>(w_bbox),
                                                     static_cast<T>(w_giou));
      }
      status[b] = assignment::linear_sum_assignment(cost.data(), Q, G, false, rp[b], cp[b]);
    });
  }
  py::list out;
  for (int64_t b = 0; b < B; ++b) {
    throw_status(status[b], b, false);
    out.append(py::make_tuple(ri[b], ci[b]));
  }
  return out;
}

}  // namespace

void register_assignment(py::module_& m) {
  // costs: a list or tuple of 2-D float32 / float64 arrays (solved in float64, as scipy does)
  // -> a list of (row_ind, col_ind) int64 pairs. Raises ValueError naming the first matrix that
  // is not 2-D, holds NaN (or -inf; +inf when maximizing) or allows no full assignment. With
  // plain_only, returns None unless costs is a list or tuple and every matrix a plain numpy array
  // (no subclass), 2-D, float32 / float64, C-contiguous, aligned and native-endian: the Python
  // side's fast path, which leaves everything else (and its error messages) to its general path.
  m.def(
      "linear_sum_assignment",
      [](py::sequence costs, bool maximize, bool plain_only) -> py::object {
        const int64_t B = static_cast<int64_t>(costs.size());
        struct Matrix {
          const void* data;
          int64_t rows, cols;
          bool f32;
        };
        std::vector<Matrix> mats(static_cast<size_t>(B));
        std::vector<Buffer> held;  // keeps the general path's views alive
        std::vector<py::object> plain;  // the plain path's matrices, held while they are solved
        if (plain_only) {  // checked here and read directly through numpy's struct (per-matrix overhead)
          static PyObject* const ndarray = py::object(py::module_::import("numpy").attr("ndarray")).release().ptr();
          PyObject* seq = costs.ptr();
          if (!PyList_CheckExact(seq) && !PyTuple_CheckExact(seq)) return py::none();
          plain.reserve(static_cast<size_t>(B));
          for (int64_t b = 0; b < B; ++b) {
            PyObject* obj = PyList_CheckExact(seq) ? PyList_GET_ITEM(seq, b) : PyTuple_GET_ITEM(seq, b);
            if (reinterpret_cast<PyObject*>(Py_TYPE(obj)) != ndarray) return py::none();
            const auto* a = py::detail::array_proxy(obj);
            const auto* d = py::detail::array_descriptor_proxy(a->descr);
            constexpr int kFloat = 11, kDouble = 12;  // NPY_FLOAT, NPY_DOUBLE
            constexpr int kPlainFlags = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
            if (a->nd != 2 || (d->type_num != kFloat && d->type_num != kDouble) || d->byteorder == '>' ||
                (a->flags & kPlainFlags) != kPlainFlags)
              return py::none();
            plain.push_back(py::reinterpret_borrow<py::object>(obj));
            mats[b] = {a->data, a->dimensions[0], a->dimensions[1], d->type_num == kFloat};
          }
        } else {
          held.reserve(static_cast<size_t>(B));
          for (int64_t b = 0; b < B; ++b) {
            held.push_back(take_on(costs[b], "cost matrix", kCPU));
            Buffer& c = held.back();
            c.floating();
            if (c.ndim() != 2)
              throw py::value_error("cost matrix " + std::to_string(b) + " must be 2-D, got " +
                                    std::to_string(c.ndim()) + " dimensions");
            mats[b] = {c.data, c.size(0), c.size(1), c.elem == Elem::F32};
          }
        }
        // The solutions go to one scratch block; the 2 B output arrays and their pairs are made
        // meanwhile by the calling thread (its first task takes the GIL for that), so that this
        // per-matrix Python work overlaps the other threads' solving instead of adding to it.
        std::vector<int64_t> offset(B + 1, 0);
        for (int64_t b = 0; b < B; ++b) offset[b + 1] = offset[b] + std::min(mats[b].rows, mats[b].cols);
        std::vector<int64_t> rows(offset[B]), cols(offset[B]);
        std::vector<int> status(B, assignment::kLsaOk);
        std::vector<py::array_t<int64_t>> ri, ci;
        py::list out(B);
        auto make_outputs = [&] {  // GIL held
          ri.reserve(static_cast<size_t>(B));
          ci.reserve(static_cast<size_t>(B));
          for (int64_t b = 0; b < B; ++b) {
            const py::ssize_t k = offset[b + 1] - offset[b];
            out[b] = py::make_tuple(ri.emplace_back(k), ci.emplace_back(k));
          }
        };
        const std::thread::id caller = std::this_thread::get_id();
        bool made = false;  // read and written by the calling thread only
        {
          py::gil_scoped_release nogil;
          parallel_for_each(B, [&](int64_t b) {
            if (!made && std::this_thread::get_id() == caller) {
              made = true;
              py::gil_scoped_acquire gil;
              make_outputs();
            }
            const Matrix& c = mats[b];
            int64_t* r = rows.data() + offset[b];
            int64_t* k = cols.data() + offset[b];
            status[b] = c.f32 ? assignment::linear_sum_assignment(static_cast<const float*>(c.data), c.rows, c.cols,
                                                                  maximize, r, k)
                              : assignment::linear_sum_assignment(static_cast<const double*>(c.data), c.rows, c.cols,
                                                                  maximize, r, k);
          });
        }
        if (!made) make_outputs();  // the other threads took every matrix
        for (int64_t b = 0; b < B; ++b) {
          throw_status(status[b], b, maximize);
          std::copy(rows.begin() + offset[b], rows.begin() + offset[b + 1], ri[b].mutable_data());
          std::copy(cols.begin() + offset[b], cols.begin() + offset[b + 1], ci[b].mutable_data());
        }
        return std::move(out);
      },
      py::arg("costs"), py::arg("maximize") = false, py::arg("plain_only") = false);
  m.def("detr_match", &detr_match<float>, py::arg("probs"), py::arg("boxes"), py::arg("labels"), py::arg("gt_boxes"),
        py::arg("w_class"), py::arg("w_bbox"), py::arg("w_giou"));
  m.def("detr_match", &detr_match<double>, py::arg("probs"), py::arg("boxes"), py::arg("labels"), py::arg("gt_boxes"),
        py::arg("w_class"), py::arg("w_bbox"), py::arg("w_giou"));
}

}  // namespace bindings
}  // namespace cvk
