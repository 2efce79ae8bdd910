// Bindings of the COCO evaluator: a small class that keeps the columnar numpy arrays alive
// while the C++ evaluator points into them.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "bindings/bindings.h"
#include "common/thread_pool.h"
#include "eval/coco_eval.h"
#include "eval/match.h"
#include "eval/coco_json.h"
#include "eval/oks.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {
namespace {

template <class T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// Parsed RLEs of a COCO object's annotations (parsed in parallel, once), with each mask's box
// (x, y, w, h as pycocotools' toBbox), which evaluate's mask IoU reads for its early out.
struct RleSet {
  std::vector<rle::Rle> rles;
  std::vector<double> boxes;  // 4 per mask
  // Parses `in`; given `area` (n doubles), also writes each mask's area there.
  RleSet(const RleStrings& in, const char* label, double* area = nullptr) : boxes(4 * in.size()) {
    rles = parse_rle_strings(in, label, area, boxes.data());
  }
  explicit RleSet(const std::vector<RleObj>& objs) : RleSet(strings_of(objs), "segmentation") {}
};

// The "segmentation" of every annotation of a list when each is a plain compressed RLE dict
// (RleStrings::add_dict); false at the first that is not.
bool compressed_rles_of(const py::list& anns, RleStrings& out) {
  static const py::str k_segm = interned_key("segmentation");
  const py::ssize_t n = static_cast<py::ssize_t>(PyList_GET_SIZE(anns.ptr()));
  for (py::ssize_t i = 0; i < n; ++i) {
    PyObject* a = PyList_GET_ITEM(anns.ptr(), i);
    if (!PyDict_CheckExact(a) || !out.add_dict(PyDict_GetItemWithError(a, k_segm.ptr()))) {
      PyErr_Clear();
      return false;
    }
  }
  return true;
}

// Masks given as a list of compressed RLE dicts ({"size", "counts"}): the parsed set, each
// mask's area (float64, pycocotools' uint32 values) and box (x, y, w, h); None when any is not
// a plain compressed RLE dict (the Python path says what is wrong with it).
py::object rle_columns(const py::list& rles) {
  const py::ssize_t n = static_cast<py::ssize_t>(PyList_GET_SIZE(rles.ptr()));
  RleStrings in(n);
  for (py::ssize_t i = 0; i < n; ++i)
    if (!in.add_dict(PyList_GET_ITEM(rles.ptr(), i))) {
      PyErr_Clear();
      return py::none();
    }
  py::array_t<double> area(n), box({n, py::ssize_t(4)});
  RleSet set(in, "segmentation", area.mutable_data());
  std::copy(set.boxes.begin(), set.boxes.end(), box.mutable_data());
  return py::make_tuple(py::cast(std::move(set)), area, box);
}

// The parsed segmentations of a list of annotations that are all compressed RLEs, or None
// (the Python path converts polygons and run lists).
py::object rle_set_from_list(const py::list& anns) {
  RleStrings in(PyList_GET_SIZE(anns.ptr()));
  if (!compressed_rles_of(anns, in)) return py::none();
  return py::cast(RleSet(in, "segmentation"));
}

// accumulate's output arrays come from a small pool: an array of an earlier call is handed out
// again once nothing but the pool holds it (the COCOeval that had it is gone, and every view of
// it), since accumulate writes every element. A fresh array of 10 x 101 x 80 x 4 x 3 doubles
// (7.8 MB) costs its page faults, about 2.5 ms on a 2-core VM, as much as accumulate's own work
// on a few thousand detections. Arrays up to 64 MiB, 6 at most (two accumulates' worth); the
// pool is never destroyed (its arrays would be released after the interpreter). GIL held.
py::array_t<double> pooled_array(const std::vector<py::ssize_t>& shape) {
  static auto* pool = new std::vector<py::array_t<double>>();
  auto same = [&](const py::array_t<double>& a) {
    return a.ndim() == static_cast<py::ssize_t>(shape.size()) && std::equal(shape.begin(), shape.end(), a.shape());
  };
  for (const auto& a : *pool)
    if (a.ref_count() == 1 && same(a)) return a;
  py::array_t<double> fresh(shape);
  double* data = fresh.mutable_data();
  const int64_t bytes = static_cast<int64_t>(fresh.size()) * static_cast<int64_t>(sizeof(double));
  advise_huge_pages(data, bytes);  // huge pages spare most of the faults
  if (bytes <= (int64_t(64) << 20)) {
    auto unused = std::find_if(pool->begin(), pool->end(), [](const py::array_t<double>& a) { return a.ref_count() == 1; });
    if (pool->size() < 6)
      pool->push_back(fresh);
    else if (unused != pool->end())
      *unused = fresh;
  }
  return fresh;
}

// accumulate's outputs: precision, scores (T, R, K, A, M), recall (T, K, A, M) (accumulate
// writes every entry).
struct AccumulateOut {
  py::array_t<double> precision, recall, scores;
  double *p, *r, *s;
  AccumulateOut(py::ssize_t T, py::ssize_t R, py::ssize_t K, py::ssize_t A, py::ssize_t M)
      : precision(pooled_array({T, R, K, A, M})), recall({T, K, A, M}), scores(pooled_array({T, R, K, A, M})) {
    p = precision.mutable_data();
    r = recall.mutable_data();
    s = scores.mutable_data();
  }
  py::tuple tuple() const { return py::make_tuple(precision, recall, scores); }
};

// accumulate of match records (one process's or many processes' concatenated): the arrays
// records() gives, K categories, recall thresholds and maxDets.
py::tuple accumulate_records(Arr<int64_t> cat, Arr<int64_t> image, Arr<int64_t> rank,
                             Arr<double> score, Arr<uint8_t> state, Arr<int64_t> npig, int64_t K,
                             std::vector<double> rec_thrs, std::vector<int64_t> max_dets) {
  const py::ssize_t n = cat.size();
  if (image.size() != n || rank.size() != n || score.size() != n)
    throw std::invalid_argument("records: cat, image, rank and score differ in length");
  if (state.ndim() != 3 || state.shape(0) != n)
    throw std::invalid_argument("records: state must have shape (n, areas, thresholds)");
  const py::ssize_t A = state.shape(1), T = state.shape(2);
  if (npig.ndim() != 2 || npig.shape(0) != K || npig.shape(1) != A)
    throw std::invalid_argument("records: npig must have shape (categories, areas)");
  eval::MatchRecords rec{n, cat.data(), image.data(), rank.data(), score.data(), state.data(), npig.data()};
  AccumulateOut out(T, rec_thrs.size(), K, A, max_dets.size());
  {
    py::gil_scoped_release nogil;
    eval::accumulate_records(rec, K, A, T, rec_thrs, max_dets, out.p, out.r, out.s);
  }
  return out.tuple();
}

// A result's id (an exact int that fits int64) or number (an exact float or int a double
// holds); false for anything else (nullptr: the key is absent).
bool result_int(PyObject* v, int64_t& out) {
  if (v == nullptr || !PyLong_CheckExact(v)) return false;
  int overflow = 0;
  out = PyLong_AsLongLongAndOverflow(v, &overflow);
  return overflow == 0 && !(out == -1 && PyErr_Occurred());
}

bool result_double(PyObject* v, double& out) {
  if (v == nullptr) return false;
  if (PyFloat_CheckExact(v)) {
    out = PyFloat_AS_DOUBLE(v);
    return true;
  }
  if (!PyLong_CheckExact(v)) return false;
  out = PyLong_AsDouble(v);
  return !(out == -1.0 && PyErr_Occurred());
}

// A number of a result read without any call that could run Python code or touch the error
// state (so that threads without the GIL may do it while the caller holds it): an exact float,
// or an exact int of magnitude at most 2^53 (converted exactly, as PyLong_AsDouble would).
bool plain_double(PyObject* v, double& out) {
  if (PyFloat_CheckExact(v)) {
    out = PyFloat_AS_DOUBLE(v);
    return true;
  }
  if (!PyLong_CheckExact(v)) return false;
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);  // exact int: reads digits only
  if (overflow != 0 || x > (1LL << 53) || x < -(1LL << 53)) return false;
  out = static_cast<double>(x);
  return true;
}

