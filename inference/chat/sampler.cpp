#include "inference/chat/sampler.h"

#include "inference/common/result.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

namespace penser::chat {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The logits after the penalties (a copy; the caller's logits are not changed).
std::vector<float> penalised(std::span<const float> logits, std::span<const tokenizer::Token> recent,
                             const SamplerSettings& s) {
  std::vector<float> out(logits.begin(), logits.end());
  bool any = s.repeat_penalty != 1.0f || s.presence_penalty != 0.0f;
  if (!any || s.repeat_last_n == 0 || recent.empty()) return out;
  size_t n = s.repeat_last_n < 0 ? recent.size() : std::min(recent.size(), static_cast<size_t>(s.repeat_last_n));
  std::unordered_set<tokenizer::Token> seen(recent.end() - static_cast<ptrdiff_t>(n), recent.end());
  for (tokenizer::Token t : seen) {
    if (t < 0 || static_cast<size_t>(t) >= out.size()) continue;
    float& l = out[static_cast<size_t>(t)];
    // The CTRL paper's penalty, as llama.cpp and transformers apply it: divide positive logits, multiply
    // negative ones, so the token always becomes less likely.
    if (s.repeat_penalty != 1.0f) l = l > 0 ? l / s.repeat_penalty : l * s.repeat_penalty;
    l -= s.presence_penalty;
  }
  return out;
}

}  // namespace

Sampler::Sampler(const SamplerSettings& settings) : s_(settings) {
  seed_ = settings.seed ? *settings.seed : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t x = seed_;
  for (uint64_t& w : state_) w = splitmix64(x);
}

double Sampler::uniform() {
  // xoshiro256** (Blackman and Vigna), top 53 bits to a double in [0, 1).
  uint64_t result = rotl(state_[1] * 5, 7) * 9;
  uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return static_cast<double>(result >> 11) * 0x1.0p-53;
}

std::vector<Candidate> Sampler::distribution(std::span<const float> logits,
                                             std::span<const tokenizer::Token> recent) const {
  PENSER_ASSERT(!logits.empty());
  std::vector<float> l = penalised(logits, recent, s_);
  size_t n = l.size();
  if (s_.temperature <= 0.0f) {
    size_t best = static_cast<size_t>(std::max_element(l.begin(), l.end()) - l.begin());
    return {{static_cast<tokenizer::Token>(best), 1.0f}};
  }
  // Softmax at the temperature, in double for a stable sum over ~150k tokens.
  float max_l = *std::max_element(l.begin(), l.end());
  std::vector<Candidate> c(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = std::exp(static_cast<double>(l[i] - max_l) / s_.temperature);
    c[i] = {static_cast<tokenizer::Token>(i), static_cast<float>(e)};
    sum += e;
  }
  auto by_p = [](const Candidate& a, const Candidate& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };

  // Sort only as far as the filters need: grow the sorted head until top-k and top-p are satisfied.
  size_t keep = n;
  if (s_.top_k > 0) keep = std::min(keep, static_cast<size_t>(s_.top_k));
  bool use_top_p = s_.top_p > 0.0f && s_.top_p < 1.0f;
  size_t head = use_top_p ? std::min(keep, size_t{64}) : keep;
  for (;;) {
    std::partial_sort(c.begin(), c.begin() + static_cast<ptrdiff_t>(head), c.end(), by_p);
    if (!use_top_p) break;
    double cum = 0;
    size_t i = 0;
    for (; i < head; ++i) {
      cum += c[i].p / sum;
      if (cum >= s_.top_p) break;
    }
    if (i < head) {  // the nucleus ends at token i
      keep = i + 1;
      break;
    }
    if (head == keep) break;
    head = std::min(keep, head * 4);
  }
  c.resize(keep);
  if (s_.min_p > 0.0f) {
    float threshold = c.front().p * s_.min_p;
    size_t m = 1;
    while (m < c.size() && c[m].p >= threshold) ++m;
    c.resize(m);
  }
  double kept = 0;
  for (const Candidate& x : c) kept += x.p;
  for (Candidate& x : c) x.p = static_cast<float>(x.p / kept);
  return c;
}

tokenizer::Token Sampler::sample(std::span<const float> logits, std::span<const tokenizer::Token> recent) {
  const bool needs_order = (s_.top_k > 0 && static_cast<size_t>(s_.top_k) < logits.size()) ||
                           (s_.top_p > 0.0f && s_.top_p < 1.0f);
  if (s_.temperature > 0.0f && !needs_order) {
    // No filter needs the tokens ranked, so draw straight from the softmax in id order: the same
    // distribution as distribution() gives, without sorting ~150k candidates for every token.
    std::vector<float> l = penalised(logits, recent, s_);
    const float max_l = *std::max_element(l.begin(), l.end());
    std::vector<double> w(l.size());
    double sum = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      double e = std::exp(static_cast<double>(l[i] - max_l) / s_.temperature);
      if (e < s_.min_p) e = 0;  // min-p: keep p >= min_p * p_max; the most likely token's weight is 1
      w[i] = e;
      sum += e;
    }
    const double u = uniform() * sum;
    double cum = 0;
    size_t last = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == 0) continue;
      cum += w[i];
      last = i;
      if (u < cum) return static_cast<tokenizer::Token>(i);
    }
    return static_cast<tokenizer::Token>(last);  // rounding: u landed past the last cumulative sum
  }

  std::vector<Candidate> c = distribution(logits, recent);
  if (c.size() == 1) return c.front().id;
  double u = uniform();
  double cum = 0;
  for (const Candidate& x : c) {
    cum += x.p;
    if (u < cum) return x.id;
  }
  return c.back().id;  // rounding: u landed past the last cumulative sum
}

}  // namespace penser::chat
