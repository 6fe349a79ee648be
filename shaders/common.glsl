// Shared by every shader: extensions, the workgroup size as specialization constant 0, and workgroup-wide
// reductions with a subgroup path (spec constant 1 = 1) and a shared-memory fall-back (0).
#extension GL_EXT_shader_16bit_storage : require
#extension GL_KHR_shader_subgroup_basic : enable
#extension GL_KHR_shader_subgroup_arithmetic : enable

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;
layout(constant_id = 0) const uint WG_SIZE = 64;       // a power of two
layout(constant_id = 1) const uint USE_SUBGROUP = 1;   // the device has subgroup arithmetic in compute

shared float red_shared[WG_SIZE];

// Workgroup-wide sum/max of one value per invocation; every invocation gets the result. Call from uniform
// control flow.
float wg_sum(float v) {
  barrier();  // red_shared may still be read by a previous reduction
  if (USE_SUBGROUP != 0) {
    const float s = subgroupAdd(v);
    if (subgroupElect()) red_shared[gl_SubgroupID] = s;
    barrier();
    float t = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) t += red_shared[i];
    return t;
  }
  red_shared[gl_LocalInvocationID.x] = v;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (gl_LocalInvocationID.x < s) red_shared[gl_LocalInvocationID.x] += red_shared[gl_LocalInvocationID.x + s];
    barrier();
  }
  return red_shared[0];
}

float wg_max(float v) {
  barrier();
  if (USE_SUBGROUP != 0) {
    const float s = subgroupMax(v);
    if (subgroupElect()) red_shared[gl_SubgroupID] = s;
    barrier();
    float t = red_shared[0];
    for (uint i = 1; i < gl_NumSubgroups; ++i) t = max(t, red_shared[i]);
    return t;
  }
  red_shared[gl_LocalInvocationID.x] = v;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (gl_LocalInvocationID.x < s)
      red_shared[gl_LocalInvocationID.x] = max(red_shared[gl_LocalInvocationID.x], red_shared[gl_LocalInvocationID.x + s]);
    barrier();
  }
  return red_shared[0];
}

// The workgroup's index in a 2-D grid (x up to 65535 on some devices, so large counts spill into y).
uint group_index() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

float half_bits_to_float(uint h) { return unpackHalf2x16(h).x; }
uint float_to_half_bits(float f) { return packHalf2x16(vec2(f, 0.0)) & 0xFFFFu; }
