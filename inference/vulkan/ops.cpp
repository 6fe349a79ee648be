#include "inference/vulkan/ops.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include "inference/vulkan/knobs.h"

namespace penser::vulkan {

namespace {


std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint32_t ceil_div(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }
}  // namespace

std::string product_label(const char* name, bool swiglu) {
  std::string s = name ? name : "";
  if (!swiglu) return s;
  if (s.ends_with(".weight")) s.resize(s.size() - 7);
  return s + "+swiglu";
}

bool supported_weight_type(quant::Type t) {
  using quant::Type;
  switch (t) {
    case Type::F32: case Type::F16: case Type::BF16: case Type::Q4_0: case Type::Q4_1: case Type::Q5_0:
    case Type::Q5_1: case Type::Q8_0: case Type::Q2_K: case Type::Q3_K: case Type::Q4_K: case Type::Q5_K:
    case Type::Q6_K: case Type::IQ4_NL: case Type::IQ4_XS:
      return true;
    default:
      return false;
  }
}

Result<std::vector<RowChunk>> split_rows(uint32_t nrows, uint64_t row_bytes, uint64_t max_range, uint64_t align) {
  PENSER_ASSERT(row_bytes > 0 && align > 0);
  const uint64_t per_chunk = max_range > align ? (max_range - align) / row_bytes : 0;
  if (per_chunk == 0)
    return make_error("a weight row of {} cannot be bound on this GPU (at most {} per binding)", format_bytes(row_bytes),
                      format_bytes(max_range));
  std::vector<RowChunk> chunks;
  for (uint64_t r = 0; r < nrows; r += per_chunk)
    chunks.push_back({r * row_bytes, uint32_t(r), uint32_t(std::min<uint64_t>(per_chunk, nrows - r))});
  return chunks;
}

void grid_2d(const DeviceInfo& info, uint32_t groups, uint32_t& gx, uint32_t& gy) {
  const uint32_t max_x = std::max<uint32_t>(1, info.max_workgroup_count[0]);
  gx = std::min(groups, max_x);
  gy = gx == 0 ? 0 : ceil_div(groups, gx);
}

void interleave_rows(quant::Type type, uint32_t ncols, const uint8_t* src, uint32_t nrows, uint8_t* dst) {
  PENSER_ASSERT(nrows % 8 == 0);
  const auto& t = quant::traits(type);
  const uint64_t unit = uint64_t(t.type_size) * Matrix::interleave_unit(type), padded = Matrix::interleave_unit_bytes(type);
  const uint64_t nunits = ncols / (uint64_t(t.block_size) * Matrix::interleave_unit(type));
  PENSER_ASSERT(nunits * t.block_size * Matrix::interleave_unit(type) == ncols);
  const uint64_t row_bytes = nunits * unit, stride = nunits * padded;
  std::vector<uint8_t> row(stride, 0);
  for (uint32_t r = 0; r < nrows; ++r) {
    const uint8_t* in = src + uint64_t(r) * row_bytes;
    for (uint64_t k = 0; k < nunits; ++k) {
      uint8_t* out = row.data() + k * padded;
      const uint8_t* blocks = in + k * unit;
      if (type == quant::Type::Q8_0) {  // fields by kind (Matrix::interleaved): d's in texel 0, quants after
        for (uint64_t b = 0; b < 8; ++b) {
          std::memcpy(out + 2 * b, blocks + 34 * b, 2);
          std::memcpy(out + 16 + 32 * b, blocks + 34 * b + 2, 32);
        }
      } else {
        std::memcpy(out, blocks, unit);
      }
    }
    uint8_t* out = dst + uint64_t(r / 8) * 8 * stride + (r % 8) * 16;
    for (uint64_t j = 0; j < stride / 16; ++j) std::memcpy(out + j * 128, row.data() + j * 16, 16);
  }
}

std::vector<MatrixPart> Matrix::pieces() const {
  if (!parts.empty()) return parts;
  return {MatrixPart{buffer, offset, 0, nrows}};
}

Matrix Matrix::rows(uint32_t begin, uint32_t n) const {
  PENSER_ASSERT(n > 0 && uint64_t(begin) + n <= nrows);
  PENSER_ASSERT(!interleaved || (begin % 8 == 0 && n % 8 == 0));  // whole groups of 8 rows
  Matrix m = *this;
  m.nrows = n;
  m.parts.clear();
  for (const MatrixPart& p : pieces()) {
    const uint32_t b = std::max(begin, p.row_begin), e = std::min(begin + n, p.row_begin + p.nrows);
    if (b < e) m.parts.push_back({p.buffer, p.offset + uint64_t(b - p.row_begin) * stride(), b - begin, e - b});
  }
  m.buffer = m.parts.front().buffer;
  m.offset = m.parts.front().offset;
  if (m.parts.size() == 1) m.parts.clear();
  return m;
}

Ops::BindingLimits Ops::binding_limits(bool interleaved) const {
  const DeviceInfo& info = device_->info();
  if (!interleaved) return {info.min_storage_offset_alignment, max_binding_};
  // Interleaved rows are read through a texel-buffer view of the same range as well: its offset alignment
  // and element limit too (powers of two).
  return {std::max<uint64_t>({info.min_storage_offset_alignment, info.min_texel_offset_alignment, 16}),
          std::min<uint64_t>(max_binding_, info.max_texel_elements * 16)};
}

Result<std::vector<BoundRows>> Ops::bind_matrix(const Matrix& a) const {
  const auto [align, max_range] = binding_limits(a.interleaved);
  const uint64_t row_bytes = a.stride();
  // Interleaved rows are bound in whole groups of 8 (a group's rows are mixed texel by texel).
  const uint32_t group = a.interleaved ? 8 : 1;
  std::vector<BoundRows> out;
  for (const MatrixPart& p : a.pieces()) {
    PENSER_ASSERT(p.buffer != nullptr && p.nrows % group == 0);
    PENSER_ASSIGN_OR_RETURN(auto chunks, split_rows(p.nrows / group, row_bytes * group, max_range, align));
    for (RowChunk& c : chunks) {
      c.row_begin *= group;
      c.n_rows *= group;
      const uint64_t begin = p.offset + c.offset, end = begin + uint64_t(c.n_rows) * row_bytes;
      const uint64_t aligned = begin / align * align;
      out.push_back({p.buffer->range(aligned, end - aligned), uint32_t((begin - aligned) / 2), p.row_begin + c.row_begin,
                     c.n_rows});
    }
  }
  return out;
}

Ops::~Ops() {
  for (auto& [key, p] : pipelines_) p->abandon();
}

Result<std::unique_ptr<Ops>> Ops::create(Device& device, const Options& options) {
  std::unique_ptr<Ops> self(new Ops());
  self->device_ = &device;
  self->options_ = options;
  self->max_binding_ = device.info().max_storage_buffer_range;
  if (options.max_binding_bytes) self->max_binding_ = std::min(self->max_binding_, options.max_binding_bytes);
  // A CPU implementation runs a workgroup's invocations as SIMD lanes of one thread: small workgroups
  // (fewer lane groups switched at each barrier) measured faster on lavapipe; GPUs want more invocations.
  self->wg_ = device.info().is_cpu() ? 16 : 64;
  // The subgroup path assumes whole subgroups in a workgroup, at the width the device plan pins (context.h:
  // plan_subgroups; off where the driver varies the width and cannot pin it).
  self->subgroups_ = options.subgroups && device.subgroup_ops() && self->wg_ % device.subgroups().size == 0;
  PENSER_ASSERT(options.mul_mv_rows <= 64);  // above 16: the row-per-lane path only (Ops::mul_mv)
  self->mul_mv_rows_ = options.mul_mv_rows;
  // Shape knobs for measuring (scripts/device/gpu-run.sh sweeps them on a real GPU): the matrix-vector
  // product's workgroup size (a power of two) and rows per workgroup.
  PENSER_ASSERT((options.mul_mv_wg & (options.mul_mv_wg - 1)) == 0);
  self->mul_mv_wg_ = options.mul_mv_wg;
  if (auto wg = env_uint("PENSER_VK_MUL_MV_WG", 1, device.info().max_workgroup_invocations); wg && (*wg & (*wg - 1)) == 0)
    self->mul_mv_wg_ = *wg;
  if (auto rows = env_uint("PENSER_VK_MUL_MV_ROWS", 1, 64)) self->mul_mv_rows_ = *rows;
  if (auto rows = env_uint("PENSER_VK_MUL_MV_ROWS_BIG", 1, 16)) self->mul_mv_rows_big_ = uint32_t(*rows);
  if (auto lanes = env_uint("PENSER_VK_MUL_MV_LANES", 1, 8); lanes && (*lanes & (*lanes - 1)) == 0)
    self->options_.mul_mv_lanes = *lanes;
  PENSER_ASSERT(self->options_.mul_mv_lanes <= 8 && (self->options_.mul_mv_lanes & (self->options_.mul_mv_lanes - 1)) == 0);
  Options& o = self->options_;
  for (auto [name, flag] : {std::pair{"PENSER_VK_MUL_MV_WIDE", &o.mul_mv_wide}, {"PENSER_VK_MUL_MV_INT64", &o.mul_mv_int64},
                            {"PENSER_VK_MUL_MV_ROW_LANES", &o.mul_mv_row_lanes}, {"PENSER_VK_MUL_MV_X64", &o.mul_mv_x64},
                            {"PENSER_VK_MUL_MV_UBO", &o.mul_mv_ubo}, {"PENSER_VK_INTERLEAVE", &o.interleave}, {"PENSER_VK_MUL_MM_SHARE", &o.mul_mm_share},
                            {"PENSER_VK_SMALL_CPU", &o.small_cpu}, {"PENSER_VK_MUL_MM_XTEX", &o.mul_mm_x_texel},
                            {"PENSER_VK_MUL_MV_XTEX", &o.mul_mv_x_texel}})
    if (auto v = env_flag(name)) *flag = *v;
  // The prompt product's knobs (Ops::mul_mm): mul_mm_cpu.comp's kernel and shape where no option set them;
  // the tiles' BM / BN / BK over the options (Ops::mul_mm keeps only well-formed ones).
  if (!o.mul_mm_kernel) o.mul_mm_kernel = uint32_t(env_uint("PENSER_VK_MUL_MM_KERNEL", 1, 2).value_or(0));
  if (!o.mul_mm_tiles) o.mul_mm_tiles = uint32_t(env_uint("PENSER_VK_MUL_MM_TILES", 1, 2).value_or(0));
  if (!o.mul_mm_gpu) o.mul_mm_gpu = uint32_t(env_uint("PENSER_VK_MUL_MM_GPU", 1, 2).value_or(0));
  if (!o.mul_mm_rows) o.mul_mm_rows = uint32_t(env_uint("PENSER_VK_MUL_MM_ROWS", 1, 16).value_or(0));
  if (!o.mul_mm_tokens) o.mul_mm_tokens = uint32_t(env_uint("PENSER_VK_MUL_MM_TOKENS", 1, 8).value_or(0));
  if (!o.mul_mm_wg)
    o.mul_mm_wg = uint32_t(env_uint("PENSER_VK_MUL_MM_WG", 1, device.info().max_workgroup_invocations).value_or(0));
  if (!o.mul_mm_coopmat) o.mul_mm_coopmat = uint32_t(env_uint("PENSER_VK_MUL_MM_COOPMAT", 0, 2).value_or(0));
  if (!o.mul_mv_q8x) o.mul_mv_q8x = uint32_t(env_uint("PENSER_VK_MUL_MV_Q8X", 0, 2).value_or(0));
  if (auto v = env_uint("PENSER_VK_MUL_MM_CM_BM", 32, 128)) o.mul_mm_coopmat_bm = uint32_t(*v);
  if (auto v = env_uint("PENSER_VK_MUL_MM_CM_BN", 32, 128)) o.mul_mm_coopmat_bn = uint32_t(*v);
  if (auto v = env_uint("PENSER_VK_MUL_MM_BM", 8, 256)) o.mul_mm_bm = uint32_t(*v);
  if (auto v = env_uint("PENSER_VK_MUL_MM_BN", 8, 256)) o.mul_mm_bn = uint32_t(*v);
  if (auto v = env_uint("PENSER_VK_MUL_MM_BK", 32, 256)) o.mul_mm_bk = uint32_t(*v);
  return self;
}

Result<const Pipeline*> Ops::pipeline(const std::string& shader, uint32_t n_bindings, uint32_t written,
                                      uint32_t push_size, std::vector<uint32_t> extra_spec) {
  std::vector<uint32_t> spec = {wg_, subgroups_ ? 1u : 0u};
  spec.insert(spec.end(), extra_spec.begin(), extra_spec.end());
  std::string key = shader;
  for (uint32_t s : spec) key += fmt::format(":{}", s);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second.get();
  PipelineDesc desc{shader, n_bindings, written, push_size, spec, wg_};
  PENSER_ASSIGN_OR_RETURN(auto p, Pipeline::create_async(*device_, desc));  // waited for by Recorder::end
  const Pipeline* raw = p.get();
  pipelines_.emplace(key, std::move(p));
  return raw;
}

// Invocations per workgroup of the matrix-vector product for this matrix. Each invocation takes one item
// of a row in turn (an element of a plain type, a 32-value unit, a Q4_K unit pair, a Q6_K half block); a
// workgroup much wider than a row's items leaves lanes idle. CPU implementations: 8 (below). GPUs: the power
// of two covering a row's items, from the subgroup size up to 128.
// Invocations per item of mul_mv (its LPI): Options::mul_mv_lanes for quantized types (1 for plain ones, whose
// items are single elements), at most the workgroup size.
uint32_t Ops::mul_mv_lanes(const Matrix& a) const {
  if (quant::traits(a.type).block_size == 1) return 1;
  return std::max(1u, std::min(options_.mul_mv_lanes, mul_mv_workgroup(a)));
}

uint32_t Ops::mul_mv_workgroup(const Matrix& a) const {
  if (mul_mv_wg_) return mul_mv_wg_;
  uint32_t items = a.ncols;
  if (a.type == quant::Type::Q4_K) items = a.ncols / 64;
  else if (a.type == quant::Type::Q6_K) items = a.ncols / 128;
  else if (a.type == quant::Type::Q8_0 && options_.mul_mv_wide && a.ncols % 64 == 0) items = a.ncols / 64;
  else if (quant::traits(a.type).block_size > 1) items = a.ncols / 32;
  // CPU implementations: 8, lavapipe's SIMD width (one subgroup, so no lane group waits at the reduction's
  // barrier for another), which beat 16 in every shape measured after the 16-byte loads (vk_mul_mv_bench:
  // Q4_K 4096 x 8192 0.66 against 0.54 GB/s, Q6_K 4096-wide 0.44 against 0.33, docs/vulkan.md).
  if (device_->info().is_cpu()) return std::max(8u, std::min(device_->subgroups().size, 16u));
  // Quantized types capped at 64: the H200 sweep on an 8B model (4096-wide rows: 64 Q4_K pairs, 14336-wide
  // ffn_down: 224) gave 69.8 tok/s at 64 x 4 rows against 61.9 at 128 x 4 (docs/vulkan.md). Plain types
  // (F16/F32 models, the bandwidth probe of `devices --bandwidth`) keep 128: the sweep did not measure them.
  const uint32_t sg = std::max(1u, device_->subgroups().size);
  const uint32_t cap = quant::traits(a.type).block_size > 1 ? 64 : 128;
  if (quant::traits(a.type).block_size > 1) items *= std::max(1u, options_.mul_mv_lanes);
  uint32_t wg = std::max(sg, 32u);
  while (wg < items && wg < cap) wg *= 2;
  return std::min(wg, std::max(device_->info().max_workgroup_invocations, sg));
}

// Rows per workgroup of the matrix-vector product. Each workgroup loads its slice of x once for all its
// rows and reduces once per row, so more rows amortise that fixed cost: on the H200 (8B model, 64
// invocations) 1 row gave 28.4 tok/s, 2 rows 47.2, 4 rows 69.8. But a small matrix (the K/V products: 256
// rows on a 1.5B model) then has too few workgroups to cover a GPU (64 for ~130 multiprocessors), and the
// step waits on the slowest one: there rows are halved until there are at least 128 workgroups. CPU
// implementations: 16. A lane's loads of x are loops over the lanes there, as costly as the weights' own,
// so x read once for 16 rows instead of 4 made Q4_K products 1.5x faster (vk_mul_mv_bench, docs/vulkan.md);
// a 2-core CPU is covered by 16 workgroups (the 256-row K/V products). Q6_K: 8, ~10% slower than 16 but its
// unrolled rows take LLVM 2.6 s to compile instead of 5.5 (every cold start of a Q6_K model on lavapipe).
// PENSER_VK_MUL_MV_ROWS_BIG=n (a GPU measurement, off by default: mul_mv_gpu_rows): n rows for matrices that
// still get 1024 workgroups of them (the big products: an 8B model's gate|up and output), 4 elsewhere.
uint32_t Ops::mul_mv_rows_for(const Matrix& a) const {
  if (mul_mv_rows_) return mul_mv_rows_;
  if (device_->info().is_cpu()) return a.type == quant::Type::Q6_K ? 8 : 16;
  return mul_mv_gpu_rows(a.nrows, mul_mv_rows_big_);
}

uint32_t mul_mv_gpu_rows(uint32_t nrows, uint32_t big_rows) {
  uint32_t rows = 4;
  if (big_rows > rows && nrows / big_rows >= 1024) rows = big_rows;
  while (rows > 1 && nrows / rows < 128) rows /= 2;
  return rows;
}

// The row-per-lane product (mul_mv_rows.glsl): a CPU implementation whose subgroups are 8 lanes with
// subgroup operations on (a workgroup is one subgroup), 8-byte integers, Q4_K / Q5_K / F16 rows 16-byte aligned, Q8_0
// rows of whole 4-block quads 8-byte aligned (`aligned`, Ops::mul_mv), or Q6_K, and rows per workgroup
// that are whole lanes.
// Q4_K only up to 4096 columns unless x is a uniform buffer (`x_uniform`, Ops::mul_mv): vk_mul_mv_bench (per
// CPU-second, load ~2.7) had row lanes 1.15x faster at 1536 columns, 1.07x at 2560 and 4096, but 0.85x at
// 8960 (a 1.5B model's ffn_down) with x a storage buffer; with x uniform 1.08-1.20x at 8960 (load 3.8);
// Q6_K 1.23x at 8960, Q5_K (whose lane-striding path reads unit by unit) 4x at 1536 and at 8960.
bool Ops::mul_mv_row_lanes(const Matrix& a, bool aligned, bool x_uniform) const {
  using quant::Type;
  const bool type_ok = (a.type == Type::Q4_K && aligned && (a.ncols <= 4096 || x_uniform)) ||
                       ((a.type == Type::Q5_K || a.type == Type::Q8_0 || a.type == Type::F16) && aligned) ||
                       a.type == Type::Q6_K;
  return options_.mul_mv_row_lanes && type_ok && device_->info().is_cpu() && device_->int64() && subgroups_ &&
         device_->subgroups().size == 8 && (mul_mv_wg_ == 0 || mul_mv_wg_ == 8) && options_.mul_mv_lanes == 1 &&
         mul_mv_rows_ % 8 == 0;
}

bool Ops::interleaves(quant::Type type, uint32_t ncols, uint32_t nrows) const {
  using quant::Type;
  // All in rows of whole units of 256 values (Q8_0: 8 blocks, Matrix::interleave_unit).
  const bool type_ok =
      (type == Type::Q4_K || type == Type::Q5_K || type == Type::Q6_K || type == Type::Q8_0) && ncols % 256 == 0;
  if (!options_.interleave || !type_ok || nrows % 8 != 0) return false;
  // bind_matrix binds whole groups of 8 rows: one must fit a binding (Options::max_binding_bytes, the texel
  // view's element limit), from the aligned offset below it. (Q8_0 at 512 columns: 4.25 KiB per group.)
  const auto [align, max_range] = binding_limits(true);
  if (max_range <= align || max_range - align < 8 * Matrix::interleaved_stride(type, ncols)) return false;
  // Every product of the matrix must read the layout: the row-per-lane mul_mv (with every lane a row of a
  // group) and mul_mm_cpu.comp (not the tiles, PENSER_VK_MUL_MM_KERNEL=1).
  Matrix probe{nullptr, 0, type, ncols, nrows};
  // (mul_mm_cm.comp reads the file layout: its emulated module forced, nothing is interleaved.)
  return mul_mv_row_lanes(probe, true, true) && options_.mul_mm_kernel != 1 && options_.mul_mm_coopmat != 2 &&
         device_->info().is_cpu();
}

bool Ops::swiglu_folds(const Matrix& a) const {
  if (!options_.swiglu_fold || a.nrows < 2 || a.nrows % 2 != 0 || !a.parts.empty()) return false;
  if (a.interleaved && (a.nrows / 2) % 8 != 0) return false;
  auto chunks = bind_matrix(a);
  return chunks && chunks->size() == 1;
}

// Rows per workgroup of the row-per-lane product: every lane's x loads serve its rows, so more rows per lane
// amortise them (vk_mul_mv_bench, 1536-wide rows, per CPU-second: Q6_K 0.87 / 1.06 / 1.37 GB/s at 16 / 32 /
// 64 rows, Q4_K 0.83 / 1.12 / 1.05; docs/vulkan.md). Q6_K's 64 rows take LLVM 3.6 s to compile instead of
// 1.4 at 32 (a cold start). Interleaved Q4_K (Matrix::interleaved), whose weights now cost less than its x:
// 64 rows 1.25-1.35x faster than 32 (Q4_K 1536 x 17920, 8960 x 1536 and 1536 x 1536, per CPU-second,
// 2026-11-29, load 1.5-1.9); interleaved Q8_0 1.1-1.2x (1536 x 17920, 8960 x 1536, 1536 x 1536, per
// CPU-second, load 1.6-2.0). Halved while the matrix has fewer than 2 workgroups per CPU thread (lavapipe
// runs a dispatch's workgroups on one thread per CPU), at least 4 and at most 16: the K/V products. (It was 16
// workgroups everywhere: on 2 cores a 1.5B model's 256-row attn_v, Q6_K 1536 x 256, took 113 us a dispatch
// at 16 rows per workgroup, 97 at 32, 87 at 64; Q4_K 144 / 110 / 89: vk_ops_bench mv, 2026-11-29, load 4.)
uint32_t Ops::mul_mv_row_lane_rows(const Matrix& a) const {
  if (mul_mv_rows_) return mul_mv_rows_;
  uint32_t rows = a.type == quant::Type::Q6_K || a.interleaved ? 64 : 32;
  const uint32_t min_groups = std::clamp(2 * std::thread::hardware_concurrency(), 4u, 16u);
  while (rows > 8 && a.nrows / rows < min_groups) rows /= 2;
  return rows;
}

Status Ops::mul_mv(Recorder& rec, const Matrix& a, View x, View y, const View* bias, bool accumulate,
                   const MulMvInput& in) {
  PENSER_ASSERT(supported_weight_type(a.type));
  PENSER_ASSERT(a.ncols % quant::traits(a.type).block_size == 0);
  const bool fold = in.swiglu_out;
  PENSER_ASSERT(!fold || (swiglu_folds(a) && !bias && !accumulate));
  PENSER_ASSERT(!in.carried || in.carried->parts > 0);
  PENSER_ASSERT(!in.carry || !fold);
  // The carried norm's views inside y's binding (as element indices of it).
  auto in_y = [&](const View& v) {
    PENSER_ASSERT(v.range.buffer == y.range.buffer && v.range.offset >= y.range.offset &&
                  (v.range.offset - y.range.offset) % 4 == 0);
    return uint32_t((v.range.offset - y.range.offset) / 4) + v.offset;
  };
  const uint64_t row_bytes = a.row_bytes();
  PENSER_ASSIGN_OR_RETURN(auto chunks, bind_matrix(a));
  // Wide weight loads (mul_mv.comp's A_WIDE) where every row starts suitably aligned in its binding (rows
  // of whole multiples, chunks that start so: bind_matrix binds from the aligned offset below): Q4_K reads
  // 16-byte uvec4s (rows 16-byte aligned), Q8_0 block pairs as 17 32-bit words (rows of whole pairs,
  // 4-byte aligned).
  const uint64_t wide_align = a.type == quant::Type::Q4_K ? 16 : 4;
  bool wide = options_.mul_mv_wide && row_bytes % wide_align == 0 &&
              (a.type == quant::Type::Q4_K || (a.type == quant::Type::Q8_0 && a.ncols % 64 == 0));
  for (const BoundRows& c : chunks)
    if (uint64_t(c.a_offset) * 2 % wide_align != 0) wide = false;
  // x as vec4s when its offset allows (mul_mv.comp's X_ALIGNED).
  const bool x_aligned = x.offset % 4 == 0;
  // CPU implementations with 64-bit integers read Q4_K's wide loads and Q6_K's runs as 8-byte components
  // (mul_mv_q4_k_i64, mul_mv_q6_k_i64), x too (X_ALIGNED 2), and take a row per lane where they can.
  const uint32_t lanes = mul_mv_lanes(a);
  bool quads = a.type == quant::Type::Q8_0 && a.ncols % 128 == 0 && row_bytes % 8 == 0;
  for (const BoundRows& c : chunks)
    if (uint64_t(c.a_offset) * 2 % 8 != 0) quads = false;
  // Q5_K and F16 (rows of whole 32-value steps) by u64vec2s from rows 16-byte aligned.
  bool rows16 = (a.type == quant::Type::Q5_K || (a.type == quant::Type::F16 && a.ncols % 32 == 0)) && row_bytes % 16 == 0;
  for (const BoundRows& c : chunks)
    if (uint64_t(c.a_offset) * 2 % 16 != 0) rows16 = false;
  // The row-per-lane path with x as a uniform buffer (X_UBO): bound from the uniform alignment
  // below x, whole vec4s, within maxUniformBufferRange; else the storage buffer.
  const DeviceInfo& info = device_->info();
  const uint64_t x_byte = x.range.offset + uint64_t(x.offset) * 4;
  const uint64_t ubo_begin = info.min_uniform_offset_alignment ? x_byte - x_byte % info.min_uniform_offset_alignment : x_byte;
  const uint64_t ubo_range = x_byte - ubo_begin + uint64_t(a.ncols) * 4;
  const bool ubo_fits = options_.mul_mv_ubo && x_aligned && (x_byte - ubo_begin) % 16 == 0 &&
                        a.ncols % 4 == 0 && ubo_range <= info.max_uniform_buffer_range;
  // Or (Options::mul_mv_x_texel) as a uniform texel buffer (X_TEX, binding 7), from the texel alignment below x.
  const uint64_t tex_align = std::max<uint64_t>({info.min_texel_offset_alignment, 16});
  const uint64_t tex_begin = x_byte - x_byte % tex_align, tex_range = x_byte - tex_begin + uint64_t(a.ncols) * 4;
  const bool tex_fits = options_.mul_mv_ubo && options_.mul_mv_x_texel && x_aligned &&
                        (x_byte - tex_begin) % 16 == 0 && a.ncols % 4 == 0 && tex_range / 16 <= info.max_texel_elements;
  const bool x_uniform = ubo_fits || tex_fits;
  // An interleaved matrix (Matrix::interleaved) has only the row-per-lane reader (A_IL modules: the
  // weights as a uniform texel buffer, binding 6), with x uniform where it fits or a storage buffer.
  const bool il = a.interleaved;
  PENSER_ASSERT(!il || interleaves(a.type, a.ncols, a.nrows));
  const bool row_lanes = il || mul_mv_row_lanes(a, a.type == quant::Type::Q8_0 ? quads
                                             : a.type == quant::Type::Q5_K || a.type == quant::Type::F16 ? rows16
                                                                                                          : wide,
                                          x_uniform);
  // More than 16 rows only for the row-per-lane path (the lane-striding one unrolls its rows: compile time).
  uint32_t rows = row_lanes ? mul_mv_row_lane_rows(a) : std::min(16u, mul_mv_rows_for(a));
  // Folded SwiGLU: half the rows are gate rows, half their up rows (a whole number of rows per lane each on
  // the row-per-lane path), so a workgroup reads as many rows as unfolded and writes half the outputs.
  if (fold && rows % (row_lanes ? 16 : 2) != 0) rows += row_lanes ? 8 : 1;
  const uint32_t out_rows = fold ? rows / 2 : rows;
  // x rounded to 8 bits, with integer dot products (mul_mv.comp's X_Q8; Options::mul_mv_q8x): Q4_K, Q6_K and
  // Q8_0's pairs on the lane-striding path at one invocation per item, where the device enabled them.
  const bool q8x = options_.mul_mv_q8x != 0 && device_->integer_dot_product() && !row_lanes && lanes == 1 &&
                   (a.type == quant::Type::Q4_K || a.type == quant::Type::Q6_K || (a.type == quant::Type::Q8_0 && wide));
  const bool i64 = row_lanes || (!q8x && lanes == 1 && ((a.type == quant::Type::Q4_K && wide) || a.type == quant::Type::Q6_K) &&
                                 options_.mul_mv_int64 && device_->info().is_cpu() && device_->int64());
  const uint32_t x_reads = !x_aligned ? 0u : i64 && options_.mul_mv_x64 ? 2u : 1u;
  const bool xt = row_lanes && tex_fits, ubo = row_lanes && x_uniform && !xt;
  // Constant 3 is unused (it was the fused SwiGLU / RMSNorm read of x): 0 keeps the ids after it.
  std::vector<uint32_t> spec = {rows, 0u, wide ? 1u : 0u, lanes, x_reads, row_lanes ? 1u : 0u};
  spec.push_back(ubo ? uint32_t(ubo_range / 16) : 1u);  // XU_VEC4S (X_UBO modules only)
  spec.push_back(fold ? 1u : 0u);                        // SWIGLU
  spec.push_back(in.carry ? 1u : in.carried ? 2u : 0u);  // NORM_CARRY
  if (q8x) spec.push_back(options_.mul_mv_q8x == 2 ? 1u : 0u);  // LOAD_ALL_SLOTS
  const std::string name = "mul_mv_" + lower(quant::type_name(a.type)) + (il ? "_il" : q8x ? "_q8x" : i64 ? "_i64" : "") +
                           (xt ? "_xt" : ubo ? "_ubo" : "");
  const uint32_t n_bindings = xt ? 8 : il ? 7 : 6;
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg(name, n_bindings, 1u << 2, sizeof(MulMvPush),
                                                         row_lanes ? 8u : mul_mv_workgroup(a), spec, ubo ? 1u << 1 : 0u,
                                                         (il ? 1u << 6 : 0u) | (xt ? 1u << 7 : 0u)));
  const BufferRange x_binding = ubo ? BufferRange{x.range.buffer, ubo_begin, ubo_range} : x.range;
  const uint32_t x_offset = ubo ? uint32_t((x_byte - ubo_begin) / 4) : xt ? uint32_t((x_byte - tex_begin) / 4) : x.offset;
  // in.carry: the product's partial sums (one per workgroup, over all its dispatches) after the counter and
  // the total (mul_mv.comp, NORM_CARRY).
  uint32_t parts = 0, total_parts = 0;
  for (const BoundRows& c : chunks) total_parts += ceil_div(fold ? c.n_rows / 2 : c.n_rows, out_rows);
  if (in.carry) PENSER_ASSERT(uint64_t(in_y(in.carry->ss)) + 4 + total_parts <= y.range.range / 4);
  for (const BoundRows& c : chunks) {
    MulMvPush push{};
    push.ncols = a.ncols;
    push.nrows = fold ? c.n_rows / 2 : c.n_rows;  // output rows
    push.row_stride = uint32_t(a.stride() / 2);
    push.x_offset = x_offset;
    push.y_offset = y.offset + c.row_begin;
    push.flags = (bias ? kMulMvBias : 0) | (accumulate ? kMulMvAccumulate : 0);
    push.bias_offset = bias ? bias->offset + c.row_begin : 0;
    push.a_offset = c.a_offset;
    push.u_offset = in.carried ? in.carried->ss.offset + 1 : 0;  // the total
    push.nw_offset = in.carry ? in.carry->g.offset + c.row_begin : 0;
    push.eps = in.carried ? in.carried->eps : 0;
    const uint32_t groups = ceil_div(push.nrows, out_rows);
    if (in.carry) {
      push.carry_xg = in_y(in.carry->xg) + c.row_begin;
      push.carry_ss = in_y(in.carry->ss);
      push.carry_part0 = parts;
      push.carry_parts = total_parts;
      parts += groups;
    }
    const View* u_view = in.carried ? &in.carried->ss : nullptr;
    const View* nw_view = in.carry ? &in.carry->g : nullptr;
    const BufferRange bindings[] = {c.range, x_binding, y.range, bias ? bias->range : x.range,
                                    u_view ? u_view->range : x.range, nw_view ? nw_view->range : x.range, c.range,
                                    BufferRange{x.range.buffer, tex_begin, tex_range}};
    uint32_t gx, gy;
    grid_2d(device_->info(), groups, gx, gy);
    if (rec.timestamps()) rec.annotate(product_label(a.name, fold), uint64_t(c.n_rows) * row_bytes);
    PENSER_TRY(rec.dispatch(*p, std::span<const BufferRange>(bindings, n_bindings), &push, sizeof(push), gx, gy));
  }
  if (in.carry) in.carry->parts = parts;
  return {};
}

