// Loading Vulkan, the instance, and what every physical device offers.
//
// load() opens the Vulkan loader at run time (volk), so Penser starts on a machine without libvulkan and
// falls back to the CPU backend with the reason. Instance enumerates devices; choose_device() applies the
// default policy: discrete GPU, then integrated, then virtual/other; a CPU implementation (lavapipe,
// SwiftShader) only when asked for or when it is the only device.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/vulkan/vk.h"

namespace penser::vulkan {

// Opens the loader once per process; later calls return the first answer.
Status load();

struct MemoryHeap {
  uint64_t size = 0;
  bool device_local = false;
  // VK_EXT_memory_budget, where the driver has it (both 0 otherwise): how much of the heap this process may
  // use now, the operating system's and the other programs' shares taken off, and how much it uses.
  uint64_t budget = 0, usage = 0;
  uint64_t free() const { return budget > usage ? budget - usage : 0; }
};

struct DeviceInfo {
  uint32_t index = 0;            // position in vkEnumeratePhysicalDevices order: `--device N`
  std::string name;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  std::string type_name;         // "discrete", "integrated", "virtual", "cpu", "other"
  std::string driver_name;       // VkPhysicalDeviceDriverProperties (Vulkan 1.2), else ""
  VkDriverId driver_id = VkDriverId(0);  // the same; 0 when the driver does not say
  std::string driver_info;
  uint32_t api_version = 0;
  uint32_t vendor_id = 0, device_id = 0;
  // deviceUUID (VkPhysicalDeviceIDProperties, Vulkan 1.1) in 32 hex digits: the spec has it immutable across
  // instances, processes, driver versions and reboots, while `index` follows the loader's order, which can
  // change (a driver update, an eGPU plugged in, Windows' GPU preference). Empty when the driver says zeros.
  std::string uuid;
  std::vector<MemoryHeap> heaps;
  uint64_t device_local_bytes = 0;  // the largest device-local heap
  // The largest heap that is not device-local but has a host-visible memory type: system memory the GPU
  // reads. On an integrated GPU it is the same physical memory (AMD's Windows driver reports only the BIOS
  // carve-out, often 512 MiB, as device-local on its APUs).
  uint64_t system_bytes = 0;
  bool unified_memory = false;      // a memory type is both device-local and host-visible
  bool device_memory_mapped = false;  // the CPU maps the device-local memory buffers go to (memory.h:
                                      // device_memory_mapped): unified memory or resizable BAR; else staging
  // VK_EXT_memory_budget: whether the heaps' budgets are known, and what this process may still allocate
  // now in the heap device_local_bytes names and in the one system_bytes names. A laptop's GPU is shared with
  // the desktop, the browser and games: 1-3 GiB of an 8 GiB GPU are often taken before Penser starts.
  bool budget_known = false;
  uint64_t device_local_free = 0, system_free = 0;
  uint32_t subgroup_size = 0;        // VkPhysicalDeviceSubgroupProperties: what SPIR-V 1.5 shaders see by default
  bool subgroup_arithmetic = false;  // compute stage supports subgroupAdd/Max
  bool subgroup_ballot = false;      // compute stage supports subgroupBroadcast (mul_mm_cpu.comp)
  // VkPhysicalDeviceSubgroupSizeControlProperties (VK_EXT_subgroup_size_control, core in 1.3); 0 when the
  // driver does not report them. min != max: the compiler picks the width per pipeline (Intel SIMD8/16/32,
  // AMD wave32/64) unless a pipeline requires one.
  uint32_t min_subgroup_size = 0, max_subgroup_size = 0;
  uint32_t max_compute_workgroup_subgroups = 0;
  bool subgroup_size_control = false;  // subgroupSizeControl, and compute in requiredSubgroupSizeStages
  bool compute_full_subgroups = false;  // computeFullSubgroups
  bool fp16 = false;                 // shaderFloat16
  bool int8 = false;                 // shaderInt8
  bool int64 = false;                // shaderInt64 (the probe's and lavapipe's Q4_K 8-byte loads)
  bool storage_16bit = false;        // storageBuffer16BitAccess (required: quant blocks are read as u16)
  bool storage_8bit = false;
  bool integer_dot_product = false;  // VK_KHR_shader_integer_dot_product
  // And its feature shaderIntegerDotProduct (Device enables both: the decode products' x in 8 bits,
  // Options::mul_mv_q8x), and whether the driver says 4 x 8-bit packed signed dot products run in hardware
  // (integerDotProduct4x8BitPackedSignedAccelerated; lavapipe: no).
  bool integer_dot_usable = false;
  bool integer_dot_accelerated = false;
  // VK_KHR_pipeline_executable_properties with pipelineExecutableInfo: the compiler's statistics of each
  // pipeline (registers, spills, occupancy: what the driver reports), printed where asked
  // (PENSER_VK_PIPELINE_STATS=1, Device::pipeline_statistics). Mesa's RADV / ANV and NVIDIA have it;
  // lavapipe 22.3 does not.
  bool pipeline_statistics = false;
  bool cooperative_matrix = false;   // VK_KHR_cooperative_matrix
  // VK_NV_cooperative_matrix (NVIDIA drivers; Debian 12's glslang compiles only the NV GLSL extension): the
  // shapes M x N x K it lists with fp16 A/B, fp32 C/D at subgroup scope (what mul_mm_cm.comp multiplies),
  // and whether the device also has the features that shader needs: cooperativeMatrix, shaderFloat16 and
  // the Vulkan memory model (glslang declares it for cooperative matrices), Vulkan 1.2.
  // memory_model: vulkanMemoryModel and vulkanMemoryModelDeviceScope both. They are enabled together: with
  // vulkanMemoryModel alone every module that uses Device scope is invalid (VUID-RuntimeSpirv-vulkanMemoryModel-
  // 06265), and that is every module with memoryBarrierBuffer() or a buffer atomic (the carried norm, the
  // attention's split-K). The first H200 run with cooperative matrices enabled failed every suite on it.
  bool memory_model = false;
  struct CoopMatShape {
    uint32_t m = 0, n = 0, k = 0;
  };
  bool nv_cooperative_matrix = false;
  std::vector<CoopMatShape> coopmat_shapes;
  bool coopmat_usable = false;  // the extension, one shape above and those features: Device enables them
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_memory_allocation_size = 0;
  uint32_t max_shared_memory = 0;
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_count[3] = {0, 0, 0};
  uint32_t max_push_constants = 0;
  uint32_t max_storage_buffers_per_stage = 0;
  uint64_t min_storage_offset_alignment = 0;
  uint64_t max_uniform_buffer_range = 0;      // a uniform-buffer binding's largest range (mul_mv's x: X_UBO)
  uint64_t min_uniform_offset_alignment = 0;
  uint64_t min_texel_offset_alignment = 0;    // a texel-buffer view's offset (interleaved weights: Matrix)
  uint64_t max_texel_elements = 0;            // maxTexelBufferElements
  float timestamp_period = 0;       // nanoseconds per timestamp tick (0: no timestamps in compute)
  // Empty when Penser can run on it; otherwise why not (missing Vulkan 1.1, 16-bit storage, ...).
  std::string unusable_reason;
  bool usable() const { return unusable_reason.empty(); }
  bool is_cpu() const { return type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
  // Memory the model and its cache may take: the largest device-local heap, or on an integrated GPU the
  // system-memory heap where that is larger (buffers go there when device-local memory runs out: Buffer).
  bool system_memory_fallback() const { return type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU || is_cpu(); }
  uint64_t memory_budget() const {
    return system_memory_fallback() ? std::max(device_local_bytes, system_bytes) : device_local_bytes;
  }
  // The part of memory_budget()'s heap that is free now (VK_EXT_memory_budget); memory_budget() when unknown.
  uint64_t memory_free() const {
    if (!budget_known) return memory_budget();
    return system_memory_fallback() && system_bytes > device_local_bytes ? system_free : device_local_free;
  }
  // What a model and its cache may take (Device::check_fits and the app's fit check): 90% of the memory,
  // leaving room for the driver, the display and other programs; where the driver says what is free now,
  // no more than 95% of that either (the budget already counts the display's and other programs' share).
  uint64_t usable_bytes() const {
    const uint64_t all = memory_budget() / 10 * 9;
    return budget_known ? std::min(all, memory_free() / 20 * 19) : all;
  }
  // Whether other programs' use of the GPU is what limits usable_bytes().
  bool limited_by_others() const { return usable_bytes() < memory_budget() / 10 * 9; }
  // MoltenVK (Vulkan on Apple's Metal): its shaders are translated to Metal, whose guarantees differ (no
  // memory-only fence, no device-coherent buffers before MSL 3.2: docs/vulkan.md, "Barriers and Apple GPUs").
  bool is_moltenvk() const { return driver_id == VK_DRIVER_ID_MOLTENVK || driver_name == "MoltenVK"; }
};

// A physical device's memory heaps, with each one's budget and usage now where `budget_known` (the device
// offers VK_EXT_memory_budget), and its memory properties in `props` when given: describe() and
// Device::driver_device_local_memory() read them this one way.
std::vector<MemoryHeap> read_heaps(VkPhysicalDevice pd, bool budget_known,
                                   VkPhysicalDeviceMemoryProperties* props = nullptr);

std::string api_version_string(uint32_t v);  // "1.3.230"

// How the shaders use subgroups on a device: the subgroup reductions (`wg_sum`, `wg_max`) and the grouped
// decode attention (which maps lane = invocation % size, so it needs exactly the width it is specialized
// for, in whole subgroups) either run at one known width or are turned off (shared-memory fall-backs).
struct SubgroupPlan {
  bool enabled = false;  // subgroup paths on
  uint32_t size = 0;     // the width the shaders are specialized for (0 when off)
  bool pinned = false;   // pipelines require `size` (VkPipelineShaderStageRequiredSubgroupSizeCreateInfo)
  bool full = false;     // and full subgroups where the workgroup is a multiple of `size`
  std::string note;      // one line for `penser-cli devices`: how the width is known, or why it is off
};

// Why a device cannot run Penser, from its description ("" when it can; DeviceInfo::unusable_reason):
// Vulkan 1.1, 16-bit storage buffers, subgroup arithmetic in compute (the shader modules declare it), 256
// invocations and 16 KiB of shared memory per workgroup, 8 storage buffers per stage, 128-byte push constants.
std::string unusable_reason(const DeviceInfo& info);

// The decision, from the device's description alone (unit-tested on synthetic devices). `requested`
// (PENSER_VK_SUBGROUP_SIZE, 0: none) picks another width to pin where the device can pin it.
SubgroupPlan plan_subgroups(const DeviceInfo& info, uint32_t requested = 0);
// plan_subgroups with the environment's PENSER_VK_SUBGROUP_SIZE: what Device and `penser-cli devices` use.
SubgroupPlan device_subgroup_plan(const DeviceInfo& info);

class Instance {
 public:
  struct Options {
    // Enables VK_LAYER_KHRONOS_validation (when installed) and counts its error messages. Tests turn it
    // on; also on when the environment variable PENSER_VULKAN_VALIDATION=1 is set.
    bool validation = false;
    // With validation: the layer's synchronization validation too (VK_EXT_validation_features), which
    // reports a read or write that no barrier orders against an earlier one (SYNC-HAZARD-*). On lavapipe
    // dispatches run one after another, so a missing barrier gives right results here and wrong ones on a
    // GPU: this is the check that sees it. ~0-10% slower suites (2026-11-29).
    bool sync_validation = true;
  };

