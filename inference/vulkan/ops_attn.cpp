// Grouped decode attention (shaders/attn_decode_gqa.comp): the query heads that share a KV head in one
// workgroup, one pass over K and V with an online softmax. Ops::attn_decode and Ops::attn_decode_split use
// it wherever attn_shape() says it runs, else the per-head kernels of ops.cpp / ops_prefill.cpp.
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "inference/vulkan/knobs.h"
#include "inference/vulkan/ops.h"

namespace penser::vulkan {
namespace {


bool power_of_two(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Shared memory of attn_decode_gqa.comp (its arrays and common.glsl's), in bytes.
uint64_t gqa_shared_bytes(uint32_t head_dim, uint32_t heads, uint32_t wg, uint32_t sg) {
  const uint64_t nsg = wg / sg;
  if (nsg <= 1) return 12 + 8 + uint64_t(wg) * 4;
  return nsg * heads * 8 + nsg * heads * (head_dim / 2) * 8 + uint64_t(wg) * 4;
}

}  // namespace

// Defaults, by design and by the lavapipe measurement (docs/vulkan-history.md, "Decode attention at long contexts"):
// - kernel: grouped wherever the device has subgroup arithmetic (the lanes of a subgroup sum a score).
//   It reads each K/V row once per KV head instead of once per query head, in wide words, in one pass
//   (no score row written and re-read).
// - heads per workgroup: on CPU implementations all the query heads of a KV head (one read of the cache);
//   on GPUs 2 (where the group has an even count; else 1), for more workgroups at the cost of re-reading
//   the cache (from L2, mostly). The H200 (2026-11-30, decode with 2 heads against all the group's: the
//   8B-shaped model's 4 / the 1.5B-shaped one's 6): 1.02-1.05x / 1.055-1.08x at 32 positions, 1.015-1.03x /
//   1.06-1.07x at 512, 0.98-1.25x (noisy) / 1.13-1.15x at 4096. 1 head was as good at 32 and 512 positions
//   but 0.84x / 1.06x of 2 at 4096 (docs/vulkan.md, "Sixth, seventh and eighth H200 runs").
// - workgroup: one subgroup on CPU implementations (lavapipe: 8 lanes, no barrier at all); 64 invocations
//   on GPUs (2 subgroups of 32 on NVIDIA, each over every other block of positions).
// - block: 8 positions between two rescales of the running output.
// - loads first (a block's K and V rows loaded before any is used): on CPU implementations (lavapipe,
//   vk_ops_bench attn / attn_rope at 300-4000 positions x 28 layers: 1.00-1.11x per CPU-second, 2026-11-30);
//   off on GPUs until a GPU run measures it (the sweep's PENSER_VK_ATTN_LOADS_FIRST=1).
Ops::AttnShape Ops::attn_shape(const AttnParams& a) const {
  const DeviceInfo& info = device_->info();
  AttnShape s;
  uint32_t kernel = options_.attn_kernel;
  if (auto e = env_uint("PENSER_VK_ATTN", 0, 2); e && !kernel) kernel = *e;
  const uint32_t sg = device_->subgroups().size;  // the pinned width (subgroups_ is off without one)
  if (kernel == 1 || !subgroups_ || !power_of_two(sg) || a.head_dim % 2 != 0 || a.n_head_kv == 0 ||
      a.n_head % a.n_head_kv != 0)
    return s;
  const uint32_t per_kv = a.n_head / a.n_head_kv;
  uint32_t heads = options_.attn_heads;
  if (auto e = env_uint("PENSER_VK_ATTN_HEADS", 0, 1024); e && !heads) heads = *e;
  if (heads == 0 && !info.is_cpu()) heads = 2;
  if (heads == 0 || heads > per_kv) heads = per_kv;
  while (per_kv % heads != 0) --heads;  // a divisor of the group
  uint32_t wg = options_.attn_wg;
  if (auto e = env_uint("PENSER_VK_ATTN_WG", 0, info.max_workgroup_invocations); e && !wg) wg = *e;
  if (!power_of_two(wg) || wg < sg) wg = info.is_cpu() ? sg : std::max(sg, 64u);
  if (wg > info.max_workgroup_invocations) return s;
  // The lane mapping needs the pin, which Pipeline::create gives up to maxComputeWorkgroupSubgroups subgroups.
  if (device_->subgroups().pinned && wg > uint64_t(info.max_compute_workgroup_subgroups) * sg) return s;
  uint32_t block = options_.attn_block;
  if (auto e = env_uint("PENSER_VK_ATTN_BLOCK", 0, 64); e && !block) block = *e;
  if (block == 0) block = 8;
  uint32_t vec = options_.attn_vec;
  if (auto e = env_uint("PENSER_VK_ATTN_VEC", 0, 4); e && !vec) vec = *e;
  if (vec != 1 && vec != 2) vec = 4;
  // Fewer heads per workgroup while the shared memory (only used with several subgroups) is too small.
  while (heads > 1 && gqa_shared_bytes(a.head_dim, heads, wg, sg) > info.max_shared_memory)
    do --heads; while (per_kv % heads != 0);
  if (gqa_shared_bytes(a.head_dim, heads, wg, sg) > info.max_shared_memory) return s;
  s.ok = true;
  s.wg = wg;
  s.heads = heads;
  s.sg = sg;
  s.block = block;
  s.vec = vec;
  s.loads_first = options_.attn_loads_first ? options_.attn_loads_first == 2
                                             : env_flag("PENSER_VK_ATTN_LOADS_FIRST").value_or(info.is_cpu());
  return s;
}

// Prompt attention: on CPU implementations the grouped kernel once per query (measured on lavapipe:
// docs/vulkan.md), whose loads are only the cache words, where attn_prefill.comp's loads of q and of its
// staged K/V tile from shared memory run lane by lane. GPUs keep the tiled kernel (it shares a K/V tile
// among 8 queries through shared memory) until the GPU sweep compares them.
bool Ops::attn_prefill_grouped(const AttnParams& a) const {
  uint32_t choice = options_.attn_prefill;
  if (auto e = env_uint("PENSER_VK_ATTN_PREFILL", 0, 2); e && !choice) choice = *e;
  if (choice == 0) choice = device_->info().is_cpu() ? 2 : 1;
  return choice == 2 && attn_shape(a).ok;
}

Status Ops::attn_decode_gqa(Recorder& rec, View q, View k, View v, View out, View positions, const AttnParams& a,
                            const AttnShape& s, uint32_t n_split, uint32_t min_chunk, uint32_t n_tokens,
                            uint32_t q_stride, uint32_t o_stride, const RopeFold* rf) {
  PENSER_ASSERT(s.ok && a.head_dim % 2 == 0 && k.offset % 2 == 0 && v.offset % 2 == 0 && q.offset % 2 == 0 &&
                out.offset % 2 == 0 && q_stride % 2 == 0 && o_stride % 2 == 0 && n_tokens >= 1);
  PENSER_ASSERT(n_split >= 1 && min_chunk >= 1 && (n_split == 1 || (out.offset == 0 && n_tokens == 1)));
  const uint32_t words = a.head_dim / 2, stride_w = a.n_head_kv * words;
  const uint32_t wpl = (words + s.sg - 1) / s.sg;
  // Words per load: every lane's first word (row start + lane * wpl) must be a multiple of it, and no lane
  // may own words past the row's end.
  uint32_t vec = s.vec;
  auto aligned = [&](uint32_t n) {
    return words % s.sg == 0 && wpl % n == 0 && (k.offset / 2) % n == 0 && (v.offset / 2) % n == 0 &&
           stride_w % n == 0 && words % n == 0;
  };
  while (vec > 1 && !aligned(vec)) vec /= 2;
  // CPU implementations: the caches as uniform texel buffers where the loads are whole 16-byte texels
  // (attn_decode_gqa_tex). vk_ops_bench attn:2000 (2026-11-29, load 3.8, per CPU-second): 1148 us a
  // dispatch from storage buffers, 877 from texels.
  std::optional<Vec4Binding> kt, vt;
  if (vec == 4 && small_cpu()) {
    kt = vec4_binding(k.range, uint64_t(k.offset) * 2, k.range.range - uint64_t(k.offset) * 2, true);
    vt = vec4_binding(v.range, uint64_t(v.offset) * 2, v.range.range - uint64_t(v.offset) * 2, true);
    if (!kt || !vt) kt = vt = std::nullopt;
  }
  const std::string name = std::string(kt ? "attn_decode_gqa_tex" : "attn_decode_gqa") + (rf ? "_rope" : "");
  // The fused modules also write the caches (bindings 5, 6: the new position).
  const uint32_t written = rf ? (1u << 3) | (1u << 5) | (1u << 6) : 1u << 3;
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg(name, rf ? 10 : 5, written,
                                                         rf ? sizeof(AttnGqaRopePush) : sizeof(AttnGqaPush), s.wg,
                                                         {a.head_dim, s.heads, s.sg, vec, s.block, s.loads_first ? 1u : 0u},
                                                         0, kt ? 6u : 0u));
  AttnGqaPush push{a.n_head, a.n_head / a.n_head_kv, stride_w, q.offset, kt ? kt->offset4 * 4 : k.offset / 2,
                   vt ? vt->offset4 * 4 : v.offset / 2, out.offset, n_split, positions.offset,
                   1.0f / std::sqrt(float(a.head_dim)), min_chunk, n_tokens, q_stride, o_stride, 0};
  uint32_t gx, gy;
  grid_2d(device_->info(), n_tokens * (a.n_head / s.heads) * n_split, gx, gy);
  if (!rf) {
    const BufferRange bindings[] = {q.range, kt ? kt->range : k.range, vt ? vt->range : v.range, out.range,
                                    positions.range};
    return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
  }
  const Ops::RopeParams& r = *rf->rope;
  AttnGqaRopePush rp{push, rf->k.offset, rf->v.offset, k.offset / 2, v.offset / 2,
                     rf->q_norm ? rf->q_norm->offset : 0, rf->k_norm ? rf->k_norm->offset : 0, rf->q_norm ? 1u : 0u,
                     r.n_dims, r.neox ? 1u : 0u, rf->freq_factors ? 1u : 0u, r.freq_base, rf->eps};
  // Unused optional bindings take the positions' range (never read).
  const BufferRange bindings[] = {q.range, kt ? kt->range : k.range, vt ? vt->range : v.range, out.range,
                                  positions.range, k.range, v.range,
                                  rf->q_norm ? rf->q_norm->range : positions.range,
                                  rf->k_norm ? rf->k_norm->range : positions.range,
                                  rf->freq_factors ? rf->freq_factors->range : positions.range};
  return rec.dispatch(*p, bindings, &rp, sizeof(rp), gx, gy);
}

bool Ops::attn_rope_fuses(const AttnParams& a) const {
  return attn_shape(a).ok && device_->info().max_storage_buffers_per_stage >= 10;
}

Status Ops::attn_decode_rope(Recorder& rec, View q, View k, View v, const View* qn, const View* kn, float eps,
                             const View* ff, View positions, View k_cache, View v_cache, View out, View partials,
                             const AttnParams& a, const RopeParams& r, uint32_t n_split, uint32_t min_chunk) {
  auto same = [](const BufferRange& x, const BufferRange& y) {
    return x.buffer == y.buffer && x.offset == y.offset && x.range == y.range;
  };
  const AttnShape s = attn_shape(a);
  PENSER_ASSERT(attn_rope_fuses(a) && same(q.range, k.range) && same(q.range, v.range) && !qn == !kn);
  PENSER_ASSERT(r.n_dims % 2 == 0 && r.n_dims <= a.head_dim && r.head_dim == a.head_dim &&
                r.n_head == a.n_head && r.n_head_kv == a.n_head_kv && r.n_tokens == 1);
  PENSER_ASSERT(k_cache.offset % 2 == 0 && v_cache.offset % 2 == 0 && n_split >= 1 && min_chunk >= 1);
  const RopeFold rf{k, v, qn, kn, eps, ff, &r};
  if (n_split == 1) return attn_decode_gqa(rec, q, k_cache, v_cache, out, positions, a, s, 1, 1, 1, 0, 0, &rf);
  PENSER_TRY(attn_decode_gqa(rec, q, k_cache, v_cache, partials, positions, a, s, n_split, min_chunk, 1, 0, 0, &rf));
  return attn_reduce(rec, partials, out, a, n_split);
}

}  // namespace penser::vulkan
