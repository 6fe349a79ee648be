// The Vulkan evaluator's prompt path (internal to inference/vulkan): a batch of tokens goes through the
// model with matrix-matrix products (mul_mm) and causal attention over the cache (attn_prefill) instead of
// one decode step per token. Per batch length: one recording per layer on CPU implementations (lavapipe: a
// 1.5B model's 64-token batch takes minutes, so each submission stays far below the device's hang limit and
// a cancel is seen within a layer), one for the whole batch on GPUs. Token ids and positions are written to
// device memory before each batch, so the recordings serve every batch of their length. Only the last
// token's logits are computed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "inference/model/model.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {

// One layer's weights and KV cache on the device, shared by the decode step and the batch recordings.
struct LayerBuffers {
  Matrix wq, wk, wv, wo, gate, up, down;
  // The decode step's merged products (EvaluatorOptions::merge): the rows of Wq|Wk|Wv (or Wq|Wk) and of
  // Wgate|Wup back to back in one buffer each, wq.. up then views into them; nrows 0 when not merged.
  Matrix qkv, gate_up;
  std::unique_ptr<Buffer> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm;
  std::unique_ptr<Buffer> bqkv;  // bq|bk|bv for the merged product (qwen2)
  std::unique_ptr<Buffer> k_cache, v_cache;
};

// What the recordings read, owned by the evaluator (which outlives its BatchPath).
struct DeviceModel {
  const model::HParams* hp = nullptr;
  Matrix token_embd, output;
  const Buffer* output_norm = nullptr;
  const Buffer* rope_freqs = nullptr;  // may be null
  const std::vector<LayerBuffers>* layers = nullptr;
  Buffer* logits = nullptr;            // n_vocab floats: the last token's logits
  bool rope_kv = true;                 // EvaluatorOptions::merge.rope_kv (the merged products are in layers)
};

class BatchPath {
 public:
  static Result<std::unique_ptr<BatchPath>> create(Device& device, Ops& ops, const DeviceModel& model, uint32_t n_batch);

  uint32_t n_batch() const { return n_batch_; }
  // Evaluates 1..n_batch tokens at positions n_past.. (their K/V go to the cache); the last one's logits
  // land in model.logits. The caller has checked ids and context room. `cancelled` is asked between
  // submissions (layers, on CPU implementations): when it says yes, the batch stops with the error
  // "cancelled" and counts as not evaluated (the cache rows it wrote lie beyond n_past and are overwritten
  // later).
  Status run(std::span<const tokenizer::Token> tokens, uint32_t n_past, const std::function<bool()>& cancelled);

  // Asks for every pipeline the prompt path uses (a recording of the whole batch, never ended or submitted),
  // so that they compile in the background (Pipeline::create_async) while the user types the first message;
  // the first batch's Recorder::end waits for what is left. The evaluator calls it once loaded.
  Status prepare();

  // The prompt profile (EvaluatorOptions::profile): every recording from now on times its dispatches.
  void enable_profile() { profile_ = true; }
  // The recordings' dispatch times and operations (recording order within each, every layer) summed over
  // the batches since the last call, and the tokens those batches held; both start again from zero.
  std::vector<Recorder::DispatchTime> take_times(uint32_t* tokens);

  // Device bytes of the batch activations (counted by estimate_device_bytes).
  static uint64_t device_bytes(const model::HParams& hp, uint32_t n_batch);

  // Dispatches and pipeline barriers of each submission of the last batch length recorded (docs/vulkan.md
  // counts them per layer; tests check the merges remove some).
  struct Counts {
    uint32_t dispatches = 0, barriers = 0;
  };
  const std::vector<Counts>& counts() const { return counts_; }

 private:
  BatchPath() = default;
  using Recordings = std::vector<std::unique_ptr<Recorder>>;  // submitted in order
  Result<const Recordings*> recording(uint32_t n);
  Status record(Recorder& rec, uint32_t n, uint32_t layer0, uint32_t layer_end, bool end = true);
  Result<uint64_t> extra_chunks();  // binding chunks of the matrices beyond one each
  static uint32_t room(uint32_t layers, uint64_t extra);  // a recording's dispatches for `layers` layers
  // Elements [first, first + n) of an activation buffer, bound on their own where the offset allows (then
  // products writing different parts need no barrier between them), else the whole buffer at an offset.
  View part(const std::unique_ptr<Buffer>& b, uint64_t first, uint64_t n) const;

  Device* device_ = nullptr;
  Ops* ops_ = nullptr;
  DeviceModel model_;
  uint32_t n_batch_ = 0;
  std::unique_ptr<Buffer> x_, xn_, qkv_, attn_, gate_up_, ids_, pos_;
  // Where ids_ and pos_ are not mapped (a discrete GPU without resizable BAR): the batch's ids, then its
  // positions from float n_batch on, host-visible; the batch's first recording copies them. Null elsewhere.
  std::unique_ptr<Buffer> inputs_host_;
  std::map<uint32_t, Recordings> recordings_;  // by batch length
  std::vector<Counts> counts_;
  bool profile_ = false;
  uint32_t profiled_tokens_ = 0;
  std::vector<Recorder::DispatchTime> evicted_times_;  // times of recordings dropped since take_times()
};

}  // namespace penser::vulkan
