// x86-64 SIMD dot kernels (AVX2 + FMA + F16C), compiled per function with target attributes and
// selected once at run time (CPUID, see cpu_has_avx2_fma_f16c), so the library needs no -march flag.
//
// Integer work mirrors the scalar reference (vec_dot_scalar.cpp): per (sub-)block integer sums via
// _mm256_maddubs_epi16 (u8 x s8 -> s16 pairs) and _mm256_madd_epi16 (-> s32), then one float FMA per
// block. Only the float summation order differs from the reference. Range notes: unsigned weight codes
// are at most 63 and activations at most 127 in magnitude, so a maddubs pair sum stays below 2^15.
#include "inference/quant/blocks.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#include <cstring>

#define PENSER_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace penser::quant::detail {
namespace {

PENSER_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

PENSER_AVX2 inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Signed x signed bytes -> 8 s32 sums of 4 products. maddubs wants one unsigned operand: move x's sign
// onto y (|x| is at most 128, fits u8).
PENSER_AVX2 inline __m256i dot_s8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

// 16 packed nibble bytes -> 32 bytes: low nibbles (elements 0..15), then high nibbles (16..31).
PENSER_AVX2 inline __m256i nibbles_32(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

// Scale broadcasts by byte shuffles (one uop) instead of set1 from a general register.
// kPairMask[k]: low 128-bit lane = 16-bit word 2k repeated, high lane = word 2k + 1: the scales of two
// 16-element groups that share 32 bytes. kWordMask[j]: word j in every position.
struct ShuffleMasks {
  alignas(32) uint8_t pair[4][32];
  alignas(32) uint8_t word[8][32];
  constexpr ShuffleMasks() : pair{}, word{} {
    for (int k = 0; k < 4; ++k)
      for (int b = 0; b < 32; ++b) pair[k][b] = uint8_t(2 * (2 * k + (b >= 16)) + (b & 1));
    for (int j = 0; j < 8; ++j)
      for (int b = 0; b < 32; ++b) word[j][b] = uint8_t(2 * j + (b & 1));
  }
};
constexpr ShuffleMasks kMasks;

// scales16: 8 s16 scales in both 128-bit lanes. Returns (scale 2k | scale 2k+1) per lane.
PENSER_AVX2 inline __m256i pair_scales(__m256i scales16, int k) {
  return _mm256_shuffle_epi8(scales16, _mm256_load_si256(reinterpret_cast<const __m256i*>(kMasks.pair[k])));
}
PENSER_AVX2 inline __m256i word_scale(__m256i scales16, int j) {
  return _mm256_shuffle_epi8(scales16, _mm256_load_si256(reinterpret_cast<const __m256i*>(kMasks.word[j])));
}
// 16 s16 scales -> (scales 0-7 in both lanes, scales 8-15 in both lanes).
PENSER_AVX2 inline __m256i lanes_lo(__m256i v) { return _mm256_permute2x128_si256(v, v, 0x00); }
PENSER_AVX2 inline __m256i lanes_hi(__m256i v) { return _mm256_permute2x128_si256(v, v, 0x11); }

// ------------------------------------------------------------------ plain types

PENSER_AVX2 float dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) s += x[i] * y[i];
  return s;
}

PENSER_AVX2 inline __m256 load_f16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

PENSER_AVX2 float dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load_f16x8(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(load_f16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_f16x8(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_f16x8(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_f16x8(x + i), _mm256_loadu_ps(y + i), acc0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) s += h2f(x[i]) * y[i];
  return s;
}

PENSER_AVX2 inline __m256 load_bf16x8(const uint16_t* p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

PENSER_AVX2 float dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load_bf16x8(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(load_bf16x8(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load_bf16x8(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load_bf16x8(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load_bf16x8(x + i), _mm256_loadu_ps(y + i), acc0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) s += bf16_to_f32(x[i]) * y[i];
  return s;
}

// ------------------------------------------------------------------ 32-blocks x Q8_0

// One FMA per 32 elements would chain on a single accumulator (4-cycle latency): two accumulators
// over pairs of blocks keep the loop bound by its loads and integer work instead.
// `codes(i)` returns block i's 32 weight codes as signed bytes.
template <typename Block, typename Codes>
PENSER_AVX2 inline float dot_blocks_q8_0(int64_t nb, const Block* x, const BlockQ8_0* y, Codes codes) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m256i q0 = codes(i), q1 = codes(i + 1);
    const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(dot_s8(q0, y0)), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i + 1].d) * h2f(y[i + 1].d)), _mm256_cvtepi32_ps(dot_s8(q1, y1)), acc1);
  }
  if (i < nb) {
    const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d)), _mm256_cvtepi32_ps(dot_s8(codes(i), yq)), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