// An exact int that fits int64, read under the same rule (result_int also asks the error
// state, which only a thread holding the GIL may do).
bool plain_int(PyObject* v, int64_t& out) {
  if (!PyLong_CheckExact(v)) return false;
  int overflow = 0;
  out = PyLong_AsLongLongAndOverflow(v, &overflow);
  return overflow == 0;
}

// loadRes' fast path: a list of plain box results, each a dict with "image_id" and
// "category_id" ints, "bbox" a list or tuple of 4 ints / floats and "score" an int or float
// (other keys ignored), read straight into columns (image_id, category_id, bbox (N, 4), score)
// without a Python object per result. None when any entry is anything else (a subclass, a
// string id, a numpy scalar, a missing key): the Python reader then takes the list and says
// what is wrong with it. The fifth element says whether every value is sane (finite boxes with
// no negative width or height, no NaN score), found while the values are read; when it is
// false the caller finds the first bad one and says what is wrong.
//
// The results are read in parallel while this thread keeps the GIL (so no Python code runs and
// nothing changes the list): the pool's threads only read objects, matching the keys by
// identity (the interned keys a dict written with literal keys holds) and taking only exact
// types, with no call that could run Python code or set an error. Any result they cannot
// read that way (equal keys that are other objects, as json.load makes; big ints) is read
// here afterwards with dict lookups.
py::object box_results_from_list(const py::list& anns) {
  const py::ssize_t n = static_cast<py::ssize_t>(PyList_GET_SIZE(anns.ptr()));
  static const py::str k_img = interned_key("image_id"), k_cat = interned_key("category_id"),
                            k_box = interned_key("bbox"), k_score = interned_key("score");
  py::array_t<int64_t> img(n), cat(n);
  py::array_t<double> box({n, py::ssize_t(4)}), score(n);
  int64_t* ip = img.mutable_data();
  int64_t* cp = cat.mutable_data();
  double* bp = box.mutable_data();
  double* sp = score.mutable_data();
  PyObject** items = PySequence_Fast_ITEMS(anns.ptr());
  PyObject* const keys[4] = {k_img.ptr(), k_cat.ptr(), k_score.ptr(), k_box.ptr()};
  // The values v[k] of keys[k] in dict a, found by identity (nullptr: not found so).
  auto by_identity = [&](PyObject* a, PyObject** v) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(a, &pos, &key, &value))
      for (int k = 0; k < 4; ++k)
        if (key == keys[k]) v[k] = value;
  };
  // Result i from its four values; false when one is not what the fast path takes.
  auto take = [&](py::ssize_t i, PyObject* const* v, auto as_int, auto as_double) {
    if (!(as_int(v[0], ip[i]) && as_int(v[1], cp[i]) && as_double(v[2], sp[i]))) return false;
    PyObject* b = v[3];
    if (!(PyList_CheckExact(b) || PyTuple_CheckExact(b)) || PySequence_Fast_GET_SIZE(b) != 4) return false;
    for (int c = 0; c < 4; ++c)
      if (!as_double(PySequence_Fast_GET_ITEM(b, c), bp[4 * i + c])) return false;
    return true;
  };
  std::vector<uint8_t> later(static_cast<size_t>(n), 0);
  parallel_for(0, n, 4096, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      PyObject* a = items[i];
      PyObject* v[4] = {nullptr, nullptr, nullptr, nullptr};
      if (PyDict_CheckExact(a)) by_identity(a, v);
      later[i] = !(v[0] && v[1] && v[2] && v[3] && take(i, v, plain_int, plain_double));
    }
  });
  for (py::ssize_t i = 0; i < n; ++i) {
    if (!later[i]) continue;
    PyObject* a = items[i];
    if (!PyDict_CheckExact(a)) return py::none();
    PyObject* v[4] = {nullptr, nullptr, nullptr, nullptr};
    for (int k = 0; k < 4; ++k) v[k] = PyDict_GetItemWithError(a, keys[k]);
    if (!(v[0] && v[1] && v[2] && v[3] && take(i, v, result_int, result_double))) {
      PyErr_Clear();  // an int too large for a float, say: the Python reader reports it
      return py::none();
    }
  }
  bool sane = true;
  for (py::ssize_t i = 0; i < n; ++i) {
    const double* q = bp + 4 * i;
    sane = sane && std::isfinite(q[0]) && std::isfinite(q[1]) && std::isfinite(q[2]) && std::isfinite(q[3]) &&
           q[2] >= 0 && q[3] >= 0 && !std::isnan(sp[i]);
  }
  return py::make_tuple(img, cat, box, score, sane);
}