Status Ops::get_rows(Recorder& rec, const Matrix& a, View ids, uint32_t n_ids, View out, uint32_t out_stride) {
  PENSER_ASSERT(supported_weight_type(a.type));
  PENSER_ASSERT(!a.interleaved);  // the loader interleaves only matrices that are multiplied, never looked up
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                          pipeline("get_rows_" + lower(quant::type_name(a.type)), 3, 1u << 2, sizeof(GetRowsPush)));
  const uint64_t row_bytes = a.row_bytes();
  PENSER_ASSIGN_OR_RETURN(auto chunks, bind_matrix(a));
  // Which chunk (or allocation part) holds a row is known only on the GPU (ids may be written there): one
  // dispatch per chunk, each writing the rows that fall in it and skipping the others.
  for (const BoundRows& c : chunks) {
    GetRowsPush push{a.ncols, n_ids, uint32_t(row_bytes / 2), c.row_begin, c.row_begin + c.n_rows,
                     ids.offset, out.offset, out_stride, c.a_offset};
    const BufferRange bindings[] = {c.range, ids.range,
                                    out.range};
    uint32_t gx, gy;
    grid_2d(device_->info(), n_ids, gx, gy);
    PENSER_TRY(rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy));
  }
  return {};
}

Status Ops::rms_norm(Recorder& rec, View x, View y, const View* w, uint32_t ncols, uint32_t nrows, float eps) {
  // One workgroup per row: on a GPU its invocations' loads of a row are a chain of ncols / wg dependent
  // round trips to memory (a 1536-wide row at 64 invocations: 24 x 2, ~14.6 us per call on the H200, 13.6%
  // of a 1.5B model's decode step), so GPUs get wide workgroups (a few loads each). CPU implementations
  // keep the common size (lanes of one thread).
  // CPU implementations: rms_norm_cpu.comp where the rows are whole vec4s at whole-vec4 offsets, one
  // subgroup (8 lanes on lavapipe: the sum needs no shared memory). vk_ops_bench rms_norm (2026-11-29, load
  // 4.8, per CPU-second): 1536 values 32.5 us a dispatch with rms_norm.comp, 20-23 with this one at 8, 16 or
  // 64 lanes (most of it any dispatch's fixed cost); 15360 values 173 against 47-50.
  if (small_cpu() && ncols % 4 == 0 && ncols > 0 && nrows > 0) {
    const uint64_t span = uint64_t(nrows) * ncols * 4;
    const auto xb = vec4_binding(x.range, x.offset * 4ull, span, true), yb = vec4_binding(y.range, y.offset * 4ull, span, false);
    const auto wb = w ? vec4_binding(w->range, w->offset * 4ull, ncols * 4ull, true) : xb;
    if (xb && yb && wb) {
      PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg("rms_norm_cpu", 3, 1u << 2, sizeof(RmsNormCpuPush), 8,
                                                             {w ? 1u : 0u}, 0, (1u << 0) | (1u << 1)));
      RmsNormCpuPush push{ncols / 4, nrows, xb->offset4, ncols / 4, yb->offset4, ncols / 4, wb->offset4, eps};
      const BufferRange bindings[] = {xb->range, wb->range, yb->range};
      uint32_t gx, gy;
      grid_2d(device_->info(), nrows, gx, gy);
      return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
    }
  }
  uint32_t wg = wg_;
  if (!device_->info().is_cpu())
    while (wg < 512 && wg * 2 <= device_->info().max_workgroup_invocations) wg *= 2;
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg("rms_norm", 3, 1u << 2, sizeof(RmsNormPush), wg, {}));
  RmsNormPush push{ncols, nrows, x.offset, ncols, y.offset, ncols, w ? w->offset : 0, w ? 1u : 0u, eps};
  const BufferRange bindings[] = {x.range, w ? w->range : x.range, y.range};
  uint32_t gx, gy;
  grid_2d(device_->info(), nrows, gx, gy);
  return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
}

