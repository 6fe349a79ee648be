#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Decode attention for one new token, one pass over the cache (flash-decoding): a workgroup takes GROUP
// query heads that share one KV head and a range of cache positions, so each K and V row is read once for
// all of them (a 1.5B model has 6 query heads per KV head: attn_decode reads the cache 6 times).
//
// A subgroup of SG lanes spans one head row: lane i owns WPL consecutive 32-bit words (2 f16 each) of it,
// read VEC words per load, and keeps its slice of every query in registers. A subgroup walks its share of
// the range in blocks of BLOCK positions: the scores of a block (partial dots summed by subgroupAdd, so
// every lane holds every score), the block's max per head, the running output rescaled once per block
// (online softmax: running max m and sum l, acc *= exp(m_old - m_new)), then the block's V rows added with
// weights exp(s - m). No score row is written to memory, and no barrier is needed inside the walk. With
// several subgroups per workgroup (NSG > 1) each takes every NSG-th block; their (m, l, acc) are combined
// through shared memory at the end.
//
// Why this shape: on lavapipe every load from a computed address runs lane by lane (a scalar load per
// lane and component), so the only loads left are the cache words themselves, wide where the alignment
// allows; on a GPU neighbouring lanes read neighbouring chunks of a row (NVIDIA, head_dim 128: one
// 64-bit load per lane, a subgroup reading the row's 256 bytes at once).
//
// n_split == 1: out[h, :] is written normalised. Otherwise the split-K layout of attn_decode_split.comp
// (per head and range: head_dim unnormalised values, m, l), combined by attn_reduce.comp.
//
// Prompts (Ops::attn_prefill on CPU implementations): n_tokens queries q_stride floats apart, query i at
// position positions[pos_offset + i] seeing cache positions 0..that (causal), one pass each (n_split 1).
//
// ROPE_FUSED (the decode step: Ops::attn_decode_rope, EvaluatorOptions::rope_in_attention): rope_kv.comp's
// work for the new token folded in, one dispatch and one barrier stage fewer per layer. Binding 0 holds the
// new token's q|k|v unrotated; each lane applies (qwen3) the per-head norm and RoPE to its slice of the query
// heads with rope_kv.comp's f32 arithmetic (rope_lane below). The workgroup(s) whose range holds the new position
// also compute its k (norm, RoPE) and v as f16 words in registers and take them from there when the walk
// reaches that position: the caches are not read at it (on lavapipe they are texel buffers, which need not
// see this dispatch's writes), and the sums are those of the separate dispatches. One of them (the first
// query-head block of the KV head) stores both to the caches through storage bindings 5 and 6, the bits
// rope_kv.comp writes; later steps read them from there.
#include "common.glsl"

layout(constant_id = 2) const uint HEAD_DIM = 128;  // even
layout(constant_id = 3) const uint GROUP = 1;       // query heads per workgroup (divides n_head / n_head_kv)
layout(constant_id = 4) const uint SG = 8;          // the subgroup size: lanes over one head row
layout(constant_id = 5) const uint VEC = 1;         // words per load: 1, 2 or 4 (dividing WPL; aligned rows)
layout(constant_id = 6) const uint BLOCK = 8;       // positions per block
// 1: a block's K and V words are all loaded before any is used, a position past the walk reading the walk's
// last one (its score -inf, its weight exp(-inf) = 0), so that no branch stands between the loads and they
// are in flight together (a GPU's memory latency paid once a block, not twice a position); the block's scores
// then have no branch either. The same sums: a weight of 0 adds 0. 0: each position's loads under its own
// `t < t_walk`, the K row's before its score and the V row's after the block's softmax (Ops::Options::
// attn_loads_first, PENSER_VK_ATTN_LOADS_FIRST: 1 by default on CPU implementations, 0 on GPUs until a GPU
// run measures it).
layout(constant_id = 7) const uint LOADS_FIRST = 0;

const uint WORDS = HEAD_DIM / 2;           // 32-bit words per head row
const uint WPL = (WORDS + SG - 1) / SG;    // words per lane (the last lanes may own fewer: VEC is then 1)
const uint NSG = WG_SIZE / SG;             // subgroups per workgroup

