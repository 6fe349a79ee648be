// The CPU forward pass: a pre-norm transformer decoder (Llama / Qwen2 / Qwen3), one batch of tokens at a time.
//
// Notation: B = tokens in the batch, E = n_embd, H = n_head, Hkv = n_head_kv, D = head_dim, F = n_ff,
// V = n_vocab, T = tokens in the cache after this batch. Activations are f32, row-major, one row per token.
// KV cache: f16, per layer and KV head a [n_ctx][D] block, so attention reads one contiguous stream per head.
#include "inference/cpu/cpu.h"

#include "inference/common/threadpool.h"
#include "inference/cpu/kernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace penser::cpu {
namespace {

using model::HParams;
using model::Tensor;
using tokenizer::Token;

// Below this much data (weight bytes x batch rows, or K/V bytes read by attention), a step runs on the calling
// thread: waking the pool costs a few microseconds, more than the work itself.
constexpr uint64_t kMinParallelBytes = 48 * 1024;

// A 1-D weight (norm, bias) as f32: the file may store it as F16/BF16; it is small, so it is converted once.
std::vector<float> to_f32(const Tensor& t) {
  if (!t) return {};
  std::vector<float> out(static_cast<size_t>(t.ne0 * t.ne1));
  quant::dequantize_row(t.type, t.data, out.data(), t.ne0 * t.ne1);
  return out;
}

struct LayerVectors {
  std::vector<float> attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm;
};

// One matrix-vector product of a group: out[b * out_stride + r] = W row r . input row b.
struct MatmulJob {
  const Tensor* w;
  float* out;
  int64_t out_stride;
};

class CpuEvaluator final : public model::Evaluator {
 public:
  CpuEvaluator(const model::Model& model, const Options& opt, uint32_t n_ctx)
      : model_(model), hp_(model.hparams()), pool_(opt.n_threads), n_ctx_(n_ctx),
        n_batch_(std::max<uint32_t>(1, opt.n_batch)) {
    const auto& w = model.weights();
    layers_.resize(hp_.n_layer);
    for (uint32_t l = 0; l < hp_.n_layer; ++l) {
      const auto& L = w.layers[l];
      layers_[l] = {to_f32(L.attn_norm), to_f32(L.ffn_norm), to_f32(L.bq), to_f32(L.bk), to_f32(L.bv),
                    to_f32(L.q_norm), to_f32(L.k_norm)};
    }
    output_norm_ = to_f32(w.output_norm);

    // RoPE: theta_i = base^(-2i/D), divided by the llama3 factor rope_freqs[i] when the file has one.
    const uint32_t half = hp_.head_dim / 2;
    std::vector<float> factors = to_f32(w.rope_freqs);
    inv_freq_.resize(half);
    for (uint32_t i = 0; i < half; ++i) {
      double f = std::pow(double(hp_.rope_freq_base), -2.0 * i / double(hp_.head_dim));
      if (!factors.empty()) f /= double(factors[i]);
      inv_freq_[i] = f;
    }

    const size_t E = hp_.n_embd, Q = size_t(hp_.n_head) * hp_.head_dim, KV = size_t(hp_.n_head_kv) * hp_.head_dim;
    const size_t B = n_batch_;
    kv_dim_ = KV;
    // new[] without value-initialisation: the cache's pages are touched as it fills, not all at once.
    const size_t cache_elems = size_t(hp_.n_layer) * n_ctx_ * KV;
    k_cache_.reset(new uint16_t[cache_elems]);
    v_cache_.reset(new uint16_t[cache_elems]);
    x_.resize(B * E);
    xn_.resize(B * std::max(E, Q));
    q_.resize(B * Q);
    k_.resize(B * KV);
    v_.resize(B * KV);
    attn_.resize(B * Q);
    gate_.resize(B * hp_.n_ff);
    up_.resize(B * hp_.n_ff);
    rope_cs_.resize(B * hp_.head_dim);
    scores_.resize(size_t(pool_.n_threads()) * n_ctx_);
  }

  uint32_t n_ctx() const override { return n_ctx_; }
  const std::vector<Token>& tokens() const override { return tokens_; }
  std::string backend_name() const override {
    return fmt::format("cpu ({} thread{})", pool_.n_threads(), pool_.n_threads() == 1 ? "" : "s");
  }
  void truncate(uint32_t n) override {
    PENSER_ASSERT(n <= tokens_.size());
    tokens_.resize(n);
  }

