#version 450
#extension GL_GOOGLE_include_directive : require
// Y[n, r] = dot(A[r, :], X[n, :]) (+ bias[r]) (+ Y[n, r]) on cooperative matrices (VK_NV_cooperative_matrix):
// the prompt's product of mul_mm.comp (same bindings, push constants and flags) with the multiply-adds on the
// GPU's matrix units. A workgroup of SG_M x SG_N subgroups computes a BM (weight rows) x BN (tokens) tile of
// Y; each K step of BK = 32 dequantizes A's BM x BK tile and converts X's BN x BK tile to fp16 in shared
// memory, then each subgroup multiplies its (BM / SG_M) x (BN / SG_N) share as CM_M x CM_N x CM_K matrices
// into fp32 accumulators. At the end the accumulators go through shared memory (fp32) to Y, where bias,
// accumulation and the partial tiles' bounds are applied as mul_mm.comp does.
//
// CM_EMULATED compiles the same tile walk with the three cooperative-matrix operations written as plain code
// on the same shared-memory tiles, offsets and strides (each lane of a LANES-wide "subgroup" owns
// CM_M * CM_N / LANES outputs of each accumulator): it runs on any device (lavapipe), so the dequantization
// to fp16, the tiles, partial tiles, bias/accumulate and the stores are tested where no device has the
// extension. Only the coopMat* instructions themselves are left to a device that has them.
#if !defined(CM_EMULATED)
#extension GL_NV_cooperative_matrix : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
#include "common.glsl"

layout(constant_id = 2) const uint BM = 64;     // weight rows per workgroup
layout(constant_id = 3) const uint BN = 64;     // tokens per workgroup
layout(constant_id = 4) const uint SG_M = 2;    // subgroups along the rows
layout(constant_id = 5) const uint SG_N = 2;    // subgroups along the tokens: WG_SIZE = SG_M * SG_N * LANES
layout(constant_id = 6) const uint CM_M = 16;   // one cooperative matrix product: CM_M x CM_K times CM_K x CM_N
layout(constant_id = 7) const uint CM_N = 16;   // (a shape the device lists with fp16 A/B, fp32 C/D, subgroup
layout(constant_id = 8) const uint CM_K = 16;   // scope: context.cpp)
layout(constant_id = 9) const uint LANES = 32;  // invocations per subgroup (the device's width; emulated: any
                                                // divisor of CM_M * CM_N)
// 1: SwiGLU folded into the output (Ops::mul_mm's swiglu_out), as in mul_mm.comp: A is the merged [gate | up],
// p.nrows gate rows then as many up rows in the same binding, and Y[n, r] = silu(gate_r . X[n]) * (up_r . X[n]).
// A tile's BM row slots are BM / 2 gate rows (slots 0 ..) and their up rows (slots BM / 2 ..); the output
// pass pairs slot r with slot r + BM / 2 in shared memory.
layout(constant_id = 10) const uint SWIGLU = 0;
const uint OUT_M = SWIGLU != 0 ? BM / 2 : BM;  // output rows per tile
const uint BK = 32;  // K per step: one 32-element quant unit per tile row
const uint WM = BM / SG_M, WN = BN / SG_N;           // one subgroup's share of the tile
const uint ACC_M = WM / CM_M, ACC_N = WN / CM_N;     // its accumulators along rows, along tokens
// Tile rows in shared memory: fp16 values packed 8 to a uvec4 (16 bytes: the cooperative loads' offsets and
// strides are in array elements, and whole 16-byte elements keep every matrix 16-byte aligned), each row
// padded by one uvec4 so that the subgroups' row-strided loads spread over the banks.
const uint ROW_U4 = BK / 8 + 1;

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
  uint a_offset;    // 16-bit words from the binding's start to row 0
  uint x_offset;
  uint x_stride;    // floats between tokens of X
  uint y_offset;    // Y index of (token 0, this chunk's row 0)
  uint y_stride;    // floats between tokens of Y
  uint flags;       // 1: add bias[bias_offset + row]; 2: add to Y (fused residual)
  uint bias_offset;
} p;

#include "types.glsl"

// One shared array for the three tiles: during the K walk A's tile at uvec4 0 (A[m0 + r, k0 + c] at half
// 8 * r * ROW_U4 + c: row-major (r, k)) and X's at X_BASE (likewise by token: as the K x N operand,
// column-major); after it, the accumulators' fp32 bits over both (Y's tile (r, n) at float n * BM + r,
// column-major). 64 x 64: 16 KiB, what every device has, instead of 26 KiB in three arrays.
const uint X_BASE = BM * ROW_U4;
const uint TILES_U4 = (BM + BN) * ROW_U4, OUT_U4 = BM * BN / 4;
shared uvec4 smem[TILES_U4 > OUT_U4 ? TILES_U4 : OUT_U4];

