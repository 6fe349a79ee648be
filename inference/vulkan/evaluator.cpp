// Decode step on the GPU, top to bottom (E = n_embd, H = n_head, Hkv = n_head_kv, D = head_dim, F = n_ff):
//   x = token_embd[token]                                   (E)
//   per layer: xn = RMSNorm(x) * attn_norm
//              q = Wq xn (+bq) (H*D); k = Wk xn (+bk), v = Wv xn (+bv) (Hkv*D)
//              qwen3: RMSNorm per head of q and k; RoPE on q and k at `pos`
//              K/V cache[pos] = f16(k), f16(v); a = attention(q, cache[0..pos]) (H*D)
//              x += Wo a;  xn = RMSNorm(x) * ffn_norm;  x += Wdown (silu(Wgate xn) * (Wup xn))
//   logits = Wout (RMSNorm(x) * output_norm)                (V)
#include "inference/vulkan/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "inference/vulkan/context.h"
#include "inference/vulkan/device.h"
#include "inference/vulkan/evaluator_prefill.h"
#include "inference/vulkan/memory.h"
#include "inference/vulkan/ops.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {
namespace {

using model::Tensor;
using tokenizer::Token;

// Split-K decode attention: ranges of at least this many positions, at most this many ranges per head.
constexpr uint32_t kSplitMinChunk = 128, kMaxDecodeSplit = 16;

uint64_t tensor_bytes(const Tensor& t) { return t ? uint64_t(t.row_bytes) * uint64_t(t.ne1) : 0; }

class VulkanEvaluator final : public model::Evaluator {
 public:
  static Result<std::unique_ptr<model::Evaluator>> create(const model::Model& model, const EvaluatorOptions& opt) {
    std::unique_ptr<VulkanEvaluator> self(new VulkanEvaluator(model));
    const model::HParams& hp = model.hparams();
    self->n_ctx_ = std::max<uint32_t>(1, std::min(opt.n_ctx, hp.n_ctx_train ? hp.n_ctx_train : opt.n_ctx));
    PENSER_ASSIGN_OR_RETURN(self->instance_, Instance::create({.validation = opt.validation}));
    PENSER_ASSIGN_OR_RETURN(uint32_t index, choose_device(self->instance_->devices(), opt.device, true));
    PENSER_ASSIGN_OR_RETURN(self->device_, Device::create(*self->instance_, index));
    const uint32_t n_batch = opt.n_batch ? opt.n_batch : default_batch(self->device_->info());
    self->n_batch_ = std::clamp<uint32_t>(n_batch, 1, self->n_ctx_);
    PENSER_TRY(self->device_->check_fits(estimate_device_bytes(model, self->n_ctx_, self->n_batch_),
                                         fmt::format("{} with a context of {} tokens", model.name(), self->n_ctx_)));
    PENSER_ASSIGN_OR_RETURN(self->ops_, Ops::create(*self->device_));
    PENSER_TRY(self->upload());
    self->profile_ = opt.profile;
    self->fuse_ = opt.fuse.value_or(false);
    // Measurements only (scripts/device/gpu-run.sh compares both on a GPU): PENSER_VK_FUSE=0 or 1.
    if (const char* f = std::getenv("PENSER_VK_FUSE"); !opt.fuse && f && (f[0] == '0' || f[0] == '1') && !f[1])
      self->fuse_ = f[0] == '1';
    self->split_forced_ = opt.decode_split != 0;
    self->decode_split_ = opt.decode_split ? std::min(opt.decode_split, kMaxDecodeSplit)
                                           : self->device_->info().is_cpu() ? 1
                                           : std::clamp<uint32_t>(self->n_ctx_ / kSplitMinChunk, 1, kMaxDecodeSplit);
    PENSER_TRY(self->record());
    PENSER_TRY(self->create_batch_path());
    return std::unique_ptr<model::Evaluator>(std::move(self));
  }

