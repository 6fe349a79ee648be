// A persistent pool of worker threads for the forward pass: parallel_for is called many times per token
// (every matrix-vector product, attention), so a call must cost microseconds, not a thread start.
// Workers spin briefly on a generation counter after each job, then sleep on it (C++20 atomic wait,
// a futex on Linux), so back-to-back calls are cheap and an idle pool uses no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
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

  // Calls fn(begin, end) on disjoint ranges covering [0, n), one contiguous range per thread (the caller
  // runs the first), and returns when all are done. Ranges are split evenly; a thread may get an empty
  // range (skipped). Not reentrant: fn must not call parallel_for on the same pool. One caller at a time.
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n == 1) {
      fn(int64_t{0}, n);
      return;
    }
    run(n, &invoke<std::remove_reference_t<Fn>>, const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Like parallel_for, but the ranges are chunks of `grain` items handed out dynamically (an atomic counter),
  // for work whose items differ in cost (attention over a growing prefix).
  template <typename Fn>
  void parallel_for_dynamic(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (n_threads_ == 1 || n <= grain) {
      fn(int64_t{0}, n);
      return;
    }
    std::atomic<int64_t> next{0};
    auto chunked = [&](int64_t, int64_t) {
      for (;;) {
        int64_t b = next.fetch_add(grain, std::memory_order_relaxed);
        if (b >= n) break;
        fn(b, b + grain < n ? b + grain : n);
      }
    };
    run(n_threads_, &invoke<decltype(chunked)>, &chunked);
  }

 private:
  using Trampoline = void (*)(void* ctx, int64_t begin, int64_t end);
  template <typename Fn>
  static void invoke(void* ctx, int64_t begin, int64_t end) {
    (*static_cast<Fn*>(ctx))(begin, end);
  }

  void run(int64_t n, Trampoline fn, void* ctx);
  void worker(int index);
  void do_part(int index);

  int n_threads_ = 1;
  std::vector<std::thread> threads_;
  // The job being run: written by the caller before the generation is bumped.
  Trampoline job_fn_ = nullptr;
  void* job_ctx_ = nullptr;
  int64_t job_n_ = 0;
  alignas(64) std::atomic<uint64_t> generation_{0};
  alignas(64) std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace penser
