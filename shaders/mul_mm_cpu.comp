#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
// Y[n, r] = dot(A[r, :], X[n, :]) (+ bias[r]) (+ Y[n, r]): mul_mm.comp's product for CPU implementations
// (lavapipe), Q4_K and Q6_K, and Q5_K and Q8_0 interleaved (A_IL), on devices with shaderInt64 (Ops::mul_mm
// picks it).
// Why not mul_mm.comp's shared-memory tiles: llvmpipe turns every load of a lane-varying address (SSBO and
// shared memory alike) into a loop over the 8 lanes, one scalar load per component, so a load costs per
// component, not per byte, and a tile through shared memory is loaded twice. Here each invocation reads
// its weights straight from the buffer as 8-byte components, decodes them in registers and multiplies each
// value into NT tokens; it owns NR rows so that each read of x serves NR rows. Per 64 Q4_K values and
// invocation: 4.5 NR weight loads + 32 NT x loads (x as 8-byte components too) for 64 NR NT FMAs.
// With SHARE, the invocations of a subgroup (lanes: rows) split the loads of x, which they all need, and
// pass the values round with subgroupBroadcast (on llvmpipe an element extract and a splat): x costs 1/SHARE
// of its loads. No shared memory, no barriers. The NR x NT sums stay in arrays indexed only by unrolled loops.
#extension GL_KHR_shader_subgroup_ballot : enable
#include "common.glsl"

layout(constant_id = 2) const uint NR = 8;       // weight rows per invocation (rows tid + i * WG_SIZE)
layout(constant_id = 3) const uint NT = 4;       // tokens per invocation (the workgroup's tokens)
// 1: x_offset and x_stride are even: x read as 8-byte pairs; 2: multiples of 8: runs of 8 values read as one
// u64vec4 (a CPU implementation's per-component loop costs less per component for wide loads).
layout(constant_id = 4) const uint X_EVEN = 0;
// The subgroup size (8, 16 or 32: a lane holds at most 8 pairs of a 64-pair chunk) when its lanes share the
// x loads (the host checks X_EVEN and whole subgroups), 1 when every invocation loads its own.
layout(constant_id = 5) const uint SHARE = 1;
// 1: SwiGLU folded into the output (Ops::mul_mm with swiglu_out): A is the merged [gate | up], p.nrows gate
// rows then as many up rows in the same binding, and Y[n, r] = silu(gate_r . X[n]) * (up_r . X[n]). An
// invocation's NR rows (even) are NR / 2 gate rows and their up rows: the pair meets in its sums.
layout(constant_id = 6) const uint SWIGLU = 0;
const uint NR_OUT = SWIGLU != 0 ? NR / 2 : NR;  // output rows per invocation

layout(binding = 0) readonly buffer A { uint16_t data_a[]; };
layout(binding = 0) readonly buffer A64 { uint64_t a64[]; };
layout(binding = 0) readonly buffer A128 { u64vec2 a128[]; };  // Q4_K: rows 16-byte aligned (the host checks)
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer X64 { uint64_t x64[]; };
layout(binding = 1) readonly buffer X256 { u64vec4 x256[]; };
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer B { float bias[]; };

// Mirror: penser::vulkan::MulMmPush
layout(push_constant) uniform Push {
  uint ncols;
  uint nrows;
  uint n_tokens;
  uint row_stride;  // 16-bit words per row of A
  uint a_offset;    // 16-bit words from the binding's start to row 0
  uint x_offset;
  uint x_stride;
  uint y_offset;
  uint y_stride;
  uint flags;       // 1: add bias[bias_offset + row]; 2: add to Y
  uint bias_offset;
} p;

// x[i], x[i + 1]: one 8-byte load when X_EVEN (every i below is then even: x_offset + n * x_stride plus an
// even number), else two 4-byte ones.
vec2 x2(uint i) {
  if (X_EVEN != 0) return uintBitsToFloat(unpack32(x64[i >> 1]));
  return vec2(x[i], x[i + 1]);
}

