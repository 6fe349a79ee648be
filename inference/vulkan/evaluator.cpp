// Decode step on the GPU, top to bottom (E = n_embd, H = n_head, Hkv = n_head_kv, D = head_dim, F = n_ff):
//   x = token_embd[token]                                   (E)
//   per layer: xn = RMSNorm(x) * attn_norm
//              q = Wq xn (+bq) (H*D); k = Wk xn (+bk), v = Wv xn (+bv) (Hkv*D)  (one product: merge.qkv)
//              qwen3: RMSNorm per head of q and k; RoPE on q and k at `pos`
//              K/V cache[pos] = f16(k), f16(v)  (norm, RoPE and store in one dispatch: merge.rope_kv)
//              a = attention(q, cache[0..pos]) (H*D)  (with the step above inside it: rope_in_attention)
//              x += Wo a;  xn = RMSNorm(x) * ffn_norm;  x += Wdown (silu(Wgate xn) * (Wup xn))
//              (gate and up in one product: merge.gate_up)
//   logits = Wout (RMSNorm(x) * output_norm)                (V)
#include "inference/vulkan/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "inference/common/threadpool.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/evaluator_prefill.h"
#include "inference/vulkan/knobs.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {

namespace {

using model::Tensor;
using tokenizer::Token;
using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Split-K decode attention: at most kMaxDecodeSplit ranges per head, of at least a minimum chunk of
// positions chosen by device type (split_shape below).
constexpr uint32_t kMaxDecodeSplit = 256;  // PENSER_VK_ATTN_SPLIT's limit (the GPU sweep)
constexpr uint32_t kGpuDecodeSplit = 64;   // GPUs' default

// The words of a comma list in an environment variable (measurement knobs); nullopt when it is unset.
std::optional<std::vector<std::string>> env_words(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  std::vector<std::string> words(1);
  for (const char* c = v; *c; ++c) {
    if (*c == ',') words.emplace_back();
    else words.back() += *c;
  }
  return words;
}
bool has_word(const std::vector<std::string>& w, const char* word) { return std::find(w.begin(), w.end(), word) != w.end(); }

// PENSER_VK_MERGE=0|all (1 = all) or a list of qkv, gate_up, rope_kv.
EvaluatorOptions::Merges merges_from_env(const EvaluatorOptions::Merges& def) {
  auto w = env_words("PENSER_VK_MERGE");
  if (!w) return def;
  const bool all = has_word(*w, "1") || has_word(*w, "all");
  return {.qkv = all || has_word(*w, "qkv"), .gate_up = all || has_word(*w, "gate_up"),
          .rope_kv = all || has_word(*w, "rope_kv")};
}

// Everything VulkanEvaluator holds that was made on the device, in one place so that ~VulkanEvaluator can
// leak it whole when a hung submission may still use it (Device::settle). Destroyed in reverse order of
// declaration: the device's objects before the device, the device before the instance. A new member that
// holds a Buffer, a Recorder, a pipeline or anything else made on the device belongs here, not in
// VulkanEvaluator (test_vulkan_evaluator `a_hung_device_leaks_everything` checks that nothing is freed).
struct VulkanObjects {
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<Ops> ops_;
  std::vector<std::unique_ptr<Buffer>> owned_;  // weight matrices (their allocation parts)
  std::unique_ptr<Buffer> output_norm_, rope_freqs_;
  std::vector<LayerBuffers> layers_;
  std::unique_ptr<Buffer> x_, xn_, qkv_, attn_, gate_up_, scores_, logits_, token_, pos_;
  // Where token_ and pos_ are not mapped (a discrete GPU without resizable BAR): the token id at 0 and the
  // position at 16, host-visible; the decode step begins by copying them (Recorder::begin). Null elsewhere.
  std::unique_ptr<Buffer> inputs_host_;
  std::unique_ptr<Recorder> step_;
  std::unique_ptr<BatchPath> batch_;  // null when n_batch is 1
  std::unique_ptr<Buffer> partials_;  // split-K attention's per-range results
};

class VulkanEvaluator final : public model::Evaluator, private VulkanObjects {
 public:
  static Result<std::unique_ptr<model::Evaluator>> create(const model::Model& model, const EvaluatorOptions& opt) {
    std::unique_ptr<VulkanEvaluator> self(new VulkanEvaluator(model));
    const auto t0 = Clock::now();
    const model::HParams& hp = model.hparams();
    self->n_ctx_ = std::max<uint32_t>(1, std::min(opt.n_ctx, hp.n_ctx_train ? hp.n_ctx_train : opt.n_ctx));
    PENSER_ASSIGN_OR_RETURN(self->instance_, Instance::create({.validation = opt.validation}));
    PENSER_ASSIGN_OR_RETURN(uint32_t index, choose_device(self->instance_->devices(), opt.device, true));
    PENSER_ASSIGN_OR_RETURN(self->device_, Device::create(*self->instance_, index));
    if (opt.device_local_limit_bytes) self->device_->limit_device_local_for_tests(opt.device_local_limit_bytes);
    if (opt.unmapped_device_memory) self->device_->unmapped_device_memory_for_tests(true);
    const uint32_t n_batch = opt.n_batch ? opt.n_batch : default_batch(self->device_->info());
    self->n_batch_ = std::clamp<uint32_t>(n_batch, 1, self->n_ctx_);
    PENSER_TRY(self->device_->check_fits(estimate_device_bytes(model, self->n_ctx_, self->n_batch_, self->device_->info().is_cpu()),
                                         fmt::format("{} and a context of {} tokens", model.name(), self->n_ctx_)));
    // The environment only where the caller left the choice open (as PENSER_VK_MERGE below).
    const bool fold = opt.swiglu_fold ? *opt.swiglu_fold : env_flag("PENSER_VK_SWIGLU_FOLD").value_or(true);
    // The prompt's products on cooperative matrices wherever the device has them (NVIDIA): the H200 run of
    // 2026-11-29 measured prefill at p = 512 1.25x (8B-shaped) and 1.9x (1.5B-shaped) the fp32 tiles'.
    // PENSER_VK_MUL_MM_COOPMAT=0 turns them off (Ops::create reads it when 0 is passed).
    uint32_t coopmat = opt.mul_mm_coopmat;
    if (!coopmat && self->device_->cooperative_matrix())
      coopmat = uint32_t(env_uint("PENSER_VK_MUL_MM_COOPMAT", 0, 2).value_or(1));
    PENSER_ASSIGN_OR_RETURN(self->ops_, Ops::create(*self->device_, {.max_binding_bytes = opt.max_binding_bytes,
                                                                     .mul_mm_coopmat = coopmat,
                                                                     .swiglu_fold = fold}));
    const uint64_t device_limit = self->device_->info().max_memory_allocation_size;
    self->alloc_limit_ = device_limit ? device_limit : UINT64_MAX;
    if (opt.max_allocation_bytes) self->alloc_limit_ = std::min(self->alloc_limit_, opt.max_allocation_bytes);
    // Measurements (the GPU script): weights in parts on a device whose limit would not split them.
    else if (auto n = env_uint("PENSER_VK_MAX_ALLOCATION", 1, UINT64_MAX)) self->alloc_limit_ = std::min(self->alloc_limit_, *n);
    // The environment only where the caller left the choice open (scripts/device/gpu-run.sh compares them).
    self->merge_ = opt.merge ? *opt.merge : merges_from_env({});
    self->norm_carry_ = opt.norm_carry ? *opt.norm_carry
                                       : env_flag("PENSER_VK_NORM_CARRY").value_or(default_norm_carry(self->device_->info()));
    self->rope_attn_ = opt.rope_in_attention ? *opt.rope_in_attention
                                             : env_flag("PENSER_VK_ROPE_ATTN").value_or(true);
    self->progress_ = opt.progress;
    PENSER_TRY(self->upload());
    self->load_times_.buffers_s = seconds(t0, Clock::now());
    self->profile_ = opt.profile;
    self->split_shape(opt.decode_split);
    {
      // The weights are written on a thread of their own while the decode step is recorded, so that its
      // pipelines compile meanwhile on the other cores (Pipeline::create_async; Recorder::end waits for
      // them). Lavapipe, make-model's 1.5B shape, 2 cores: the upload ~1.0 s and eight compiles ~1.1 s.
      auto filled = std::async(std::launch::async, [s = self.get()] {
        const auto t = Clock::now();
        Status st = s->fill();
        s->load_times_.weights_s = seconds(t, Clock::now());
        return st;
      });
      const auto t = Clock::now();
      Status recorded = self->record();
      self->load_times_.step_s = seconds(t, Clock::now());
      PENSER_TRY(filled.get());
      PENSER_TRY(recorded);
    }
    PENSER_TRY(self->create_batch_path());
    // Loaded: nothing per token goes through staging (the step copies its inputs), so the staging buffer
    // the upload reused (up to 32 MiB of pinned host memory) goes.
    self->device_->release_staging();
    self->load_times_.total_s = seconds(t0, Clock::now());
    return std::unique_ptr<model::Evaluator>(std::move(self));
  }

