// The tiny random-weight Qwen2 model the chat, window and end-to-end suites share: 2 layers, 64 wide, Q8_0,
// tied embeddings, and (given a vocabulary source) the real R1 vocabulary and chat template, so the prompt
// opens a thought and the splitter sees <think>. Small enough to decode quickly on 2 cores.
#pragma once

#include "inference/gguf/gguf.h"
#include "inference/model/synth.h"

#include <cstdint>

namespace penser::test_models {

// The R1-Distill-Qwen vocabulary copied from the team's shared test data (tests/data/README.md).
inline constexpr const char* kR1Vocab = PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen.vocab.gguf";

// `seed` picks the weights (suites that compare text keep theirs); the other sizes stay the same everywhere.
inline model::SynthSpec tiny_r1_spec(const gguf::File* vocab, uint64_t seed, uint32_t n_embd = 64,
                                     uint32_t n_layer = 2, uint32_t n_ctx_train = 4096) {
  model::SynthSpec s;
  s.arch = model::Arch::Qwen2;
  s.n_embd = n_embd;
  s.n_layer = n_layer;
  s.n_head = 4;
  s.n_head_kv = 2;
  s.n_ff = 2 * n_embd;
  s.n_ctx_train = n_ctx_train;
  s.type = quant::Type::Q8_0;
  s.tie_embeddings = true;
  s.seed = seed;
  s.vocab_source = vocab;
  s.n_threads = 2;
  return s;
}

}  // namespace penser::test_models
