#version 450
#extension GL_GOOGLE_include_directive : require
// The attention inputs after the Q/K/V products, in one dispatch (the decode step, a prompt batch): the same
// arithmetic as rms_norm.comp (qwen3's per-head Q/K norm), rope.comp and kv_store.comp in sequence, which
// would be 4 dispatches (6 with the norms) with a barrier between most of them.
// One workgroup per token and head row of x = [q heads (n_head) | k heads (n_head_kv) | v heads (n_head_kv)]
// (a token's q and k x_stride floats after the previous token's, its v v_stride floats after):
//   q head: (optional) x / sqrt(mean(x^2) + eps) * q_norm, then RoPE, in place;
//   k head: the same with k_norm, written as f16 to k_cache[pos * kv_stride + head * head_dim + i];
//   v head: f16 copy to v_cache at the same place.
// q, k and v live in one binding (the evaluator's activation buffer), at their own element offsets.
#include "common.glsl"

layout(binding = 0) buffer X { float x[]; };
layout(binding = 1) readonly buffer QN { float q_norm[]; };
layout(binding = 2) readonly buffer KN { float k_norm[]; };
layout(binding = 3) readonly buffer FF { float freq_factors[]; };
layout(binding = 4) readonly buffer Pos { int positions[]; };
layout(binding = 5) writeonly buffer KC { uint16_t k_cache[]; };
layout(binding = 6) writeonly buffer VC { uint16_t v_cache[]; };

// Mirror: penser::vulkan::RopeKvPush
layout(push_constant) uniform Push {
  uint head_dim;
  uint n_dims;     // rotated dimensions (<= head_dim)
  uint n_head;
  uint n_head_kv;
  uint q_offset;
  uint k_offset;
  uint v_offset;
  uint qn_offset;
  uint kn_offset;
  uint has_norm;
  uint pos_offset;
  uint kc_offset;
  uint vc_offset;
  uint kv_stride;  // cache elements per position
  uint neox;
  uint has_freq_factors;
  float freq_base;
  float eps;
  uint n_tokens;   // 1 for decode; a prompt batch's tokens
  uint x_stride;   // floats from one token's q|k (|v) to the next's (n_tokens > 1)
  uint v_stride;   // floats from one token's v to the next's
} p;

void main() {
  const uint rows = p.n_head + 2 * p.n_head_kv;
  const uint t = group_index() / rows, row = group_index() - t * rows;
  if (t >= p.n_tokens) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint pos = uint(positions[p.pos_offset + t]);
  const uint tok = t * p.x_stride;
  if (row >= p.n_head + p.n_head_kv) {  // v: stored as it is
    const uint h = row - p.n_head - p.n_head_kv;
    const uint src = p.v_offset + t * p.v_stride + h * p.head_dim, dst = p.vc_offset + pos * p.kv_stride + h * p.head_dim;
    for (uint i = tid; i < p.head_dim; i += WG_SIZE) v_cache[dst + i] = uint16_t(float_to_half_bits(x[src + i]));
    return;
  }
  // Uniform per workgroup from here: a workgroup takes one q or one k head.
  const bool is_q = row < p.n_head;
  const uint h = is_q ? row : row - p.n_head;
  const uint base = (is_q ? p.q_offset : p.k_offset) + tok + h * p.head_dim;
  const uint nb = is_q ? p.qn_offset : p.kn_offset;
  float scale = 1.0;
  if (p.has_norm != 0) {
    float ss = 0.0;
    for (uint i = tid; i < p.head_dim; i += WG_SIZE) ss += x[base + i] * x[base + i];
    scale = inversesqrt(wg_sum(ss) / float(p.head_dim) + p.eps);
    barrier();  // every read of the head precedes the in-place writes of q
  }
  const uint dst = p.kc_offset + pos * p.kv_stride + h * p.head_dim;
  const uint half_dims = p.n_dims / 2;
  for (uint i = tid; i < half_dims; i += WG_SIZE) {
    float theta = float(pos) * pow(p.freq_base, -2.0 * float(i) / float(p.n_dims));
    if (p.has_freq_factors != 0) theta /= freq_factors[i];
    const float c = cos(theta), s = sin(theta);
    const uint j0 = p.neox != 0 ? i : 2 * i;
    const uint j1 = p.neox != 0 ? i + half_dims : 2 * i + 1;
    float a = x[base + j0], b = x[base + j1];
    if (p.has_norm != 0) {
      a = a * scale * (is_q ? q_norm[nb + j0] : k_norm[nb + j0]);
      b = b * scale * (is_q ? q_norm[nb + j1] : k_norm[nb + j1]);
    }
    const float r0 = a * c - b * s, r1 = a * s + b * c;
    if (is_q) {
      x[base + j0] = r0;
      x[base + j1] = r1;
    } else {
      k_cache[dst + j0] = uint16_t(float_to_half_bits(r0));
      k_cache[dst + j1] = uint16_t(float_to_half_bits(r1));
    }
  }
  // Partial rotation: the dimensions past n_dims are only normalised.
  for (uint j = p.n_dims + tid; j < p.head_dim; j += WG_SIZE) {
    float a = x[base + j];
    if (p.has_norm != 0) a = a * scale * (is_q ? q_norm[nb + j] : k_norm[nb + j]);
    if (is_q) x[base + j] = a;
    else k_cache[dst + j] = uint16_t(float_to_half_bits(a));
  }
}
