// A persistent pool of worker threads for the forward pass: parallel_for is called many times per token
// (every matrix-vector product, attention), so a call must cost microseconds, not a thread start.
//
// Work is handed out in chunks from an atomic counter, and the calling thread takes chunks too. A worker
// joins a job only while it is open: when the caller runs out of chunks it closes the job and waits only for
// the workers that joined. So a worker that the OS has not scheduled (a busy machine, more threads than
// cores) never stalls the caller; the caller does its share. Idle workers spin briefly on a generation
// counter, then yield, then sleep on a condition variable, so back-to-back jobs are cheap and an idle pool
// uses no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace penser {

class ThreadPool {
 public:
  // n_threads counts the calling thread: a pool of 1 runs everything inline on the caller.
  // 0 = one per hardware thread.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Calls fn(begin, end) on disjoint non-empty ranges covering [0, n) exactly once, from the calling thread
  // and the workers, and returns when all are done. Ranges are chunks of about n / (4 * n_threads) items;
  // one thread may run several. Not reentrant (fn must not use the same pool); one caller at a time.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    const int64_t grain = n / (int64_t(n_threads_) * 4);
    parallel_for_dynamic(n, grain < 1 ? 1 : grain, std::forward<Fn>(fn));
  }

  // The same with chunks of `grain` items (the last one shorter).
  template <typename Fn>
  void parallel_for_dynamic(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (n_threads_ == 1 || n <= grain) {
      fn(int64_t{0}, n);
      return;
    }
    run(n, grain, &invoke<std::remove_reference_t<Fn>>, const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  using Trampoline = void (*)(void* ctx, int64_t begin, int64_t end);
  template <typename Fn>
  static void invoke(void* ctx, int64_t begin, int64_t end) {
    (*static_cast<Fn*>(ctx))(begin, end);
  }

  void run(int64_t n, int64_t grain, Trampoline fn, void* ctx);
  void take_chunks();
  void publish();
  void wait_for_job(uint32_t seen);
  void worker(uint32_t seen);

  static constexpr uint32_t kClosed = 1u << 31;  // in state_: no more workers may join

  int n_threads_ = 1;
  std::vector<std::thread> threads_;
  // The job being run: written by the caller before state_ is opened and the generation bumped.
  Trampoline job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_grain_ = 1;
  alignas(64) std::atomic<int64_t> next_{0};       // first item not yet handed out
  alignas(64) std::atomic<uint32_t> state_{kClosed};  // kClosed bit | number of workers inside the job
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<bool> stop_{false};
  // Sleeping workers (after spinning) wait here for the next generation.
  std::atomic<int> sleepers_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace penser
