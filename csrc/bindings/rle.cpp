// Bindings of COCO RLE: RLEs cross the boundary as (h, w, compressed counts bytes) tuples;
// strings are parsed and written in C++, in parallel over masks or pairs.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cmath>
#include <stdexcept>

#include "bindings/bindings.h"
#include "bindings/device.h"
#include "common/thread_pool.h"
#include "masks/rle.h"

namespace py = pybind11;

namespace cvk {
namespace bindings {

// Parses every RLE (in parallel, without the GIL); a malformed one, or a negative size, raises
// ValueError naming `label` and its index.
namespace {

// Sizes and coordinates the RLE code takes: h and w below 2^31 (h * w must not overflow), and
// polygon / box coordinates finite and within +-1e6 pixels (pycocotools casts 5x of them to a
// 32-bit int and walks every edge pixel by pixel: beyond that the walk is unbounded).
constexpr int64_t kMaxSide = (int64_t(1) << 31) - 1;
constexpr double kMaxCoordinate = 1e6;

void check_size(int64_t h, int64_t w, const std::string& what) {
  if (h < 0 || w < 0 || h > kMaxSide || w > kMaxSide)
    throw std::invalid_argument(what + ": size (" + std::to_string(h) + ", " + std::to_string(w) +
                                ") must be in [0, 2^31)");
}

void check_coordinates(const double* v, size_t n, const std::string& what) {
  for (size_t j = 0; j < n; ++j)
    if (!(std::fabs(v[j]) <= kMaxCoordinate))
      throw std::invalid_argument(what + ": coordinates must be finite and within +-1e6, got " + std::to_string(v[j]));
}

}  // namespace

RleStrings::RleStrings(size_t n) {
  hs.reserve(n);
  ws.reserve(n);
  counts.reserve(n);
  owners.reserve(n);
}

RleStrings strings_of(const std::vector<RleObj>& objs) {
  RleStrings in(objs.size());
  for (const RleObj& o : objs) {
    PyObject* b = std::get<2>(o).ptr();
    in.hs.push_back(std::get<0>(o));
    in.ws.push_back(std::get<1>(o));
    in.counts.emplace_back(PyBytes_AS_STRING(b), static_cast<size_t>(PyBytes_GET_SIZE(b)));
  }
  return in;
}

std::vector<rle::Rle> parse_rles(const std::vector<RleObj>& objs, const char* label) {
  return parse_rle_strings(strings_of(objs), label);
}

std::vector<rle::Rle> parse_rle_strings(const RleStrings& in, const char* label, double* area, double* box) {
  const int64_t n = static_cast<int64_t>(in.size());
  for (int64_t i = 0; i < n; ++i) check_size(in.hs[i], in.ws[i], std::string(label) + " " + std::to_string(i));
  std::vector<rle::Rle> out(n);
  std::vector<std::string> why(n);
  std::vector<uint8_t> ok(n, 1);
  {
    py::gil_scoped_release nogil;
    parallel_for(0, n, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        ok[i] = rle::from_string(in.counts[i].data(), in.counts[i].size(), in.hs[i], in.ws[i], out[i], why[i]);
        if (ok[i] && area != nullptr) area[i] = static_cast<double>(static_cast<uint32_t>(rle::area(out[i])));  // pycocotools' uint32
        if (ok[i] && box != nullptr) rle::to_bbox(out[i], box + 4 * i);
      }
    });
  }
  for (int64_t i = 0; i < n; ++i)
    if (!ok[i]) throw std::invalid_argument(std::string(label) + " " + std::to_string(i) + ": malformed RLE: " + why[i]);
  return out;
}