// x over a chunk of 2 * CP values from float f0 for one token, as CP pairs. With SHARE, lane l loads pairs
// m * SHARE + l (m < CP / SHARE) into held[m] and xpair broadcasts pair w from lane w % SHARE; else xpair
// loads it. Call xpair with constant w, in uniform control flow.
void xhold(out vec2 held[8], uint f0, uint CP) {
  [[unroll]] for (uint m = 0; m < 8; ++m)
    held[m] = SHARE > 1 && m < CP / SHARE ? x2(f0 + 2 * (m * SHARE + gl_SubgroupInvocationID)) : vec2(0.0);
}
vec2 xpair(const vec2 held[8], uint f0, uint w) {
  if (SHARE > 1) return subgroupBroadcast(held[w / SHARE], w % SHARE);
  return x2(f0 + 2 * w);
}
vec4 xquad(const vec2 held[8], uint f0, uint w) { return vec4(xpair(held, f0, w), xpair(held, f0, w + 1)); }
#if defined(X_TEX)
// Modules built with X_TEX (Ops::mul_mm, Options::mul_mm_x_texel): x again as a uniform texel buffer of
// 16-byte texels at binding 5, p.x_offset and p.x_stride counted from the view's start, multiples of 4 (the
// host checks). Every invocation of a workgroup reads the same x (its tokens), and lavapipe fetches a texel
// for 8 lanes with 8 straight 16-byte loads, where a storage-buffer load is a loop over the lanes with a
// bounds branch per component (docs/vulkan.md, "What a load costs").
layout(binding = 5) uniform usamplerBuffer x_tex;
void xoct(uint f, out vec4 a, out vec4 b) {
  a = uintBitsToFloat(texelFetch(x_tex, int(f >> 2)));
  b = uintBitsToFloat(texelFetch(x_tex, int(f >> 2) + 1));
}
const bool X_OCT = true;
#else
// x[f .. f + 7] with one load (X_EVEN == 2: f is a multiple of 8).
void xoct(uint f, out vec4 a, out vec4 b) {
  const u64vec4 v = x256[f >> 3];
  a = uintBitsToFloat(uvec4(unpack32(v.x), unpack32(v.y)));
  b = uintBitsToFloat(uvec4(unpack32(v.z), unpack32(v.w)));
}
const bool X_OCT = X_EVEN == 2 && SHARE == 1;
#endif

#if defined(A_IL)
#define IL_BINDING 4
#include "interleaved.glsl"
#endif

// The four bytes of w as floats (signed conversion: one instruction on AVX2, see types.glsl's bytes4).
vec4 b4(uint w) { return vec4(ivec4(w & 0xFFu, (w >> 8) & 0xFFu, (w >> 16) & 0xFFu, w >> 24)); }

// The four bytes of w as signed values (Q8_0's quants).
vec4 sb4(uint w) { return vec4(ivec4(int(w << 24u), int(w << 16u), int(w << 8u), int(w)) >> 24); }

#if defined(DATA_A_Q6_K)
// 8 bytes at an even byte offset of the binding from the two 8-byte words lo, hi that cover them, s = 8 x
// the offset's remainder mod 8 (Q6_K blocks are 210 bytes, so a block starts at any even offset).
uvec2 funnel(uint64_t lo, uint64_t hi, uint s) {
  return unpack32(s == 0u ? lo : (lo >> s) | ((hi << (63u - s)) << 1u));  // no shift by 64
}
#endif

