#version 450
#extension GL_GOOGLE_include_directive : require
// Split-K attention for one new token: the cache positions 0..n_kv-1 are cut into n_split ranges of at least
// min_chunk positions, one workgroup per (head, range), so a long context keeps many workgroups busy where
// attn_decode has one per head. Each writes its range's partial result unnormalised, with the range's max
// score m and sum of exp(score - m) l: part[(h * n_split + s) * (head_dim + 2) + d], then m, then l.
// attn_reduce.comp combines the ranges. n_kv comes from the positions buffer, so the split adapts to the
// context length inside one recording: a short context fills only the first ranges (the rest exit at once).
#include "common.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { uint16_t k_cache[]; };
layout(binding = 2) readonly buffer V { uint16_t v_cache[]; };
layout(binding = 3) writeonly buffer P { float part[]; };
layout(binding = 4) buffer S { float scores[]; };
layout(binding = 5) readonly buffer Pos { int positions[]; };

// Mirror: penser::vulkan::AttnSplitPush
layout(push_constant) uniform Push {
  uint head_dim;
  uint n_head;
  uint n_head_kv;
  uint kv_stride;
  uint q_offset;
  uint k_offset;
  uint v_offset;
  uint n_split;
  uint scores_stride;
  uint pos_offset;
  float scale;
  uint min_chunk;
} p;

#include "attn_scores.glsl"

void main() {
  const uint g = group_index();
  const uint h = g / p.n_split, s = g % p.n_split;
  if (h >= p.n_head) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint n_kv = uint(positions[p.pos_offset]) + 1;
  const uint chunk = max(p.min_chunk, (n_kv + p.n_split - 1) / p.n_split);
  const uint t0 = min(s * chunk, n_kv), t1 = min(t0 + chunk, n_kv);
  const uint pb = (h * p.n_split + s) * (p.head_dim + 2);
  if (t0 == t1) {  // the whole workgroup leaves together: an empty range weighs nothing in the reduction
    for (uint d = tid; d < p.head_dim; d += WG_SIZE) part[pb + d] = 0.0;
    if (tid == 0) {
      part[pb + p.head_dim] = -1e30;
      part[pb + p.head_dim + 1] = 0.0;
    }
    return;
  }
  const uint qb = p.q_offset + h * p.head_dim, sb = h * p.scores_stride;
  float m = wg_max(score_range(t0, t1, qb, kvh, sb));
  float l = exp_range(t0, t1, sb, m);
  l = wg_sum(l);  // its barrier also orders the score writes above before the reads below
  memoryBarrierBuffer();
  barrier();
  for (uint d = tid; d < p.head_dim; d += WG_SIZE) {
    float acc = 0.0;
    for (uint t = t0; t < t1; ++t)
      acc += scores[sb + t] * unpackHalf2x16(uint(v_cache[p.v_offset + t * p.kv_stride + kvh * p.head_dim + d])).x;
    part[pb + d] = acc;
  }
  if (tid == 0) {
    part[pb + p.head_dim] = m;
    part[pb + p.head_dim + 1] = l;
  }
}
