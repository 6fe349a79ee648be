#version 450
#extension GL_GOOGLE_include_directive : require
// [[unroll]]: loops of known trip count must unroll, or lavapipe keeps the arrays they index in memory and
// reads them lane by lane.
#extension GL_EXT_control_flow_attributes : require
// y[row] = dot(A[row, :], x) (+ bias[row]) (+ y[row]): the decode matrix-vector product for one weight type.
// A: nrows x ncols in its file type; x, y, bias: f32. NUM_ROWS consecutive rows per workgroup share x.
// Invocations stride over 32-element units (quantized) or elements (plain types), accumulate in f32, and
// reduce over the workgroup.
#include "common.glsl"

layout(constant_id = 2) const uint NUM_ROWS = 1;
// (Constant 3 is unused: it was the fused SwiGLU / RMSNorm read of x, removed; the host passes 0 there and
// the other ids keep their numbers.)
// 1: wide weight loads, where every row of A starts aligned for them in its binding (Ops::mul_mv checks):
// Q4_K reads its blocks (144 bytes = 9 x 16) as uvec4s (rows 16-byte aligned); Q8_0 takes pairs of blocks
// (68 bytes = 17 words, rows 4-byte aligned) read as 32-bit words. A CPU implementation runs each load
// instruction as a loop over the lanes, so 3 loads of 16 bytes cost far less than 12 of 4 (`devices
// --bandwidth`: uint reads ~1.2 GB/s, uvec4 ~3 GB/s on lavapipe). A specialization constant: lavapipe runs
// both sides of a branch.
layout(constant_id = 4) const uint A_WIDE = 0;
// Invocations per item (1, 2, 4 or 8; quantized types): the item's 8 rounds of 4 values (per unit of a Q4_K
// pair, a Q6_K half, a Q8_0 pair, a unit) are split among LPI neighbouring invocations, each summing its
// share (every term is linear in its rounds). A GPU variant: a 1536-wide Q4_K row has only 24 pairs, so a
// workgroup of 64 leaves most lanes idle at 1; neighbouring lanes then also read neighbouring words. LPI > 1
// reads the weights as 32-bit words (not A_WIDE's uvec4s). 1 on CPU implementations (each lane's loads are
// a loop of their own there).
layout(constant_id = 5) const uint LPI = 1;
const uint NJ = 8 / LPI;  // rounds per invocation
// 1: the row-per-lane path of CPU implementations (mul_mv_rows.glsl; Q4_K, Q5_K, Q6_K, Q8_0, F16 with
// A_INT64).
layout(constant_id = 7) const uint ROW_LANES = 0;
// 1: the offset of x is a multiple of 4, so it is read as vec4s (Ops::mul_mv knows it when it records);
// 2 (A_INT64 modules): as u64vec2s. A specialization constant rather than a test of the
// push constants: lavapipe ran both the vec4 and the scalar reads (Q4_K and Q6_K products 1.15-1.5x faster).
layout(constant_id = 6) const uint X_ALIGNED = 0;
// 1: SwiGLU folded into the product's output (Ops::mul_mv, MulMvInput::swiglu_out): A is the merged
// [gate | up], p.nrows gate rows then as many up rows in the same binding (gate row r's up row is r +
// p.nrows), and y[r] = silu(gate_r . x) * (up_r . x), r < p.nrows. A workgroup's NUM_ROWS rows (even) are
// NUM_ROWS / 2 gate rows and the same up rows, so the pair meets in one invocation and nothing is written
// twice or recomputed.
// (Constant 8 is XU_VEC4S of the X_UBO modules; the host always sets it.)
layout(constant_id = 9) const uint SWIGLU = 0;
const uint OUT_ROWS = SWIGLU != 0 ? NUM_ROWS / 2 : NUM_ROWS;  // output rows per workgroup
// The RMSNorm carried from one product to the next (Ops::mul_mv, MulMvInput::carry / carried: the decode
// step's norms as no dispatches of their own, and nothing recomputed). 1, the producer (the residual
// products Wo and down): besides y[row] it writes y[row] * nw[row] (the next norm's weight) at y[p.carry_xg +
// row] and one partial sum of y[row]^2 per workgroup; the last workgroup to finish (a counter, over every
// dispatch of the product: p.carry_parts of them) adds the partial sums in index order, so the total is the
// same whichever finishes last, writes it and resets the counter. Layout at y[p.carry_ss]: the counter (uint),
// the total, 2 unused, then the partial sums. 2, the consumer (the next products, whose x is that y * nw):
// scales its sums by 1 / sqrt(total / ncols + eps), read at u[p.u_offset] (binding 4), before SwiGLU, bias and
// store: dot(A_r, y * nw) / rms(y) = dot(A_r, RMSNorm(y) * nw). The consumer needs the scale only at its end,
// so nothing waits for it before the weights are read, and it reads one float (partial sums read by every
// consumer workgroup cost lavapipe more than the norm dispatch they replace: a 1.5B output product has ~5000
// workgroups).
layout(constant_id = 10) const uint NORM_CARRY = 0;
// X_Q8 modules only: 1, every row slot loads its weights, a slot past the matrix reading the workgroup's first
// row (its sum is never stored): no branch between the slots' loads, which the compiler can then issue
// together. 0: a slot past the matrix skips its loads.
layout(constant_id = 11) const uint LOAD_ALL_SLOTS = 0;