// loadRes' fast path for segmentation results: dicts with "image_id" and "category_id" ints,
// "score" an int or float, "segmentation" a compressed RLE and no "bbox" (pycocotools keeps a
// given box; those lists take the Python path). Gives (image_id, category_id, score, area and
// bbox of each mask, the parsed masks as an RleSet), or None for any other list.
py::object segm_results_from_list(const py::list& anns) {
  const py::ssize_t n = static_cast<py::ssize_t>(PyList_GET_SIZE(anns.ptr()));
  static const py::str k_img = interned_key("image_id"), k_cat = interned_key("category_id"),
                            k_box = interned_key("bbox"), k_score = interned_key("score");
  RleStrings in(n);
  if (!compressed_rles_of(anns, in)) return py::none();
  py::array_t<int64_t> img(n), cat(n);
  py::array_t<double> score(n), area(n), box({n, py::ssize_t(4)});
  int64_t* ip = img.mutable_data();
  int64_t* cp = cat.mutable_data();
  double* sp = score.mutable_data();
  for (py::ssize_t i = 0; i < n; ++i) {
    PyObject* a = PyList_GET_ITEM(anns.ptr(), i);
    if (PyDict_GetItemWithError(a, k_box.ptr()) != nullptr || !result_int(PyDict_GetItemWithError(a, k_img.ptr()), ip[i]) ||
        !result_int(PyDict_GetItemWithError(a, k_cat.ptr()), cp[i]) ||
        !result_double(PyDict_GetItemWithError(a, k_score.ptr()), sp[i])) {
      PyErr_Clear();
      return py::none();
    }
  }
  RleSet set(in, "result", area.mutable_data());
  std::copy(set.boxes.begin(), set.boxes.end(), box.mutable_data());
  return py::make_tuple(img, cat, score, area, box, py::cast(std::move(set)));
}

