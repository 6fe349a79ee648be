// The Vulkan backend's model::Evaluator: weights uploaded once, a decode step recorded once into a command
// buffer (token id and position are read from device memory, so the same recording serves every step),
// logits read back once per evaluated batch. Prompts go in batches of n_batch tokens (evaluator_prefill.h).
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "inference/model/evaluator.h"
#include "inference/model/model.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {

// The prompt batch when EvaluatorOptions::n_batch is 0 (docs/vulkan-history.md, "Prompt batch size"): 64 tokens per
// submission on GPUs. CPU implementations (lavapipe) take 32: 32 and 64 ran equally fast there (with the
// tiled mul_mm, 8 and 16 slower: its 32-token tile was computed whole; with mul_mm_cpu.comp's 4 tokens per
// invocation, 64 / 32 / 16 took 3.69 / 3.81 / 4.11 CPU seconds for the same prompt), token by token was as
// fast only with a tiny vocabulary (each token then computes the output head: 5-6x slower with the R1
// vocabulary), and a stop waits for one layer of the batch there, so half the batch halves that wait.
inline constexpr uint32_t kDefaultBatch = 64;
inline constexpr uint32_t kDefaultBatchCpuImplementation = 32;
inline constexpr uint32_t kMaxBatch = 4096;  // the largest n_batch the CLI and the app accept
inline uint32_t default_batch(const DeviceInfo& device) {
  return device.is_cpu() ? kDefaultBatchCpuImplementation : kDefaultBatch;
}

struct EvaluatorOptions {
  uint32_t n_ctx = 4096;             // capped at the model's n_ctx_train
  std::optional<uint32_t> device;    // --device N; default: choose_device()
  bool validation = false;           // the Khronos validation layer (tests)
  bool profile = false;              // GPU timestamps around every dispatch of the decode step (take_profile)
                                     // and of the prompt batches (take_prompt_profile)
  uint32_t n_batch = 0;              // prompt tokens per submission (matrix-matrix products); 1: token by token;
                                     // 0: default_batch(device). `--batch N`, the app's "Prompt batch" setting
  uint32_t decode_split = 0;         // ranges of split-K decode attention (at most 256, of >= 4 positions); 0:
                                     // by device (GPUs up to 64 of >= 16 positions, CPU implementations one
                                     // pass)
  // Fewer dispatches per decode layer (on by default): Wq|Wk|Wv (or Wq|Wk when Wv's type or width differs)
  // as one product over their rows uploaded back to back, Wgate|Wup likewise, and per-head Q/K norm + RoPE
  // + the K/V cache store as one dispatch (Ops::rope_kv). PENSER_VK_MERGE=0|all (1 = all) or a comma list
  // of qkv, gate_up, rope_kv (only those) when this is unset (measurements).
  struct Merges {
    bool qkv = true, gate_up = true, rope_kv = true;
  };
  std::optional<Merges> merge = std::nullopt;
  // The merged gate|up product writes silu(gate) * up itself (Ops::Options::swiglu_fold: no swiglu dispatch,
  // half the product's output), in the decode step and the prompt path, where Ops::swiglu_folds allows.
  // PENSER_VK_SWIGLU_FOLD=0|1 when this is unset (measurements); default on. Where it does not fold, SwiGLU
  // is a dispatch of its own.
  std::optional<bool> swiglu_fold = std::nullopt;
  // The decode step's RMSNorms carried by the products instead of dispatches of their own (NormCarry): the
  // residual products (Wo, down) also write x * the next norm's weight and partial sums of x^2, and the
  // products after them (gate|up, the next layer's QKV, the output) scale their sums by 1 / rms(x). No
  // norm is recomputed (off: each norm a dispatch of its own). Per layer 2 dispatches and 2 barrier
  // stages fewer (layer 0's attention norm stays: the embedding lookup carries none). PENSER_VK_NORM_CARRY=0|1
  // when this is unset (measurements); default: default_norm_carry(device).
  std::optional<bool> norm_carry = std::nullopt;
  // The decode step's rope_kv (Q/K norm, RoPE, the K/V store) folded into the decode attention dispatch
  // (Ops::attn_decode_rope): one dispatch and one barrier stage fewer per layer, where the grouped attention
  // kernel runs (Ops::attn_rope_fuses) and merge.rope_kv is on; the per-head kernels keep the rope_kv
  // dispatch. PENSER_VK_ROPE_ATTN=0|1 when this is unset (measurements); default on.
  std::optional<bool> rope_in_attention = std::nullopt;
  uint64_t max_binding_bytes = 0;    // tests: Ops::Options::max_binding_bytes (matrices above it split); 0: the device's
  uint32_t mul_mm_coopmat = 0;       // tests: Ops::Options::mul_mm_coopmat (2: the emulated cooperative-matrix
                                     // prompt product on any device); 0: PENSER_VK_MUL_MM_COOPMAT, else on
                                     // where the device has cooperative matrices (Device::cooperative_matrix)
  uint64_t device_local_limit_bytes = 0;  // tests: Device::limit_device_local_for_tests (buffers past it go to
                                         // system memory, as on an integrated GPU whose device-local heap is
                                         // full); 0: none
  bool unmapped_device_memory = false;  // tests: Device::unmapped_device_memory_for_tests (device-local memory
                                        // the CPU cannot map, as on a discrete GPU without resizable BAR)
  uint64_t max_allocation_bytes = 0; // tests: a weight matrix above it (or above the device's maxMemoryAllocationSize)
                                     // is stored in parts of whole rows, one allocation each; 0: the device's limit
                                     // (or PENSER_VK_MAX_ALLOCATION bytes when set: measurements)
  // The load's progress, and a way to stop it (the app's progress bar and Cancel; a superseded load). Called
  // with the fraction of the weight matrices' bytes written so far: 0 before the first write, then after
  // each piece of at most kStagingChunk bytes, 1 once all are written (the decode step's compiles may still
  // run after that). One call at a time, from the load's threads, the fractions never decreasing. Returning
  // false stops the load: no more writes start, no more calls come, and create_evaluator fails with
  // kLoadCancelled once the writes under way and the compiles already started have ended (nothing it made
  // is kept). Empty: no calls.
  std::function<bool(double fraction)> progress = nullptr;
};

