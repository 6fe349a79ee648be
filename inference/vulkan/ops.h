// The operations of a forward pass as Vulkan dispatches. Activations are f32 vectors addressed as
// (buffer range, element offset); weights as Matrix (rows of one quant type, split into bindable chunks);
// the KV cache is f16. Every op records into a Recorder; nothing runs until it is submitted.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inference/quant/quant.h"
#include "inference/vulkan/push.h"
#include "inference/vulkan/recorder.h"

namespace penser::vulkan {

// An f32/f16/u32/i32 array inside a bound range: element `offset` of `range`.
struct View {
  BufferRange range;
  uint32_t offset = 0;
};

// A weight matrix in device memory: nrows rows of ncols elements of `type`, row-major, starting at
// `offset` bytes in `buffer`: a multiple of the type's block bytes (2-byte units; 4-byte ones for the types
// read as 32-bit words), not necessarily of minStorageBufferOffsetAlignment: the evaluator's merged Q/K/V
// and gate/up put one tensor's rows right after another's, and the ops bind from the aligned offset below
// (as for row chunks).
// A matrix larger than one allocation (maxMemoryAllocationSize, EvaluatorOptions::max_allocation_bytes) is
// stored as parts of whole rows, each in its own buffer: Matrix::parts lists them and buffer/offset are the
// first's. The ops iterate the parts as they iterate binding chunks, so readers do not see the split.
struct MatrixPart {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;          // bytes in buffer of the part's first row
  uint32_t row_begin = 0, nrows = 0;  // the matrix's rows [row_begin, row_begin + nrows)
};
struct Matrix {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;
  quant::Type type = quant::Type::F32;
  uint32_t ncols = 0, nrows = 0;
  const char* name = nullptr;  // the tensor's name (static storage), for the per-op profile
  std::vector<MatrixPart> parts{};  // empty: all rows at buffer + offset; else in row order, covering nrows
  // The rows' layout in memory: false, back to back as in the file; true, interleaved (CPU implementations:
  // interleave_rows below, Ops::interleaves): each unit of interleave_unit() file blocks padded to whole
  // 16-byte texels (Q4_K: a block, 144 bytes = 9 texels; Q5_K: a block, 176 bytes = 11 texels; Q6_K: a
  // block, 210 bytes to 224; Q8_0: 8 blocks,
  // 272 bytes = 17 texels, no padding, where one 34-byte block padded to 48 would waste 41% and 4 blocks
  // padded to 144 bytes 6%, enough to push a 1.5B Q8_0 model past lavapipe's 2 GiB heap), its bytes as in the
  // file except Q8_0's, by kind so that every field is whole texels (the 8 f16 d's in texel 0, block b's 32
  // quants in texels 1 + 2b and 2 + 2b); and each group of 8 rows stored texel by texel (texel j of rows
  // 8g .. 8g + 7 side by side), so that 8 lanes each reading its own row read 128 contiguous bytes. nrows is
  // then a multiple of 8, ncols a multiple of the unit's values, and parts and views start at whole groups.
  bool interleaved = false;
  uint64_t row_bytes() const { return quant::row_size(type, ncols); }
  // Bytes a row takes in memory (padded units when interleaved): row r starts at r * stride().
  uint64_t stride() const { return interleaved ? interleaved_stride(type, ncols) : row_bytes(); }
  // File blocks per padded unit of the interleaved layout.
  static uint32_t interleave_unit(quant::Type type) { return type == quant::Type::Q8_0 ? 8 : 1; }
  // Bytes of one padded unit (whole texels).
  static uint64_t interleave_unit_bytes(quant::Type type) {
    return (uint64_t(interleave_unit(type)) * quant::traits(type).type_size + 15) / 16 * 16;
  }
  static uint64_t interleaved_stride(quant::Type type, uint32_t ncols) {
    const uint64_t values = uint64_t(quant::traits(type).block_size) * interleave_unit(type);
    return ncols / values * interleave_unit_bytes(type);
  }
  uint64_t bytes() const { return stride() * nrows; }
  // The parts, or the one part that buffer/offset describe.
  std::vector<MatrixPart> pieces() const;
  // Rows [begin, begin + n) as a matrix of their own (a tensor inside a merged upload), parts cut to fit.
  Matrix rows(uint32_t begin, uint32_t n) const;
};

// Rows grouped so that each group's bytes fit one binding. A binding must start at a multiple of the
// device's offset alignment: it starts at the aligned offset below the chunk (hence max_range - align).
struct RowChunk {
  uint64_t offset;  // bytes from the matrix start (not necessarily aligned)
  uint32_t row_begin, n_rows;
};
Result<std::vector<RowChunk>> split_rows(uint32_t nrows, uint64_t row_bytes, uint64_t max_range, uint64_t align);

// One dispatch's share of a matrix: a chunk of one part's rows, bound from the aligned offset below them.
struct BoundRows {
  BufferRange range;
  uint32_t a_offset = 0;  // 16-bit words from the binding's start to the first row
  uint32_t row_begin = 0, n_rows = 0;  // rows of the whole matrix
};

// Weight types the shaders read.
bool supported_weight_type(quant::Type type);

// The interleaved layout (Matrix::interleaved) of nrows rows of a quantized type, as the file stores them
// (nrows a multiple of 8, ncols of whole units): dst receives nrows * stride bytes (Matrix::interleaved_stride).
// Byte b of unit k of row r (a unit: Matrix::interleave_unit blocks, b < their bytes) is byte o = k * padded + b
// of the padded row (padded: Matrix::interleave_unit_bytes), and lands at (r / 8) * 8 * stride + (o / 16) * 128
// + (r % 8) * 16 + o % 16; the padding is zero. Q8_0's unit is rearranged first: the d of its block j at
// bytes 2j, 2j + 1, the quants of block j at 16 + 32j .. 16 + 32j + 31.
void interleave_rows(quant::Type type, uint32_t ncols, const uint8_t* src, uint32_t nrows, uint8_t* dst);

// The profile's label of a product of the matrix named `name` (none: ""); with SwiGLU folded in
// (MulMvInput::swiglu_out, Ops::mul_mm's swiglu_out): "ffn_gate_up.weight" -> "ffn_gate_up+swiglu".
std::string product_label(const char* name, bool swiglu);

// An RMSNorm carried from one product to the next ones instead of a dispatch of its own (the decode step,
// EvaluatorOptions::norm_carry). The producer (MulMvInput::carry: a product writing y, usually the residual
// Wo or down) also writes y * g at xg and, at ss, a counter, the sum of y^2 and per workgroup a partial sum
// (the last workgroup adds them: mul_mv.comp, NORM_CARRY); the consumers (MulMvInput::carried, x = xg) scale
// their sums by 1 / sqrt(mean(y^2) + eps). xg and ss are views of the producer's y buffer range (one binding
// holds all three); ss has room for 4 + one float per workgroup of the producer, and its first word (the
// counter) is 0 before the first producer runs (each producer leaves it 0).
struct NormCarry {
  View g;              // the norm's weight, one value per row of the producer's output
  View xg, ss;
  float eps = 0;
  uint32_t parts = 0;  // set by the producer's mul_mv: its partial sums (workgroups over all its dispatches)
};

// What Ops::mul_mv does besides the product (the decode step: fewer dispatches and barriers).
struct MulMvInput {
  // SwiGLU folded into the output (where Ops::swiglu_folds(a)): a is the merged [gate | up] (nrows / 2
  // rows each) and y[r] = silu(gate_r . x) * (up_r . x) for r < nrows / 2: one dispatch and n_ff floats
  // written instead of a product writing 2 n_ff and a swiglu dispatch. No bias, no accumulate.
  bool swiglu_out = false;
  // The norm carried in (NormCarry): x is carried->xg, the sums are scaled by its 1 / rms.
  const NormCarry* carried = nullptr;
  // This product carries the next norm out (NormCarry; its `parts` is set here). Not with swiglu_out.
  NormCarry* carry = nullptr;
};

// Rows per workgroup of the decode product on a GPU for a matrix of nrows rows (Ops::mul_mv_rows_for): 4,
// or big_rows (PENSER_VK_MUL_MV_ROWS_BIG, 0 by default) where the matrix still gets 1024 workgroups of them;
// halved while it would get fewer than 128 workgroups.
uint32_t mul_mv_gpu_rows(uint32_t nrows, uint32_t big_rows);

class Ops {
 public:
  struct Options {
    bool subgroups = true;          // use subgroup reductions where the device has them; false: shared memory
    uint64_t max_binding_bytes = 0; // 0: the device's maxStorageBufferRange; tests set it small to exercise splits
    uint32_t mul_mv_rows = 0;       // rows per workgroup of the matrix-vector product (they share x); 0: by device
                                    // and matrix (Ops::mul_mv_rows_for)
    uint32_t mul_mv_wg = 0;         // invocations per workgroup of mul_mv (a power of two); 0: by device and
                                    // matrix (Ops::mul_mv_workgroup); PENSER_VK_MUL_MV_WG overrides
    uint32_t mul_mv_lanes = 1;      // invocations per item of mul_mv (1, 2, 4, 8: mul_mv.comp's LPI; a GPU variant,
                                    // unmeasured: PENSER_VK_MUL_MV_LANES)
    bool mul_mv_wide = true;        // wide weight loads in mul_mv where the rows allow them (Q4_K: 16-byte,
                                    // Q8_0: 32-bit words of block pairs); false: the narrow loads (the test
                                    // covers both; PENSER_VK_MUL_MV_WIDE=0/1)
    bool mul_mv_int64 = true;       // Q4_K's wide loads as 8-byte components on CPU implementations with
                                    // shaderInt64 (PENSER_VK_MUL_MV_INT64=0/1)
    bool mul_mv_x64 = true;         // with those 8-byte loads (Q4_K, Q6_K), x read as u64vec2s, not vec4s
                                    // (PENSER_VK_MUL_MV_X64=0/1)
    bool mul_mv_row_lanes = true;   // Q4_K / Q5_K / Q6_K / Q8_0 / F16 on CPU implementations with
                                    // shaderInt64 and 8-lane subgroups: a row per lane, x read at uniform
                                    // offsets (mul_mv_rows.glsl); false: the lane-striding path
                                    // (PENSER_VK_MUL_MV_ROW_LANES=0/1)
    bool mul_mv_ubo = true;         // that row-per-lane path with x bound as a uniform buffer (X_UBO) where x
                                    // fits maxUniformBufferRange and its offset allows; else
                                    // the storage buffer (PENSER_VK_MUL_MV_UBO=0/1)
    bool mul_mv_x_texel = true;     // with mul_mv_ubo: x as a uniform texel buffer instead (X_TEX modules;
                                    // cheaper on lavapipe, no 64 KiB limit) where its offset allows
                                    // (PENSER_VK_MUL_MV_XTEX=0/1)
    // The decode product with x rounded to 8 bits and integer dot products (mul_mv.comp's X_Q8 modules: Q4_K,
    // Q6_K, Q8_0's block pairs) where the device enabled them (Device::integer_dot_product) and the product
    // takes the lane-striding path at one invocation per item (GPUs by default): 0 off (the default: not yet
    // measured on a GPU), 1 on, 2 on with every row slot loading (LOAD_ALL_SLOTS). PENSER_VK_MUL_MV_Q8X
    // overrides 0. Not exact: x carries ~0.5% of rounding per value (docs/vulkan.md).
    uint32_t mul_mv_q8x = 0;
    bool interleave = true;         // weights stored interleaved and read as texels where Ops::interleaves
                                    // allows (PENSER_VK_INTERLEAVE=0/1)
    uint32_t mul_mm_tiles = 0;      // mul_mm tile: 0 by device type, 1 the CPU-implementation one, 2 the GPU one
                                    // (PENSER_VK_MUL_MM_TILES=1/2 overrides 0: the evaluator suites)
    // The GPU tile's kernel: 0 the default (2), 1 mul_mm.comp (scalar shared-memory reads, the first version),
    // 2 mul_mm_gpu.comp (register-blocked, vec4 shared-memory reads). PENSER_VK_MUL_MM_GPU=1/2 overrides 0:
    // the GPU script compares the two. The CPU-implementation tile keeps mul_mm.comp.
    uint32_t mul_mm_gpu = 0;
    // mul_mm's kernel: 0 by device (mul_mm_cpu.comp for Q4_K and Q6_K on CPU implementations with shaderInt64
    // where the rows allow it, else the tiles), 1 the tiles (mul_mm.comp), 2 mul_mm_cpu.comp where the type
    // and rows allow it on any device (tests). PENSER_VK_MUL_MM_KERNEL=1/2 overrides 0.
    uint32_t mul_mm_kernel = 0;
    // mul_mm_cpu.comp's shape: rows and tokens per invocation, invocations per workgroup; 0: the measured
    // default (Ops::mul_mm). PENSER_VK_MUL_MM_ROWS / _TOKENS / _WG override 0.
    uint32_t mul_mm_rows = 0, mul_mm_tokens = 0, mul_mm_wg = 0;
    // mul_mm_cpu.comp: a subgroup's invocations split the loads of x and broadcast them, where the device
    // has subgroupBroadcast at a known width and x is 8-byte aligned (PENSER_VK_MUL_MM_SHARE=0/1). Off: on
    // lavapipe it took as much CPU time as every invocation loading x itself (docs/vulkan.md).
    bool mul_mm_share = false;
    // mul_mm_cpu.comp: x read as a uniform texel buffer (X_TEX modules: every invocation of a workgroup reads
    // the same x, which lavapipe fetches as 8 straight 16-byte loads, not a loop over the lanes) where x's
    // offset and stride are multiples of 4 floats (PENSER_VK_MUL_MM_XTEX=0/1).
    bool mul_mm_x_texel = true;
    // mul_mm's tile, measurements (the GPU script's sweep): weight rows (BM) and tokens (BN) per workgroup, each
    // a multiple of 8 up to 256, and K per step (BK) a multiple of 32 up to 256; 0 keeps mul_mm_tiles' value.
    // PENSER_VK_MUL_MM_BM / _BN / _BK override them. A tile beyond the device's invocation or shared-memory
    // limits is not used (the default one is).
    uint32_t mul_mm_bm = 0, mul_mm_bn = 0, mul_mm_bk = 0;
    // mul_mm on cooperative matrices (mul_mm_cm.comp) for Q4_K, Q5_K, Q6_K, Q8_0 and F16 weights in the file
    // layout (other types and interleaved matrices keep their kernels): 0 off; 1 where the device has
    // VK_NV_cooperative_matrix (Device::cooperative_matrix) with a shape the kernel takes and room for its
    // tile; 2 the emulated module (CM_EMULATED: the same tiles, the matrix operations in plain code) on any
    // device: the tests' way to run it on lavapipe. PENSER_VK_MUL_MM_COOPMAT=0/1/2 overrides 0.
    // Off by default in Ops (the op suites test the tiles everywhere); the evaluator asks for 1 where the
    // device has cooperative matrices (the H200 run of 2026-11-29: prefill 1.25-1.9x the tiles').
    uint32_t mul_mm_coopmat = 0;
    // Its matrices' N (16 x N x K): 8 or 16 where the device lists that shape (emulated: any of 8, 16);
    // 0: the device's largest shape (emulated: 16 x 16 x 16).
    uint32_t mul_mm_coopmat_n = 0;
    // Its workgroup tile, weight rows (BM) x tokens (BN), each 32, 64 or 128 (0 or another value: 64), within
    // the device's shared memory (max(fp16 tiles, fp32 output) = 32 KiB at 128 x 64; 128 x 128 needs 64 KiB).
    // PENSER_VK_MUL_MM_CM_BM / _BN override them (the GPU script's sweep).
    uint32_t mul_mm_coopmat_bm = 0, mul_mm_coopmat_bn = 0;
    uint32_t attn_lanes = 0;        // decode attention: invocations per position in the score phase (a power of
                                    // two dividing the workgroup); 0: 1 on CPU implementations, 8 on GPUs
    // Decode attention's kernel (measurements and tests; PENSER_VK_ATTN=1/2 overrides the default):
    // 0: by device (grouped wherever the device has subgroup arithmetic), 1: one workgroup per query head
    // (attn_decode.comp / attn_decode_split.comp, the score phase above), 2: grouped (attn_decode_gqa.comp:
    // the query heads sharing a KV head in one workgroup, one pass with an online softmax).
    uint32_t attn_kernel = 0;
    uint32_t attn_heads = 0;  // grouped: query heads per workgroup, a divisor of n_head / n_head_kv (above
                              // it: all); 0: by device (CPU implementations all, GPUs 2; Ops::attn_shape)
    uint32_t attn_wg = 0;     // grouped: invocations per workgroup, a multiple of the subgroup size; 0: by device
    uint32_t attn_block = 0;  // grouped: positions per block (scores held in registers); 0: 8
    uint32_t attn_vec = 0;    // grouped: at most this many 32-bit words per load (1, 2, 4); 0: 4
    // grouped: a block's K and V rows all loaded before any is used (attn_decode_gqa.comp's LOADS_FIRST): 0 by
    // device (on CPU implementations: lavapipe 1.06-1.11x per CPU-second at 2000-4000 positions; off on GPUs
    // until a GPU measures it), 1 off, 2 on. PENSER_VK_ATTN_LOADS_FIRST=0/1 overrides 0.
    uint32_t attn_loads_first = 0;
    // Prompt attention (measurements and tests; PENSER_VK_ATTN_PREFILL=1/2): 0 by device (the grouped kernel
    // per query on CPU implementations, the tiled attn_prefill.comp on GPUs), 1 tiled, 2 grouped.
    uint32_t attn_prefill = 0;
    // CPU implementations: the small ops' kernels written for the lanes of a CPU where the operands allow
    // (rms_norm_cpu.comp, swiglu_cpu.comp: whole vec4s read as texels; decode attention reading the caches
    // as texels) instead of the GPU ones (PENSER_VK_SMALL_CPU=0/1; tests set it off to cover those on
    // lavapipe). GPUs ignore it.
    bool small_cpu = true;
    // The merged gate|up product writes silu(gate) * up itself (MulMvInput::swiglu_out, Ops::mul_mm's
    // swiglu_out) where Ops::swiglu_folds allows: the evaluators then skip the swiglu dispatch
    // (EvaluatorOptions::swiglu_fold, PENSER_VK_SWIGLU_FOLD=0/1).
    bool swiglu_fold = true;
  };
  static Result<std::unique_ptr<Ops>> create(Device& device, const Options& options);
  static Result<std::unique_ptr<Ops>> create(Device& device) { return create(device, Options{}); }
  // Marks every pipeline abandoned (Pipeline::abandon) before they go: the compiles still queued behind the
  // process's compile slots never start, so that a load cancelled or failed early (or bench's evaluators in
  // turn) waits for the compiles under way only.
  ~Ops();
  // Pipelines made so far (tests: the prompt path's are made at load, BatchPath::prepare).
  size_t pipeline_count() const { return pipelines_.size(); }
  // Until every pipeline made so far has compiled (bench: nothing compiles in the background while it times).
  Status wait_for_compiles() const {
    for (const auto& [key, p] : pipelines_) PENSER_TRY(p->wait());
    return {};
  }