Status Ops::elementwise(Recorder& rec, const Pipeline& p, std::initializer_list<BufferRange> b, const void* push,
                        uint32_t push_size, uint32_t n) {
  uint32_t gx, gy;
  grid_2d(device_->info(), ceil_div(n, wg_), gx, gy);
  return rec.dispatch(p, std::span<const BufferRange>(b.begin(), b.size()), push, push_size, gx, gy);
}

Status Ops::rope(Recorder& rec, View x, View positions, const View* ff, const RopeParams& r) {
  PENSER_ASSERT(r.n_dims % 2 == 0 && r.n_dims <= r.head_dim);
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline("rope", 3, 1u << 0, sizeof(RopePush)));
  const uint32_t n_rows = r.n_tokens * r.n_head;
  RopePush push{r.head_dim, r.n_dims, r.n_head, n_rows, x.offset, positions.offset, r.neox ? 1u : 0u,
                ff ? 1u : 0u, r.freq_base};
  return elementwise(rec, *p, {x.range, positions.range, ff ? ff->range : positions.range}, &push, sizeof(push),
                     n_rows * (r.n_dims / 2));
}

std::optional<Ops::Vec4Binding> Ops::vec4_binding(const BufferRange& r, uint64_t byte, uint64_t bytes, bool texel) const {
  const DeviceInfo& info = device_->info();
  const uint64_t align = texel ? std::max<uint64_t>({info.min_storage_offset_alignment, info.min_texel_offset_alignment, 16})
                               : std::max<uint64_t>(info.min_storage_offset_alignment, 1);
  byte += r.offset;
  const uint64_t aligned = byte / align * align;
  const uint64_t range = byte - aligned + (bytes + 15) / 16 * 16;
  if ((byte - aligned) % 16 != 0 || aligned + range > r.buffer->size() || range > max_binding_ ||
      (texel && range / 16 > info.max_texel_elements))
    return std::nullopt;
  return Vec4Binding{r.buffer->range(aligned, range), uint32_t((byte - aligned) / 16)};
}

