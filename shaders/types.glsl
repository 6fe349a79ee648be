// Weight block layouts, defined once. The including shader declares `data_a` (the weight tensor read as
// 16-bit words: every block size here is even) and compiles with exactly one DATA_A_<TYPE> defined.
//
// Quantized types expose:
//   QK          elements per block;  BLOCK_U16  block size in 16-bit words
//   unit_scales(bb, u)    -> (a0, b0, a1, b1) of the 32-element unit u of the block starting at word bb
//   unit_q4(bb, u, j4)    -> the raw quants of elements u*32 + j4*4 .. +3 (j4 in 0..7), as floats
//   dequant4(bb, u, j4)   -> their values: q * a + b (a0/b0 for j4 < 4, a1/b1 after)
// Plain types (F32, F16, BF16) define A_PLAIN and element(row_base_u16, i).
// Layouts follow ggml's block structs (ggml-common.h); offsets below are in bytes within a block.
// A shader may define A_WORDS32 and declare `data_a32` (binding 0 as 32-bit words) for types whose block size
// is a multiple of 4 bytes: rd32 then reads one word (bb even, byte_off a multiple of 4 wherever it is used).

uint rd16(uint bb, uint byte_off) { return uint(data_a[bb + (byte_off >> 1)]); }
#if defined(A_WORDS32)
uint rd32(uint bb, uint byte_off) { return data_a32[(bb >> 1) + (byte_off >> 2)]; }
#else
// 4 bytes at an even byte offset, little-endian.
uint rd32(uint bb, uint byte_off) {
  const uint w = bb + (byte_off >> 1);
  return uint(data_a[w]) | (uint(data_a[w + 1]) << 16);
}
#endif
uint rd8(uint bb, uint byte_off) { return (rd16(bb, byte_off & ~1u) >> ((byte_off & 1u) * 8u)) & 0xFFu; }
float rdf16(uint bb, uint byte_off) { return unpackHalf2x16(rd16(bb, byte_off)).x; }
// The four bytes of w as floats, converted from signed integers: the values fit, and a CPU without
// AVX-512 (lavapipe on x86) has one instruction for signed int -> float but a 5-instruction sequence for
// unsigned.
vec4 bytes4(uint w) { return vec4(ivec4(w & 0xFFu, (w >> 8) & 0xFFu, (w >> 16) & 0xFFu, w >> 24)); }
vec4 sbytes4(uint w) {
  const int s = int(w);
  return vec4(bitfieldExtract(s, 0, 8), bitfieldExtract(s, 8, 8), bitfieldExtract(s, 16, 8), bitfieldExtract(s, 24, 8));
}

#if defined(DATA_A_F32)
#define A_PLAIN 1
float element(uint rb, uint i) { return uintBitsToFloat(uint(data_a[rb + 2 * i]) | (uint(data_a[rb + 2 * i + 1]) << 16)); }
#elif defined(DATA_A_F16)
#define A_PLAIN 1
float element(uint rb, uint i) { return unpackHalf2x16(uint(data_a[rb + i])).x; }
#elif defined(DATA_A_BF16)
#define A_PLAIN 1
float element(uint rb, uint i) { return uintBitsToFloat(uint(data_a[rb + i]) << 16); }

