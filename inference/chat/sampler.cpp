#include "inference/chat/sampler.h"

#include "inference/common/result.h"
#include "inference/quant/blocks.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_set>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define PENSER_X86_SIMD 1
#include <immintrin.h>
#endif

namespace penser::chat {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The logits the filters see: the caller's own, or (when a penalty applies) a penalised copy in `copy`.
std::span<const float> penalised(std::span<const float> logits, std::span<const tokenizer::Token> recent,
                                 const SamplerSettings& s, std::vector<float>& copy) {
  bool any = s.repeat_penalty != 1.0f || s.presence_penalty != 0.0f;
  if (!any || s.repeat_last_n == 0 || recent.empty()) return logits;
  copy.assign(logits.begin(), logits.end());
  size_t n = s.repeat_last_n < 0 ? recent.size() : std::min(recent.size(), static_cast<size_t>(s.repeat_last_n));
  std::unordered_set<tokenizer::Token> seen(recent.end() - static_cast<ptrdiff_t>(n), recent.end());
  for (tokenizer::Token t : seen) {
    if (t < 0 || static_cast<size_t>(t) >= copy.size()) continue;
    float& l = copy[static_cast<size_t>(t)];
    // The CTRL paper's penalty, as llama.cpp and transformers apply it: divide positive logits, multiply
    // negative ones, so the token always becomes less likely.
    if (s.repeat_penalty != 1.0f) l = l > 0 ? l / s.repeat_penalty : l * s.repeat_penalty;
    l -= s.presence_penalty;
  }
  return copy;
}

// The largest value; eight running maxima, which the compiler turns into vector code (a single running
// maximum is a dependency chain it may not reorder).
float max_of(std::span<const float> l) {
  float m[8];
  std::fill(std::begin(m), std::end(m), -std::numeric_limits<float>::infinity());
  const float* p = l.data();
  size_t i = 0;
  for (; i + 8 <= l.size(); i += 8)
    for (size_t k = 0; k < 8; ++k) m[k] = p[i + k] > m[k] ? p[i + k] : m[k];
  for (; i < l.size(); ++i) m[0] = p[i] > m[0] ? p[i] : m[0];
  return *std::max_element(std::begin(m), std::end(m));
}

// The softmax weights w = exp((l - max) / T) = 2^x with x = (l - max) * log2(e) / T <= 0, in float precision
// (relative error below 2e-7), and 0 below x = -100 (2^-100 against the most likely token's 1: nothing that
// unlikely can matter to a draw or a sum) or for a NaN logit. Without a library call, so that it runs as
// vector code: std::exp in double took ~6 ns a token, ~1 ms of every decoded token over a 152k vocabulary
// (docs/chat.md, "Sampling cost"). x = n + r with n the nearest integer and |r| <= 1/2; 2^r = e^t, t = r ln 2,
// by Taylor to degree 6 (for |t| <= 0.347 the remainder is below 1.2e-7); 2^n built in the exponent bits.
// The plain and the AVX2 code do the same IEEE operations in the same order (no fused multiply-add), so on
// x86-64 a seed draws the same tokens on every CPU.
constexpr float kLn2 = 0.693147181f, kC2 = 1.0f / 2, kC3 = 1.0f / 6, kC4 = 1.0f / 24, kC5 = 1.0f / 120,
                kC6 = 1.0f / 720;

float weight_plain(float x) {
  const bool keep = x >= -100.0f;
  const float xc = keep ? x : -100.0f;
  // Round to nearest (ties to even, as _mm256_round_ps) with the 1.5 * 2^23 trick (|xc| <= 100).
  const float n = (xc + 12582912.0f) - 12582912.0f;
  const float t = (xc - n) * kLn2;
  const float p = 1.0f + t * (1.0f + t * (kC2 + t * (kC3 + t * (kC4 + t * (kC5 + t * kC6)))));
  const float scale = std::bit_cast<float>(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
  return keep ? p * scale : 0.0f;
}

// w[i] for n logits, and their sum in double as 8 partial sums s[j] += w[i] for i = j mod 8 (the tail's into
// s[0]): both paths add in that order, so their sums agree to the bit too.
using Sums = std::array<double, 8>;

void weights_plain(const float* l, float* w, size_t n, float max_l, float k, Sums& s) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) s[j] += w[i + j] = weight_plain((l[i + j] - max_l) * k);
  for (; i < n; ++i) s[0] += w[i] = weight_plain((l[i] - max_l) * k);
}

