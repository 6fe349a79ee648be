// What the Vulkan micro-benchmarks (vk_mul_mv_bench, vk_ops_bench) share: CPU time of this process, and
// exiting with the message on any error (a benchmark has nothing to recover).
#pragma once

#include "inference/common/result.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace vkt {

// User + system seconds of this process. On lavapipe the driver's threads are ours, so rates per CPU-second
// are less sensitive than wall time to other processes on a loaded machine.
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

template <typename T>
T must(penser::Result<T> r) {
  if (!r) { std::fprintf(stderr, "%s\n", r.error().message.c_str()); std::exit(1); }
  return std::move(*r);
}
inline void must(penser::Status s) {
  if (!s) { std::fprintf(stderr, "%s\n", s.error().message.c_str()); std::exit(1); }
}

}  // namespace vkt