  uint32_t n_ctx() const override { return n_ctx_; }
  Result<StepProfile> take_profile() {
    if (!profile_) return make_error("this Vulkan evaluator was made without profiling (EvaluatorOptions::profile)");
    StepProfile p;
    p.dispatches = step_->take_times(&p.steps);
    return p;
  }
  const std::vector<Token>& tokens() const override { return tokens_; }
  std::string backend_name() const override { return "vulkan: " + device_->info().name; }
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
      PENSER_TRY(token_->write(0, &id, 4));
      PENSER_TRY(pos_->write(0, &pos, 4));
      PENSER_TRY(step_->submit_and_wait("the decode step"));
      tokens_.push_back(t);
    }
    return logits_->read(0, logits.data(), uint64_t(hp.n_vocab) * 4);
  }

 private:
  explicit VulkanEvaluator(const model::Model& model) : model_(model) {}

  // ---- Prompt path (evaluator_prefill.cpp): batches of up to n_batch tokens, one submission each ----
  Status create_batch_path() {
    if (n_batch_ < 2) return {};
    DeviceModel dm{&model_.hparams(), token_embd_, output_, output_norm_.get(), rope_freqs_.get(), &layers_,
                   logits_.get()};
    PENSER_ASSIGN_OR_RETURN(batch_, BatchPath::create(*device_, *ops_, dm, n_batch_));
    return {};
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

  // Decode attention: on GPUs split over the positions (split-K), so that a long context keeps more than
  // n_head workgroups busy; in one pass per head on CPU implementations, whose few threads the heads fill.
  Status record_decode_attention(Recorder& r, const LayerBuffers& B) {
    const model::HParams& hp = model_.hparams();
    const Ops::AttnParams ap{.head_dim = hp.head_dim, .n_head = hp.n_head, .n_head_kv = hp.n_head_kv,
                             .scores_stride = n_ctx_};
    if (decode_split_ <= 1)
      return ops_->attn_decode(r, all(q_), all(B.k_cache), all(B.v_cache), all(attn_), all(scores_), all(pos_), ap);
    if (!partials_) {
      PENSER_ASSIGN_OR_RETURN(partials_, scratch(Ops::attn_split_floats(ap, decode_split_), "attention partials"));
    }
    // An explicit split (tests) uses short ranges, so that a short context is split too.
    return ops_->attn_decode_split(r, all(q_), all(B.k_cache), all(B.v_cache), all(attn_), all(scores_), all(partials_),
                                   all(pos_), ap, decode_split_, split_forced_ ? 4 : kSplitMinChunk);
  }

  Result<Matrix> upload_matrix(const Tensor& t, const char* what) {
    if (!supported_weight_type(t.type))
      return make_error("{}: type {} is not supported by the Vulkan backend", what, quant::type_name(t.type));
    PENSER_ASSIGN_OR_RETURN(auto buf, Buffer::create(*device_, tensor_bytes(t), MemoryUse::DeviceLocal, what));
    PENSER_TRY(buf->write(0, t.data, tensor_bytes(t)));
    Matrix m{buf.get(), 0, t.type, uint32_t(t.ne0), uint32_t(t.ne1)};
    m.name = what;
    owned_.push_back(std::move(buf));
    return m;
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

  Result<std::unique_ptr<Buffer>> scratch(uint64_t floats, const char* what) {
    return Buffer::create(*device_, std::max<uint64_t>(floats, 4) * 4, MemoryUse::DeviceLocal, what);
  }

  Status upload() {
    const model::HParams& hp = model_.hparams();
    const model::Weights& w = model_.weights();
    PENSER_ASSIGN_OR_RETURN(token_embd_, upload_matrix(w.token_embd, "token_embd.weight"));
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
      PENSER_ASSIGN_OR_RETURN(B.wq, upload_matrix(L.wq, "attn_q.weight"));
      PENSER_ASSIGN_OR_RETURN(B.wk, upload_matrix(L.wk, "attn_k.weight"));
      PENSER_ASSIGN_OR_RETURN(B.wv, upload_matrix(L.wv, "attn_v.weight"));
      PENSER_ASSIGN_OR_RETURN(B.wo, upload_matrix(L.wo, "attn_output.weight"));
      PENSER_ASSIGN_OR_RETURN(B.gate, upload_matrix(L.ffn_gate, "ffn_gate.weight"));
      PENSER_ASSIGN_OR_RETURN(B.up, upload_matrix(L.ffn_up, "ffn_up.weight"));
      PENSER_ASSIGN_OR_RETURN(B.down, upload_matrix(L.ffn_down, "ffn_down.weight"));
      PENSER_ASSIGN_OR_RETURN(B.attn_norm, upload_vector(L.attn_norm, "attn_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.ffn_norm, upload_vector(L.ffn_norm, "ffn_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.bq, upload_vector(L.bq, "attn_q.bias"));
      PENSER_ASSIGN_OR_RETURN(B.bk, upload_vector(L.bk, "attn_k.bias"));
      PENSER_ASSIGN_OR_RETURN(B.bv, upload_vector(L.bv, "attn_v.bias"));
      PENSER_ASSIGN_OR_RETURN(B.q_norm, upload_vector(L.q_norm, "attn_q_norm.weight"));
      PENSER_ASSIGN_OR_RETURN(B.k_norm, upload_vector(L.k_norm, "attn_k_norm.weight"));
      // f16 cache, one [n_ctx][Hkv*D] block per layer for K and for V.
      PENSER_ASSIGN_OR_RETURN(B.k_cache, Buffer::create(*device_, n_ctx_ * kv_dim * 2, MemoryUse::DeviceLocal, "the K cache"));
      PENSER_ASSIGN_OR_RETURN(B.v_cache, Buffer::create(*device_, n_ctx_ * kv_dim * 2, MemoryUse::DeviceLocal, "the V cache"));
    }
    const uint64_t q_dim = uint64_t(hp.n_head) * hp.head_dim;
    PENSER_ASSIGN_OR_RETURN(x_, scratch(hp.n_embd, "activations"));
    PENSER_ASSIGN_OR_RETURN(xn_, scratch(std::max<uint64_t>(hp.n_embd, q_dim), "activations"));
    PENSER_ASSIGN_OR_RETURN(q_, scratch(q_dim, "activations"));
    PENSER_ASSIGN_OR_RETURN(k_, scratch(kv_dim, "activations"));
    PENSER_ASSIGN_OR_RETURN(v_, scratch(kv_dim, "activations"));
    PENSER_ASSIGN_OR_RETURN(attn_, scratch(q_dim, "activations"));
    PENSER_ASSIGN_OR_RETURN(gate_, scratch(hp.n_ff, "activations"));
    PENSER_ASSIGN_OR_RETURN(up_, scratch(hp.n_ff, "activations"));
    PENSER_ASSIGN_OR_RETURN(scores_, scratch(uint64_t(hp.n_head) * n_ctx_, "attention scores"));
    // Read by the host after every evaluation: in host memory (cached), not in device memory that the CPU would
    // read uncached across the bus (a discrete GPU with resizable BAR maps its VRAM as host-visible; reading
    // the ~600 KB of a 150k vocabulary from there takes milliseconds). The GPU writes it across the bus once.
    PENSER_ASSIGN_OR_RETURN(logits_, Buffer::create(*device_, std::max<uint64_t>(hp.n_vocab, 4) * 4, MemoryUse::Host,
                                                    "logits"));
    PENSER_ASSIGN_OR_RETURN(token_, Buffer::create(*device_, 16, MemoryUse::DeviceLocal, "the token id"));
    PENSER_ASSIGN_OR_RETURN(pos_, Buffer::create(*device_, 16, MemoryUse::DeviceLocal, "the position"));
    return {};
  }

  static View all(const std::unique_ptr<Buffer>& b) { return View{b->all(), 0}; }

  Status record() {
    const model::HParams& hp = model_.hparams();
    const uint32_t E = hp.n_embd, H = hp.n_head, Hkv = hp.n_head_kv, D = hp.head_dim, F = hp.n_ff;
    PENSER_ASSIGN_OR_RETURN(step_, Recorder::create(*device_, hp.n_layer * 20 + 16));
    if (profile_) PENSER_TRY(step_->enable_timestamps());
    Recorder& r = *step_;
    Ops& o = *ops_;
    PENSER_TRY(r.begin());
    PENSER_TRY(o.get_rows(r, token_embd_, all(token_), 1, all(x_), E));
    View ff_view;
    if (rope_freqs_) ff_view = all(rope_freqs_);
    const View* ff = rope_freqs_ ? &ff_view : nullptr;
    for (uint32_t l = 0; l < hp.n_layer; ++l) {
      LayerBuffers& B = layers_[l];
      View an = all(B.attn_norm), fn = all(B.ffn_norm);
      // Fused: the products read x_ through the norm (fuse_), else the norm writes xn_ first.
      const MulMvInput attn_in{.norm = fuse_ ? &an : nullptr, .eps = hp.rms_eps};
      if (!fuse_) PENSER_TRY(o.rms_norm(r, all(x_), all(xn_), &an, E, 1, hp.rms_eps));
      const View attn_x = fuse_ ? all(x_) : all(xn_);
      View bq, bk, bv;
      if (B.bq) { bq = all(B.bq); bk = all(B.bk); bv = all(B.bv); }
      PENSER_TRY(o.mul_mv(r, B.wq, attn_x, all(q_), B.bq ? &bq : nullptr, false, attn_in));
      PENSER_TRY(o.mul_mv(r, B.wk, attn_x, all(k_), B.bk ? &bk : nullptr, false, attn_in));
      PENSER_TRY(o.mul_mv(r, B.wv, attn_x, all(v_), B.bv ? &bv : nullptr, false, attn_in));
      if (B.q_norm) {
        View qn = all(B.q_norm), kn = all(B.k_norm);
        PENSER_TRY(o.rms_norm(r, all(q_), all(q_), &qn, D, H, hp.rms_eps));
        PENSER_TRY(o.rms_norm(r, all(k_), all(k_), &kn, D, Hkv, hp.rms_eps));
      }
      Ops::RopeParams rp{.head_dim = D, .n_dims = D, .n_head = H, .n_tokens = 1, .freq_base = hp.rope_freq_base,
                         .neox = hp.rope_neox};
      PENSER_TRY(o.rope(r, all(q_), all(pos_), ff, rp));
      rp.n_head = Hkv;
      PENSER_TRY(o.rope(r, all(k_), all(pos_), ff, rp));
      PENSER_TRY(o.kv_store(r, all(k_), all(B.k_cache), all(pos_), Hkv * D, 1, Hkv * D));
      PENSER_TRY(o.kv_store(r, all(v_), all(B.v_cache), all(pos_), Hkv * D, 1, Hkv * D));
      PENSER_TRY(record_decode_attention(r, B));
      PENSER_TRY(o.mul_mv(r, B.wo, all(attn_), all(x_), nullptr, /*accumulate=*/true));
      const MulMvInput ffn_in{.norm = fuse_ ? &fn : nullptr, .eps = hp.rms_eps};
      if (!fuse_) PENSER_TRY(o.rms_norm(r, all(x_), all(xn_), &fn, E, 1, hp.rms_eps));
      const View ffn_x = fuse_ ? all(x_) : all(xn_);
      PENSER_TRY(o.mul_mv(r, B.gate, ffn_x, all(gate_), nullptr, false, ffn_in));
      PENSER_TRY(o.mul_mv(r, B.up, ffn_x, all(up_), nullptr, false, ffn_in));
      const View up = all(up_);
      if (!fuse_) PENSER_TRY(o.swiglu(r, all(gate_), all(up_), all(gate_), F));
      PENSER_TRY(o.mul_mv(r, B.down, all(gate_), all(x_), nullptr, /*accumulate=*/true,
                          {.up = fuse_ ? &up : nullptr}));
    }
    View onorm = all(output_norm_);
    const MulMvInput out_in{.norm = fuse_ ? &onorm : nullptr, .eps = hp.rms_eps};
    if (!fuse_) PENSER_TRY(o.rms_norm(r, all(x_), all(xn_), &onorm, E, 1, hp.rms_eps));
    PENSER_TRY(o.mul_mv(r, output_, fuse_ ? all(x_) : all(xn_), all(logits_), nullptr, false, out_in));
    return r.end();
  }

  const model::Model& model_;
  uint32_t n_ctx_ = 0;
  std::vector<Token> tokens_;
  // Member order is destruction order in reverse: everything on the device goes before the device.
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<Ops> ops_;
  std::vector<std::unique_ptr<Buffer>> owned_;  // weight matrices
  Matrix token_embd_, output_;
  std::unique_ptr<Buffer> output_norm_, rope_freqs_;
  std::vector<LayerBuffers> layers_;
  std::unique_ptr<Buffer> x_, xn_, q_, k_, v_, attn_, gate_, up_, scores_, logits_, token_, pos_;
  std::unique_ptr<Recorder> step_;
  bool profile_ = false;
  uint32_t n_batch_ = 1;
  std::unique_ptr<BatchPath> batch_;  // null when n_batch is 1
  uint32_t decode_split_ = 1;
  bool fuse_ = false;  // EvaluatorOptions::fuse
  bool split_forced_ = false;
  std::unique_ptr<Buffer> partials_;  // split-K attention's per-range results
};

}  // namespace

