#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// swiglu.comp for CPU implementations (Ops::swiglu, Options::small_cpu): y = silu(g) * u on rows of whole
// vec4s, VPI vec4s per invocation; g and u read as uniform texel buffers (lavapipe fetches a texel per lane
// with one 16-byte load, where a storage-buffer load is a loop over the lanes with a branch per component);
// rows ncols4 vec4s long, stride4 apart, one per workgroup row (gl_WorkGroupID.y: no division per element).
// y may be g (in place): every invocation reads and writes only its own vec4s.
#include "common.glsl"

layout(constant_id = 2) const uint VPI = 4;

layout(binding = 0) uniform usamplerBuffer g_tex;
layout(binding = 1) uniform usamplerBuffer u_tex;
layout(binding = 2) writeonly buffer Y { vec4 y[]; };

// Mirror: penser::vulkan::SwigluCpuPush (offsets in vec4s from each binding's start)
layout(push_constant) uniform Push { uint ncols4; uint nrows; uint g_offset; uint u_offset; uint y_offset; uint stride4; } p;

void main() {
  const uint at = gl_WorkGroupID.y * p.stride4;
  const uint first = gl_WorkGroupID.x * (WG_SIZE * VPI) + gl_LocalInvocationID.x;
  [[unroll]] for (uint k = 0; k < VPI; ++k) {
    const uint c = first + k * WG_SIZE;
    if (c < p.ncols4) {
      const vec4 g = uintBitsToFloat(texelFetch(g_tex, int(p.g_offset + at + c)));
      const vec4 u = uintBitsToFloat(texelFetch(u_tex, int(p.u_offset + at + c)));
      y[p.y_offset + at + c] = g / (1.0 + exp(-g)) * u;
    }
  }
}