// The elements of a float64 array (any strides) above `floor`, in C order, as a 1-D array:
// `a[a > floor]` in one pass (a view of the first n elements of an array of a.size: no second
// pass to count). summarize's means take s[s > -1] of strided slices of accumulate's output;
// numpy's mask-then-gather reads such a slice twice.
py::array values_above(const py::array_t<double>& a, double floor) {
  const int nd = static_cast<int>(a.ndim());
  py::array_t<double> out(a.size());
  double* dst = out.mutable_data();
  py::ssize_t n = 0;
  if (a.size() > 0) {
    // a as (outer dimensions..., R rows, J): the outer positions in C order, then rows, then J
    const py::ssize_t J = nd >= 1 ? a.shape(nd - 1) : 1, sj = nd >= 1 ? a.strides(nd - 1) : 0;
    const py::ssize_t R = nd >= 2 ? a.shape(nd - 2) : 1, sr = nd >= 2 ? a.strides(nd - 2) : 0;
    const int outer = std::max(nd - 2, 0);
    const char* base = reinterpret_cast<const char*>(a.data());
    std::vector<py::ssize_t> index(outer, 0);
    while (true) {
      const char* p = base;
      for (int d = 0; d < outer; ++d) p += index[d] * a.strides(d);
      for (py::ssize_t r = 0; r < R; ++r)
        for (py::ssize_t j = 0; j < J; ++j) {
          const double v = *reinterpret_cast<const double*>(p + r * sr + j * sj);
          dst[n] = v;
          n += v > floor;
        }
      int d = outer - 1;
      for (; d >= 0; --d) {
        if (++index[d] < a.shape(d)) break;
        index[d] = 0;
      }
      if (d < 0) break;
    }
  }
  return out[py::slice(0, n, 1)];
}