uint64_t estimate_device_bytes(const model::Model& model, uint32_t n_ctx, uint32_t n_batch) {
  const model::HParams& hp = model.hparams();
  const uint64_t kv = uint64_t(hp.n_layer) * n_ctx * hp.n_head_kv * hp.head_dim * 2 * 2;
  const uint64_t act = 4 * (uint64_t(hp.n_embd) * 4 + uint64_t(hp.n_head) * hp.head_dim * 3 + hp.n_ff * 2 +
                            uint64_t(hp.n_head) * n_ctx + hp.n_vocab);
  const uint64_t batch = n_batch > 1 ? BatchPath::device_bytes(hp, n_batch) : 0;
  const uint64_t split = 4 * uint64_t(hp.n_head) * kMaxDecodeSplit * (hp.head_dim + 2);
  return model.weight_bytes() + kv + act + batch + split;
}

Result<StepProfile> take_profile(model::Evaluator& evaluator) {
  auto* vk = dynamic_cast<VulkanEvaluator*>(&evaluator);
  if (!vk) return make_error("the per-op profile needs the Vulkan backend (--backend vulkan)");
  return vk->take_profile();
}

Result<std::unique_ptr<model::Evaluator>> create_evaluator(const model::Model& model, const EvaluatorOptions& options) {
  return VulkanEvaluator::create(model, options);
}

}  // namespace penser::vulkan