PENSER_AVX2 float dot_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  return dot_blocks_q8_0(n / QK, x, static_cast<const BlockQ8_0*>(a), [x](int64_t i) PENSER_AVX2 {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs));
  });
}

PENSER_AVX2 float dot_q4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  return dot_blocks_q8_0(n / QK, x, static_cast<const BlockQ8_0*>(a), [x](int64_t i) PENSER_AVX2 {
    return _mm256_sub_epi8(nibbles_32(x[i].qs), _mm256_set1_epi8(8));
  });
}

// Bit j of the 32-bit mask -> byte j is 0xff when set.
PENSER_AVX2 inline __m256i bits_to_bytes(uint32_t bits) {
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)), shuf);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201));
  return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

PENSER_AVX2 float dot_q5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  return dot_blocks_q8_0(n / QK, x, static_cast<const BlockQ8_0*>(a), [x](int64_t i) PENSER_AVX2 {
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    // q - 16 = nibble + (bit ? 16 : 0) - 16 = nibble - (bit ? 0 : 16)
    const __m256i nohigh = _mm256_andnot_si256(bits_to_bytes(qh), _mm256_set1_epi8(16));
    return _mm256_sub_epi8(nibbles_32(x[i].qs), nohigh);
  });
}

PENSER_AVX2 float dot_iq4_nl(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  return dot_blocks_q8_0(n / QK, x, static_cast<const BlockQ8_0*>(a), [x, table](int64_t i) PENSER_AVX2 {
    return _mm256_shuffle_epi8(table, nibbles_32(x[i].qs));
  });
}

// 32-blocks with a min (Q4_1, Q5_1) x Q8_1: sum (d q + m)(dy y) = d dy sum(q y) + m * s, s = dy sum(y).
// Codes are unsigned (0..31), so maddubs takes them directly.
template <typename Block, typename Codes>
PENSER_AVX2 inline float dot_blocks_q8_1(int64_t nb, const Block* x, const BlockQ8_1* y, Codes codes) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  float mins = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs));
    const __m256i sum = _mm256_madd_epi16(_mm256_maddubs_epi16(codes(i), yq), ones);
    const __m256 d = _mm256_set1_ps(h2f(x[i].d) * h2f(y[i].d));
    if (i & 1)
      acc1 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sum), acc1);
    else
      acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sum), acc0);
    mins += h2f(x[i].m) * h2f(y[i].s);
  }
  return hsum(_mm256_add_ps(acc0, acc1)) + mins;
}

PENSER_AVX2 float dot_q4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  return dot_blocks_q8_1(n / QK, x, static_cast<const BlockQ8_1*>(a),
                         [x](int64_t i) PENSER_AVX2 { return nibbles_32(x[i].qs); });
}

PENSER_AVX2 float dot_q5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  return dot_blocks_q8_1(n / QK, x, static_cast<const BlockQ8_1*>(a), [x](int64_t i) PENSER_AVX2 {
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    return _mm256_or_si256(nibbles_32(x[i].qs), _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(16)));
  });
}

// ------------------------------------------------------------------ K types x Q8_K

// Q4_K / Q5_K 12-byte scales -> one vector: bytes 0-7 the 8 scales, bytes 8-15 the 8 mins (layout in
// blocks.h). Built in registers: storing 4-byte pieces and reloading them as a vector would stall on
// store forwarding.
PENSER_AVX2 inline __m128i k4_scales_mins(const uint8_t* s) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, s, 4), std::memcpy(&w1, s + 4, 4), std::memcpy(&w2, s + 8, 4);
  const uint32_t s03 = w0 & 0x3f3f3f3f, m03 = w1 & 0x3f3f3f3f;
  const uint32_t s47 = (w2 & 0x0f0f0f0f) | (((w0 >> 6) & 0x03030303) << 4);
  const uint32_t m47 = ((w2 >> 4) & 0x0f0f0f0f) | (((w1 >> 6) & 0x03030303) << 4);
  return _mm_set_epi32(int(m47), int(m03), int(s47), int(s03));
}