  uint32_t n_ctx() const override { return n_ctx_; }
  // fill_cache_for_bench(): replaces the state by n positions of pseudo-random cache (f16 in [-1, 1]).
  Status fill_cache(uint32_t n, uint64_t seed) {
    if (n > n_ctx_) return make_error("cannot fill {} positions: the context holds {}", n, n_ctx_);
    const model::HParams& hp = model_.hparams();
    std::vector<uint16_t> values(size_t(n) * hp.n_head_kv * hp.head_dim);
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (LayerBuffers& B : layers_)
      for (Buffer* cache : {B.k_cache.get(), B.v_cache.get()}) {
        for (uint16_t& h : values) h = quant::f32_to_f16(dist(rng));
        PENSER_TRY(cache->write(0, values.data(), values.size() * 2));
      }
    tokens_.assign(n, Token{0});
    return {};
  }
  Result<StepProfile> take_profile() {
    if (!profile_) return make_error("this Vulkan evaluator was made without profiling (EvaluatorOptions::profile)");
    StepProfile p;
    p.dispatches = step_->take_times(&p.steps);
    p.barriers = step_->barriers();
    return p;
  }
  Result<PromptProfile> take_prompt_profile() {
    if (!profile_) return make_error("this Vulkan evaluator was made without profiling (EvaluatorOptions::profile)");
    PromptProfile p;
    if (batch_) p.dispatches = batch_->take_times(&p.tokens);
    return p;
  }
  LoadTimes load_times() const { return load_times_; }
  MemoryInUse memory_in_use() const {
    MemoryInUse m{.estimate = estimate_device_bytes(model_, n_ctx_, n_batch_, device_->info().is_cpu()),
                  .allocated = device_->device_local_allocated()};
    if (const auto d = device_->driver_device_local_memory()) {
      m.driver_usage = d->usage;
      m.driver_budget = d->budget;
    }
    return m;
  }
  WeightAllocations weight_allocations() const {
    WeightAllocations w{.count = uint32_t(owned_.size()), .split_matrices = split_matrices_,
                        .interleaved = interleaved_matrices_, .padding = interleave_padding_,
                        .cpu_implementation = device_->info().is_cpu(),
                        .subgroup_size = device_->subgroup_ops() ? device_->subgroups().size : 0,
                        .int64 = device_->int64(),
                        .integer_dot = device_->integer_dot_product()};
    for (const auto& b : owned_) {
      w.bytes += b->size();
      w.largest = std::max(w.largest, b->size());
      w.in_system_memory += b->in_system_memory() ? 1 : 0;
    }
    return w;
  }
  std::vector<PromptCounts> prompt_counts() const {
    std::vector<PromptCounts> c;
    if (batch_)
      for (const BatchPath::Counts& b : batch_->counts()) c.push_back({b.dispatches, b.barriers});
    return c;
  }
  const std::vector<Token>& tokens() const override { return tokens_; }
  std::string backend_name() const override { return "vulkan: " + device_->info().name; }
  bool device_lost() const override { return device_ && device_->lost(); }
  void truncate(uint32_t n) override {
    PENSER_ASSERT(n <= tokens_.size());
    tokens_.resize(n);
  }