layout(binding = 0) readonly buffer Q { vec2 q2[]; };  // q_offset, o_offset, q_stride, o_stride even (Ops checks)
#ifdef KV_TEXEL
// CPU implementations (Ops::attn_decode_gqa, VEC 4 only): the caches as uniform texel buffers of 16-byte
// texels (lavapipe fetches a texel per lane with one load; a storage-buffer load is a loop over the lanes
// with a branch per component).
layout(binding = 1) uniform usamplerBuffer k_tex;
layout(binding = 2) uniform usamplerBuffer v_tex;
uvec4 k4_at(uint i) { return texelFetch(k_tex, int(i)); }
uvec4 v4_at(uint i) { return texelFetch(v_tex, int(i)); }
uint k1_at(uint i) { return 0u; }
uvec2 k2_at(uint i) { return uvec2(0u); }
uint v1_at(uint i) { return 0u; }
uvec2 v2_at(uint i) { return uvec2(0u); }
#else
layout(binding = 1) readonly buffer K1 { uint k1[]; };
layout(binding = 1) readonly buffer K2 { uvec2 k2[]; };
layout(binding = 1) readonly buffer K4 { uvec4 k4[]; };
layout(binding = 2) readonly buffer V1 { uint v1[]; };
layout(binding = 2) readonly buffer V2 { uvec2 v2[]; };
layout(binding = 2) readonly buffer V4 { uvec4 v4[]; };
uvec4 k4_at(uint i) { return k4[i]; }
uvec4 v4_at(uint i) { return v4[i]; }
uint k1_at(uint i) { return k1[i]; }
uvec2 k2_at(uint i) { return k2[i]; }
uint v1_at(uint i) { return v1[i]; }
uvec2 v2_at(uint i) { return v2[i]; }
#endif
layout(binding = 3) writeonly buffer O { float o[]; };
layout(binding = 3) writeonly buffer O2 { vec2 o2[]; };
layout(binding = 4) readonly buffer Pos { int positions[]; };
#ifdef ROPE_FUSED
layout(binding = 0) readonly buffer XF { float xf[]; };  // the new token's q|k|v
layout(binding = 5) writeonly buffer KC { uint kc[]; };  // the caches as words of 2 f16, for the new position
layout(binding = 6) writeonly buffer VC { uint vc[]; };
layout(binding = 7) readonly buffer QN { float q_norm[]; };
layout(binding = 8) readonly buffer KN { float k_norm[]; };
layout(binding = 9) readonly buffer FF { float freq_factors[]; };
#endif

// Mirror: penser::vulkan::AttnGqaPush
layout(push_constant) uniform Push {
  uint n_head;
  uint heads_per_kv;  // n_head / n_head_kv
  uint kv_stride_w;   // words per cached position (n_head_kv * head_dim / 2)
  uint q_offset;
  uint k_offset_w;    // words
  uint v_offset_w;
  uint o_offset;      // floats; direct output only (n_split == 1)
  uint n_split;
  uint pos_offset;
  float scale;        // 1 / sqrt(head_dim)
  uint min_chunk;     // positions per range at least
  uint n_tokens;      // queries (1 for decode)
  uint q_stride;      // floats between the queries of q (n_tokens > 1)
  uint o_stride;      // floats between the rows of out (n_tokens > 1)
  uint pad1;
#ifdef ROPE_FUSED
  // Mirror: penser::vulkan::AttnGqaRopePush (AttnGqaPush, then these)
  uint k_in;        // floats in binding 0: the new token's k (q: q_offset), v
  uint v_in;
  uint kc_w;        // words in bindings 5, 6: position 0 of the caches
  uint vc_w;
  uint qn_offset;
  uint kn_offset;
  uint has_norm;
  uint n_dims;      // rotated dimensions (<= HEAD_DIM, even)
  uint neox;
  uint has_freq_factors;
  float freq_base;
  float eps;
#endif
} p;

shared float m_s[NSG > 1 ? NSG * GROUP : 1];
shared float l_s[NSG > 1 ? NSG * GROUP : 1];
shared vec2 acc_s[NSG > 1 ? NSG * GROUP * WORDS : 1];

// This lane's words of the row starting at word `w0` (its first word: w0 + lane * WPL); words past the
// row's end (lanes beyond WORDS) read as 0.
void read_k(uint w0, uint lane, out uint w[WPL]) {
  const uint first = w0 + lane * WPL;
  if (VEC == 4) {
    [[unroll]] for (uint i = 0; i < WPL / 4; ++i) {
      const uvec4 x = k4_at(first / 4 + i);
      w[4 * i] = x.x; w[4 * i + 1] = x.y; w[4 * i + 2] = x.z; w[4 * i + 3] = x.w;
    }
  } else if (VEC == 2) {
    [[unroll]] for (uint i = 0; i < WPL / 2; ++i) {
      const uvec2 x = k2_at(first / 2 + i);
      w[2 * i] = x.x; w[2 * i + 1] = x.y;
    }
  } else {
    [[unroll]] for (uint i = 0; i < WPL; ++i) {
      w[i] = 0u;
      if (lane * WPL + i < WORDS) w[i] = k1_at(first + i);
    }
  }
}

