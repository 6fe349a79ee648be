#version 450
#extension GL_GOOGLE_include_directive : require
// Attention for one new token over the f16 KV cache, one workgroup per query head; grouped KV heads:
// head h reads KV head h / (n_head / n_head_kv). n_kv = positions[pos_offset] + 1 (the new token's K/V is
// already stored). Scores live in a scratch buffer (any context length fits); softmax in f32.
//   out[h, :] = sum_t softmax_t(scale * q[h] . K[t, kvh]) * V[t, kvh, :]
#include "common.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { uint16_t k_cache[]; };
layout(binding = 2) readonly buffer V { uint16_t v_cache[]; };
layout(binding = 3) writeonly buffer O { float o[]; };
layout(binding = 4) buffer S { float scores[]; };
layout(binding = 5) readonly buffer Pos { int positions[]; };

// Mirror: penser::vulkan::AttnDecodePush
layout(push_constant) uniform Push {
  uint head_dim;
  uint n_head;
  uint n_head_kv;
  uint kv_stride;      // f16 values per cached position (n_head_kv * head_dim)
  uint q_offset;
  uint k_offset;
  uint v_offset;
  uint o_offset;
  uint scores_stride;  // floats per head in the scratch (>= n_ctx)
  uint pos_offset;
  float scale;         // 1 / sqrt(head_dim)
  uint pad;
} p;

#include "attn_scores.glsl"

void main() {
  const uint h = group_index();
  if (h >= p.n_head) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint kvh = h / (p.n_head / p.n_head_kv);
  const uint n_kv = uint(positions[p.pos_offset]) + 1;
  const uint qb = p.q_offset + h * p.head_dim, sb = h * p.scores_stride;

  float m = wg_max(score_range(0, n_kv, qb, kvh, sb));
  float l = exp_range(0, n_kv, sb, m);
  l = wg_sum(l);  // its barrier also orders the score writes above before the reads below
  memoryBarrierBuffer();
  barrier();
  const float inv = 1.0 / l;
  for (uint d = tid; d < p.head_dim; d += WG_SIZE) {
    float acc = 0.0;
    for (uint t = 0; t < n_kv; ++t)
      acc += scores[sb + t] * unpackHalf2x16(uint(v_cache[p.v_offset + t * p.kv_stride + kvh * p.head_dim + d])).x;
    o[p.o_offset + h * p.head_dim + d] = acc * inv;
  }
}
