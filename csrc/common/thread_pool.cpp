#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <system_error>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace cvk {
namespace {

// A fixed set of workers that sleep on a condition variable. A job is a function of a chunk
// index; participants (workers and the caller) claim chunk indices from an atomic counter.
class Pool {
 public:
  // Starts up to `workers` threads: when the system refuses one (a thread or memory limit),
  // the pool keeps those it has (a partly built pool must not be abandoned: its workers wait
  // on its condition variables).
  explicit Pool(int workers) : requested_(workers) {
    for (int i = 0; i < workers; ++i) {
      try {
        threads_.emplace_back([this] { worker_loop(); });
      } catch (const std::system_error&) {
        break;
      }
    }
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }
  int requested() const { return requested_; }

  // Runs job(c) for c in [0, chunks); returns when all are done. Rethrows the first error.
  void run(int64_t chunks, const std::function<void(int64_t)>& job) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      job_ = &job;
      chunks_ = chunks;
      next_.store(0);
      pending_ = chunks;
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    work();
    std::unique_lock<std::mutex> lk(mu_);
    // Wait for every chunk and for every worker to leave work(): a worker still inside it
    // could otherwise claim a chunk index of the next job while holding this one.
    done_cv_.wait(lk, [this] { return pending_ == 0 && active_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    for (;;) {
      int64_t c = next_.fetch_add(1);
      if (c >= chunks_) return;
      try {
        (*job_)(c);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
  void worker_loop();
  int requested_ = 0;
  int active_ = 0;  // workers inside work() for the current job

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t chunks_ = 0;
  std::atomic<int64_t> next_{0};
  int64_t pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

thread_local bool tl_in_pool = false;

void Pool::worker_loop() {
  tl_in_pool = true;
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
      if (stop_) return;
      seen = generation_;
      ++active_;
    }
    work();
    std::lock_guard<std::mutex> lk(mu_);
    if (--active_ == 0 && pending_ == 0) done_cv_.notify_one();
  }
}

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::atomic<int> g_num_threads{default_threads()};
std::mutex g_pool_mu;  // held by the one caller that owns the pool for a parallel_for
std::unique_ptr<Pool> g_pool;
pid_t g_pool_pid = 0;

}  // namespace

void advise_huge_pages(void* p, int64_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  if (bytes < int64_t(8) << 20) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + uintptr_t(bytes)) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

int get_num_threads() { return g_num_threads.load(); }

int max_threads() {
  return std::min(1024, std::max(64, 8 * default_threads()));
}

void set_num_threads(int n) { g_num_threads.store(std::min(max_threads(), std::max(1, n))); }

// When the process already runs GNU OpenMP (torch's CPU ops do: its wheels load libgomp.so.1),
// a parallel region runs on that runtime's thread team instead of on our pool. Two pools on
// the same cores fight: after each torch op its OpenMP workers spin for a while waiting for
// the next one, and our workers would share their cores with them. On the same team the
// spinning workers simply take our chunks. libgomp is looked up, never linked: without it
// (no torch, or a torch whose libgomp has another name) the pool runs. CVK_THREADS=pool turns
// this off. The entry point used is GOMP_parallel, libgomp's stable ABI since GCC 4.9.
using GompParallel = void (*)(void (*)(void*), void*, unsigned, unsigned);

const pid_t g_load_pid = getpid();

GompParallel find_gomp() {
  static const bool off = [] {
    const char* v = std::getenv("CVK_THREADS");
    return v != nullptr && std::strcmp(v, "pool") == 0;
  }();
  static std::atomic<GompParallel> found{nullptr};
  // GNU OpenMP is not fork-safe: in a child forked after the parent ran an OpenMP team (ours
  // or torch's), a new team waits forever. A forked child (pid changed since we were loaded)
  // therefore uses the pool.
  if (off || getpid() != g_load_pid) return nullptr;
  if (GompParallel f = found.load()) return f;
  void* h = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);  // only if already loaded
  if (h == nullptr) return nullptr;
  GompParallel f = reinterpret_cast<GompParallel>(dlsym(h, "GOMP_parallel"));
  found.store(f);
  return f;
}

struct GompJob {
  const std::function<void(int64_t)>* job;
  int64_t chunks;
  std::atomic<int64_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
};

// Run by every thread of the OpenMP team: claims chunks as the pool's workers do. No exception
// may leave it (it would cross the OpenMP runtime): the first is kept and rethrown after.
void gomp_member(void* data) {
  GompJob& g = *static_cast<GompJob*>(data);
  const bool outer = tl_in_pool;
  tl_in_pool = true;  // nested parallel_for calls from a chunk run inline
  for (;;) {
    const int64_t c = g.next.fetch_add(1);
    if (c >= g.chunks) break;
    try {
      (*g.job)(c);
    } catch (...) {
      std::lock_guard<std::mutex> lk(g.mu);
      if (!g.error) g.error = std::current_exception();
    }
  }
  tl_in_pool = outer;
}

// Runs job(c) for c in [0, chunks) on the pool (or the process's OpenMP team), or inline
// (returns false without running anything) when the pool is busy, we are inside a pool task,
// or one thread is configured.
bool run_on_pool(int64_t chunks, const std::function<void(int64_t)>& job) {
  if (chunks <= 1 || tl_in_pool || get_num_threads() <= 1) return false;
  if (GompParallel gomp_parallel = find_gomp()) {
    GompJob g;
    g.job = &job;
    g.chunks = chunks;
    const unsigned team = static_cast<unsigned>(std::min<int64_t>(chunks, get_num_threads()));
    gomp_parallel(gomp_member, &g, team, 0);
    if (g.error) std::rethrow_exception(g.error);
    return true;
  }
  std::unique_lock<std::mutex> owner(g_pool_mu, std::try_to_lock);
  if (!owner.owns_lock()) return false;  // another thread is using the pool
  if (g_pool_pid != getpid()) {
    // A forked child inherits the pool object but not its threads: abandon it (never join
    // threads that do not exist in this process) and start afresh.
    (void)g_pool.release();
    g_pool_pid = getpid();
  }
  if (!g_pool || g_pool->requested() != get_num_threads() - 1) {
    g_pool.reset();
    g_pool = std::make_unique<Pool>(get_num_threads() - 1);
  }
  struct InPool {  // the caller runs chunks too; nested calls from it must run inline
    InPool() { tl_in_pool = true; }
    ~InPool() { tl_in_pool = false; }
  } mark;
  g_pool->run(chunks, job);
  return true;
}

const char* threads_backend() { return find_gomp() != nullptr ? "openmp" : "pool"; }

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  const int64_t n = end - begin;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>(get_num_threads(), (n + grain - 1) / grain);
  const int64_t step = (n + chunks - 1) / chunks;
  const bool pooled = run_on_pool(chunks, [&](int64_t c) {
    int64_t b = begin + c * step;
    int64_t e = std::min(end, b + step);
    if (b < e) fn(b, e);
  });
  if (!pooled) fn(begin, end);
}

void parallel_for_each(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  if (!run_on_pool(n, fn)) {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

}  // namespace cvk
