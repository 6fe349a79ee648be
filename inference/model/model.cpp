// Binding a GGUF file to a model: hyper-parameters from the metadata, weights from the tensor table,
// every shape and type checked before anything runs.
#include "inference/model/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace penser::model {

const char* arch_name(Arch arch) {
  switch (arch) {
    case Arch::Qwen2: return "qwen2";
    case Arch::Llama: return "llama";
    case Arch::Qwen3: return "qwen3";
  }
  return "?";
}

namespace {

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return s + "]";
}

// Reads hyper-parameters; `file` names the file in messages.
class Binder {
 public:
  explicit Binder(const gguf::File& f) : f_(f) {}

  Result<uint32_t> req_u32(const std::string& key) {
    const gguf::Value* v = f_.find(key);
    if (!v) return make_error("{}: missing metadata key '{}'", f_.name(), key);
    auto u = v->as_uint();
    if (!u || *u > 0xffffffffu)
      return make_error("{}: metadata key '{}' should be an unsigned integer, it is a {}", f_.name(), key,
                        gguf::value_type_name(v->type()));
    return static_cast<uint32_t>(*u);
  }
  Result<std::optional<uint32_t>> opt_u32(const std::string& key) {
    if (!f_.find(key)) return std::optional<uint32_t>{};
    PENSER_ASSIGN_OR_RETURN(uint32_t u, req_u32(key));
    return std::optional<uint32_t>{u};
  }
  Result<std::optional<float>> opt_f32(const std::string& key) {
    const gguf::Value* v = f_.find(key);
    if (!v) return std::optional<float>{};
    auto d = v->as_float();
    if (!d)
      return make_error("{}: metadata key '{}' should be a number, it is a {}", f_.name(), key,
                        gguf::value_type_name(v->type()));
    return std::optional<float>{static_cast<float>(*d)};
  }

  // Binds tensor `name` and checks its shape (ggml order) and type. Optional tensors may be absent.
  Result<Tensor> tensor(const std::string& name, std::vector<uint64_t> shape, bool required = true) {
    const gguf::TensorInfo* info = f_.tensor(name);
    if (!info) {
      if (!required) return Tensor{};
      return make_error("{}: missing tensor '{}' (expected shape {})", f_.name(), name, shape_str(shape));
    }
    if (info->shape != shape)
      return make_error("{}: tensor '{}' has shape {}, expected {}", f_.name(), name, shape_str(info->shape),
                        shape_str(shape));
    const quant::TypeTraits& tt = quant::traits(info->type);
    if (!tt.can_dequantize)
      return make_error("{}: tensor '{}' is stored as {}, a type Penser cannot compute with", f_.name(), name,
                        tt.name);
    if (shape.size() == 1 && info->type != quant::Type::F32 && info->type != quant::Type::F16 &&
        info->type != quant::Type::BF16)
      return make_error("{}: tensor '{}' (a vector) is stored as {}; expected F32, F16 or BF16", f_.name(), name,
                        tt.name);
    Tensor t;
    t.info = info;
    t.type = info->type;
    t.data = info->data;
    t.ne0 = static_cast<int64_t>(shape[0]);
    t.ne1 = shape.size() > 1 ? static_cast<int64_t>(shape[1]) : 1;
    t.row_bytes = quant::row_size(t.type, t.ne0);
    return t;
  }

 private:
  const gguf::File& f_;
};

