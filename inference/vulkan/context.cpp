#include "inference/vulkan/context.h"
#include "inference/vulkan/memory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>

#if defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "inference/vulkan/knobs.h"

namespace penser::vulkan {

namespace {
std::atomic<uint64_t> g_validation_errors{0};  // Instance::validation_errors_in_process
}

const char* result_name(VkResult r) {
  switch (r) {
#define PENSER_VK_CASE(x) case x: return #x;
    PENSER_VK_CASE(VK_SUCCESS)
    PENSER_VK_CASE(VK_NOT_READY)
    PENSER_VK_CASE(VK_TIMEOUT)
    PENSER_VK_CASE(VK_INCOMPLETE)
    PENSER_VK_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    PENSER_VK_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    PENSER_VK_CASE(VK_ERROR_INITIALIZATION_FAILED)
    PENSER_VK_CASE(VK_ERROR_DEVICE_LOST)
    PENSER_VK_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    PENSER_VK_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    PENSER_VK_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    PENSER_VK_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    PENSER_VK_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    PENSER_VK_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    PENSER_VK_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    PENSER_VK_CASE(VK_ERROR_FRAGMENTED_POOL)
    PENSER_VK_CASE(VK_ERROR_UNKNOWN)
    PENSER_VK_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    PENSER_VK_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    PENSER_VK_CASE(VK_ERROR_FRAGMENTATION)
#undef PENSER_VK_CASE
    default: return "VkResult(unknown)";
  }
}

namespace {
const char* result_advice(VkResult r) {
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "the computer is out of memory";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "the GPU is out of memory: use a smaller model or context, or close programs that use the GPU";
    case VK_ERROR_DEVICE_LOST:
      return "the GPU driver reset the device (a crash or a time-out); try again, or use the CPU backend";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "the installed Vulkan driver is too old or not for this GPU";
    case VK_ERROR_INITIALIZATION_FAILED: return "the Vulkan driver failed to start";
    case VK_ERROR_LAYER_NOT_PRESENT: return "a requested Vulkan layer is not installed";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT: return "the GPU driver lacks a capability Penser needs";
    case VK_TIMEOUT: return "the GPU did not finish in time";
    default: return "a Vulkan driver error";
  }
}
}  // namespace

Error vk_error(VkResult r, std::string_view what) {
  return make_error("{} failed: {} ({})", what, result_name(r), result_advice(r));
}

std::string format_bytes(uint64_t b) {
  const double gib = 1024.0 * 1024.0 * 1024.0, mib = 1024.0 * 1024.0;
  if (b >= (uint64_t(1) << 30)) return fmt::format("{:.2f} GiB", double(b) / gib);
  if (b >= (uint64_t(1) << 20)) return fmt::format("{:.1f} MiB", double(b) / mib);
  if (b >= 1024) return fmt::format("{:.1f} KiB", double(b) / 1024.0);
  return fmt::format("{} B", b);
}

std::string api_version_string(uint32_t v) {
  return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

#if defined(__APPLE__)
namespace {
// Inside Penser.app the Khronos loader sits in Contents/Frameworks (installer/macos/macos.cmake), beside
// MoltenVK. volkInitialize() dlopens leaf names only, and dyld does not look in the bundle for those; so the
// bundled loader is opened by its path first. Outside a bundle the file is absent and volk searches as usual.
VkResult initialize_from_bundle() {
  void* loader = dlopen("@executable_path/../Frameworks/libvulkan.1.dylib", RTLD_NOW | RTLD_LOCAL);
  if (!loader) return VK_ERROR_INITIALIZATION_FAILED;
  auto get_proc = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(loader, "vkGetInstanceProcAddr"));
  if (!get_proc) return VK_ERROR_INITIALIZATION_FAILED;
  volkInitializeCustom(get_proc);
  return VK_SUCCESS;
}
}  // namespace
#endif

