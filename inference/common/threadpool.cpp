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
// How long a thread polls before sleeping. A decode step issues a few hundred jobs of ~10-100 us each, so
// the gap between two jobs is usually far below this. Past kSpinIterations the thread yields its core (with
// more threads than cores a spinning thread would keep the one it waits for from running), and past
// kYieldIterations it sleeps.
constexpr int kSpinIterations = 1 << 11;
constexpr int kYieldIterations = kSpinIterations + 64;

// Spins, then yields, until `a` no longer holds `old`; false when it still does after that (time to sleep).
template <typename T>
bool spin_while_equal(const std::atomic<T>& a, T old) {
  for (int spins = 0; spins < kYieldIterations; ++spins) {
    if (a.load(std::memory_order_acquire) != old) return true;
    if (spins < kSpinIterations)
      PENSER_CPU_RELAX();
    else
      std::this_thread::yield();
  }
  return a.load(std::memory_order_acquire) != old;
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  if (n_threads <= 0) n_threads = 1;
  n_threads_ = n_threads;
  threads_.reserve(size_t(n_threads_ - 1));
  // A worker starts from the generation at construction, not the one it finds when it gets to run: jobs
  // need no worker, so the pool may have run many (or be shutting down) before a thread first runs.
  const uint32_t g0 = generation_.load(std::memory_order_relaxed);
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, g0] { worker(g0); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_relaxed);
  publish();
  for (auto& t : threads_) t.join();
}

void ThreadPool::take_chunks() {
  for (;;) {
    const int64_t b = next_.fetch_add(job_grain_, std::memory_order_relaxed);
    if (b >= job_n_) return;
    job_fn_(job_ctx_, b, b + job_grain_ < job_n_ ? b + job_grain_ : job_n_);
  }
}

void ThreadPool::run(int64_t n, int64_t grain, Trampoline fn, void* ctx) {
  PENSER_ASSERT(state_.load(std::memory_order_relaxed) == kClosed);
  job_fn_ = fn;
  job_ctx_ = ctx;
  job_n_ = n;
  job_grain_ = grain;
  next_.store(0, std::memory_order_relaxed);
  state_.store(0, std::memory_order_release);  // open: workers may join and read the job
  publish();
  take_chunks();
  // Close the job, then wait for the workers that joined it to finish their chunks.
  // The wait is for chunks already running, so it is short: spin, and yield while a worker is descheduled.
  uint32_t s = state_.fetch_or(kClosed, std::memory_order_acq_rel) | kClosed;
  while (s != kClosed) {
    spin_while_equal(state_, s);
    s = state_.load(std::memory_order_acquire);
  }
}

// Bumps the generation and wakes the sleeping workers. (std::atomic::wait is not used: libstdc++ 12's
// can lose a wake-up, GCC bug 104928.) sleepers_ and generation_ are sequentially consistent: either this
// sees a sleeper's count and takes the mutex it sleeps under, or the sleeper sees the new generation.
void ThreadPool::publish() {
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
}

void ThreadPool::wait_for_job(uint32_t seen) {
  if (spin_while_equal(generation_, seen)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  wake_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
}

void ThreadPool::worker(uint32_t seen) {
  for (;;) {
    wait_for_job(seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_relaxed)) return;
    // Join the current job if it is still open. A worker that wakes late may find a newer job open: it
    // joins that one, which is as good (the chunks are handed out by the counter, never twice).
    uint32_t s = state_.load(std::memory_order_acquire);
    while (!(s & kClosed)) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        take_chunks();
        state_.fetch_sub(1, std::memory_order_acq_rel);
        break;
      }
    }
  }
}

}  // namespace penser
