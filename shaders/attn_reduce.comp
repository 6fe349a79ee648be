#version 450
#extension GL_GOOGLE_include_directive : require
// Combines the n_split partial results of attn_decode_split.comp / attn_decode_gqa.comp for each head (one
// workgroup per head):
//   M = max_s m_s,  L = sum_s l_s exp(m_s - M),  out[d] = sum_s part_s[d] exp(m_s - M) / L
// The ranges' weights exp(m_s - M) are computed once, spread over the workgroup, and kept in shared
// memory; then each invocation sums its dimensions over the ranges with independent loads (the weights
// are read from shared memory), skipping the empty ranges (weight 0: m = -1e30, as the attention writes
// them), and scales by 1 / L at the end. Before 2026-11-29 each invocation walked all ranges three times
// with an exp per range and dimension: 17 us a layer on an H200 at 64 ranges (docs/vulkan.md, "On a real
// GPU").
#include "common.glsl"

layout(binding = 0) readonly buffer P { float part[]; };
layout(binding = 1) writeonly buffer O { float o[]; };

// Mirror: penser::vulkan::AttnReducePush
layout(push_constant) uniform Push { uint head_dim; uint n_head; uint n_split; uint o_offset; } p;

const uint MAX_SPLIT = 256;  // Ops::attn_reduce asserts n_split <= this (kMaxDecodeSplit)
shared float weight[MAX_SPLIT];

void main() {
  const uint h = group_index();
  if (h >= p.n_head) return;  // uniform: the whole workgroup leaves
  const uint tid = gl_LocalInvocationID.x, stride = p.head_dim + 2, hb = h * p.n_split * stride;
  float mx = -1e30;
  for (uint s = tid; s < p.n_split; s += WG_SIZE) mx = max(mx, part[hb + s * stride + p.head_dim]);
  mx = wg_max(mx);
  float l = 0.0;
  for (uint s = tid; s < p.n_split; s += WG_SIZE) {
    const float w = exp(part[hb + s * stride + p.head_dim] - mx);
    weight[s] = w;
    l += part[hb + s * stride + p.head_dim + 1] * w;
  }
  l = wg_sum(l);  // its first barrier also makes the weights visible to the whole workgroup
  const float inv_l = 1.0 / l;
  for (uint d = tid; d < p.head_dim; d += WG_SIZE) {
    float acc = 0.0;
    for (uint s = 0; s < p.n_split; ++s) {
      const float w = weight[s];
      if (w != 0.0) acc += part[hb + s * stride + d] * w;
    }
    o[p.o_offset + h * p.head_dim + d] = acc * inv_l;
  }
}