  Status eval(std::span<const Token> tokens, std::span<float> logits) override {
    PENSER_ASSERT(logits.size() >= hp_.n_vocab);
    if (tokens.empty()) return make_error("nothing to evaluate: the token list is empty");
    if (tokens.size() > size_t(n_ctx_) - tokens_.size())
      return make_error("the context is full: {} tokens held + {} new exceed the context size of {}",
                        tokens_.size(), tokens.size(), n_ctx_);
    for (Token t : tokens)
      if (t < 0 || uint32_t(t) >= hp_.n_vocab)
        return make_error("token id {} is outside the vocabulary (0..{})", t, hp_.n_vocab - 1);

    for (size_t done = 0; done < tokens.size();) {
      if (cancelled()) return make_error("cancelled");
      const size_t n = std::min<size_t>(n_batch_, tokens.size() - done);
      const bool last = done + n == tokens.size();
      if (!forward(tokens.subspan(done, n), last ? logits.data() : nullptr)) return make_error("cancelled");
      tokens_.insert(tokens_.end(), tokens.begin() + done, tokens.begin() + done + n);
      done += n;
    }
    return {};
  }

 private:
  // Quantizes B input rows of n values to `type` (the weight's vec_dot_type), once per input and type:
  // Q, K and V (and gate and up) read the same input.
  const uint8_t* quantized_input(const float* in, int64_t B, int64_t n, quant::Type type, size_t* stride) {
    if (type == quant::Type::F32) {
      *stride = size_t(n) * sizeof(float);
      return reinterpret_cast<const uint8_t*>(in);
    }
    *stride = quant::row_size(type, n);
    for (auto& slot : act_cache_)
      if (slot.in == in && slot.type == type && slot.n == n && slot.B == B) return slot.data.data();
    ActSlot& slot = act_cache_[act_next_++ % std::size(act_cache_)];
    slot.in = in;
    slot.type = type;
    slot.n = n;
    slot.B = B;
    slot.data.resize(*stride * B);
    const size_t st = *stride;
    auto work = [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) quant::quantize_row(type, in + b * n, slot.data.data() + b * st, n);
    };
    if (uint64_t(B) * n * sizeof(float) < kMinParallelBytes)
      work(0, B);
    else
      pool_.parallel_for(B, work);
    return slot.data.data();
  }
  void invalidate_inputs() {
    for (auto& slot : act_cache_) slot.in = nullptr;
  }

  // Every job reads the same B input rows (`in`, n = w->ne0 values each). The rows of all jobs are split
  // across the threads in one pass; each weight row is read once and dotted with all B inputs.
  void matmul(std::initializer_list<MatmulJob> jobs, const float* in, int64_t B) {
    struct Prepared {
      MatmulJob job;
      const uint8_t* act;
      size_t act_stride;
      int64_t row0;
    };
    Prepared prep[4];
    int n_jobs = 0;
    int64_t total = 0;
    uint64_t total_bytes = 0;
    for (const MatmulJob& j : jobs) {
      PENSER_ASSERT(n_jobs < 4);
      size_t stride = 0;
      const uint8_t* act = quantized_input(in, B, j.w->ne0, quant::vec_dot_type(j.w->type), &stride);
      prep[n_jobs++] = {j, act, stride, total};
      total += j.w->ne1;
      total_bytes += uint64_t(j.w->ne1) * j.w->row_bytes;
    }
    auto work = [&](int64_t r0, int64_t r1) {
      for (int j = 0; j < n_jobs; ++j) {
        const Prepared& p = prep[j];
        const Tensor& w = *p.job.w;
        const int64_t lo = std::max(r0, p.row0) - p.row0, hi = std::min(r1, p.row0 + w.ne1) - p.row0;
        for (int64_t r = lo; r < hi; ++r) {
          const uint8_t* row = w.data + size_t(r) * w.row_bytes;
          for (int64_t b = 0; b < B; ++b)
            p.job.out[b * p.job.out_stride + r] = quant::vec_dot(w.type, w.ne0, row, p.act + b * p.act_stride);
        }
      }
    };
    // A small product (tiny models) costs less than waking the workers: run it on this thread.
    if (total_bytes * uint64_t(B) < kMinParallelBytes)
      work(0, total);
    else
      pool_.parallel_for(total, work);
  }

  uint16_t* k_at(uint32_t layer, uint32_t kv_head, uint32_t pos) {
    return k_cache_.get() + ((size_t(layer) * hp_.n_head_kv + kv_head) * n_ctx_ + pos) * hp_.head_dim;
  }
  uint16_t* v_at(uint32_t layer, uint32_t kv_head, uint32_t pos) {
    return v_cache_.get() + ((size_t(layer) * hp_.n_head_kv + kv_head) * n_ctx_ + pos) * hp_.head_dim;
  }