  Device& device() const { return *device_; }
  uint64_t max_binding_bytes() const { return max_binding_; }
  // A's rows as the bindings a product or lookup over it dispatches on: per part, chunks within the binding
  // limit. Fails when one row cannot be bound.
  Result<std::vector<BoundRows>> bind_matrix(const Matrix& a) const;

  // y[y.offset + r] = A[r, :] . x  (+ bias[r]) (+ y[r] when accumulate), r < A.nrows.
  // `in`: SwiGLU folded into the output, the carried RMSNorm (MulMvInput).
  Status mul_mv(Recorder& rec, const Matrix& a, View x, View y, const View* bias = nullptr, bool accumulate = false,
                const MulMvInput& in = {});
  // out[k, :] = A[ids[k], :] as f32 for k < n_ids (the embedding lookup); rows of `out_stride` floats.
  Status get_rows(Recorder& rec, const Matrix& a, View ids, uint32_t n_ids, View out, uint32_t out_stride);
  // y[r, :] = x[r, :] / rms(x[r, :]) (* w): rows of ncols, contiguous. w may be null.
  Status rms_norm(Recorder& rec, View x, View y, const View* w, uint32_t ncols, uint32_t nrows, float eps);
  // In place on x = [n_tokens * n_head, head_dim]; positions[pos.offset + t] per token.
  struct RopeParams {
    uint32_t head_dim = 0, n_dims = 0, n_head = 0, n_tokens = 1;
    float freq_base = 10000.0f;
    bool neox = true;
    uint32_t n_head_kv = 0;  // rope_kv only: the k and v heads
    uint32_t x_stride = 0;   // rope_kv only: floats from one token's q|k|v to the next's (n_tokens > 1)
    uint32_t v_stride = 0;   // rope_kv only: the same for v where it lies apart (0: x_stride)
  };
  Status rope(Recorder& rec, View x, View positions, const View* freq_factors, const RopeParams& params);
  // y = silu(gate) * up over n values: rows of ncols values `stride` apart in all three (0: one contiguous
  // row; the prompt path's gate and up rows alternate in one [tokens, 2 * n_ff] matrix).
  Status swiglu(Recorder& rec, View gate, View up, View y, uint32_t n, uint32_t ncols = 0, uint32_t stride = 0);
  Status add(Recorder& rec, View a, View b, View y, uint32_t n, uint32_t b_len);  // y = a + b[i % b_len]
  Status soft_max(Recorder& rec, View x, uint32_t ncols, uint32_t nrows, float scale);
  // cache[pos_t * dst_stride + i] = f16(src[t * n + i]) for t < n_tokens.
  Status kv_store(Recorder& rec, View src, View cache, View positions, uint32_t n, uint32_t n_tokens, uint32_t dst_stride);
  // RoPE + KV store in one dispatch, for n_tokens tokens at positions[pos.offset + t] (q, k, v of token t at
  // their offsets + t * x_stride, v's + t * v_stride where set): per head,
  // qwen3's RMSNorm (q_norm / k_norm, both or neither, eps), then RoPE (`rope`: n_dims, neox, freq_factors)
  // of q in place and of k into k_cache; v copied to v_cache (f16, row pos * n_head_kv * head_dim). q, k
  // and v must lie in one bound range (element offsets differ). The same arithmetic as rms_norm, rope and
  // kv_store in sequence.
  Status rope_kv(Recorder& rec, View q, View k, View v, const View* q_norm, const View* k_norm, float eps,
                 const View* freq_factors, View positions, View k_cache, View v_cache, const RopeParams& rope);
  struct AttnParams {
    uint32_t head_dim = 0, n_head = 0, n_head_kv = 0, scores_stride = 0;
  };
  // One token's attention over cache positions 0..positions[pos.offset]. scores: n_head * scores_stride floats.
  Status attn_decode(Recorder& rec, View q, View k_cache, View v_cache, View out, View scores, View positions,
                     const AttnParams& params);