Result<HParams> read_hparams(const gguf::File& f) {
  const std::string* arch_str = f.get_string("general.architecture");
  if (!arch_str) return make_error("{}: missing metadata key 'general.architecture'", f.name());
  HParams hp;
  if (*arch_str == "qwen2") {
    hp.arch = Arch::Qwen2;
    hp.rope_neox = true;
    hp.has_qkv_bias = true;
  } else if (*arch_str == "llama") {
    hp.arch = Arch::Llama;
    hp.rope_neox = false;
  } else if (*arch_str == "qwen3") {
    hp.arch = Arch::Qwen3;
    hp.rope_neox = true;
    hp.has_qk_norm = true;
  } else {
    return make_error("{}: architecture '{}' is not supported (Penser runs qwen2, llama and qwen3)", f.name(),
                      *arch_str);
  }
  const std::string a = *arch_str;
  Binder b(f);
  PENSER_ASSIGN_OR_RETURN(hp.n_ctx_train, b.req_u32(a + ".context_length"));
  PENSER_ASSIGN_OR_RETURN(hp.n_embd, b.req_u32(a + ".embedding_length"));
  PENSER_ASSIGN_OR_RETURN(hp.n_layer, b.req_u32(a + ".block_count"));
  PENSER_ASSIGN_OR_RETURN(hp.n_ff, b.req_u32(a + ".feed_forward_length"));
  PENSER_ASSIGN_OR_RETURN(hp.n_head, b.req_u32(a + ".attention.head_count"));
  PENSER_ASSIGN_OR_RETURN(auto n_head_kv, b.opt_u32(a + ".attention.head_count_kv"));
  hp.n_head_kv = n_head_kv.value_or(hp.n_head);
  PENSER_ASSIGN_OR_RETURN(auto eps, b.opt_f32(a + ".attention.layer_norm_rms_epsilon"));
  if (!eps) return make_error("{}: missing metadata key '{}.attention.layer_norm_rms_epsilon'", f.name(), a);
  hp.rms_eps = *eps;
  PENSER_ASSIGN_OR_RETURN(auto base, b.opt_f32(a + ".rope.freq_base"));
  hp.rope_freq_base = base.value_or(10000.0f);

  if (hp.n_embd == 0 || hp.n_layer == 0 || hp.n_head == 0 || hp.n_head_kv == 0 || hp.n_ff == 0 ||
      hp.n_ctx_train == 0)
    return make_error("{}: a model dimension is zero (embedding {}, blocks {}, heads {}, kv heads {}, ffn {}, "
                      "context {})",
                      f.name(), hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv, hp.n_ff, hp.n_ctx_train);
  if (hp.n_layer > 4096 || hp.n_head > 4096 || hp.n_embd > (1u << 20) || hp.n_ff > (1u << 22))
    return make_error("{}: implausible model dimensions (embedding {}, blocks {}, heads {}, ffn {})", f.name(),
                      hp.n_embd, hp.n_layer, hp.n_head, hp.n_ff);
  if (hp.n_head % hp.n_head_kv != 0)
    return make_error("{}: head_count {} is not a multiple of head_count_kv {}", f.name(), hp.n_head,
                      hp.n_head_kv);

  PENSER_ASSIGN_OR_RETURN(auto key_length, b.opt_u32(a + ".attention.key_length"));
  PENSER_ASSIGN_OR_RETURN(auto value_length, b.opt_u32(a + ".attention.value_length"));
  if (key_length) {
    hp.head_dim = *key_length;
  } else {
    if (hp.n_embd % hp.n_head != 0)
      return make_error("{}: embedding_length {} is not a multiple of head_count {} and the file has no "
                        "'{}.attention.key_length'",
                        f.name(), hp.n_embd, hp.n_head, a);
    hp.head_dim = hp.n_embd / hp.n_head;
  }
  if (hp.head_dim == 0 || hp.head_dim % 2 != 0 || hp.head_dim > 1024)
    return make_error("{}: head dimension {} is not usable (must be even, 2..1024)", f.name(), hp.head_dim);
  if (value_length && *value_length != hp.head_dim)
    return make_error("{}: value_length {} differs from key_length {}; Penser needs them equal", f.name(),
                      *value_length, hp.head_dim);
  PENSER_ASSIGN_OR_RETURN(auto n_rot, b.opt_u32(a + ".rope.dimension_count"));
  if (n_rot && *n_rot != hp.head_dim)
    return make_error("{}: rope.dimension_count {} differs from the head dimension {}; partial rotary "
                      "embeddings are not supported",
                      f.name(), *n_rot, hp.head_dim);
  // Scaled RoPE other than llama3's (which comes as the rope_freqs tensor) would change the numbers: refuse it.
  if (const std::string* scaling = f.get_string(a + ".rope.scaling.type");
      scaling && *scaling != "none" && *scaling != "llama3") {
    return make_error("{}: rope scaling '{}' is not supported", f.name(), *scaling);
  }

  // The vocabulary size: the key when present, else the token list.
  PENSER_ASSIGN_OR_RETURN(auto vocab_size, b.opt_u32(a + ".vocab_size"));
  if (vocab_size) {
    hp.n_vocab = *vocab_size;
  } else if (const gguf::Array* toks = f.get_array("tokenizer.ggml.tokens")) {
    hp.n_vocab = static_cast<uint32_t>(toks->items.size());
  } else {
    return make_error("{}: neither '{}.vocab_size' nor 'tokenizer.ggml.tokens' gives the vocabulary size",
                      f.name(), a);
  }
  if (hp.n_vocab == 0) return make_error("{}: the vocabulary is empty", f.name());
  return hp;
}

