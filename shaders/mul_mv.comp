#version 450
#extension GL_GOOGLE_include_directive : require
// y[row] = dot(A[row, :], x) (+ bias[row]) (+ y[row]): the decode matrix-vector product for one weight type.
// A: nrows x ncols in its file type; x, y, bias: f32. NUM_ROWS consecutive rows per workgroup share x.
// Invocations stride over 32-element units (quantized) or elements (plain types), accumulate in f32, and
// reduce over the workgroup.
#include "common.glsl"

layout(constant_id = 2) const uint NUM_ROWS = 1;

layout(binding = 0) readonly buffer A { uint16_t data_a[]; };
// Blocks whose size is a multiple of 4 bytes start 4-byte aligned in every row (bindings start aligned, rows
// are whole blocks): their quants are read as whole 32-bit words through a second view of binding 0, half the
// loads of 16-bit reads (on a CPU implementation every load of a lane-varying address is a gather).
#if defined(DATA_A_Q4_1) || defined(DATA_A_Q5_1) || defined(DATA_A_Q2_K) || defined(DATA_A_Q4_K) || \
    defined(DATA_A_Q5_K) || defined(DATA_A_IQ4_XS)
#define A_WORDS32 1
layout(binding = 0) readonly buffer A32 { uint data_a32[]; };
#endif
layout(binding = 1) readonly buffer X { float x[]; };
layout(binding = 2) buffer Y { float y[]; };
layout(binding = 3) readonly buffer B { float bias[]; };

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
} p;

#include "types.glsl"

void main() {
  const uint row0 = group_index() * NUM_ROWS;
  if (row0 >= p.nrows) return;
  const uint tid = gl_LocalInvocationID.x;
  float acc[NUM_ROWS];
  for (uint r = 0; r < NUM_ROWS; ++r) acc[r] = 0.0;

#if defined(A_PLAIN)
  for (uint i = tid; i < p.ncols; i += WG_SIZE) {
    const float xv = x[p.x_offset + i];
    for (uint r = 0; r < NUM_ROWS; ++r)
      if (row0 + r < p.nrows) acc[r] += element(p.a_offset + (row0 + r) * p.row_stride, i) * xv;
  }
#else
  const uint units = p.ncols / 32;
  for (uint u = tid; u < units; u += WG_SIZE) {
    const uint blk = u / (QK / 32), sub = u % (QK / 32);
    const uint xb = p.x_offset + u * 32;
    vec4 xv[8];
    for (uint j4 = 0; j4 < 8; ++j4)
      xv[j4] = vec4(x[xb + j4 * 4], x[xb + j4 * 4 + 1], x[xb + j4 * 4 + 2], x[xb + j4 * 4 + 3]);
    const vec4 one = vec4(1.0);
    const vec2 xsum = vec2(dot(xv[0] + xv[1] + xv[2] + xv[3], one), dot(xv[4] + xv[5] + xv[6] + xv[7], one));
    for (uint r = 0; r < NUM_ROWS; ++r) {
      if (row0 + r >= p.nrows) break;
      const uint bb = p.a_offset + (row0 + r) * p.row_stride + blk * BLOCK_U16;
      // sum (q a + b) x = a sum q x + b sum x: the unit's scales are decoded once.
      const vec4 sc = unit_scales(bb, sub);
      float q0 = 0.0, q1 = 0.0;
      for (uint j4 = 0; j4 < 4; ++j4) q0 += dot(unit_q4(bb, sub, j4), xv[j4]);
      for (uint j4 = 4; j4 < 8; ++j4) q1 += dot(unit_q4(bb, sub, j4), xv[j4]);
      acc[r] += sc.x * q0 + sc.y * xsum.x + sc.z * q1 + sc.w * xsum.y;
    }
  }
#endif

  for (uint r = 0; r < NUM_ROWS; ++r) {
    const float t = wg_sum(acc[r]);
    if (tid == 0 && row0 + r < p.nrows) {
      float v = t;
      if ((p.flags & 1u) != 0) v += bias[p.bias_offset + row0 + r];
      if ((p.flags & 2u) != 0) v += y[p.y_offset + row0 + r];
      y[p.y_offset + row0 + r] = v;
    }
  }
}
