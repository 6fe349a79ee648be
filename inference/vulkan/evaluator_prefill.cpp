// A batch of N tokens through the model (E = n_embd, H = n_head, Hkv = n_head_kv, D = head_dim, F = n_ff),
// every activation a row-major [N, width] matrix:
//   X = token_embd[ids]                                      (N x E)
//   per layer: Xn = RMSNorm(X) * attn_norm (per row)
//              Q = Xn Wq^T (+bq), K = Xn Wk^T (+bk), V = Xn Wv^T (+bv)        (mul_mm)
//              qwen3: RMSNorm per head of Q and K; RoPE on Q and K at positions n_past + i
//              cache[pos_i] = f16(K_i), f16(V_i); A = causal attention(Q, cache)  (attn_prefill)
//              X += A Wo^T; Xn = RMSNorm(X) * ffn_norm; X += (silu(Xn Wgate^T) * (Xn Wup^T)) Wdown^T
//   logits = Wout (RMSNorm(X[N-1]) * output_norm)            (the last token only: mul_mv)
// With the decode step's merges (EvaluatorOptions::merge), as there: Q|K|V (or Q|K) is one product over
// the merged rows, writing QKV = [N, q_dim + 2 kv_dim] (a token's q, k, v side by side), and norm + RoPE +
// cache store of all N tokens one rope_kv dispatch over QKV's rows; gate|up one product writing
// [N, 2 n_ff], SwiGLU in place over its gate halves, Wdown reading them with a row stride of 2 n_ff (or,
// where Ops::swiglu_folds, the product writing silu(gate) * up as [N, n_ff] itself).
// Where Wv's type differs (Q4_K_M's Q6_K attn_v layers), Q|K is one product and V another writing rows of
// its own after QKV (bound apart, so the two need no barrier between them; rope_kv reads V with its own
// stride). The separate Q/K/V products (qkv off) still write QKV when rope_kv is on (each waits for the
// last: they write one binding); the strided layout is read only by rope_kv, so a merged Q|K|V product
// implies the batched rope_kv here (not so in decode).
#include "inference/vulkan/evaluator_prefill.h"

#include <algorithm>

