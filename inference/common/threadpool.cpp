#include "inference/common/threadpool.h"

#include "inference/common/result.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define PENSER_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define PENSER_CPU_RELAX() asm volatile("yield")
#else
#define PENSER_CPU_RELAX() ((void)0)
#endif

namespace penser {

namespace {
// How long a thread polls before sleeping. A decode step issues a few hundred jobs of ~10-100 us each,
// so the gap between two jobs is usually far below this; an idle pool goes to sleep after it.
// Past kSpinIterations the thread yields its core (when there are more threads than cores, a spinning
// thread would otherwise keep the one it waits for from running), and past kYieldIterations it sleeps.
constexpr int kSpinIterations = 1 << 11;
constexpr int kYieldIterations = kSpinIterations + 64;
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  n_threads_ = n_threads;
  threads_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::do_part(int index) {
  const int64_t begin = job_n_ * index / n_threads_;
  const int64_t end = job_n_ * (index + 1) / n_threads_;
  if (begin < end) job_fn_(job_ctx_, begin, end);
}

void ThreadPool::run(int64_t n, Trampoline fn, void* ctx) {
  PENSER_ASSERT(pending_.load(std::memory_order_relaxed) == 0);
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);  // publishes the job
  generation_.notify_all();
  do_part(0);
  // Wait for the workers: spin first (they usually finish within microseconds of us), then sleep.
  int spins = 0;
  for (;;) {
    int left = pending_.load(std::memory_order_acquire);
    if (left == 0) break;
    if (++spins < kSpinIterations) {
      PENSER_CPU_RELAX();
    } else if (spins < kYieldIterations) {
      std::this_thread::yield();
    } else {
      pending_.wait(left, std::memory_order_acquire);
    }
  }
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    uint64_t g;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        PENSER_CPU_RELAX();
      } else if (spins < kYieldIterations) {
        std::this_thread::yield();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_relaxed)) return;
    do_part(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace penser