  // False when the cancel flag was seen between two layers. The batch's K/V rows written so far lie past
  // n_past (tokens_ is not extended), so they are never read before a later batch overwrites them.
  bool forward(std::span<const Token> batch, float* logits) {
    const auto& W = model_.weights();
    const int64_t B = int64_t(batch.size());
    const int64_t E = hp_.n_embd, D = hp_.head_dim, H = hp_.n_head, Hkv = hp_.n_head_kv, F = hp_.n_ff;
    const int64_t Q = H * D, KV = Hkv * D;
    const uint32_t p0 = uint32_t(tokens_.size());  // position of the batch's first token
    const float eps = hp_.rms_eps;

    // Embedding lookup: x[b] = token_embd row batch[b], dequantized.  x: (B, E)
    for (int64_t b = 0; b < B; ++b)
      quant::dequantize_row(W.token_embd.type, W.token_embd.data + size_t(batch[b]) * W.token_embd.row_bytes,
                            &x_[b * E], E);

    // RoPE angles for each position of the batch: (B, D/2) pairs of (cos, sin).
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < D / 2; ++i) {
        const double theta = double(p0 + b) * inv_freq_[i];
        rope_cs_[b * D + 2 * i] = float(std::cos(theta));
        rope_cs_[b * D + 2 * i + 1] = float(std::sin(theta));
      }