// Sum over the 8 sub-blocks of mins[j] * (bsums[2j] + bsums[2j+1]); mins in bytes 8-15 of sm.
PENSER_AVX2 inline int k4_min_sum(__m128i sm, const int16_t* bsums) {
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums));
  const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
  const __m128i m = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
  __m128i p = _mm_madd_epi16(m, pair);
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
  return _mm_cvtsi128_si32(p);
}

PENSER_AVX2 float dot_q4_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sm = k4_scales_mins(x[i].scales);
    acc_min += y[i].d * h2f(x[i].dmin) * float(k4_min_sum(sm, y[i].bsums));
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c + 32));
      const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(q, m4), y0);
      const __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), y1);
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, word_scale(sc16, 2 * c)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, word_scale(sc16, 2 * c + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_min;
}

PENSER_AVX2 float dot_q5_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i sm = k4_scales_mins(x[i].scales);
    acc_min += y[i].d * h2f(x[i].dmin) * float(k4_min_sum(sm, y[i].bsums));
    const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * c));
      // Sub-block j takes bit j of qh[l] as its 5th bit (16).
      const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one), 4);
      const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one), 4);
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
      const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c));
      const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 64 * c + 32));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q0, y0), word_scale(sc16, 2 * c)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q1, y1), word_scale(sc16, 2 * c + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_min;
}

PENSER_AVX2 float dot_q6_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const int8_t* sc = x[i].scales;
    // Codes are stored as q + 32 (0..63): sum sc * (q + 32) * y, then take off 32 * sc * bsum.
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
    sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i half_sc = h == 0 ? lanes_lo(sc16) : lanes_hi(sc16);
      const __m256i la = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].ql + 64 * h));
      const __m256i lb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * h));
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(la, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(lb, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
      const int8_t* yq = y[i].qs + 128 * h;
      const __m256i p0 = _mm256_maddubs_epi16(q0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yq)));
      const __m256i p1 = _mm256_maddubs_epi16(q1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yq + 32)));
      const __m256i p2 = _mm256_maddubs_epi16(q2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yq + 64)));
      const __m256i p3 = _mm256_maddubs_epi16(q3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yq + 96)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, pair_scales(half_sc, 0)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, pair_scales(half_sc, 1)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p2, pair_scales(half_sc, 2)));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p3, pair_scales(half_sc, 3)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

// Sum over the 16 groups of scale[g] * bsums[g] (both as 16 x s16).
PENSER_AVX2 inline int scaled_bsum(__m256i sc16, const int16_t* bsums) {
  const __m256i p = _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

PENSER_AVX2 float dot_q2_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  float acc_min = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f)));
    acc_min += y[i].d * h2f(x[i].dmin) * float(scaled_bsum(mins16, y[i].bsums));
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, _mm_set1_epi8(0x0f)));
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i half_sc = h == 0 ? lanes_lo(sc16) : lanes_hi(sc16);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const __m256i codes = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * h + 32 * s));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(codes, yq), pair_scales(half_sc, s)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc) - acc_min;
}

// Q3_K scales (layout in blocks.h) as 16 signed bytes, built in registers from three words.
PENSER_AVX2 inline __m128i q3k_scales_vec(const uint8_t* s) {
  uint32_t w0, w1, w2;
  std::memcpy(&w0, s, 4), std::memcpy(&w1, s + 4, 4), std::memcpy(&w2, s + 8, 4);
  const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
  const __m128i u = _mm_set_epi32(int(((w1 >> 4) & m4) | (((w2 >> 6) & m2) << 4)),
                                  int(((w0 >> 4) & m4) | (((w2 >> 4) & m2) << 4)),
                                  int((w1 & m4) | (((w2 >> 2) & m2) << 4)), int((w0 & m4) | ((w2 & m2) << 4)));
  return _mm_sub_epi8(u, _mm_set1_epi8(32));
}