  // ---- Prefill: many tokens at once (ops_prefill.cpp) ----
  // Y[n, r] = A[r, :] . X[n, :] (+ bias[r]) (+ Y[n, r] when accumulate) for n < n_tokens, r < A.nrows; X and
  // Y rows `x_stride` / `y_stride` floats apart. Tiled in shared memory: weights decoded once per tile of tokens.
  // swiglu_out: a is the merged [gate | up] and Y[n, r] = silu(gate_r . X[n]) * (up_r . X[n]), r < nrows / 2
  // (MulMvInput::swiglu_out; where Ops::swiglu_folds(a), no bias, no accumulate).
  Status mul_mm(Recorder& rec, const Matrix& a, View x, uint32_t x_stride, View y, uint32_t y_stride,
                uint32_t n_tokens, const View* bias = nullptr, bool accumulate = false, bool swiglu_out = false);
  // Causal attention of n_tokens queries (q: [n_tokens, n_head * head_dim]) at positions[pos.offset + i]
  // over cache positions 0..that (their K/V already stored); out like q. Rows q_stride / o_stride floats
  // apart (0: n_head * head_dim; the prompt path's q rows lie inside its q|k|v rows).
  Status attn_prefill(Recorder& rec, View q, View k_cache, View v_cache, View out, View positions,
                      uint32_t n_tokens, const AttnParams& params, uint32_t q_stride = 0, uint32_t o_stride = 0);
  // attn_decode split over the positions: up to n_split workgroups per head, each over >= min_chunk
  // positions, then a reduction. partials: n_head * n_split * (head_dim + 2) floats.
  static uint64_t attn_split_floats(const AttnParams& params, uint32_t n_split) {
    return uint64_t(params.n_head) * n_split * (params.head_dim + 2);
  }
  Status attn_decode_split(Recorder& rec, View q, View k_cache, View v_cache, View out, View scores, View partials,
                           View positions, const AttnParams& params, uint32_t n_split, uint32_t min_chunk);
  // The decode step's rope_kv folded into the grouped decode attention (attn_decode_gqa.comp's ROPE_FUSED;
  // EvaluatorOptions::rope_in_attention): one dispatch where rope_kv + attn_decode(_split) take two or three.
  // q, k, v: the new token's (n_tokens 1, at positions[positions.offset]) unrotated in one bound range, as
  // rope_kv takes them, with its norms, freq_factors and `rope` (n_head_kv, head_dim of `params`). The
  // attention reads q through the norm and RoPE (q is not written back); the workgroup(s) whose range holds
  // the new position store its k and v to the caches (the bits rope_kv writes) and use them from registers.
  // n_split > 1: the split layout in partials, then the reduction (attn_decode_split). Only where
  // attn_rope_fuses(params): the grouped kernel runs and the device binds its 10 storage buffers (the Vulkan
  // minimum is 4; Penser needs 8); caches at even element offsets.
  bool attn_rope_fuses(const AttnParams& params) const;
  Status attn_decode_rope(Recorder& rec, View q, View k, View v, const View* q_norm, const View* k_norm, float eps,
                          const View* freq_factors, View positions, View k_cache, View v_cache, View out,
                          View partials, const AttnParams& params, const RopeParams& rope, uint32_t n_split,
                          uint32_t min_chunk);

