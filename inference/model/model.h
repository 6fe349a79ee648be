// A model file bound for inference: hyper-parameters and weights read from a GGUF (every value from the
// file, nothing assumed per model size), and the tokenizer. Immutable after load; shared by every session.
#pragma once

#include "inference/common/result.h"
#include "inference/gguf/gguf.h"
#include "inference/quant/quant.h"
#include "inference/tokenizer/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace penser::model {

enum class Arch { Qwen2, Llama, Qwen3 };
const char* arch_name(Arch arch);  // the GGUF general.architecture string: "qwen2", "llama", "qwen3"

struct HParams {
  Arch arch = Arch::Qwen2;
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;   // <arch>.context_length
  uint32_t n_embd = 0;        // <arch>.embedding_length
  uint32_t n_layer = 0;       // <arch>.block_count
  uint32_t n_head = 0;        // <arch>.attention.head_count
  uint32_t n_head_kv = 0;     // <arch>.attention.head_count_kv (GQA; defaults to n_head)
  uint32_t head_dim = 0;      // <arch>.attention.key_length, else n_embd / n_head
  uint32_t n_ff = 0;          // <arch>.feed_forward_length
  float rms_eps = 1e-6f;      // <arch>.attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;  // <arch>.rope.freq_base
  bool rope_neox = true;      // qwen2/qwen3 rotate the two halves of a head; llama rotates adjacent pairs
  bool has_qkv_bias = false;  // qwen2
  bool has_qk_norm = false;   // qwen3: RMSNorm per head on Q and K before RoPE
};

// A weight used in place from the mapping. Matrices are stored row-major in ggml order:
// ne0 = row length (input features), ne1 = number of rows (output features).
struct Tensor {
  const gguf::TensorInfo* info = nullptr;  // nullptr: an optional tensor that the file lacks
  quant::Type type = quant::Type::F32;
  const uint8_t* data = nullptr;
  int64_t ne0 = 0;
  int64_t ne1 = 1;
  size_t row_bytes = 0;
  explicit operator bool() const { return info != nullptr; }
};

struct Layer {
  Tensor attn_norm;              // (n_embd)
  Tensor wq;                     // (n_embd -> n_head * head_dim)
  Tensor wk, wv;                 // (n_embd -> n_head_kv * head_dim)
  Tensor wo;                     // (n_head * head_dim -> n_embd)
  Tensor bq, bk, bv;             // qwen2 only: (n_head * head_dim), (n_head_kv * head_dim) x2
  Tensor q_norm, k_norm;         // qwen3 only: (head_dim)
  Tensor ffn_norm;               // (n_embd)
  Tensor ffn_gate, ffn_up;       // (n_embd -> n_ff)
  Tensor ffn_down;               // (n_ff -> n_embd)
};

struct Weights {
  Tensor token_embd;    // (n_embd) x n_vocab rows
  Tensor output_norm;   // (n_embd)
  Tensor output;        // (n_embd -> n_vocab); token_embd when the file ties them (no output.weight)
  Tensor rope_freqs;    // llama3 rope scaling factors (head_dim / 2); optional
  std::vector<Layer> layers;
};

class Model {
 public:
  // Opens and validates: architecture supported, every required key and tensor present with the expected
  // shape, every tensor type one Penser can compute with. Errors name the file, tensor/key and problem.
  static Result<std::unique_ptr<Model>> load(const std::filesystem::path& path);
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<gguf::File> file);

  const HParams& hparams() const { return hparams_; }
  const Weights& weights() const { return weights_; }
  const tokenizer::Vocab& vocab() const { return *vocab_; }
  std::shared_ptr<const tokenizer::Vocab> shared_vocab() const { return vocab_; }
  const gguf::File& file() const { return *file_; }

  std::string name() const;                   // general.name, else the file name
  const std::string* chat_template() const;   // tokenizer.chat_template, if any
  uint64_t n_params() const;                  // elements in all weight tensors
  uint64_t weight_bytes() const;              // bytes of all tensor data
  std::string quant_summary() const;          // "Q4_K: 169, Q6_K: 29, F32: 113"
  // KV cache bytes for n_ctx tokens (f16 K and V for every layer).
  uint64_t kv_cache_bytes(uint32_t n_ctx) const;

 private:
  Model() = default;
  std::unique_ptr<gguf::File> file_;
  HParams hparams_;
  Weights weights_;
  std::shared_ptr<const tokenizer::Vocab> vocab_;
};

}  // namespace penser::model