  Status eval(std::span<const Token> tokens, std::span<float> logits) override {
    const model::HParams& hp = model_.hparams();
    PENSER_ASSERT(logits.size() >= hp.n_vocab);
    if (tokens.empty()) return make_error("nothing to evaluate: the token list is empty");
    if (tokens.size() > size_t(n_ctx_) - tokens_.size())
      return make_error("the context is full: {} tokens held + {} new exceed the context size of {}", tokens_.size(),
                        tokens.size(), n_ctx_);
    for (Token t : tokens)
      if (t < 0 || uint32_t(t) >= hp.n_vocab)
        return make_error("token id {} is outside the vocabulary (0..{})", t, hp.n_vocab - 1);
    if (batch_ && tokens.size() > 1) {
      PENSER_TRY(eval_batches(tokens));
      return logits_->read(0, logits.data(), uint64_t(hp.n_vocab) * 4);
    }
    for (Token t : tokens) {
      if (cancelled()) return make_error("cancelled");
      const uint32_t id = uint32_t(t);
      const int32_t pos = int32_t(tokens_.size());
      if (inputs_host_) {  // copied by the step itself
        PENSER_TRY(inputs_host_->write(0, &id, 4));
        PENSER_TRY(inputs_host_->write(16, &pos, 4));
      } else {
        PENSER_TRY(token_->write(0, &id, 4));
        PENSER_TRY(pos_->write(0, &pos, 4));
      }
      PENSER_TRY(step_->submit_and_wait("the decode step"));
      tokens_.push_back(t);
    }
    return logits_->read(0, logits.data(), uint64_t(hp.n_vocab) * 4);
  }

 private:
  explicit VulkanEvaluator(const model::Model& model) : model_(model) {}

 public:
  // Nothing made on the device is freed while work may still use it (Device::settle): VulkanObjects' members
  // go after this body, in reverse order, each before the device. A hung submission that is still running
  // after settle's wait keeps them all: they move to the heap and are never freed (memory lost until Penser
  // exits, which beats freeing it under a running shader); what stays behind is empty.
  ~VulkanEvaluator() override {
    if (!device_ || device_->settle()) return;
    std::fprintf(stderr, "penser: vulkan: work on %s timed out and still runs; its buffers are left allocated\n",
                 device_->info().name.c_str());
    new VulkanObjects(std::move(static_cast<VulkanObjects&>(*this)));
  }

  Device* device_for_tests() const { return device_.get(); }
  size_t pipeline_count() const { return ops_->pipeline_count(); }
  Status wait_for_compiles() const { return ops_->wait_for_compiles(); }

 private:
  // ---- Prompt path (evaluator_prefill.cpp): batches of up to n_batch tokens, one submission each ----
  Status create_batch_path() {
    if (n_batch_ < 2) return {};
    DeviceModel dm{&model_.hparams(), token_embd_, output_, output_norm_.get(), rope_freqs_.get(), &layers_,
                   logits_.get(), merge_.rope_kv};
    PENSER_ASSIGN_OR_RETURN(batch_, BatchPath::create(*device_, *ops_, dm, n_batch_));
    if (profile_) batch_->enable_profile();
    return batch_->prepare();  // the prompt's pipelines compile in the background from here
  }
  // Tokens already checked by eval(). Cancellation is seen between batches and between the layers of one;
  // a batch cut short is not kept (tokens_ holds whole batches only).
  Status eval_batches(std::span<const Token> tokens) {
    for (size_t i = 0; i < tokens.size();) {
      if (cancelled()) return make_error("cancelled");
      const size_t n = std::min<size_t>(n_batch_, tokens.size() - i);
      PENSER_TRY(batch_->run(tokens.subspan(i, n), uint32_t(tokens_.size()), [this] { return cancelled(); }));
      tokens_.insert(tokens_.end(), tokens.begin() + i, tokens.begin() + i + n);
      i += n;
    }
    return {};
  }

  // Decode attention is split over the positions (split-K: ranges of at least split_chunk_ positions, at
  // most decode_split_ of them, then a reduction) so that a long context keeps the device busy: the grouped
  // kernel (Ops::attn_shape) has only one workgroup per KV head and range (a 1.5B model: 2 KV heads).
  // GPUs: ranges of >= 16 positions, up to 64 of them (a 4k context: 128 workgroups for 2 KV heads). The
  // H200 runs of 2026-11-29: at a 512-position cache, ranges of >= 16 decoded 1.17x (8B-shaped) and 1.30x
  // (1.5B-shaped) as fast as ranges of >= 64 (8 positions: 1.12x / 1.25x), the same at 32 positions and
  // 4096 (64 ranges of 64 either way); 128 ranges of 32 or 256 of 16 at 4096 were no faster (0.75-1.08x).
  // CPU implementations: one pass (lavapipe on 2 cores, 1.5B heads: 1 range
  // beat 4 at 16k positions, 10.8-12.1 against 12.7-15.4 ms per layer; 1, 2, 4 within noise at 4k:
  // docs/vulkan.md); a machine with many more cores than KV heads may want PENSER_VK_ATTN_SPLIT.
  // An explicit split (tests) uses ranges of >= 4, so that a short context is split too.
  // PENSER_VK_ATTN_SPLIT / _CHUNK override both (measurements, the GPU script's sweep).
  void split_shape(uint32_t forced) {
    const bool cpu = device_->info().is_cpu();
    split_chunk_ = forced ? 4 : cpu ? 2048 : 16;  // CPU: with PENSER_VK_ATTN_SPLIT
    uint32_t max_split = cpu ? 1 : kGpuDecodeSplit;
    if (auto c = env_uint("PENSER_VK_ATTN_CHUNK", 1, 1u << 20)) split_chunk_ = *c;
    if (auto n = env_uint("PENSER_VK_ATTN_SPLIT", 1, kMaxDecodeSplit)) max_split = *n;
    decode_split_ = forced ? std::min(forced, kMaxDecodeSplit)
                           : std::clamp<uint32_t>(n_ctx_ / split_chunk_, 1, max_split);
  }

  Ops::AttnParams attn_params() const {
    const model::HParams& hp = model_.hparams();
    return {.head_dim = hp.head_dim, .n_head = hp.n_head, .n_head_kv = hp.n_head_kv, .scores_stride = n_ctx_};
  }
  // The attention with rope_kv's work inside it (rope_attn_): q, k, v of the new token unrotated in qkv_.
  Status record_decode_attention_rope(Recorder& r, const LayerBuffers& B, const Ops::RopeParams& rp, const View* qn,
                                      const View* kn, const View* ff) {
    const model::HParams& hp = model_.hparams();
    const Ops::AttnParams ap = attn_params();
    const uint32_t H = hp.n_head, Hkv = hp.n_head_kv, D = hp.head_dim;
    const View qa{qkv_->all(), 0}, ka{qkv_->all(), H * D}, va{qkv_->all(), (H + Hkv) * D};
    if (decode_split_ > 1 && !partials_) {
      PENSER_ASSIGN_OR_RETURN(partials_, scratch(Ops::attn_split_floats(ap, decode_split_), "attention partials"));
    }
    return ops_->attn_decode_rope(r, qa, ka, va, qn, kn, hp.rms_eps, ff, all(pos_), all(B.k_cache), all(B.v_cache),
                                  all(attn_), decode_split_ > 1 ? all(partials_) : all(attn_), ap, rp,
                                  decode_split_ > 1 ? decode_split_ : 1, decode_split_ > 1 ? split_chunk_ : 1);
  }