layout(binding = 0) readonly buffer A { uint16_t data_a[]; };
// Blocks whose size is a multiple of 4 bytes start 4-byte aligned in every row (bindings start aligned, rows
// are whole blocks): their quants are read as whole 32-bit words through a second view of binding 0, half the
// loads of 16-bit reads (on a CPU implementation every load of a lane-varying address is a gather).
#if defined(DATA_A_Q4_1) || defined(DATA_A_Q5_1) || defined(DATA_A_Q2_K) || defined(DATA_A_Q4_K) || \
    defined(DATA_A_Q5_K) || defined(DATA_A_IQ4_XS)
#define A_WORDS32 1
layout(binding = 0) readonly buffer A32 { uint data_a32[]; };
#elif defined(DATA_A_Q6_K) || defined(DATA_A_Q8_0)
// Q6_K's runs of quants and Q8_0's block pairs, read as the aligned 32-bit words that cover them (below); rd32 stays 16-bit based.
layout(binding = 0) readonly buffer A32 { uint data_a32[]; };
#endif
#if defined(DATA_A_Q4_K)
layout(binding = 0) readonly buffer A128 { uvec4 data_a128[]; };
#if defined(A_INT64)
// CPU implementations with shaderInt64 (Ops::mul_mv picks this module): the same bytes in 8-byte components,
// half the per-lane loads of uvec4s (the bandwidth probe: u64vec4 reads ~2x uvec4 on lavapipe).
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
layout(binding = 0) readonly buffer A64x2 { u64vec2 data_a64x2[]; };
layout(binding = 0) readonly buffer A64x4 { u64vec4 data_a64x4[]; };
#endif
#endif
#if (defined(DATA_A_Q5_K) || defined(DATA_A_F16)) && defined(A_INT64)
// CPU implementations with shaderInt64: the row-per-lane Q5_K and F16 read their 16-byte-aligned rows as
// u64vec2s.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
layout(binding = 0) readonly buffer A64x2 { u64vec2 data_a64x2[]; };
#endif
#if (defined(DATA_A_Q6_K) || defined(DATA_A_Q8_0)) && defined(A_INT64)
// CPU implementations with shaderInt64: Q6_K's runs of quants (q6k_runs64) and Q8_0's quads of blocks
// (mul_mv_rows.glsl) read as 8-byte words.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
layout(binding = 0) readonly buffer A64 { uint64_t data_a64[]; };
#endif
#if defined(DATA_A_Q6_K) && defined(A_INT64)
// A half block's runs (Q6_K blocks start at any even byte): 64 low-nibble bytes from 8-byte word lw and 32
// high-bit bytes from word hw, the words that cover them plus one (inside the block: the high bits follow
// the low nibbles, the scales the high bits), 14 loads instead of 26 32-bit ones; shifted64 puts 8 bytes
// together from two words (s: the block's start within a word, in bits: 0, 16, 32, 48).
void q6k_runs64(uint lw, uint hw, out uint64_t l64[9], out uint64_t h64[5]) {
  [[unroll]] for (uint i = 0; i < 9; ++i) l64[i] = data_a64[lw + i];
  [[unroll]] for (uint i = 0; i < 5; ++i) h64[i] = data_a64[hw + i];
}
uint64_t shifted64(uint64_t lo, uint64_t hi, uint s) { return s == 0 ? lo : (lo >> s) | (hi << (64u - s)); }
#endif
#if defined(X_UBO)
// Modules built with X_UBO (CPU implementations, Ops::mul_mv with Options::mul_mv_ubo): x is a uniform
// buffer of XU_VEC4S vec4s (the binding's range, at most maxUniformBufferRange). Lavapipe loads a storage
// buffer lane by lane (a scalar loop with a bounds branch per component) but a uniform buffer with one
// gather per component, or one scalar load where the offset is constant (docs/vulkan.md).
#if defined(X_TEX)
// With X_TEX too (Options::mul_mv_x_texel): x as a uniform texel buffer of 16-byte texels at binding 7
// instead, from the texel alignment at or below x (p.x_offset counts from there; no 64 KiB range limit).
// Lavapipe fetches a texel for 8 lanes as 8 straight 16-byte loads; a uniform buffer at a non-constant
// offset costs 8 scalar loads per component (docs/vulkan-history.md, "Prompt product: x as texels").
layout(binding = 7) uniform usamplerBuffer x_tex;
float x_at(uint i) { return uintBitsToFloat(texelFetch(x_tex, int(i >> 2))[i & 3u]); }
vec4 x4_at(uint i) { return uintBitsToFloat(texelFetch(x_tex, int(i))); }
#else
layout(constant_id = 8) const uint XU_VEC4S = 1;
layout(binding = 1) uniform XU { vec4 xu[XU_VEC4S]; };
float x_at(uint i) { return xu[i >> 2][i & 3u]; }
vec4 x4_at(uint i) { return xu[i]; }
#endif
#else
layout(binding = 1) readonly buffer X { float x[]; };
// x as vec4s: one 16-byte load instead of four when x_offset is a multiple of 4 (every call of the decode
// step; the x reads below always start at x_offset plus a multiple of 4 and end inside the row).
layout(binding = 1) readonly buffer X4 { vec4 x4[]; };
float x_at(uint i) { return x[i]; }
vec4 x4_at(uint i) { return x4[i]; }
#endif
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer B { float bias[]; };
// The carried RMSNorm (NORM_CARRY): the consumer's total at u[p.u_offset], the producer's next-norm weight.
layout(binding = 4) readonly buffer U { float u[]; };    // NORM_CARRY 2
layout(binding = 5) readonly buffer NW { float nw[]; };  // NORM_CARRY 1