#elif defined(DATA_A_Q4_0)
// { f16 d; u8 qs[16]; }: element e < 16 is the low nibble of qs[e], e >= 16 the high nibble of qs[e-16].
#define QK 32
#define BLOCK_U16 9
vec4 unit_scales(uint bb, uint u) { const float d = rdf16(bb, 0); return vec4(d, -8.0 * d, d, -8.0 * d); }
vec4 unit_q4(uint bb, uint u, uint j4) { return bytes4((rd32(bb, 2 + (j4 & 3) * 4) >> ((j4 >> 2) * 4)) & 0x0F0F0F0Fu); }
#elif defined(DATA_A_Q4_1)
// { f16 d; f16 m; u8 qs[16]; }: d * q + m.
#define QK 32
#define BLOCK_U16 10
vec4 unit_scales(uint bb, uint u) { const vec2 dm = vec2(rdf16(bb, 0), rdf16(bb, 2)); return dm.xyxy; }
vec4 unit_q4(uint bb, uint u, uint j4) { return bytes4((rd32(bb, 4 + (j4 & 3) * 4) >> ((j4 >> 2) * 4)) & 0x0F0F0F0Fu); }
#elif defined(DATA_A_Q5_0) || defined(DATA_A_Q5_1)
// Q5_0 { f16 d; u8 qh[4]; u8 qs[16]; }: d * (q - 16); Q5_1 { f16 d; f16 m; u8 qh[4]; u8 qs[16]; }: d * q + m.
// The fifth bit of element e is bit e of qh.
#define QK 32
#if defined(DATA_A_Q5_0)
#define BLOCK_U16 11
#define QH_OFF 2
vec4 unit_scales(uint bb, uint u) { const float d = rdf16(bb, 0); return vec4(d, -16.0 * d, d, -16.0 * d); }
#else
#define BLOCK_U16 12
#define QH_OFF 4
vec4 unit_scales(uint bb, uint u) { const vec2 dm = vec2(rdf16(bb, 0), rdf16(bb, 2)); return dm.xyxy; }
#endif
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint q = (rd32(bb, QH_OFF + 4 + (j4 & 3) * 4) >> ((j4 >> 2) * 4)) & 0x0F0F0F0Fu;
  const uint h = rd32(bb, QH_OFF) >> (j4 * 4);
  const uint hb = ((h & 1u) << 4) | ((h & 2u) << 11) | ((h & 4u) << 18) | ((h & 8u) << 25);
  return bytes4(q | hb);
}
#elif defined(DATA_A_Q8_0)
// { f16 d; i8 qs[32]; }
#define QK 32
#define BLOCK_U16 17
vec4 unit_scales(uint bb, uint u) { const float d = rdf16(bb, 0); return vec4(d, 0.0, d, 0.0); }
vec4 unit_q4(uint bb, uint u, uint j4) { return sbytes4(rd32(bb, 2 + j4 * 4)); }
#elif defined(DATA_A_IQ4_NL) || defined(DATA_A_IQ4_XS)
// IQ4_NL { f16 d; u8 qs[16]; }: nibbles index a fixed non-linear table.
// IQ4_XS { f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]; }: 8 units of 32 with 6-bit scales (minus 32).
const float kvalues_iq4nl[16] = float[16](-127., -104., -83., -65., -49., -35., -22., -10., 1., 13., 25., 38., 53., 69., 89., 113.);
#if defined(DATA_A_IQ4_NL)
#define QK 32
#define BLOCK_U16 9
#define QS_OFF(u) 2
vec4 unit_scales(uint bb, uint u) { const float d = rdf16(bb, 0); return vec4(d, 0.0, d, 0.0); }
#else
#define QK 256
#define BLOCK_U16 68
#define QS_OFF(u) (8 + 16 * (u))
vec4 unit_scales(uint bb, uint u) {
  const uint ls = ((rd8(bb, 4 + u / 2) >> (4 * (u & 1))) & 0xFu) | (((rd16(bb, 2) >> (2 * u)) & 3u) << 4);
  const float dl = rdf16(bb, 0) * (float(ls) - 32.0);
  return vec4(dl, 0.0, dl, 0.0);
}
#endif
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint q = (rd32(bb, QS_OFF(u) + (j4 & 3) * 4) >> ((j4 >> 2) * 4)) & 0x0F0F0F0Fu;
  return vec4(kvalues_iq4nl[q & 0xFu], kvalues_iq4nl[(q >> 8) & 0xFu], kvalues_iq4nl[(q >> 16) & 0xFu],
              kvalues_iq4nl[q >> 24]);
}
#elif defined(DATA_A_Q2_K)
// { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin; }: 2-bit values, 16 sub-blocks of 16 with 4-bit scale and min.
// Element i: half n = i/128, j = (i%128)/32 picks the bit pair (shift 2j), l = i%32 picks qs[n*32 + l].
#define QK 256
#define BLOCK_U16 42
vec4 unit_scales(uint bb, uint u) {
  const uint n = u >> 2, j = u & 3u;
  const float d = rdf16(bb, 80), dmin = rdf16(bb, 82);
  const uint s0 = rd8(bb, n * 8 + j * 2), s1 = rd8(bb, n * 8 + j * 2 + 1);
  return vec4(d * float(s0 & 0xFu), -dmin * float(s0 >> 4), d * float(s1 & 0xFu), -dmin * float(s1 >> 4));
}
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint n = u >> 2, j = u & 3u;
  return bytes4((rd32(bb, 16 + n * 32 + j4 * 4) >> (2 * j)) & 0x03030303u);
}
#elif defined(DATA_A_Q3_K)
// { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d; }: 2 low bits as Q2_K, the third from hmask (a clear bit
// subtracts 4), 16 6-bit scales packed in 12 bytes (minus 32).
#define QK 256
#define BLOCK_U16 55
float q3k_scale(uint bb, uint is) {
  const uint lo = is < 8 ? (rd8(bb, 96 + is) & 0xFu) : (rd8(bb, 96 + is - 8) >> 4);
  const uint hi = (rd8(bb, 96 + 8 + (is & 3u)) >> (2 * (is >> 2))) & 3u;
  return float(lo | (hi << 4)) - 32.0;
}
vec4 unit_scales(uint bb, uint u) {
  const uint is = (u >> 2) * 8 + (u & 3u) * 2;
  const float d = rdf16(bb, 108);
  return vec4(d * q3k_scale(bb, is), 0.0, d * q3k_scale(bb, is + 1), 0.0);
}
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint n = u >> 2, j = u & 3u, e0 = j4 * 4;
  const vec4 q = bytes4((rd32(bb, 32 + n * 32 + e0) >> (2 * j)) & 0x03030303u);
  const vec4 h = bytes4((rd32(bb, e0) >> u) & 0x01010101u);
  return q - 4.0 * (1.0 - h);
}
#elif defined(DATA_A_Q4_K) || defined(DATA_A_Q5_K)
// Q4_K { f16 d; f16 dmin; u8 scales[12]; u8 qs[128]; }, Q5_K adds u8 qh[32] before qs: 8 units of 32, each
// with a 6-bit scale and min packed in `scales`; unit u takes nibble u%2 of qs[(u/2)*32 + l] (Q5_K: plus
// bit u of qh[l] as the fifth bit).
#define QK 256
#if defined(DATA_A_Q4_K)
#define BLOCK_U16 72
#define QS_OFF 16
#else
#define BLOCK_U16 88
#define QS_OFF 48
#endif
vec4 unit_scales(uint bb, uint u) {
#if defined(A_WORDS32)
  // The same bytes as below, taken from the block's first four words (4 loads instead of 6-8).
  const vec2 dm = unpackHalf2x16(rd32(bb, 0));
  const uint sh = (u & 3u) * 8u;
  const uint s_lo = (rd32(bb, 4) >> sh) & 0xFFu, m_lo = (rd32(bb, 8) >> sh) & 0xFFu;
  vec2 sm;
  if (u < 4) {
    sm = vec2(s_lo & 63u, m_lo & 63u);
  } else {
    const uint h = (rd32(bb, 12) >> sh) & 0xFFu;
    sm = vec2((h & 0xFu) | ((s_lo >> 6) << 4), (h >> 4) | ((m_lo >> 6) << 4));
  }
  const vec2 r = vec2(dm.x * sm.x, -dm.y * sm.y);
  return r.xyxy;
#else
  vec2 sm;
  if (u < 4) sm = vec2(rd8(bb, 4 + u) & 63u, rd8(bb, 4 + u + 4) & 63u);
  else sm = vec2((rd8(bb, 4 + u + 4) & 0xFu) | ((rd8(bb, 4 + u - 4) >> 6) << 4),
                 (rd8(bb, 4 + u + 4) >> 4) | ((rd8(bb, 4 + u) >> 6) << 4));
  const vec2 r = vec2(rdf16(bb, 0) * sm.x, -rdf16(bb, 2) * sm.y);
  return r.xyxy;
#endif
}
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint e0 = j4 * 4;
  vec4 q = bytes4((rd32(bb, QS_OFF + (u >> 1) * 32 + e0) >> ((u & 1u) * 4)) & 0x0F0F0F0Fu);