  Status record_decode_attention(Recorder& r, const LayerBuffers& B) {
    const Ops::AttnParams ap = attn_params();
    if (decode_split_ <= 1)
      return ops_->attn_decode(r, q_, all(B.k_cache), all(B.v_cache), all(attn_), all(scores_), all(pos_), ap);
    if (!partials_) {
      PENSER_ASSIGN_OR_RETURN(partials_, scratch(Ops::attn_split_floats(ap, decode_split_), "attention partials"));
    }
    return ops_->attn_decode_split(r, q_, all(B.k_cache), all(B.v_cache), all(attn_), all(scores_), all(partials_),
                                   all(pos_), ap, decode_split_, split_chunk_);
  }

  // may_interleave: false for the token embedding, which get_rows reads (a lookup, not a product).
  Result<Matrix> upload_matrix(const Tensor& t, const char* what, bool may_interleave = true) {
    return upload_rows({{&t, nullptr, what}}, what, may_interleave);
  }

  // Tensors of one type and width as one matrix, their rows back to back, so that one product computes them
  // all (the decode step's Q/K/V and gate/up; a single tensor otherwise). Each part's Matrix is a view of
  // its rows (the prompt path reads them one by one). One allocation when the rows fit alloc_limit_ (the
  // usual case); else parts of as many whole rows as the limit holds, one allocation each (a 14B/32B
  // output matrix above the 1 GiB Vulkan guarantees, drivers with small limits), which the ops iterate.
  struct Part {
    const Tensor* t;
    Matrix* m;  // may be null
    const char* name;
  };
  Result<Matrix> upload_rows(std::initializer_list<Part> parts, const char* what, bool may_interleave = true) {
    uint32_t rows = 0;
    const Tensor& first = *parts.begin()->t;
    for (const auto& [t, m, name] : parts) {
      PENSER_ASSERT(t->type == first.type && t->ne0 == first.ne0 && t->ne1 > 0);
      rows += uint32_t(t->ne1);
    }
    if (!supported_weight_type(first.type))
      return make_error("{}: type {} is not supported by the Vulkan backend", what, quant::type_name(first.type));
    Matrix whole{nullptr, 0, first.type, uint32_t(first.ne0), rows};
    whole.name = what;
    const uint64_t row_bytes = whole.row_bytes();
    PENSER_ASSERT(row_bytes == first.row_bytes);
    // Interleaved where the device's products read that layout (CPU implementations: Ops::interleaves),
    // every tensor a whole number of 8-row groups so that each one's view starts at a group.
    bool il = may_interleave && ops_->interleaves(first.type, whole.ncols, rows);
    for (const auto& [t, m, name] : parts) il = il && t->ne1 % 8 == 0;
    whole.interleaved = il;
    if (il) {
      ++interleaved_matrices_;
      interleave_padding_ += (whole.stride() - row_bytes) * rows;
    }
    const uint64_t stride = whole.stride(), group = il ? 8 : 1;
    const uint64_t per_part = std::min<uint64_t>(rows, alloc_limit_ / (stride * group) * group);
    if (per_part == 0)
      return make_error("{}: {} of {} exceed the {} the GPU {} allows per allocation", what, il ? "8 rows" : "one row",
                        format_bytes(stride * group), format_bytes(alloc_limit_), device_->info().name);
    const Part* src = parts.begin();
    uint64_t src_row = 0;  // next row of src->t to copy
    for (uint32_t r0 = 0, n = 0; r0 < rows; r0 += n) {
      n = uint32_t(std::min<uint64_t>(per_part, rows - r0));
      const std::string label = n == rows ? std::string(what) : fmt::format("{} (rows {}-{})", what, r0, r0 + n - 1);
      PENSER_ASSIGN_OR_RETURN(auto buf, Buffer::create(*device_, n * stride, MemoryUse::DeviceLocal, label));
      for (uint64_t at = 0; at < n;) {  // rows of the part, taken from the tensors in order: written by fill()
        uint64_t take = std::min<uint64_t>(n - at, uint64_t(src->t->ne1) - src_row);
        const uint8_t* from = src->t->data + src_row * row_bytes;
        Buffer* b = buf.get();
        if (il) {  // a few MiB at a time: whole groups, interleaved on the host
          take = std::min<uint64_t>(take, std::max<uint64_t>(8, (kStagingChunk / (stride * 8)) * 8));
          fills_.push_back({take * stride, [b, at, take, from, stride, type = whole.type, ncols = whole.ncols] {
                              std::vector<uint8_t> staging(take * stride);  // interleaved rows on their way
                              interleave_rows(type, ncols, from, uint32_t(take), staging.data());
                              return b->write(at * stride, staging.data(), take * stride);
                            }});
        } else {  // pieces of at most kStagingChunk too: the load's progress and a cancel between them
          take = std::min<uint64_t>(take, std::max<uint64_t>(1, kStagingChunk / row_bytes));
          fills_.push_back({take * row_bytes,
                            [b, at, take, from, row_bytes] { return b->write(at * row_bytes, from, take * row_bytes); }});
        }
        at += take;
        src_row += take;
        if (src_row == uint64_t(src->t->ne1)) ++src, src_row = 0;
      }
      whole.parts.push_back({buf.get(), 0, r0, n});
      owned_.push_back(std::move(buf));
    }
    whole.buffer = whole.parts.front().buffer;
    if (whole.parts.size() == 1) whole.parts.clear();
    else ++split_matrices_;
    uint32_t r = 0;
    for (const auto& [t, m, name] : parts) {
      if (m) {
        *m = whole.rows(r, uint32_t(t->ne1));
        m->name = name;
      }
      r += uint32_t(t->ne1);
    }
    return whole;
  }
  // Whatever their size: a merged matrix above the allocation limit is stored in parts like any other.
  bool mergeable(std::initializer_list<const Tensor*> ts) const {
    for (const Tensor* t : ts)
      if (t->type != (*ts.begin())->type || t->ne0 != (*ts.begin())->ne0) return false;
    return true;
  }

