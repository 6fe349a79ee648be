#version 450
#extension GL_GOOGLE_include_directive : require
// The bandwidth probe's read (`penser-cli devices --bandwidth`, inference/vulkan/probe.cpp): the sum of every
// 32-bit word of a buffer, read as WIDTH words per load. A workgroup takes a contiguous range of loads and
// its invocations stride through it (invocation i reads load i, i + WG_SIZE, ...: coalesced on a GPU); each
// invocation writes its partial sum, which the host adds up and checks, so a read that is skipped fails.
#include "common.glsl"

// 32-bit words per load: 1 (uint), 2 (uvec2), 4 (uvec4); with PROBE_INT64 (devices with shaderInt64:
// a CPU implementation loads each component of each lane on its own, so 8-byte components halve the
// loads) 4 (u64vec2) or 8 (u64vec4).
layout(constant_id = 2) const uint WIDTH = 4;
// 0: invocation i reads loads i, i + WG_SIZE, ... of the workgroup's range (coalesced on a GPU). 1: each
// subgroup walks its own contiguous part, its invocations side by side (a CPU implementation runs a
// subgroup's lanes as one SIMD thread through the whole shader, one subgroup after the other: with layout 0
// a subgroup reads a few bytes of every WG_SIZE * 16 and the next subgroup comes back for the rest).
layout(constant_id = 3) const uint LAYOUT = 0;

layout(binding = 0) readonly buffer A1 { uint a1[]; };
layout(binding = 0) readonly buffer A2 { uvec2 a2[]; };
layout(binding = 0) readonly buffer A4 { uvec4 a4[]; };
#if defined(PROBE_INT64)
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
layout(binding = 0) readonly buffer A8 { u64vec2 a8[]; };
layout(binding = 0) readonly buffer A16 { u64vec4 a16[]; };
#endif
layout(binding = 1) buffer O { uint o[]; };

// Mirror: penser::vulkan::ProbeReadPush
layout(push_constant) uniform Push {
  uint n;           // loads (of WIDTH words) in this binding
  uint per_group;   // loads per workgroup (a multiple of WG_SIZE)
  uint out_offset;  // this dispatch's first partial sum
} p;

uvec4 load(uint i) {
#if defined(PROBE_INT64)
  if (WIDTH == 8) {
    const u64vec4 v = a16[i];
    return uvec4(unpack32(v.x), unpack32(v.y)) + uvec4(unpack32(v.z), unpack32(v.w));
  }
  if (WIDTH == 4) { const u64vec2 v = a8[i]; return uvec4(unpack32(v.x), unpack32(v.y)); }
#endif
  if (WIDTH == 4) return a4[i];
  if (WIDTH == 2) return uvec4(a2[i], 0u, 0u);
  return uvec4(a1[i], 0u, 0u, 0u);
}

void main() {
  const uint g = group_index(), tid = gl_LocalInvocationID.x;
  uint begin = g * p.per_group, end = min(begin + p.per_group, p.n);
  uint lane = tid, step = WG_SIZE;
  if (LAYOUT == 1) {
    const uint part = p.per_group / gl_NumSubgroups;  // per_group is a multiple of WG_SIZE
    begin += gl_SubgroupID * part;
    end = min(begin + part, end);
    lane = gl_SubgroupInvocationID;
    step = gl_SubgroupSize;
  }
  // Four independent loads per round, so a GPU has several in flight per invocation.
  uvec4 s0 = uvec4(0), s1 = uvec4(0), s2 = uvec4(0), s3 = uvec4(0);
  uint i = begin + lane;
  for (; i + 3 * step < end; i += 4 * step) {
    s0 += load(i);
    s1 += load(i + step);
    s2 += load(i + 2 * step);
    s3 += load(i + 3 * step);
  }
  for (; i < end; i += step) s0 += load(i);
  const uvec4 s = s0 + s1 + s2 + s3;
  o[p.out_offset + g * WG_SIZE + tid] = s.x + s.y + s.z + s.w;
}