#ifdef PENSER_X86_SIMD
// Partial sums in double, as the plain code keeps them: lo holds s[0..3], hi s[4..7]; 8 floats x[j] go to s[j].
__attribute__((target("avx2"))) inline void add8(__m256d& lo, __m256d& hi, __m256 x) {
  lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(x)));
  hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
}
__attribute__((target("avx2"))) inline void add_sums(Sums& s, __m256d lo, __m256d hi) {
  Sums v;
  _mm256_storeu_pd(v.data(), lo);
  _mm256_storeu_pd(v.data() + 4, hi);
  for (size_t j = 0; j < 8; ++j) s[j] += v[j];
}

__attribute__((target("avx2"))) void weights_avx2(const float* l, float* w, size_t n, float max_l, float k, Sums& s) {
  const __m256 vmax = _mm256_set1_ps(max_l), vk = _mm256_set1_ps(k), lo = _mm256_set1_ps(-100.0f);
  const __m256 one = _mm256_set1_ps(1.0f), ln2 = _mm256_set1_ps(kLn2);
  __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(l + i), vmax), vk);
    const __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);  // false for NaN, as x >= -100 is
    const __m256 xc = _mm256_blendv_ps(lo, x, keep);
    const __m256 nr = _mm256_round_ps(xc, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 t = _mm256_mul_ps(_mm256_sub_ps(xc, nr), ln2);
    __m256 p = _mm256_add_ps(_mm256_set1_ps(kC5), _mm256_mul_ps(t, _mm256_set1_ps(kC6)));
    p = _mm256_add_ps(_mm256_set1_ps(kC4), _mm256_mul_ps(t, p));
    p = _mm256_add_ps(_mm256_set1_ps(kC3), _mm256_mul_ps(t, p));
    p = _mm256_add_ps(_mm256_set1_ps(kC2), _mm256_mul_ps(t, p));
    p = _mm256_add_ps(one, _mm256_mul_ps(t, p));
    p = _mm256_add_ps(one, _mm256_mul_ps(t, p));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nr), _mm256_set1_epi32(127)), 23);
    const __m256 wv = _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), keep);
    _mm256_storeu_ps(w + i, wv);
    add8(s_lo, s_hi, wv);
  }
  add_sums(s, s_lo, s_hi);
  weights_plain(l + i, w + i, n - i, max_l, k, s);
}
#endif

double weights(std::span<const float> l, float max_l, float temperature, std::vector<float>& w) {
  return detail::softmax_weights(l, max_l, temperature, w, /*simd=*/true);
}

