#version 450
#extension GL_GOOGLE_include_directive : require
// Y[n, r] = dot(A[r, :], X[n, :]) (+ bias[r]) (+ Y[n, r]): the prompt's matrix-matrix product on GPUs, a
// register-blocked tiled GEMM (Ops::mul_mm, Options::mul_mm_gpu 2; mul_mm.comp is the first version, 1).
// Same bindings, push constants and tile spec constants as mul_mm.comp; what differs is where the time goes:
// - Both tiles in shared memory are row-major (a weight row's / a token's BK values contiguous) with a row
//   pitch of BK + 4 floats (4 mod 32 banks): each invocation reads its 8 rows and 8 tokens as vec4 along K,
//   16 vec4 loads per 256 FMAs (mul_mm.comp: 16 scalar loads per 64). Rows are spread over consecutive
//   invocations, so 8 lanes' vec4 reads (one 128-byte shared-memory wavefront) hit 8 different 16-byte bank
//   groups; the tokens are the same for the lanes of a warp (broadcast).
// - Filling them: X 4 values per lane, consecutive lanes along K (coalesced global reads, conflict-free
//   vec4 stores: mul_mm.comp stored X's values BN floats apart, one bank for a warp); A by 4 lanes per (row,
//   32-element unit), each lane decoding 8 values as two vec4; plain types (F32, F16, BF16) 4 values per lane.
// Latency is hidden by several workgroups per multiprocessor (the default tile takes 28 KiB of shared
// memory and 128 invocations), not by double buffering, which the 48 KiB budget does not allow at
// 128 x 64 x 32.
#include "common.glsl"

layout(constant_id = 2) const uint BM = 128;  // weight rows per workgroup, a multiple of 8
layout(constant_id = 3) const uint BN = 64;   // tokens per workgroup, a multiple of 8
layout(constant_id = 4) const uint BK = 32;   // a multiple of 32: quantized tiles are whole 32-element units
const uint TM = 8, TN = 8;                    // outputs per invocation: rows x tokens (WG_SIZE = BM/8 * BN/8)
const uint PITCH = BK + 4;                    // floats per tile row in shared memory (see above)
// 1: SwiGLU folded into the output (Ops::mul_mm's swiglu_out), as in mul_mm.comp: A is the merged [gate | up],
// p.nrows gate rows then as many up rows in the same binding, and Y[n, r] = silu(gate_r . X[n]) * (up_r . X[n]).
// A tile's BM row slots are BM / 2 gate rows (slots 0 ..) and their up rows (slots BM / 2 ..): an
// invocation's rows tr + i RG are gate rows for i < 4 and the up rows of those for i >= 4, so it pairs its
// own sums.
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

shared vec4 tile_a[BM * PITCH / 4];  // tile_a[r * PITCH/4 + k/4]: weight row r, K values k..k+3
shared vec4 tile_x[BN * PITCH / 4];  // tile_x[n * PITCH/4 + k/4]: token n

// Tile row slot r (m0: the tile's first output row): whether its output row exists, and the row of A it reads.
bool slot_ok(uint m0, uint r) { return m0 + r % OUT_M < p.nrows; }
uint slot_row(uint m0, uint r) { return m0 + r % OUT_M + (r < OUT_M ? 0u : p.nrows); }