class PyCocoEval {
 public:
  PyCocoEval(std::vector<double> iou_thrs, std::vector<double> rec_thrs, Arr<double> area_rng,
             std::vector<int64_t> max_dets, int64_t num_images, int64_t num_cats,
             Arr<int64_t> g_img, Arr<int64_t> g_cat, Arr<double> g_box, Arr<double> g_area,
             Arr<uint8_t> g_crowd, Arr<int64_t> d_img, Arr<int64_t> d_cat, Arr<double> d_box,
             Arr<double> d_area, Arr<double> d_score)
      : keep_{g_img, g_cat, g_box, g_area, g_crowd, d_img, d_cat, d_box, d_area, d_score} {
    eval::CocoParams p;
    p.iou_thrs = std::move(iou_thrs);
    p.rec_thrs = std::move(rec_thrs);
    p.max_dets = std::move(max_dets);
    if (area_rng.ndim() != 2 || area_rng.shape(1) != 2)
      throw std::invalid_argument("areaRng must be a list of [min, max] pairs");
    for (py::ssize_t a = 0; a < area_rng.shape(0); ++a) {
      p.area_lo.push_back(area_rng.at(a, 0));
      p.area_hi.push_back(area_rng.at(a, 1));
    }
    auto same = [](const char* side, py::ssize_t n, std::initializer_list<py::ssize_t> sizes) {
      for (py::ssize_t k : sizes)
        if (k != n)
          throw std::invalid_argument(std::string(side) + " columns differ in length");
    };
    same("ground-truth", g_img.size(), {g_cat.size(), g_box.size() / 4, g_area.size(), g_crowd.size()});
    same("result", d_img.size(), {d_cat.size(), d_box.size() / 4, d_area.size(), d_score.size()});
    if (g_box.size() % 4 || d_box.size() % 4) throw std::invalid_argument("boxes must have shape (N, 4)");
    n_gt_ = g_img.size();
    n_dt_ = d_img.size();
    eval::Annotations gt, dt;
    gt.n = g_img.size();
    gt.img = g_img.data();
    gt.cat = g_cat.data();
    gt.box = g_box.data();
    gt.area = g_area.data();
    gt.crowd = g_crowd.data();
    dt.n = d_img.size();
    dt.img = d_img.data();
    dt.cat = d_cat.data();
    dt.box = d_box.data();
    dt.area = d_area.data();
    dt.score = d_score.data();
    T_ = static_cast<int64_t>(p.iou_thrs.size());
    R_ = static_cast<int64_t>(p.rec_thrs.size());
    ev_ = std::make_unique<eval::CocoEval>(std::move(p), num_images, num_cats, gt, dt);
  }

  void evaluate() {
    py::gil_scoped_release nogil;
    ev_->evaluate();
  }

