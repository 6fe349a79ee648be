#version 450
#extension GL_GOOGLE_include_directive : require
// Writes n_tokens rows of f32 K or V (n values each) into the f16 cache at their positions:
// cache[dst_offset + pos * dst_stride + i] = f16(src[src_offset + t * n + i]).
#include "common.glsl"

layout(binding = 0) readonly buffer Src { float src[]; };
layout(binding = 1) writeonly buffer Dst { uint16_t cache[]; };
layout(binding = 2) readonly buffer Pos { int positions[]; };

// Mirror: penser::vulkan::KvStorePush
layout(push_constant) uniform Push { uint n; uint n_tokens; uint src_offset; uint dst_offset; uint dst_stride; uint pos_offset; } p;

void main() {
  const uint gid = group_index() * WG_SIZE + gl_LocalInvocationID.x;
  if (gid >= p.n * p.n_tokens) return;
  const uint t = gid / p.n, i = gid % p.n;
  const uint pos = uint(positions[p.pos_offset + t]);
  cache[p.dst_offset + pos * p.dst_stride + i] = uint16_t(float_to_half_bits(src[p.src_offset + gid]));
}