  static Result<std::unique_ptr<Instance>> create(const Options& options);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const { return instance_; }
  const std::vector<DeviceInfo>& devices() const { return infos_; }
  VkPhysicalDevice physical_device(uint32_t index) const { return physical_[index]; }

  bool validation_enabled() const { return messenger_ != VK_NULL_HANDLE; }
  bool sync_validation_enabled() const { return sync_validation_; }
  // Validation errors (and warnings) reported since creation; a test fails when this is non-zero.
  uint32_t validation_errors() const;
  // The same, counted over every instance the process has made (an evaluator makes its own): the Vulkan
  // suites' cleanup() fails on any new one (tests/vulkan/vk_fixture.h).
  static uint64_t validation_errors_in_process();
  std::vector<std::string> validation_messages() const;

 private:
  Instance() = default;
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data, void* self);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  bool sync_validation_ = false;
  std::vector<VkPhysicalDevice> physical_;
  std::vector<DeviceInfo> infos_;
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;
  std::atomic<uint32_t> errors_{0};
};

// What identifies a device from one run to the next (the app's GPU setting): its uuid, or where the driver gives
// none its vendor, device id and name ("10de:2684:NVIDIA GeForce RTX 4090").
std::string device_identity(const DeviceInfo& d);
// The index of the device with that identity now, if it is present.
std::optional<uint32_t> find_device(std::span<const DeviceInfo> devices, std::string_view identity);

// The default device: the usable one of the best type (discrete > integrated > virtual > other > cpu),
// the largest device-local heap breaking ties. CPU devices only when allow_cpu or nothing else is usable.
// `requested` (--device N) overrides: an error if N does not exist or cannot run Penser.
Result<uint32_t> choose_device(std::span<const DeviceInfo> devices, std::optional<uint32_t> requested,
                               bool allow_cpu);

}  // namespace penser::vulkan