namespace penser::vulkan {

namespace {
View all(const std::unique_ptr<Buffer>& b) { return View{b->all(), 0}; }
View all(const Buffer* b) { return View{b->all(), 0}; }

// Recordings kept besides the full-batch one: a prompt's last batch is usually shorter, and chat turns
// vary in length; re-recording costs a few milliseconds, so a handful is plenty.
constexpr size_t kMaxRecordings = 4;
}  // namespace

uint64_t BatchPath::device_bytes(const model::HParams& hp, uint32_t n_batch) {
  const uint64_t q_dim = uint64_t(hp.n_head) * hp.head_dim, kv_dim = uint64_t(hp.n_head_kv) * hp.head_dim;
  const uint64_t per_token = hp.n_embd + std::max<uint64_t>(hp.n_embd, q_dim) + 2 * q_dim + 3 * kv_dim +
                             2 * uint64_t(hp.n_ff) + 2;
  return 4 * per_token * n_batch;
}

Result<std::unique_ptr<BatchPath>> BatchPath::create(Device& device, Ops& ops, const DeviceModel& model,
                                                     uint32_t n_batch) {
  PENSER_ASSERT(n_batch >= 1 && model.hp && model.layers && model.logits && model.output_norm);
  std::unique_ptr<BatchPath> self(new BatchPath());
  self->device_ = &device;
  self->ops_ = &ops;
  self->model_ = model;
  self->n_batch_ = n_batch;
  const model::HParams& hp = *model.hp;
  const uint64_t N = n_batch, q_dim = uint64_t(hp.n_head) * hp.head_dim, kv_dim = uint64_t(hp.n_head_kv) * hp.head_dim;
  auto make = [&](uint64_t floats, std::unique_ptr<Buffer>& out) -> Status {
    PENSER_ASSIGN_OR_RETURN(out, Buffer::create(device, std::max<uint64_t>(floats, 4) * 4, MemoryUse::DeviceLocal,
                                                "the prompt batch's activations"));
    return {};
  };
  PENSER_TRY(make(N * hp.n_embd, self->x_));
  PENSER_TRY(make(N * std::max<uint64_t>(hp.n_embd, q_dim), self->xn_));
  // Q|K|V as [N, q_dim + 2 kv_dim] (merged products, rope_kv) and, after it, room for [N, kv_dim] (V as a
  // product of its own beside Q|K); or Q, K, V one after another, [N, q_dim] and [N, kv_dim] twice (the
  // separate ops); gate|up as [N, 2 n_ff] or gate then up likewise.
  PENSER_TRY(make(N * (q_dim + 3 * kv_dim), self->qkv_));
  PENSER_TRY(make(N * q_dim, self->attn_));
  PENSER_TRY(make(N * 2 * hp.n_ff, self->gate_up_));
  PENSER_TRY(make(N, self->ids_));
  PENSER_TRY(make(N, self->pos_));
  // Through staging, the two writes before every batch would be two submissions of their own, each waited
  // for: the host writes a mapped buffer instead and the batch copies from it.
  if (!self->ids_->mapped() || !self->pos_->mapped()) {
    PENSER_ASSIGN_OR_RETURN(self->inputs_host_, Buffer::create(device, 2 * N * 4, MemoryUse::Host, "the prompt batch's inputs"));
  }
  return self;
}

Status BatchPath::run(std::span<const tokenizer::Token> tokens, uint32_t n_past,
                      const std::function<bool()>& cancelled) {
  const uint32_t n = uint32_t(tokens.size());
  PENSER_ASSERT(n >= 1 && n <= n_batch_);
  std::vector<uint32_t> ids(n);
  std::vector<int32_t> pos(n);
  for (uint32_t i = 0; i < n; ++i) {
    ids[i] = uint32_t(tokens[i]);
    pos[i] = int32_t(n_past + i);
  }
  PENSER_ASSIGN_OR_RETURN(const Recordings* recs, recording(n));
  if (profile_) profiled_tokens_ += n;
  if (inputs_host_) {  // copied by the batch's first recording
    PENSER_TRY(inputs_host_->write(0, ids.data(), n * 4ull));
    PENSER_TRY(inputs_host_->write(n_batch_ * 4ull, pos.data(), n * 4ull));
  } else {
    PENSER_TRY(ids_->write(0, ids.data(), n * 4ull));
    PENSER_TRY(pos_->write(0, pos.data(), n * 4ull));
  }
  for (const auto& rec : *recs) {
    if (cancelled && cancelled()) return make_error("cancelled");
    PENSER_TRY(rec->submit_and_wait("a layer of a prompt batch"));
  }
  return {};
}

View BatchPath::part(const std::unique_ptr<Buffer>& b, uint64_t first, uint64_t n) const {
  if (first * 4 % device_->info().min_storage_offset_alignment == 0) return View{b->range(first * 4, n * 4), 0};
  return View{b->all(), uint32_t(first)};
}

Result<const BatchPath::Recordings*> BatchPath::recording(uint32_t n) {
  auto it = recordings_.find(n);
  if (it != recordings_.end()) return &it->second;
  if (recordings_.size() >= kMaxRecordings) {
    for (auto e = recordings_.begin(); e != recordings_.end(); ++e)
      if (e->first != n_batch_) {
        for (auto& rec : e->second) {
          uint32_t submissions = 0;
          auto times = rec->take_times(&submissions);
          for (auto& t : times)
            if (submissions > 0) {
              t.flops *= submissions;
              evicted_times_.push_back(std::move(t));
            }
        }
        recordings_.erase(e);
        break;
      }
  }
  // CPU implementations: one layer per submission (seconds each on lavapipe, and the cancel flag is read
  // between them). GPUs: the whole batch in one submission (milliseconds; a wait per layer would cost more).
  const uint32_t L = model_.hp->n_layer, per = device_->info().is_cpu() ? 1 : L;
  PENSER_ASSIGN_OR_RETURN(const uint64_t extra, extra_chunks());
  Recordings recs;
  counts_.clear();
  for (uint32_t l = 0; l < L; l += per) {
    const uint32_t end = std::min(L, l + per);
    PENSER_ASSIGN_OR_RETURN(auto rec, Recorder::create(*device_, room(end - l, extra)));
    if (profile_) PENSER_TRY(rec->enable_timestamps());
    PENSER_TRY(record(*rec, n, l, end));
    counts_.push_back({rec->dispatches(), rec->barriers()});
    recs.push_back(std::move(rec));
  }
  return &recordings_.emplace(n, std::move(recs)).first->second;
}

// About 20 dispatches per layer, more when a matrix is split over several bindings or allocations: every
// recording gets room for the extra chunks of all the matrices (a bound on descriptor sets, not a cost).
uint32_t BatchPath::room(uint32_t layers, uint64_t extra) {
  return uint32_t(std::min<uint64_t>(uint64_t(layers) * 40 + 32 + extra, 1u << 20));
}

Result<uint64_t> BatchPath::extra_chunks() {
  uint64_t extra = 0;
  auto count = [&](const Matrix& m) -> Status {
    if (!m.nrows) return {};
    PENSER_ASSIGN_OR_RETURN(auto chunks, ops_->bind_matrix(m));
    extra += chunks.size() - 1;
    return {};
  };
  PENSER_TRY(count(model_.token_embd));
  PENSER_TRY(count(model_.output));
  for (const LayerBuffers& B : *model_.layers)
    for (const Matrix* m : {&B.wq, &B.wk, &B.wv, &B.wo, &B.gate, &B.up, &B.down, &B.qkv, &B.gate_up})
      PENSER_TRY(count(*m));
  return extra;
}

Status BatchPath::prepare() {
  const uint32_t L = model_.hp->n_layer;
  PENSER_ASSIGN_OR_RETURN(const uint64_t extra, extra_chunks());
  PENSER_ASSIGN_OR_RETURN(auto rec, Recorder::create(*device_, room(L, extra)));
  return record(*rec, n_batch_, 0, L, /*end=*/false);  // dropped unended: only its pipelines stay (in Ops)
}

std::vector<Recorder::DispatchTime> BatchPath::take_times(uint32_t* tokens) {
  std::vector<Recorder::DispatchTime> out = std::move(evicted_times_);
  evicted_times_.clear();
  for (auto& [n, recs] : recordings_)
    for (auto& rec : recs) {
      uint32_t submissions = 0;
      auto times = rec->take_times(&submissions);
      if (submissions == 0) continue;  // a batch length not run since the last call
      for (auto& t : times) {
        t.flops *= submissions;  // per submission -> summed, like the seconds
        out.push_back(std::move(t));
      }
    }
  if (tokens) *tokens = profiled_tokens_;
  profiled_tokens_ = 0;
  return out;
}

// Layers [layer0, layer_end) of the batch; the first also looks up the embeddings, the last makes the logits.
Status BatchPath::record(Recorder& r, uint32_t N, uint32_t layer0, uint32_t layer_end, bool end) {
  const model::HParams& hp = *model_.hp;
  const uint32_t E = hp.n_embd, H = hp.n_head, Hkv = hp.n_head_kv, D = hp.head_dim, F = hp.n_ff;
  const uint32_t QD = H * D, KVD = Hkv * D;
  Ops& o = *ops_;
  const bool first = layer0 == 0, last_layer = layer_end == hp.n_layer;
  if (first && inputs_host_) {  // the batch's first recording copies its inputs
    PENSER_TRY(r.begin({{inputs_host_->range(0, N * 4ull), ids_->range(0, N * 4ull)},
                        {inputs_host_->range(n_batch_ * 4ull, N * 4ull), pos_->range(0, N * 4ull)}}));
  } else {
    PENSER_TRY(r.begin());
  }
  if (first) PENSER_TRY(o.get_rows(r, model_.token_embd, all(ids_), N, all(x_), E));
  View ff_view;
  if (model_.rope_freqs) ff_view = all(model_.rope_freqs);
  const View* ff = model_.rope_freqs ? &ff_view : nullptr;
  const uint32_t QKV = QD + 2 * KVD, nb = n_batch_;
  for (uint32_t layer = layer0; layer < layer_end; ++layer) {
    const LayerBuffers& B = (*model_.layers)[layer];
    View an = all(B.attn_norm), fn = all(B.ffn_norm);
    PENSER_TRY(o.rms_norm(r, all(x_), all(xn_), &an, E, N, hp.rms_eps));
    View bq, bk, bv, bqkv;
    if (B.bq) { bq = all(B.bq); bk = all(B.bk); bv = all(B.bv); }
    Ops::RopeParams rp{.head_dim = D, .n_dims = D, .n_head = H, .n_tokens = N, .freq_base = hp.rope_freq_base,
                       .neox = hp.rope_neox, .n_head_kv = Hkv};
    View qn, kn;
    if (B.q_norm) { qn = all(B.q_norm); kn = all(B.k_norm); }
    View q_in;  // attention's queries
    uint32_t q_stride = QD;
    uint64_t v_at = QD + KVD;  // V's first element in qkv_ for rope_kv
    if (B.qkv.nrows || model_.rope_kv) {  // QKV rows of q|k|v, then one rope_kv over all of them
      const View qkv{qkv_->all(), 0};
      if (B.qkv.nrows) {
        if (B.bqkv) bqkv = all(B.bqkv);
        const View rows = part(qkv_, 0, uint64_t(nb) * QKV);  // bound apart from V's rows below
        PENSER_TRY(o.mul_mm(r, B.qkv, all(xn_), E, rows, QKV, N, B.bqkv ? &bqkv : nullptr));
        if (B.qkv.nrows == B.wq.nrows + B.wk.nrows) {
          // Q|K merged; V (another type: Q4_K_M's Q6_K attn_v) a product of its own, into rows after the
          // q|k|v ones, so that the two products write different bindings and need no barrier between them.
          PENSER_TRY(o.mul_mm(r, B.wv, all(xn_), E, part(qkv_, uint64_t(nb) * QKV, uint64_t(nb) * KVD), KVD, N,
                              B.bv ? &bv : nullptr));
          rp.v_stride = KVD;
          v_at = uint64_t(nb) * QKV;
        }
      } else {
        PENSER_TRY(o.mul_mm(r, B.wq, all(xn_), E, qkv, QKV, N, B.bq ? &bq : nullptr));
        PENSER_TRY(o.mul_mm(r, B.wk, all(xn_), E, View{qkv.range, QD}, QKV, N, B.bk ? &bk : nullptr));
        PENSER_TRY(o.mul_mm(r, B.wv, all(xn_), E, View{qkv.range, QD + KVD}, QKV, N, B.bv ? &bv : nullptr));
      }
      rp.x_stride = QKV;
      PENSER_TRY(o.rope_kv(r, qkv, View{qkv.range, QD}, View{qkv.range, uint32_t(v_at)}, B.q_norm ? &qn : nullptr,
                           B.q_norm ? &kn : nullptr, hp.rms_eps, ff, all(pos_), all(B.k_cache), all(B.v_cache), rp));
      q_in = qkv;
      q_stride = QKV;
    } else {  // Q, K, V one after another (rows of q_dim, kv_dim): the separate ops
      const View q = part(qkv_, 0, uint64_t(nb) * QD), k = part(qkv_, uint64_t(nb) * QD, uint64_t(nb) * KVD),
                 v = part(qkv_, uint64_t(nb) * (QD + KVD), uint64_t(nb) * KVD);
      PENSER_TRY(o.mul_mm(r, B.wq, all(xn_), E, q, QD, N, B.bq ? &bq : nullptr));
      PENSER_TRY(o.mul_mm(r, B.wk, all(xn_), E, k, KVD, N, B.bk ? &bk : nullptr));
      PENSER_TRY(o.mul_mm(r, B.wv, all(xn_), E, v, KVD, N, B.bv ? &bv : nullptr));
      if (B.q_norm) {
        PENSER_TRY(o.rms_norm(r, q, q, &qn, D, N * H, hp.rms_eps));
        PENSER_TRY(o.rms_norm(r, k, k, &kn, D, N * Hkv, hp.rms_eps));
      }
      PENSER_TRY(o.rope(r, q, all(pos_), ff, rp));
      rp.n_head = Hkv;
      PENSER_TRY(o.rope(r, k, all(pos_), ff, rp));
      PENSER_TRY(o.kv_store(r, k, all(B.k_cache), all(pos_), KVD, N, KVD));
      PENSER_TRY(o.kv_store(r, v, all(B.v_cache), all(pos_), KVD, N, KVD));
      q_in = q;
    }
    PENSER_TRY(o.attn_prefill(r, q_in, all(B.k_cache), all(B.v_cache), all(attn_), all(pos_), N,
                              {.head_dim = D, .n_head = H, .n_head_kv = Hkv}, q_stride, QD));
    PENSER_TRY(o.mul_mm(r, B.wo, all(attn_), QD, all(x_), E, N, nullptr, /*accumulate=*/true));
    PENSER_TRY(o.rms_norm(r, all(x_), all(xn_), &fn, E, N, hp.rms_eps));
    if (B.gate_up.nrows && o.swiglu_folds(B.gate_up)) {  // [N, F]: SwiGLU folded into the gate|up product
      const View h{gate_up_->all(), 0};
      PENSER_TRY(o.mul_mm(r, B.gate_up, all(xn_), E, h, F, N, nullptr, false, /*swiglu_out=*/true));
      PENSER_TRY(o.mul_mm(r, B.down, h, F, all(x_), E, N, nullptr, /*accumulate=*/true));
    } else if (B.gate_up.nrows) {  // [N, 2F]: a token's gate then its up; SwiGLU in place over the gate halves
      const View gu{gate_up_->all(), 0}, up{gate_up_->all(), F};
      PENSER_TRY(o.mul_mm(r, B.gate_up, all(xn_), E, gu, 2 * F, N));
      PENSER_TRY(o.swiglu(r, gu, up, gu, N * F, F, 2 * F));
      PENSER_TRY(o.mul_mm(r, B.down, gu, 2 * F, all(x_), E, N, nullptr, /*accumulate=*/true));
    } else {
      const View gate = part(gate_up_, 0, uint64_t(nb) * F), up = part(gate_up_, uint64_t(nb) * F, uint64_t(nb) * F);
      PENSER_TRY(o.mul_mm(r, B.gate, all(xn_), E, gate, F, N));
      PENSER_TRY(o.mul_mm(r, B.up, all(xn_), E, up, F, N));
      PENSER_TRY(o.swiglu(r, gate, up, gate, N * F));
      PENSER_TRY(o.mul_mm(r, B.down, gate, F, all(x_), E, N, nullptr, /*accumulate=*/true));
    }
  }
  if (last_layer) {
    const View last{x_->all(), (N - 1) * E};
    View onorm = all(model_.output_norm);
    PENSER_TRY(o.rms_norm(r, last, all(xn_), &onorm, E, 1, hp.rms_eps));
    PENSER_TRY(o.mul_mv(r, model_.output, all(xn_), all(model_.logits)));
  }
  return end ? r.end() : Status{};
}

}  // namespace penser::vulkan
