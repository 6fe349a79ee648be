// The logical device: one compute queue, the memory types, one-shot submissions for uploads, and the
// memory-fit check made before a model is loaded. Everything created on a Device must be destroyed before it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "inference/vulkan/context.h"

namespace penser::vulkan {

class Buffer;

class Device {
 public:
  // `instance` must outlive the Device.
  static Result<std::unique_ptr<Device>> create(const Instance& instance, uint32_t index);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkDevice handle() const { return device_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceInfo& info() const { return info_; }
  const Instance& instance() const { return *instance_; }
  const VkPhysicalDeviceMemoryProperties& memory_properties() const { return memory_; }
  // Subgroup paths on, at subgroups().size (pinned in every pipeline where the device can): context.h.
  bool subgroup_ops() const { return subgroups_.enabled; }
  const SubgroupPlan& subgroups() const { return subgroups_; }
  bool int64() const { return int64_; }  // shaderInt64 is enabled
  // VK_NV_cooperative_matrix is enabled (DeviceInfo::coopmat_usable), with shaderFloat16 and the memory model.
  bool cooperative_matrix() const { return coopmat_; }
  // shaderIntegerDotProduct is enabled (DeviceInfo::integer_dot_usable): mul_mv's X_Q8 modules may run.
  bool integer_dot_product() const { return integer_dot_; }
  // Pipelines capture the compiler's statistics (Pipeline::statistics): PENSER_VK_PIPELINE_STATS=1 on a
  // device with VK_KHR_pipeline_executable_properties (DeviceInfo::pipeline_statistics).
  bool pipeline_statistics() const { return pipeline_stats_; }
  // vulkanMemoryModel and vulkanMemoryModelDeviceScope are enabled (DeviceInfo::memory_model): with the
  // cooperative matrices, or for tests (PENSER_VK_TEST_MEMORY_MODEL=1).
  bool memory_model() const { return memory_model_; }
  // Valid bits of the compute queue's timestamps (0: the queue cannot write timestamps).
  uint32_t timestamp_bits() const { return timestamp_bits_; }

  // Submits a recorded command buffer and waits for it with a time limit, so that a hung GPU becomes an
  // error rather than a frozen program. Serialised: one submission at a time per device. timeout_ns 0: by
  // device (hang_timeout_ns).
  Status submit_and_wait(VkCommandBuffer cmd, std::string_view what, uint64_t timeout_ns = 0);
  // A lost device: a submission or a fence wait answered VK_ERROR_DEVICE_LOST (the driver reset the GPU:
  // Windows' TDR, a driver update, suspend/resume, an unplugged eGPU), or the hang time-out expired. A hung
  // device is treated as lost too, since the driver's reset usually follows. Every later submission fails at
  // once with VK_ERROR_DEVICE_LOST, without touching the queue or the fence; the owner destroys what it made
  // (after settle()) and opens a new Device. Set on the submitting thread, read from any.
  bool lost() const { return lost_.load() != Loss::None; }
  bool hung() const { return lost_.load() == Loss::Hung; }  // lost by the time-out: the work may still run
  // Call before destroying anything made on the device. True when no work can still be running: the queue
  // went idle (vkDeviceWaitIdle, which returns at once with VK_ERROR_DEVICE_LOST on a lost device), or the
  // timed-out submission has finished or been lost since. False when a hung submission is still running
  // after `timeout_ns` more: then its buffers, pipelines and the device itself must be leaked, not freed
  // under a running shader (on a CPU implementation such as lavapipe that is a crash in this process; on a
  // GPU undefined behaviour). ~Device calls it and leaks the VkDevice when it answers false.
  bool settle(uint64_t timeout_ns = 2'000'000'000ull);
  // Fault injection (tests; the env knob PENSER_VK_TEST_LOSE_AFTER=N, knobs.h): the (n+1)-th submission
  // and every one after it answer VK_ERROR_DEVICE_LOST without submitting, exactly as a lost device does;
  // what follows (the error, lost(), the tear-down, the app's reload) is the real code.
  void lose_after_for_tests(uint64_t n) { lose_after_ = n; }
  // Tests: as if the last submission had timed out and still ran (lost() and hung() true, settle() false
  // at once), so that what tears down must leak what it made rather than free it (~VulkanEvaluator).
  void pretend_hung_for_tests() {
    lost_ = Loss::Hung;
    pretend_running_ = true;
  }
  // Tests (the env knob PENSER_VK_TEST_POISON=1, which CTest sets for every suite): every new buffer is
  // filled with 0xff bytes (NaN as f32 and as f16) before Buffer::create returns it, and gets a poisoned
  // guard after its end (Buffer::guard). A GPU hands out memory with whatever was there before (another
  // program's, or Penser's own freed tensors); lavapipe's fresh allocations are zero pages. So a shader that
  // reads memory nothing has written yet (a KV cache row past the context, a scratch counter, padding) and
  // weighs it by zero gives right results here and NaN on a GPU (NaN * 0 is NaN); with the poison it gives
  // NaN here too.
  void poison_new_buffers_for_tests(bool on) { poison_ = on; }
  bool poison_new_buffers() const { return poison_; }
  // Tests (PENSER_VK_TEST_WIDE_BINDINGS=1, CTest's 4-lane evaluator run): the Recorder binds every range from its
  // offset to its buffer's end (and into the poison guard), within the device's limits, as a GPU without
  // robustness reads: a shader reading past its binding reads the neighbouring tensor (or NaN past the
  // buffer), where lavapipe answers 0 outside a binding. Synchronization validation must be off with it
  // (PENSER_VULKAN_SYNC_VALIDATION=0): it would see every dispatch touch the rest of its buffers.
  bool wide_bindings() const { return wide_bindings_; }
  void wide_bindings_for_tests(bool on) { wide_bindings_ = on; }
  // Tests (PENSER_VK_TEST_UNMAPPED=1): device-local buffers are never mapped (MemoryUse::DeviceLocal acts as
  // DeviceStaged), as on a discrete GPU without resizable BAR, whose device-local memory the CPU cannot
  // reach: every Buffer::write and read goes through staging (a submission of its own), so that lavapipe,
  // where all memory is mapped, runs the paths such a laptop takes. Set before the buffers are made.
  bool unmapped_device_memory() const { return unmapped_; }
  void unmapped_device_memory_for_tests(bool on) { unmapped_ = on; }
  // Queue submissions so far (every submit_and_wait: recordings, uploads and read-backs through staging,
  // one-shot commands). Tests count a decode step's with it.
  uint64_t submissions() {
    std::lock_guard lock(submit_mutex_);
    return submissions_;
  }

  // 60 s on GPUs; 10 minutes on CPU implementations, which compile each pipeline's code in its first
  // dispatch (lavapipe: up to ~8 s for one matrix kernel on an idle machine with a cold shader cache, and
  // several times that under load) and run a large model's prompt batch at CPU speed.
  uint64_t hang_timeout_ns() const { return info_.is_cpu() ? 600'000'000'000ull : 60'000'000'000ull; }

  // One-shot commands on the device's own pool (uploads through staging): begin, record in `fill`, submit, wait.
  // From any thread (a load writes the weights on one thread while another records the decode step).
  template <typename F>
  Status run_once(std::string_view what, F&& fill) {
    std::lock_guard lock(once_mutex_);  // the pool's
    PENSER_ASSIGN_OR_RETURN(VkCommandBuffer cmd, begin_once());
    fill(cmd);
    return end_once(cmd, what);
  }

  // The staging buffers Buffer::copy reuses for every copy through staging (a discrete GPU without
  // resizable BAR: every weight tensor at load), instead of allocating one per copy: pinned host memory can
  // cost about as much to allocate as to copy. Up to kStagingBuffers of them, each lent to one copy at a time
  // (lend_staging waits for a free one): while the GPU copies out of one, another thread fills the next, so
  // a load's memcpy into pinned memory and its transfers overlap instead of taking turns. A lent buffer holds
  // `bytes` at least (grown where it was smaller); one already made is lent before a new one is made, so a
  // thread copying alone uses one. release_staging() frees them (the evaluator, once loaded: nothing it does
  // per token goes through staging; none may be lent then). staging_allocations() counts the buffers made
  // (tests). PENSER_VK_STAGING_BUFFERS=1 lends one only (measurements: the GPU script compares the loads).
  static constexpr int kStagingBuffers = 2;
  class StagingLease {
   public:
    StagingLease(Device* device, int slot, Buffer* buffer) : device_(device), slot_(slot), buffer_(buffer) {}
    StagingLease(StagingLease&& o) noexcept : device_(o.device_), slot_(o.slot_), buffer_(o.buffer_) { o.device_ = nullptr; }
    StagingLease(const StagingLease&) = delete;
    StagingLease& operator=(const StagingLease&) = delete;
    StagingLease& operator=(StagingLease&&) = delete;
    ~StagingLease() {
      if (device_) device_->return_staging(slot_);
    }
    Buffer* buffer() const { return buffer_; }

   private:
    friend class Device;
    Device* device_;
    int slot_;
    Buffer* buffer_;
  };
  Result<StagingLease> lend_staging(uint64_t bytes);
  void release_staging();
  uint64_t staging_allocations() const { return staging_allocations_; }

  // Tests: device-local allocations are refused as if the heap were full once `bytes` of them are taken, so
  // that an integrated GPU's fall-back to system memory (Buffer::create) runs on lavapipe. 0: no limit.
  void limit_device_local_for_tests(uint64_t bytes) { device_local_limit_ = bytes; }
  uint64_t device_local_limit_for_tests() const { return device_local_limit_; }
  std::atomic<uint64_t>& device_local_taken() { return device_local_taken_; }  // Buffer's count for the limit
  // Device-local bytes Penser's buffers hold now (Buffer counts them; staging and read-back buffers not).
  uint64_t device_local_allocated() const { return device_local_taken_; }
  // What the driver counts as this process's use of the device-local heaps now (VK_EXT_memory_budget's
  // heapUsage, summed: Penser's buffers plus the driver's own pipelines, descriptor pools, command buffers)
  // and what it allows the process now (heapBudget, summed: less what other programs hold). Above the
  // budget, Windows moves allocations to system memory and a GPU reads them across the bus. nullopt without
  // the extension.
  struct DriverMemory {
    uint64_t usage = 0, budget = 0;
  };
  std::optional<DriverMemory> driver_device_local_memory() const;

  // Before loading: do `bytes` (weights + KV cache + scratch) fit in the device's memory? The error names
  // both figures, e.g. "the model and its context need 5.20 GiB but llvmpipe has 3.80 GiB of memory".
  // Where the driver says what is free now (VK_EXT_memory_budget), that counts too: fit_error.
  Status check_fits(uint64_t bytes, std::string_view what) const;

 private:
  Device() = default;
  Result<VkCommandBuffer> begin_once();
  Status end_once(VkCommandBuffer cmd, std::string_view what);

  const Instance* instance_ = nullptr;
  DeviceInfo info_;
  SubgroupPlan subgroups_;
  VkPhysicalDeviceMemoryProperties memory_{};
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  uint32_t timestamp_bits_ = 0;
  bool int64_ = false;
  bool coopmat_ = false;
  bool integer_dot_ = false;
  bool pipeline_stats_ = false;
  bool memory_model_ = false;
  VkCommandPool once_pool_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::mutex submit_mutex_;
  std::mutex once_mutex_;  // once_pool_ (run_once)
  enum class Loss { None, Reset, Hung };
  std::atomic<Loss> lost_{Loss::None};
  uint64_t submissions_ = 0;          // under submit_mutex_
  uint64_t lose_after_ = UINT64_MAX;  // lose_after_for_tests / PENSER_VK_TEST_LOSE_AFTER
  uint64_t device_local_limit_ = 0;
  bool poison_ = false;  // poison_new_buffers_for_tests / PENSER_VK_TEST_POISON
  bool wide_bindings_ = false;  // PENSER_VK_TEST_WIDE_BINDINGS
  bool unmapped_ = false;       // unmapped_device_memory_for_tests / PENSER_VK_TEST_UNMAPPED
  std::atomic<bool> pretend_running_{false};  // pretend_hung_for_tests
  std::atomic<uint64_t> device_local_taken_{0};
  void return_staging(int slot);
  std::mutex staging_mutex_;  // under it: which staging buffers are lent (the buffers: their borrower's)
  std::condition_variable staging_returned_;
  struct StagingSlot {
    std::unique_ptr<Buffer> buffer;
    bool lent = false;
  };
  StagingSlot staging_[kStagingBuffers];
  int staging_count_ = kStagingBuffers;  // the slots lent (PENSER_VK_STAGING_BUFFERS=1: measurements)
  std::atomic<uint64_t> staging_allocations_{0};
};

// The check behind Device::check_fits, on a device's description alone (tested on synthetic devices): an
// error naming what `bytes` need and what the device has, or, when other programs hold the memory, what is
// free now and what to close.
Status fit_error(const DeviceInfo& info, uint64_t bytes, std::string_view what);

}  // namespace penser::vulkan
