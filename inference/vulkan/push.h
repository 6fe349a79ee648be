// C++ mirrors of the shaders' push-constant blocks (std430 layout of 32-bit scalars: plain structs of
// uint32_t/float, no padding). Each shader names its mirror; the sizes are checked here and again by the
// recorder against the pipeline.
#pragma once

#include <cstdint>

namespace penser::vulkan {

struct MulMvPush {  // shaders/mul_mv.comp
  uint32_t ncols, nrows, row_stride, x_offset, y_offset, flags, bias_offset, a_offset, u_offset, nw_offset;
  float eps;
  uint32_t carry_xg, carry_ss, carry_part0, carry_parts;
};
static_assert(sizeof(MulMvPush) == 60);
inline constexpr uint32_t kMulMvBias = 1, kMulMvAccumulate = 2;

struct GetRowsPush {  // shaders/get_rows.comp
  uint32_t ncols, n_ids, row_stride, row_begin, row_end, ids_offset, out_offset, out_stride, a_offset;
};
static_assert(sizeof(GetRowsPush) == 36);

struct RmsNormPush {  // shaders/rms_norm.comp
  uint32_t ncols, nrows, x_offset, x_stride, y_offset, y_stride, w_offset, has_weight;
  float eps;
};
static_assert(sizeof(RmsNormPush) == 36);

struct RmsNormCpuPush {  // shaders/rms_norm_cpu.comp
  uint32_t ncols4, nrows, x_offset, x_stride4, y_offset, y_stride4, w_offset;
  float eps;
};
static_assert(sizeof(RmsNormCpuPush) == 32);

struct RopePush {  // shaders/rope.comp
  uint32_t head_dim, n_dims, n_head, n_rows, x_offset, pos_offset, neox, has_freq_factors;
  float freq_base;
};
static_assert(sizeof(RopePush) == 36);

struct SwigluPush {  // shaders/swiglu.comp
  uint32_t n, g_offset, u_offset, y_offset, ncols, stride;
};
static_assert(sizeof(SwigluPush) == 24);

struct SwigluCpuPush {  // shaders/swiglu_cpu.comp
  uint32_t ncols4, nrows, g_offset, u_offset, y_offset, stride4;
};
static_assert(sizeof(SwigluCpuPush) == 24);

struct AddPush {  // shaders/add.comp
  uint32_t n, a_offset, b_offset, y_offset, b_len;
};
static_assert(sizeof(AddPush) == 20);

struct SoftMaxPush {  // shaders/soft_max.comp
  uint32_t ncols, nrows, offset, stride;
  float scale;
};
static_assert(sizeof(SoftMaxPush) == 20);

struct KvStorePush {  // shaders/kv_store.comp
  uint32_t n, n_tokens, src_offset, dst_offset, dst_stride, pos_offset;
};
static_assert(sizeof(KvStorePush) == 24);

struct RopeKvPush {  // shaders/rope_kv.comp
  uint32_t head_dim, n_dims, n_head, n_head_kv, q_offset, k_offset, v_offset, qn_offset, kn_offset, has_norm,
      pos_offset, kc_offset, vc_offset, kv_stride, neox, has_freq_factors;
  float freq_base, eps;
  uint32_t n_tokens, x_stride, v_stride;
};
static_assert(sizeof(RopeKvPush) == 84);

struct AttnDecodePush {  // shaders/attn_decode.comp
  uint32_t head_dim, n_head, n_head_kv, kv_stride, q_offset, k_offset, v_offset, o_offset, scores_stride, pos_offset;
  float scale;
  uint32_t pad;
};
static_assert(sizeof(AttnDecodePush) == 48);

// Prefill (batched) shaders.
struct MulMmPush {  // shaders/mul_mm.comp
  uint32_t ncols, nrows, n_tokens, row_stride, a_offset, x_offset, x_stride, y_offset, y_stride, flags, bias_offset;
};
static_assert(sizeof(MulMmPush) == 44);

struct AttnPrefillPush {  // shaders/attn_prefill.comp
  uint32_t n_tokens, n_head, n_head_kv, q_offset, q_stride, k_offset, v_offset, kv_stride, o_offset, pos_offset;
  float scale;
  uint32_t o_stride;
};
static_assert(sizeof(AttnPrefillPush) == 48);

struct AttnSplitPush {  // shaders/attn_decode_split.comp
  uint32_t head_dim, n_head, n_head_kv, kv_stride, q_offset, k_offset, v_offset, n_split, scores_stride, pos_offset;
  float scale;
  uint32_t min_chunk;
};
static_assert(sizeof(AttnSplitPush) == 48);

struct AttnGqaPush {  // shaders/attn_decode_gqa.comp
  uint32_t n_head, heads_per_kv, kv_stride_w, q_offset, k_offset_w, v_offset_w, o_offset, n_split, pos_offset;
  float scale;
  uint32_t min_chunk, n_tokens, q_stride, o_stride, pad1;
};
static_assert(sizeof(AttnGqaPush) == 60);

struct AttnGqaRopePush {  // shaders/attn_decode_gqa.comp with ROPE_FUSED
  AttnGqaPush attn;
  uint32_t k_in, v_in, kc_w, vc_w, qn_offset, kn_offset, has_norm, n_dims, neox, has_freq_factors;
  float freq_base, eps;
};
static_assert(sizeof(AttnGqaRopePush) == 108);

struct AttnReducePush {  // shaders/attn_reduce.comp
  uint32_t head_dim, n_head, n_split, o_offset;
};
static_assert(sizeof(AttnReducePush) == 16);

struct ProbeReadPush {  // shaders/probe_read.comp
  uint32_t n, per_group, out_offset;
};
static_assert(sizeof(ProbeReadPush) == 12);

}  // namespace penser::vulkan