PENSER_AVX2 float dot_q3_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    // Codes v = 2 low bits + 4 * high bit (0..7) stand for v - 4: take off 4 * sc * bsum at the end.
    const __m256i sc16 = _mm256_cvtepi8_epi16(q3k_scales_vec(x[i].scales));
    __m256i sumi = _mm256_setr_epi32(-4 * scaled_bsum(sc16, y[i].bsums), 0, 0, 0, 0, 0, 0, 0);
    const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].hmask));
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i half_sc = h == 0 ? lanes_lo(sc16) : lanes_hi(sc16);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + 32 * h));
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const int bit = 4 * h + s;  // element 128h + 32s + l: hmask byte l, this bit
        const __m256i hb = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hm, bit), one), 2);
        const __m256i codes = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3), hb);
        const __m256i yq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 128 * h + 32 * s));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(codes, yq), pair_scales(half_sc, s)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(x[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

PENSER_AVX2 float dot_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < QK_K; j += 32) {
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qs + j));
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + j));
      sumi = _mm256_add_epi32(sumi, dot_s8(qx, qy));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(x[i].d * y[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

PENSER_AVX2 float dot_iq4_xs(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const BlockIQ4_XS& b = x[i];
    const __m256i sc16 = _mm256_broadcastsi128_si256(
        _mm_setr_epi16(int16_t(iq4xs_scale(b, 0)), int16_t(iq4xs_scale(b, 1)), int16_t(iq4xs_scale(b, 2)),
                       int16_t(iq4xs_scale(b, 3)), int16_t(iq4xs_scale(b, 4)), int16_t(iq4xs_scale(b, 5)),
                       int16_t(iq4xs_scale(b, 6)), int16_t(iq4xs_scale(b, 7))));
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int ib = 0; ib < 8; ++ib) {
      const __m256i qx = _mm256_shuffle_epi8(table, nibbles_32(b.qs + 16 * ib));
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs + 32 * ib));
      // Table values are signed: move their sign onto the activations for maddubs (|value| <= 127).
      const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, word_scale(sc16, ib)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(y[i].d * h2f(b.d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum(acc);
}

}  // namespace

// CPUID leaf 1: ECX bit 12 FMA, 27 OSXSAVE, 28 AVX, 29 F16C; leaf 7: EBX bit 5 AVX2; XCR0 bits 1-2: the OS
// saves SSE and AVX state. (__builtin_cpu_supports("f16c") is not known to every compiler.)
bool cpu_has_avx2_fma_f16c() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
  if (!(fma && osxsave && avx && f16c)) return false;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 6) != 6) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return b & (1u << 5);
}

DotFn simd_kernel(Type t) {
  static const bool avx2 = cpu_has_avx2_fma_f16c();
  if (!avx2) return nullptr;
  switch (t) {
    case Type::F32: return dot_f32;
    case Type::F16: return dot_f16;
    case Type::BF16: return dot_bf16;
    case Type::Q4_0: return dot_q4_0;
    case Type::Q4_1: return dot_q4_1;
    case Type::Q5_0: return dot_q5_0;
    case Type::Q5_1: return dot_q5_1;
    case Type::Q8_0: return dot_q8_0;
    case Type::IQ4_NL: return dot_iq4_nl;
    case Type::Q2_K: return dot_q2_k;
    case Type::Q3_K: return dot_q3_k;
    case Type::Q4_K: return dot_q4_k;
    case Type::Q5_K: return dot_q5_k;
    case Type::Q6_K: return dot_q6_k;
    case Type::Q8_K: return dot_q8_k;
    case Type::IQ4_XS: return dot_iq4_xs;
    default: return nullptr;
  }
}

}  // namespace penser::quant::detail

#else  // not x86-64 with GCC/Clang: the scalar kernels serve every type

namespace penser::quant::detail {
bool cpu_has_avx2_fma_f16c() { return false; }
DotFn simd_kernel(Type) { return nullptr; }
}  // namespace penser::quant::detail

#endif