  // The grouped decode attention's shape for these parameters (ops_attn.cpp); `ok` false where it cannot run
  // (odd head_dim, no subgroup arithmetic, shared memory too small): attn_decode / attn_decode_split then
  // use the per-head kernel.
  struct AttnShape {
    bool ok = false;
    uint32_t wg = 0, heads = 0, sg = 0, block = 0, vec = 0;
    bool loads_first = false;
  };
  AttnShape attn_shape(const AttnParams& params) const;
  // Ops::attn_prefill's kernel: the grouped one once per query (true) or the tiled attn_prefill.comp.
  bool attn_prefill_grouped(const AttnParams& params) const;

  // Whether a weight matrix of this type and shape is stored interleaved (Matrix::interleaved) on this
  // device: CPU implementations where the row-per-lane product and mul_mm_cpu.comp read it (Q4_K, Q5_K, Q6_K, and
  // Q8_0 of whole 8-block units: ncols % 256 == 0), rows a multiple of 8 of which 8 fit one binding,
  // Options::interleave on. The loader asks, then every product of it reads that layout.
  bool interleaves(quant::Type type, uint32_t ncols, uint32_t nrows) const;
  // Whether the products of `a`, a merged [gate | up] (gate rows first, as many up rows after), can fold
  // SwiGLU into their output (MulMvInput::swiglu_out, Ops::mul_mm's swiglu_out): Options::swiglu_fold on,
  // an even row count (interleaved: halves of whole 8-row groups), and all of a in one binding (no parts,
  // no chunks: every kernel finds gate row r's up row nrows / 2 rows further on in the same binding).
  bool swiglu_folds(const Matrix& a) const;

