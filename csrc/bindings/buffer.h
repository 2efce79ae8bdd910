// Typed buffers across the binding: every array argument of a kernel entry arrives as a
// Python object that C++ inspects itself, never as an integer address.
//
//   * a numpy ndarray (the numpy path): read through pybind11's array API;
//   * a DLPack capsule (the torch path, any device: torch.utils.dlpack.to_dlpack(t)), legacy
//     "dltensor" or versioned "dltensor_versioned". The capsule is only borrowed: its owner
//     keeps the memory alive for the call and frees it when the capsule is collected.
//
// take() turns either into a Buffer (pointer, dtype, shape, device, read-only flag) and
// checks that it is C-contiguous; the entry then states what it expects with the checks
// below (dtype, rank, sizes, device, writability), each raising TypeError or ValueError that
// names the argument. So a wrong call of cvkernels._C reaches Python as an exception, never
// as an out-of-bounds read.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "common/cvk.h"

namespace cvk {
namespace bindings {

namespace py = pybind11;

// Element types a kernel can be handed. F32/F64 are also the `dtype` codes of the kernels.
enum class Elem : int { F32 = 0, F64 = 1, I64, I32, U8, Bool, Other };
static_assert(static_cast<int>(Elem::F32) == static_cast<int>(DType::Float32) &&
                  static_cast<int>(Elem::F64) == static_cast<int>(DType::Float64),
              "Buffer::floating() returns the kernels' dtype codes");

inline const char* elem_name(Elem e) {
  switch (e) {
    case Elem::F32: return "float32";
    case Elem::F64: return "float64";
    case Elem::I64: return "int64";
    case Elem::I32: return "int32";
    case Elem::U8: return "uint8";
    case Elem::Bool: return "bool";
    default: return "an unsupported dtype";
  }
}

// Device kinds, as DLPack numbers them.
constexpr int kCPU = 1;
constexpr int kCUDA = 2;

// --- The DLPack ABI (dlpack.h, v0.8 legacy and v1.x versioned) -------------------------------
namespace dl {
struct Device { int32_t device_type; int32_t device_id; };
struct DataType { uint8_t code; uint8_t bits; uint16_t lanes; };
struct Tensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct Managed { Tensor dl_tensor; void* manager_ctx; void (*deleter)(Managed*); };
struct Version { uint32_t major; uint32_t minor; };
struct ManagedVersioned {
  Version version;
  void* manager_ctx;
  void (*deleter)(ManagedVersioned*);
  uint64_t flags;
  Tensor dl_tensor;
};
constexpr uint64_t kReadOnly = 1;
enum : uint8_t { kInt = 0, kUInt = 1, kFloat = 2, kBool = 6 };
}  // namespace dl

struct Buffer {
  const char* name = "";
  void* data = nullptr;
  Elem elem = Elem::Other;
  std::vector<int64_t> shape;
  int device_type = kCPU;
  int device_id = 0;
  bool readonly = false;

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t size(int64_t i) const { return shape[static_cast<size_t>(i < 0 ? i + ndim() : i)]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::string shape_str() const {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
  }

  // --- checks: each returns *this so that they chain -----------------------------------------
  Buffer& dtype(Elem e) {
    if (elem != e)
      throw py::type_error(std::string(name) + " must be " + elem_name(e) + ", got " + elem_name(elem));
    return *this;
  }
  // float32 or float64; returns the kernels' dtype code.
  int floating() const {
    if (elem != Elem::F32 && elem != Elem::F64)
      throw py::type_error(std::string(name) + " must be float32 or float64, got " + elem_name(elem));
    return static_cast<int>(elem);
  }
  Buffer& like(const Buffer& other) {  // same element type as `other`
    if (elem != other.elem)
      throw py::type_error(std::string(name) + " must have the dtype of " + other.name + " (" +
                           elem_name(other.elem) + "), got " + elem_name(elem));
    return *this;
  }
  Buffer& rank(int64_t r) {
    if (ndim() != r)
      throw py::value_error(std::string(name) + " must have " + std::to_string(r) +
                            " dimensions, got shape " + shape_str());
    return *this;
  }
  Buffer& rank_in(int64_t lo, int64_t hi) {
    if (ndim() < lo || ndim() > hi)
      throw py::value_error(std::string(name) + " must have " + std::to_string(lo) + " to " +
                            std::to_string(hi) + " dimensions, got shape " + shape_str());
    return *this;
  }
  Buffer& dim(int64_t i, int64_t v) {
    if (ndim() <= (i < 0 ? -i - 1 : i) || size(i) != v)
      throw py::value_error(std::string(name) + " must have size " + std::to_string(v) +
                            " in dimension " + std::to_string(i) + ", got shape " + shape_str());
    return *this;
  }
  Buffer& is_shape(std::initializer_list<int64_t> want) { return is_shape(std::vector<int64_t>(want)); }
  Buffer& is_shape(const std::vector<int64_t>& want) {
    if (shape != want) {
      Buffer w;
      w.shape = want;
      throw py::value_error(std::string(name) + " must have shape " + w.shape_str() + ", got " + shape_str());
    }
    return *this;
  }
  Buffer& at_least(int64_t n) {  // at least n elements
    if (numel() < n)
      throw py::value_error(std::string(name) + " must hold at least " + std::to_string(n) +
                            " elements, got shape " + shape_str());
    return *this;
  }
  Buffer& writable() {
    if (readonly) throw py::value_error(std::string(name) + " is an output and must be writable");
    return *this;
  }
  Buffer& on(const Buffer& other) {  // same device as `other`
    if (device_type != other.device_type || device_id != other.device_id)
      throw py::value_error(std::string(name) + " must be on the device of " + other.name);
    return *this;
  }

  template <class T> const T* cp() const { return static_cast<const T*>(data); }
  template <class T> T* mp() const { return static_cast<T*>(data); }
};

namespace detail {

inline Elem elem_of_dl(dl::DataType t) {
  if (t.lanes != 1) return Elem::Other;
  if (t.code == dl::kFloat && t.bits == 32) return Elem::F32;
  if (t.code == dl::kFloat && t.bits == 64) return Elem::F64;
  if (t.code == dl::kInt && t.bits == 64) return Elem::I64;
  if (t.code == dl::kInt && t.bits == 32) return Elem::I32;
  if (t.code == dl::kUInt && t.bits == 8) return Elem::U8;
  if (t.code == dl::kBool && t.bits == 8) return Elem::Bool;
  return Elem::Other;
}

inline Elem elem_of_np(const py::dtype& d) {
  const char k = d.kind();
  const auto n = d.itemsize();
  if (k == 'f' && n == 4) return Elem::F32;
  if (k == 'f' && n == 8) return Elem::F64;
  if (k == 'i' && n == 8) return Elem::I64;
  if (k == 'i' && n == 4) return Elem::I32;
  if (k == 'u' && n == 1) return Elem::U8;
  if (k == 'b') return Elem::Bool;
  return Elem::Other;
}

// C-contiguous: each stride (in elements) is the product of the later sizes; dims of size 1
// may carry any stride, and an empty array is contiguous.
inline bool compact(const std::vector<int64_t>& shape, const int64_t* strides, int64_t unit) {
  if (!strides) return true;
  for (int64_t d : shape)
    if (d == 0) return true;
  int64_t expect = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expect * unit) return false;
    expect *= shape[i];
  }
  return true;
}

inline void from_dl(Buffer& b, const dl::Tensor& t) {
  b.data = static_cast<char*>(t.data) + t.byte_offset;
  b.elem = elem_of_dl(t.dtype);
  b.shape.assign(t.shape, t.shape + t.ndim);
  b.device_type = t.device.device_type;
  b.device_id = t.device.device_id;
  if (!compact(b.shape, t.strides, 1))
    throw py::value_error(std::string(b.name) + " must be contiguous");
}

}  // namespace detail

inline int64_t elem_size(Elem e) {
  switch (e) {
    case Elem::F64: case Elem::I64: return 8;
    case Elem::F32: case Elem::I32: return 4;
    default: return 1;
  }
}

// Kernels load whole elements: a buffer at an address that is not a multiple of its element
// size (np.frombuffer(..., offset=1)) is refused rather than read misaligned.
inline Buffer& aligned(Buffer& b) {
  if (reinterpret_cast<uintptr_t>(b.data) % static_cast<uintptr_t>(elem_size(b.elem)) != 0)
    throw py::value_error(std::string(b.name) + " must be aligned to its element size");
  return b;
}

// The view of one array argument (see the top of this file). `name` is the argument's name in
// error messages; the Buffer keeps the pointer, so it must outlive the call it is made for.
inline Buffer take(py::handle obj, const char* name) {
  Buffer b;
  b.name = name;
  if (py::isinstance<py::array>(obj)) {
    auto a = py::reinterpret_borrow<py::array>(obj);
    b.data = const_cast<void*>(a.data());
    b.elem = detail::elem_of_np(a.dtype());
    b.shape.assign(a.shape(), a.shape() + a.ndim());
    b.readonly = !a.writeable();
    const int64_t item = static_cast<int64_t>(a.itemsize());
    std::vector<int64_t> strides(a.strides(), a.strides() + a.ndim());
    bool ok = detail::compact(b.shape, strides.data(), item);
    if (!ok || a.dtype().byteorder() == '>') throw py::value_error(std::string(name) + " must be a contiguous native-endian array");
    return aligned(b);
  }
  if (PyCapsule_CheckExact(obj.ptr())) {
    const char* cap_name = PyCapsule_GetName(obj.ptr());
    if (cap_name && std::string(cap_name) == "dltensor") {
      auto* m = static_cast<dl::Managed*>(PyCapsule_GetPointer(obj.ptr(), "dltensor"));
      if (m) {
        detail::from_dl(b, m->dl_tensor);
        return aligned(b);
      }
    } else if (cap_name && std::string(cap_name) == "dltensor_versioned") {
      auto* m = static_cast<dl::ManagedVersioned*>(PyCapsule_GetPointer(obj.ptr(), "dltensor_versioned"));
      if (m) {
        if (m->version.major != 1) throw py::value_error(std::string(name) + ": unsupported DLPack version");
        detail::from_dl(b, m->dl_tensor);
        b.readonly = (m->flags & dl::kReadOnly) != 0;
        return aligned(b);
      }
    }
    PyErr_Clear();
    throw py::type_error(std::string(name) + " must be an unused DLPack capsule");
  }
  throw py::type_error(std::string(name) + " must be a numpy array or a DLPack capsule, got " +
                       std::string(py::str(py::type::of(obj).attr("__name__"))));
}

// The device kind an extension module's kernels run on: _C takes CPU buffers only, _C_cuda
// CUDA buffers only.
inline Buffer take_on(py::handle obj, const char* name, int device_type) {
  Buffer b = take(obj, name);
  if (b.device_type != device_type)
    throw py::value_error(std::string(name) + (device_type == kCPU ? " must be on the CPU" : " must be on a CUDA device"));
  return b;
}

// An optional buffer: None gives an empty Buffer with data == nullptr.
inline Buffer take_opt(py::handle obj, const char* name, int device_type) {
  if (obj.is_none()) {
    Buffer b;
    b.name = name;
    b.device_type = -1;
    return b;
  }
  return take_on(obj, name, device_type);
}

}  // namespace bindings
}  // namespace cvk
