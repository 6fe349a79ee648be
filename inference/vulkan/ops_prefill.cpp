// The ops that evaluate many tokens at once (a prompt): the tiled matrix-matrix product and causal
// attention over the cache. Their tile sizes are specialization constants chosen per device here.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "inference/vulkan/ops.h"

namespace penser::vulkan {

namespace {

std::string lower_name(quant::Type t) {
  std::string s = quant::type_name(t);
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint32_t div_up(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }

constexpr uint32_t kMulMmBK = 32;  // one quant unit: mul_mm.comp decodes a unit's scales once per tile

// mul_mm.comp and mul_mm_gpu.comp compute 8 x 8 outputs (weight rows x tokens) per invocation, in named vectors.
struct MmTile {
  uint32_t bm, bn;  // weight rows x tokens per workgroup
  uint32_t bk = kMulMmBK;  // K per step
  uint32_t invocations() const { return (bm / 8) * (bn / 8); }
  // mul_mm_gpu.comp (`gpu_kernel`) pads each tile row by 4 floats (its bank-conflict-free vec4 reads).
  uint64_t shared_bytes(bool gpu_kernel) const {
    return uint64_t(bm + bn) * (bk + (gpu_kernel ? 4 : 0)) * 4 + invocations() * 4;
  }
};
// Measured on lavapipe (Q4_K 4096 x 1536, 64 tokens, a loaded 2-core machine): 4 x 4 outputs per invocation
// in arrays 0.26-0.30 GFLOP/s, 8 x 8 in arrays 0.34-0.37, 8 x 8 in named vectors 0.5-0.67 (arrays indexed
// in loops were kept in memory); one row per invocation without shared memory 3x slower. Tiles of 32 x 32
// (16 invocations) and 64 x 32 were best there, 16 x 16 half as fast. GPUs: 128 x 64 (128 invocations,
// 24 KiB of shared memory, 27 KiB with mul_mm_gpu.comp's padding), or 64 x 32 (12 / 13.6 KiB) where a
// device has only the guaranteed 16 KiB.
constexpr MmTile kCpuTile{32, 32}, kGpuTile{128, 64}, kGpuTileSmall{64, 32};

// mul_mm_cpu.comp's default shape (rows x tokens per invocation, invocations per workgroup), measured on
// lavapipe (docs/vulkan.md, CPU seconds of a 2-layer 1.5B-shaped prompt): with 8-byte loads 12 x 4 and
// 16 x 4 ~10% below 8 x 4, 16 x 2, 4 x 4 and 4 x 8 above, 2 x 8 several times; with the wide loads 8-12 rows
// x 4-8 tokens within the noise, 16 x 4 and 12 x 2 above; workgroups of 8 or 32 no better than 16. Each read
// of x serves NR rows (x is most of the loads), so NR matters most; the NR x NT sums per invocation bound it.
// With x read as texels (X_TEX, 2026-11-29) x costs less and the weights' decoding more: 8 tokens amortise
// it over more products. TOKENS=32 vk_mul_mv_bench, GFLOP/s per CPU-second (load 2.9-4.5), 12 x 4 against
// 12 x 8: Q4_K 1536 x 8960 21.0 / 24.7 (16 x 8 24.7, 8 x 16 23.8, 12 x 12 22.7, 8 x 8 23.2), Q4_K 8960 x
// 1536 22.5 / 24.9, Q8_0 8960 x 1536 26.0 / 28.3, Q6_K 8960 x 1536 12.9 / 16.8 (8 x 8 16.1, 6 x 8 15.0).
// Q6_K took 8 x 8 while its 12 x 8 module took 3.6 s to compile on a cold cache (8 x 8 2.3 s; Q4_K 12 x 8
// 1.7 s, Q8_0 1.3 s; MESA_SHADER_CACHE_DISABLE=true, whole process); with its body decoded unit by unit
// (mul_mm_cpu.comp) 12 x 8 compiles in 2.8-2.9 s (8 x 8 1.8 s) and runs 1.07x 8 x 8's rate (h5, 09:11 UTC).
constexpr uint32_t kCpuRows = 12, kCpuRowsQ6K = 12, kCpuTokens = 8, kCpuWg = 16;

}  // namespace

namespace {
// mul_mm_cm.comp's workgroup: 2 x 2 subgroups, each a quarter of a BM (weight rows) x BN (tokens) tile, by
// default 64 x 64 (each subgroup 32 x 32: 4 accumulators of 16 x 16, 8 of 16 x 8); shared memory the larger
// of the two fp16 tiles (BM + BN rows of 32 values, padded) and the fp32 output tile: 16 KiB at 64 x 64.
// Unmeasured: no GPU session has run it yet (docs/vulkan.md); Options::mul_mm_coopmat_bm / _bn for the sweep.
constexpr uint32_t kCmTile = 64, kCmSgM = 2, kCmSgN = 2, kCmBK = 32;
constexpr uint32_t kCmEmulatedLanes = 32;  // the emulated "subgroup": any divisor of M x N; 32 as on NVIDIA
uint64_t coopmat_shared_bytes(uint32_t bm, uint32_t bn, uint32_t wg) {
  return std::max<uint64_t>(uint64_t(bm + bn) * (kCmBK / 8 + 1) * 16, uint64_t(bm) * bn * 4) + uint64_t(wg) * 4;
}
}  // namespace

std::optional<DeviceInfo::CoopMatShape> choose_coopmat_shape(const std::vector<DeviceInfo::CoopMatShape>& shapes,
                                                             uint32_t want_n) {
  auto side = [](uint32_t v) { return v == 8 || v == 16 || v == 32; };
  std::optional<DeviceInfo::CoopMatShape> best;
  for (const auto& c : shapes) {
    if (!side(c.m) || !side(c.n) || !side(c.k) || (want_n && c.n != want_n)) continue;
    if (!best || uint64_t(c.m) * c.n * c.k > uint64_t(best->m) * best->n * best->k) best = c;
  }
  return best;
}

std::optional<Ops::CoopMatPlan> Ops::mul_mm_coopmat_plan(const Matrix& a) const {
  const uint32_t mode = options_.mul_mm_coopmat;
  if (mode == 0 || a.interleaved) return std::nullopt;
  if (a.type != quant::Type::Q4_K && a.type != quant::Type::Q5_K && a.type != quant::Type::Q6_K &&
      a.type != quant::Type::Q8_0 && a.type != quant::Type::F16)
    return std::nullopt;
  const DeviceInfo& info = device_->info();
  CoopMatPlan plan;
  const uint32_t want_n = options_.mul_mm_coopmat_n;
  if (mode == 2) {
    plan = {true, 16, want_n == 8 ? 8u : 16u, 16, kCmEmulatedLanes, 0, 0};
  } else {
    if (!device_->cooperative_matrix() || !device_->subgroup_ops()) return std::nullopt;
    const auto shape = choose_coopmat_shape(info.coopmat_shapes, want_n);
    if (!shape) return std::nullopt;
    plan = {false, shape->m, shape->n, shape->k, device_->subgroups().size, 0, 0};
  }
  // The tile: 32, 64 or 128 per side (each subgroup's share a whole number of matrices), else the default.
  auto side = [](uint32_t v) { return v == 32 || v == 64 || v == 128 ? v : kCmTile; };
  plan.bm = side(options_.mul_mm_coopmat_bm);
  plan.bn = side(options_.mul_mm_coopmat_bn);
  // (The emulated lanes own whole shares of each accumulator; a real subgroup holds whatever it must.)
  if (plan.bm / kCmSgM % plan.m != 0 || plan.bn / kCmSgN % plan.n != 0 || plan.lanes == 0 ||
      (plan.emulated && plan.m * plan.n % plan.lanes != 0))
    return std::nullopt;
  const uint32_t wg = kCmSgM * kCmSgN * plan.lanes;
  if (wg > info.max_workgroup_invocations || coopmat_shared_bytes(plan.bm, plan.bn, wg) > info.max_shared_memory)
    return std::nullopt;
  return plan;
}

bool Ops::mul_mm_cpu_applies(const Matrix& a, const std::vector<BoundRows>& chunks) const {
  // Q5_K and Q8_0 only interleaved (Matrix::interleaved, which every product must read): their file layouts
  // stay with the tiles.
  if (a.type != quant::Type::Q4_K && a.type != quant::Type::Q6_K &&
      !((a.type == quant::Type::Q5_K || a.type == quant::Type::Q8_0) && a.interleaved))
    return false;
  if (!device_->int64()) return false;
  const uint32_t kernel = options_.mul_mm_kernel;  // the option or PENSER_VK_MUL_MM_KERNEL (Ops::create)
  if (kernel == 1 || (kernel == 0 && !device_->info().is_cpu())) return false;
  // Q4_K is read in 16-byte units: every row must start 16-byte aligned (Q6_K reads any even offset).
  if (a.type == quant::Type::Q4_K)
    for (const BoundRows& c : chunks)
      if (c.a_offset % 8 != 0) return false;
  return true;
}

Result<const Pipeline*> Ops::pipeline_wg(const std::string& shader, uint32_t n_bindings, uint32_t written,
                                         uint32_t push_size, uint32_t wg, std::vector<uint32_t> extra_spec,
                                         uint32_t uniform, uint32_t texel) {
  std::vector<uint32_t> spec = {wg, subgroups_ && wg % std::max(1u, device_->subgroups().size) == 0 ? 1u : 0u};
  spec.insert(spec.end(), extra_spec.begin(), extra_spec.end());
  std::string key = shader;
  for (uint32_t s : spec) key += fmt::format(":{}", s);
  if (uniform) key += fmt::format("/u{}", uniform);
  if (texel) key += fmt::format("/t{}", texel);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second.get();
  PipelineDesc desc{shader, n_bindings, written, push_size, spec, wg, uniform, texel};
  PENSER_ASSIGN_OR_RETURN(auto p, Pipeline::create_async(*device_, desc));  // waited for by Recorder::end
  const Pipeline* raw = p.get();
  pipelines_.emplace(key, std::move(p));
  return raw;
}

Status Ops::mul_mm(Recorder& rec, const Matrix& a, View x, uint32_t x_stride, View y, uint32_t y_stride,
                   uint32_t n_tokens, const View* bias, bool accumulate, bool fold) {
  PENSER_ASSERT(supported_weight_type(a.type));
  PENSER_ASSERT(!fold || (swiglu_folds(a) && !bias && !accumulate));
  PENSER_ASSERT(a.ncols % quant::traits(a.type).block_size == 0);
  if (n_tokens == 0) return {};
  const DeviceInfo& info = device_->info();
  const uint64_t row_bytes = a.row_bytes();
  PENSER_ASSIGN_OR_RETURN(auto chunks, bind_matrix(a));
  auto push_for = [&](const BoundRows& c) {
    MulMmPush push{};
    push.ncols = a.ncols;
    push.nrows = fold ? c.n_rows / 2 : c.n_rows;  // output rows (folded: gate rows, their up rows after)
    push.n_tokens = n_tokens;
    push.row_stride = uint32_t(a.stride() / 2);
    push.a_offset = c.a_offset;
    push.x_offset = x.offset;
    push.x_stride = x_stride;
    push.y_offset = y.offset + c.row_begin;
    push.y_stride = y_stride;
    push.flags = (bias ? kMulMvBias : 0) | (accumulate ? kMulMvAccumulate : 0);
    push.bias_offset = bias ? bias->offset + c.row_begin : 0;
    return push;
  };
  // A tiled kernel's dispatch per chunk: tiles of tile_rows rows of A (folded: half of them gate rows, the
  // other half their up rows, so tile_rows / 2 output rows) x tile_tokens tokens.
  auto dispatch_tiles = [&](const Pipeline& p, uint32_t tile_rows, uint32_t tile_tokens) -> Status {
    for (const BoundRows& c : chunks) {
      const MulMmPush push = push_for(c);
      const BufferRange bindings[] = {c.range, x.range, y.range, bias ? bias->range : x.range};
      if (rec.timestamps())
        rec.annotate(product_label(a.name, fold), uint64_t(c.n_rows) * row_bytes,
                     2ull * c.n_rows * a.ncols * n_tokens);
      PENSER_TRY(rec.dispatch(p, bindings, &push, sizeof(push), div_up(push.nrows, fold ? tile_rows / 2 : tile_rows),
                              div_up(n_tokens, tile_tokens)));
    }
    return {};
  };
  const auto cm = mul_mm_coopmat_plan(a);
  // Said once per Ops on stderr, so that a measurement of PENSER_VK_MUL_MM_COOPMAT=1 knows it measured the
  // other kernels. (Types it does not cover, and a shape or tile that does not fit, take them silently.)
  if (!cm && options_.mul_mm_coopmat == 1 && !device_->cooperative_matrix() && !coopmat_warned_) {
    coopmat_warned_ = true;
    std::fprintf(stderr, "penser: vulkan: PENSER_VK_MUL_MM_COOPMAT=1, but %s; the other kernels run\n",
                 info.nv_cooperative_matrix ? "VK_NV_cooperative_matrix lacks what mul_mm_cm.comp needs (an fp16 "
                                              "shape, fp16 arithmetic, the Vulkan memory model)"
                                            : "the device has no VK_NV_cooperative_matrix");
  }
  if (cm) {
    // mul_mm_cm.comp (real or emulated): spec constants BM, BN, SG_M, SG_N, M, N, K, lanes after the usual two.
    const uint32_t wg = kCmSgM * kCmSgN * cm->lanes;
    PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                            pipeline_wg((cm->emulated ? "mul_mm_cm_emu_" : "mul_mm_cm_") + lower_name(a.type), 4, 1u << 2,
                                        sizeof(MulMmPush), wg,
                                        {cm->bm, cm->bn, kCmSgM, kCmSgN, cm->m, cm->n, cm->k, cm->lanes, fold ? 1u : 0u}));
    return dispatch_tiles(*p, cm->bm, cm->bn);  // (folded: mul_mm_cm.comp's SWIGLU)
  }
  // An interleaved matrix (Matrix::interleaved) is read by mul_mm_cpu.comp's A_IL modules only (the weights
  // as a uniform texel buffer, binding 4).
  const bool il = a.interleaved;
  PENSER_ASSERT(!il || mul_mm_cpu_applies(a, chunks));
  if (mul_mm_cpu_applies(a, chunks)) {
    // mul_mm_cpu.comp: NR rows x NT tokens per invocation, weights and x read in 8-byte components, x in runs
    // of 8 values (X_EVEN 2) where its offset and stride allow, pairs (1) or floats (0) elsewhere.
    // The shape: the options or PENSER_VK_MUL_MM_ROWS / _TOKENS / _WG (Ops::create), else the measured default.
    // At most 16 x 8: lavapipe crashed (segmentation fault) on 32 rows per invocation, fully unrolled.
    uint32_t nr =
        std::min(options_.mul_mm_rows ? options_.mul_mm_rows : a.type == quant::Type::Q6_K ? kCpuRowsQ6K : kCpuRows, 16u);
    if (fold && nr % 2 != 0) ++nr;  // half gate rows, half their up rows
    const uint32_t out_nr = fold ? nr / 2 : nr;
    const uint32_t nt = std::min(options_.mul_mm_tokens ? options_.mul_mm_tokens : kCpuTokens, 8u);
    uint32_t wg = options_.mul_mm_wg ? options_.mul_mm_wg : kCpuWg;
    const uint32_t x_even = x.offset % 8 == 0 && x_stride % 8 == 0 ? 2 : x.offset % 2 == 0 && x_stride % 2 == 0 ? 1 : 0;
    // x as a uniform texel buffer (X_TEX, binding 5): a view from the texel alignment at or below x's range
    // to the end of its last token's row, where x's offset within it and its stride are whole texels.
    const uint64_t x_byte = x.range.offset + uint64_t(x.offset) * 4;
    const uint64_t tex_align = std::max<uint64_t>({info.min_texel_offset_alignment, info.min_storage_offset_alignment, 16});
    const uint64_t tex_begin = x.range.offset - x.range.offset % tex_align;
    const uint64_t tex_range = x_byte - tex_begin + (uint64_t(n_tokens - 1) * x_stride + a.ncols) * 4;
    // (CPU implementations only: only their buffers have the texel usage, Buffer::create. The GPU script runs
    // this kernel on the GPU too, PENSER_VK_MUL_MM_KERNEL=2, which then reads x from the storage buffer.)
    const bool x_texel = options_.mul_mm_x_texel && info.is_cpu() && (x_byte - tex_begin) % 16 == 0 && x_stride % 4 == 0 &&
                         tex_begin + tex_range <= x.range.buffer->size() && tex_range / 16 <= info.max_texel_elements;
    const bool share = options_.mul_mm_share && !x_texel;  // or PENSER_VK_MUL_MM_SHARE (Ops::create)
    const uint32_t sg = device_->subgroups().size;
    const bool can_share = x_even && info.subgroup_ballot && device_->subgroup_ops() && (sg == 8 || sg == 16 || sg == 32);
    if (share && can_share) wg = (wg + sg - 1) / sg * sg;  // whole subgroups
    const uint32_t shared = share && can_share && wg <= info.max_workgroup_invocations ? sg : 1;
    const uint32_t n_bindings = x_texel ? 6 : il ? 5 : 4;
    PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                            pipeline_wg("mul_mm_cpu_" + lower_name(a.type) + (il ? "_il" : "") + (x_texel ? "_xt" : ""),
                                        n_bindings, 1u << 2, sizeof(MulMmPush), wg, {nr, nt, x_texel ? 0u : x_even, shared, fold ? 1u : 0u}, 0,
                                        (il ? 1u << 4 : 0u) | (x_texel ? 1u << 5 : 0u)));
    for (const BoundRows& c : chunks) {
      MulMmPush push = push_for(c);
      if (x_texel) push.x_offset = uint32_t((x_byte - tex_begin) / 4);
      const BufferRange bindings[] = {c.range, x.range, y.range, bias ? bias->range : x.range, c.range,
                                      {x.range.buffer, tex_begin, tex_range}};
      if (rec.timestamps())
        rec.annotate(product_label(a.name, fold), uint64_t(c.n_rows) * row_bytes,
                     2ull * c.n_rows * a.ncols * n_tokens);
      PENSER_TRY(rec.dispatch(*p, std::span<const BufferRange>(bindings, n_bindings), &push, sizeof(push),
                              div_up(push.nrows, uint64_t(wg) * out_nr), div_up(n_tokens, nt)));
    }
    return {};
  }
  const bool cpu_tile = options_.mul_mm_tiles == 1 || (options_.mul_mm_tiles == 0 && info.is_cpu());
  // The GPU tile's kernel (Options::mul_mm_gpu): mul_mm_gpu.comp unless the first version is asked for.
  const bool gpu_kernel = !cpu_tile && options_.mul_mm_gpu != 1;
  MmTile tile = cpu_tile ? kCpuTile : kGpuTile;
  if (!cpu_tile && (tile.shared_bytes(gpu_kernel) > info.max_shared_memory || tile.invocations() > info.max_workgroup_invocations))
    tile = kGpuTileSmall;  // 128 invocations, 12 KiB: within every device choose_device accepts
  // A tile asked for (Options::mul_mm_bm/bn/bk, PENSER_VK_MUL_MM_BM/BN/BK: the GPU script's sweep) replaces
  // the default where it is well formed and within the device's limits.
  MmTile asked = tile;
  // The options (or PENSER_VK_MUL_MM_BM / _BN / _BK, Ops::create) where well formed, else the default.
  auto knob = [](uint32_t v, uint32_t def, uint32_t multiple) {
    return v && v % multiple == 0 && v <= 256 ? v : def;
  };
  asked.bm = knob(options_.mul_mm_bm, tile.bm, 8);
  asked.bn = knob(options_.mul_mm_bn, tile.bn, 8);
  asked.bk = knob(options_.mul_mm_bk, tile.bk, 32);
  const bool malformed = (options_.mul_mm_bm && asked.bm != options_.mul_mm_bm) ||
                         (options_.mul_mm_bn && asked.bn != options_.mul_mm_bn) ||
                         (options_.mul_mm_bk && asked.bk != options_.mul_mm_bk);
  const bool fits =
      asked.invocations() <= info.max_workgroup_invocations && asked.shared_bytes(gpu_kernel) <= info.max_shared_memory;
  if (fits) tile = asked;
  // Said once per Ops on stderr, so that a sweep labelled by the tile it asked for knows it measured another.
  if ((malformed || !fits) && !tile_warned_) {
    tile_warned_ = true;
    std::fprintf(stderr,
                 "penser: vulkan: the prompt tile asked for (PENSER_VK_MUL_MM_BM/BN/BK: %u x %u x %u) %s; %u x %u x %u "
                 "runs\n",
                 options_.mul_mm_bm, options_.mul_mm_bn, options_.mul_mm_bk,
                 malformed ? "is malformed (multiples of 8, 8 and 32, at most 256)"
                           : "needs more invocations or shared memory than the device has",
                 tile.bm, tile.bn, tile.bk);
  }
  const uint32_t wg = tile.invocations(), bm = tile.bm, bn = tile.bn;
  if (wg > info.max_workgroup_invocations || tile.shared_bytes(gpu_kernel) > info.max_shared_memory)
    return make_error("the matrix tile {} x {} needs {} invocations and {} of shared memory; {} allows {} and {}", bm,
                      bn, wg, format_bytes(tile.shared_bytes(gpu_kernel)), info.name, info.max_workgroup_invocations,
                      format_bytes(info.max_shared_memory));
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                          pipeline_wg((gpu_kernel ? "mul_mm_gpu_" : "mul_mm_") + lower_name(a.type), 4, 1u << 2,
                                      sizeof(MulMmPush), wg, {bm, bn, tile.bk, fold ? 1u : 0u}));
  return dispatch_tiles(*p, bm, bn);  // (folded: mul_mm.comp's and mul_mm_gpu.comp's SWIGLU)
}