// create_evaluator's message when EvaluatorOptions::progress stopped the load.
inline constexpr const char* kLoadCancelled = "loading the model on the GPU was cancelled";

// Whether the decode step carries its RMSNorms by default (EvaluatorOptions::norm_carry): everywhere but on
// MoltenVK. The carry's last workgroup reads the other workgroups' partial sums in the same dispatch, which
// needs device-coherent buffers: Metal has them only from MSL 3.2 and MoltenVK does not use them (its issue
// #2497: a coherent buffer read across threadgroups gave stale values on Apple GPUs), so there the separate
// rms_norm dispatch stays until an Apple GPU has run the parity suites.
inline bool default_norm_carry(const DeviceInfo& device) { return !device.is_moltenvk(); }

// Fails with a message the app can show: no Vulkan, no usable device, a tensor type the shaders lack, or
// "the model and its context need X but the GPU has Y".
Result<std::unique_ptr<model::Evaluator>> create_evaluator(const model::Model& model, const EvaluatorOptions& options);

// The decode step's GPU time per dispatch, summed over the steps since the last call (or since creation),
// and how many steps that is; both start again from zero. An error unless `evaluator` is a Vulkan evaluator
// made with `profile` on.
struct StepProfile {
  std::vector<Recorder::DispatchTime> dispatches;  // in recording order
  uint32_t steps = 0;
  uint32_t barriers = 0;  // pipeline barriers in the recorded step
};
Result<StepProfile> take_profile(model::Evaluator& evaluator);

// The prompt batches' GPU time and operations (DispatchTime::flops) per dispatch (every layer's
// recording; a recording per batch length run), summed over the batches since the
// last call, and the prompt tokens those batches held; both start again from zero. An error unless
// `evaluator` is a Vulkan evaluator made with `profile` on; empty when it has no batch path (n_batch 1).
struct PromptProfile {
  std::vector<Recorder::DispatchTime> dispatches;
  uint32_t tokens = 0;
};
Result<PromptProfile> take_prompt_profile(model::Evaluator& evaluator);

// Benchmarks only (`penser-cli bench --kv-fill N`): makes the evaluator hold n_positions tokens (id 0) whose
// K/V cache entries are pseudo-random f16 values in [-1, 1] written straight into every layer's cache, so
// that decode can be timed at a long position without a prefill of N tokens (minutes on lavapipe). What
// follows reads a cache of the real length, not of real tokens: the speed is real, the logits mean nothing.
// An error unless `evaluator` is a Vulkan evaluator with room for n_positions.
Status fill_cache_for_bench(model::Evaluator& evaluator, uint32_t n_positions, uint64_t seed);

