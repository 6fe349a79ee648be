#version 450
#extension GL_GOOGLE_include_directive : require
// y[i] = a[i] + b[i % b_len]: the residual add (b_len = n) and a broadcast bias add (b_len = row length).
#include "common.glsl"

layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer Y { float y[]; };

// Mirror: penser::vulkan::AddPush
layout(push_constant) uniform Push { uint n; uint a_offset; uint b_offset; uint y_offset; uint b_len; } p;

void main() {
  const uint i = group_index() * WG_SIZE + gl_LocalInvocationID.x;
  if (i >= p.n) return;
  y[p.y_offset + i] = a[p.a_offset + i] + b[p.b_offset + i % p.b_len];
}