  // Segmentation: the RLEs of the annotations the arrays hold, as sets (parsed once per COCO
  // object) and the index of each annotation in its set.
  void set_masks(const RleSet& gt, Arr<int64_t> gt_index, const RleSet& dt, Arr<int64_t> dt_index) {
    auto pick = [](const RleSet& set, const Arr<int64_t>& index, py::ssize_t n, std::vector<const double*>& box) {
      if (index.size() != n)
        throw std::invalid_argument("mask index has " + std::to_string(index.size()) +
                                    " entries for " + std::to_string(n) + " annotations");
      std::vector<const rle::Rle*> out(static_cast<size_t>(index.size()));
      box.resize(out.size());
      for (py::ssize_t i = 0; i < index.size(); ++i) {
        const int64_t k = index.data()[i];
        if (k < 0 || k >= static_cast<int64_t>(set.rles.size()))
          throw std::invalid_argument("mask index out of range");
        out[i] = &set.rles[k];
        box[i] = &set.boxes[4 * k];
      }
      return out;
    };
    gt_sets_ = {py::cast(gt), py::cast(dt)};  // keep the sets alive
    std::vector<const double*> gbox, dbox;
    auto g = pick(gt, gt_index, n_gt_, gbox);
    auto d = pick(dt, dt_index, n_dt_, dbox);
    ev_->use_masks(std::move(g), std::move(d), std::move(gbox), std::move(dbox));
  }

  // Keypoints: (N, 3K) rows of each side, the OKS sigmas (K) and the ground truth ignored for
  // having no labelled keypoint.
  void set_keypoints(Arr<double> gt_kpts, Arr<double> dt_kpts, std::vector<double> sigmas,
                     Arr<uint8_t> gt_ignore) {
    const py::ssize_t K3 = 3 * static_cast<py::ssize_t>(sigmas.size());
    if (sigmas.empty()) throw std::invalid_argument("kpt_oks_sigmas is empty");
    if (gt_kpts.size() != n_gt_ * K3 || dt_kpts.size() != n_dt_ * K3)
      throw std::invalid_argument("keypoints must have 3 * len(kpt_oks_sigmas) = " + std::to_string(K3) +
                                  " numbers per annotation");
    if (gt_ignore.size() != n_gt_) throw std::invalid_argument("one ignore flag per ground truth");
    keep_.insert(keep_.end(), {gt_kpts, dt_kpts, gt_ignore});
    ev_->use_keypoints(gt_kpts.data(), dt_kpts.data(), std::move(sigmas));
    ev_->set_gt_ignore(gt_ignore.data());
  }

  // Flags per annotation: ground truth ignored besides crowds (LVIS' "ignore"), detections
  // ignored wherever they match nothing (LVIS' not-exhaustive categories).
  void set_ignore(Arr<uint8_t> gt_ignore, Arr<uint8_t> dt_ignore) {
    if (gt_ignore.size() != n_gt_ || dt_ignore.size() != n_dt_)
      throw std::invalid_argument("one ignore flag per ground truth and per detection");
    keep_.insert(keep_.end(), {gt_ignore, dt_ignore});
    ev_->set_gt_ignore(gt_ignore.data());
    ev_->set_dt_ignore(dt_ignore.data());
  }

  py::tuple accumulate(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                       const std::vector<int64_t>& max_dets, const std::vector<int64_t>& images) {
    AccumulateOut out(T_, R_, cats.size(), areas.size(), max_dets.size());
    {
      py::gil_scoped_release nogil;
      ev_->accumulate(cats, areas, max_dets, images, out.p, out.r, out.s);
    }
    return out.tuple();
  }

  // The match records (eval::MatchRecords) of the categories, area ranges and images listed,
  // detections of rank < cap: a dict of numpy arrays.
  py::dict records(const std::vector<int64_t>& cats, const std::vector<int64_t>& areas,
                   const std::vector<int64_t>& images, int64_t cap) const {
    eval::OwnedRecords r;
    {
      py::gil_scoped_release nogil;
      r = ev_->records(cats, areas, images, cap);
    }
    py::dict out;
    const py::ssize_t n = static_cast<py::ssize_t>(r.cat.size());
    out["cat"] = to_numpy(r.cat);
    out["image"] = to_numpy(r.image);
    out["rank"] = to_numpy(r.rank);
    out["score"] = to_numpy(r.score);
    out["state"] = to_numpy(r.state).reshape({n, py::ssize_t(areas.size()), py::ssize_t(T_)});
    out["npig"] = to_numpy(r.npig).reshape({py::ssize_t(cats.size()), py::ssize_t(areas.size())});
    return out;
  }