Status Ops::attn_prefill(Recorder& rec, View q, View k, View v, View out, View positions, uint32_t n_tokens,
                         const AttnParams& a, uint32_t q_stride, uint32_t o_stride) {
  PENSER_ASSERT(a.n_head_kv > 0 && a.n_head % a.n_head_kv == 0 && a.head_dim > 0);
  if (n_tokens == 0) return {};
  const uint32_t q_dim = a.n_head * a.head_dim;
  if (q_stride == 0) q_stride = q_dim;
  if (o_stride == 0) o_stride = q_dim;
  PENSER_ASSERT(q_stride >= q_dim && o_stride >= q_dim);
  if (attn_prefill_grouped(a) && q.offset % 2 == 0 && k.offset % 2 == 0 && v.offset % 2 == 0 && out.offset % 2 == 0 &&
      q_stride % 2 == 0 && o_stride % 2 == 0)  // ops_attn.cpp: once per query, causal through each query's position
    return attn_decode_gqa(rec, q, k, v, out, positions, a, attn_shape(a), 1, 1, n_tokens, q_stride, o_stride);
  const DeviceInfo& info = device_->info();
  // Queries per workgroup x cache positions per tile. On a CPU implementation the per-invocation output
  // (BQ * head_dim / 16 floats) must stay small; GPUs take more queries per K/V tile read.
  const uint32_t bq = info.is_cpu() ? 4 : 8;
  uint32_t bkv = info.is_cpu() ? 16 : 32;
  auto shared_bytes = [&](uint32_t b) { return uint64_t(bq * a.head_dim + b * a.head_dim + bq * b + 4 * bq + wg_) * 4; };
  while (bkv > 4 && shared_bytes(bkv) > info.max_shared_memory) bkv /= 2;
  if (shared_bytes(bkv) > info.max_shared_memory)
    return make_error("attention over heads of {} values needs {} of shared memory; {} has {}", a.head_dim,
                      format_bytes(shared_bytes(bkv)), info.name, format_bytes(info.max_shared_memory));
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg("attn_prefill", 5, 1u << 3, sizeof(AttnPrefillPush), wg_,
                                                         {a.head_dim, bq, bkv}));
  AttnPrefillPush push{n_tokens, a.n_head, a.n_head_kv, q.offset, q_stride, k.offset, v.offset,
                       a.n_head_kv * a.head_dim, out.offset, positions.offset, 1.0f / std::sqrt(float(a.head_dim)),
                       o_stride};
  const BufferRange bindings[] = {q.range, k.range, v.range, out.range, positions.range};
  return rec.dispatch(*p, bindings, &push, sizeof(push), div_up(n_tokens, bq), a.n_head);
}