  // 1-D weights (norms, biases, rope factors) as f32, whatever the file stores.
  Result<std::unique_ptr<Buffer>> upload_vector(const Tensor& t, const char* what) {
    if (!t) return std::unique_ptr<Buffer>();
    std::vector<float> v(size_t(t.ne0 * t.ne1));
    quant::dequantize_row(t.type, t.data, v.data(), t.ne0 * t.ne1);
    PENSER_ASSIGN_OR_RETURN(auto buf, Buffer::create(*device_, v.size() * 4, MemoryUse::DeviceLocal, what));
    PENSER_TRY(buf->write(0, v.data(), v.size() * 4));
    return buf;
  }

  // bq|bk|bv in one buffer for the merged Q/K/V product (qwen2); the separate ones stay for the prompt path.
  Status upload_qkv_bias(const model::Layer& L, LayerBuffers& B) {
    if (!L.bk || !L.bv) return make_error("attn_q.bias without attn_k.bias and attn_v.bias");
    std::vector<float> v(size_t(L.bq.ne0 + L.bk.ne0 + L.bv.ne0));
    quant::dequantize_row(L.bq.type, L.bq.data, v.data(), L.bq.ne0);
    quant::dequantize_row(L.bk.type, L.bk.data, v.data() + L.bq.ne0, L.bk.ne0);
    quant::dequantize_row(L.bv.type, L.bv.data, v.data() + L.bq.ne0 + L.bk.ne0, L.bv.ne0);
    PENSER_ASSIGN_OR_RETURN(B.bqkv, Buffer::create(*device_, v.size() * 4, MemoryUse::DeviceLocal, "attn_qkv.bias"));
    return B.bqkv->write(0, v.data(), v.size() * 4);
  }