void read_v(uint w0, uint lane, out uint w[WPL]) {
  const uint first = w0 + lane * WPL;
  if (VEC == 4) {
    [[unroll]] for (uint i = 0; i < WPL / 4; ++i) {
      const uvec4 x = v4_at(first / 4 + i);
      w[4 * i] = x.x; w[4 * i + 1] = x.y; w[4 * i + 2] = x.z; w[4 * i + 3] = x.w;
    }
  } else if (VEC == 2) {
    [[unroll]] for (uint i = 0; i < WPL / 2; ++i) {
      const uvec2 x = v2_at(first / 2 + i);
      w[2 * i] = x.x; w[2 * i + 1] = x.y;
    }
  } else {
    [[unroll]] for (uint i = 0; i < WPL; ++i) {
      w[i] = 0u;
      if (lane * WPL + i < WORDS) w[i] = v1_at(first + i);
    }
  }
}

#ifdef ROPE_FUSED
// This lane's elements of its query heads and (where the workgroup holds the new position) of the new k,
// normalised and rotated: rot[r * 2 WPL + k] is element 2 lane WPL + k of row r (r < GROUP: query head
// h0 + r; GROUP: the KV head's k). Rolled loops into private arrays: fully unrolled, llvmpipe took over a
// minute to compile it; through shared memory, the barriers made lavapipe run the whole kernel (the walk
// too) ~3x slower (vk_ops_bench attn_rope:2000:28).
float rot[(GROUP + 1) * 2 * WPL];
float rot_c[2 * WPL], rot_s[2 * WPL];

float normed(uint base, uint j, float scale, bool is_q) {
  float a = xf[base + j];
  if (p.has_norm != 0) a = a * scale * (is_q ? q_norm[p.qn_offset + j] : k_norm[p.kn_offset + j]);
  return a;
}

// rope_kv.comp's arithmetic: its sum of squares (every WG_SIZE-th element per invocation, then wg_sum: the
// same sum where its workgroup is one subgroup of this width, as on lavapipe) and per pair (a, b) =
// (x[j0], x[j1]): r0 = a c - b s, r1 = a s + b c. Subgroup-uniform.
void rope_lane(uint h0, uint kvh, uint n_rows, uint pos, uint lane) {
  const uint half_dims = p.n_dims / 2;
  [[dont_unroll]] for (uint k = 0; k < 2 * WPL; ++k) {
    const uint e = 2 * lane * WPL + k;
    float c = 1.0, sn = 0.0;
    if (e < p.n_dims) {
      const uint i = p.neox != 0 ? (e >= half_dims ? e - half_dims : e) : e / 2;
      float theta = float(pos) * pow(p.freq_base, -2.0 * float(i) / float(p.n_dims));
      if (p.has_freq_factors != 0) theta /= freq_factors[i];
      c = cos(theta);
      sn = sin(theta);
    }
    rot_c[k] = c;
    rot_s[k] = sn;
  }
  [[dont_unroll]] for (uint r = 0; r < n_rows; ++r) {
    const bool is_q = r < GROUP;
    const uint base = is_q ? p.q_offset + (h0 + r) * HEAD_DIM : p.k_in + kvh * HEAD_DIM;
    float scale = 1.0;
    if (p.has_norm != 0) {
      float ss = 0.0;
      for (uint i = lane; i < HEAD_DIM; i += SG) ss += xf[base + i] * xf[base + i];
      scale = inversesqrt(subgroupAdd(ss) / float(HEAD_DIM) + p.eps);
    }
    [[dont_unroll]] for (uint k = 0; k < 2 * WPL; ++k) {
      const uint e = 2 * lane * WPL + k;
      float v = 0.0;
      if (e < HEAD_DIM) {
        const float x = normed(base, e, scale, is_q);
        v = x;
        if (e < p.n_dims) {
          const bool second = p.neox != 0 ? e >= half_dims : (e & 1u) != 0;
          const uint partner = p.neox != 0 ? (second ? e - half_dims : e + half_dims) : (second ? e - 1 : e + 1);
          const float y = normed(base, partner, scale, is_q);
          v = second ? y * rot_s[k] + x * rot_c[k] : x * rot_c[k] - y * rot_s[k];
        }
      }
      rot[r * 2 * WPL + k] = v;
    }
  }
}
#endif