Status Ops::swiglu(Recorder& rec, View g, View u, View y, uint32_t n, uint32_t ncols, uint32_t stride) {
  if (ncols == 0) ncols = std::max(n, 1u);
  if (stride == 0) stride = ncols;
  PENSER_ASSERT(n % ncols == 0 && stride >= ncols);
  // CPU implementations: swiglu_cpu.comp where the rows are whole vec4s at whole-vec4 offsets. 8 lanes (one
  // subgroup, lavapipe's SIMD width) x 4 vec4s per workgroup: a 1.5B model's 8960 values are 70 workgroups.
  // vk_ops_bench swiglu:8960 (2026-11-29, load 3.7): 150 us a dispatch per CPU-second with swiglu.comp, 47-53
  // with this one at 8 to 256 lanes x 1 to 35 vec4s each (no shape clearly ahead; 45-55 reading g and u as
  // vec4s of a storage buffer), of which ~13-25 us is any dispatch's fixed cost on lavapipe.
  if (small_cpu() && ncols % 4 == 0 && stride % 4 == 0 && n / ncols <= device_->info().max_workgroup_count[1]) {
    const uint32_t nrows = n / ncols, wg = 8, vpi = 4;
    const uint64_t span = (uint64_t(nrows - 1) * stride + ncols) * 4;
    const auto gb = vec4_binding(g.range, g.offset * 4ull, span, true), ub = vec4_binding(u.range, u.offset * 4ull, span, true);
    const auto yb = vec4_binding(y.range, y.offset * 4ull, span, false);
    if (gb && ub && yb) {
      PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline_wg("swiglu_cpu", 3, 1u << 2, sizeof(SwigluCpuPush), wg, {vpi},
                                                             0, (1u << 0) | (1u << 1)));
      SwigluCpuPush push{ncols / 4, nrows, gb->offset4, ub->offset4, yb->offset4, stride / 4};
      const BufferRange bindings[] = {gb->range, ub->range, yb->range};
      return rec.dispatch(*p, bindings, &push, sizeof(push), ceil_div(ncols / 4, wg * vpi), nrows);
    }
  }
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline("swiglu", 3, 1u << 2, sizeof(SwigluPush)));
  SwigluPush push{n, g.offset, u.offset, y.offset, ncols, stride};
  return elementwise(rec, *p, {g.range, u.range, y.range}, &push, sizeof(push), n);
}