  // The weight matrices' bytes, queued by upload_rows(): into their buffers, in order, on up to 4 threads.
  // From any thread; the tensors' memory (the model's mapping) and the buffers outlive it. After each piece
  // the progress callback (EvaluatorOptions::progress) hears the fraction written; when it says stop, or a
  // write fails, the pieces not yet started are skipped: the first error, or kLoadCancelled.
  Status fill() {
    uint64_t total = 0;
    for (const Fill& f : fills_) total += f.bytes;
    std::atomic<bool>& stop = load_stop_;  // record() reads it too (Recorder::end)
    std::mutex m;  // under it: first, done and the progress calls
    Status first;  // the first error
    uint64_t done = 0;
    bool cancelled = progress_ && !progress_(0.0);
    if (!cancelled && progress_ && total == 0) cancelled = !progress_(1.0);
    stop = cancelled;
    ThreadPool pool(int(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)));
    pool.parallel_for_dynamic(int64_t(fills_.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end && !stop; ++i) {
        Status s = fills_[size_t(i)].write();
        std::lock_guard lock(m);
        if (!s) {
          if (first) first = std::move(s);
          stop = true;
        } else if (!stop) {
          done += fills_[size_t(i)].bytes;
          if (progress_ && !progress_(double(done) / double(total))) stop = cancelled = true;
        }
      }
    });
    fills_.clear();
    progress_ = nullptr;  // the caller's (it may refer to what its load call holds): not kept past the load
    if (!first) return first;
    if (cancelled) return make_error("{}", kLoadCancelled);
    return {};
  }

  Result<std::unique_ptr<Buffer>> scratch(uint64_t floats, const char* what) {
    return Buffer::create(*device_, std::max<uint64_t>(floats, 4) * 4, MemoryUse::DeviceLocal, what);
  }

  Status upload() {
    const model::HParams& hp = model_.hparams();
    const model::Weights& w = model_.weights();
    PENSER_ASSIGN_OR_RETURN(token_embd_, upload_matrix(w.token_embd, "token_embd.weight", false));
    output_ = token_embd_;
    if (w.output.data != w.token_embd.data) {
      PENSER_ASSIGN_OR_RETURN(output_, upload_matrix(w.output, "output.weight"));
    }
    PENSER_ASSIGN_OR_RETURN(output_norm_, upload_vector(w.output_norm, "output_norm.weight"));
    PENSER_ASSIGN_OR_RETURN(rope_freqs_, upload_vector(w.rope_freqs, "rope_freqs.weight"));
    const uint64_t kv_dim = uint64_t(hp.n_head_kv) * hp.head_dim;
    layers_.resize(hp.n_layer);
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
      const model::Layer& L = w.layers[l];
      LayerBuffers& B = layers_[l];
      // Q4_K_M stores attn_v as Q6_K in some layers: then Q and K only.
      if (merge_.qkv && mergeable({&L.wq, &L.wk, &L.wv})) {
        PENSER_ASSIGN_OR_RETURN(B.qkv, upload_rows({{&L.wq, &B.wq, "attn_q.weight"}, {&L.wk, &B.wk, "attn_k.weight"},
                                                    {&L.wv, &B.wv, "attn_v.weight"}}, "attn_qkv.weight"));
      } else if (merge_.qkv && mergeable({&L.wq, &L.wk})) {
        PENSER_ASSIGN_OR_RETURN(B.qkv, upload_rows({{&L.wq, &B.wq, "attn_q.weight"}, {&L.wk, &B.wk, "attn_k.weight"}},
                                                   "attn_qk.weight"));
        PENSER_ASSIGN_OR_RETURN(B.wv, upload_matrix(L.wv, "attn_v.weight"));
      } else {
        PENSER_ASSIGN_OR_RETURN(B.wq, upload_matrix(L.wq, "attn_q.weight"));
        PENSER_ASSIGN_OR_RETURN(B.wk, upload_matrix(L.wk, "attn_k.weight"));
        PENSER_ASSIGN_OR_RETURN(B.wv, upload_matrix(L.wv, "attn_v.weight"));
      }
      PENSER_ASSIGN_OR_RETURN(B.wo, upload_matrix(L.wo, "attn_output.weight"));
      if (merge_.gate_up && mergeable({&L.ffn_gate, &L.ffn_up})) {
        PENSER_ASSIGN_OR_RETURN(B.gate_up, upload_rows({{&L.ffn_gate, &B.gate, "ffn_gate.weight"},
                                                        {&L.ffn_up, &B.up, "ffn_up.weight"}}, "ffn_gate_up.weight"));
      } else {
        PENSER_ASSIGN_OR_RETURN(B.gate, upload_matrix(L.ffn_gate, "ffn_gate.weight"));
        PENSER_ASSIGN_OR_RETURN(B.up, upload_matrix(L.ffn_up, "ffn_up.weight"));
      }
      PENSER_ASSIGN_OR_RETURN(B.down, upload_matrix(L.ffn_down, "ffn_down.weight"));
      PENSER_ASSIGN_OR_RETURN(B.attn_norm, upload_vector(L.attn_norm, "attn_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.ffn_norm, upload_vector(L.ffn_norm, "ffn_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.bq, upload_vector(L.bq, "attn_q.bias"));
      PENSER_ASSIGN_OR_RETURN(B.bk, upload_vector(L.bk, "attn_k.bias"));
      PENSER_ASSIGN_OR_RETURN(B.bv, upload_vector(L.bv, "attn_v.bias"));
      if (B.qkv.nrows && B.bq) PENSER_TRY(upload_qkv_bias(L, B));
      PENSER_ASSIGN_OR_RETURN(B.q_norm, upload_vector(L.q_norm, "attn_q_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.k_norm, upload_vector(L.k_norm, "attn_k_norm.weight"));
      // f16 cache, one [n_ctx][Hkv*D] block per layer for K and for V.
      PENSER_ASSIGN_OR_RETURN(B.k_cache, Buffer::create(*device_, n_ctx_ * kv_dim * 2, MemoryUse::DeviceLocal, "the K cache"));
      PENSER_ASSIGN_OR_RETURN(B.v_cache, Buffer::create(*device_, n_ctx_ * kv_dim * 2, MemoryUse::DeviceLocal, "the V cache"));
    }
    const uint64_t q_dim = uint64_t(hp.n_head) * hp.head_dim;
    // x, then (NormCarry) x * the next norm's weight, and the counter, the sum of x^2 and the partial sums
    // (at most one per row of a producer, plus one per binding chunk), each at a multiple of 16 floats: one
    // binding holds all three. Zeroed: the counter starts at 0 (every producer leaves it so).
    carry_xg_ = (hp.n_embd + 15) / 16 * 16;
    carry_ss_ = carry_xg_ * 2;
    const uint64_t x_floats = carry_ss_ + 4 + carry_xg_ + 64;
    PENSER_ASSIGN_OR_RETURN(x_, scratch(x_floats, "activations"));
    PENSER_TRY(x_->write(0, std::vector<float>(x_floats, 0.0f).data(), x_floats * 4));
    PENSER_ASSIGN_OR_RETURN(xn_, scratch(std::max<uint64_t>(hp.n_embd, q_dim), "activations"));
    // q|k|v and gate|up back to back, as the merged products write them.
    PENSER_ASSIGN_OR_RETURN(qkv_, scratch(q_dim + 2 * kv_dim, "activations"));
    q_ = part(qkv_, 0, q_dim);
    k_ = part(qkv_, q_dim, kv_dim);
    v_ = part(qkv_, q_dim + kv_dim, kv_dim);
    PENSER_ASSIGN_OR_RETURN(attn_, scratch(q_dim, "activations"));
    PENSER_ASSIGN_OR_RETURN(gate_up_, scratch(2 * uint64_t(hp.n_ff), "activations"));
    gate_ = part(gate_up_, 0, hp.n_ff);
    up_ = part(gate_up_, hp.n_ff, hp.n_ff);
    PENSER_ASSIGN_OR_RETURN(scores_, scratch(uint64_t(hp.n_head) * n_ctx_, "attention scores"));
    // Read by the host after every evaluation: in host memory (cached), not in device memory that the CPU would
    // read uncached across the bus (a discrete GPU with resizable BAR maps its VRAM as host-visible; reading
    // the ~600 KB of a 150k vocabulary from there takes milliseconds). The GPU writes it across the bus once.
    PENSER_ASSIGN_OR_RETURN(logits_, Buffer::create(*device_, std::max<uint64_t>(hp.n_vocab, 4) * 4, MemoryUse::Host,
                                                    "logits"));
    PENSER_ASSIGN_OR_RETURN(token_, Buffer::create(*device_, 16, MemoryUse::DeviceLocal, "the token id"));
    PENSER_ASSIGN_OR_RETURN(pos_, Buffer::create(*device_, 16, MemoryUse::DeviceLocal, "the position"));
    // Written before every decode step. Through staging (a discrete GPU without resizable BAR) each write
    // would be a submission of its own, with a wait, twice a token: instead the host writes a mapped
    // buffer and the step copies from it.
    if (!token_->mapped() || !pos_->mapped()) {
      PENSER_ASSIGN_OR_RETURN(inputs_host_, Buffer::create(*device_, 32, MemoryUse::Host, "the decode step's inputs"));
    }
    return {};
  }

  static View all(const std::unique_ptr<Buffer>& b) { return View{b->all(), 0}; }
  // Elements [first, first + n) of an activation buffer: bound on their own where the offset meets the
  // device's alignment (dispatches that write different parts then need no barrier between them), else the
  // whole buffer at an element offset.
  View part(const std::unique_ptr<Buffer>& b, uint64_t first, uint64_t n) const {
    if (first * 4 % device_->info().min_storage_offset_alignment == 0) return View{b->range(first * 4, n * 4), 0};
    return View{b->all(), uint32_t(first)};
  }

  // An upper bound on the decode step's dispatches: at most 20 per layer and a few more, plus one per extra
  // binding chunk of a matrix split under maxStorageBufferRange (or EvaluatorOptions::max_binding_bytes) or
  // stored in several allocations.
  Result<uint32_t> step_dispatches() const {
    uint64_t n = 16 + uint64_t(model_.hparams().n_layer) * 20;
    auto extra = [&](const Matrix& m) -> Result<uint64_t> {
      if (!m.nrows) return 0;
      PENSER_ASSIGN_OR_RETURN(auto chunks, ops_->bind_matrix(m));  // binding chunks of every allocation part
      return chunks.size() - 1;
    };
    for (const Matrix* m : {&token_embd_, &output_}) {
      PENSER_ASSIGN_OR_RETURN(uint64_t e, extra(*m));
      n += e;
    }
    for (const LayerBuffers& B : layers_)
      for (const Matrix* m : {&B.wq, &B.wk, &B.wv, &B.wo, &B.gate, &B.up, &B.down, &B.qkv, &B.gate_up}) {
        PENSER_ASSIGN_OR_RETURN(uint64_t e, extra(*m));
        n += e;
      }
    return uint32_t(std::min<uint64_t>(n, UINT32_MAX));
  }

  Status record() {
    const model::HParams& hp = model_.hparams();
    const uint32_t E = hp.n_embd, H = hp.n_head, Hkv = hp.n_head_kv, D = hp.head_dim, F = hp.n_ff;
    PENSER_ASSIGN_OR_RETURN(uint32_t max_dispatches, step_dispatches());
    PENSER_ASSIGN_OR_RETURN(step_, Recorder::create(*device_, max_dispatches));
    if (profile_) PENSER_TRY(step_->enable_timestamps());
    Recorder& r = *step_;
    Ops& o = *ops_;
    if (inputs_host_) {  // the step copies its inputs
      PENSER_TRY(r.begin({{inputs_host_->range(0, 4), token_->range(0, 4)}, {inputs_host_->range(16, 4), pos_->range(0, 4)}}));
    } else {
      PENSER_TRY(r.begin());
    }
    PENSER_TRY(o.get_rows(r, token_embd_, all(token_), 1, all(x_), E));
    View ff_view;
    if (rope_freqs_) ff_view = all(rope_freqs_);
    const View* ff = rope_freqs_ ? &ff_view : nullptr;
    // The carried norm (norm_carry_): x * weight and the partial sums in x_ after x. `carried`: the norm of
    // x_ is carried into the next products (every norm but layer 0's attention norm).
    NormCarry nc{.xg = View{x_->all(), carry_xg_}, .ss = View{x_->all(), carry_ss_}, .eps = hp.rms_eps};
    bool carried = false;
    // The norm of x_ (weight w) as the products' input: carried, or written to xn_ by a dispatch of its own.
    auto norm_input = [&](const View& w, View& x_in, MulMvInput& in) -> Status {
      if (carried) {
        x_in = nc.xg;
        in.carried = &nc;
        return {};
      }
      x_in = all(xn_);
      return o.rms_norm(r, all(x_), all(xn_), &w, E, 1, hp.rms_eps);
    };
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
      LayerBuffers& B = layers_[l];
      const View an = all(B.attn_norm), fn = all(B.ffn_norm);
      const View next_norm = l + 1 < hp.n_layer ? all(layers_[l + 1].attn_norm) : all(output_norm_);
      MulMvInput attn_in;
      View attn_x;
      PENSER_TRY(norm_input(an, attn_x, attn_in));
      View bq, bk, bv, bqkv;
      if (B.bq) { bq = all(B.bq); bk = all(B.bk); bv = all(B.bv); }
      if (B.qkv.nrows) {  // q|k(|v) in one product over the merged rows
        if (B.bqkv) bqkv = all(B.bqkv);
        const View out{qkv_->range(0, uint64_t(B.qkv.nrows) * 4), 0};
        PENSER_TRY(o.mul_mv(r, B.qkv, attn_x, out, B.bqkv ? &bqkv : nullptr, false, attn_in));
        if (B.qkv.nrows == B.wq.nrows + B.wk.nrows)
          PENSER_TRY(o.mul_mv(r, B.wv, attn_x, v_, B.bv ? &bv : nullptr, false, attn_in));
      } else {
        PENSER_TRY(o.mul_mv(r, B.wq, attn_x, q_, B.bq ? &bq : nullptr, false, attn_in));
        PENSER_TRY(o.mul_mv(r, B.wk, attn_x, k_, B.bk ? &bk : nullptr, false, attn_in));
        PENSER_TRY(o.mul_mv(r, B.wv, attn_x, v_, B.bv ? &bv : nullptr, false, attn_in));
      }
      Ops::RopeParams rp{.head_dim = D, .n_dims = D, .n_head = H, .n_tokens = 1, .freq_base = hp.rope_freq_base,
                         .neox = hp.rope_neox, .n_head_kv = Hkv};
      View qn, kn;
      if (B.q_norm) { qn = all(B.q_norm); kn = all(B.k_norm); }
      const bool rope_in_attention = rope_attn_ && merge_.rope_kv && o.attn_rope_fuses(attn_params());
      if (rope_in_attention) {  // Q/K norm, RoPE and the K/V store inside the attention dispatch
        PENSER_TRY(record_decode_attention_rope(r, B, rp, B.q_norm ? &qn : nullptr, B.q_norm ? &kn : nullptr, ff));
      } else if (merge_.rope_kv) {  // Q/K norm, RoPE and the K/V store in one dispatch
        const View qa{qkv_->all(), 0}, ka{qkv_->all(), H * D}, va{qkv_->all(), (H + Hkv) * D};
        PENSER_TRY(o.rope_kv(r, qa, ka, va, B.q_norm ? &qn : nullptr, B.q_norm ? &kn : nullptr, hp.rms_eps, ff,
                             all(pos_), all(B.k_cache), all(B.v_cache), rp));
      } else {
        if (B.q_norm) {
          PENSER_TRY(o.rms_norm(r, q_, q_, &qn, D, H, hp.rms_eps));
          PENSER_TRY(o.rms_norm(r, k_, k_, &kn, D, Hkv, hp.rms_eps));
        }
        PENSER_TRY(o.rope(r, q_, all(pos_), ff, rp));
        rp.n_head = Hkv;
        PENSER_TRY(o.rope(r, k_, all(pos_), ff, rp));
        PENSER_TRY(o.kv_store(r, k_, all(B.k_cache), all(pos_), Hkv * D, 1, Hkv * D));
        PENSER_TRY(o.kv_store(r, v_, all(B.v_cache), all(pos_), Hkv * D, 1, Hkv * D));
      }
      if (!rope_in_attention) PENSER_TRY(record_decode_attention(r, B));
      // Wo adds into x_ and carries the FFN norm out (norm_carry_).
      nc.g = fn;
      PENSER_TRY(o.mul_mv(r, B.wo, all(attn_), all(x_), nullptr, /*accumulate=*/true,
                          {.carry = norm_carry_ ? &nc : nullptr}));
      carried = norm_carry_;
      MulMvInput ffn_in;
      View ffn_x;
      PENSER_TRY(norm_input(fn, ffn_x, ffn_in));
      // gate|up in one product, SwiGLU folded into its output where it can (writing gate_ only).
      const bool folded = B.gate_up.nrows && o.swiglu_folds(B.gate_up);
      if (folded) {
        MulMvInput in = ffn_in;
        in.swiglu_out = true;
        PENSER_TRY(o.mul_mv(r, B.gate_up, ffn_x, gate_, nullptr, false, in));
      } else if (B.gate_up.nrows) {
        PENSER_TRY(o.mul_mv(r, B.gate_up, ffn_x, all(gate_up_), nullptr, false, ffn_in));
      } else {
        PENSER_TRY(o.mul_mv(r, B.gate, ffn_x, gate_, nullptr, false, ffn_in));
        PENSER_TRY(o.mul_mv(r, B.up, ffn_x, up_, nullptr, false, ffn_in));
      }
      // Unfolded: SwiGLU a dispatch of its own.
      if (!folded) PENSER_TRY(o.swiglu(r, gate_, up_, gate_, F));
      // down adds into x_ and carries the next layer's attention norm (or the output norm) out.
      nc.g = next_norm;
      PENSER_TRY(o.mul_mv(r, B.down, gate_, all(x_), nullptr, /*accumulate=*/true,
                          {.carry = norm_carry_ ? &nc : nullptr}));
    }
    const View onorm = all(output_norm_);
    MulMvInput out_in;
    View out_x;
    PENSER_TRY(norm_input(onorm, out_x, out_in));
    PENSER_TRY(o.mul_mv(r, output_, out_x, all(logits_), nullptr, false, out_in));
    return r.end(&load_stop_);  // a load whose weights failed or were cancelled waits for no more compiles
  }

  const model::Model& model_;
  uint32_t n_ctx_ = 0;
  std::vector<Token> tokens_;
  // What was made on the device is in VulkanObjects (the base): nothing here owns a device object.
  uint64_t alloc_limit_ = UINT64_MAX;  // bytes per weight allocation: maxMemoryAllocationSize or the test option
  uint32_t interleaved_matrices_ = 0;  // Matrix::interleaved ones, and the bytes their padding adds
  uint64_t interleave_padding_ = 0;
  uint32_t split_matrices_ = 0;        // matrices stored in more than one part
  struct Fill {
    uint64_t bytes;  // what it writes
    std::function<Status()> write;
  };
  std::vector<Fill> fills_;  // upload_rows()'s writes, until fill()
  std::function<bool(double)> progress_;  // EvaluatorOptions::progress
  std::atomic<bool> load_stop_{false};    // fill() stopped (an error, or progress_ said stop)
  LoadTimes load_times_;
  Matrix token_embd_, output_;
  View q_, k_, v_, gate_, up_;  // parts of qkv_ and gate_up_
  bool profile_ = false;
  uint32_t n_batch_ = 1;
  uint32_t decode_split_ = 1;
  EvaluatorOptions::Merges merge_;  // EvaluatorOptions::merge or PENSER_VK_MERGE
  bool norm_carry_ = true;          // EvaluatorOptions::norm_carry or PENSER_VK_NORM_CARRY
  bool rope_attn_ = true;           // EvaluatorOptions::rope_in_attention or PENSER_VK_ROPE_ATTN
  uint32_t carry_xg_ = 0, carry_ss_ = 0;  // x_'s floats: x * norm weight, the partial sums (NormCarry)
  uint32_t split_chunk_ = 64;  // split-K: positions per range at least
};

}  // namespace