// Mirror: penser::vulkan::MulMvPush
layout(push_constant) uniform Push {
  uint ncols;
  uint nrows;       // rows of this dispatch (this chunk of A)
  uint row_stride;  // 16-bit words per row of A
  uint x_offset;
  uint y_offset;    // y index of this dispatch's first row
  uint flags;       // 1: add bias[bias_offset + row]; 2: add to y (fused residual)
  uint bias_offset;
  uint a_offset;    // 16-bit words from the binding's start to row 0 (bindings start aligned)
  uint u_offset;    // NORM_CARRY 2: the producer's total (binding 4)
  uint nw_offset;   // NORM_CARRY 1: the next norm's weight for row 0 of this dispatch (binding 5)
  float eps;        // NORM_CARRY 2
  uint carry_xg;    // NORM_CARRY 1: y index of row 0's y * nw
  uint carry_ss;    // NORM_CARRY 1: y index of the counter (the total and the partial sums follow)
  uint carry_part0; // NORM_CARRY 1: this dispatch's first partial sum (index among the product's)
  uint carry_parts; // NORM_CARRY 1: the product's partial sums over all its dispatches
} p;

// NORM_CARRY 1: the counter, the total and the partial sums, coherent (written by one workgroup, read by
// another in the same dispatch or the product's next one) through their own views of binding 2.
layout(binding = 2) coherent buffer YC { float yc[]; };
layout(binding = 2) coherent buffer YCU { uint ycu[]; };
shared bool carry_last;

#include "types.glsl"

#if defined(X_Q8)
// x quantized to 8 bits inside the product, 32 values to a scale, and the weights' small integers multiplied
// with it 4 at a time by integer dot products (Ops::mul_mv with Options::mul_mv_q8x, on devices with
// VK_KHR_shader_integer_dot_product; Q4_K, Q6_K and Q8_0's pairs, one invocation per item). Per 32 values of a
// row one conversion instead of 32 and 8 dot products instead of 32 multiply-adds, and an invocation holds its
// share of x in 16 words where it held 64 floats (registers: loads in flight on a GPU). The result is the
// product with x rounded to 8 bits per value (x ~ d q, d = max|x| / 127 per 32 values): a relative error of
// ~0.5% per value of x, as in llama.cpp's Q8_1 x.
// Debian 12's glslang has no GLSL extension for the instruction: OpSDot (SPV_KHR_integer_dot_product) with
// its packed 4 x 8-bit operands, declared through GL_EXT_spirv_intrinsics.
#extension GL_EXT_spirv_intrinsics : require
spirv_instruction(extensions = ["SPV_KHR_integer_dot_product"], capabilities = [6019, 6018], id = 4450)
int sdot4x8_packed(uint a, uint b, spirv_literal int packed_vector_format);
// The dot product of two words' 4 signed bytes.
int sdot4(uint a, uint b) { return sdot4x8_packed(a, b, 0); }  // 0: PackedVectorFormat4x8Bit
// v (|v| <= 127) rounded to an integer (ties to even) as a two's complement byte: 1.5 * 2^23 + v is an integer
// in [2^23, 2^24), whose float bits end in round(v)'s 23 low bits (0x400000 + round(v)).
uint q8_byte(float v) { return floatBitsToUint(v + 12582912.0) & 0xFFu; }
uint q8_word(vec4 v) { return q8_byte(v.x) | (q8_byte(v.y) << 8) | (q8_byte(v.z) << 16) | (q8_byte(v.w) << 24); }
// 32 values of x as 8 words of signed bytes q; returns their scale d = max|x| / 127 (x ~ d q).
float q8_quant(const vec4 v[8], out uint q[8]) {
  vec4 m4 = abs(v[0]);
  [[unroll]] for (uint j = 1; j < 8; ++j) m4 = max(m4, abs(v[j]));
  const float m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  const float inv = m > 0.0 ? 127.0 / m : 0.0;
  [[unroll]] for (uint j = 0; j < 8; ++j) q[j] = q8_word(v[j] * inv);
  return m / 127.0;
}
const uint kOnes = 0x01010101u;  // sdot4(q, kOnes): the sum of q's 4 bytes
#endif