Status Ops::add(Recorder& rec, View a, View b, View y, uint32_t n, uint32_t b_len) {
  PENSER_ASSERT(b_len > 0);
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline("add", 3, 1u << 2, sizeof(AddPush)));
  AddPush push{n, a.offset, b.offset, y.offset, b_len};
  return elementwise(rec, *p, {a.range, b.range, y.range}, &push, sizeof(push), n);
}

Status Ops::soft_max(Recorder& rec, View x, uint32_t ncols, uint32_t nrows, float scale) {
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline("soft_max", 1, 1u << 0, sizeof(SoftMaxPush)));
  SoftMaxPush push{ncols, nrows, x.offset, ncols, scale};
  const BufferRange bindings[] = {x.range};
  uint32_t gx, gy;
  grid_2d(device_->info(), nrows, gx, gy);
  return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
}

Status Ops::kv_store(Recorder& rec, View src, View cache, View positions, uint32_t n, uint32_t n_tokens,
                     uint32_t dst_stride) {
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p, pipeline("kv_store", 3, 1u << 1, sizeof(KvStorePush)));
  KvStorePush push{n, n_tokens, src.offset, cache.offset, dst_stride, positions.offset};
  return elementwise(rec, *p, {src.range, cache.range, positions.range}, &push, sizeof(push), n * n_tokens);
}

