// The memory-bandwidth probe (`penser-cli devices --bandwidth`, `bench --memory-bandwidth` on Vulkan): what
// the fastest plain read of a buffer larger than the caches reaches on a device, the limit that decode speed
// (which reads every weight once per token) is measured against. Several patterns are timed and reported.
#pragma once

#include <string>
#include <vector>

#include "inference/vulkan/device.h"

namespace penser::vulkan {

struct ProbeOptions {
  uint64_t bytes = 0;              // buffer size; 0: 256 MiB on CPU implementations, up to 1 GiB on GPUs
  uint64_t max_binding_bytes = 0;  // 0: maxStorageBufferRange; tests set it small so the buffer is split
  int repeats = 3;                 // timed runs per pattern after a warm-up; the best counts
  bool copy = true;                // also time vkCmdCopyBuffer
  bool matvec = true;              // also time the f16 matrix-vector product (Ops::mul_mv)
};

struct BandwidthPattern {
  std::string name;        // "read uvec4 x 64", "copy", "f16 mat-vec"
  bool read = false;       // a plain read pattern: candidates for the limit
  uint64_t bytes = 0;      // bytes moved per run (a copy counts what it reads and what it writes)
  double bytes_per_s = 0;  // the best run
};

struct BandwidthProbe {
  std::vector<BandwidthPattern> patterns;
  double read_limit = 0;      // the fastest read pattern: the limit decode is compared with
  std::string limit_pattern;  // its name
  uint64_t words_checked = 0; // 32-bit words whose sum every read pattern reproduced
};

// Fills a buffer with a known pattern, reads it with each pattern, and checks every read pattern's sum of
// the words against the host's (an error when one differs: a probe that skips reads is not a measurement).
// Timed by GPU timestamps where the device has them and is not a CPU implementation, else by the host clock.
Result<BandwidthProbe> measure_bandwidth(Device& device, const ProbeOptions& options = {});

}  // namespace penser::vulkan
