#include "inference/vulkan/memory.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace penser::vulkan {

namespace {
constexpr VkMemoryPropertyFlags kHostCoherent = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
uint64_t largest_device_local_heap(const VkPhysicalDeviceMemoryProperties& props) {
  uint64_t largest = 0;
  for (uint32_t i = 0; i < props.memoryHeapCount; ++i)
    if (props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) largest = std::max(largest, props.memoryHeaps[i].size);
  return largest;
}
// Device-local and mapped, in a heap as large as the largest device-local one (unified memory or a resizable
// BAR; a discrete GPU without one also offers such a type, in a 256 MiB "BAR" heap).
bool mapped_device_local(const VkPhysicalDeviceMemoryProperties& props, uint32_t i, uint64_t largest_local) {
  const VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
  return (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & kHostCoherent) == kHostCoherent &&
         props.memoryHeaps[props.memoryTypes[i].heapIndex].size >= largest_local;
}
}  // namespace

bool device_memory_mapped(const VkPhysicalDeviceMemoryProperties& props) {
  const uint64_t largest = largest_device_local_heap(props);
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
    if (mapped_device_local(props, i, largest)) return true;
  return false;
}

std::vector<MemoryChoice> memory_type_order(const VkPhysicalDeviceMemoryProperties& props, uint32_t type_bits,
                                            MemoryUse use, const DeviceInfo& info) {
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  auto flags = [&](uint32_t i) { return props.memoryTypes[i].propertyFlags; };
  auto heap = [&](uint32_t i) { return props.memoryHeaps[props.memoryTypes[i].heapIndex]; };
  auto allowed = [&](uint32_t i) { return (type_bits & (1u << i)) != 0; };
  std::vector<MemoryChoice> out;
  auto add = [&](uint32_t i, bool system) {
    for (const MemoryChoice& c : out)
      if (c.type == i) return;
    out.push_back({i, system});
  };
  if (use == MemoryUse::Host) {
    // Staging and read-back: host-visible and coherent, cached where possible (the CPU reads it back).
    for (uint32_t want : {host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, host})
      for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
        if (allowed(i) && (flags(i) & want) == want) add(i, false);
    return out;
  }
  const uint64_t largest_local = largest_device_local_heap(props);
  auto local = [&](uint32_t i) { return (flags(i) & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0; };
  // 1. Device-local and mapped (no staging copy), but only in a heap as large as the largest device-local one:
  //    unified memory or a resizable BAR (device_memory_mapped). A discrete GPU without one also offers such
  //    a type in a 256 MiB "BAR" heap; weights put there first fill it and then fail to allocate.
  if (use == MemoryUse::DeviceLocal)
    for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
      if (allowed(i) && mapped_device_local(props, i, largest_local)) add(i, false);
  // 2. Device-local, the larger heaps first (split heaps: the next one when one is full).
  std::vector<uint32_t> locals;
  for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
    if (allowed(i) && local(i)) locals.push_back(i);
  std::stable_sort(locals.begin(), locals.end(), [&](uint32_t a, uint32_t b) {
    if (heap(a).size != heap(b).size) return heap(a).size > heap(b).size;
    return (flags(a) & host) != host && (flags(b) & host) == host;  // in one heap, the plain type first
  });
  for (uint32_t i : locals) add(i, false);
  // 3. On an integrated GPU (or a CPU implementation) whose device-local memory is full, the same physical
  //    memory through a host-visible type of a system-memory heap (AMD's Windows driver reports only the
  //    BIOS carve-out, often 512 MiB, as device-local on its APUs); or of any heap where there is none. A
  //    discrete GPU would read it across the bus: there the allocation error stands.
  if (info.system_memory_fallback()) {
    bool found = false;
    for (int pass = 0; pass < 2 && !found; ++pass)  // pass 1 (a device with no system heap): the same types again
      for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
        const bool heap_local = heap(i).flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
        if (allowed(i) && (flags(i) & host) == host && (pass == 1 || !heap_local)) {
          out.push_back({i, true});
          found = true;
        }
      }
  }
  // 4. A device with no device-local type at all (none known): any type the buffer allows.
  if (out.empty())
    for (uint32_t i = 0; i < props.memoryTypeCount; ++i)
      if (allowed(i)) add(i, false);
  return out;
}