Status load() {
  static const Status status = []() -> Status {
#if defined(__APPLE__)
    VkResult r = initialize_from_bundle();
    if (r != VK_SUCCESS) r = volkInitialize();
#else
    const VkResult r = volkInitialize();
#endif
    if (r != VK_SUCCESS)
      return make_error(
          "Vulkan is not available: the Vulkan loader ({}) could not be opened. Install the GPU's Vulkan "
          "driver (Debian/Ubuntu: libvulkan1 and mesa-vulkan-drivers)",
#if defined(_WIN32)
          "vulkan-1.dll"
#elif defined(__APPLE__)
          "libvulkan.1.dylib / MoltenVK"
#else
          "libvulkan.so.1"
#endif
      );
    if (volkGetInstanceVersion() < VK_API_VERSION_1_1)
      return make_error("Vulkan is not usable: the loader supports Vulkan {}, Penser needs 1.1 or newer",
                        api_version_string(volkGetInstanceVersion()));
    return {};
  }();
  return status;
}

namespace {

const char* type_name_of(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

bool has_extension(const std::vector<VkExtensionProperties>& exts, const char* name) {
  return std::any_of(exts.begin(), exts.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

}  // namespace

std::vector<MemoryHeap> read_heaps(VkPhysicalDevice pd, bool budget_known, VkPhysicalDeviceMemoryProperties* props) {
  // A physical-device query: VK_EXT_memory_budget need not be enabled on a device, only offered.
  VkPhysicalDeviceMemoryBudgetPropertiesEXT budget{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
  VkPhysicalDeviceMemoryProperties2 mem2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2};
  if (budget_known) mem2.pNext = &budget;
  vkGetPhysicalDeviceMemoryProperties2(pd, &mem2);
  const VkPhysicalDeviceMemoryProperties& mem = mem2.memoryProperties;
  std::vector<MemoryHeap> heaps;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    MemoryHeap h{mem.memoryHeaps[i].size, (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0};
    if (budget_known) {
      h.budget = budget.heapBudget[i];
      h.usage = budget.heapUsage[i];
    }
    heaps.push_back(h);
  }
  if (props) *props = mem;
  return heaps;
}

namespace {

DeviceInfo describe(VkPhysicalDevice pd, uint32_t index) {
  DeviceInfo info;
  info.index = index;

  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(pd, &props);
  info.api_version = props.apiVersion;
  const bool v12 = props.apiVersion >= VK_API_VERSION_1_2;

  uint32_t n_ext = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n_ext, nullptr);
  std::vector<VkExtensionProperties> exts(n_ext);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n_ext, exts.data());

  // Subgroup size control through the extension only: the instance asks for Vulkan 1.2 at most, so the
  // 1.3 core feature is not ours to enable (every 1.3 driver we know still lists the extension).
  const bool size_control = has_extension(exts, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceMaintenance3Properties maint3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceSubgroupSizeControlPropertiesEXT sizes{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
  // Integer dot products through the extension (a 1.3 driver lists it too; the instance asks for 1.2 at most).
  const bool idot = has_extension(exts, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  VkPhysicalDeviceShaderIntegerDotProductPropertiesKHR idot_props{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_PROPERTIES_KHR};
  VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
  VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props2.pNext = &subgroup;
  subgroup.pNext = &maint3;
  if (v12 || has_extension(exts, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) maint3.pNext = &driver;
  if (size_control) chain_front(props2, sizes);
  if (idot) chain_front(props2, idot_props);
  if (props.apiVersion >= VK_API_VERSION_1_1) chain_front(props2, ids);
  vkGetPhysicalDeviceProperties2(pd, &props2);

  VkPhysicalDevice16BitStorageFeatures f16s{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDeviceShaderFloat16Int8Features f16i8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  VkPhysicalDeviceFeatures2 feats2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  feats2.pNext = &f16s;
  if (v12 || has_extension(exts, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
    f16s.pNext = &f16i8;
    f16i8.pNext = (v12 || has_extension(exts, VK_KHR_8BIT_STORAGE_EXTENSION_NAME)) ? &s8 : nullptr;
  }
  VkPhysicalDeviceSubgroupSizeControlFeaturesEXT size_feats{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
  if (size_control) chain_front(feats2, size_feats);
  VkPhysicalDeviceShaderIntegerDotProductFeaturesKHR idot_feats{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES_KHR};
  if (idot) chain_front(feats2, idot_feats);
  const bool exec_props = has_extension(exts, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR exec_feats{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
  if (exec_props) chain_front(feats2, exec_feats);
  // The Vulkan memory model (Vulkan 1.2 core), and VK_NV_cooperative_matrix's feature, whose shaders declare it.
  const bool nv_coopmat = has_extension(exts, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  const bool v12_instance = v12 && volkGetInstanceVersion() >= VK_API_VERSION_1_2;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coopmat_feats{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  VkPhysicalDeviceVulkanMemoryModelFeatures memory_model{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
  if (v12_instance) {
    chain_front(feats2, memory_model);
    if (nv_coopmat) chain_front(feats2, coopmat_feats);
  }
  vkGetPhysicalDeviceFeatures2(pd, &feats2);

  VkPhysicalDeviceMemoryProperties mem{};
  info.budget_known = has_extension(exts, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  info.heaps = read_heaps(pd, info.budget_known, &mem);

  info.name = props.deviceName;
  info.type = props.deviceType;
  info.type_name = type_name_of(props.deviceType);
  info.driver_name = driver.driverName;
  info.driver_id = driver.driverID;
  info.driver_info = driver.driverInfo;
  info.vendor_id = props.vendorID;
  info.device_id = props.deviceID;
  if (std::any_of(std::begin(ids.deviceUUID), std::end(ids.deviceUUID), [](uint8_t b) { return b != 0; }))
    for (uint8_t b : ids.deviceUUID) info.uuid += fmt::format("{:02x}", b);
  for (const MemoryHeap& h : info.heaps)
    if (h.device_local && h.size > info.device_local_bytes) {
      info.device_local_bytes = h.size;
      info.device_local_free = h.free();
    }
  info.device_memory_mapped = device_memory_mapped(mem);
  for (uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
    const VkMemoryPropertyFlags f = mem.memoryTypes[i].propertyFlags;
    if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT))
      info.unified_memory = true;
    const VkMemoryHeap& heap = mem.memoryHeaps[mem.memoryTypes[i].heapIndex];
    if ((f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) &&
        !(heap.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && heap.size > info.system_bytes) {
      info.system_bytes = heap.size;
      info.system_free = info.heaps[mem.memoryTypes[i].heapIndex].free();
    }
  }
  info.subgroup_size = subgroup.subgroupSize;
  info.subgroup_arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  info.subgroup_ballot = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                         (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
  info.min_subgroup_size = sizes.minSubgroupSize;
  info.max_subgroup_size = sizes.maxSubgroupSize;
  info.max_compute_workgroup_subgroups = sizes.maxComputeWorkgroupSubgroups;
  info.subgroup_size_control =
      size_feats.subgroupSizeControl && (sizes.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT);
  info.compute_full_subgroups = size_feats.computeFullSubgroups;
  info.fp16 = f16i8.shaderFloat16;
  info.int64 = feats2.features.shaderInt64 == VK_TRUE;
  info.int8 = f16i8.shaderInt8;
  info.storage_16bit = f16s.storageBuffer16BitAccess;
  info.storage_8bit = s8.storageBuffer8BitAccess;
  info.integer_dot_product = idot;
  info.integer_dot_usable = idot && idot_feats.shaderIntegerDotProduct;
  info.integer_dot_accelerated = idot && idot_props.integerDotProduct4x8BitPackedSignedAccelerated;
  info.pipeline_statistics = exec_props && exec_feats.pipelineExecutableInfo;
  info.cooperative_matrix = has_extension(exts, "VK_KHR_cooperative_matrix");
  info.nv_cooperative_matrix = nv_coopmat;
  if (nv_coopmat && vkGetPhysicalDeviceCooperativeMatrixPropertiesNV) {
    uint32_t n = 0;
    vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, nullptr);
    std::vector<VkCooperativeMatrixPropertiesNV> shapes(n, {VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV});
    if (n && vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, shapes.data()) >= VK_SUCCESS) {
      shapes.resize(n);
      for (const auto& c : shapes)
        if (c.AType == VK_COMPONENT_TYPE_FLOAT16_NV && c.BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
            c.CType == VK_COMPONENT_TYPE_FLOAT32_NV && c.DType == VK_COMPONENT_TYPE_FLOAT32_NV &&
            c.scope == VK_SCOPE_SUBGROUP_NV)
          info.coopmat_shapes.push_back({c.MSize, c.NSize, c.KSize});
    }
  }
  info.memory_model = v12_instance && memory_model.vulkanMemoryModel && memory_model.vulkanMemoryModelDeviceScope;
  info.coopmat_usable = nv_coopmat && coopmat_feats.cooperativeMatrix && info.memory_model && f16i8.shaderFloat16 &&
                        !info.coopmat_shapes.empty();
  info.max_storage_buffer_range = props.limits.maxStorageBufferRange;
  info.max_memory_allocation_size = maint3.maxMemoryAllocationSize;
  info.max_shared_memory = props.limits.maxComputeSharedMemorySize;
  info.max_workgroup_invocations = props.limits.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) info.max_workgroup_count[i] = props.limits.maxComputeWorkGroupCount[i];
  info.max_push_constants = props.limits.maxPushConstantsSize;
  info.max_storage_buffers_per_stage = props.limits.maxPerStageDescriptorStorageBuffers;
  info.min_storage_offset_alignment = props.limits.minStorageBufferOffsetAlignment;
  info.max_uniform_buffer_range = props.limits.maxUniformBufferRange;
  info.min_uniform_offset_alignment = props.limits.minUniformBufferOffsetAlignment;
  info.min_texel_offset_alignment = props.limits.minTexelBufferOffsetAlignment;
  info.max_texel_elements = props.limits.maxTexelBufferElements;
  info.timestamp_period = props.limits.timestampPeriod;

  info.unusable_reason = unusable_reason(info);
  return info;
}

bool layer_available(const char* name) {
  uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (vkEnumerateInstanceLayerProperties(&n, layers.data()) != VK_SUCCESS) return false;
  return std::any_of(layers.begin(), layers.end(),
                     [&](const VkLayerProperties& l) { return std::strcmp(l.layerName, name) == 0; });
}

bool instance_extension_available(const char* layer, const char* name) {
  uint32_t n = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkExtensionProperties> exts(n);
  if (vkEnumerateInstanceExtensionProperties(layer, &n, exts.data()) != VK_SUCCESS) return false;
  return has_extension(exts, name);
}

}  // namespace

// volk keeps every function pointer in process-wide globals, and the app has several instances at once on
// several threads (the Settings dialog lists devices while the engine worker loads a model; the CLI's
// `devices --bandwidth` and the tests open a device per instance). Loading those globals per instance
// (volkLoadInstanceOnly) and per device (volkLoadDevice) raced, and each load replaced the pointers every
// other instance and device was using:
// - an extension function is only offered by an instance that enabled the extension, so an instance without
//   the validation layer set vkDestroyDebugUtilsMessengerEXT to null under one with it (a crash in
//   ~Instance);
// - volkLoadDevice stores the device's own call chain (driver, or validation layer then driver), so one
//   device's calls went down another's chain: a device without the validation layer received the layer's
//   wrapped handles, and two drivers (a GPU and lavapipe) would receive each other's objects.
// So the globals are written once, from the first instance, and hold only the loader's trampolines
// (vkGetInstanceProcAddr of a core function, instance- or device-level, returns the loader's exported entry,
// which dispatches on the object passed in): valid for every instance and device, never rewritten. The
// debug-utils functions, which depend on the instance's extensions, are looked up per instance. The cost is
// one indirect jump per Vulkan call, against the recorded command buffers' few calls per token.
namespace {
void load_functions_once(VkInstance instance) {
  static std::once_flag once;
  std::call_once(once, [instance] { volkLoadInstance(instance); });
}

// The drivers stay loaded from the first instance to the end of the process: one more instance, without
// layers, made once and never destroyed. The loader opens the drivers (dlopen) for each instance and closes
// them with the last one, and NVIDIA's Linux driver does not survive that: its libnvidia-tls needs glibc's
// static TLS, which glibc takes back from a closed library only when it was the last one allocated, so
// libraries opened and closed in interleaved order (the validation layer and the driver) leak some at each
// instance. After a few dozen instances made and destroyed one after another (the app: a model load, a
// device list in Settings, a reload after a lost device; the tests: one evaluator each) vkCreateInstance
// fails with VK_ERROR_INCOMPATIBLE_DRIVER ("libnvidia-tls.so: cannot allocate memory in static TLS block";
// the H200 run of 2026-11-29, after 30 evaluators; docs/vulkan.md has a reproduction without a GPU). With
// the drivers kept, later loads only count references. Failure is harmless: the real instance reports it.
void keep_drivers_loaded(VkInstanceCreateFlags flags, const std::vector<const char*>& portability) {
  static std::once_flag once;
  std::call_once(once, [&] {
    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "Penser (keeps the Vulkan drivers loaded)";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.flags = flags;
    ci.pApplicationInfo = &app;
    ci.enabledExtensionCount = uint32_t(portability.size());
    ci.ppEnabledExtensionNames = portability.data();
    VkInstance keeper = VK_NULL_HANDLE;
    if (vkCreateInstance(&ci, nullptr, &keeper) != VK_SUCCESS) keeper = VK_NULL_HANDLE;
    (void)keeper;  // deliberately never destroyed
  });
}
}  // namespace

Result<std::unique_ptr<Instance>> Instance::create(const Options& options) {
  PENSER_TRY(load());
  std::unique_ptr<Instance> self(new Instance());

  const char* env = std::getenv("PENSER_VULKAN_VALIDATION");
  const bool want_validation = options.validation || (env && std::strcmp(env, "1") == 0);
  const char* kValidation = "VK_LAYER_KHRONOS_validation";
  const bool validation = want_validation && layer_available(kValidation) &&
                          (instance_extension_available(nullptr, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                           instance_extension_available(kValidation, VK_EXT_DEBUG_UTILS_EXTENSION_NAME));

  std::vector<const char*> layers, extensions;
  // PENSER_VULKAN_SYNC_VALIDATION=0 turns it off (tests that bind wide ranges: Device::wide_bindings).
  const bool sync_validation = validation && options.sync_validation &&
                               env_flag("PENSER_VULKAN_SYNC_VALIDATION").value_or(true) &&
                               instance_extension_available(kValidation, "VK_EXT_validation_features");
  if (validation) {
    layers.push_back(kValidation);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  if (sync_validation) extensions.push_back("VK_EXT_validation_features");
  // MoltenVK is a "portability" implementation: the loader hides it unless asked to enumerate it.
  VkInstanceCreateFlags flags = 0;
  std::vector<const char*> portability;
  if (instance_extension_available(nullptr, "VK_KHR_portability_enumeration")) {
    extensions.push_back("VK_KHR_portability_enumeration");
    portability.push_back("VK_KHR_portability_enumeration");
    flags |= 0x00000001;  // VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR
  }
  keep_drivers_loaded(flags, portability);

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "Penser";
  app.pEngineName = "Penser";
  app.apiVersion = volkGetInstanceVersion() >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1;

  VkDebugUtilsMessengerCreateInfoEXT dbg{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  dbg.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  dbg.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                    VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  dbg.pfnUserCallback = &Instance::on_message;
  dbg.pUserData = self.get();

  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.flags = flags;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  if (validation) ci.pNext = &dbg;  // also reports problems inside vkCreateInstance itself
  const VkValidationFeatureEnableEXT sync_feature = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = &sync_feature;
  if (sync_validation) {
    features.pNext = ci.pNext;
    ci.pNext = &features;
  }
  if (const VkResult r = vkCreateInstance(&ci, nullptr, &self->instance_); r != VK_SUCCESS) {
    // The loader's answer when it finds no driver manifest, or none of the drivers it lists will load (a
    // loader installed with no GPU driver: a VM, a fresh Linux without mesa-vulkan-drivers): the same case, for
    // a user, as no loader at all (load()), and said the same way.
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
      return make_error("Vulkan is not available: the Vulkan loader found no GPU driver it could start ({}). "
                        "Install or update the GPU's Vulkan driver (Debian/Ubuntu: mesa-vulkan-drivers for Intel "
                        "and AMD GPUs, the vendor's driver for NVIDIA)",
                        result_name(r));
    return vk_error(r, "creating the Vulkan instance");
  }
  self->sync_validation_ = sync_validation;
  load_functions_once(self->instance_);

  if (validation) {
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(self->instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (!create_messenger) return make_error("the Vulkan loader offers no vkCreateDebugUtilsMessengerEXT");
    PENSER_VK_TRY(create_messenger(self->instance_, &dbg, nullptr, &self->messenger_),
                  "installing the validation message handler");
  }

  uint32_t n = 0;
  PENSER_VK_TRY(vkEnumeratePhysicalDevices(self->instance_, &n, nullptr), "listing Vulkan devices");
  self->physical_.resize(n);
  PENSER_VK_TRY(vkEnumeratePhysicalDevices(self->instance_, &n, self->physical_.data()), "listing Vulkan devices");
  self->physical_.resize(n);
  for (uint32_t i = 0; i < n; ++i) self->infos_.push_back(describe(self->physical_[i], i));
  return self;
}

Instance::~Instance() {
  if (messenger_ != VK_NULL_HANDLE) {
    auto destroy_messenger = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy_messenger) destroy_messenger(instance_, messenger_, nullptr);
  }
  if (instance_ != VK_NULL_HANDLE) vkDestroyInstance(instance_, nullptr);
}

VKAPI_ATTR VkBool32 VKAPI_CALL Instance::on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                    VkDebugUtilsMessageTypeFlagsEXT types,
                                                    const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* self = static_cast<Instance*>(user);
  const bool error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
  // Warnings of the "performance" kind are advice, not defects; validation warnings count as errors.
  const bool counts = error || (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT);
  const std::string text = fmt::format("{}: {}", error ? "error" : "warning", data && data->pMessage ? data->pMessage : "");
  if (counts) self->errors_.fetch_add(1), g_validation_errors.fetch_add(1);
  {
    std::lock_guard lock(self->messages_mutex_);
    if (self->messages_.size() < 64) self->messages_.push_back(text);
  }
  if (counts) std::fprintf(stderr, "penser: vulkan validation %s\n", text.c_str());
  return VK_FALSE;
}

uint32_t Instance::validation_errors() const { return errors_.load(); }
uint64_t Instance::validation_errors_in_process() { return g_validation_errors.load(); }

std::vector<std::string> Instance::validation_messages() const {
  std::lock_guard lock(messages_mutex_);
  return messages_;
}

namespace {
bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }
}  // namespace

// Why a device cannot run Penser ("" when it can): what every shader module and op assumes of any device.
std::string unusable_reason(const DeviceInfo& info) {
  if (info.api_version < VK_API_VERSION_1_1)
    return fmt::format("supports Vulkan {} only; Penser needs 1.1", api_version_string(info.api_version));
  if (!info.storage_16bit)
    return "lacks 16-bit storage buffer access (storageBuffer16BitAccess)";
  // The reductions' modules declare subgroup arithmetic even where a specialization constant turns it off
  // (the shared-memory fall-back), and a module may declare only what the device supports.
  if (!info.subgroup_arithmetic)
    return "lacks subgroup arithmetic in compute shaders (VK_SUBGROUP_FEATURE_ARITHMETIC_BIT)";
  if (info.max_workgroup_invocations < 256 || info.max_shared_memory < 16384)
    return "compute limits too small (needs 256 invocations and 16 KiB shared memory per workgroup)";
  if (info.max_storage_buffers_per_stage < 8)
    return "fewer than 8 storage buffers per shader stage";
  if (info.max_push_constants < 128)
    return "push constants smaller than 128 bytes";
  return "";
}

// Why pin: a SPIR-V 1.5 pipeline created without a required size sees gl_SubgroupSize == subgroupSize, but
// a driver that compiles another width (Intel SIMD8/16 for a SIMD32-reported device, AMD wave32/64) may
// then run partial or split subgroups, and the grouped attention's lane = invocation % size mapping breaks.
// Pinning makes the width a fact of the pipeline; where it cannot be pinned and is not fixed, the
// shared-memory fall-backs run, which are correct at any width.
SubgroupPlan plan_subgroups(const DeviceInfo& d, uint32_t requested) {
  SubgroupPlan p;
  if (!d.subgroup_arithmetic || !power_of_two(d.subgroup_size)) {
    p.note = "off: no subgroup arithmetic in compute shaders (shared-memory reductions)";
    return p;
  }
  const uint32_t lo = d.min_subgroup_size, hi = d.max_subgroup_size;
  const bool range = power_of_two(lo) && power_of_two(hi) && lo <= hi;
  if (range && d.subgroup_size_control) {
    uint32_t size = std::clamp(d.subgroup_size, lo, hi);
    std::string asked;
    if (requested != 0) {
      if (power_of_two(requested) && requested >= lo && requested <= hi) size = requested;
      else asked = fmt::format("; PENSER_VK_SUBGROUP_SIZE={} ignored (not a power of two in {}..{})", requested, lo, hi);
    }
    p.enabled = p.pinned = true;
    p.size = size;
    p.full = d.compute_full_subgroups;
    p.note = fmt::format("{} pinned (the device allows {}..{}{}){}", size, lo, hi,
                         p.full ? ", full subgroups" : "; full subgroups not guaranteed", asked);
    return p;
  }
  if (range && lo == hi && d.subgroup_size == lo) {
    p.enabled = true;
    p.size = lo;
    p.full = d.compute_full_subgroups;
    p.note = fmt::format("{} (a fixed width: no pin needed)", lo);
    return p;
  }
  if (range)
    p.note = fmt::format("off: the width varies ({}..{}) and the driver cannot pin it (subgroupSizeControl); "
                         "shared-memory reductions", lo, hi);
  else
    p.note = "off: the driver reports no subgroup width range (VK_EXT_subgroup_size_control), so the width a "
             "shader runs at is unknown; shared-memory reductions";
  return p;
}

SubgroupPlan device_subgroup_plan(const DeviceInfo& info) {
  // 0 (unset, or not a number): the reported width; plan_subgroups says why a bad request is ignored.
  return plan_subgroups(info, uint32_t(env_uint("PENSER_VK_SUBGROUP_SIZE", 0, UINT32_MAX).value_or(0)));
}

std::string device_identity(const DeviceInfo& d) {
  return !d.uuid.empty() ? d.uuid : fmt::format("{:04x}:{:04x}:{}", d.vendor_id, d.device_id, d.name);
}

std::optional<uint32_t> find_device(std::span<const DeviceInfo> devices, std::string_view identity) {
  for (const DeviceInfo& d : devices)
    if (device_identity(d) == identity) return d.index;
  return std::nullopt;
}

Result<uint32_t> choose_device(std::span<const DeviceInfo> devices, std::optional<uint32_t> requested, bool allow_cpu) {
  if (devices.empty()) return make_error("no Vulkan device found: is a GPU driver installed?");
  if (requested) {
    if (*requested >= devices.size())
      return make_error("there is no Vulkan device {} (devices 0 to {}; see `penser-cli devices`)", *requested,
                        devices.size() - 1);
    const DeviceInfo& d = devices[*requested];
    if (!d.usable()) return make_error("Vulkan device {} ({}) cannot run Penser: it {}", d.index, d.name, d.unusable_reason);
    return d.index;
  }
  auto rank = [](const DeviceInfo& d) {
    switch (d.type) {
      case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
      case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
      case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
      case VK_PHYSICAL_DEVICE_TYPE_CPU: return 4;
      default: return 3;
    }
  };
  const DeviceInfo* best = nullptr;
  bool any_usable = false;
  for (const DeviceInfo& d : devices) {
    if (!d.usable()) continue;
    any_usable = true;
    if (best == nullptr || rank(d) < rank(*best) ||
        (rank(d) == rank(*best) && d.device_local_bytes > best->device_local_bytes))
      best = &d;
  }
  if (!any_usable) {
    std::string why;
    for (const DeviceInfo& d : devices) why += fmt::format("; {} {}", d.name, d.unusable_reason);
    return make_error("no Vulkan device can run Penser{}", why);
  }
  // Ranking puts CPU implementations last, so one is chosen only when nothing else is usable; allow_cpu
  // exists for callers that prefer it (tests pin lavapipe through VK_ICD_FILENAMES instead).
  (void)allow_cpu;
  return best->index;
}

}  // namespace penser::vulkan