Result<Weights> bind_weights(const gguf::File& f, const HParams& hp) {
  Binder b(f);
  Weights w;
  const uint64_t E = hp.n_embd, V = hp.n_vocab, F = hp.n_ff;
  const uint64_t Q = uint64_t(hp.n_head) * hp.head_dim, KV = uint64_t(hp.n_head_kv) * hp.head_dim;
  PENSER_ASSIGN_OR_RETURN(w.token_embd, b.tensor("token_embd.weight", {E, V}));
  PENSER_ASSIGN_OR_RETURN(w.output_norm, b.tensor("output_norm.weight", {E}));
  PENSER_ASSIGN_OR_RETURN(w.output, b.tensor("output.weight", {E, V}, /*required=*/false));
  if (!w.output) w.output = w.token_embd;  // tied embeddings
  PENSER_ASSIGN_OR_RETURN(w.rope_freqs, b.tensor("rope_freqs.weight", {hp.head_dim / 2}, false));
  if (w.rope_freqs && w.rope_freqs.type != quant::Type::F32)
    return make_error("{}: tensor 'rope_freqs.weight' is {}, expected F32", f.name(),
                      quant::type_name(w.rope_freqs.type));
  w.layers.resize(hp.n_layer);
  for (uint32_t i = 0; i < hp.n_layer; ++i) {
    Layer& l = w.layers[i];
    auto n = [i](const char* what) { return fmt::format("blk.{}.{}", i, what); };
    PENSER_ASSIGN_OR_RETURN(l.attn_norm, b.tensor(n("attn_norm.weight"), {E}));
    PENSER_ASSIGN_OR_RETURN(l.wq, b.tensor(n("attn_q.weight"), {E, Q}));
    PENSER_ASSIGN_OR_RETURN(l.wk, b.tensor(n("attn_k.weight"), {E, KV}));
    PENSER_ASSIGN_OR_RETURN(l.wv, b.tensor(n("attn_v.weight"), {E, KV}));
    PENSER_ASSIGN_OR_RETURN(l.wo, b.tensor(n("attn_output.weight"), {Q, E}));
    if (hp.has_qkv_bias) {
      PENSER_ASSIGN_OR_RETURN(l.bq, b.tensor(n("attn_q.bias"), {Q}));
      PENSER_ASSIGN_OR_RETURN(l.bk, b.tensor(n("attn_k.bias"), {KV}));
      PENSER_ASSIGN_OR_RETURN(l.bv, b.tensor(n("attn_v.bias"), {KV}));
    }
    if (hp.has_qk_norm) {
      PENSER_ASSIGN_OR_RETURN(l.q_norm, b.tensor(n("attn_q_norm.weight"), {hp.head_dim}));
      PENSER_ASSIGN_OR_RETURN(l.k_norm, b.tensor(n("attn_k_norm.weight"), {hp.head_dim}));
    }
    PENSER_ASSIGN_OR_RETURN(l.ffn_norm, b.tensor(n("ffn_norm.weight"), {E}));
    PENSER_ASSIGN_OR_RETURN(l.ffn_gate, b.tensor(n("ffn_gate.weight"), {E, F}));
    PENSER_ASSIGN_OR_RETURN(l.ffn_up, b.tensor(n("ffn_up.weight"), {E, F}));
    PENSER_ASSIGN_OR_RETURN(l.ffn_down, b.tensor(n("ffn_down.weight"), {F, E}));
  }
  return w;
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::filesystem::path& path) {
  PENSER_ASSIGN_OR_RETURN(auto file, gguf::File::open(path));
  return from_file(std::move(file));
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<gguf::File> file) {
  PENSER_ASSERT(file != nullptr);
  std::unique_ptr<Model> m(new Model());
  PENSER_ASSIGN_OR_RETURN(m->hparams_, read_hparams(*file));
  PENSER_ASSIGN_OR_RETURN(m->weights_, bind_weights(*file, m->hparams_));
  auto vocab = tokenizer::Vocab::from_gguf(*file);
  if (!vocab) return vocab.take_error();
  m->vocab_ = std::move(vocab).value();
  if (static_cast<uint32_t>(m->vocab_->n_tokens()) > m->hparams_.n_vocab)
    return make_error("{}: the tokenizer has {} tokens but the model's vocabulary is {}", file->name(),
                      m->vocab_->n_tokens(), m->hparams_.n_vocab);
  m->file_ = std::move(file);
  return m;
}

std::string Model::name() const {
  if (const std::string* n = file_->get_string("general.name"); n && !n->empty()) return *n;
  return std::filesystem::path(file_->name()).filename().string();
}

const std::string* Model::chat_template() const { return file_->get_string("tokenizer.chat_template"); }

uint64_t Model::n_params() const {
  uint64_t n = 0;
  for (const auto& t : file_->tensors()) n += t.n_elements();
  return n;
}

uint64_t Model::weight_bytes() const {
  uint64_t n = 0;
  for (const auto& t : file_->tensors()) n += t.n_bytes;
  return n;
}

std::string Model::quant_summary() const {
  std::map<uint32_t, int> counts;
  for (const auto& t : file_->tensors()) counts[static_cast<uint32_t>(t.type)]++;
  // Most frequent first, the way people describe a mix.
  std::vector<std::pair<int, uint32_t>> order;
  for (auto [type, n] : counts) order.emplace_back(-n, type);
  std::sort(order.begin(), order.end());
  std::string s;
  for (auto [neg, type] : order)
    s += fmt::format("{}{}: {}", s.empty() ? "" : ", ", quant::type_name(static_cast<quant::Type>(type)), -neg);
  return s;
}

uint64_t Model::kv_cache_bytes(uint32_t n_ctx) const {
  // K and V, f16, n_head_kv * head_dim values per token per layer.
  return uint64_t(2) * 2 * hparams_.n_layer * uint64_t(hparams_.n_head_kv) * hparams_.head_dim * n_ctx;
}

}  // namespace penser::model
