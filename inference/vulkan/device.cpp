#include "inference/vulkan/device.h"

#include "inference/vulkan/knobs.h"
#include "inference/vulkan/memory.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace penser::vulkan {

Result<std::unique_ptr<Device>> Device::create(const Instance& instance, uint32_t index) {
  if (index >= instance.devices().size()) return make_error("there is no Vulkan device {}", index);
  std::unique_ptr<Device> self(new Device());
  self->instance_ = &instance;
  self->info_ = instance.devices()[index];
  if (!self->info_.usable())
    return make_error("Vulkan device {} ({}) cannot run Penser: it {}", index, self->info_.name,
                      self->info_.unusable_reason);
  VkPhysicalDevice pd = instance.physical_device(index);
  self->physical_ = pd;
  vkGetPhysicalDeviceMemoryProperties(pd, &self->memory_);

  uint32_t n_families = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_families, nullptr);
  std::vector<VkQueueFamilyProperties> families(n_families);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n_families, families.data());
  // Prefer a compute queue without graphics (often less contended); any compute queue otherwise.
  int chosen = -1;
  for (uint32_t i = 0; i < n_families; ++i) {
    const VkQueueFlags f = families[i].queueFlags;
    if ((f & VK_QUEUE_COMPUTE_BIT) && !(f & VK_QUEUE_GRAPHICS_BIT)) { chosen = int(i); break; }
  }
  for (uint32_t i = 0; chosen < 0 && i < n_families; ++i)
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) chosen = int(i);
  if (chosen < 0) return make_error("Vulkan device {} ({}) has no compute queue", index, self->info_.name);
  self->queue_family_ = uint32_t(chosen);
  self->timestamp_bits_ = self->info_.timestamp_period > 0 ? families[chosen].timestampValidBits : 0;

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = self->queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;

  // Only what the shaders use: 16-bit storage (quant blocks are read as u16 words; the KV cache is f16).
  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  s16.storageBuffer16BitAccess = VK_TRUE;
  VkPhysicalDeviceFeatures2 feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats.pNext = &s16;
  // 64-bit integers where offered: the bandwidth probe's 8-byte loads (a CPU implementation pays per loaded
  // component, so they read faster there).
  self->int64_ = self->info_.int64;
  feats.features.shaderInt64 = self->info_.int64 ? VK_TRUE : VK_FALSE;
  std::vector<const char*> extensions;
  // MoltenVK requires the portability subset extension to be enabled when it is offered.
  {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
    for (const auto& e : exts)
      if (std::string_view(e.extensionName) == "VK_KHR_portability_subset") extensions.push_back("VK_KHR_portability_subset");
  }
  // Subgroup size control (describe() read it through the extension): pipelines pin the width the shaders
  // are specialized for, and require full subgroups (Pipeline::create).
  self->subgroups_ = device_subgroup_plan(self->info_);
  VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_control{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
  if (self->info_.subgroup_size_control || self->info_.compute_full_subgroups) {
    size_control.subgroupSizeControl = self->info_.subgroup_size_control;
    size_control.computeFullSubgroups = self->info_.compute_full_subgroups;
    chain_front(feats, size_control);
    extensions.push_back(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  }

  // Integer dot products where the device has the feature (mul_mv's X_Q8 modules declare them).
  VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR idot{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR};
  self->integer_dot_ = self->info_.integer_dot_usable;
  if (self->integer_dot_) {
    idot.shaderIntegerDotProduct = VK_TRUE;
    chain_front(feats, idot);
    extensions.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  }

  // The compiler's statistics of every pipeline, where asked for and offered (measuring: a GPU run reads
  // the decode products' registers).
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR exec{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
  if (env_flag("PENSER_VK_PIPELINE_STATS").value_or(false)) {
    self->pipeline_stats_ = self->info_.pipeline_statistics;
    if (!self->pipeline_stats_)
      std::fprintf(stderr, "penser: vulkan: PENSER_VK_PIPELINE_STATS: %s has no VK_KHR_pipeline_executable_properties\n",
                   self->info_.name.c_str());
  }
  if (self->pipeline_stats_) {
    exec.pipelineExecutableInfo = VK_TRUE;
    chain_front(feats, exec);
    extensions.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
  }

  // VK_NV_cooperative_matrix where describe() found it usable: the prompt's product on the matrix units
  // (mul_mm_cm.comp, Options::mul_mm_coopmat), whose modules need fp16 arithmetic and the Vulkan memory model.
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDeviceVulkanMemoryModelFeatures memory_model{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  self->coopmat_ = self->info_.coopmat_usable;
  // The memory model, for the cooperative matrices or for tests (PENSER_VK_TEST_MEMORY_MODEL=1: lavapipe then
  // checks every module against it under the validation layer), always with Device scope (DeviceInfo).
  self->memory_model_ = self->info_.memory_model &&
                        (self->coopmat_ || env_flag("PENSER_VK_TEST_MEMORY_MODEL").value_or(false));
  void* const before_coopmat = feats.pNext;
  if (self->memory_model_) {
    memory_model.vulkanMemoryModel = VK_TRUE;
    memory_model.vulkanMemoryModelDeviceScope = VK_TRUE;
    chain_front(feats, memory_model);
  }
  if (self->coopmat_) {
    coopmat.cooperativeMatrix = VK_TRUE;
    f16.shaderFloat16 = VK_TRUE;
    chain_front(feats, f16);
    chain_front(feats, coopmat);
    extensions.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  }

  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &feats;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = uint32_t(extensions.size());
  dci.ppEnabledExtensionNames = extensions.data();
  VkResult created = vkCreateDevice(pd, &dci, nullptr, &self->device_);
  if (created != VK_SUCCESS && self->coopmat_) {
    // The cooperative matrices are an extra (the prompt's product on them is opt-in, and untried on most
    // drivers): a driver that lists them and then refuses them still opens the device, without them.
    std::fprintf(stderr, "penser: vulkan: %s refused VK_NV_cooperative_matrix (%s); opening it without\n",
                 self->info_.name.c_str(), result_name(created));
    self->coopmat_ = false;
    self->memory_model_ = false;
    feats.pNext = before_coopmat;  // the chain as it was before the memory model and coopmat
    extensions.pop_back();             // VK_NV_cooperative_matrix, pushed last
    dci.enabledExtensionCount = uint32_t(extensions.size());
    created = vkCreateDevice(pd, &dci, nullptr, &self->device_);
  }
  PENSER_VK_TRY(created, fmt::format("opening Vulkan device {} ({})", index, self->info_.name));
  // No volkLoadDevice: the device functions are the loader's trampolines, loaded once for every instance
  // and device (load_functions_once in context.cpp); a per-device load would redirect every other device.
  vkGetDeviceQueue(self->device_, self->queue_family_, 0, &self->queue_);

  VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pci.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pci.queueFamilyIndex = self->queue_family_;
  PENSER_VK_TRY(vkCreateCommandPool(self->device_, &pci, nullptr, &self->once_pool_), "creating a command pool");
  VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  PENSER_VK_TRY(vkCreateFence(self->device_, &fci, nullptr, &self->fence_), "creating a fence");
  if (auto n = env_uint("PENSER_VK_TEST_LOSE_AFTER", 0, UINT64_MAX)) {
    self->lose_after_ = *n;
    std::fprintf(stderr, "penser: vulkan: PENSER_VK_TEST_LOSE_AFTER=%llu: submissions after that many answer "
                 "VK_ERROR_DEVICE_LOST\n", static_cast<unsigned long long>(*n));
  }
  self->poison_ = env_flag("PENSER_VK_TEST_POISON").value_or(false);
  self->wide_bindings_ = env_flag("PENSER_VK_TEST_WIDE_BINDINGS").value_or(false);
  self->unmapped_ = env_flag("PENSER_VK_TEST_UNMAPPED").value_or(false);
  // Measurements (the GPU script's check plan): 1 staging buffer, each copy waiting for the one before.
  self->staging_count_ = int(env_uint("PENSER_VK_STAGING_BUFFERS", 1, kStagingBuffers).value_or(kStagingBuffers));
  // Tests: a stricter offset alignment than the driver's for storage, uniform and texel bindings (a power of
  // two up to 4096; lavapipe asks 16 or less, Intel 64, some mobile GPUs 256), so that every place that binds
  // a part of a buffer is checked against it on lavapipe. Stricter is always legal.
  if (auto a = env_uint("PENSER_VK_TEST_OFFSET_ALIGNMENT", 1, 4096); a && (*a & (*a - 1)) == 0) {
    DeviceInfo& i = self->info_;
    i.min_storage_offset_alignment = std::max<uint64_t>(i.min_storage_offset_alignment, *a);
    i.min_uniform_offset_alignment = std::max<uint64_t>(i.min_uniform_offset_alignment, *a);
    i.min_texel_offset_alignment = std::max<uint64_t>(i.min_texel_offset_alignment, *a);
  }
  return self;
}

Device::~Device() {
  if (device_ == VK_NULL_HANDLE) return;
  if (!settle()) {
    // A hung submission still runs: the fence, the pool, the staging buffers (one may be the one copying)
    // and the device stay (leaked until the process ends).
    std::fprintf(stderr, "penser: vulkan: %s still runs work that timed out; its device is left open\n",
                 info_.name.c_str());
    for (StagingSlot& slot : staging_) (void)slot.buffer.release();
    return;
  }
  for (StagingSlot& slot : staging_) slot.buffer.reset();
  if (fence_) vkDestroyFence(device_, fence_, nullptr);
  if (once_pool_) vkDestroyCommandPool(device_, once_pool_, nullptr);
  vkDestroyDevice(device_, nullptr);
}

Result<Device::StagingLease> Device::lend_staging(uint64_t bytes) {
  PENSER_ASSERT(bytes > 0 && bytes <= kStagingChunk);
  int slot = -1;
  {
    std::unique_lock lock(staging_mutex_);
    auto pick = [&] {  // a free slot: one with a buffer large enough, else one with a buffer, else any
      int best = -1, rank = 3;
      for (int i = 0; i < staging_count_; ++i) {
        const StagingSlot& s = staging_[i];
        if (s.lent) continue;
        const int r = !s.buffer ? 2 : s.buffer->size() < bytes ? 1 : 0;
        if (r < rank) best = i, rank = r;
      }
      return best;
    };
    staging_returned_.wait(lock, [&] { return (slot = pick()) >= 0; });
    staging_[slot].lent = true;
  }
  // The slot is this thread's until returned (by the lease, also on an error below): made or grown outside
  // the lock (pinned memory is slow to get).
  StagingLease lease(this, slot, nullptr);
  std::unique_ptr<Buffer>& b = staging_[slot].buffer;
  if (!b || b->size() < bytes) {
    b.reset();
    // At least 4 MiB, so that small tensors (norms, biases, small matrices) do not grow it step by step.
    const uint64_t size = std::max(bytes, std::min<uint64_t>(kStagingChunk, 4ull << 20));
    PENSER_ASSIGN_OR_RETURN(b, Buffer::create(*this, size, MemoryUse::Host, "a staging buffer"));
    ++staging_allocations_;
  }
  lease.buffer_ = b.get();
  return lease;
}

void Device::return_staging(int slot) {
  {
    std::lock_guard lock(staging_mutex_);
    staging_[slot].lent = false;
  }
  staging_returned_.notify_one();
}

void Device::release_staging() {
  std::lock_guard lock(staging_mutex_);
  for (StagingSlot& s : staging_) {
    PENSER_ASSERT(!s.lent);
    s.buffer.reset();
  }
}

Status Device::submit_and_wait(VkCommandBuffer cmd, std::string_view what, uint64_t timeout_ns) {
  std::lock_guard lock(submit_mutex_);
  // A lost device stays lost. After a time-out the fence may still be pending (resetting it would be
  // invalid), so nothing is submitted again; the fault-injection count answers as a lost device does.
  if (lost() || submissions_ >= lose_after_) {
    if (!lost()) lost_ = Loss::Reset;
    return vk_error(VK_ERROR_DEVICE_LOST, fmt::format("submitting {}", what));
  }
  ++submissions_;
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  PENSER_VK_TRY(vkResetFences(device_, 1, &fence_), "resetting a fence");
  if (const VkResult r = vkQueueSubmit(queue_, 1, &si, fence_); r != VK_SUCCESS) {
    if (r == VK_ERROR_DEVICE_LOST) lost_ = Loss::Reset;
    return vk_error(r, fmt::format("submitting {}", what));
  }
  if (timeout_ns == 0) timeout_ns = hang_timeout_ns();
  const VkResult r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, timeout_ns);
  if (r == VK_TIMEOUT) {
    lost_ = Loss::Hung;
    return make_error("{} did not finish on the GPU {} within {} s: the driver may have hung; try again, or use "
                      "the CPU backend", what, info_.name, timeout_ns / 1'000'000'000ull);
  }
  if (r == VK_ERROR_DEVICE_LOST) lost_ = Loss::Reset;
  if (r != VK_SUCCESS) return vk_error(r, fmt::format("waiting for {}", what));
  return {};
}

bool Device::settle(uint64_t timeout_ns) {
  if (device_ == VK_NULL_HANDLE) return true;
  if (pretend_running_) return false;
  if (lost_.load() != Loss::Hung) {
    vkDeviceWaitIdle(device_);  // VK_ERROR_DEVICE_LOST on a lost device, in finite time (the spec's promise)
    return true;
  }
  // Only the timed-out submission can be running (submissions are serialised and waited for). Its fence is
  // the one thing safe to wait on with a limit: vkDeviceWaitIdle has none, and a hung driver may never return.
  std::lock_guard lock(submit_mutex_);
  const VkResult r = vkWaitForFences(device_, 1, &fence_, VK_TRUE, timeout_ns);
  return r != VK_TIMEOUT;  // finished, or lost since (the driver's reset ended it)
}

Result<VkCommandBuffer> Device::begin_once() {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = once_pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  PENSER_VK_TRY(vkAllocateCommandBuffers(device_, &ai, &cmd), "allocating a command buffer");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  const VkResult r = vkBeginCommandBuffer(cmd, &bi);
  if (r != VK_SUCCESS) {
    vkFreeCommandBuffers(device_, once_pool_, 1, &cmd);
    return vk_error(r, "beginning a command buffer");
  }
  return cmd;
}

Status Device::end_once(VkCommandBuffer cmd, std::string_view what) {
  VkResult r = vkEndCommandBuffer(cmd);
  Status s;
  if (r != VK_SUCCESS) s = vk_error(r, "ending a command buffer");
  else s = submit_and_wait(cmd, what);
  vkFreeCommandBuffers(device_, once_pool_, 1, &cmd);
  return s;
}

std::optional<Device::DriverMemory> Device::driver_device_local_memory() const {
  if (!info_.budget_known) return std::nullopt;
  DriverMemory m;
  for (const MemoryHeap& h : read_heaps(physical_, true))
    if (h.device_local) {
      m.usage += h.usage;
      m.budget += h.budget;
    }
  return m;
}

Status Device::check_fits(uint64_t bytes, std::string_view what) const {
  return fit_error(info_, bytes, what);
}

Status fit_error(const DeviceInfo& info, uint64_t bytes, std::string_view what) {
  // DeviceInfo::usable_bytes: 90% of the memory (or of system memory on an integrated GPU where that is
  // larger), and no more than 95% of what the driver says is free now.
  const uint64_t usable = info.usable_bytes();
  if (bytes <= usable) return {};
  if (info.limited_by_others())
    return make_error("{} need {} but the GPU {} has only {} of its {} free now ({} usable): other programs are "
                      "using the rest; close programs that use the GPU (games, browsers, other AI apps), or "
                      "choose a smaller model or context, or the CPU backend",
                      what, format_bytes(bytes), info.name, format_bytes(info.memory_free()),
                      format_bytes(info.memory_budget()), format_bytes(usable));
  return make_error("{} need {} but the GPU {} has {} of memory ({} usable); choose a smaller model or "
                    "context, or the CPU backend",
                    what, format_bytes(bytes), info.name, format_bytes(info.memory_budget()), format_bytes(usable));
}

}  // namespace penser::vulkan