// The tokens the ordered filters keep: most likely first (ties: the lower id first) until there are top_k of
// them or their weight reaches top_p * sum (the token that reaches it is kept), in no particular but a fixed
// order. Without sorting the vocabulary: weights are non-negative floats, which order as their bit patterns,
// so a histogram of the high bits (count and weight per bucket) says in which bucket the cut falls; everything
// above it is kept, the bucket's own tokens go through a finer histogram of the next bits, and only the few in
// the final bucket are sorted. A sorted head grown until it covers the nucleus (what this replaced) sorted
// ~150k tokens, ~30 ms a token, whenever the logits were flat.
void nucleus(const std::vector<float>& w, double sum, size_t top_k, double top_p, std::vector<uint32_t>& part,
             std::vector<uint32_t>& next, std::vector<Candidate>& out) {
  const size_t n = w.size();
  const double target = top_p < 1.0 ? top_p * sum : std::numeric_limits<double>::infinity();
  // Top-p never keeps a token lighter than (1 - p) * sum / n: all of those together weigh less than
  // (1 - p) * sum, so the tokens heavier than all of them (every other token) already reach p * sum. Only
  // the others take part (a few thousand of ~150k when the model is sure of itself).
  const float floor_w = top_p < 1.0 ? static_cast<float>((1.0 - top_p) * sum / static_cast<double>(n)) : 0.0f;
  part.clear();
  for (size_t i = 0; i < n; ++i)
    if (w[i] >= floor_w) part.push_back(static_cast<uint32_t>(i));

  out.clear();
  size_t count = 0;   // kept so far
  double mass = 0;    // their weight
  auto done = [&] { return count >= top_k || mass >= target; };  // the filters are satisfied
  std::vector<uint32_t> hist_n;
  std::vector<double> hist_w;
  for (const uint32_t shift : {20u, 10u}) {  // the bucket: bits 31..20, then bits 19..10 within it
    const uint32_t buckets = shift == 20 ? 4096 : 1024;
    auto key = [&](uint32_t i) { return (std::bit_cast<uint32_t>(w[i]) >> shift) & (buckets - 1); };
    hist_n.assign(buckets, 0);
    hist_w.assign(buckets, 0.0);
    for (uint32_t i : part) {
      const uint32_t k = key(i);
      ++hist_n[k];
      hist_w[k] += w[i];
    }
    uint32_t cut = buckets;  // the bucket where the filters stop
    size_t count_above = count;
    double mass_above = mass;
    for (uint32_t k = buckets; k-- > 0;) {
      if (hist_n[k] == 0) continue;
      if (count_above + hist_n[k] >= top_k || mass_above + hist_w[k] >= target) {
        cut = k;
        break;
      }
      count_above += hist_n[k];
      mass_above += hist_w[k];
    }
    next.clear();
    for (uint32_t i : part) {
      const uint32_t k = key(i);
      if (k > cut || cut == buckets) out.push_back({static_cast<tokenizer::Token>(i), w[i]});
      else if (k == cut) next.push_back(i);
    }
    count = count_above;
    mass = mass_above;
    part.swap(next);
    if (cut == buckets) return;  // the filters keep everything
  }
  // The last bucket's tokens in order, one by one until the filters are satisfied.
  std::sort(part.begin(), part.end(), [&](uint32_t a, uint32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); });
  for (uint32_t i : part) {
    if (count > 0 && done()) break;  // at least one token, even when nothing has weight (all logits NaN)
    out.push_back({static_cast<tokenizer::Token>(i), w[i]});
    ++count;
    mass += w[i];
  }
}

// Orders tokens as the filters see them: the heavier first, ties by the lower id.
struct Heavier {
  const float* w;
  bool operator()(uint32_t a, uint32_t b) const { return w[a] > w[b] || (w[a] == w[b] && a < b); }
};

// Top-k when k is small against the vocabulary: one pass that keeps the k heaviest so far (ties: the lower id,
// which the pass meets first) in `buf`, letting in only tokens heavier than the k-th of them; every 8 tokens
// compared at once, and the few that pass trimmed back to k now and then. Out: the k, heaviest first.
// nucleus() without top-p ran its histograms over the whole vocabulary: ~0.9 ms a token at top-k 40 on
// every shape of logits (penser-sampler-bench).
void top_k_plain(const float* w, size_t n, size_t k, std::vector<uint32_t>& buf, size_t from, float& thr) {
  const size_t cap = std::max<size_t>(2 * k, k + 256);
  for (size_t i = from; i < n; ++i) {
    if (!(w[i] > thr)) continue;
    buf.push_back(static_cast<uint32_t>(i));
    if (buf.size() >= cap) {
      std::nth_element(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(k - 1), buf.end(), Heavier{w});
      buf.resize(k);
      thr = w[buf[k - 1]];  // the lightest kept: a later token (a higher id) must be heavier to enter
    }
  }
}

#ifdef PENSER_X86_SIMD
__attribute__((target("avx2"))) size_t top_k_avx2(const float* w, size_t n, size_t k, std::vector<uint32_t>& buf,
                                                   float& thr) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned mask = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(w + i), _mm256_set1_ps(thr), _CMP_GT_OQ)));
    if (mask == 0) continue;
    // The same tokens, in the same order, as the plain loop (it re-reads the threshold after each trim).
    top_k_plain(w, i + 8, k, buf, i, thr);
  }
  return i;
}
#endif