bool RleStrings::add_dict(PyObject* segm) {
  if (segm == nullptr || !PyDict_CheckExact(segm)) return false;
  static const py::str k_size = interned_key("size"), k_counts = interned_key("counts");  // hashed once
  PyObject* size = PyDict_GetItemWithError(segm, k_size.ptr());
  PyObject* c = PyDict_GetItemWithError(segm, k_counts.ptr());
  if (size == nullptr || c == nullptr) return false;
  if (!(PyList_CheckExact(size) || PyTuple_CheckExact(size)) || PySequence_Fast_GET_SIZE(size) != 2) return false;
  int64_t hw[2];
  for (int k = 0; k < 2; ++k) {
    PyObject* v = PySequence_Fast_GET_ITEM(size, k);
    if (!PyLong_CheckExact(v)) return false;
    int overflow = 0;
    hw[k] = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || hw[k] < 0 || hw[k] > kMaxSide) return false;
  }
  std::string_view view;
  if (PyBytes_CheckExact(c)) {
    view = std::string_view(PyBytes_AS_STRING(c), static_cast<size_t>(PyBytes_GET_SIZE(c)));
  } else {
    if (!PyUnicode_CheckExact(c) || !PyUnicode_IS_ASCII(c)) return false;
    Py_ssize_t len = 0;
    const char* text = PyUnicode_AsUTF8AndSize(c, &len);  // an ASCII str's own characters
    if (text == nullptr) return false;
    view = std::string_view(text, static_cast<size_t>(len));
  }
  hs.push_back(hw[0]);
  ws.push_back(hw[1]);
  counts.push_back(view);
  owners.push_back(py::reinterpret_borrow<py::object>(c));
  return true;
}

namespace {

using Obj = RleObj;

std::vector<Obj> to_objs(const std::vector<rle::Rle>& rs) {
  const int64_t n = static_cast<int64_t>(rs.size());
  std::vector<std::string> strs(n);
  {
    py::gil_scoped_release nogil;
    parallel_for(0, n, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) strs[i] = rle::to_string(rs[i]);
    });
  }
  std::vector<Obj> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.emplace_back(rs[i].h, rs[i].w, py::bytes(strs[i]));
  return out;
}

}  // namespace

