#version 450
#extension GL_GOOGLE_include_directive : require
// Rotary position embedding, in place on x = [n_tokens * n_head rows, head_dim]. Pair i (of n_dims/2)
// rotates by theta = pos * base^(-2i/n_dims) / freq_factor[i]. Normal mode (llama): elements (2i, 2i+1);
// NeoX mode (qwen2/3): elements (i, i + n_dims/2). Positions come from a buffer so that a recorded command
// buffer serves every step.
#include "common.glsl"

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer Pos { int positions[]; };
layout(binding = 2) readonly buffer FF { float freq_factors[]; };

// Mirror: penser::vulkan::RopePush
layout(push_constant) uniform Push {
  uint head_dim;
  uint n_dims;     // rotated dimensions (<= head_dim)
  uint n_head;     // rows per token
  uint n_rows;     // n_tokens * n_head
  uint x_offset;
  uint pos_offset;
  uint neox;
  uint has_freq_factors;
  float freq_base;
} p;

void main() {
  const uint half_dims = p.n_dims / 2;
  const uint gid = group_index() * WG_SIZE + gl_LocalInvocationID.x;
  if (gid >= p.n_rows * half_dims) return;
  const uint row = gid / half_dims, i = gid % half_dims;
  const float pos = float(positions[p.pos_offset + row / p.n_head]);
  float theta = pos * pow(p.freq_base, -2.0 * float(i) / float(p.n_dims));
  if (p.has_freq_factors != 0) theta /= freq_factors[i];
  const float c = cos(theta), s = sin(theta);
  const uint base = p.x_offset + row * p.head_dim;
  const uint i0 = p.neox != 0 ? base + i : base + 2 * i;
  const uint i1 = p.neox != 0 ? base + i + half_dims : base + 2 * i + 1;
  const float a = x[i0], b = x[i1];
  x[i0] = a * c - b * s;
  x[i1] = a * s + b * c;
}