// The 8 partial sums of the two passes below, added as softmax_weights adds its own.
double total(const Sums& s) { return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])); }

// The weight of the tokens ahead of token t in the filters' order (heavier, or as heavy with a lower id), in
// double as 8 partial sums s[j] over the tokens i = j mod 8 (the tail's into s[0]); plain and AVX2 code the
// same operations in the same order, so the same bits.
double ahead_plain(const float* w, size_t n, size_t t, size_t from, Sums& s) {
  const float wt = w[t];
  size_t i = from;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) {
      const float x = w[i + j];
      if (x > wt || (x == wt && i + j < t)) s[j] += x;
    }
  for (; i < n; ++i)
    if (w[i] > wt || (w[i] == wt && i < t)) s[0] += w[i];
  return total(s);
}

#ifdef PENSER_X86_SIMD
__attribute__((target("avx2"))) size_t ahead_avx2(const float* w, size_t n, size_t t, Sums& s) {
  const __m256 wt = _mm256_set1_ps(w[t]);
  const __m256i tv = _mm256_set1_epi32(static_cast<int32_t>(t));
  __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i eight = _mm256_set1_epi32(8);
  __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8, idx = _mm256_add_epi32(idx, eight)) {
    const __m256 x = _mm256_loadu_ps(w + i);
    const __m256 before = _mm256_castsi256_ps(_mm256_cmpgt_epi32(tv, idx));  // i + j < t
    const __m256 ahead = _mm256_or_ps(_mm256_cmp_ps(x, wt, _CMP_GT_OQ),
                                      _mm256_and_ps(_mm256_cmp_ps(x, wt, _CMP_EQ_OQ), before));
    add8(s_lo, s_hi, _mm256_and_ps(x, ahead));  // +0 where not ahead: adding it changes no sum
  }
  add_sums(s, s_lo, s_hi);
  return i;
}
#endif

// The first token whose running weight (ids ascending) passes u, 0 <= u < the weights' total: blocks of 64
// tokens summed (8 partial sums, as above) until the block that holds it, then that block token by token. The
// weights are non-negative, so a token of weight 0 is never the one. If rounding leaves u past the end, the
// last token with any weight.
constexpr size_t kDrawBlock = 64;

void block_sums_plain(const float* w, size_t i, Sums& s) {
  for (size_t k = 0; k < kDrawBlock; k += 8)
    for (size_t j = 0; j < 8; ++j) s[j] += w[i + k + j];
}

#ifdef PENSER_X86_SIMD
__attribute__((target("avx2"))) void block_sums_avx2(const float* w, size_t i, Sums& s) {
  __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
  for (size_t k = 0; k < kDrawBlock; k += 8) add8(s_lo, s_hi, _mm256_loadu_ps(w + i + k));
  add_sums(s, s_lo, s_hi);
}
#endif

}  // namespace

size_t detail::draw_by_weight(std::span<const float> w, double u, bool simd) {
  PENSER_ASSERT(!w.empty());
#ifdef PENSER_X86_SIMD
  static const bool avx2 = quant::detail::cpu_has_avx2_fma_f16c();
  const bool vec = simd && avx2;
#else
  const bool vec = false;
#endif
  (void)simd;
  const size_t n = w.size();
  double cum = 0;
  size_t i = 0;
  for (; i + kDrawBlock <= n; i += kDrawBlock) {
    Sums s{};
#ifdef PENSER_X86_SIMD
    if (vec) block_sums_avx2(w.data(), i, s);
    else
#endif
      block_sums_plain(w.data(), i, s);
    const double b = total(s);
    if (u < cum + b) break;  // in this block
    cum += b;
  }
  size_t last = n;  // the last token with weight seen
  for (size_t j = i; j < n; ++j) {
    if (w[j] == 0) continue;
    cum += w[j];
    last = j;
    if (u < cum) return j;
  }
  if (last != n) return last;  // u past the end by rounding
  for (size_t j = i; j-- > 0;)   // nothing with weight after the block: the last token that has any
    if (w[j] != 0) return j;
  return 0;
}