void main() {
  const uint blocks = p.n_head / GROUP;
  const uint g_all = group_index(), token = g_all / (blocks * p.n_split), g_id = g_all % (blocks * p.n_split);
  if (token >= p.n_tokens) return;
  const uint hb = g_id / p.n_split, s = g_id % p.n_split;
  const uint tid = gl_LocalInvocationID.x, lane = tid % SG, sgid = tid / SG;
  const uint h0 = hb * GROUP, kvh = h0 / p.heads_per_kv;
  const uint n_kv = uint(positions[p.pos_offset + token]) + 1;
  const uint q_base = p.q_offset + token * p.q_stride, o_base = p.o_offset + token * p.o_stride;
  const uint chunk = max(p.min_chunk, (n_kv + p.n_split - 1) / p.n_split);
  const uint t0 = min(s * chunk, n_kv), t1 = min(t0 + chunk, n_kv);
  const uint pstride = HEAD_DIM + 2;
  if (t0 == t1) {  // the whole workgroup leaves together: an empty range weighs nothing in the reduction
    for (uint i = tid; i < GROUP * pstride; i += WG_SIZE) {
      const uint g = i / pstride, d = i % pstride;
      o[((h0 + g) * p.n_split + s) * pstride + d] = d < HEAD_DIM ? 0.0 : d == HEAD_DIM ? -1e30 : 0.0;
    }
    return;
  }

  // This lane's slice of the GROUP queries; the running max, sum and output slice per head.
  vec2 qr[GROUP * WPL];
  vec2 acc[GROUP * WPL];
  float m[GROUP], l[GROUP];
#ifdef ROPE_FUSED
  // The new position: the last of the last non-empty range. Its k and v (f16 words) where this range holds it.
  const uint pos = n_kv - 1;
  const bool own_new = t1 == n_kv;
  rope_lane(h0, kvh, own_new ? GROUP + 1 : GROUP, pos, lane);
  uint k_new[WPL], v_new[WPL];
  [[unroll]] for (uint j = 0; j < WPL; ++j) k_new[j] = v_new[j] = 0u;
  if (own_new) {
    [[unroll]] for (uint j = 0; j < WPL; ++j) {
      const uint w = lane * WPL + j;
      if (w < WORDS) {
        k_new[j] = packHalf2x16(vec2(rot[GROUP * 2 * WPL + 2 * j], rot[GROUP * 2 * WPL + 2 * j + 1]));
        v_new[j] = packHalf2x16(vec2(xf[p.v_in + kvh * HEAD_DIM + 2 * w], xf[p.v_in + kvh * HEAD_DIM + 2 * w + 1]));
      }
    }
    // One writer per KV head: the first block of its query heads, subgroup 0.
    if (h0 % p.heads_per_kv == 0 && sgid == 0) {
      [[unroll]] for (uint j = 0; j < WPL; ++j) {
        const uint w = lane * WPL + j;
        if (w < WORDS) {
          kc[p.kc_w + pos * p.kv_stride_w + kvh * WORDS + w] = k_new[j];
          vc[p.vc_w + pos * p.kv_stride_w + kvh * WORDS + w] = v_new[j];
        }
      }
    }
  }
  // Position 0: nothing cached, no position before it to load in its place; the walk is empty and the new
  // position is added after it (an empty walk leaves m = -inf, l = 0, acc = 0: the same result as in it).
  const uint t_walk = own_new && pos == 0 ? t1 - 1 : t1;
#else
  const uint t_walk = t1;
#endif
  [[unroll]] for (uint g = 0; g < GROUP; ++g) {
    [[unroll]] for (uint j = 0; j < WPL; ++j) {
      const uint w = lane * WPL + j;
      qr[g * WPL + j] = vec2(0.0);
#ifdef ROPE_FUSED
      if (w < WORDS) qr[g * WPL + j] = vec2(rot[g * 2 * WPL + 2 * j], rot[g * 2 * WPL + 2 * j + 1]);
#else
      if (w < WORDS) qr[g * WPL + j] = q2[q_base / 2 + (h0 + g) * WORDS + w];
#endif
      acc[g * WPL + j] = vec2(0.0);
    }
    m[g] = -1.0 / 0.0;
    l[g] = 0.0;
  }
  const uint kb = p.k_offset_w + kvh * WORDS, vb = p.v_offset_w + kvh * WORDS;

  for (uint base = t0 + sgid * BLOCK; base < t_walk; base += NSG * BLOCK) {
    // Scores of the block (-inf past the range's end).
    float sc[BLOCK * GROUP];
    uint kwb[LOADS_FIRST != 0 ? BLOCK * WPL : 1], vwb[LOADS_FIRST != 0 ? BLOCK * WPL : 1];
    if (LOADS_FIRST != 0) {
      // Every K and V word of the block first (t_walk > base here, so t_walk - 1 is a position of the walk).
      [[unroll]] for (uint b = 0; b < BLOCK; ++b) {
        const uint t = min(base + b, t_walk - 1);
        uint kw[WPL], vw[WPL];
#ifdef ROPE_FUSED
        read_k(kb + (t == pos ? t - 1 : t) * p.kv_stride_w, lane, kw);
        read_v(vb + (t == pos ? t - 1 : t) * p.kv_stride_w, lane, vw);
        [[unroll]] for (uint j = 0; j < WPL; ++j) {
          kw[j] = t == pos ? k_new[j] : kw[j];
          vw[j] = t == pos ? v_new[j] : vw[j];
        }
#else
        read_k(kb + t * p.kv_stride_w, lane, kw);
        read_v(vb + t * p.kv_stride_w, lane, vw);
#endif
        [[unroll]] for (uint j = 0; j < WPL; ++j) {
          kwb[b * WPL + j] = kw[j];
          vwb[b * WPL + j] = vw[j];
        }
      }
      [[unroll]] for (uint b = 0; b < BLOCK; ++b) {
        float part[GROUP];
        [[unroll]] for (uint g = 0; g < GROUP; ++g) part[g] = 0.0;
        [[unroll]] for (uint j = 0; j < WPL; ++j) {
          const vec2 kv = unpackHalf2x16(kwb[b * WPL + j]);
          [[unroll]] for (uint g = 0; g < GROUP; ++g) part[g] += dot(qr[g * WPL + j], kv);
        }
        const bool live = base + b < t_walk;
        [[unroll]] for (uint g = 0; g < GROUP; ++g) {
          const float sg_sum = subgroupAdd(part[g]);
          sc[b * GROUP + g] = live ? sg_sum * p.scale : -1.0 / 0.0;
        }
      }
    } else
    [[unroll]] for (uint b = 0; b < BLOCK; ++b) {
      const uint t = base + b;
      if (t < t_walk) {
        uint kw[WPL];
#ifdef ROPE_FUSED
        // The new position from registers, not from the cache: a select, not a branch (lavapipe masks
        // every load under a branch it cannot prove uniform: 3x the walk's time at 2000 positions). Its
        // load reads the position before, which an earlier step wrote (pos > 0 here: see t_walk).
        read_k(kb + (t == pos ? t - 1 : t) * p.kv_stride_w, lane, kw);
        [[unroll]] for (uint j = 0; j < WPL; ++j) kw[j] = t == pos ? k_new[j] : kw[j];
#else
        read_k(kb + t * p.kv_stride_w, lane, kw);
#endif
        float part[GROUP];
        [[unroll]] for (uint g = 0; g < GROUP; ++g) part[g] = 0.0;
        [[unroll]] for (uint j = 0; j < WPL; ++j) {
          const vec2 kv = unpackHalf2x16(kw[j]);
          [[unroll]] for (uint g = 0; g < GROUP; ++g) part[g] += dot(qr[g * WPL + j], kv);
        }
        [[unroll]] for (uint g = 0; g < GROUP; ++g) sc[b * GROUP + g] = subgroupAdd(part[g]) * p.scale;
      } else {
        [[unroll]] for (uint g = 0; g < GROUP; ++g) sc[b * GROUP + g] = -1.0 / 0.0;
      }
    }
    // The new running max per head; the output so far rescaled to it.
    [[unroll]] for (uint g = 0; g < GROUP; ++g) {
      float mb = m[g];
      [[unroll]] for (uint b = 0; b < BLOCK; ++b) mb = max(mb, sc[b * GROUP + g]);
      const float corr = exp(m[g] - mb);  // 0 on the first block (m = -inf)
      m[g] = mb;
      l[g] *= corr;
      [[unroll]] for (uint j = 0; j < WPL; ++j) acc[g * WPL + j] *= corr;
    }
    // The block's V rows (LOADS_FIRST: loaded above; a position past the walk weighs exp(-inf) = 0).
    if (LOADS_FIRST != 0) {
      [[unroll]] for (uint b = 0; b < BLOCK; ++b) {
        [[unroll]] for (uint g = 0; g < GROUP; ++g) {
          const float pw = exp(sc[b * GROUP + g] - m[g]);
          l[g] += pw;
          [[unroll]] for (uint j = 0; j < WPL; ++j) acc[g * WPL + j] += pw * unpackHalf2x16(vwb[b * WPL + j]);
        }
      }
    } else
    [[unroll]] for (uint b = 0; b < BLOCK; ++b) {
      const uint t = base + b;
      if (t < t_walk) {
        uint vw[WPL];
#ifdef ROPE_FUSED
        read_v(vb + (t == pos ? t - 1 : t) * p.kv_stride_w, lane, vw);
        [[unroll]] for (uint j = 0; j < WPL; ++j) vw[j] = t == pos ? v_new[j] : vw[j];
#else
        read_v(vb + t * p.kv_stride_w, lane, vw);
#endif
        [[unroll]] for (uint g = 0; g < GROUP; ++g) {
          const float pw = exp(sc[b * GROUP + g] - m[g]);
          l[g] += pw;
          [[unroll]] for (uint j = 0; j < WPL; ++j) acc[g * WPL + j] += pw * unpackHalf2x16(vw[j]);
        }
      }
    }
  }

#ifdef ROPE_FUSED
  if (own_new && pos == 0 && sgid == 0) {  // the new position alone (t_walk): one step of the online softmax
    [[unroll]] for (uint g = 0; g < GROUP; ++g) {
      float part = 0.0;
      [[unroll]] for (uint j = 0; j < WPL; ++j) part += dot(qr[g * WPL + j], unpackHalf2x16(k_new[j]));
      const float sc = subgroupAdd(part) * p.scale;
      const float mn = max(m[g], sc);
      const float corr = exp(m[g] - mn), pw = exp(sc - mn);
      m[g] = mn;
      l[g] = l[g] * corr + pw;
      [[unroll]] for (uint j = 0; j < WPL; ++j) acc[g * WPL + j] = acc[g * WPL + j] * corr + pw * unpackHalf2x16(v_new[j]);
    }
  }
#endif

  // Subgroups 1.. hand (m, l, acc) to subgroup 0, which rescales every part to the common max.
  if (NSG > 1) {
    [[unroll]] for (uint g = 0; g < GROUP; ++g) {
      if (lane == 0) {
        m_s[sgid * GROUP + g] = m[g];
        l_s[sgid * GROUP + g] = l[g];
      }
      [[unroll]] for (uint j = 0; j < WPL; ++j)
        if (lane * WPL + j < WORDS) acc_s[(sgid * GROUP + g) * WORDS + lane * WPL + j] = acc[g * WPL + j];
    }
    barrier();
    if (sgid != 0) return;
    [[unroll]] for (uint g = 0; g < GROUP; ++g) {
      float mx = m[g];
      for (uint k = 1; k < NSG; ++k) mx = max(mx, m_s[k * GROUP + g]);
      const float c0 = exp(m[g] - mx);
      l[g] *= c0;
      [[unroll]] for (uint j = 0; j < WPL; ++j) acc[g * WPL + j] *= c0;
      for (uint k = 1; k < NSG; ++k) {
        const float ck = exp(m_s[k * GROUP + g] - mx);  // 0 for a subgroup that had no block (m = -inf)
        l[g] += l_s[k * GROUP + g] * ck;
        [[unroll]] for (uint j = 0; j < WPL; ++j)
          if (lane * WPL + j < WORDS) acc[g * WPL + j] += acc_s[(k * GROUP + g) * WORDS + lane * WPL + j] * ck;
      }
      m[g] = mx;
    }
  }

  [[unroll]] for (uint g = 0; g < GROUP; ++g) {
    const uint h = h0 + g;
    const uint pb = (h * p.n_split + s) * pstride;
    [[unroll]] for (uint j = 0; j < WPL; ++j) {
      const uint w = lane * WPL + j;
      if (w < WORDS) {
        if (p.n_split == 1) o2[o_base / 2 + h * WORDS + w] = acc[g * WPL + j] / l[g];
        else o2[pb / 2 + w] = acc[g * WPL + j];
      }
    }
    if (p.n_split != 1 && tid == 0) {
      o[pb + HEAD_DIM] = m[g];
      o[pb + HEAD_DIM + 1] = l[g];
    }
  }
}
