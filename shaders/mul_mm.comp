#version 450
#extension GL_GOOGLE_include_directive : require
// Y[n, r] = dot(A[r, :], X[n, :]) (+ bias[r]) (+ Y[n, r]): the prompt's matrix-matrix product for one weight
// type. A: nrows x ncols in its file type; X: n_tokens rows of ncols f32; Y: n_tokens rows of f32.
// A workgroup computes a BM (weight rows) x BN (tokens) tile of Y: it walks K in steps of BK, dequantizing
// a BM x BK tile of A and copying a BN x BK tile of X into shared memory, so each weight is decoded once per
// BN tokens (mul_mv decodes it once per token). Each invocation accumulates TM x TN outputs in f32, rows
// and tokens strided by the invocation grid (BM/TM x BN/TN = the workgroup size, spec constant 0).
#include "common.glsl"

layout(constant_id = 2) const uint BM = 32;
layout(constant_id = 3) const uint BN = 16;
layout(constant_id = 4) const uint BK = 32;  // a multiple of 32: quantized tiles are whole 32-element units
const uint TM = 8, TN = 8;  // outputs per invocation: rows x tokens
// 1: SwiGLU folded into the output (Ops::mul_mm with swiglu_out): A is the merged [gate | up], p.nrows gate
// rows then as many up rows in the same binding, and Y[n, r] = silu(gate_r . X[n]) * (up_r . X[n]). A tile's
// BM rows are BM / 2 gate rows (slots 0 ..) and their up rows (slots BM / 2 ..): an invocation's rows
// tr + i RG are gate rows for i < 4 and the up rows of those for i >= 4 (RG = BM / 8), so it pairs its own sums.
layout(constant_id = 5) const uint SWIGLU = 0;
const uint OUT_M = SWIGLU != 0 ? BM / 2 : BM;  // output rows per tile

layout(binding = 0) readonly buffer A { uint16_t data_a[]; };
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer B { float bias[]; };

// Mirror: penser::vulkan::MulMmPush
layout(push_constant) uniform Push {
  uint ncols;
  uint nrows;       // rows of A in this dispatch (this chunk)
  uint n_tokens;
  uint row_stride;  // 16-bit words per row of A
  uint a_offset;    // 16-bit words from the binding's start to row 0 (bindings start aligned)
  uint x_offset;
  uint x_stride;    // floats between tokens of X
  uint y_offset;    // Y index of (token 0, this chunk's row 0)
  uint y_stride;    // floats between tokens of Y
  uint flags;       // 1: add bias[bias_offset + row]; 2: add to Y (fused residual)
  uint bias_offset;
} p;

#include "types.glsl"

// k-major tiles: the inner loop reads TM rows (TN tokens) of one k from consecutive words.
shared float tile_a[BK * BM];
shared float tile_x[BK * BN];

// Tile row slot r (m0: the tile's first output row): whether its output row exists, and the row of A it reads.
bool slot_ok(uint m0, uint r) { return m0 + r % OUT_M < p.nrows; }
uint slot_row(uint m0, uint r) { return m0 + r % OUT_M + (r < OUT_M ? 0u : p.nrows); }

