#version 450
#extension GL_GOOGLE_include_directive : require
// y = silu(g) * u, silu(g) = g / (1 + exp(-g)): the gated feed-forward activation.
#include "common.glsl"

layout(binding = 0) readonly buffer G { float g[]; };
layout(binding = 1) readonly buffer U { float u[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

// Mirror: penser::vulkan::SwigluPush
// n values in rows of ncols, `stride` apart in g, u and y (the prompt path: gate and up rows alternate).
layout(push_constant) uniform Push { uint n; uint g_offset; uint u_offset; uint y_offset; uint ncols; uint stride; } p;

void main() {
  const uint i = group_index() * WG_SIZE + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  const uint row = i / p.ncols, at = row * p.stride + (i - row * p.ncols);
  const float gv = g[p.g_offset + at];
  y[p.y_offset + at] = gv / (1.0 + exp(-gv)) * u[p.u_offset + at];
}