// Row slot i of the invocation whose first output row is rbase (rows rbase + i * WG_SIZE): the row of A it
// reads, clamped (read, never written); with SWIGLU slots NR_OUT.. are the up rows of slots 0...
uint slot_row(uint rbase, uint i) {
  const uint o = min(rbase + (i % NR_OUT) * WG_SIZE, p.nrows - 1u);
  return SWIGLU != 0 && i >= NR_OUT ? o + p.nrows : o;
}

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint rbase = gl_WorkGroupID.x * WG_SIZE * NR_OUT + tid;
  const uint n0 = gl_WorkGroupID.y * NT;
  // Rows and tokens past the end are clamped (read, never written): no branch around the loads.
  uint xb[NT];
  [[unroll]] for (uint t = 0; t < NT; ++t) xb[t] = p.x_offset + min(n0 + t, p.n_tokens - 1u) * p.x_stride;
  float acc[NR * NT];
  [[unroll]] for (uint i = 0; i < NR * NT; ++i) acc[i] = 0.0;
  const uint nb = p.ncols / 256;

#if defined(DATA_A_Q4_K) || (defined(DATA_A_Q5_K) && defined(A_IL))
  // { f16 d; f16 dmin; u8 scales[12]; u8 qs[128]; } = 9 16-byte units read as u64vec2 (the caller checks that
  // rows start 16-byte aligned; wide loads cost less per component). Unit pair pr (units 2pr, 2pr+1) is
  // units 1 + 2pr and 2 + 2pr: low nibbles unit 2pr, high nibbles unit 2pr+1; value = d * scale * q - dmin * min.
  // Q5_K (interleaved only: Matrix::interleaved): the same header, then u8 qh[32] (units 1-2), then the
  // quants (units 3-10): 11 units. Bit u of qh[l] is the fifth bit (16) of unit u's value l, so qh's 8 bytes
  // l = 8jj .. 8jj + 7 serve quant word jj of every pair. Read once per block and row, not per pair.
#if defined(DATA_A_Q5_K)
  const uint BU = 11, QU = 3;  // units per block, the quants' first unit
#else
  const uint BU = 9, QU = 1;
#endif
  uint rw[NR];  // each row's first 16-byte unit (A_IL: its first texel; unit k is then texel rw + 8 k)
#if defined(A_IL)
  [[unroll]] for (uint i = 0; i < NR; ++i) rw[i] = il_row(slot_row(rbase, i));
#define A_UNIT(rw, k) il_texel64((rw) + (k) * 8)
#else
  [[unroll]] for (uint i = 0; i < NR; ++i)
    rw[i] = (p.a_offset >> 3) + slot_row(rbase, i) * (p.row_stride >> 3);
