#version 450
#extension GL_GOOGLE_include_directive : require
// rms_norm.comp for CPU implementations (Ops::rms_norm): the same arithmetic on rows of whole vec4s, x and
// w read as uniform texel buffers (lavapipe: one 16-byte load per lane, where a storage-buffer load is a
// loop over the lanes with a branch per component), y written as vec4s; one workgroup per row. x and y may
// be the same memory: every invocation reads and writes only its own vec4s, and all its reads come first.
#include "common.glsl"

layout(constant_id = 2) const uint HAS_WEIGHT = 1;

layout(binding = 0) uniform usamplerBuffer x_tex;
layout(binding = 1) uniform usamplerBuffer w_tex;
layout(binding = 2) writeonly buffer Y { vec4 y[]; };

// Mirror: penser::vulkan::RmsNormCpuPush (offsets and strides in vec4s / texels from each binding's start)
layout(push_constant) uniform Push {
  uint ncols4;
  uint nrows;
  uint x_offset;
  uint x_stride4;
  uint y_offset;
  uint y_stride4;
  uint w_offset;
  float eps;
} p;

vec4 load_x(uint i) { return uintBitsToFloat(texelFetch(x_tex, int(i))); }

void main() {
  const uint row = group_index();
  if (row >= p.nrows) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint xb = p.x_offset + row * p.x_stride4, yb = p.y_offset + row * p.y_stride4;
  vec4 ss = vec4(0.0);
  for (uint i = tid; i < p.ncols4; i += WG_SIZE) {
    const vec4 v = load_x(xb + i);
    ss += v * v;
  }
  const float scale = inversesqrt(wg_sum((ss.x + ss.y) + (ss.z + ss.w)) / float(4 * p.ncols4) + p.eps);
  for (uint i = tid; i < p.ncols4; i += WG_SIZE) {
    vec4 v = load_x(xb + i) * scale;
    if (HAS_WEIGHT != 0) v *= uintBitsToFloat(texelFetch(w_tex, int(p.w_offset + i)));
    y[yb + i] = v;
  }
}