#if defined(DATA_A_Q5_K)
  q += 16.0 * bytes4((rd32(bb, 16 + e0) >> u) & 0x01010101u);
#endif
  return q;
}
#elif defined(DATA_A_Q6_K)
// { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d; }: 6-bit values minus 32. Element i: half n = i/128,
// quarter k = (i%128)/32, l = i%32: low nibble from ql[n*64 + (k&1)*32 + l] (high nibble when k >= 2),
// 2 high bits from qh[n*32 + l] >> 2k, scale scales[n*8 + l/16 + 2k].
#define QK 256
#define BLOCK_U16 105
vec4 unit_scales(uint bb, uint u) {
  const uint n = u >> 2, k = u & 3u;
  const float d = rdf16(bb, 208);
  const float s0 = float(bitfieldExtract(int(rd8(bb, 192 + n * 8 + 2 * k)), 0, 8));
  const float s1 = float(bitfieldExtract(int(rd8(bb, 192 + n * 8 + 1 + 2 * k)), 0, 8));
  return vec4(d * s0, 0.0, d * s1, 0.0);
}
vec4 unit_q4(uint bb, uint u, uint j4) {
  const uint n = u >> 2, k = u & 3u, e0 = j4 * 4;
  const uint lo = (rd32(bb, n * 64 + (k & 1u) * 32 + e0) >> ((k >> 1) * 4)) & 0x0F0F0F0Fu;
  const uint hi = (rd32(bb, 128 + n * 32 + e0) >> (2 * k)) & 0x03030303u;
  return bytes4(lo | (hi << 4)) - 32.0;
}
#else
#error "define one DATA_A_<TYPE>"
#endif

#if !defined(A_PLAIN)
// Value = q * a + b, with (a, b) = scales.xy for the unit's first 16 elements and scales.zw for the last 16
// (the 16-element sub-blocks of Q2_K, Q3_K and Q6_K; the same pair twice for the others).
vec4 dequant4(uint bb, uint u, uint j4) {
  const vec4 s = unit_scales(bb, u);
  return j4 < 4 ? unit_q4(bb, u, j4) * s.x + s.y : unit_q4(bb, u, j4) * s.z + s.w;
}
#endif