#define A_UNIT(rw, k) a128[(rw) + (k)]
#endif
  for (uint b = 0; b < nb; ++b) {
    uvec4 hd[NR];  // d|dmin, scale bytes 0-3, 4-7, 8-11
    [[unroll]] for (uint i = 0; i < NR; ++i) {
      const u64vec2 h = A_UNIT(rw[i], b * BU);
      hd[i] = uvec4(unpack32(h.x), unpack32(h.y));
    }
#if defined(DATA_A_Q5_K)
    u64vec2 qh[NR * 2];  // row i's qh bytes 0-15 at [2i], 16-31 at [2i + 1]
    [[unroll]] for (uint i = 0; i < NR; ++i) {
      qh[2 * i] = A_UNIT(rw[i], b * BU + 1);
      qh[2 * i + 1] = A_UNIT(rw[i], b * BU + 2);
    }
#endif
    // Rolled (a loop, not unrolled): the body is already NR x NT-wide, and each of llvmpipe's loads is a loop
    // over the lanes; unrolled, LLVM took ~17 s to compile the module on a cold shader cache (over a minute on
    // a loaded machine: past the fence timeout of the first dispatch, where llvmpipe compiles). pr only feeds
    // arithmetic and offsets, so nothing indexed by it leaves registers.
    [[dont_unroll]] for (uint pr = 0; pr < 4; ++pr) {
      u64vec2 qa[NR], qb[NR];  // the pair's 32 quant bytes per row
      [[unroll]] for (uint i = 0; i < NR; ++i) {
        qa[i] = A_UNIT(rw[i], b * BU + QU + pr * 2);
        qb[i] = A_UNIT(rw[i], b * BU + QU + 1 + pr * 2);
      }
      vec4 sc[NR];  // (a, b) of unit 2pr, (a, b) of unit 2pr + 1
      [[unroll]] for (uint i = 0; i < NR; ++i) {
        const vec2 dm = unpackHalf2x16(hd[i].x);
        const uint w1 = hd[i].y, w2 = hd[i].z, w3 = hd[i].w, sh0 = ((2u * pr) & 3u) * 8u, sh1 = sh0 + 8u;
        uvec4 s;  // scale 2pr, min 2pr, scale 2pr+1, min 2pr+1
        if (pr < 2) {
          s = uvec4((w1 >> sh0) & 63u, (w2 >> sh0) & 63u, (w1 >> sh1) & 63u, (w2 >> sh1) & 63u);
        } else {
          s = uvec4(((w3 >> sh0) & 0xFu) | (((w1 >> sh0) >> 6 & 3u) << 4), ((w3 >> sh0) >> 4 & 0xFu) | (((w2 >> sh0) >> 6 & 3u) << 4),
                    ((w3 >> sh1) & 0xFu) | (((w1 >> sh1) >> 6 & 3u) << 4), ((w3 >> sh1) >> 4 & 0xFu) | (((w2 >> sh1) >> 6 & 3u) << 4));
        }
        const vec4 sf = vec4(ivec4(s));
        sc[i] = vec4(dm.x * sf.x, -dm.y * sf.y, dm.x * sf.z, -dm.y * sf.w);
      }
      vec2 held[NT][8];  // the pair's 64 values of x per token (32 pairs), shared or not (xhold)
      [[unroll]] for (uint t = 0; t < NT; ++t) xhold(held[t], xb[t] + b * 256 + pr * 64, 32);
      [[unroll]] for (uint jj = 0; jj < 4; ++jj) {  // quant word jj of the pair: values 8jj .. 8jj + 7 of both units
        vec4 xl0[NT], xl1[NT], xh0[NT], xh1[NT];
        [[unroll]] for (uint t = 0; t < NT; ++t) {
          const uint f0 = xb[t] + b * 256 + pr * 64;
          if (X_OCT) {
            xoct(f0 + jj * 8, xl0[t], xl1[t]);
            xoct(f0 + 32 + jj * 8, xh0[t], xh1[t]);
          } else {
            xl0[t] = xquad(held[t], f0, jj * 4);
            xl1[t] = xquad(held[t], f0, jj * 4 + 2);
            xh0[t] = xquad(held[t], f0, 16 + jj * 4);
            xh1[t] = xquad(held[t], f0, 16 + jj * 4 + 2);
          }
        }
        [[unroll]] for (uint i = 0; i < NR; ++i) {
          const uvec2 q = unpack32(jj == 0 ? qa[i].x : jj == 1 ? qa[i].y : jj == 2 ? qb[i].x : qb[i].y);
#if defined(DATA_A_Q5_K)
          // The fifth bits of units 2pr (lo) and 2pr + 1 (hi) put above the nibbles, before the one conversion.
          const uvec2 h = unpack32(jj == 0 ? qh[2 * i].x : jj == 1 ? qh[2 * i].y : jj == 2 ? qh[2 * i + 1].x : qh[2 * i + 1].y);
          const uvec2 lo5 = ((h >> (2u * pr)) & 0x01010101u) << 4, hi5 = ((h >> (2u * pr + 1u)) & 0x01010101u) << 4;
#else
          const uvec2 lo5 = uvec2(0u), hi5 = uvec2(0u);
#endif
          const vec4 s = sc[i];
          // Unit 2pr's 8 values into every token's sums, then unit 2pr + 1's: 2 vec4 of weights live, not 4
          // (as Q6_K below; 1.03-1.06x per CPU-second, docs/vulkan-history.md, "Q6_K prompt product").
          const vec4 l0 = b4((q.x & 0x0F0F0F0Fu) | lo5.x) * s.x + s.y, l1 = b4((q.y & 0x0F0F0F0Fu) | lo5.y) * s.x + s.y;
          [[unroll]] for (uint t = 0; t < NT; ++t) acc[i * NT + t] += dot(l0, xl0[t]) + dot(l1, xl1[t]);
          const vec4 h0 = b4(((q.x >> 4) & 0x0F0F0F0Fu) | hi5.x) * s.z + s.w, h1 = b4(((q.y >> 4) & 0x0F0F0F0Fu) | hi5.y) * s.z + s.w;
          [[unroll]] for (uint t = 0; t < NT; ++t) acc[i * NT + t] += dot(h0, xh0[t]) + dot(h1, xh1[t]);
        }
      }
    }
  }
