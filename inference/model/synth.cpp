#include "inference/model/synth.h"

#include "inference/common/threadpool.h"
#include "inference/model/requantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace penser::model {
namespace {

// splitmix64: a tiny, good-enough generator; seeded per (tensor, row) so threads need no shared state.
uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
float uniform_pm1(uint64_t& s) {  // U(-1, 1)
  return float(double(splitmix(s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}
uint64_t hash_name(std::string_view name) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : name) h = (h ^ uint8_t(c)) * 1099511628211ull;
  return h;
}

// The GPT-2 byte-to-unicode table: printable bytes stand for themselves, the rest map to U+0100 onwards.
std::string byte_token(uint8_t byte) {
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  uint32_t cp = byte;
  if (!printable(byte)) {
    uint32_t n = 0;
    for (int b = 0; b < byte; ++b)
      if (!printable(b)) ++n;
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// The tensors of a model in file order. 1-D tensors are generated at once (they are small); matrices are
// planned here and generated later, a chunk of rows at a time, while the writer writes the file.
struct Planner {
  struct Matrix {
    std::string name;
    quant::Type type;
    uint64_t cols, rows;
    size_t row_bytes;
    float a;        // values are U(-a, a)
    uint64_t seed;  // per tensor; each row's generator is seeded from it and the row index
  };
  struct Entry {
    std::string name;
    std::vector<uint64_t> shape;
    quant::Type type = quant::Type::F32;
    std::vector<uint8_t> bytes;  // 1-D tensors
    int matrix = -1;             // index into matrices
  };

  const SynthSpec& spec;
  int n_layer;
  bool has_output;
  std::vector<Entry> entries;
  std::vector<Matrix> matrices;

  void f32_vector(const std::string& name, std::vector<float> values) {
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    entries.push_back({name, {values.size()}, quant::Type::F32, std::move(bytes), -1});
  }

  // A 1-D F32 tensor: values[i] = center + spread * U(-1, 1).
  void vector(const std::string& name, uint64_t n, float center, float spread) {
    uint64_t s = spec.seed ^ hash_name(name);
    std::vector<float> v(n);
    for (auto& x : v) x = center + spread * uniform_pm1(s);
    f32_vector(name, std::move(v));
  }

  // A 2-D weight of `rows` rows of `cols` values in the spec's type (or the K_M mix's choice).
  Status matrix(const std::string& name, int layer, uint64_t cols, uint64_t rows) {
    quant::Type type = spec.type;
    if (spec.k_m) {
      type = quant::k_m_type_for(spec.type, name, layer, n_layer, has_output);
      if (cols % quant::traits(type).block_size != 0) type = quant::k_fallback_type(type);
    }
    const quant::TypeTraits& tt = quant::traits(type);
    if (!tt.can_quantize) return make_error("Penser cannot write {} tensors yet (tensor '{}')", tt.name, name);
    if (cols % tt.block_size != 0)
      return make_error("tensor '{}' has rows of {} values, not a multiple of {}'s block size {}", name, cols,
                        tt.name, tt.block_size);
    const float a = (spec.weight_std > 0 ? spec.weight_std : float(1.0 / std::sqrt(double(cols)))) * std::sqrt(3.0f);
    matrices.push_back({name, type, cols, rows, quant::row_size(type, int64_t(cols)), a, spec.seed ^ hash_name(name)});
    entries.push_back({name, {cols, rows}, type, {}, int(matrices.size() - 1)});
    return {};
  }
};

// Generates rows [r0, r1) of a planned matrix into dst (row_bytes each).
void generate_rows(const Planner::Matrix& m, int64_t r0, int64_t r1, uint8_t* dst) {
  std::vector<float> row(m.cols);
  for (int64_t r = r0; r < r1; ++r) {
    uint64_t s = m.seed + uint64_t(r) * 0x632BE59BD9B4E019ull;
    for (uint64_t i = 0; i < m.cols; ++i) row[i] = m.a * uniform_pm1(s);
    quant::quantize_row(m.type, row.data(), dst + size_t(r - r0) * m.row_bytes, int64_t(m.cols));
  }
}

// Writes the planned model: 1-D tensors from memory, matrices streamed, generated a chunk of rows at a time
// (on the pool's threads) while the writer writes them. Peak memory: one chunk, whatever the model's size.
Status write_planned(gguf::Writer& w, const Planner& plan, const std::filesystem::path& path, ThreadPool& pool) {
  constexpr size_t kChunkBytes = 16u << 20;
  for (const auto& e : plan.entries) {
    if (e.matrix < 0) {
      w.add_tensor(e.name, e.shape, e.type, e.bytes);
      continue;
    }
    const Planner::Matrix* m = &plan.matrices[size_t(e.matrix)];
    auto produce = [m, &pool](uint64_t r0, uint64_t r1, uint8_t* out) -> Status {
      pool.parallel_for(int64_t(r1 - r0), [&](int64_t a, int64_t b) {
        generate_rows(*m, int64_t(r0) + a, int64_t(r0) + b, out + size_t(a) * m->row_bytes);
      });
      return {};
    };
    w.add_tensor_stream(e.name, e.shape, e.type, std::move(produce), std::max<size_t>(1, kChunkBytes / m->row_bytes));
  }
  return w.write(path);
}

}  // namespace

Result<uint32_t> write_byte_vocab(gguf::Writer& w, uint32_t n_vocab, bool llama_pre) {
  std::vector<gguf::Value> tokens, types, merges;
  auto add = [&](std::string text, tokenizer::TokenType type) {
    tokens.push_back(gguf::Value{std::move(text)});
    types.push_back(gguf::Value{int32_t(type)});
  };
  for (int b = 0; b < 256; ++b) add(byte_token(uint8_t(b)), tokenizer::TokenType::NORMAL);
  // A few merges so that BPE has work to do: "Ġt" "th" "he" "in" "er" "Ġa" "the".
  const std::pair<const char*, const char*> kMerges[] = {{"Ġ", "t"}, {"t", "h"}, {"h", "e"}, {"i", "n"},
                                                         {"e", "r"}, {"Ġ", "a"}, {"th", "e"}};
  for (auto [l, r] : kMerges) {
    merges.push_back(gguf::Value{fmt::format("{} {}", l, r)});
    add(std::string(l) + r, tokenizer::TokenType::NORMAL);
  }
  const uint32_t bos = uint32_t(tokens.size());
  add("<｜begin▁of▁sentence｜>", tokenizer::TokenType::CONTROL);
  add("<｜end▁of▁sentence｜>", tokenizer::TokenType::CONTROL);
  const uint32_t eos = bos + 1;
  if (n_vocab != 0 && n_vocab < tokens.size())
    return make_error("a vocabulary of {} tokens is too small for the built-in byte vocabulary ({} tokens)", n_vocab,
                      tokens.size());
  while (tokens.size() < n_vocab) add(fmt::format("[PAD{}]", tokens.size()), tokenizer::TokenType::UNUSED);

  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", llama_pre ? "llama-bpe" : "qwen2");
  w.set("tokenizer.ggml.tokens", gguf::Value{gguf::Array{gguf::ValueType::STRING, std::move(tokens)}});
  w.set("tokenizer.ggml.token_type", gguf::Value{gguf::Array{gguf::ValueType::INT32, std::move(types)}});
  w.set("tokenizer.ggml.merges", gguf::Value{gguf::Array{gguf::ValueType::STRING, std::move(merges)}});
  w.set_uint32("tokenizer.ggml.bos_token_id", bos);
  w.set_uint32("tokenizer.ggml.eos_token_id", eos);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  return std::max<uint32_t>(n_vocab, eos + 1);
}

Status write_synth_model(const SynthSpec& spec, const std::filesystem::path& path) {
  const uint32_t head_dim = spec.head_dim ? spec.head_dim : (spec.n_head ? spec.n_embd / spec.n_head : 0);
  if (spec.n_embd == 0 || spec.n_layer == 0 || spec.n_head == 0 || spec.n_head_kv == 0 || spec.n_ff == 0 ||
      head_dim == 0 || head_dim % 2 != 0 || spec.n_head % spec.n_head_kv != 0)
    return make_error("invalid model shape: embedding {}, layers {}, heads {}, kv heads {}, head dim {}, ffn {}",
                      spec.n_embd, spec.n_layer, spec.n_head, spec.n_head_kv, head_dim, spec.n_ff);
  if (spec.k_m && spec.type != quant::Type::Q4_K && spec.type != quant::Type::Q5_K)
    return make_error("the K_M mix is based on Q4_K or Q5_K, not {}", quant::type_name(spec.type));
  const std::string a = arch_name(spec.arch);
  gguf::Writer w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", spec.name);
  // The file type names the mix for `inspect` and the app ("Q4_K_M" rather than the dominant tensor type).
  w.set_uint32("general.file_type", QuantTarget{spec.type, spec.k_m}.file_type());
  w.set_uint32(a + ".context_length", spec.n_ctx_train);
  w.set_uint32(a + ".embedding_length", spec.n_embd);
  w.set_uint32(a + ".block_count", spec.n_layer);
  w.set_uint32(a + ".feed_forward_length", spec.n_ff);
  w.set_uint32(a + ".attention.head_count", spec.n_head);
  w.set_uint32(a + ".attention.head_count_kv", spec.n_head_kv);
  if (spec.head_dim != 0 || spec.arch == Arch::Qwen3) {
    w.set_uint32(a + ".attention.key_length", head_dim);
    w.set_uint32(a + ".attention.value_length", head_dim);
  }
  w.set_float32(a + ".attention.layer_norm_rms_epsilon", spec.rms_eps);
  w.set_float32(a + ".rope.freq_base", spec.rope_freq_base);
  w.set_uint32(a + ".rope.dimension_count", head_dim);

  uint32_t n_vocab = spec.n_vocab;
  if (spec.vocab_source) {
    w.copy_metadata(*spec.vocab_source, "tokenizer.");
    const gguf::Array* toks = spec.vocab_source->get_array("tokenizer.ggml.tokens");
    if (!toks) return make_error("{}: has no tokenizer.ggml.tokens to copy", spec.vocab_source->name());
    const auto n_src = uint32_t(toks->items.size());
    if (n_vocab == 0) n_vocab = n_src;
    if (n_vocab < n_src)
      return make_error("a vocabulary of {} is smaller than the {} tokens of {}", n_vocab, n_src,
                        spec.vocab_source->name());
    if (n_vocab != n_src) w.set_uint32(a + ".vocab_size", n_vocab);
  } else {
    PENSER_ASSIGN_OR_RETURN(n_vocab, write_byte_vocab(w, n_vocab, spec.arch == Arch::Llama));
  }

  Planner g{spec, int(spec.n_layer), !spec.tie_embeddings, {}, {}};
  const uint64_t E = spec.n_embd, F = spec.n_ff, V = n_vocab;
  const uint64_t Q = uint64_t(spec.n_head) * head_dim, KV = uint64_t(spec.n_head_kv) * head_dim;
  PENSER_TRY(g.matrix("token_embd.weight", -1, E, V));
  g.vector("output_norm.weight", E, 1.0f, 0.1f);
  if (!spec.tie_embeddings) PENSER_TRY(g.matrix("output.weight", -1, E, V));
  if (spec.rope_freqs) {
    // llama3-style: high-frequency dimensions untouched (1), low-frequency ones slowed down (up to 8).
    std::vector<float> f(head_dim / 2);
    for (uint32_t i = 0; i < head_dim / 2; ++i)
      f[i] = 1.0f + 7.0f * float(i) / float(std::max<uint32_t>(1, head_dim / 2 - 1));
    g.f32_vector("rope_freqs.weight", std::move(f));
  }
  for (uint32_t l = 0; l < spec.n_layer; ++l) {
    auto n = [l](const char* what) { return fmt::format("blk.{}.{}", l, what); };
    const int il = int(l);
    g.vector(n("attn_norm.weight"), E, 1.0f, 0.1f);
    PENSER_TRY(g.matrix(n("attn_q.weight"), il, E, Q));
    PENSER_TRY(g.matrix(n("attn_k.weight"), il, E, KV));
    PENSER_TRY(g.matrix(n("attn_v.weight"), il, E, KV));
    if (spec.arch == Arch::Qwen2) {
      g.vector(n("attn_q.bias"), Q, 0.0f, 0.2f);
      g.vector(n("attn_k.bias"), KV, 0.0f, 0.2f);
      g.vector(n("attn_v.bias"), KV, 0.0f, 0.2f);
    }
    if (spec.arch == Arch::Qwen3) {
      g.vector(n("attn_q_norm.weight"), head_dim, 1.0f, 0.2f);
      g.vector(n("attn_k_norm.weight"), head_dim, 1.0f, 0.2f);
    }
    PENSER_TRY(g.matrix(n("attn_output.weight"), il, Q, E));
    g.vector(n("ffn_norm.weight"), E, 1.0f, 0.1f);
    PENSER_TRY(g.matrix(n("ffn_gate.weight"), il, E, F));
    PENSER_TRY(g.matrix(n("ffn_up.weight"), il, E, F));
    PENSER_TRY(g.matrix(n("ffn_down.weight"), il, F, E));
  }
  ThreadPool pool(spec.n_threads);
  return write_planned(w, g, path, pool);
}

}  // namespace penser::model
