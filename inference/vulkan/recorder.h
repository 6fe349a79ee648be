// Records compute dispatches into one command buffer, with a barrier only where a dispatch reads or writes
// memory that an earlier dispatch since the last barrier wrote (or writes what one read). The recording can
// be submitted once or many times (a pre-recorded decode step whose inputs change in device memory).
#pragma once

#include <atomic>

#include <array>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "inference/vulkan/memory.h"
#include "inference/vulkan/pipeline.h"

namespace penser::vulkan {

class Recorder {
 public:
  // max_dispatches bounds the descriptor sets one recording may use.
  static Result<std::unique_ptr<Recorder>> create(Device& device, uint32_t max_dispatches = 512);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Forgets any previous recording. `copies` (each src range into a dst range of equal size: vkCmdCopyBuffer)
  // are recorded first, before the barrier every recording starts with, so every dispatch reads what they
  // copied. For a recording's inputs where the host cannot write device memory (a discrete GPU without
  // resizable BAR): the host writes them to a small host-visible buffer and the recording copies them, with
  // no staging submission of their own before it (the decode step's token id and position). A copy's
  // destination must not be read by work still running from an earlier submission: the fence every
  // submission is waited on orders those.
  struct Copy {
    BufferRange src, dst;
  };
  Status begin(std::span<const Copy> copies = {});
  Status begin(std::initializer_list<Copy> copies) { return begin(std::span<const Copy>(copies.begin(), copies.size())); }
  // Checks the binding count and push-constant size against the pipeline, every range against the device's
  // limits, and the group counts against maxComputeWorkGroupCount.
  Status dispatch(const Pipeline& pipeline, std::span<const BufferRange> bindings, const void* push,
                  uint32_t push_size, uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1);
  template <typename Push>
  Status dispatch(const Pipeline& pipeline, std::initializer_list<BufferRange> bindings, const Push& push,
                  uint32_t groups_x, uint32_t groups_y = 1, uint32_t groups_z = 1) {
    static_assert(std::is_trivially_copyable_v<Push> && sizeof(Push) % 4 == 0);
    return dispatch(pipeline, std::span<const BufferRange>(bindings.begin(), bindings.size()), &push,
                    uint32_t(sizeof(Push)), groups_x, groups_y, groups_z);
  }
  // Puts the recorded dispatches into the command buffer, each after its pipeline's compile (an error there
  // is end()'s). `stop` (a load being abandoned: VulkanEvaluator's weights failed or were cancelled) is read
  // before each wait: once it is set, end() fails at once and leaves the recorder unended, to be destroyed.
  Status end(const std::atomic<bool>* stop = nullptr);
  Status submit_and_wait(std::string_view what = "GPU work");  // after end(); may be repeated

  uint32_t dispatches() const { return dispatches_; }
  uint32_t barriers() const { return barriers_; }

  // Per-dispatch GPU time, off by default (call before begin()): a timestamp after every dispatch; after each
  // submission, the time from the previous timestamp is added to that dispatch's total. Dispatches that
  // have no barrier between them may overlap, so a dispatch's figure is the time its end moved the
  // timeline, not its own duration. Fails when the device's compute queue has no timestamps.
  Status enable_timestamps();
  bool timestamps() const { return query_pool_ != VK_NULL_HANDLE; }
  // Names the next dispatch, the weight bytes it reads and (matrix-matrix products) its floating-point
  // operations, for the profile (Ops::mul_mv and Ops::mul_mm do this).
  void annotate(std::string_view label, uint64_t bytes, uint64_t flops = 0);
  struct DispatchTime {
    std::string shader, label;  // label: the annotation, or empty
    uint64_t bytes = 0;         // weight bytes read per submission
    double seconds = 0;         // summed over the submissions since the last take_times()
    uint64_t flops = 0;         // floating-point operations per submission (annotated), or 0
  };
  // The totals of this recording's dispatches, in recording order, and how many submissions they sum
  // (`submissions`); both start again from zero.
  std::vector<DispatchTime> take_times(uint32_t* submissions = nullptr);

 private:
  struct Access {
    VkBuffer buffer;
    uint64_t begin, end;
    bool written;
  };
  // A dispatch as recorded, put into the command buffer by end(): its pipeline may still be compiling.
  struct Command {
    const Pipeline* pipeline;
    VkDescriptorSet set;
    std::array<uint8_t, 128> push;
    uint32_t push_size, gx, gy, gz;
    bool barrier;  // a barrier before it
  };
  Recorder() = default;
  void barrier();  // before the next dispatch

  Device* device_ = nullptr;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkDescriptorPool descriptors_ = VK_NULL_HANDLE;
  uint32_t max_dispatches_ = 0;
  std::vector<Access> pending_;
  std::vector<Command> commands_;
  std::vector<VkBufferView> views_;  // texel bindings' views, alive until the next begin()
  uint32_t dispatches_ = 0, barriers_ = 0;
  bool recording_ = false, ended_ = false;
  VkQueryPool query_pool_ = VK_NULL_HANDLE;  // max_dispatches_ + 1 timestamps
  std::vector<DispatchTime> times_;
  std::vector<uint64_t> ticks_;
  uint32_t timed_submissions_ = 0;
  std::string next_label_;
  uint64_t next_bytes_ = 0, next_flops_ = 0;
};

}  // namespace penser::vulkan