  // (dt indices, gt indices, match (T, D) int32 gt position or -1, dt ignore (T, D), gt ignore)
  // of one (category, image, area range), or None when the image has neither.
  py::object group(int64_t cat, int64_t img, int64_t area) const {
    const int64_t g = ev_->group_of(cat, img);
    if (g < 0) return py::none();
    const auto dets = ev_->group_dets(g);
    const py::ssize_t D = static_cast<py::ssize_t>(dets.size());
    py::array_t<int32_t> match({py::ssize_t(T_), D});
    py::array_t<uint8_t> dig({py::ssize_t(T_), D});
    const auto m = ev_->group_match(g, area);
    const auto di = ev_->group_dt_ignore(g, area);
    std::copy(m.begin(), m.end(), match.mutable_data());
    std::copy(di.begin(), di.end(), dig.mutable_data());
    return py::make_tuple(to_numpy(dets), to_numpy(ev_->group_gts(g)), match, dig,
                          to_numpy(ev_->group_gt_ignore(g, area)));
  }

 private:
  std::vector<py::object> keep_;  // the arrays the evaluator points into
  std::vector<py::object> gt_sets_;
  std::unique_ptr<eval::CocoEval> ev_;
  int64_t T_ = 0, R_ = 0;
  py::ssize_t n_gt_ = 0, n_dt_ = 0;
};

}  // namespace

