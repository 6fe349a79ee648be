// What the Vulkan micro-benchmarks (vk_mul_mv_bench, vk_ops_bench) share: the device, CPU time of this
// process, their arguments' lists, and exiting with the message on any error (a benchmark has nothing to
// recover).
#pragma once

#include "inference/common/result.h"
#include "tests/vulkan/vk_fixture.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// One submission of the recording, timed: wall seconds and this process's CPU seconds.
struct Timed {
  double wall_s, cpu_s;
};
inline Timed timed_submit(Recorder& rec) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  must(rec.submit_and_wait());
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cpu_seconds() - c0};
}

// The device the suites would choose (PENSER_VK_DEVICE overrides), without the validation layer.
struct BenchDevice {
  std::unique_ptr<Instance> instance;
  std::unique_ptr<Device> device;
};
inline BenchDevice open_bench_device() {
  must(load());
  BenchDevice b;
  b.instance = must(Instance::create({}));
  b.device = must(Device::create(*b.instance, must(choose_device(b.instance->devices(), device_override(), true))));
  return b;
}

// "a,b,,c" -> {"a", "b", "", "c"}.
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

}  // namespace vkt