Status Ops::rope_kv(Recorder& rec, View q, View k, View v, const View* qn, const View* kn, float eps, const View* ff,
                    View positions, View k_cache, View v_cache, const RopeParams& r) {
  auto same = [](const BufferRange& a, const BufferRange& b) {
    return a.buffer == b.buffer && a.offset == b.offset && a.range == b.range;
  };
  PENSER_ASSERT(same(q.range, k.range) && same(q.range, v.range));
  PENSER_ASSERT(r.n_dims % 2 == 0 && r.n_dims <= r.head_dim && r.n_tokens >= 1);
  const uint32_t v_stride = r.v_stride ? r.v_stride : r.x_stride;
  PENSER_ASSERT(r.n_tokens == 1 || (r.x_stride >= (r.n_head + r.n_head_kv) * r.head_dim &&
                                    v_stride >= r.n_head_kv * r.head_dim));
  PENSER_ASSERT(!qn == !kn && r.n_head_kv > 0);
  // CPU implementations (Options::small_cpu): one subgroup per workgroup (lavapipe: 8 lanes), whose
  // reduction needs no shared memory and whose lanes no barrier waits for. vk_ops_bench rope_kv:80 (1.5B
  // heads, 2026-11-29, load 2.4, per CPU-second): 49-50 us a dispatch at 16 lanes, 40 at 8, 70 at 32, 81 at 64.
  const uint32_t sg = device_->subgroups().size;
  const uint32_t wg = small_cpu() && sg >= 8 && sg <= wg_ && (sg & (sg - 1)) == 0 ? sg : wg_;
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                          pipeline_wg("rope_kv", 7, (1u << 0) | (1u << 5) | (1u << 6), sizeof(RopeKvPush), wg, {}));
  const uint32_t n_head_kv = r.n_head_kv;
  RopeKvPush push{r.head_dim, r.n_dims, r.n_head, n_head_kv, q.offset, k.offset, v.offset, qn ? qn->offset : 0,
                  kn ? kn->offset : 0, qn ? 1u : 0u, positions.offset, k_cache.offset, v_cache.offset,
                  n_head_kv * r.head_dim, r.neox ? 1u : 0u, ff ? 1u : 0u, r.freq_base, eps, r.n_tokens, r.x_stride,
                  v_stride};
  const BufferRange bindings[] = {q.range, qn ? qn->range : positions.range, kn ? kn->range : positions.range,
                                  ff ? ff->range : positions.range, positions.range, k_cache.range, v_cache.range};
  uint32_t gx, gy;
  grid_2d(device_->info(), r.n_tokens * (r.n_head + 2 * n_head_kv), gx, gy);
  return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
}