#elif defined(DATA_A_Q6_K)
  // { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d; }: value = d * scale * (q - 32). Half n (128 values),
  // 8-value group g: ql[n*64 + 8g ..] holds units 0 (low nibbles) and 2 (high), ql[n*64 + 32 + 8g ..] units 1
  // and 3, qh[n*32 + 8g ..] the two top bits of all four (bits 2k of unit k); unit k's scale is
  // scales[n*8 + 2k + g/2].
  uint rb[NR];  // each row's first byte (A_IL: its first texel; blocks are then 14 texels: Matrix::interleaved)
#if defined(A_IL)
  [[unroll]] for (uint i = 0; i < NR; ++i) rb[i] = il_row(slot_row(rbase, i));
#else
  [[unroll]] for (uint i = 0; i < NR; ++i)
    rb[i] = (p.a_offset + slot_row(rbase, i) * p.row_stride) * 2u;
#endif
  for (uint b = 0; b < nb; ++b) {
    // Rolled, as Q4_K's unit pairs (compile time: ~28 s unrolled on a cold cache); n only feeds offsets.
    [[dont_unroll]] for (uint n = 0; n < 2; ++n) {
      vec4 sc[NR * 2];  // unit k's scale for groups 0-1 at [i*2].k, for groups 2-3 at [i*2 + 1].k
      [[unroll]] for (uint i = 0; i < NR; ++i) {
#if defined(A_IL)
        // d: texel 13's first 2 bytes; scales[n * 8 ..]: half n of texel 12.
        const uint tb = rb[i] + b * 14 * 8;
        const float d = unpackHalf2x16(uint(il_texel64(tb + 13 * 8).x)).x;
        const u64vec2 st = il_texel64(tb + 12 * 8);
        const uvec2 sw = unpack32(n == 0 ? st.x : st.y);
        const uvec4 s = uvec4(sw.x & 0xFFFFu, sw.x >> 16, sw.y & 0xFFFFu, sw.y >> 16);
#else
        const uint w = (rb[i] + b * 210) >> 1;  // the block's first 16-bit word
        const float d = unpackHalf2x16(uint(data_a[w + 104])).x;
        const uvec4 s = uvec4(data_a[w + 96 + n * 4], data_a[w + 97 + n * 4], data_a[w + 98 + n * 4], data_a[w + 99 + n * 4]);
#endif
        const ivec4 lo = bitfieldExtract(ivec4(s), 0, 8), hi = bitfieldExtract(ivec4(s), 8, 8);  // scales 2k, 2k + 1
        sc[i * 2] = d * vec4(lo);
        sc[i * 2 + 1] = d * vec4(hi);
      }
      // The half's 64 low-nibble bytes and 32 high-bit bytes per row as the 9 and 5 8-byte words that cover
      // them (14 loads, not 24 of two words per 8 bytes); the last words end before the block's scales.
      uint64_t lw[NR * 9], hw[NR * 5];
      [[unroll]] for (uint i = 0; i < NR; ++i) {
#if defined(A_IL)
        // ql's half: texels 4n .. 4n + 3, qh's: 8 + 2n, 9 + 2n; words at whole texels (no shift: sh below is 0).
        const uint tb = rb[i] + b * 14 * 8;
        [[unroll]] for (uint j = 0; j < 4; ++j) {
          const u64vec2 v = il_texel64(tb + (n * 4 + j) * 8);
          lw[i * 9 + 2 * j] = v.x;
          lw[i * 9 + 2 * j + 1] = v.y;
        }
        lw[i * 9 + 8] = 0ul;
        [[unroll]] for (uint j = 0; j < 2; ++j) {
          const u64vec2 v = il_texel64(tb + (8 + n * 2 + j) * 8);
          hw[i * 5 + 2 * j] = v.x;
          hw[i * 5 + 2 * j + 1] = v.y;
        }
        hw[i * 5 + 4] = 0ul;
#else
        const uint o = rb[i] + b * 210, l0 = (o + n * 64) >> 3, h0 = (o + 128 + n * 32) >> 3;
        [[unroll]] for (uint j = 0; j < 9; ++j) lw[i * 9 + j] = a64[l0 + j];
        [[unroll]] for (uint j = 0; j < 5; ++j) hw[i * 5 + j] = a64[h0 + j];
#endif
      }
      vec2 held[NT][8];  // the half's 128 values of x per token (64 pairs), shared or not (xhold)
      [[unroll]] for (uint t = 0; t < NT; ++t) xhold(held[t], xb[t] + b * 256 + n * 128, 64);
      [[unroll]] for (uint g = 0; g < 4; ++g) {
        vec4 xv[NT * 8];  // token t, unit k, half h (values 8g + 4h ..): [t*8 + k*2 + h]
        [[unroll]] for (uint t = 0; t < NT; ++t)
          [[unroll]] for (uint k = 0; k < 4; ++k) {
            const uint f0 = xb[t] + b * 256 + n * 128;
            if (X_OCT) {
              xoct(f0 + k * 32 + g * 8, xv[t * 8 + k * 2], xv[t * 8 + k * 2 + 1]);
            } else {
              xv[t * 8 + k * 2] = xquad(held[t], f0, k * 16 + g * 4);
              xv[t * 8 + k * 2 + 1] = xquad(held[t], f0, k * 16 + g * 4 + 2);
            }
          }
        [[unroll]] for (uint i = 0; i < NR; ++i) {
#if defined(A_IL)
          const uint sh = 0u;
#else
          const uint sh = ((rb[i] + b * 210) & 7u) * 8u;
#endif
          const uvec2 la = funnel(lw[i * 9 + g], lw[i * 9 + g + 1], sh);
          const uvec2 lb = funnel(lw[i * 9 + 4 + g], lw[i * 9 + 5 + g], sh), hq = funnel(hw[i * 5 + g], hw[i * 5 + g + 1], sh);
          const vec4 s = g < 2 ? sc[i * 2] : sc[i * 2 + 1];
          const vec4 m = -32.0 * s;  // (q - 32) * s as q * s + m
          // Unit by unit: its 8 values decoded, then added into every token's sums, so that 2 vec4 of weights
          // are live, not the group's 8 (32 values spilled to the stack and reloaded per token): 1.1x the
          // rate per CPU-second, and the module compiles in 0.75x the time (docs/vulkan.md, "Q6_K prompt
          // product").
          [[unroll]] for (uint k = 0; k < 4; ++k) {
            vec4 v[2];  // half h: d * scale * (q - 32)
            [[unroll]] for (uint h = 0; h < 2; ++h) {
              const uint a = h == 0 ? la.x : la.y, c = h == 0 ? lb.x : lb.y, q = h == 0 ? hq.x : hq.y;
              const uint lo = k == 0 ? a : k == 1 ? c : k == 2 ? a >> 4 : c >> 4;
              const uint hi = k == 0 ? q << 4 : k == 1 ? q << 2 : k == 2 ? q : q >> 2;
              v[h] = b4((lo & 0x0F0F0F0Fu) | (hi & 0x30303030u)) * s[k] + m[k];
            }
            [[unroll]] for (uint t = 0; t < NT; ++t)
              acc[i * NT + t] += dot(v[0], xv[t * 8 + k * 2]) + dot(v[1], xv[t * 8 + k * 2 + 1]);
          }
        }
      }
    }
  }
