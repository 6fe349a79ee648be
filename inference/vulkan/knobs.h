// Measurement knobs: PENSER_VK_* environment variables that override a shape or a choice of the Vulkan
// backend for a benchmark (scripts/device/gpu-run.sh sweeps them on a GPU; docs/vulkan.md lists them).
// Never needed for correct results: every one has a default chosen by device type.
// One is fault injection, not measurement: PENSER_VK_TEST_LOSE_AFTER=N makes each Device made while it is
// set answer VK_ERROR_DEVICE_LOST from its (N+1)-th submission on (Device::lose_after_for_tests; tests of
// the app's recovery from a lost GPU, which lavapipe cannot lose for real). Two more are for tests too:
// PENSER_VK_TEST_POISON=1 (Device::poison_new_buffers) and PENSER_VK_TEST_OFFSET_ALIGNMENT=N (a stricter
// binding offset alignment than the driver's, as Intel's 64 or a mobile GPU's 256).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace penser::vulkan {

// The integer in environment variable `name` when it is one in [min, max]; nothing when the variable is
// unset, empty, not a whole number or out of range (a typo falls back to the default, it never fails a run).
inline std::optional<uint64_t> env_uint(const char* name, uint64_t min, uint64_t max) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0' || n < min || n > max) return std::nullopt;
  return uint64_t(n);
}

// A switch in environment variable `name`: false when it starts with '0', true otherwise; nothing when the
// variable is unset or empty.
inline std::optional<bool> env_flag(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return v[0] != '0';
}

}  // namespace penser::vulkan
