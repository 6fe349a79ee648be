// Internal: the byte layout of each quant block (ggml's format, ggml-common.h) and the small unpacking
// helpers the dequantizers, quantizers and dot kernels share. Every struct is exactly its file size.
#pragma once

#include <cstdint>

#include "inference/quant/quant.h"

namespace penser::quant::detail {

constexpr int QK = 32;    // elements in a "legacy" block
constexpr int QK_K = 256; // elements in a K super-block

struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };                  // x = d * (nibble - 8)
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };               // x = d * nibble + m
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };   // x = d * (5-bit q - 16)
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };// x = d * q + m
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };                   // x = d * q
struct BlockQ8_1 { uint16_t d, s; int8_t qs[32]; };                // x = d * q; s = d * sum(q)
// Nibble layout of the 32-blocks: byte j holds element j (low nibble) and element j + 16 (high).
// Q5: bit j of the little-endian u32 qh is the 5th bit of element j.

// 16 sub-blocks of 16: x = d * (scale & 15) * q - dmin * (scale >> 4), q in 0..3.
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
// 16 sub-blocks of 16: x = d * (s6 - 32) * (q - (hbit ? 0 : 4)), q in 0..3, 6-bit scales packed in 12 bytes.
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
// 8 sub-blocks of 32: x = d * sc * q - dmin * m, sc and m 6-bit packed in 12 bytes, q in 0..15.
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
// As Q4_K with a 5th bit per element in qh.
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
// 16 sub-blocks of 16: x = d * scale * (q - 32), q 6 bits: low 4 in ql, high 2 in qh.
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
// Activations: x = d * q; bsums[i] = sum of q over elements 16i..16i+15.
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };
// A nibble indexes kIq4nlValues; x = d * value. IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (minus 32).
struct BlockIQ4_NL { uint16_t d; uint8_t qs[16]; };
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136);
static_assert(alignof(BlockQ4_K) == 2 && alignof(BlockQ8_K) == 4);

// IQ4_NL / IQ4_XS code book (ggml-common.h kvalues_iq4nl).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Q4_K / Q5_K: scale and min of sub-block j (0..7), 6 bits each. Bytes 0-3: scales 0-3 (low 6 bits),
// bytes 4-7: mins 0-3; bytes 8-11: low nibble scale 4-7, high nibble min 4-7, whose top 2 bits sit in
// the top 2 bits of bytes 0-3 (scales) and 4-7 (mins).
inline void k4_scale_min(int j, const uint8_t* s, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = uint8_t((s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4));
    m = uint8_t((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q3_K: the 16 signed scales (6-bit value - 32). Scale i: low 4 bits in byte i % 8 (low nibble for
// i < 8, high nibble for i >= 8); high 2 bits in byte 8 + i % 4 at bit 2 * (i / 4).
inline void q3k_scales(const uint8_t* s, int8_t out[16]) {
  for (int i = 0; i < 16; ++i) {
    const int lo = i < 8 ? (s[i] & 0xf) : (s[i - 8] >> 4);
    const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
    out[i] = int8_t((lo | (hi << 4)) - 32);
  }
}

// IQ4_XS: 6-bit scale of sub-block ib (0..7), minus 32.
inline int iq4xs_scale(const BlockIQ4_XS& b, int ib) {
  const int lo = (b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xf;
  const int hi = (b.scales_h >> (2 * ib)) & 3;
  return (lo | (hi << 4)) - 32;
}

// Dot kernel signature: n elements of a weight row against an activation row of vec_dot_type.
using DotFn = float (*)(int64_t n, const void* w, const void* a);

// x86-64: the CPU and OS support AVX2, FMA and F16C (the SIMD kernels' set). False elsewhere.
bool cpu_has_avx2_fma_f16c();
DotFn scalar_kernel(Type weight_type);
DotFn simd_kernel(Type weight_type);  // nullptr where no SIMD kernel applies on this CPU

}  // namespace penser::quant::detail