// Where a Vulkan evaluator's load went (bench), in wall seconds: the device, the ops and every buffer made
// (with the 1-D weights written); then the weight matrices written on their own threads beside the decode
// step recorded (its pipelines compiling in parallel: Recorder::end waits for them); the whole of it. An
// error unless `evaluator` is a Vulkan evaluator.
struct LoadTimes {
  double buffers_s = 0, weights_s = 0, step_s = 0, total_s = 0;
};
Result<LoadTimes> load_times(const model::Evaluator& evaluator);

// The device memory an evaluator holds, against what was estimated before loading (check_fits). An error
// unless `evaluator` is a Vulkan evaluator.
struct MemoryInUse {
  uint64_t estimate = 0;   // estimate_device_bytes for its model, context and prompt batch
  uint64_t allocated = 0;  // device-local bytes its buffers hold now (Device::device_local_allocated)
  // The driver's count for the process and what it allows it now (VK_EXT_memory_budget: Device::
  // driver_device_local_memory); nullopt without the extension.
  std::optional<uint64_t> driver_usage, driver_budget;
  // Over the budget: other programs took memory since the fit check (or the estimate fell short), and the
  // driver may move part of the model to system memory (Windows does), which makes every token slower.
  bool over_budget() const { return driver_usage && driver_budget && *driver_usage > *driver_budget; }
};
Result<MemoryInUse> memory_in_use(const model::Evaluator& evaluator);

// Tests: the device a Vulkan evaluator runs on (it stays the evaluator's).
Result<Device*> device_for_tests(model::Evaluator& evaluator);
// Tests: the pipelines a Vulkan evaluator has made so far (Ops::pipeline_count).
Result<size_t> pipeline_count(const model::Evaluator& evaluator);
// Until the pipelines a Vulkan evaluator asked for in the background (the prompt path's, once loaded) have
// compiled: bench times nothing while they compile. An error unless `evaluator` is a Vulkan evaluator.
Status wait_for_compiles(const model::Evaluator& evaluator);

// How the weight matrices were allocated (tests): VkDeviceMemory objects holding them, their bytes, the
// largest, and the
// matrices (merged ones counted once) stored in more than one part. An error unless `evaluator` is a Vulkan
// evaluator.
struct WeightAllocations {
  uint32_t count = 0;
  uint64_t bytes = 0;  // in all
  uint64_t largest = 0;
  uint32_t split_matrices = 0;
  uint32_t interleaved = 0;  // matrices stored interleaved (Matrix::interleaved: CPU implementations)
  uint64_t padding = 0;      // bytes their padded blocks add to the file's (Q6_K: 14 per block)
  uint32_t in_system_memory = 0;  // allocations in system memory (device-local memory was full: Buffer)
  bool cpu_implementation = false;  // the device is one (lavapipe)
  uint32_t subgroup_size = 0;       // the width the shaders run at (0: subgroup paths off)
  bool int64 = false;               // the device's shaderInt64 is enabled
  bool integer_dot = false;         // its shaderIntegerDotProduct is (Ops::Options::mul_mv_q8x may run)
};
Result<WeightAllocations> weight_allocations(const model::Evaluator& evaluator);

// The prompt path's dispatches and pipeline barriers per submission (one submission per layer on CPU
// implementations, one per batch on GPUs) of the batch length recorded last; empty before the first prompt
// batch or with n_batch 1. Tests and docs/vulkan.md's counts. An error unless `evaluator` is a Vulkan one.
struct PromptCounts {
  uint32_t dispatches = 0, barriers = 0;
};
Result<std::vector<PromptCounts>> prompt_counts(const model::Evaluator& evaluator);

// Device bytes the model needs with n_ctx tokens of KV cache (weights + cache + activations, including
// those of a prompt batch of n_batch tokens).
// cpu_implementation: the device is one (lavapipe), whose weights are stored interleaved, with Q6_K blocks
// padded (Matrix::interleaved): their padding is counted too.
uint64_t estimate_device_bytes(const model::Model& model, uint32_t n_ctx, uint32_t n_batch = kDefaultBatch,
                               bool cpu_implementation = false);

}  // namespace penser::vulkan
