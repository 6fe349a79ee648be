#version 450
#extension GL_GOOGLE_include_directive : require
// Combines the n_split partial results of attn_decode_split.comp for each head (one workgroup per head):
//   M = max_s m_s,  L = sum_s l_s exp(m_s - M),  out[d] = sum_s part_s[d] exp(m_s - M) / L
#include "common.glsl"

layout(binding = 0) readonly buffer P { float part[]; };
layout(binding = 1) writeonly buffer O { float o[]; };

// Mirror: penser::vulkan::AttnReducePush
layout(push_constant) uniform Push { uint head_dim; uint n_head; uint n_split; uint o_offset; } p;

void main() {
  const uint h = group_index();
  if (h >= p.n_head) return;
  const uint stride = p.head_dim + 2, hb = h * p.n_split * stride;
  float mx = -1e30;
  for (uint s = 0; s < p.n_split; ++s) mx = max(mx, part[hb + s * stride + p.head_dim]);
  float l = 0.0;
  for (uint s = 0; s < p.n_split; ++s)
    l += part[hb + s * stride + p.head_dim + 1] * exp(part[hb + s * stride + p.head_dim] - mx);
  for (uint d = gl_LocalInvocationID.x; d < p.head_dim; d += WG_SIZE) {
    float acc = 0.0;
    for (uint s = 0; s < p.n_split; ++s) acc += part[hb + s * stride + d] * exp(part[hb + s * stride + p.head_dim] - mx);
    o[p.o_offset + h * p.head_dim + d] = acc / l;
  }
}