// Row slot r of a workgroup whose first output row is row0: the row of A it reads (with SWIGLU, slots
// OUT_ROWS.. are the up rows of slots 0..), and whether its output row exists.
uint slot_row(uint row0, uint r) { return SWIGLU == 0 ? row0 + r : row0 + r % OUT_ROWS + (r < OUT_ROWS ? 0u : p.nrows); }
bool slot_ok(uint row0, uint r) { return row0 + (SWIGLU == 0 ? r : r % OUT_ROWS) < p.nrows; }
#if defined(X_Q8)
const bool kLoadAllSlots = LOAD_ALL_SLOTS != 0;
#else
const bool kLoadAllSlots = false;
#endif
// Whether row slot r skips its loads (a slot past the matrix, unless every slot loads: LOAD_ALL_SLOTS), and
// the row it reads: its own, or for a slot past the matrix that loads anyway the workgroup's first (its sum
// is never stored).
bool slot_skips(uint row0, uint r) { return !kLoadAllSlots && !slot_ok(row0, r); }
uint slot_load_row(uint row0, uint r) { return kLoadAllSlots && !slot_ok(row0, r) ? row0 : slot_row(row0, r); }
// swiglu.comp's f32 operations.
float silu_mul(float g, float u) { return g / (1.0 + exp(-g)) * u; }
// NORM_CARRY 2: 1 / rms of the producer's output, from the total its last workgroup wrote (one load at a
// uniform address); 1 otherwise.
float carried_scale() {
  if (NORM_CARRY != 2) return 1.0;
  return inversesqrt(u[p.u_offset] / float(p.ncols) + p.eps);
}
// NORM_CARRY 1: the workgroup's partial sum ss (from invocation 0) stored; the last workgroup of the product
// adds them all. Every invocation calls it, in uniform control flow, and every barrier below is met by the
// whole workgroup: MoltenVK turns a memory barrier into Metal's threadgroup_barrier, which all threads must
// reach (one inside `if (tid == 0)` would hang an Apple GPU). The pattern of CUDA's threadfence reduction:
// store, fence (release), count; the last workgroup, after a control barrier and another fence (acquire), reads
// every partial sum through coherent loads.
void carry_partial(float ss) {
  if (NORM_CARRY != 1) return;
  const uint tid = gl_LocalInvocationID.x;
  if (tid == 0) yc[p.carry_ss + 4 + p.carry_part0 + group_index()] = ss;
  memoryBarrierBuffer();  // the partial sum before the count that says it is there
  if (tid == 0) carry_last = atomicAdd(ycu[p.carry_ss], 1u) == p.carry_parts - 1;
  barrier();
  if (!carry_last) return;  // the same for the whole workgroup (shared)
  memoryBarrierBuffer();
  float s = 0.0;
  for (uint i = tid; i < p.carry_parts; i += WG_SIZE) s += yc[p.carry_ss + 4 + i];
  s = wg_sum(s);
  if (tid == 0) {
    yc[p.carry_ss + 1] = s;
    ycu[p.carry_ss] = 0u;  // ready for the next product (the next step's recording reuses the place)
  }
}
// NORM_CARRY 1: y * nw for one stored output row (index into this dispatch's rows), its square returned for
// the workgroup's partial sum.
float carry_row(uint row, float v) {
  if (NORM_CARRY != 1) return 0.0;
  y[p.carry_xg + row] = v * nw[p.nw_offset + row];
  return v * v;
}

#if defined(A_IL)
#define IL_BINDING 6
#include "interleaved.glsl"
#endif

// The workgroup's sums of v[r] for every row slot at once, in every invocation: one barrier for all the rows
// (wg_sum per row paid NUM_ROWS pairs, each waiting for the slowest subgroup), none in a workgroup of one
// subgroup. The same additions in the same order as wg_sum (each subgroup's sum, then those in subgroup order;
// or the shared-memory tree), so the same bits. Called once per invocation (red_rows is not reused).
shared float red_rows[NUM_ROWS * WG_SIZE];
void wg_sum_rows(inout float v[NUM_ROWS]) {
  const uint tid = gl_LocalInvocationID.x;
  if (USE_SUBGROUP != 0) {
    [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) v[r] = subgroupAdd(v[r]);
    if (gl_NumSubgroups == 1) return;
    if (subgroupElect()) {
      [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) red_rows[r * WG_SIZE + gl_SubgroupID] = v[r];
    }
    barrier();
    [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) {
      float t = 0.0;
      for (uint i = 0; i < gl_NumSubgroups; ++i) t += red_rows[r * WG_SIZE + i];
      v[r] = t;
    }
    return;
  }
  [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) red_rows[r * WG_SIZE + tid] = v[r];
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) {
      [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) red_rows[r * WG_SIZE + tid] += red_rows[r * WG_SIZE + tid + s];
    }
    barrier();
  }
  [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) v[r] = red_rows[r * WG_SIZE];
}

// Whether x's offset is a multiple of 4 (then read as vec4s: X_ALIGNED).
const bool xa = X_ALIGNED != 0;

#if defined(A_INT64)
// X_ALIGNED 2 (modules with A_INT64, CPU implementations): the vec4s read as two 8-byte components instead
// of four 4-byte ones (lavapipe loads each component of each lane on its own).
#if !defined(X_UBO)
layout(binding = 1) readonly buffer X64 { u64vec2 x64[]; };
vec4 quad64(u64vec2 v) { return uintBitsToFloat(uvec4(unpack32(v.x), unpack32(v.y))); }
#endif
#endif

// The product's input x[i .. i + 3] (i - x_offset a multiple of 4).
vec4 x_quad(uint i, bool aligned) {
#if defined(A_INT64) && !defined(X_UBO)
  if (X_ALIGNED == 2 && aligned) return quad64(x64[i >> 2]);
#endif
  return aligned ? x4_at(i >> 2) : vec4(x_at(i), x_at(i + 1), x_at(i + 2), x_at(i + 3));
}

