#include "inference/vulkan/recorder.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace penser::vulkan {

namespace {
constexpr uint32_t kMaxBindings = 10;  // attn_decode_gqa.comp with ROPE_FUSED
}

Result<std::unique_ptr<Recorder>> Recorder::create(Device& device, uint32_t max_dispatches) {
  std::unique_ptr<Recorder> self(new Recorder());
  self->device_ = &device;
  self->max_dispatches_ = max_dispatches;
  VkDevice dev = device.handle();
  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pci.queueFamilyIndex = device.queue_family();
  PENSER_VK_TRY(vkCreateCommandPool(dev, &pci, nullptr, &self->pool_), "creating a command pool");
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = self->pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  PENSER_VK_TRY(vkAllocateCommandBuffers(dev, &ai, &self->cmd_), "allocating a command buffer");
  // Uniform buffers: mul_mv's x on CPU implementations (PipelineDesc::uniform), at most one per dispatch.
  const VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, max_dispatches * kMaxBindings},
                                        {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, max_dispatches},
                                        {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, max_dispatches}};
  VkDescriptorPoolCreateInfo dpi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  dpi.maxSets = max_dispatches;
  dpi.poolSizeCount = 3;
  dpi.pPoolSizes = sizes;
  PENSER_VK_TRY(vkCreateDescriptorPool(dev, &dpi, nullptr, &self->descriptors_), "creating a descriptor pool");
  return self;
}

Recorder::~Recorder() {
  VkDevice dev = device_ ? device_->handle() : VK_NULL_HANDLE;
  if (query_pool_) vkDestroyQueryPool(dev, query_pool_, nullptr);
  for (VkBufferView v : views_) vkDestroyBufferView(dev, v, nullptr);
  if (descriptors_) vkDestroyDescriptorPool(dev, descriptors_, nullptr);
  if (pool_) vkDestroyCommandPool(dev, pool_, nullptr);  // frees cmd_
}

Status Recorder::begin(std::span<const Copy> copies) {
  PENSER_VK_TRY(vkResetCommandBuffer(cmd_, 0), "resetting a command buffer");
  PENSER_VK_TRY(vkResetDescriptorPool(device_->handle(), descriptors_, 0), "resetting a descriptor pool");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  PENSER_VK_TRY(vkBeginCommandBuffer(cmd_, &bi), "beginning a command buffer");
  for (VkBufferView v : views_) vkDestroyBufferView(device_->handle(), v, nullptr);
  views_.clear();
  for (const Copy& c : copies) {
    PENSER_ASSERT(c.src.buffer && c.dst.buffer && c.src.range == c.dst.range && c.src.range > 0);
    PENSER_ASSERT(c.src.offset + c.src.range <= c.src.buffer->size() && c.dst.offset + c.dst.range <= c.dst.buffer->size());
    const VkBufferCopy region{c.src.offset, c.dst.offset, c.src.range};
    vkCmdCopyBuffer(cmd_, c.src.buffer->handle(), c.dst.buffer->handle(), 1, &region);
  }
  // Earlier submissions (uploads, or this very recording submitted before) and the copies above wrote what
  // this one reads.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  pending_.clear();
  commands_.clear();
  dispatches_ = barriers_ = 0;
  recording_ = true;
  ended_ = false;
  times_.clear();
  timed_submissions_ = 0;
  next_label_.clear();
  next_bytes_ = 0;
  next_flops_ = 0;
  if (query_pool_) {
    vkCmdResetQueryPool(cmd_, query_pool_, 0, max_dispatches_ + 1);
    vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, query_pool_, 0);
  }
  return {};
}

Status Recorder::enable_timestamps() {
  PENSER_ASSERT(!recording_);
  if (query_pool_) return {};
  if (device_->timestamp_bits() == 0)
    return make_error("the GPU {} cannot time its compute work (its compute queue has no timestamps)",
                      device_->info().name);
  VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
  qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
  qi.queryCount = max_dispatches_ + 1;
  PENSER_VK_TRY(vkCreateQueryPool(device_->handle(), &qi, nullptr, &query_pool_), "creating a timestamp query pool");
  return {};
}

void Recorder::annotate(std::string_view label, uint64_t bytes, uint64_t flops) {
  next_label_ = label;
  next_bytes_ = bytes;
  next_flops_ = flops;
}