uvec4 pack8(vec4 a, vec4 b) { return uvec4(packHalf2x16(a.xy), packHalf2x16(a.zw), packHalf2x16(b.xy), packHalf2x16(b.zw)); }

#if defined(CM_EMULATED)
// A matrix operand left where it lies: a load records its place (offset and stride in uvec4s, as the
// cooperative load takes them); the multiply-add reads it.
struct MatRef { uint offset; uint stride; bool col_major; };
#define MAT_A MatRef
#define MAT_B MatRef
const uint PER_LANE = CM_M * CM_N / LANES;
float acc[ACC_M * ACC_N * PER_LANE];  // accumulator i's element (m, n) = e: lane e % LANES, slot e / LANES
uint lane() { return gl_LocalInvocationID.x % LANES; }

// Element (i, j) of a matrix in a uvec4 array of packed halves: row-major i * stride + j, column-major j * stride + i.
float half_at(uvec4 v, uint h) { const vec2 f = unpackHalf2x16(v[h / 2]); return (h & 1u) == 0 ? f.x : f.y; }
float elem(MatRef a, uint i, uint j) {
  const uint h = a.offset * 8 + (a.col_major ? j * a.stride * 8 + i : i * a.stride * 8 + j);
  return half_at(smem[h / 8], h % 8);
}
void zero_acc(uint idx) { for (uint s = 0; s < PER_LANE; ++s) acc[idx * PER_LANE + s] = 0.0; }
void load_a(out MatRef m, uint offset, uint stride, bool col_major) { m = MatRef(offset, stride, col_major); }
void load_b(out MatRef m, uint offset, uint stride, bool col_major) { m = MatRef(offset, stride, col_major); }
// acc[idx] += A (CM_M x CM_K) * B (CM_K x CM_N): fp16 operands, products and sums in fp32.
void mul_add(uint idx, MatRef a, MatRef b) {
  for (uint s = 0; s < PER_LANE; ++s) {
    const uint e = lane() + s * LANES, m = e % CM_M, n = e / CM_M;
    float t = acc[idx * PER_LANE + s];
    for (uint k = 0; k < CM_K; ++k) t += elem(a, m, k) * elem(b, k, n);
    acc[idx * PER_LANE + s] = t;
  }
}
// Accumulator idx into smem from float 4 * offset, column-major with 4 * stride floats per column.
void store_acc(uint idx, uint offset, uint stride) {
  for (uint s = 0; s < PER_LANE; ++s) {
    const uint e = lane() + s * LANES, m = e % CM_M, n = e / CM_M;
    const uint f = offset * 4 + n * stride * 4 + m;
    smem[f / 4][f % 4] = floatBitsToUint(acc[idx * PER_LANE + s]);
  }
}
uint subgroup_index() { return gl_LocalInvocationID.x / LANES; }
#else
#define MAT_A fcoopmatNV<16, 3, CM_M, CM_K>  /* 3: Subgroup scope */
#define MAT_B fcoopmatNV<16, 3, CM_K, CM_N>
fcoopmatNV<32, 3, CM_M, CM_N> acc[ACC_M * ACC_N];
void zero_acc(uint idx) { acc[idx] = fcoopmatNV<32, 3, CM_M, CM_N>(0.0); }
// Macros, not functions: SPIR-V wants the column-major operand of a cooperative load or store to be a
// constant (spirv-val rejects a function parameter there).
#define load_a(m, offset, stride, col_major) coopMatLoadNV(m, smem, offset, stride, col_major)
#define load_b(m, offset, stride, col_major) coopMatLoadNV(m, smem, offset, stride, col_major)
void mul_add(uint idx, MAT_A a, MAT_B b) { acc[idx] = coopMatMulAddNV(a, b, acc[idx]); }
#define store_acc(idx, offset, stride) coopMatStoreNV(acc[idx], smem, offset, stride, true)
uint subgroup_index() { return gl_SubgroupID; }
#endif

// Tile row slot r (m0: the tile's first output row): whether its output row exists, and the row of A it reads.
bool slot_ok(uint m0, uint r) { return m0 + r % OUT_M < p.nrows; }
uint slot_row(uint m0, uint r) { return m0 + r % OUT_M + (r < OUT_M ? 0u : p.nrows); }