uint64_t estimate_device_bytes(const model::Model& model, uint32_t n_ctx, uint32_t n_batch, bool cpu_implementation) {
  const model::HParams& hp = model.hparams();
  // Interleaved Q6_K matrices (CPU implementations) pad each 210-byte block to 224: an upper bound, as if
  // every Q6_K matrix that is multiplied were interleaved. (Q4_K's, Q5_K's and Q8_0's units are whole texels.)
  uint64_t padding = 0;
  if (cpu_implementation) {
    const model::Weights& w = model.weights();
    auto pad = [&](const model::Tensor& t) {
      if (t.type == quant::Type::Q6_K) padding += (Matrix::interleaved_stride(t.type, uint32_t(t.ne0)) - t.row_bytes) * t.ne1;
    };
    if (w.output.data != w.token_embd.data) pad(w.output);
    for (const model::Layer& L : w.layers)
      for (const model::Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) pad(*t);
  }
  const uint64_t kv = uint64_t(hp.n_layer) * n_ctx * hp.n_head_kv * hp.head_dim * 2 * 2;
  // x_ holds x, x * norm weight and the carried norm's sums (~3 n_embd + 84 floats, NormCarry) beside xn_.
  const uint64_t act = 4 * (uint64_t(hp.n_embd) * 6 + 128 + uint64_t(hp.n_head) * hp.head_dim * 3 + hp.n_ff * 2 +
                            uint64_t(hp.n_head) * n_ctx + hp.n_vocab);
  const uint64_t batch = n_batch > 1 ? BatchPath::device_bytes(hp, n_batch) : 0;
  // The split attention's partial sums at the default's most ranges (PENSER_VK_ATTN_SPLIT, a measuring knob,
  // may take up to kMaxDecodeSplit: a few MiB more, not counted).
  const uint64_t split = 4 * uint64_t(hp.n_head) * kGpuDecodeSplit * (hp.head_dim + 2);
  return model.weight_bytes() + padding + kv + act + batch + split;
}