double detail::weight_ahead(std::span<const float> w, size_t t, bool simd) {
  PENSER_ASSERT(t < w.size());
  Sums s{};
  size_t from = 0;
#ifdef PENSER_X86_SIMD
  static const bool avx2 = quant::detail::cpu_has_avx2_fma_f16c();
  if (simd && avx2) from = ahead_avx2(w.data(), w.size(), t, s);
#endif
  (void)simd;
  return ahead_plain(w.data(), w.size(), t, from, s);
}

void detail::heaviest(std::span<const float> w, size_t k, std::vector<uint32_t>& out, bool simd) {
  PENSER_ASSERT(k >= 1 && k <= w.size());
  out.clear();
  float thr = -1.0f;  // every weight (>= 0) is heavier
  size_t from = 0;
#ifdef PENSER_X86_SIMD
  static const bool avx2 = quant::detail::cpu_has_avx2_fma_f16c();
  if (simd && avx2) from = top_k_avx2(w.data(), w.size(), k, out, thr);
#endif
  (void)simd;
  top_k_plain(w.data(), w.size(), k, out, from, thr);
  std::sort(out.begin(), out.end(), Heavier{w.data()});
  if (out.size() > k) out.resize(k);
}

double detail::softmax_weights(std::span<const float> l, float max_l, float temperature, std::vector<float>& w,
                               bool simd) {
  w.resize(l.size());
  const float k = 1.4426950409f / temperature;  // log2(e) / T
  // The total in double (the draw needs it to better than float's 1e-7 relative over 150k terms), over 8
  // partial sums (independent adds do not wait on each other).
  Sums s{};
#ifdef PENSER_X86_SIMD
  static const bool avx2 = quant::detail::cpu_has_avx2_fma_f16c();
  if (simd && avx2)
    weights_avx2(l.data(), w.data(), l.size(), max_l, k, s);
  else
#endif
    weights_plain(l.data(), w.data(), l.size(), max_l, k, s);
  (void)simd;
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

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
  if (s_.temperature <= 0.0f) {
    const std::span<const float> l = penalised(logits, recent, s_, scratch_.penalised);
    const float max_l = max_of(l);
    size_t best = static_cast<size_t>(std::find(l.begin(), l.end(), max_l) - l.begin());
    if (best == l.size()) best = 0;  // every logit NaN: nothing is largest
    return {{static_cast<tokenizer::Token>(best), 1.0f}};
  }
  std::vector<Candidate> c = kept(logits, recent);  // a copy: the caller keeps it
  std::sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
    return a.p > b.p || (a.p == b.p && a.id < b.id);
  });
  double sum = 0;
  for (const Candidate& x : c) sum += x.p;
  for (Candidate& x : c) x.p = static_cast<float>(x.p / sum);
  return c;
}

double Sampler::weigh(std::span<const float> logits, std::span<const tokenizer::Token> recent) const {
  const std::span<const float> l = penalised(logits, recent, s_, scratch_.penalised);
  return weights(l, max_of(l), s_.temperature, scratch_.weights);
}

const std::vector<Candidate>& Sampler::kept(std::span<const float> logits,
                                            std::span<const tokenizer::Token> recent) const {
  return filtered(weigh(logits, recent));
}

