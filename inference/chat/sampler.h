// Token sampling: penalties, temperature, top-k, top-p, min-p, then a draw from a seeded generator.
//
// Order (as Hugging Face transformers and vLLM apply them): repetition and presence penalties on the raw
// logits; temperature; top-k; top-p (the smallest set of most likely tokens whose probability, renormalised
// over what top-k kept, reaches p); min-p (tokens at least min_p times as likely as the best); renormalise;
// draw. Temperature 0 is greedy (the highest logit after penalties). The generator is xoshiro256** seeded
// through splitmix64, the draw uses no standard-library distribution and the softmax no library exp, so a
// seed gives the same tokens on every x86-64 CPU (docs/chat.md).
#pragma once

#include "inference/tokenizer/tokenizer.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace penser::chat {

struct SamplerSettings {
  float temperature = 0.6f;      // DeepSeek's advice for R1: 0.6 (0.5 to 0.7)
  int32_t top_k = 0;             // 0: off
  float top_p = 0.95f;           // 1: off
  float min_p = 0.0f;            // 0: off
  float repeat_penalty = 1.0f;   // 1: off. >1 makes tokens seen in the last repeat_last_n less likely
  int32_t repeat_last_n = 64;
  float presence_penalty = 0.0f; // subtracted once from the logit of every token seen in the last repeat_last_n
  std::optional<uint64_t> seed;  // none: a random seed
};

struct Candidate {
  tokenizer::Token id;
  float p;
};

class Sampler {
 public:
  explicit Sampler(const SamplerSettings& settings);

  // recent: the tokens before this one (the penalties look at the last repeat_last_n of them).
  tokenizer::Token sample(std::span<const float> logits, std::span<const tokenizer::Token> recent);

  // The distribution sample() draws from: the kept tokens, most likely first, probabilities summing to 1.
  // With temperature 0, the single greedy token with p = 1.
  std::vector<Candidate> distribution(std::span<const float> logits, std::span<const tokenizer::Token> recent) const;

  uint64_t seed() const { return seed_; }

 private:
  double uniform();  // [0, 1)
  // The softmax weights of the penalised logits in scratch_.weights (the most likely token's 1); their sum.
  double weigh(std::span<const float> logits, std::span<const tokenizer::Token> recent) const;
  // The tokens the filters keep (temperature > 0) with their softmax weights, in a fixed order but not
  // sorted; in scratch_.kept. filtered(): the same from weigh()'s weights and sum.
  const std::vector<Candidate>& kept(std::span<const float> logits, std::span<const tokenizer::Token> recent) const;
  const std::vector<Candidate>& filtered(double sum) const;

  SamplerSettings s_;
  uint64_t seed_;
  uint64_t state_[4];
  // Scratch kept between tokens, sized by the vocabulary (~150k): allocating, growing and page-faulting them
  // afresh for every token cost more than the arithmetic. A Sampler is used from one thread at a time.
  struct Scratch {
    std::vector<float> weights, penalised;
    std::vector<uint32_t> part, next;  // nucleus(): the tokens still in question
    std::vector<Candidate> kept;
  };
  mutable Scratch scratch_;
};

namespace detail {
// The softmax weights the sampler draws from: w[i] = exp((logits[i] - max_logit) / temperature) in float
// (relative error below 3e-7; 0 for a NaN logit and for a weight under 2^-100), and their sum in double. simd: the AVX2 code where the CPU has it, else the plain code; both
// give the same bits. Tests compare the two and a double-precision softmax.
double softmax_weights(std::span<const float> logits, float max_logit, float temperature, std::vector<float>& w,
                       bool simd);
// The token a draw of u lands on, 0 <= u < the weights' total: the first whose running weight (ids ascending)
// passes u (a token of weight 0 never is). Summed a block at a time, in double.
size_t draw_by_weight(std::span<const float> w, double u, bool simd);
// The weight of the tokens ahead of token t in the filters' order (heavier, or as heavy with a lower id):
// top-p keeps t when this is below p times the total. In double.
double weight_ahead(std::span<const float> w, size_t t, bool simd);
// The k heaviest tokens (ties: the lower id first), heaviest first, in `out`.
void heaviest(std::span<const float> w, size_t k, std::vector<uint32_t>& out, bool simd);
}  // namespace detail

}  // namespace penser::chat