Result<StepProfile> take_profile(model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("the per-op profile needs the Vulkan backend (--backend vulkan)");
  return vk->take_profile();
}

Result<PromptProfile> take_prompt_profile(model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("the per-op profile needs the Vulkan backend (--backend vulkan)");
  return vk->take_prompt_profile();
}

Status fill_cache_for_bench(model::Evaluator& evaluator, uint32_t n_positions, uint64_t seed) {
  auto* vk = dynamic_cast<VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("filling the KV cache directly needs the Vulkan backend (--backend vulkan)");
  return vk->fill_cache(n_positions, seed);
}

Result<std::vector<PromptCounts>> prompt_counts(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("prompt recordings are those of the Vulkan backend");
  return vk->prompt_counts();
}

Result<LoadTimes> load_times(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("load phases are those of the Vulkan backend");
  return vk->load_times();
}

Result<MemoryInUse> memory_in_use(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("device memory is that of the Vulkan backend");
  return vk->memory_in_use();
}

Result<size_t> pipeline_count(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("not a Vulkan evaluator");
  return vk->pipeline_count();
}

Status wait_for_compiles(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("not a Vulkan evaluator");
  return vk->wait_for_compiles();
}

Result<Device*> device_for_tests(model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("not a Vulkan evaluator");
  return vk->device_for_tests();
}

Result<WeightAllocations> weight_allocations(const model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<const VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("weight allocations are those of the Vulkan backend");
  return vk->weight_allocations();
}

Result<std::unique_ptr<model::Evaluator>> create_evaluator(const model::Model& model, const EvaluatorOptions& options) {
  return VulkanEvaluator::create(model, options);
}

}  // namespace penser::vulkan
