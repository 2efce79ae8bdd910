// One small std::thread pool for every CPU kernel (not linked to OpenMP: torch wheels bundle
// their own libgomp, and two OpenMP runtimes in one process oversubscribe). When a libgomp is
// already loaded (torch imported), parallel regions run on its thread team instead, so torch's
// ops and ours share one set of threads (thread_pool.cpp says why; CVK_THREADS=pool opts out).
//
// parallel_for(begin, end, grain, fn) splits [begin, end) into at most num_threads chunks
// of at least `grain` items and runs fn(chunk_begin, chunk_end) on the pool, the calling
// thread taking a chunk too. It runs inline, on the caller alone, when the range is small,
// when called from inside a pool task (nesting), or when another thread is already using
// the pool: concurrent callers are therefore safe and never wait on each other's work.
#pragma once

#include <cstdint>
#include <functional>

namespace cvk {

int get_num_threads();
void set_num_threads(int n);  // clamped to [1, max_threads()]
// The most threads a parallel region may ask for: 8 per CPU, at least 64, at most 1024. A
// runtime asked for more than the system can start fails (libgomp exits the process); below
// this bound the pool keeps the threads it could start.
int max_threads();
const char* threads_backend();  // "openmp" (a loaded libgomp's team) or "pool"

// Ask the OS for transparent huge pages on a large output buffer before its first write.
// A fresh multi-MiB tensor is untouched memory: writing it costs one page fault per 4 KiB,
// which for a 64 MiB IoU matrix takes longer than computing it. With huge pages it is one
// fault per 2 MiB. Advisory only (a no-op where THP is off or on other systems).
void advise_huge_pages(void* p, int64_t bytes);

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// Runs fn(i) for every i in [0, n), items handed out one at a time to whichever thread is
// free (for uneven items such as NMS classes). Same inline rules as parallel_for.
void parallel_for_each(int64_t n, const std::function<void(int64_t)>& fn);

}  // namespace cvk
