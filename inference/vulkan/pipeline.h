// A compute pipeline made from one embedded shader: its descriptor-set layout (one buffer per binding,
// storage buffers but for those `uniform` names), its push-constant size, and its specialization constants (ids 0..n-1, all 32-bit).
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "inference/vulkan/device.h"

namespace penser::vulkan {

struct PipelineDesc {
  std::string shader;                  // name in embedded_shaders(): "mul_mv_q4_k"
  uint32_t n_bindings = 0;             // storage buffers at bindings 0..n-1
  uint32_t written = 0;                // bit i set: the shader writes binding i (for barrier placement)
  uint32_t push_size = 0;              // bytes; must equal the shader's push_constant block
  std::vector<uint32_t> spec;          // specialization constants, constant_id 0..n-1
  uint32_t local_size_x = 0;           // for dispatch arithmetic; the shader reads it from spec id 0
  uint32_t uniform = 0;                // bit i set: binding i is a uniform buffer (else a storage buffer)
  uint32_t texel = 0;                  // bit i set: binding i is a uniform texel buffer (an R32G32B32A32_UINT view)
};

class Pipeline {
 public:
  // Compiled when it returns.
  static Result<std::unique_ptr<Pipeline>> create(Device& device, const PipelineDesc& desc);
  // Compiling on a thread of its own when it returns (at most one compile per hardware thread at once, in the
  // whole process): a recording asks for all of its pipelines before it waits for any (Recorder::end), so a
  // load's pipelines compile in parallel. Lavapipe compiles a big product module in 126-151 ms; a driver
  // without a warm cache of its own (a first load, a new model's shapes, MoltenVK's Metal compile) may take
  // as long.
  static Result<std::unique_ptr<Pipeline>> create_async(Device& device, const PipelineDesc& desc);
  ~Pipeline();  // waits for the compile (abandon() first: an async compile not yet started then never starts)
  // The pipeline is about to go unused (a load cancelled or failed): an async compile still waiting for a
  // slot skips its work, and wait() then fails. Does not wait; a compile under way finishes. Owners mark
  // every pipeline before destroying any (Ops::~Ops), so that the queued ones do not take their turn.
  void abandon() { abandoned_ = true; }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Until compiled; the compile's error, if any (every later call says the same).
  Status wait() const;
  const PipelineDesc& desc() const { return desc_; }
  VkPipeline handle() const;  // after a successful wait()
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout set_layout() const { return set_layout_; }
  // The subgroup width the pipeline was created to require (0: the driver's default) and whether it
  // requires full subgroups: Device::subgroups(), where the workgroup size allows (pipeline.cpp).
  uint32_t required_subgroup_size() const { return required_subgroup_size_; }
  bool full_subgroups() const { return full_subgroups_; }
  // The compiler's statistics, one line per executable ("<name>: Register Count 64, ..."), where the
  // device captures them (Device::pipeline_statistics; each is also printed to stderr when the pipeline is
  // made); empty elsewhere.
  const std::vector<std::string>& statistics() const;  // waits for the compile

 private:
  Pipeline() = default;
  static Result<std::unique_ptr<Pipeline>> make(Device& device, const PipelineDesc& desc, bool async);
  void compile();  // on the compiling thread: pipeline_, result_, statistics_
  void read_statistics();
  struct Compile;                    // what vkCreateComputePipelines reads, alive until it returns
  std::unique_ptr<Compile> compile_;
  mutable std::future<void> done_;   // valid while compiling asynchronously
  VkResult result_ = VK_SUCCESS;
  std::atomic<bool> abandoned_{false};
  Device* device_ = nullptr;
  PipelineDesc desc_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  uint32_t required_subgroup_size_ = 0;
  bool full_subgroups_ = false;
  std::vector<std::string> statistics_;
};

// Pipelines compiled (vkCreateComputePipelines called) in the process so far (tests: abandoned compiles).
uint64_t pipelines_compiled();

}  // namespace penser::vulkan
