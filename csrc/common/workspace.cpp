#include "common/workspace.h"

#include <cstdlib>
#include <mutex>
#include <new>

#include "common/thread_pool.h"

namespace cvk {
namespace {

std::mutex g_mu;
void* g_block = nullptr;
size_t g_size = 0;
bool g_busy = false;

void* allocate(size_t bytes) {
  constexpr size_t kAlign = size_t(2) << 20;  // huge-page aligned
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (p == nullptr) throw std::bad_alloc();
  advise_huge_pages(p, static_cast<int64_t>(rounded));
  return p;
}

}  // namespace

Scratch::Scratch(size_t bytes) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_busy) {
    if (g_size < bytes) {
      std::free(g_block);
      g_block = nullptr;
      g_size = 0;
      g_block = allocate(bytes);
      g_size = bytes;
    }
    g_busy = true;
    cached_ = true;
    ptr_ = g_block;
    return;
  }
  ptr_ = allocate(bytes);
}

Scratch::~Scratch() {
  if (!cached_) {
    std::free(ptr_);
    return;
  }
  std::lock_guard<std::mutex> lk(g_mu);
  g_busy = false;
}

void release_workspace() {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_busy) return;
  std::free(g_block);
  g_block = nullptr;
  g_size = 0;
}

}  // namespace cvk
