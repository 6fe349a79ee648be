#version 450
#extension GL_GOOGLE_include_directive : require
// x[r, :] = softmax(scale * x[r, :]) in place, in f32: one workgroup per row.
#include "common.glsl"

layout(binding = 0) buffer X { float x[]; };

// Mirror: penser::vulkan::SoftMaxPush
layout(push_constant) uniform Push { uint ncols; uint nrows; uint offset; uint stride; float scale; } p;

void main() {
  const uint row = group_index();
  if (row >= p.nrows) return;
  const uint tid = gl_LocalInvocationID.x, xb = p.offset + row * p.stride;
  float m = -1.0 / 0.0;
  for (uint i = tid; i < p.ncols; i += WG_SIZE) m = max(m, x[xb + i] * p.scale);
  m = wg_max(m);
  float s = 0.0;
  for (uint i = tid; i < p.ncols; i += WG_SIZE) {
    const float e = exp(x[xb + i] * p.scale - m);
    x[xb + i] = e;
    s += e;
  }
  const float inv = 1.0 / wg_sum(s);
  for (uint i = tid; i < p.ncols; i += WG_SIZE) x[xb + i] *= inv;
}