Result<std::unique_ptr<Buffer>> Buffer::create(Device& device, uint64_t size, MemoryUse use, std::string_view what) {
  PENSER_ASSERT(size > 0);
  const DeviceInfo& info = device.info();
  if (info.max_memory_allocation_size != 0 && size > info.max_memory_allocation_size)
    return make_error("{} needs one allocation of {} but the GPU {} allows at most {} per allocation", what,
                      format_bytes(size), info.name, format_bytes(info.max_memory_allocation_size));
  std::unique_ptr<Buffer> self(new Buffer());
  self->device_ = &device;
  self->what_ = what;
  self->size_ = size;
  self->guard_ = device.poison_new_buffers() ? kPoisonGuard : 0;
  VkDevice dev = device.handle();

  VkBufferCreateInfo bci{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bci.size = size + self->guard_;
  bci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  // Uniform too on CPU implementations: any activation may be a product's x, bound as a uniform buffer there
  // (Ops::mul_mv, X_UBO). Not on GPUs, which never bind one: the usage can raise a buffer's alignment.
  if (info.is_cpu()) bci.usage |= VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
  self->uniform_usage_ = info.is_cpu();
  bci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  PENSER_VK_TRY(vkCreateBuffer(dev, &bci, nullptr, &self->buffer_), fmt::format("creating {} ({})", what, format_bytes(size)));

  VkMemoryRequirements req{};
  vkGetBufferMemoryRequirements(dev, self->buffer_, &req);
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const VkPhysicalDeviceMemoryProperties& props = device.memory_properties();
  const std::vector<MemoryChoice> order = memory_type_order(props, req.memoryTypeBits, use, info);
  if (order.empty())
    return make_error("the GPU {} has no suitable memory type for {} (types 0x{:x})", info.name, what, req.memoryTypeBits);
  // The first candidate that has room: a full heap answers VK_ERROR_OUT_OF_DEVICE_MEMORY and the next one is
  // tried (another device-local heap, then system memory where memory_type_order allows it).
  VkMemoryAllocateInfo mai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  mai.allocationSize = req.size;
  // What the buffer counts against the device (the tests' guard is not the program's memory).
  const uint64_t counted = req.size > self->guard_ ? req.size - self->guard_ : req.size;
  VkResult allocated = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  uint32_t type = order.front().type;
  const uint64_t limit = device.device_local_limit_for_tests();
  for (const MemoryChoice& c : order) {
    type = c.type;
    const bool device_local = props.memoryTypes[c.type].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    if (device_local && !c.system_memory && use != MemoryUse::Host && limit != 0 &&
        device.device_local_taken() + counted > limit)
      continue;  // tests: as if the device-local heaps were full
    mai.memoryTypeIndex = c.type;
    allocated = vkAllocateMemory(dev, &mai, nullptr, &self->memory_);
    if (allocated == VK_SUCCESS) {
      if (device_local && !c.system_memory && use != MemoryUse::Host) {
        device.device_local_taken() += counted;
        self->device_local_counted_ = counted;
      }
      self->system_memory_ = c.system_memory;
      break;
    }
    self->memory_ = VK_NULL_HANDLE;  // nothing for the destructor to free
    if (allocated != VK_ERROR_OUT_OF_DEVICE_MEMORY) break;
  }
  PENSER_VK_TRY(allocated, fmt::format("allocating {} of GPU memory for {}", format_bytes(req.size), what));
  PENSER_VK_TRY(vkBindBufferMemory(dev, self->buffer_, self->memory_, 0), "binding buffer memory");
  const VkMemoryPropertyFlags flags = props.memoryTypes[type].propertyFlags;
  const bool staged = use == MemoryUse::DeviceStaged || (use == MemoryUse::DeviceLocal && device.unmapped_device_memory());
  if ((flags & host) == host && !staged)
    PENSER_VK_TRY(vkMapMemory(dev, self->memory_, 0, VK_WHOLE_SIZE, 0, &self->mapped_), "mapping GPU memory");
  if (device.poison_new_buffers()) {
    if (self->mapped_) {
      std::memset(self->mapped_, 0xff, size + self->guard_);
    } else {
      VkBuffer b = self->buffer_;
      PENSER_TRY(device.run_once("poisoning a new buffer (tests)",
                                 [&](VkCommandBuffer cmd) { vkCmdFillBuffer(cmd, b, 0, VK_WHOLE_SIZE, 0xffffffffu); }));
    }
  }
  return self;
}

namespace {
std::atomic<uint64_t> g_out_of_bounds_writes{0};
}

uint64_t out_of_bounds_writes_seen() { return g_out_of_bounds_writes.load(); }

Buffer::~Buffer() {
  if (guard_ && mapped_ && !(device_ && device_->lost())) {
    const auto* tail = static_cast<const uint8_t*>(mapped_) + size_;
    for (uint64_t i = 0; i < guard_; ++i)
      if (tail[i] != 0xff) {
        g_out_of_bounds_writes.fetch_add(1);
        std::fprintf(stderr, "penser: vulkan: something wrote past the end of %s (%llu bytes): byte %llu after it "
                     "is 0x%02x, not the poison\n", what_.c_str(), static_cast<unsigned long long>(size_),
                     static_cast<unsigned long long>(i), tail[i]);
        break;
      }
  }
  VkDevice dev = device_ ? device_->handle() : VK_NULL_HANDLE;
  if (device_) device_->device_local_taken() -= device_local_counted_;
  if (mapped_) vkUnmapMemory(dev, memory_);
  if (buffer_) vkDestroyBuffer(dev, buffer_, nullptr);
  if (memory_) vkFreeMemory(dev, memory_, nullptr);
}

Status Buffer::write(uint64_t offset, const void* data, uint64_t n) {
  PENSER_ASSERT(offset + n <= size_);
  return copy(offset, const_cast<void*>(data), n, true);
}

Status Buffer::read(uint64_t offset, void* data, uint64_t n) const {
  PENSER_ASSERT(offset + n <= size_);
  return copy(offset, data, n, false);
}

Status Buffer::copy(uint64_t offset, void* host, uint64_t n, bool to_device) const {
  if (n == 0) return {};
  if (mapped_) {
    // Host-coherent memory: no flush needed. The GPU work that produced or will consume it is ordered by
    // the fence wait before a read and by vkQueueSubmit after a write.
    if (to_device) std::memcpy(static_cast<uint8_t*>(mapped_) + offset, host, n);
    else std::memcpy(host, static_cast<const uint8_t*>(mapped_) + offset, n);
    return {};
  }
  const uint64_t chunk = std::min(n, kStagingChunk);
  // One of the device's staging buffers, reused, this copy's alone until it returns (Device::lend_staging):
  // other threads' copies fill the other meanwhile.
  PENSER_ASSIGN_OR_RETURN(Device::StagingLease lease, device_->lend_staging(chunk));
  const Buffer* staging = lease.buffer();
  PENSER_ASSERT(staging->mapped_ != nullptr);
  for (uint64_t done = 0; done < n; done += chunk) {
    const uint64_t len = std::min(chunk, n - done);
    uint8_t* h = static_cast<uint8_t*>(host) + done;
    if (to_device) std::memcpy(staging->mapped_, h, len);
    PENSER_TRY(device_->run_once(to_device ? "an upload to the GPU" : "a read-back from the GPU", [&](VkCommandBuffer cmd) {
      // Order against earlier compute work on the same memory, and make the copy visible to later work.
      VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
      mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
      mb.dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
      VkBufferCopy region{};
      region.size = len;
      if (to_device) {
        region.dstOffset = offset + done;
        vkCmdCopyBuffer(cmd, staging->buffer_, buffer_, 1, &region);
      } else {
        region.srcOffset = offset + done;
        vkCmdCopyBuffer(cmd, buffer_, staging->buffer_, 1, &region);
      }
      VkMemoryBarrier after{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
      after.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      after.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
      vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                           VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &after, 0,
                           nullptr, 0, nullptr);
    }));
    if (!to_device) std::memcpy(h, staging->mapped_, len);
  }
  return {};
}

}  // namespace penser::vulkan
