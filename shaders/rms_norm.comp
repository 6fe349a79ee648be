#version 450
#extension GL_GOOGLE_include_directive : require
// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w  (w optional): one workgroup per row. Also the
// per-head Q/K norm of qwen3 (rows = heads, w of length head_dim). x and y may be the same memory.
#include "common.glsl"

layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer W { float w[]; };
layout(binding = 2) buffer Y { float y[]; };

// Mirror: penser::vulkan::RmsNormPush
layout(push_constant) uniform Push {
  uint ncols;
  uint nrows;
  uint x_offset;
  uint x_stride;
  uint y_offset;
  uint y_stride;
  uint w_offset;
  uint has_weight;
  float eps;
} p;

void main() {
  const uint row = group_index();
  if (row >= p.nrows) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint xb = p.x_offset + row * p.x_stride, yb = p.y_offset + row * p.y_stride;
  float ss = 0.0;
  for (uint i = tid; i < p.ncols; i += WG_SIZE) ss += x[xb + i] * x[xb + i];
  const float scale = inversesqrt(wg_sum(ss) / float(p.ncols) + p.eps);
  barrier();  // every read of x precedes any write of y (in place)
  for (uint i = tid; i < p.ncols; i += WG_SIZE) {
    const float v = x[xb + i] * scale;
    y[yb + i] = p.has_weight != 0 ? v * w[p.w_offset + i] : v;
  }
}
