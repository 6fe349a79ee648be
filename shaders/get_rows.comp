#version 450
#extension GL_GOOGLE_include_directive : require
// out[k, :] = dequantize(A[ids[k], :]) for the ids that fall in this chunk of A [row_begin, row_end):
// the embedding lookup. A table larger than one binding is dispatched once per chunk.
#include "common.glsl"

layout(binding = 0) readonly buffer A { uint16_t data_a[]; };
layout(binding = 1) readonly buffer Ids { uint ids[]; };
layout(binding = 2) writeonly buffer Out { float out_rows[]; };

// Mirror: penser::vulkan::GetRowsPush
layout(push_constant) uniform Push {
  uint ncols;
  uint n_ids;
  uint row_stride;  // 16-bit words per row of A
  uint row_begin;   // first row of A in this binding
  uint row_end;
  uint ids_offset;
  uint out_offset;
  uint out_stride;  // floats between output rows
  uint a_offset;    // 16-bit words from the binding's start to row_begin (bindings start aligned)
} p;

#include "types.glsl"

void main() {
  const uint k = group_index();
  if (k >= p.n_ids) return;
  const uint row = ids[p.ids_offset + k];
  if (row < p.row_begin || row >= p.row_end) return;
  const uint rb = p.a_offset + (row - p.row_begin) * p.row_stride;
  const uint ob = p.out_offset + k * p.out_stride;
  const uint tid = gl_LocalInvocationID.x;
#if defined(A_PLAIN)
  for (uint i = tid; i < p.ncols; i += WG_SIZE) out_rows[ob + i] = element(rb, i);
#else
  for (uint u = tid; u < p.ncols / 32; u += WG_SIZE) {
    const uint bb = rb + (u / (QK / 32)) * BLOCK_U16, sub = u % (QK / 32);
    for (uint j4 = 0; j4 < 8; ++j4) {
      const vec4 v = dequant4(bb, sub, j4);
      const uint o = ob + u * 32 + j4 * 4;
      out_rows[o] = v.x;
      out_rows[o + 1] = v.y;
      out_rows[o + 2] = v.z;
      out_rows[o + 3] = v.w;
    }
  }
#endif
}