void main() {
  const uint m0 = gl_WorkGroupID.x * OUT_M, n0 = gl_WorkGroupID.y * BN;
  const uint tid = gl_LocalInvocationID.x;
  const uint RG = BM / TM, CG = BN / TN;  // invocations along rows, along tokens
  const uint tr = tid % RG, tc = tid / RG;

  // 8 x 8 outputs in named vectors (lo: rows 0-3, hi: rows 4-7; digit: token): no array indexed in a loop,
  // which a CPU implementation may keep in memory rather than registers.
  vec4 lo0 = vec4(0.0), lo1 = vec4(0.0), lo2 = vec4(0.0), lo3 = vec4(0.0), lo4 = vec4(0.0), lo5 = vec4(0.0),
       lo6 = vec4(0.0), lo7 = vec4(0.0);
  vec4 hi0 = vec4(0.0), hi1 = vec4(0.0), hi2 = vec4(0.0), hi3 = vec4(0.0), hi4 = vec4(0.0), hi5 = vec4(0.0),
       hi6 = vec4(0.0), hi7 = vec4(0.0);

  for (uint k0 = 0; k0 < p.ncols; k0 += BK) {
#if defined(A_PLAIN)
    for (uint e = tid; e < BM * BK; e += WG_SIZE) {
      const uint r = e / BK, c = e % BK;
      float v = 0.0;
      if (slot_ok(m0, r) && k0 + c < p.ncols) v = element(p.a_offset + slot_row(m0, r) * p.row_stride, k0 + c);
      tile_a[c * BM + r] = v;
    }
#else
    // One 32-element unit per work item: its scales are decoded once.
    for (uint e = tid; e < BM * (BK / 32); e += WG_SIZE) {
      const uint r = e / (BK / 32), cu = e % (BK / 32);
      const uint u = k0 / 32 + cu;
      if (slot_ok(m0, r) && u * 32 < p.ncols) {
        const uint bb = p.a_offset + slot_row(m0, r) * p.row_stride + (u / (QK / 32)) * BLOCK_U16, sub = u % (QK / 32);
        const vec4 sc = unit_scales(bb, sub);
        for (uint j4 = 0; j4 < 8; ++j4) {
          const vec4 v = unit_q4(bb, sub, j4) * (j4 < 4 ? sc.x : sc.z) + (j4 < 4 ? sc.y : sc.w);
          const uint c = cu * 32 + j4 * 4;
          tile_a[c * BM + r] = v.x;
          tile_a[(c + 1) * BM + r] = v.y;
          tile_a[(c + 2) * BM + r] = v.z;
          tile_a[(c + 3) * BM + r] = v.w;
        }
      } else {
        for (uint c = cu * 32; c < cu * 32 + 32; ++c) tile_a[c * BM + r] = 0.0;
      }
    }
#endif
    for (uint e = tid; e < BN * BK; e += WG_SIZE) {
      const uint n = e / BK, c = e % BK;
      float v = 0.0;
      if (n0 + n < p.n_tokens && k0 + c < p.ncols) v = x[p.x_offset + (n0 + n) * p.x_stride + k0 + c];
      tile_x[c * BN + n] = v;
    }
    barrier();
    for (uint k = 0; k < BK; ++k) {
      const uint ab = k * BM + tr, xb = k * BN + tc;
      const vec4 a0 = vec4(tile_a[ab], tile_a[ab + RG], tile_a[ab + 2 * RG], tile_a[ab + 3 * RG]);
      const vec4 a1 = vec4(tile_a[ab + 4 * RG], tile_a[ab + 5 * RG], tile_a[ab + 6 * RG], tile_a[ab + 7 * RG]);
      const vec4 x0 = vec4(tile_x[xb], tile_x[xb + CG], tile_x[xb + 2 * CG], tile_x[xb + 3 * CG]);
      const vec4 x1 = vec4(tile_x[xb + 4 * CG], tile_x[xb + 5 * CG], tile_x[xb + 6 * CG], tile_x[xb + 7 * CG]);
      lo0 += a0 * x0.x; hi0 += a1 * x0.x;
      lo1 += a0 * x0.y; hi1 += a1 * x0.y;
      lo2 += a0 * x0.z; hi2 += a1 * x0.z;
      lo3 += a0 * x0.w; hi3 += a1 * x0.w;
      lo4 += a0 * x1.x; hi4 += a1 * x1.x;
      lo5 += a0 * x1.y; hi5 += a1 * x1.y;
      lo6 += a0 * x1.z; hi6 += a1 * x1.z;
      lo7 += a0 * x1.w; hi7 += a1 * x1.w;
    }
    barrier();  // the tiles are overwritten by the next step
  }

  const float acc[TM * TN] = float[TM * TN](
      lo0.x, lo1.x, lo2.x, lo3.x, lo4.x, lo5.x, lo6.x, lo7.x, lo0.y, lo1.y, lo2.y, lo3.y, lo4.y, lo5.y, lo6.y, lo7.y,
      lo0.z, lo1.z, lo2.z, lo3.z, lo4.z, lo5.z, lo6.z, lo7.z, lo0.w, lo1.w, lo2.w, lo3.w, lo4.w, lo5.w, lo6.w, lo7.w,
      hi0.x, hi1.x, hi2.x, hi3.x, hi4.x, hi5.x, hi6.x, hi7.x, hi0.y, hi1.y, hi2.y, hi3.y, hi4.y, hi5.y, hi6.y, hi7.y,
      hi0.z, hi1.z, hi2.z, hi3.z, hi4.z, hi5.z, hi6.z, hi7.z, hi0.w, hi1.w, hi2.w, hi3.w, hi4.w, hi5.w, hi6.w, hi7.w);
  for (uint i = 0; i < (SWIGLU != 0 ? TM / 2 : TM); ++i) {
    const uint r = m0 + tr + i * RG;
    if (r >= p.nrows) continue;
    const float b = (p.flags & 1u) != 0 ? bias[p.bias_offset + r] : 0.0;
    for (uint j = 0; j < TN; ++j) {
      const uint n = n0 + tc + j * CG;
      if (n >= p.n_tokens) continue;
      const uint yi = p.y_offset + n * p.y_stride + r;
      const float g = acc[i * TN + j];  // swiglu.comp's f32 operations
      float v = (SWIGLU != 0 ? g / (1.0 + exp(-g)) * acc[(TM / 2 + i) * TN + j] : g) + b;
      if ((p.flags & 2u) != 0) v += y[yi];
      y[yi] = v;
    }
  }
}
