// A reusable scratch buffer for kernels that need a large temporary (a transposed copy of a
// feature map). Allocating 100 MB afresh on every call costs more in page faults than the
// kernel itself, so one block is cached per process and lent to one caller at a time (a
// concurrent caller gets a private block). The cache keeps the largest size asked for until
// release_workspace() (cvkernels._C.release_workspace) frees it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cvk {

class Scratch {
 public:
  explicit Scratch(size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
  bool cached_ = false;
};

void release_workspace();

}  // namespace cvk