 private:
  Ops() = default;
  Result<const Pipeline*> pipeline(const std::string& shader, uint32_t n_bindings, uint32_t written,
                                   uint32_t push_size, std::vector<uint32_t> extra_spec = {});
  // uniform, texel: PipelineDesc::uniform, PipelineDesc::texel.
  Result<const Pipeline*> pipeline_wg(const std::string& shader, uint32_t n_bindings, uint32_t written,
                                      uint32_t push_size, uint32_t wg, std::vector<uint32_t> extra_spec,
                                      uint32_t uniform = 0, uint32_t texel = 0);
  uint32_t mul_mv_workgroup(const Matrix& a) const;
  // A weight binding's offset alignment and largest range (bind_matrix), for interleaved matrices or not.
  struct BindingLimits {
    uint64_t align, max_range;
  };
  BindingLimits binding_limits(bool interleaved) const;
  // Whether Ops::mul_mm takes mul_mm_cpu.comp for A bound as `chunks` (Options::mul_mm_kernel).
  bool mul_mm_cpu_applies(const Matrix& a, const std::vector<BoundRows>& chunks) const;
  // mul_mm_cm.comp's shape for A on this device (Options::mul_mm_coopmat), or nullopt where it does not run.
  struct CoopMatPlan {
    bool emulated = false;
    uint32_t m = 0, n = 0, k = 0, lanes = 0;
    uint32_t bm = 0, bn = 0;  // the workgroup's tile: weight rows x tokens
  };
  std::optional<CoopMatPlan> mul_mm_coopmat_plan(const Matrix& a) const;
  uint32_t mul_mv_lanes(const Matrix& a) const;
  uint32_t attn_lanes() const;
  // Grouped decode attention (ops_attn.cpp): out is the output (n_split == 1) or the partials. n_tokens > 1
  // (prompts, n_split 1): queries q_stride floats apart at positions[positions.offset + i], out likewise.
  // rope: attn_decode_rope's inputs (ROPE_FUSED modules; q is then the unrotated q, n_tokens 1).
  struct RopeFold {
    View k, v;
    const View *q_norm = nullptr, *k_norm = nullptr;
    float eps = 0;
    const View* freq_factors = nullptr;
    const RopeParams* rope = nullptr;
  };
  Status attn_decode_gqa(Recorder& rec, View q, View k_cache, View v_cache, View out, View positions,
                         const AttnParams& params, const AttnShape& shape, uint32_t n_split, uint32_t min_chunk,
                         uint32_t n_tokens = 1, uint32_t q_stride = 0, uint32_t o_stride = 0,
                         const RopeFold* rope = nullptr);
  // attn_reduce.comp: the split-K partials (offset 0) into out.
  Status attn_reduce(Recorder& rec, View partials, View out, const AttnParams& params, uint32_t n_split);