#elif defined(DATA_A_Q8_0) && defined(A_IL)
  // Q8_0, interleaved only (Matrix::interleaved; the file layout's Q8_0 prompts take the tiles): units of 8
  // blocks as 17 texels, the 8 f16 d's in texel 0, block k's 32 signed quants in texels 1 + 2k, 2 + 2k:
  // 3 texel fetches per block and row, no shifts.
  uint rb[NR];  // each row's first texel
  [[unroll]] for (uint i = 0; i < NR; ++i) rb[i] = il_row(slot_row(rbase, i));
  const uint nblk = p.ncols / 32;
  // Rolled, as Q4_K's unit pairs (compile time): the block only feeds offsets, shifts and selects.
  [[dont_unroll]] for (uint bk = 0; bk < nblk; ++bk) {
    const uint k = bk & 7u, tu = (bk >> 3) * 17u;  // the block in its unit, the unit's first texel
    vec2 held[NT][8];  // the block's 32 values of x per token (16 pairs), shared or not (xhold)
    [[unroll]] for (uint t = 0; t < NT; ++t) xhold(held[t], xb[t] + bk * 32, 16);
    vec4 xv[NT * 8];  // token t, values 4j .. 4j + 3 at t * 8 + j
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      const uint f0 = xb[t] + bk * 32;
      [[unroll]] for (uint m = 0; m < 4; ++m) {
        if (X_OCT) {
          xoct(f0 + m * 8, xv[t * 8 + 2 * m], xv[t * 8 + 2 * m + 1]);
        } else {
          xv[t * 8 + 2 * m] = xquad(held[t], f0, m * 4);
          xv[t * 8 + 2 * m + 1] = xquad(held[t], f0, m * 4 + 2);
        }
      }
    }
    [[unroll]] for (uint i = 0; i < NR; ++i) {
      const u64vec2 dt = il_texel64(rb[i] + tu * 8);
      const float d = unpackHalf2x16(uint((k < 4u ? dt.x : dt.y) >> ((k & 3u) * 16u)) & 0xFFFFu).x;
      const u64vec2 a = il_texel64(rb[i] + (tu + 1u + 2u * k) * 8), b = il_texel64(rb[i] + (tu + 2u + 2u * k) * 8);
      const uvec2 u[4] = uvec2[4](unpack32(a.x), unpack32(a.y), unpack32(b.x), unpack32(b.y));
      vec4 q[8];
      [[unroll]] for (uint m = 0; m < 4; ++m) {
        q[2 * m] = sb4(u[m].x);
        q[2 * m + 1] = sb4(u[m].y);
      }
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        float sum = 0.0;
        [[unroll]] for (uint j = 0; j < 8; ++j) sum += dot(q[j], xv[t * 8 + j]);
        acc[i * NT + t] += d * sum;
      }
    }
  }
#else
#error "mul_mm_cpu.comp: Q4_K, Q6_K, or Q5_K or Q8_0 with A_IL"
#endif

  [[unroll]] for (uint i = 0; i < NR_OUT; ++i) {
    const uint r = rbase + i * WG_SIZE;
    if (r >= p.nrows) continue;
    const float bi = (p.flags & 1u) != 0 ? bias[p.bias_offset + r] : 0.0;
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      const uint n = n0 + t;
      if (n >= p.n_tokens) continue;
      const uint yi = p.y_offset + n * p.y_stride + r;
      const float g = acc[i * NT + t];  // swiglu.comp's f32 operations
      float v = (SWIGLU != 0 ? g / (1.0 + exp(-g)) * acc[(NR_OUT + i) * NT + t] : g) + bi;
      if ((p.flags & 2u) != 0) v += y[yi];
      y[yi] = v;
    }
  }
}