std::vector<Recorder::DispatchTime> Recorder::take_times(uint32_t* submissions) {
  std::vector<DispatchTime> out = times_;
  for (DispatchTime& t : times_) t.seconds = 0;
  if (submissions) *submissions = timed_submissions_;
  timed_submissions_ = 0;
  return out;
}

void Recorder::barrier() {
  pending_.clear();
  ++barriers_;
}

Status Recorder::dispatch(const Pipeline& pipeline, std::span<const BufferRange> bindings, const void* push,
                          uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
  PENSER_ASSERT(recording_ && !ended_);
  const PipelineDesc& d = pipeline.desc();
  // Programmer errors: the op code and the shader disagree.
  PENSER_ASSERT(bindings.size() == d.n_bindings);
  PENSER_ASSERT(push_size == d.push_size);
  PENSER_ASSERT(d.n_bindings <= kMaxBindings);
  const DeviceInfo& info = device_->info();
  if (gx == 0 || gy == 0 || gz == 0) return {};
  if (gx > info.max_workgroup_count[0] || gy > info.max_workgroup_count[1] || gz > info.max_workgroup_count[2])
    return make_error("{}: {}x{}x{} workgroups exceed the GPU's limit {}x{}x{}", d.shader, gx, gy, gz,
                      info.max_workgroup_count[0], info.max_workgroup_count[1], info.max_workgroup_count[2]);
  if (dispatches_ >= max_dispatches_)
    return make_error("{}: more than {} dispatches in one recording", d.shader, max_dispatches_);

  std::array<VkDescriptorBufferInfo, kMaxBindings> infos{};
  std::array<VkBufferView, kMaxBindings> views{};
  std::array<VkWriteDescriptorSet, kMaxBindings> writes{};
  VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  ai.descriptorPool = descriptors_;
  ai.descriptorSetCount = 1;
  VkDescriptorSetLayout layout = pipeline.set_layout();
  ai.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  PENSER_VK_TRY(vkAllocateDescriptorSets(device_->handle(), &ai, &set), "allocating a descriptor set");

  bool hazard = false;
  for (uint32_t i = 0; i < bindings.size(); ++i) {
    const BufferRange& b = bindings[i];
    PENSER_ASSERT(b.buffer != nullptr && b.range > 0 && b.offset + b.range <= b.buffer->size());
    const bool uniform = (d.uniform >> i) & 1;
    // Uniform and texel bindings need the buffer's usage bits, which only CPU implementations' buffers have
    // (Buffer::create): an op that binds one on a GPU is a bug, said here instead of undefined behaviour in
    // the driver.
    if ((uniform || ((d.texel >> i) & 1)) && !b.buffer->uniform_usage())
      return make_error("{}: binding {} is a uniform or texel binding of a buffer without that usage (a bug: only "
                        "CPU implementations' buffers have it)", d.shader, i);
    // A uniform binding's offset and range are the op's to fit (Ops::mul_mv falls back where they do not).
    PENSER_ASSERT(!uniform || (b.offset % info.min_uniform_offset_alignment == 0 && b.range <= info.max_uniform_buffer_range));
    PENSER_ASSERT(uniform || b.offset % info.min_storage_offset_alignment == 0);
    if (b.range > info.max_storage_buffer_range)
      return make_error("{}: binding {} spans {} but the GPU binds at most {} (split the tensor)", d.shader, i,
                        format_bytes(b.range), format_bytes(info.max_storage_buffer_range));
    // Tests (Buffer::guard): a binding that reaches the buffer's end reaches into its poisoned guard too,
    // within the device's limit for the binding's kind, so that a read past the end reads NaN here as it
    // reads garbage on a GPU; with Device::wide_bindings every binding reaches to its buffer's end (and the
    // guard), so that a read past it reads the neighbouring tensor as on a GPU. The hazard tracking below
    // keeps the range the op asked for.
    uint64_t bound = b.range;
    if (device_->wide_bindings() || (b.buffer->guard() && b.offset + b.range == b.buffer->size())) {
      const bool texel = (d.texel >> i) & 1;
      const uint64_t limit = uniform ? info.max_uniform_buffer_range
                             : texel ? uint64_t(info.max_texel_elements) * 16
                                     : info.max_storage_buffer_range;
      bound = std::max(b.range, std::min(b.buffer->size() + b.buffer->guard() - b.offset, limit));
    }
    infos[i] = {b.buffer->handle(), b.offset, bound};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    if ((d.texel >> i) & 1) {
      // A view of whole 16-byte texels over the range (its last partial texel, if any, is not readable).
      PENSER_ASSERT(b.offset % std::max<uint64_t>(info.min_texel_offset_alignment, 1) == 0 && b.range >= 16 &&
                    b.range / 16 <= info.max_texel_elements);
      VkBufferViewCreateInfo vi{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
      vi.buffer = b.buffer->handle();
      vi.format = VK_FORMAT_R32G32B32A32_UINT;
      vi.offset = b.offset;
      vi.range = bound / 16 * 16;
      PENSER_VK_TRY(vkCreateBufferView(device_->handle(), &vi, nullptr, &views[i]), "creating a texel buffer view");
      views_.push_back(views[i]);
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      writes[i].pTexelBufferView = &views[i];
    } else {
      writes[i].descriptorType = uniform ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
    const bool written = (d.written >> i) & 1;
    for (const Access& a : pending_)
      if (a.buffer == b.buffer->handle() && a.begin < b.offset + b.range && b.offset < a.end && (a.written || written))
        hazard = true;
  }
  vkUpdateDescriptorSets(device_->handle(), uint32_t(bindings.size()), writes.data(), 0, nullptr);
  if (hazard) barrier();
  for (uint32_t i = 0; i < bindings.size(); ++i) {
    const BufferRange& b = bindings[i];
    pending_.push_back({b.buffer->handle(), b.offset, b.offset + b.range, bool((d.written >> i) & 1)});
  }

  // Into the command buffer at end(), when every pipeline of the recording has been asked for and may
  // compile in parallel (Pipeline::create_async).
  Command c{&pipeline, set, {}, push_size, gx, gy, gz, hazard};
  if (push_size) std::memcpy(c.push.data(), push, push_size);
  commands_.push_back(c);
  ++dispatches_;
  if (query_pool_) times_.push_back({d.shader, next_label_, next_bytes_, 0.0, next_flops_});
  next_label_.clear();
  next_bytes_ = 0;
  next_flops_ = 0;
  return {};
}

Status Recorder::end(const std::atomic<bool>* stop) {
  PENSER_ASSERT(recording_ && !ended_);
  uint32_t n = 0;
  for (const Command& c : commands_) {
    if (stop && *stop) return make_error("stopped before the recording's pipelines had compiled");
    PENSER_TRY(c.pipeline->wait());  // its compile's error, if it failed
    if (c.barrier) {
      VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
      mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT;
      mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
      vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb,
                           0, nullptr, 0, nullptr);
    }
    const Pipeline& p = *c.pipeline;
    vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.handle());
    vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout(), 0, 1, &c.set, 0, nullptr);
    if (c.push_size) vkCmdPushConstants(cmd_, p.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, c.push_size, c.push.data());
    vkCmdDispatch(cmd_, c.gx, c.gy, c.gz);
    ++n;
    if (query_pool_) vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, query_pool_, n);
  }
  commands_.clear();
  // Results become visible to the host (read-back after the fence) and to transfers.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  PENSER_VK_TRY(vkEndCommandBuffer(cmd_), "ending a command buffer");
  ended_ = true;
  return {};
}

Status Recorder::submit_and_wait(std::string_view what) {
  PENSER_ASSERT(ended_);
  PENSER_TRY(device_->submit_and_wait(cmd_, what));
  if (!query_pool_ || dispatches_ == 0) return {};
  ticks_.resize(dispatches_ + 1);
  PENSER_VK_TRY(vkGetQueryPoolResults(device_->handle(), query_pool_, 0, dispatches_ + 1, ticks_.size() * 8,
                                      ticks_.data(), 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                "reading GPU timestamps");
  const uint32_t bits = device_->timestamp_bits();
  const uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  const double period_s = double(device_->info().timestamp_period) * 1e-9;
  for (uint32_t i = 0; i < dispatches_; ++i)  // modular difference: the counter may wrap between the two
    times_[i].seconds += double((ticks_[i + 1] - ticks_[i]) & mask) * period_s;
  ++timed_submissions_;
  return {};
}

}  // namespace penser::vulkan