  uint32_t mul_mv_rows_for(const Matrix& a) const;
  bool mul_mv_row_lanes(const Matrix& a, bool aligned, bool x_uniform) const;
  uint32_t mul_mv_row_lane_rows(const Matrix& a) const;
  // `bytes` at `byte` of range r as a binding of whole 16-byte units (texels where `texel`) from the aligned
  // offset below them, and the unit where they start; nullopt where they do not start at a whole unit from
  // there or the range exceeds the binding limits.
  struct Vec4Binding {
    BufferRange range;
    uint32_t offset4 = 0;
  };
  std::optional<Vec4Binding> vec4_binding(const BufferRange& r, uint64_t byte, uint64_t bytes, bool texel) const;
  bool small_cpu() const { return options_.small_cpu && device_->info().is_cpu(); }
  Status elementwise(Recorder& rec, const Pipeline& p, std::initializer_list<BufferRange> b, const void* push,
                     uint32_t push_size, uint32_t n);

  Device* device_ = nullptr;
  Options options_;
  uint64_t max_binding_ = 0;
  uint32_t wg_ = 64;  // invocations per workgroup for every op (spec constant 0), a power of two
  uint32_t mul_mv_wg_ = 0;    // 0: chosen per matrix (mul_mv_workgroup); else PENSER_VK_MUL_MV_WG
  uint32_t mul_mv_rows_ = 0;  // Options::mul_mv_rows, or PENSER_VK_MUL_MV_ROWS; 0: mul_mv_rows_for
  uint32_t mul_mv_rows_big_ = 0;  // PENSER_VK_MUL_MV_ROWS_BIG (GPUs; mul_mv_gpu_rows); 0: 4 everywhere
  bool subgroups_ = false;
  bool coopmat_warned_ = false;  // Ops::mul_mm said that the cooperative-matrix kernel asked for does not run
  bool tile_warned_ = false;  // Ops::mul_mm said that the prompt tile asked for does not run
  std::map<std::string, std::unique_ptr<Pipeline>> pipelines_;
};

// The cooperative-matrix shape mul_mm_cm.comp takes from a device's list (DeviceInfo::coopmat_shapes): M
// and N of 8, 16 or 32 (a subgroup's share of the tile is a whole number of them), K of 8, 16 or 32 (its
// offsets are in 8-value units, its K steps 32), N == want_n where asked (non-zero); of those the one with
// the most work per instruction (M * N * K), the first listed on a tie. Nothing when none fits.
std::optional<DeviceInfo::CoopMatShape> choose_coopmat_shape(const std::vector<DeviceInfo::CoopMatShape>& shapes,
                                                             uint32_t want_n);

// A workgroup count as a 2-D grid within the device's limits (shaders flatten it with group_index()).
void grid_2d(const DeviceInfo& info, uint32_t groups, uint32_t& gx, uint32_t& gy);

}  // namespace penser::vulkan