const std::vector<Candidate>& Sampler::filtered(double sum) const {
  const std::vector<float>& w = scratch_.weights;
  const size_t n = w.size();
  const size_t top_k = s_.top_k > 0 ? std::min(n, static_cast<size_t>(s_.top_k)) : n;
  const bool use_top_p = s_.top_p > 0.0f && s_.top_p < 1.0f;
  std::vector<Candidate>& c = scratch_.kept;
  if (top_k < n) {
    // Top-k (then top-p over the k renormalised, as transformers and llama.cpp chain them): the k most
    // likely, in order; a pass that keeps the heaviest so far where k is small against the vocabulary
    // (the app allows up to 1000), else the histograms.
    if (top_k <= n / 4) {
      detail::heaviest(w, top_k, scratch_.part, /*simd=*/true);
      c.clear();
      for (uint32_t i : scratch_.part) c.push_back({static_cast<tokenizer::Token>(i), w[i]});
    } else {
      nucleus(w, sum, top_k, 1.0, scratch_.part, scratch_.next, c);
      std::sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) {
        return a.p > b.p || (a.p == b.p && a.id < b.id);
      });
    }
    if (use_top_p) {  // until their weight reaches p times the k's
      double mass_k = 0;
      for (const Candidate& x : c) mass_k += x.p;
      const double target = s_.top_p * mass_k;
      double mass = 0;
      size_t keep = 0;
      while (keep < c.size() && (keep == 0 || mass < target)) mass += c[keep++].p;
      c.resize(keep);
    }
  } else if (use_top_p) {
    nucleus(w, sum, top_k, s_.top_p, scratch_.part, scratch_.next, c);
  } else {  // no ordered filter: every token
    c.resize(n);
    for (size_t i = 0; i < n; ++i) c[i] = {static_cast<tokenizer::Token>(i), w[i]};
  }
  if (s_.min_p > 0.0f)  // min-p: keep p >= min_p * p_max; the most likely token's weight is 1
    std::erase_if(c, [&](const Candidate& x) { return x.p < s_.min_p; });
  return c;
}

tokenizer::Token Sampler::sample(std::span<const float> logits, std::span<const tokenizer::Token> recent) {
  if (s_.temperature <= 0.0f) return distribution(logits, recent).front().id;
  double sum = weigh(logits, recent);
  std::vector<float>& w = scratch_.weights;
  const bool top_k = s_.top_k > 0 && static_cast<size_t>(s_.top_k) < w.size();
  const bool top_p = s_.top_p > 0.0f && s_.top_p < 1.0f;
  if (sum > 0 && std::isfinite(sum) && !top_k) {
    if (!top_p) {
      // No filter needs the tokens ranked, so draw straight from the softmax in id order.
      if (s_.min_p > 0.0f) {  // min-p: keep p >= min_p * p_max; the most likely token's weight is 1
        for (float& x : w)
          if (x < s_.min_p) x = 0;
        sum = 0;
        for (float x : w) sum += x;
      }
      return static_cast<tokenizer::Token>(detail::draw_by_weight(w, uniform() * sum, /*simd=*/true));
    }
    // Top-p by rejection: a draw from the whole softmax, kept if the token is in the nucleus (the weight of the
    // tokens ahead of it is below p times the total) and passes min-p; else drawn again. A kept draw is
    // distributed as the nucleus renormalised, exactly; a draw is kept with probability >= p (min-p aside).
    // Two passes over the weights a round, where finding the nucleus itself (below) histograms it: 1.2-2.3 ms
    // a token when the logits are flat, as a random-weights model's are (penser-sampler-bench). After
    // kRounds misses (a low p, or a min-p that drops most of the nucleus's weight) the nucleus is found after
    // all; that is the same distribution, so the draws stay exact.
    constexpr int kRounds = 6;
    const double target = s_.top_p * sum;
    for (int round = 0; round < kRounds; ++round) {
      const size_t t = detail::draw_by_weight(w, uniform() * sum, /*simd=*/true);
      if (w[t] < s_.min_p) continue;
      if (detail::weight_ahead(w, t, /*simd=*/true) < target) return static_cast<tokenizer::Token>(t);
    }
  }
  // The kept tokens in the order filtered() leaves them (a fixed order: the draw is the same for a seed); the
  // distribution is distribution()'s, without sorting what may be ~100k tokens when the model is unsure.
  const std::vector<Candidate>& c = filtered(sum);
  if (c.size() == 1) return c.front().id;
  double kept_sum = 0;
  for (const Candidate& x : c) kept_sum += x.p;
  const double u = uniform() * kept_sum;
  double cum = 0;
  for (const Candidate& x : c) {
    cum += x.p;
    if (u < cum) return x.id;
  }
  return c.back().id;  // rounding: u landed past the last cumulative sum
}

}  // namespace penser::chat