uint32_t Ops::attn_lanes() const {
  uint32_t lanes = options_.attn_lanes ? options_.attn_lanes : device_->info().is_cpu() ? 1 : 8;
  while (lanes > 1 && wg_ % lanes != 0) lanes /= 2;
  return lanes;
}

Status Ops::attn_decode(Recorder& rec, View q, View k, View v, View out, View scores, View positions,
                        const AttnParams& a) {
  PENSER_ASSERT(a.n_head_kv > 0 && a.n_head % a.n_head_kv == 0);
  if (const AttnShape g = attn_shape(a); g.ok && k.offset % 2 == 0 && v.offset % 2 == 0 && q.offset % 2 == 0 &&
                                          out.offset % 2 == 0)
    return attn_decode_gqa(rec, q, k, v, out, positions, a, g, 1, 1);  // ops_attn.cpp
  PENSER_ASSIGN_OR_RETURN(const Pipeline* p,
                          pipeline("attn_decode", 6, (1u << 3) | (1u << 4), sizeof(AttnDecodePush), {attn_lanes()}));
  AttnDecodePush push{a.head_dim, a.n_head, a.n_head_kv, a.n_head_kv * a.head_dim, q.offset, k.offset, v.offset,
                      out.offset, a.scores_stride, positions.offset, 1.0f / std::sqrt(float(a.head_dim)), 0};
  const BufferRange bindings[] = {q.range, k.range, v.range, out.range, scores.range, positions.range};
  uint32_t gx, gy;
  grid_2d(device_->info(), a.n_head, gx, gy);
  return rec.dispatch(*p, bindings, &push, sizeof(push), gx, gy);
}

}  // namespace penser::vulkan