#if defined(A_INT64) && (defined(DATA_A_Q4_K) || defined(DATA_A_Q5_K) || defined(DATA_A_Q6_K) || \
                          defined(DATA_A_Q8_0) || defined(DATA_A_F16))
#define ROW_LANES_PATH 1
#include "mul_mv_rows.glsl"
#endif

void main() {
  const uint row0 = group_index() * OUT_ROWS;
  if (row0 >= p.nrows) return;
  const uint tid = gl_LocalInvocationID.x;
#if defined(ROW_LANES_PATH)
  if (ROW_LANES != 0) {
    mul_mv_row_lanes(row0, tid);
    return;
  }
#endif
  float acc[NUM_ROWS];
  [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) acc[r] = 0.0;

#if defined(DATA_A_Q4_K)
  // Q4_K: an invocation takes a pair of units (2g, 2g+1 of a block: 64 values) because both come from the
  // same 32 quant bytes (low and high nibbles): each 32-bit word read serves 8 values, and the pair's scales
  // come from the same 4 words.
  const uint pairs = p.ncols / 64, part = tid % LPI, j0 = part * NJ;
  for (uint g = tid / LPI; g < pairs; g += WG_SIZE / LPI) {
    const uint blk = g >> 2, pr = g & 3u;
    const uint xb = p.x_offset + g * 64 + j0 * 4;
    vec4 xlo[8], xhi[8];  // rounds j0 .. j0 + NJ - 1 at 0 .. NJ - 1
    [[unroll]] for (uint j = 0; j < NJ; ++j) {
      xlo[j] = x_quad(xb + j * 4, xa);
      xhi[j] = x_quad(xb + 32 + j * 4, xa);
    }
#if defined(X_Q8)
    // LPI 1 (Ops::mul_mv): the invocation's xlo and xhi are units 2pr and 2pr + 1, 32 values each.
    uint xql[8], xqh[8];
    const float dl = q8_quant(xlo, xql), dh = q8_quant(xhi, xqh);
    int il = 0, ih = 0;
    [[unroll]] for (uint j = 0; j < 8; ++j) {
      il += sdot4(xql[j], kOnes);
      ih += sdot4(xqh[j], kOnes);
    }
    const float slo = dl * float(il), shi = dh * float(ih);  // the sums of the rounded x (its mins' terms)
#else
    vec4 xslo = vec4(0.0), xshi = vec4(0.0);
    [[unroll]] for (uint j = 0; j < NJ; ++j) {
      xslo += xlo[j];
      xshi += xhi[j];
    }
    const vec4 one = vec4(1.0);
    const float slo = dot(xslo, one), shi = dot(xshi, one);
#endif
    // Units 2pr and 2pr+1: scale/min bytes (2pr)&3 and (2pr+1)&3 of words 1 and 2; for pr >= 2 the low
    // 4 bits come from word 3 and the top 2 bits from words 1 and 2.
    const uint sh0 = ((2u * pr) & 3u) * 8u, sh1 = sh0 + 8u;
    [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) {
      if (slot_skips(row0, r)) continue;
      const uint bb = p.a_offset + slot_load_row(row0, r) * p.row_stride + blk * BLOCK_U16;
      // The block's first 16 bytes (d and dmin, scale/min bytes 0-3, 4-7, 8-11) and the pair's 32 quant bytes.
      uvec4 hd;
      uint qw[8];  // quant words j0 .. j0 + NJ - 1 of the pair
      if (A_WIDE != 0 && LPI == 1) {
        const uint v = bb >> 3;
#if defined(A_INT64)
        // The pair's 32 quant bytes start 16 + 32 pr bytes into the block: 16-byte aligned, not 32, so two
        // u64vec2s (a u64vec4 view would need 32-byte alignment).
        const u64vec2 h64 = data_a64x2[v];
        hd = uvec4(unpack32(h64.x), unpack32(h64.y));
        const u64vec2 a64 = data_a64x2[v + 1 + pr * 2], b64 = data_a64x2[v + 2 + pr * 2];
        qw = uint[8](unpack32(a64.x).x, unpack32(a64.x).y, unpack32(a64.y).x, unpack32(a64.y).y,
                     unpack32(b64.x).x, unpack32(b64.x).y, unpack32(b64.y).x, unpack32(b64.y).y);
#else
        hd = data_a128[v];
        const uvec4 qa = data_a128[v + 1 + pr * 2], qb = data_a128[v + 2 + pr * 2];
        qw = uint[8](qa.x, qa.y, qa.z, qa.w, qb.x, qb.y, qb.z, qb.w);
#endif
      } else {
        hd = uvec4(rd32(bb, 0), rd32(bb, 4), rd32(bb, 8), pr < 2 ? 0u : rd32(bb, 12));
        [[unroll]] for (uint j = 0; j < NJ; ++j) qw[j] = rd32(bb, 16 + pr * 32 + (j0 + j) * 4);
      }
      const vec2 dm = unpackHalf2x16(hd.x);
      const uint w1 = hd.y, w2 = hd.z, w3 = hd.w;
      uvec4 smu;  // (scale 2pr, min 2pr, scale 2pr+1, min 2pr+1)
      if (pr < 2) {
        smu = uvec4((w1 >> sh0) & 63u, (w2 >> sh0) & 63u, (w1 >> sh1) & 63u, (w2 >> sh1) & 63u);
      } else {
        smu = uvec4(((w3 >> sh0) & 0xFu) | (((w1 >> sh0) >> 6 & 3u) << 4), ((w3 >> sh0) >> 4 & 0xFu) | (((w2 >> sh0) >> 6 & 3u) << 4),
                    ((w3 >> sh1) & 0xFu) | (((w1 >> sh1) >> 6 & 3u) << 4), ((w3 >> sh1) >> 4 & 0xFu) | (((w2 >> sh1) >> 6 & 3u) << 4));
      }
      const vec4 sm = vec4(ivec4(smu));  // signed conversion: see bytes4
#if defined(X_Q8)
      // The nibbles (0..15) as signed bytes against x's.
      int i0 = 0, i1 = 0;
      [[unroll]] for (uint j = 0; j < 8; ++j) {
        i0 += sdot4(qw[j] & 0x0F0F0F0Fu, xql[j]);
        i1 += sdot4((qw[j] >> 4) & 0x0F0F0F0Fu, xqh[j]);
      }
      const float q0 = dl * float(i0), q1 = dh * float(i1);
#else
      float q0 = 0.0, q1 = 0.0;
      [[unroll]] for (uint j = 0; j < NJ; ++j) {
        q0 += dot(bytes4(qw[j] & 0x0F0F0F0Fu), xlo[j]);
        q1 += dot(bytes4((qw[j] >> 4) & 0x0F0F0F0Fu), xhi[j]);
      }
#endif
      acc[r] += dm.x * (sm.x * q0 + sm.z * q1) - dm.y * (sm.y * slo + sm.w * shi);
    }
  }
#elif defined(DATA_A_Q6_K)
  // Q6_K: an invocation takes a half block (4 units, 128 values): the 4 units share the high-bit bytes and
  // units k and k+2 the low-nibble bytes, so 3 words serve 16 values. Blocks of 210 bytes are only 2-byte
  // aligned: a block's runs of low nibbles (64 bytes) and high bits (32 bytes) are read as the 32-bit words
  // that cover them (17 and 9 loads through the binding's 32-bit view) and shifted by 2 bytes where the block
  // starts between words: 26 loads instead of 48 16-bit ones per half block and row (on a CPU
  // implementation every load is a loop over the lanes). x (128 values) is read once for all rows.
  const uint halves = p.ncols / 128, part = tid % LPI, j0 = part * NJ;
  for (uint g = tid / LPI; g < halves; g += WG_SIZE / LPI) {
    const uint blk = g >> 1, n = g & 1u;
    const uint xb = p.x_offset + g * 128;
    vec4 xv[32];  // unit k, values 4 (j0 + j) .. + 3 at k * 8 + j
    [[unroll]] for (uint k = 0; k < 4; ++k)
      [[unroll]] for (uint j = 0; j < NJ; ++j) xv[k * 8 + j] = x_quad(xb + k * 32 + (j0 + j) * 4, xa);
#if !defined(X_Q8)
    float xs[8];  // sums of x per 16 values (unit k, half h at k * 2 + h): the -32 offset of every value
    [[unroll]] for (uint i = 0; i < 8; ++i) xs[i] = 0.0;
    [[unroll]] for (uint k = 0; k < 4; ++k)
      [[unroll]] for (uint j = 0; j < NJ; ++j) xs[k * 2 + ((j0 + j) >> 2)] += dot(xv[k * 8 + j], vec4(1.0));
#else
    // LPI 1: unit k's 32 values as xq[k * 8 ..] with scale xd[k]; xsi: the sums of its rounded halves.
    uint xq[32];
    float xd[4];
    int xsi[8];
    [[unroll]] for (uint k = 0; k < 4; ++k) {
      vec4 u[8];
      uint q[8];
      [[unroll]] for (uint j = 0; j < 8; ++j) u[j] = xv[k * 8 + j];
      xd[k] = q8_quant(u, q);
      xsi[k * 2] = 0;
      xsi[k * 2 + 1] = 0;
      [[unroll]] for (uint j = 0; j < 8; ++j) {
        xq[k * 8 + j] = q[j];
        xsi[k * 2 + (j >> 2)] += sdot4(q[j], kOnes);
      }
    }
#endif
    [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) {
      if (slot_skips(row0, r)) continue;
      const uint bb = p.a_offset + slot_load_row(row0, r) * p.row_stride + blk * BLOCK_U16;
#if !defined(A_INT64)
      const bool odd = (bb & 1u) != 0;  // the block starts 2 bytes into a 32-bit word
#endif
      // Words j0 .. j0 + NJ (one more to shift from) of the first and second 32 low-nibble bytes and of
      // the high bits; at LPI 1 the first run's extra word is the second's first (17 loads, not 18).
      uint la_[9], lb_[9], hb_[9];
#if defined(A_INT64)
      // LPI 1 here (Ops::mul_mv): the half's runs as 8-byte words, shifted into the same aligned words.
      uint64_t l64[9], h64[5];
      q6k_runs64((bb + n * 32) >> 2, (bb + 64 + n * 16) >> 2, l64, h64);
      const uint s64 = (bb & 3u) * 16u;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const uvec2 a = unpack32(shifted64(l64[i], l64[i + 1], s64)), b = unpack32(shifted64(l64[4 + i], l64[5 + i], s64));
        const uvec2 h = unpack32(shifted64(h64[i], h64[i + 1], s64));
        la_[2 * i] = a.x; la_[2 * i + 1] = a.y; lb_[2 * i] = b.x; lb_[2 * i + 1] = b.y; hb_[2 * i] = h.x; hb_[2 * i + 1] = h.y;
      }
      const bool odd = false;  // already shifted
#else
      const uint lw = ((bb + n * 32) >> 1) + j0, hw = ((bb + 64 + n * 16) >> 1) + j0;
      [[unroll]] for (uint i = 0; i <= NJ; ++i) la_[i] = data_a32[lw + i];
      [[unroll]] for (uint i = 0; i <= NJ; ++i) lb_[i] = (LPI == 1 && i == 0) ? la_[NJ] : data_a32[lw + 8 + i];
      [[unroll]] for (uint i = 0; i <= NJ; ++i) hb_[i] = data_a32[hw + i];
#endif
#if defined(X_Q8)
      // The 6-bit quants (0..63) as signed bytes; their -32 offset from the sums of the rounded x, in integers.
      int qi[8];
      [[unroll]] for (uint i = 0; i < 8; ++i) qi[i] = 0;
      [[unroll]] for (uint j = 0; j < 8; ++j) {
        const uint la = odd ? (la_[j] >> 16) | (la_[j + 1] << 16) : la_[j];
        const uint lb = odd ? (lb_[j] >> 16) | (lb_[j + 1] << 16) : lb_[j];
        const uint hb = odd ? (hb_[j] >> 16) | (hb_[j + 1] << 16) : hb_[j];
        const uint h = j >> 2;
        qi[0 + h] += sdot4((la & 0x0F0F0F0Fu) | ((hb << 4) & 0x30303030u), xq[j]);
        qi[2 + h] += sdot4((lb & 0x0F0F0F0Fu) | ((hb << 2) & 0x30303030u), xq[8 + j]);
        qi[4 + h] += sdot4(((la >> 4) & 0x0F0F0F0Fu) | (hb & 0x30303030u), xq[16 + j]);
        qi[6 + h] += sdot4(((lb >> 4) & 0x0F0F0F0Fu) | ((hb >> 2) & 0x30303030u), xq[24 + j]);
      }
      float t = 0.0;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const uint w = rd16(bb, 192 + n * 8 + 2 * i);  // scales[n*8 + 2i] (unit i, first 16), [.. + 1] (second 16)
        t += xd[i] * (float(bitfieldExtract(int(w), 0, 8)) * float(qi[i * 2] - 32 * xsi[i * 2]) +
                      float(bitfieldExtract(int(w), 8, 8)) * float(qi[i * 2 + 1] - 32 * xsi[i * 2 + 1]));
      }
#else
      float qa[8];
      [[unroll]] for (uint i = 0; i < 8; ++i) qa[i] = 0.0;
      [[unroll]] for (uint jj = 0; jj < NJ; ++jj) {
        const uint la = odd ? (la_[jj] >> 16) | (la_[jj + 1] << 16) : la_[jj];
        const uint lb = odd ? (lb_[jj] >> 16) | (lb_[jj + 1] << 16) : lb_[jj];
        const uint hb = odd ? (hb_[jj] >> 16) | (hb_[jj + 1] << 16) : hb_[jj];
        const uint j = jj, h = (j0 + jj) >> 2;
        qa[0 + h] += dot(bytes4((la & 0x0F0F0F0Fu) | ((hb << 4) & 0x30303030u)), xv[j]);
        qa[2 + h] += dot(bytes4((lb & 0x0F0F0F0Fu) | ((hb << 2) & 0x30303030u)), xv[8 + j]);
        qa[4 + h] += dot(bytes4(((la >> 4) & 0x0F0F0F0Fu) | (hb & 0x30303030u)), xv[16 + j]);
        qa[6 + h] += dot(bytes4(((lb >> 4) & 0x0F0F0F0Fu) | ((hb >> 2) & 0x30303030u)), xv[24 + j]);
      }
      float t = 0.0;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const uint w = rd16(bb, 192 + n * 8 + 2 * i);  // scales[n*8 + 2i] (unit i, first 16), [.. + 1] (second 16)
        t += float(bitfieldExtract(int(w), 0, 8)) * (qa[i * 2] - 32.0 * xs[i * 2]) +
             float(bitfieldExtract(int(w), 8, 8)) * (qa[i * 2 + 1] - 32.0 * xs[i * 2 + 1]);
      }
