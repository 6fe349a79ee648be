#version 450
#extension GL_GOOGLE_include_directive : require
// Causal attention of n_tokens new queries over the f16 KV cache (their own K/V already stored): query i
// sits at position positions[pos_offset + i] and sees cache positions 0..that. Grouped KV heads: head h
// reads KV head h / (n_head / n_head_kv). A workgroup takes BQ queries of one head and walks the cache in
// tiles of BKV positions with an online softmax (running max m, sum l, output rescaled by exp(m_old - m)),
// so no score row is ever stored whole: any context length fits. f32 throughout; f16 only in the cache.
#include "common.glsl"

layout(constant_id = 2) const uint HD = 64;   // head_dim
layout(constant_id = 3) const uint BQ = 4;    // queries per workgroup
layout(constant_id = 4) const uint BKV = 16;  // cache positions per tile

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { uint16_t k_cache[]; };
layout(binding = 2) readonly buffer V { uint16_t v_cache[]; };
layout(binding = 3) writeonly buffer O { float o[]; };
layout(binding = 4) readonly buffer Pos { int positions[]; };

// Mirror: penser::vulkan::AttnPrefillPush
layout(push_constant) uniform Push {
  uint n_tokens;
  uint n_head;
  uint n_head_kv;
  uint q_offset;
  uint q_stride;   // floats between tokens of q
  uint k_offset;
  uint v_offset;
  uint kv_stride;  // f16 values per cached position (n_head_kv * head_dim)
  uint o_offset;
  uint pos_offset;
  float scale;     // 1 / sqrt(head_dim)
  uint o_stride;   // floats between tokens of o (the prompt path's q rows lie inside q|k|v rows)
} p;

shared float q_s[BQ * HD];
shared float kv_s[BKV * HD];
shared float s_s[BQ * BKV];
shared float m_s[BQ], l_s[BQ], alpha_s[BQ];
shared int qpos_s[BQ];

const uint PER = (BQ * HD + WG_SIZE - 1) / WG_SIZE;  // output elements per invocation

void main() {
  const uint q0 = gl_WorkGroupID.x * BQ, h = gl_WorkGroupID.y;
  const uint tid = gl_LocalInvocationID.x;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint nq = min(BQ, p.n_tokens - q0);

  for (uint e = tid; e < BQ * HD; e += WG_SIZE) {
    const uint i = e / HD, d = e % HD;
    q_s[e] = i < nq ? q[p.q_offset + (q0 + i) * p.q_stride + h * HD + d] * p.scale : 0.0;
  }
  for (uint i = tid; i < BQ; i += WG_SIZE) {
    qpos_s[i] = i < nq ? positions[p.pos_offset + q0 + i] : -1;  // -1: a padding row sees nothing
    m_s[i] = -1e30;
    l_s[i] = 0.0;
  }
  float acc[PER];
  for (uint j = 0; j < PER; ++j) acc[j] = 0.0;
  barrier();
  int last = -1;  // the furthest position any query of this workgroup sees
  for (uint i = 0; i < nq; ++i) last = max(last, qpos_s[i]);
  const uint n_kv = uint(last + 1);

  for (uint t0 = 0; t0 < n_kv; t0 += BKV) {
    const uint kb = p.k_offset + kvh * HD, vb = p.v_offset + kvh * HD;
    for (uint e = tid; e < BKV * HD; e += WG_SIZE) {
      const uint j = e / HD, d = e % HD;
      kv_s[e] = t0 + j < n_kv ? unpackHalf2x16(uint(k_cache[kb + (t0 + j) * p.kv_stride + d])).x : 0.0;
    }
    barrier();
    for (uint e = tid; e < BQ * BKV; e += WG_SIZE) {
      const uint i = e / BKV, j = e % BKV;
      float s = -1.0 / 0.0;  // masked: exp gives 0
      if (int(t0 + j) <= qpos_s[i]) {
        s = 0.0;
        for (uint d = 0; d < HD; ++d) s += q_s[i * HD + d] * kv_s[j * HD + d];
      }
      s_s[e] = s;
    }
    barrier();
    for (uint i = tid; i < BQ; i += WG_SIZE) {
      const float m_old = m_s[i];
      float m = m_old;
      for (uint j = 0; j < BKV; ++j) m = max(m, s_s[i * BKV + j]);
      float sum = 0.0;
      for (uint j = 0; j < BKV; ++j) {
        const float e = exp(s_s[i * BKV + j] - m);
        s_s[i * BKV + j] = e;
        sum += e;
      }
      const float alpha = exp(m_old - m);
      alpha_s[i] = alpha;
      l_s[i] = l_s[i] * alpha + sum;
      m_s[i] = m;
    }
    // V replaces K in the same tile: every score has been computed above.
    for (uint e = tid; e < BKV * HD; e += WG_SIZE) {
      const uint j = e / HD, d = e % HD;
      kv_s[e] = t0 + j < n_kv ? unpackHalf2x16(uint(v_cache[vb + (t0 + j) * p.kv_stride + d])).x : 0.0;
    }
    barrier();
    for (uint jj = 0; jj < PER; ++jj) {
      const uint e = tid + jj * WG_SIZE;
      if (e >= BQ * HD) break;
      const uint i = e / HD, d = e % HD;
      float a = acc[jj] * alpha_s[i];
      for (uint j = 0; j < BKV; ++j) a += s_s[i * BKV + j] * kv_s[j * HD + d];
      acc[jj] = a;
    }
    barrier();  // kv_s and s_s are overwritten by the next tile
  }

  for (uint jj = 0; jj < PER; ++jj) {
    const uint e = tid + jj * WG_SIZE;
    if (e >= BQ * HD) break;
    const uint i = e / HD, d = e % HD;
    if (i < nq) o[p.o_offset + (q0 + i) * p.o_stride + h * HD + d] = acc[jj] / l_s[i];
  }
}