void main() {
  const uint m0 = gl_WorkGroupID.x * OUT_M, n0 = gl_WorkGroupID.y * BN;
  const uint tid = gl_LocalInvocationID.x;
  const uint sg = subgroup_index();
  const uint wm0 = (sg % SG_M) * WM, wn0 = (sg / SG_M) * WN;  // this subgroup's share of the tile

  for (uint i = 0; i < ACC_M * ACC_N; ++i) zero_acc(i);

  for (uint k0 = 0; k0 < p.ncols; k0 += BK) {
    // A's tile as fp16: 8 values (one uvec4) per work item.
#if defined(A_PLAIN)
    for (uint e = tid; e < BM * (BK / 8); e += WG_SIZE) {
      const uint r = e / (BK / 8), c8 = e % (BK / 8);
      float v[8];
      for (uint j = 0; j < 8; ++j) {
        const uint c = k0 + c8 * 8 + j;
        v[j] = slot_ok(m0, r) && c < p.ncols ? element(p.a_offset + slot_row(m0, r) * p.row_stride, c) : 0.0;
      }
      smem[r * ROW_U4 + c8] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
    }
#else
    // One 32-element unit (4 uvec4s) per work item: its scales are decoded once.
    for (uint r = tid; r < BM; r += WG_SIZE) {
      const uint u = k0 / 32;
      if (slot_ok(m0, r) && u * 32 < p.ncols) {
        const uint bb = p.a_offset + slot_row(m0, r) * p.row_stride + (u / (QK / 32)) * BLOCK_U16, sub = u % (QK / 32);
        const vec4 sc = unit_scales(bb, sub);
        for (uint q = 0; q < 4; ++q) {
          const vec2 s = q < 2 ? sc.xy : sc.zw;  // elements 0-15 and 16-31 of the unit
          smem[r * ROW_U4 + q] = pack8(unit_q4(bb, sub, 2 * q) * s.x + s.y, unit_q4(bb, sub, 2 * q + 1) * s.x + s.y);
        }
      } else {
        for (uint q = 0; q < 4; ++q) smem[r * ROW_U4 + q] = uvec4(0);
      }
    }
#endif
    // X's tile as fp16, 8 values per work item; zeros past the last token and column.
    for (uint e = tid; e < BN * (BK / 8); e += WG_SIZE) {
      const uint n = e / (BK / 8), c8 = e % (BK / 8);
      const uint xb = p.x_offset + (n0 + n) * p.x_stride + k0 + c8 * 8;
      float v[8];
      for (uint j = 0; j < 8; ++j) v[j] = n0 + n < p.n_tokens && k0 + c8 * 8 + j < p.ncols ? x[xb + j] : 0.0;
      smem[X_BASE + n * ROW_U4 + c8] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
    }
    barrier();
    for (uint kk = 0; kk < BK; kk += CM_K) {
      // A's matrices: rows wm0 + i * CM_M.., columns kk..; X's: tokens wn0 + j * CM_N.. as columns.
      MAT_A ma[ACC_M];
      for (uint i = 0; i < ACC_M; ++i) load_a(ma[i], (wm0 + i * CM_M) * ROW_U4 + kk / 8, ROW_U4, false);
      for (uint j = 0; j < ACC_N; ++j) {
        MAT_B mb;
        load_b(mb, X_BASE + (wn0 + j * CM_N) * ROW_U4 + kk / 8, ROW_U4, true);
        for (uint i = 0; i < ACC_M; ++i) mul_add(i * ACC_N + j, ma[i], mb);
      }
    }
    barrier();  // the tiles are overwritten by the next step
  }

  // Accumulators -> smem (the tiles are free: the walk ended on a barrier; column-major: token n's BM rows contiguous) -> Y with bias, accumulation, bounds.
  for (uint i = 0; i < ACC_M; ++i)
    for (uint j = 0; j < ACC_N; ++j)
      store_acc(i * ACC_N + j, ((wn0 + j * CM_N) * BM + wm0 + i * CM_M) / 4, BM / 4);
  barrier();
  for (uint e = tid; e < OUT_M * BN; e += WG_SIZE) {
    const uint n = e / OUT_M, r = e % OUT_M;
    if (m0 + r >= p.nrows || n0 + n >= p.n_tokens) continue;
    const uint yi = p.y_offset + (n0 + n) * p.y_stride + m0 + r;
    const uint f = n * BM + r;  // float of slot r, token n in the accumulators' tile
    float v = uintBitsToFloat(smem[f / 4][f % 4]);
    if (SWIGLU != 0) {  // swiglu.comp's f32 operations; slot r + BM / 2 holds up row r
      const uint fu = f + OUT_M;
      v = v / (1.0 + exp(-v)) * uintBitsToFloat(smem[fu / 4][fu % 4]);
    }
    if ((p.flags & 1u) != 0) v += bias[p.bias_offset + m0 + r];
    if ((p.flags & 2u) != 0) v += y[yi];
    y[yi] = v;
  }
}