#endif
      acc[r] += rdf16(bb, 208) * t;
    }
  }
#elif defined(A_PLAIN)
  for (uint i = tid; i < p.ncols; i += WG_SIZE) {
    const float xv = x_at(p.x_offset + i);
    [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r)
      if (slot_ok(row0, r)) acc[r] += element(p.a_offset + slot_row(row0, r) * p.row_stride, i) * xv;
  }
#else
#if defined(DATA_A_Q8_0)
  if (A_WIDE != 0) {
    // Q8_0 by pairs of blocks (64 values): 68 bytes, 17 32-bit words with the pair 4-byte aligned (the
    // host checks); block 0's quants start 2 bytes into word 0 (shifted out of words 0-8), block 1's scale
    // is the top half of word 8 and its quants are words 9-16. 17 loads instead of 34 16-bit ones.
    const uint pairs = p.ncols / 64, part = tid % LPI, j0 = part * NJ;
    for (uint g = tid / LPI; g < pairs; g += WG_SIZE / LPI) {
      const uint xb = p.x_offset + g * 64 + j0 * 4;
      vec4 xv[16];  // block 0's rounds at 0 .., block 1's at 8 ..
      [[unroll]] for (uint j = 0; j < NJ; ++j) {
        xv[j] = x_quad(xb + j * 4, xa);
        xv[8 + j] = x_quad(xb + 32 + j * 4, xa);
      }
#if defined(X_Q8)
      // LPI 1: the two blocks' x (32 values each) rounded, with their scales.
      uint xq0[8], xq1[8];
      float xd0, xd1;
      {
        vec4 u0[8], u1[8];
        [[unroll]] for (uint j = 0; j < 8; ++j) {
          u0[j] = xv[j];
          u1[j] = xv[8 + j];
        }
        xd0 = q8_quant(u0, xq0);
        xd1 = q8_quant(u1, xq1);
      }
#endif
      [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) {
        if (slot_skips(row0, r)) continue;
        const uint w0 = (p.a_offset + slot_load_row(row0, r) * p.row_stride + g * 2 * BLOCK_U16) >> 1;
        uint w[17];  // at LPI 1 the whole pair; else word 0, 8 (the scales) and this invocation's rounds
        if (LPI == 1) {
          [[unroll]] for (uint i = 0; i < 17; ++i) w[i] = data_a32[w0 + i];
        } else {
          w[0] = data_a32[w0];
          w[8] = data_a32[w0 + 8];
          [[unroll]] for (uint j = 0; j < NJ; ++j) {
            w[j0 + j] = data_a32[w0 + j0 + j];
            w[j0 + j + 1] = data_a32[w0 + j0 + j + 1];
            w[9 + j0 + j] = data_a32[w0 + 9 + j0 + j];
          }
        }
#if defined(X_Q8)
        int i0 = 0, i1 = 0;
        [[unroll]] for (uint j = 0; j < 8; ++j) {
          i0 += sdot4((w[j] >> 16) | (w[j + 1] << 16), xq0[j]);
          i1 += sdot4(w[9 + j], xq1[j]);
        }
        const float q0 = xd0 * float(i0), q1 = xd1 * float(i1);
#else
        float q0 = 0.0, q1 = 0.0;
        [[unroll]] for (uint j = 0; j < NJ; ++j) {
          q0 += dot(sbytes4((w[j0 + j] >> 16) | (w[j0 + j + 1] << 16)), xv[j]);
          q1 += dot(sbytes4(w[9 + j0 + j]), xv[8 + j]);
        }
#endif
        acc[r] += unpackHalf2x16(w[0]).x * q0 + unpackHalf2x16(w[8] >> 16).x * q1;
      }
    }
  } else
