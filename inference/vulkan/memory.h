// Buffers and their memory. One VkDeviceMemory per Buffer, never above maxMemoryAllocationSize; weights
// are device-local and uploaded in chunks through a staging buffer, or written directly when the memory is
// also host-visible (integrated GPUs, lavapipe).
#pragma once

#include <memory>

#include "inference/vulkan/device.h"

#include <vector>

namespace penser::vulkan {

enum class MemoryUse {
  DeviceLocal,  // weights, activations, KV cache: fastest for the GPU, mapped too when the device allows
  Host,         // staging and read-back: host-visible and coherent, cached when possible
  DeviceStaged, // device-local and never mapped: always copied through staging, as on a discrete GPU
                // (lets a unified-memory device such as lavapipe test that path)
};

class Buffer;

// The memory types Buffer::create tries for a buffer of `use`, in order (tested on synthetic devices):
// `system_memory` marks an integrated GPU's system-memory fall-back (Buffer::in_system_memory).
struct MemoryChoice {
  uint32_t type = 0;
  bool system_memory = false;
};
std::vector<MemoryChoice> memory_type_order(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits,
                                            MemoryUse use, const DeviceInfo& info);
// Whether the CPU maps the device-local memory buffers are put in (MemoryUse::DeviceLocal's first choice is
// mapped): unified memory, or a discrete GPU with resizable BAR. False on a discrete GPU with only the
// 256 MiB BAR window mapped, where uploads and read-backs go through staging.
bool device_memory_mapped(const VkPhysicalDeviceMemoryProperties& props);

// A part of a buffer bound to a shader. range is at most maxStorageBufferRange.
struct BufferRange {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;
  uint64_t range = 0;
};

class Buffer {
 public:
  static Result<std::unique_ptr<Buffer>> create(Device& device, uint64_t size, MemoryUse use, std::string_view what);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  uint64_t size() const { return size_; }
  void* mapped() const { return mapped_; }  // nullptr when the memory is not host-visible
  // Whether the buffer may be bound as a uniform buffer or a uniform texel buffer: on CPU implementations
  // only (create); the Recorder checks it for every such binding.
  bool uniform_usage() const { return uniform_usage_; }
  // Device-local memory was full and the buffer lives in system memory instead (integrated GPUs and CPU
  // implementations only: Buffer::create).
  bool in_system_memory() const { return system_memory_; }
  // Tests (Device::poison_new_buffers): bytes of poison allocated after the buffer's end. The Recorder binds
  // a range that reaches the end with the guard too, so that a shader reading past a buffer's end reads NaN
  // as it would read another tensor's bytes or garbage on a GPU (lavapipe returns zeros outside a binding,
  // and drops writes there); ~Buffer checks the guard is still poison where it is mapped
  // (out_of_bounds_writes_seen). 0 outside tests.
  uint64_t guard() const { return guard_; }

  // Copies bytes in or out: a memcpy when mapped, else through a staging buffer in chunks.
  Status write(uint64_t offset, const void* data, uint64_t n);
  Status read(uint64_t offset, void* data, uint64_t n) const;

  // The whole buffer, or [offset, offset+range), for binding.
  BufferRange all() const { return {this, 0, size_}; }
  BufferRange range(uint64_t offset, uint64_t n) const {
    PENSER_ASSERT(offset + n <= size_);
    return {this, offset, n};
  }

 private:
  Buffer() = default;
  Status copy(uint64_t offset, void* host, uint64_t n, bool to_device) const;

  Device* device_ = nullptr;
  std::string what_;
  uint64_t size_ = 0;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
  bool uniform_usage_ = false;
  bool system_memory_ = false;
  uint64_t device_local_counted_ = 0;  // bytes counted in Device::device_local_taken (tests' limit)
  uint64_t guard_ = 0;
};

// Tests: the guard bytes (Buffer::guard) poison-filled after every new buffer while poisoning.
inline constexpr uint64_t kPoisonGuard = 16 << 10;
// Tests: buffers destroyed since the process started whose guard a shader (or a copy) overwrote. The Vulkan
// suites' fixture fails on any.
uint64_t out_of_bounds_writes_seen();

// Chunk size for staged copies: large enough to amortise a submission, small enough to stay in host memory.
inline constexpr uint64_t kStagingChunk = 32ull << 20;

}  // namespace penser::vulkan
