#include "inference/vulkan/pipeline.h"

#include "inference/vulkan/shaders.h"

#include <algorithm>
#include <semaphore>
#include <thread>

namespace penser::vulkan {

namespace {
// Compiles at once in the process, at most: one per hardware thread (a load's pipelines on 2 cores: 2).
std::counting_semaphore<>& compile_slots() {
  static std::counting_semaphore<> slots(std::max<std::ptrdiff_t>(1, std::thread::hardware_concurrency()));
  return slots;
}
}  // namespace

struct Pipeline::Compile {
  std::vector<VkSpecializationMapEntry> entries;
  VkSpecializationInfo si{};
  VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT required{
      VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  bool statistics = false;
};

Result<std::unique_ptr<Pipeline>> Pipeline::create(Device& device, const PipelineDesc& desc) {
  PENSER_ASSIGN_OR_RETURN(auto p, make(device, desc, false));
  PENSER_TRY(p->wait());
  return p;
}

Result<std::unique_ptr<Pipeline>> Pipeline::create_async(Device& device, const PipelineDesc& desc) {
  return make(device, desc, true);
}

Result<std::unique_ptr<Pipeline>> Pipeline::make(Device& device, const PipelineDesc& desc, bool async) {
  const EmbeddedShader* shader = find_shader(desc.shader);
  PENSER_ASSERT(shader != nullptr);  // every name the ops use is compiled by shaders/CMakeLists.txt
  PENSER_ASSERT(desc.push_size % 4 == 0 && desc.push_size <= 128);
  std::unique_ptr<Pipeline> self(new Pipeline());
  self->device_ = &device;
  self->desc_ = desc;
  VkDevice dev = device.handle();

  std::vector<VkDescriptorSetLayoutBinding> bindings(desc.n_bindings);
  for (uint32_t i = 0; i < desc.n_bindings; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = (desc.texel >> i) & 1     ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                 : (desc.uniform >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
                                                           : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo dl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dl.bindingCount = desc.n_bindings;
  dl.pBindings = bindings.data();
  PENSER_VK_TRY(vkCreateDescriptorSetLayout(dev, &dl, nullptr, &self->set_layout_), "creating a descriptor set layout");

  VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_size};
  VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &self->set_layout_;
  pl.pushConstantRangeCount = desc.push_size ? 1 : 0;
  pl.pPushConstantRanges = &pcr;
  PENSER_VK_TRY(vkCreatePipelineLayout(dev, &pl, nullptr, &self->layout_), "creating a pipeline layout");

  VkShaderModuleCreateInfo sm{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  sm.codeSize = shader->n_words * 4;
  sm.pCode = shader->words;
  PENSER_VK_TRY(vkCreateShaderModule(dev, &sm, nullptr, &self->module_), fmt::format("loading shader {}", desc.shader));

  self->compile_ = std::make_unique<Compile>();
  Compile& c = *self->compile_;
  c.entries.resize(self->desc_.spec.size());
  for (uint32_t i = 0; i < self->desc_.spec.size(); ++i) c.entries[i] = {i, i * 4, 4};
  c.si.mapEntryCount = uint32_t(c.entries.size());
  c.si.pMapEntries = c.entries.data();
  c.si.dataSize = self->desc_.spec.size() * 4;
  c.si.pData = self->desc_.spec.data();

  VkComputePipelineCreateInfo& ci = c.ci;
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = self->module_;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = self->desc_.spec.empty() ? nullptr : &c.si;
  // Every pipeline gets the device's subgroup width pinned, not only those whose shaders depend on it
  // (the grouped attention's lane mapping; `wg_sum` is correct at any width): the width the host sized
  // things by is then the width that runs. The limits: a workgroup of at most maxComputeWorkgroupSubgroups
  // subgroups of that width, and full subgroups only for a workgroup that is a whole number of them.
  const DeviceInfo& info = device.info();
  const SubgroupPlan& plan = device.subgroups();
  const uint32_t x = desc.local_size_x;
  if (plan.pinned && x > 0 && x <= uint64_t(info.max_compute_workgroup_subgroups) * plan.size) {
    c.required.requiredSubgroupSize = plan.size;
    ci.stage.pNext = &c.required;
    self->required_subgroup_size_ = plan.size;
  }
  // Without a pin, full subgroups need a multiple of the largest width the driver may pick.
  const uint32_t whole = self->required_subgroup_size_ ? self->required_subgroup_size_ : info.max_subgroup_size;
  if (plan.full && whole > 0 && x > 0 && x % whole == 0) {
    ci.stage.flags |= VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT_EXT;
    self->full_subgroups_ = true;
  }
  ci.layout = self->layout_;
  c.statistics = device.pipeline_statistics();
  if (c.statistics) ci.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  if (!async) {
    self->compile();
    return self;
  }
  // vkCreateComputePipelines may be called from any thread (only a pipeline cache, none here, needs
  // external synchronisation). The thread waits for a slot, so a load's dozen compiles do not take more
  // cores than there are.
  Pipeline* p = self.get();
  self->done_ = std::async(std::launch::async, [p] {
    compile_slots().acquire();
    if (!p->abandoned_) p->compile();
    else p->result_ = VK_NOT_READY;  // never compiled: wait() says so, handle() is never reached
    compile_slots().release();
  });
  return self;
}

namespace {
std::atomic<uint64_t> g_compiles{0};
}

uint64_t pipelines_compiled() { return g_compiles.load(); }

void Pipeline::compile() {
  g_compiles.fetch_add(1);
  result_ = vkCreateComputePipelines(device_->handle(), VK_NULL_HANDLE, 1, &compile_->ci, nullptr, &pipeline_);
  if (result_ == VK_SUCCESS && compile_->statistics) read_statistics();
}

Status Pipeline::wait() const {
  if (done_.valid()) done_.get();  // the compile's writes happen before get() returns
  if (result_ != VK_SUCCESS) return vk_error(result_, fmt::format("compiling compute pipeline {}", desc_.shader));
  return {};
}

VkPipeline Pipeline::handle() const {
  PENSER_ASSERT(!done_.valid() && pipeline_ != VK_NULL_HANDLE);  // wait() first
  return pipeline_;
}

const std::vector<std::string>& Pipeline::statistics() const {
  (void)wait();
  return statistics_;
}

// VK_KHR_pipeline_executable_properties: each executable's statistics as "name value" pairs, printed with
// the pipeline's shader and specialization constants (the GPU script greps them from a bench's stderr).
void Pipeline::read_statistics() {
  VkDevice dev = device_->handle();
  VkPipelineInfoKHR pi{VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR};
  pi.pipeline = pipeline_;
  uint32_t n = 0;
  if (vkGetPipelineExecutablePropertiesKHR(dev, &pi, &n, nullptr) != VK_SUCCESS || n == 0) return;
  std::vector<VkPipelineExecutablePropertiesKHR> exes(n, {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR});
  if (vkGetPipelineExecutablePropertiesKHR(dev, &pi, &n, exes.data()) != VK_SUCCESS) return;
  std::string spec;
  for (uint32_t s : desc_.spec) spec += fmt::format("{}{}", spec.empty() ? "" : ",", s);
  for (uint32_t i = 0; i < n; ++i) {
    VkPipelineExecutableInfoKHR ei{VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR};
    ei.pipeline = pipeline_;
    ei.executableIndex = i;
    uint32_t m = 0;
    if (vkGetPipelineExecutableStatisticsKHR(dev, &ei, &m, nullptr) != VK_SUCCESS) continue;
    std::vector<VkPipelineExecutableStatisticKHR> stats(m, {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR});
    if (vkGetPipelineExecutableStatisticsKHR(dev, &ei, &m, stats.data()) != VK_SUCCESS) continue;
    std::string line = fmt::format("{} (subgroup {}):", exes[i].name, exes[i].subgroupSize);
    for (uint32_t k = 0; k < m; ++k) {
      const VkPipelineExecutableStatisticKHR& s = stats[k];
      std::string v;
      switch (s.format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: v = s.value.b32 ? "yes" : "no"; break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: v = std::to_string(s.value.i64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: v = std::to_string(s.value.u64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: v = fmt::format("{:g}", s.value.f64); break;
        default: v = "?";
      }
      line += fmt::format("{} {} {}", k ? "," : "", s.name, v);
    }
    std::fprintf(stderr, "penser: vulkan: pipeline %s [%s] %s\n", desc_.shader.c_str(), spec.c_str(), line.c_str());
    statistics_.push_back(std::move(line));
  }
}

Pipeline::~Pipeline() {
  if (done_.valid()) done_.wait();
  VkDevice dev = device_ ? device_->handle() : VK_NULL_HANDLE;
  if (pipeline_) vkDestroyPipeline(dev, pipeline_, nullptr);
  if (module_) vkDestroyShaderModule(dev, module_, nullptr);
  if (layout_) vkDestroyPipelineLayout(dev, layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(dev, set_layout_, nullptr);
}

}  // namespace penser::vulkan
