// What every Vulkan suite needs: Vulkan loaded, an instance with the validation layer when it is installed
// (every validation message fails the suite), the device chosen by the CPU-allowing policy (CTest pins
// lavapipe with VK_ICD_FILENAMES; PENSER_VK_DEVICE=N picks device N instead), and helpers to move f32 data in
// and out.
#pragma once

#include <QtTest>
#include "tests/test_support.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "inference/vulkan/context.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/recorder.h"

namespace vkt {

using namespace penser;
using namespace penser::vulkan;

// PENSER_VK_DEVICE=N: run the suite on device N (numbered as `penser-cli devices` lists them) rather than
// the default choice. scripts/device/gpu-run.sh uses it to put the suites on a real GPU; unset in CTest.
inline std::optional<uint32_t> device_override() {
  const char* env = std::getenv("PENSER_VK_DEVICE");
  if (!env || !*env) return std::nullopt;
  char* end = nullptr;
  const unsigned long n = std::strtoul(env, &end, 10);
  if (*end != '\0') qFatal("PENSER_VK_DEVICE=%s is not a device index (see penser-cli devices)", env);
  return uint32_t(n);
}

struct Gpu {
  std::unique_ptr<Instance> instance;
  std::unique_ptr<Device> device;
  std::string skip_reason;  // set when Vulkan itself is missing on this machine

  bool open() {
    if (Status s = load(); !s) {
      skip_reason = s.error().message;
      return false;
    }
    auto inst = Instance::create({.validation = true});
    if (!inst) { qWarning("%s", inst.error().message.c_str()); return false; }
    instance = std::move(*inst);
    auto chosen = choose_device(instance->devices(), device_override(), /*allow_cpu=*/true);
    if (!chosen) { qWarning("%s", chosen.error().message.c_str()); return false; }
    auto dev = Device::create(*instance, *chosen);
    if (!dev) { qWarning("%s", dev.error().message.c_str()); return false; }
    device = std::move(*dev);
    return true;
  }

  // Validation messages since the instance was made, and any new fault of the process (no_new_faults); the
  // suite's cleanup() fails on any.
  bool clean() const;
};

// Faults of the whole process since the last call (or since it started), from every instance and device,
// the suite's own and those evaluators make for themselves: validation messages (Instance's process-wide
// count; each instance prints its own to stderr as it comes) and writes past a buffer's end
// (PENSER_VK_TEST_POISON: Buffer::guard). Every Vulkan suite's cleanup() calls no_new_faults, so the test
// function that caused one fails; a test that causes one on purpose takes it with take_new_faults.
struct NewFaults {
  uint64_t validation = 0, out_of_bounds = 0;
  uint64_t total() const { return validation + out_of_bounds; }
};
inline NewFaults take_new_faults() {
  static uint64_t seen_validation = 0, seen_oob = 0;
  const uint64_t v = Instance::validation_errors_in_process(), o = out_of_bounds_writes_seen();
  const NewFaults f{v - seen_validation, o - seen_oob};
  seen_validation = v, seen_oob = o;
  return f;
}
inline bool no_new_faults() {
  const NewFaults f = take_new_faults();
  if (f.validation)
    qWarning("%llu new validation messages (printed above as they came)", static_cast<unsigned long long>(f.validation));
  if (f.out_of_bounds)
    qWarning("%llu buffers were written past their end (printed above)", static_cast<unsigned long long>(f.out_of_bounds));
  return f.total() == 0;
}

inline bool Gpu::clean() const {
  bool ok = no_new_faults();
  if (instance && instance->validation_errors() != 0) {
    for (const std::string& m : instance->validation_messages()) qWarning("%s", m.c_str());
    ok = false;
  }
  return ok;
}

// Opens the GPU in initTestCase(): skips the suite (saying why) only when the Vulkan loader is missing;
// any other failure fails it.
#define VKT_OPEN(gpu)                                                          \
  do {                                                                         \
    if (!(gpu).open()) {                                                       \
      if (!(gpu).skip_reason.empty()) PENSER_SKIP_UNLESS_CI((gpu).skip_reason.c_str()); \
      QFAIL("could not open a Vulkan device");                                 \
    }                                                                          \
  } while (0)

#define VKT_OK(expr)                                                           \
  do {                                                                         \
    auto&& vkt_r_ = (expr);                                                    \
    if (!vkt_r_) QFAIL(vkt_r_.error().message.c_str());                        \
  } while (0)

inline std::unique_ptr<Buffer> make_buffer(Device& d, const void* data, uint64_t bytes, MemoryUse use = MemoryUse::DeviceLocal) {
  auto b = Buffer::create(d, std::max<uint64_t>(bytes, 16), use, "a test buffer");
  if (!b) qFatal("%s", b.error().message.c_str());
  if (data && bytes) {
    auto s = (*b)->write(0, data, bytes);
    if (!s) qFatal("%s", s.error().message.c_str());
  }
  return std::move(*b);
}

template <typename T>
inline std::unique_ptr<Buffer> make_buffer(Device& d, const std::vector<T>& v) {
  return make_buffer(d, v.data(), v.size() * sizeof(T));
}

template <typename T>
inline std::vector<T> read_back(const Buffer& b, size_t n, uint64_t offset_bytes = 0) {
  std::vector<T> out(n);
  auto s = b.read(offset_bytes, out.data(), n * sizeof(T));
  if (!s) qFatal("%s", s.error().message.c_str());
  return out;
}

// sum((a-b)^2) / sum(b^2): the normalised error every op is judged by (ggml's test-backend-ops uses it too).
inline double nmse(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = double(got[i]) - double(want[i]);
    num += d * d;
    den += double(want[i]) * double(want[i]);
  }
  if (den == 0) return num;
  return num / den;
}

inline View view(const Buffer& b, uint32_t offset = 0) { return View{b.all(), offset}; }

// Records `record(Recorder&)` into one command buffer, submits it and waits (a failure fails the test).
template <typename F>
void run_recorded(Device& device, F&& record) {
  auto rec = Recorder::create(device);
  if (!rec) QFAIL(rec.error().message.c_str());
  VKT_OK((*rec)->begin());
  record(**rec);
  VKT_OK((*rec)->end());
  VKT_OK((*rec)->submit_and_wait());
}

}  // namespace vkt