void register_eval(py::module_& m) {
  py::class_<RleSet>(m, "RleSet")
      .def(py::init<const std::vector<std::tuple<int64_t, int64_t, py::bytes>>&>())
      .def("__len__", [](const RleSet& s) { return s.rles.size(); });
  py::class_<PyCocoEval>(m, "CocoEval")
      .def(py::init<std::vector<double>, std::vector<double>, Arr<double>, std::vector<int64_t>,
                    int64_t, int64_t, Arr<int64_t>, Arr<int64_t>, Arr<double>, Arr<double>,
                    Arr<uint8_t>, Arr<int64_t>, Arr<int64_t>, Arr<double>, Arr<double>,
                    Arr<double>>())
      .def("evaluate", &PyCocoEval::evaluate)
      .def("set_masks", &PyCocoEval::set_masks)
      .def("set_keypoints", &PyCocoEval::set_keypoints)
      .def("set_ignore", &PyCocoEval::set_ignore)
      .def("accumulate", &PyCocoEval::accumulate)
      .def("records", &PyCocoEval::records)
      .def("group", &PyCocoEval::group);
  m.def("box_results_from_list", &box_results_from_list, py::arg("results"));
  m.def("segm_results_from_list", &segm_results_from_list, py::arg("results"));
  m.def("rle_set_from_list", &rle_set_from_list, py::arg("annotations"));
  m.def("rle_columns", &rle_columns, py::arg("rles"));
  m.def("values_above", &values_above, py::arg("a"), py::arg("floor"));
  m.def("accumulate_records", &accumulate_records, py::arg("cat"), py::arg("image"), py::arg("rank"),
        py::arg("score"), py::arg("state"), py::arg("npig"), py::arg("num_cats"), py::arg("rec_thrs"),
        py::arg("max_dets"));
  m.def(
      "read_coco_json",
      [](const std::string& path, bool results) -> py::object {
        eval::CocoColumns c;
        std::string why;
        bool ok;
        {
          py::gil_scoped_release nogil;
          ok = eval::read_coco_json(path, results, c, why);
        }
        if (!ok) return py::str(why);
        py::dict d;
        d["image_ids"] = to_numpy(c.image_ids);
        d["category_ids"] = to_numpy(c.category_ids);
        d["img"] = to_numpy(c.img);
        d["cat"] = to_numpy(c.cat);
        d["id"] = to_numpy(c.id);
        py::array_t<double> box = to_numpy(c.box);
        d["box"] = box.reshape({py::ssize_t(c.img.size()), py::ssize_t(4)});
        d["area"] = to_numpy(c.area);
        d["score"] = to_numpy(c.score);
        d["crowd"] = to_numpy(c.crowd);
        d["kpts"] = to_numpy(c.kpts);
        d["kp_len"] = to_numpy(c.kp_len);
        d["num_kpts"] = to_numpy(c.num_kpts);
        d["keypoint_rule"] = py::bool_(results && c.result_rule == eval::CocoColumns::kKeypointRule);
        return d;
      },
      "Columns of a COCO JSON file, or a str saying why the fast reader declined it");
  m.def(
      "match_detections",
      [](Arr<double> iou, std::vector<double> thrs, Arr<uint8_t> crowd, Arr<uint8_t> ignore,
         bool voc) {
        if (iou.ndim() != 2) throw py::value_error("ious must have shape (D, G)");
        const py::ssize_t D = iou.shape(0), G = iou.shape(1), T = thrs.size();
        if (crowd.size() != G || ignore.size() != G)
          throw py::value_error("gt_iscrowd and gt_ignore must have G = " + std::to_string(G) + " elements");
        py::array_t<int32_t> match({T, D});
        py::array_t<uint8_t> dig({T, D});
        const double* io = iou.data();
        const uint8_t* cr = crowd.data();
        const uint8_t* ig = ignore.data();
        int32_t* mp = match.mutable_data();
        uint8_t* dp = dig.mutable_data();
        {
          py::gil_scoped_release nogil;
          if (voc) {
            eval::match_voc(io, D, G, thrs.data(), T, ig, mp, dp);
          } else {
            eval::match_coco(io, D, G, thrs.data(), T, cr, ig, mp, dp);
          }
        }
        return py::make_tuple(match, dig);
      });
  m.def(
      "keypoint_oks",
      [](Arr<double> dt, Arr<double> gt, Arr<double> gt_box, Arr<double> gt_area, std::vector<double> sigmas) {
        const py::ssize_t K = static_cast<py::ssize_t>(sigmas.size());
        if (K == 0) throw py::value_error("sigmas is empty");
        if (dt.ndim() != 2 || dt.shape(1) != 3 * K)
          throw py::value_error("dt_keypoints must have shape (D, 3 * " + std::to_string(K) + ")");
        if (gt.ndim() != 2 || gt.shape(1) != 3 * K)
          throw py::value_error("gt_keypoints must have shape (G, 3 * " + std::to_string(K) + ")");
        const py::ssize_t D = dt.shape(0), G = gt.shape(0);
        if (gt_box.size() != 4 * G) throw py::value_error("gt_boxes must have shape (G, 4)");
        if (gt_area.size() != G) throw py::value_error("gt_areas must have shape (G,)");
        py::array_t<double> out({D, G});
        const double *d = dt.data(), *g = gt.data(), *b = gt_box.data(), *a = gt_area.data();
        double* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          eval::keypoint_oks(d, D, g, G, b, a, sigmas.data(), K, o);
        }
        return out;
      },
      "OKS of every (detection, ground truth) pair: pycocotools' computeOks");
  m.def(
      "bbox_iou_xywh",
      [](Arr<double> dt, Arr<double> gt, Arr<uint8_t> crowd) {
        if (dt.size() % 4 || gt.size() % 4) throw py::value_error("boxes must have shape (N, 4)");
        const py::ssize_t D = dt.size() / 4, G = gt.size() / 4;
        if (crowd.size() != 0 && crowd.size() != G)
          throw py::value_error("iscrowd must be empty or have one flag per ground-truth box");
        py::array_t<double> out({D, G});
        const double* d = dt.data();
        const double* g = gt.data();
        const uint8_t* c = crowd.size() ? crowd.data() : nullptr;
        double* o = out.mutable_data();
        {
          py::gil_scoped_release nogil;
          eval::bbox_iou_xywh(d, D, g, G, c, o);
        }
        return out;
      });
}

}  // namespace bindings
}  // namespace cvk