    for (uint32_t l = 0; l < hp_.n_layer; ++l) {
      // A prompt batch of a 1.5B model takes seconds on a laptop CPU: a stop must not wait for all of it.
      if (l > 0 && cancelled()) return false;
      const model::Layer& L = W.layers[l];
      const LayerVectors& LV = layers_[l];

      // Attention pre-norm: xn = RMSNorm(x) * attn_norm.  (B, E)
      for (int64_t b = 0; b < B; ++b) rms_norm(&x_[b * E], LV.attn_norm.data(), &xn_[b * E], E, eps);
      invalidate_inputs();

      // Projections: q = xn Wq^T (B, H*D); k, v = xn Wk^T, xn Wv^T (B, Hkv*D).
      matmul({{&L.wq, q_.data(), Q}, {&L.wk, k_.data(), KV}, {&L.wv, v_.data(), KV}}, xn_.data(), B);

      // qwen2: add the QKV biases.
      if (hp_.has_qkv_bias)
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t i = 0; i < Q; ++i) q_[b * Q + i] += LV.bq[i];
          for (int64_t i = 0; i < KV; ++i) k_[b * KV + i] += LV.bk[i];
          for (int64_t i = 0; i < KV; ++i) v_[b * KV + i] += LV.bv[i];
        }

      for (int64_t b = 0; b < B; ++b) {
        // qwen3: RMSNorm of each query and key head over D, with the shared q_norm / k_norm weights.
        if (hp_.has_qk_norm) {
          for (int64_t h = 0; h < H; ++h) rms_norm(&q_[b * Q + h * D], LV.q_norm.data(), &q_[b * Q + h * D], D, eps);
          for (int64_t h = 0; h < Hkv; ++h)
            rms_norm(&k_[b * KV + h * D], LV.k_norm.data(), &k_[b * KV + h * D], D, eps);
        }
        // RoPE on every query and key head at position p0 + b.
        for (int64_t h = 0; h < H; ++h) rope(&q_[b * Q + h * D], &rope_cs_[b * D], D, hp_.rope_neox);
        for (int64_t h = 0; h < Hkv; ++h) rope(&k_[b * KV + h * D], &rope_cs_[b * D], D, hp_.rope_neox);
        // KV cache write (f16) at position p0 + b.
        for (int64_t h = 0; h < Hkv; ++h) {
          to_f16(&k_[b * KV + h * D], k_at(l, uint32_t(h), p0 + uint32_t(b)), D);
          to_f16(&v_[b * KV + h * D], v_at(l, uint32_t(h), p0 + uint32_t(b)), D);
        }
      }

      // Attention, causal, grouped-query: query head h reads KV head h / (H / Hkv).
      // For token b (position p0 + b): s_t = q . k_t / sqrt(D), t <= p0 + b; p = softmax(s); out = sum p_t v_t.
      attention(l, B, p0);

      // Output projection and residual: x += attn Wo^T.  (B, E)
      invalidate_inputs();
      matmul({{&L.wo, xn_.data(), E}}, attn_.data(), B);
      for (int64_t i = 0; i < B * E; ++i) x_[i] += xn_[i];

      // FFN pre-norm: xn = RMSNorm(x) * ffn_norm.  (B, E)
      for (int64_t b = 0; b < B; ++b) rms_norm(&x_[b * E], LV.ffn_norm.data(), &xn_[b * E], E, eps);
      invalidate_inputs();

      // SwiGLU: h = silu(xn Wgate^T) * (xn Wup^T).  (B, F)
      matmul({{&L.ffn_gate, gate_.data(), F}, {&L.ffn_up, up_.data(), F}}, xn_.data(), B);
      swiglu(gate_.data(), up_.data(), gate_.data(), B * F);

      // Down projection and residual: x += h Wdown^T.  (B, E)
      invalidate_inputs();
      matmul({{&L.ffn_down, xn_.data(), E}}, gate_.data(), B);
      for (int64_t i = 0; i < B * E; ++i) x_[i] += xn_[i];
    }

    if (!logits) return true;
    // Final norm and the output head, for the batch's last token only: logits = RMSNorm(x) Wout^T.  (V)
    rms_norm(&x_[(B - 1) * E], output_norm_.data(), xn_.data(), E, eps);
    invalidate_inputs();
    matmul({{&W.output, logits, 0}}, xn_.data(), 1);
    return true;
  }

  void attention(uint32_t l, int64_t B, uint32_t p0) {
    const int64_t D = hp_.head_dim, H = hp_.n_head, Q = H * D, group = H / hp_.n_head_kv;
    const float scale = 1.0f / std::sqrt(float(D));
    const int n_slots = pool_.n_threads();
    std::atomic<int64_t> next{0};
    const uint64_t kv_bytes = uint64_t(B) * H * (p0 + uint64_t(B)) * D * 4;
    const int n_used = kv_bytes < kMinParallelBytes ? 1 : n_slots;
    // One slot per thread (each owns a row of scores_); (token, head) items are handed out dynamically
    // because later tokens of a batch attend to more positions.
    auto work = [&](int64_t s0, int64_t s1) {
      for (int64_t slot = s0; slot < s1; ++slot) {
        float* s = &scores_[size_t(slot) * n_ctx_];
        for (;;) {
          const int64_t item = next.fetch_add(1, std::memory_order_relaxed);
          if (item >= B * H) break;
          const int64_t b = item / H, h = item % H;
          const uint32_t kvh = uint32_t(h / group);
          const uint32_t n_kv = p0 + uint32_t(b) + 1;  // causal: positions 0 .. p0 + b
          const float* q = &q_[b * Q + h * D];
          const uint16_t* k = k_at(l, kvh, 0);
          float mx = -INFINITY;
          for (uint32_t t = 0; t < n_kv; ++t) {
            s[t] = dot_f32_f16(q, k + size_t(t) * D, D) * scale;
            mx = std::max(mx, s[t]);
          }
          float sum = 0.0f;
          for (uint32_t t = 0; t < n_kv; ++t) {
            s[t] = std::exp(s[t] - mx);
            sum += s[t];
          }
          const float inv = 1.0f / sum;
          float* out = &attn_[b * Q + h * D];
          std::fill(out, out + D, 0.0f);
          const uint16_t* v = v_at(l, kvh, 0);
          for (uint32_t t = 0; t < n_kv; ++t) axpy_f16(s[t] * inv, v + size_t(t) * D, out, D);
        }
      }
    };
    if (n_used == 1)
      work(0, 1);
    else
      pool_.parallel_for(n_used, work);
  }

  struct ActSlot {
    const float* in = nullptr;
    quant::Type type = quant::Type::F32;
    int64_t n = 0, B = 0;
    std::vector<uint8_t> data;
  };

  const model::Model& model_;
  const HParams hp_;
  ThreadPool pool_;
  const uint32_t n_ctx_;
  const uint32_t n_batch_;
  size_t kv_dim_ = 0;
  std::vector<Token> tokens_;
  std::vector<LayerVectors> layers_;
  std::vector<float> output_norm_;
  std::vector<double> inv_freq_;
  std::unique_ptr<uint16_t[]> k_cache_, v_cache_;  // (n_layer, Hkv, n_ctx, D) f16
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, rope_cs_, scores_;
  ActSlot act_cache_[2];
  size_t act_next_ = 0;
};

}  // namespace

Result<std::unique_ptr<model::Evaluator>> create_evaluator(const model::Model& model, const Options& options) {
  const HParams& hp = model.hparams();
  uint32_t n_ctx = options.n_ctx == 0 ? hp.n_ctx_train : std::min(options.n_ctx, hp.n_ctx_train);
  if (n_ctx == 0) return make_error("{}: context size is zero", model.name());
  const uint64_t kv = model.kv_cache_bytes(n_ctx);
  if (kv > (uint64_t(1) << 40))
    return make_error("{}: a KV cache of {} tokens would need {} GiB", model.name(), n_ctx, kv >> 30);
  return std::unique_ptr<model::Evaluator>(new CpuEvaluator(model, options, n_ctx));
}

}  // namespace penser::cpu