Status Ops::attn_decode_split(Recorder& rec, View q, View k, View v, View out, View scores, View partials,
                              View positions, const AttnParams& a, uint32_t n_split, uint32_t min_chunk) {
  PENSER_ASSERT(a.n_head_kv > 0 && a.n_head % a.n_head_kv == 0 && n_split >= 1 && min_chunk >= 1);
  PENSER_ASSERT(partials.offset == 0);  // the reduction indexes the partials from the range's start
  uint32_t gx, gy;
  if (const AttnShape g = attn_shape(a); g.ok && k.offset % 2 == 0 && v.offset % 2 == 0 && q.offset % 2 == 0) {
    // The grouped kernel (ops_attn.cpp) writes the same partials.
    PENSER_TRY(attn_decode_gqa(rec, q, k, v, partials, positions, a, g, n_split, min_chunk));
  } else {
    PENSER_ASSIGN_OR_RETURN(const Pipeline* ps,
                            pipeline("attn_decode_split", 6, (1u << 3) | (1u << 4), sizeof(AttnSplitPush),
                                     {attn_lanes()}));
    AttnSplitPush push{a.head_dim, a.n_head, a.n_head_kv, a.n_head_kv * a.head_dim, q.offset, k.offset, v.offset,
                       n_split, a.scores_stride, positions.offset, 1.0f / std::sqrt(float(a.head_dim)), min_chunk};
    const BufferRange b1[] = {q.range, k.range, v.range, partials.range, scores.range, positions.range};
    grid_2d(device_->info(), a.n_head * n_split, gx, gy);
    PENSER_TRY(rec.dispatch(*ps, b1, &push, sizeof(push), gx, gy));
  }
  return attn_reduce(rec, partials, out, a, n_split);
}

Status Ops::attn_reduce(Recorder& rec, View partials, View out, const AttnParams& a, uint32_t n_split) {
  PENSER_ASSERT(partials.offset == 0 && n_split >= 1 && n_split <= 256);  // attn_reduce.comp's MAX_SPLIT
  PENSER_ASSIGN_OR_RETURN(const Pipeline* pr, pipeline("attn_reduce", 2, 1u << 1, sizeof(AttnReducePush)));
  AttnReducePush rp{a.head_dim, a.n_head, n_split, out.offset};
  const BufferRange b2[] = {partials.range, out.range};
  uint32_t gx, gy;
  grid_2d(device_->info(), a.n_head, gx, gy);
  return rec.dispatch(*pr, b2, &rp, sizeof(rp), gx, gy);
}

}  // namespace penser::vulkan
