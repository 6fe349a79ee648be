// Random-weight models of any shape, for tests, benchmarks and `penser-cli make-model`.
// The numbers are meaningless but well-conditioned: weights ~ U(-a, a) with std 1/sqrt(row length)
// (0.026 for a 1536-wide model, the scale real checkpoints use), norms ~1, so activations stay O(1),
// attention is not uniform and logits are not degenerate.
#pragma once

#include "inference/common/result.h"
#include "inference/gguf/gguf.h"
#include "inference/model/model.h"
#include "inference/quant/quant.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace penser::model {

struct SynthSpec {
  Arch arch = Arch::Qwen2;
  uint32_t n_vocab = 0;     // 0: the vocabulary source's token count, else the built-in byte vocabulary's (265)
  uint32_t n_embd = 64;
  uint32_t n_layer = 2;
  uint32_t n_head = 4;
  uint32_t n_head_kv = 2;
  uint32_t head_dim = 0;    // 0: n_embd / n_head
  uint32_t n_ff = 128;
  uint32_t n_ctx_train = 2048;
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-6f;
  bool rope_freqs = false;  // llama: write a rope_freqs.weight tensor (llama3-style per-dimension divisors)
  bool tie_embeddings = false;  // no output.weight: the output head reuses token_embd
  quant::Type type = quant::Type::F32;  // type of every 2-D weight (norms, biases, rope_freqs stay F32)
  bool k_m = false;         // llama.cpp's K_M mix with `type` (Q4_K or Q5_K) as its base: Q4_K_M, Q5_K_M
                            // (quant::k_m_type_for)
  float weight_std = 0.0f;  // 0: 1/sqrt(row length) per tensor
  uint64_t seed = 1;
  std::string name = "penser-synth";
  // Copy tokenizer.* keys (vocabulary, merges, special tokens, chat template) from this file.
  const gguf::File* vocab_source = nullptr;
  int n_threads = 0;        // quantization threads; 0 = all
};

// The built-in vocabulary: 256 byte tokens (GPT-2 byte-level form), a few merges, BOS and EOS.
// Writes tokenizer.* keys; n_vocab >= 265 pads with unused tokens. Returns the token count written.
Result<uint32_t> write_byte_vocab(gguf::Writer& writer, uint32_t n_vocab, bool llama_pre);

// Writes the model to `path`. Matrices are generated and quantized a chunk of rows at a time (threads)
// straight into the file, so the peak memory is a few chunks of 16 MiB whatever the model's size.
Status write_synth_model(const SynthSpec& spec, const std::filesystem::path& path);

}  // namespace penser::model