void register_rle(py::module_& m) {
  // masks: (n, w, h) uint8, C-contiguous: the memory of pycocotools' Fortran-order (h, w, n).
  m.def("rle_encode", [](py::handle masks_) {
    Buffer mb = take_on(masks_, "masks", kCPU);
    mb.dtype(Elem::U8).rank(3);
    const int64_t n = mb.size(0), w = mb.size(1), h = mb.size(2);
    const uint8_t* masks = mb.cp<uint8_t>();
    std::vector<rle::Rle> rs;
    {
      py::gil_scoped_release nogil;
      rs.resize(n);
      parallel_for(0, n, 4, [&](int64_t i0, int64_t i1) {
        auto part = rle::encode(masks + i0 * h * w, h, w, i1 - i0);
        for (int64_t i = i0; i < i1; ++i) rs[i] = std::move(part[i - i0]);
      });
    }
    return to_objs(rs);
  });
  // out: (n, w, h) uint8 (see rle_encode), n = len(objs), every RLE of size (h, w).
  m.def("rle_decode", [](const std::vector<Obj>& objs, py::handle out_) {
    Buffer ob = take_on(out_, "out", kCPU);
    const std::vector<rle::Rle> rs = parse_rles(objs, "mask");
    ob.dtype(Elem::U8).writable().rank(3).dim(0, static_cast<int64_t>(rs.size()));
    for (const rle::Rle& r : rs)
      if (r.h != ob.size(2) || r.w != ob.size(1))
        throw py::value_error("every RLE must have the size (h, w) of out " + ob.shape_str() + " read as (n, w, h)");
    uint8_t* out = ob.mp<uint8_t>();
    py::gil_scoped_release nogil;
    std::vector<int64_t> off(rs.size() + 1, 0);
    for (size_t i = 0; i < rs.size(); ++i) off[i + 1] = off[i] + rs[i].h * rs[i].w;
    parallel_for(0, static_cast<int64_t>(rs.size()), 4, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        rle::decode({rs[i]}, out + off[i]);
    });
  });
  m.def("rle_area", [](const std::vector<Obj>& objs) {
    const std::vector<rle::Rle> rs = parse_rles(objs, "mask");
    py::array_t<uint32_t> a(static_cast<py::ssize_t>(rs.size()));
    for (size_t i = 0; i < rs.size(); ++i) a.mutable_data()[i] = static_cast<uint32_t>(rle::area(rs[i]));
    return a;
  });
  m.def("rle_to_bbox", [](const std::vector<Obj>& objs) {
    const std::vector<rle::Rle> rs = parse_rles(objs, "mask");
    py::array_t<double> bb({static_cast<py::ssize_t>(rs.size()), py::ssize_t(4)});
    for (size_t i = 0; i < rs.size(); ++i) rle::to_bbox(rs[i], bb.mutable_data() + 4 * i);
    return bb;
  });
  m.def("rle_merge", [](const std::vector<Obj>& objs, bool intersect) {
    const std::vector<rle::Rle> rs = parse_rles(objs, "mask");
    std::vector<const rle::Rle*> ptrs;
    for (const auto& r : rs) ptrs.push_back(&r);
    return to_objs({rle::merge(ptrs, intersect)})[0];
  });
  m.def("rle_iou", [](const std::vector<Obj>& dt, const std::vector<Obj>& gt, std::vector<uint8_t> crowd) {
    const std::vector<rle::Rle> d = parse_rles(dt, "dt"), g = parse_rles(gt, "gt");
    if (!crowd.empty() && crowd.size() != g.size())
      throw std::invalid_argument("iscrowd must have one entry per ground-truth RLE");
    py::array_t<double> out({static_cast<py::ssize_t>(d.size()), static_cast<py::ssize_t>(g.size())});
    double* o = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      const int64_t D = static_cast<int64_t>(d.size());
      parallel_for(0, D, 8, [&](int64_t i0, int64_t i1) {
        std::vector<rle::Rle> part(d.begin() + i0, d.begin() + i1);
        rle::iou(part, g, crowd.empty() ? nullptr : crowd.data(), o + i0 * g.size());
      });
    }
    return out;
  });
  m.def("rle_from_polygons", [](const std::vector<std::vector<double>>& polys, int64_t h, int64_t w) {
    check_size(h, w, "polygons");
    std::vector<rle::Rle> rs;
    for (size_t i = 0; i < polys.size(); ++i) {
      const auto& p = polys[i];
      if (p.size() < 6 || p.size() % 2)
        throw std::invalid_argument("polygon " + std::to_string(i) +
                                    " needs at least 3 points (x, y pairs), got " + std::to_string(p.size()) +
                                    " numbers");
      check_coordinates(p.data(), p.size(), "polygon " + std::to_string(i));
      rs.push_back(rle::from_polygon(p.data(), static_cast<int64_t>(p.size() / 2), h, w));
    }
    return to_objs(rs);
  });
  m.def("rle_from_bboxes", [](py::array_t<double, py::array::c_style | py::array::forcecast> bb, int64_t h, int64_t w) {
    check_size(h, w, "boxes");
    if (bb.ndim() != 2 || bb.shape(1) != 4) throw std::invalid_argument("boxes must have shape (N, 4) as [x, y, w, h]");
    check_coordinates(bb.data(), static_cast<size_t>(bb.size()), "boxes");
    std::vector<rle::Rle> rs;
    for (py::ssize_t i = 0; i < bb.shape(0); ++i) rs.push_back(rle::from_bbox(bb.data() + 4 * i, h, w));
    return to_objs(rs);
  });
  m.def("rle_from_counts", [](const std::vector<std::vector<int64_t>>& counts, int64_t h, int64_t w) {
    check_size(h, w, "uncompressed RLE");
    std::vector<rle::Rle> rs;
    for (size_t i = 0; i < counts.size(); ++i) {
      rle::Rle r;
      r.h = h;
      r.w = w;
      int64_t total = 0;
      for (int64_t c : counts[i]) {
        if (c < 0 || c > 0xffffffffLL)
          throw std::invalid_argument("uncompressed RLE " + std::to_string(i) + ": a count out of range");
        r.cnts.push_back(static_cast<uint32_t>(c));
        total += c;
      }
      if (total != h * w)
        throw std::invalid_argument("uncompressed RLE " + std::to_string(i) + ": counts add up to " +
                                    std::to_string(total) + ", not h*w = " + std::to_string(h * w));
      rs.push_back(std::move(r));
    }
    return to_objs(rs);
  });
}

}  // namespace bindings
}  // namespace cvk