void main() {
  const uint m0 = gl_WorkGroupID.x * OUT_M, n0 = gl_WorkGroupID.y * BN;
  const uint tid = gl_LocalInvocationID.x;
  const uint RG = BM / TM, CG = BN / TN;  // invocations along rows, along tokens
  const uint tr = tid % RG, tc = tid / RG;  // rows tr + i*RG, tokens tc + j*CG

  // 8 x 8 outputs in named vectors (lo: rows 0-3, hi: rows 4-7; digit: token): no array indexed in a loop,
  // which a CPU implementation may keep in memory rather than registers (this kernel is tested there).
  vec4 lo0 = vec4(0.0), lo1 = vec4(0.0), lo2 = vec4(0.0), lo3 = vec4(0.0), lo4 = vec4(0.0), lo5 = vec4(0.0),
       lo6 = vec4(0.0), lo7 = vec4(0.0);
  vec4 hi0 = vec4(0.0), hi1 = vec4(0.0), hi2 = vec4(0.0), hi3 = vec4(0.0), hi4 = vec4(0.0), hi5 = vec4(0.0),
       hi6 = vec4(0.0), hi7 = vec4(0.0);

  for (uint k0 = 0; k0 < p.ncols; k0 += BK) {
#if defined(A_PLAIN)
    // 4 consecutive values of a row per item; consecutive lanes along the row (coalesced).
    for (uint e = tid; e < BM * (BK / 4); e += WG_SIZE) {
      const uint r = e / (BK / 4), c = (e % (BK / 4)) * 4;
      vec4 v = vec4(0.0);
      if (slot_ok(m0, r)) {
        const uint rb = p.a_offset + slot_row(m0, r) * p.row_stride, k = k0 + c;
        if (k < p.ncols) v.x = element(rb, k);
        if (k + 1 < p.ncols) v.y = element(rb, k + 1);
        if (k + 2 < p.ncols) v.z = element(rb, k + 2);
        if (k + 3 < p.ncols) v.w = element(rb, k + 3);
      }
      tile_a[r * (PITCH / 4) + c / 4] = v;
    }
#else
    // 4 lanes per (row, unit): lane q decodes the unit's values 4q..4q+3 and 16+4q..16+4q+3 (j4 = q, q + 4:
    // the two 16-element halves, whose scales differ in Q2_K, Q3_K and Q6_K). The 4 lanes of a unit read
    // its quants from consecutive words; the scales' few bytes are read by all 4 (the same cache lines).
    for (uint e = tid; e < BM * (BK / 32) * 4; e += WG_SIZE) {
      const uint q = e % 4, ru = e / 4;
      const uint r = ru / (BK / 32), cu = ru % (BK / 32);
      const uint u = k0 / 32 + cu;
      vec4 v0 = vec4(0.0), v1 = vec4(0.0);
      if (slot_ok(m0, r) && u * 32 < p.ncols) {
        const uint bb = p.a_offset + slot_row(m0, r) * p.row_stride + (u / (QK / 32)) * BLOCK_U16, sub = u % (QK / 32);
        const vec4 sc = unit_scales(bb, sub);
        v0 = unit_q4(bb, sub, q) * sc.x + sc.y;
        v1 = unit_q4(bb, sub, q + 4) * sc.z + sc.w;
      }
      tile_a[r * (PITCH / 4) + cu * 8 + q] = v0;
      tile_a[r * (PITCH / 4) + cu * 8 + q + 4] = v1;
    }
#endif
    // 4 consecutive K values of a token per item, consecutive lanes along the token (coalesced reads), each
    // stored as one vec4 (no stores into parts of a vec4, which a compiler may turn into read-modify-writes
    // that race between lanes). Scalar reads: x's offset and stride need not be multiples of 4.
    for (uint e = tid; e < BN * (BK / 4); e += WG_SIZE) {
      const uint n = e / (BK / 4), c = (e % (BK / 4)) * 4;
      vec4 v = vec4(0.0);
      if (n0 + n < p.n_tokens) {
        const uint xi = p.x_offset + (n0 + n) * p.x_stride + k0 + c, k = k0 + c;
        if (k < p.ncols) v.x = x[xi];
        if (k + 1 < p.ncols) v.y = x[xi + 1];
        if (k + 2 < p.ncols) v.z = x[xi + 2];
        if (k + 3 < p.ncols) v.w = x[xi + 3];
      }
      tile_x[n * (PITCH / 4) + c / 4] = v;
    }
    barrier();
    const uint ab = tr * (PITCH / 4), xb = tc * (PITCH / 4);
    const uint as = RG * (PITCH / 4), xs = CG * (PITCH / 4);  // vec4s between an invocation's rows, tokens
    for (uint k4 = 0; k4 < BK / 4; ++k4) {
      // Rows 0-7 and tokens 0-7 of this invocation, K values 4*k4 .. +3.
      const vec4 a0 = tile_a[ab + k4], a1 = tile_a[ab + as + k4], a2 = tile_a[ab + 2 * as + k4],
                 a3 = tile_a[ab + 3 * as + k4], a4 = tile_a[ab + 4 * as + k4], a5 = tile_a[ab + 5 * as + k4],
                 a6 = tile_a[ab + 6 * as + k4], a7 = tile_a[ab + 7 * as + k4];
      const vec4 x0 = tile_x[xb + k4], x1 = tile_x[xb + xs + k4], x2 = tile_x[xb + 2 * xs + k4],
                 x3 = tile_x[xb + 3 * xs + k4], x4 = tile_x[xb + 4 * xs + k4], x5 = tile_x[xb + 5 * xs + k4],
                 x6 = tile_x[xb + 6 * xs + k4], x7 = tile_x[xb + 7 * xs + k4];
      // One K value c: rows 0-3 / 4-7 at c times each token's value at c (32 vec4 multiply-adds).
#define MM_STEP(c)                                                                       \
  {                                                                                      \
    const vec4 l = vec4(a0.c, a1.c, a2.c, a3.c), h = vec4(a4.c, a5.c, a6.c, a7.c);       \
    lo0 += l * x0.c; hi0 += h * x0.c; lo1 += l * x1.c; hi1 += h * x1.c;                  \
    lo2 += l * x2.c; hi2 += h * x2.c; lo3 += l * x3.c; hi3 += h * x3.c;                  \
    lo4 += l * x4.c; hi4 += h * x4.c; lo5 += l * x5.c; hi5 += h * x5.c;                  \
    lo6 += l * x6.c; hi6 += h * x6.c; lo7 += l * x7.c; hi7 += h * x7.c;                  \
  }
      MM_STEP(x) MM_STEP(y) MM_STEP(z) MM_STEP(w)
#undef MM_STEP
    }
    barrier();  // the tiles are overwritten by the next step
  }

  const float acc[TM * TN] = float[TM * TN](
      lo0.x, lo1.x, lo2.x, lo3.x, lo4.x, lo5.x, lo6.x, lo7.x, lo0.y, lo1.y, lo2.y, lo3.y, lo4.y, lo5.y, lo6.y, lo7.y,
      lo0.z, lo1.z, lo2.z, lo3.z, lo4.z, lo5.z, lo6.z, lo7.z, lo0.w, lo1.w, lo2.w, lo3.w, lo4.w, lo5.w, lo6.w, lo7.w,
      hi0.x, hi1.x, hi2.x, hi3.x, hi4.x, hi5.x, hi6.x, hi7.x, hi0.y, hi1.y, hi2.y, hi3.y, hi4.y, hi5.y, hi6.y, hi7.y,
      hi0.z, hi1.z, hi2.z, hi3.z, hi4.z, hi5.z, hi6.z, hi7.z, hi0.w, hi1.w, hi2.w, hi3.w, hi4.w, hi5.w, hi6.w, hi7.w);
  // Consecutive lanes write consecutive rows of a token (coalesced).
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