#endif
  {
    const uint units = p.ncols / 32, part = tid % LPI, j0 = part * NJ;
    for (uint u = tid / LPI; u < units; u += WG_SIZE / LPI) {
      const uint blk = u / (QK / 32), sub = u % (QK / 32);
      const uint xb = p.x_offset + u * 32;
      vec4 xv[8];  // rounds j0 .. j0 + NJ - 1 at 0 .. NJ - 1
      vec2 xsum = vec2(0.0);  // sums of x over the unit's first and second 16 values (these rounds)
      [[unroll]] for (uint j = 0; j < NJ; ++j) {
        xv[j] = x_quad(xb + (j0 + j) * 4, xa);
        if (j0 + j < 4) xsum.x += dot(xv[j], vec4(1.0));
        else xsum.y += dot(xv[j], vec4(1.0));
      }
      [[unroll]] for (uint r = 0; r < NUM_ROWS; ++r) {
        if (!slot_ok(row0, r)) continue;
        const uint bb = p.a_offset + slot_row(row0, r) * p.row_stride + blk * BLOCK_U16;
        // sum (q a + b) x = a sum q x + b sum x: the unit's scales are decoded once.
        const vec4 sc = unit_scales(bb, sub);
        float q0 = 0.0, q1 = 0.0;
        [[unroll]] for (uint j = 0; j < NJ; ++j) {
          const float d = dot(unit_q4(bb, sub, j0 + j), xv[j]);
          if (j0 + j < 4) q0 += d;
          else q1 += d;
        }
        acc[r] += sc.x * q0 + sc.y * xsum.x + sc.z * q1 + sc.w * xsum.y;
      }
    }
  }

#endif

  wg_sum_rows(acc);  // acc[r]: row slot r's whole dot product
  const float cs = carried_scale();
  float ss = 0.0;  // NORM_CARRY 1: this workgroup's sum of y^2
  [[unroll]] for (uint r = 0; r < OUT_ROWS; ++r) {
    if (tid == 0 && row0 + r < p.nrows) {
      float v = SWIGLU != 0 ? silu_mul(acc[r] * cs, acc[OUT_ROWS + r] * cs) : acc[r] * cs;
      if ((p.flags & 1u) != 0) v += bias[p.bias_offset + row0 + r];
      if ((p.flags & 2u) != 0) v += y[p.y_offset + row0 + r];
      y[p.y_offset + row0 + r] = v;
      ss += carry_row(row0 + r, v);
    }
  }
  carry_partial(ss);
}
