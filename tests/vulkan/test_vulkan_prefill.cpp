// The prefill ops on the Vulkan device against double-precision references: the tiled matrix-matrix
// product for every weight type (token counts and row counts that leave partial tiles, plain rows of 333
// columns, a binding limit that splits the matrix, the GPU tile with either kernel, mul_mm.comp and
// mul_mm_gpu.comp, at several tile sizes) and causal attention of a
// batch of queries over a cache with past positions (GQA), plus split-K decode attention.
#include <QtTest>

#include <cctype>
#include <cmath>

#include "tests/vulkan/vk_fixture.h"
#include "tests/vulkan/weights_fixture.h"

using namespace vkt;

namespace {

double f16r(float f) { return quant::f16_to_f32(quant::f32_to_f16(f)); }

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What the mul_mm suites' two products (plain, then bias + accumulate) left in y: rows of nrows outputs
// y_stride apart from float 1 (y0 before) equal to twice_product_plus_bias's `want_out` (n_tokens x nrows),
// and every float between and around them untouched.
void check_strided_products(const std::vector<float>& got, const std::vector<float>& y0,
                            const std::vector<float>& want_out, uint32_t n_tokens, uint32_t nrows, uint32_t y_stride,
                            double tolerance = 1e-10) {
  std::vector<float> want = y0, got_out;
  for (uint32_t n = 0; n < n_tokens; ++n)
    for (uint32_t r = 0; r < nrows; ++r) {
      want[1 + n * y_stride + r] = want_out[size_t(n) * nrows + r];
      got_out.push_back(got[1 + n * y_stride + r]);
    }
  const double err = nmse(got_out, want_out);
  QVERIFY2(err < tolerance, fmt::format("nmse {:.3g} (tolerance {:.3g})", err, tolerance).c_str());
  for (size_t i = 0; i < y0.size(); ++i)
    if (want[i] == y0[i]) QCOMPARE(got[i], y0[i]);
}

// out[i, h, :] for queries at positions pos[i], over K/V rows 0..pos[i] (f16-rounded as the cache holds them).
std::vector<float> attention_reference(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, const std::vector<int32_t>& pos, uint32_t head_dim,
                                       uint32_t n_head, uint32_t n_head_kv) {
  const uint32_t kv_dim = n_head_kv * head_dim, q_dim = n_head * head_dim;
  std::vector<float> out(pos.size() * q_dim);
  for (size_t i = 0; i < pos.size(); ++i)
    for (uint32_t h = 0; h < n_head; ++h) {
      const uint32_t kvh = h / (n_head / n_head_kv);
      const uint32_t n_kv = uint32_t(pos[i]) + 1;
      std::vector<double> s(n_kv);
      double m = -1e300, l = 0;
      for (uint32_t t = 0; t < n_kv; ++t) {
        double d = 0;
        for (uint32_t e = 0; e < head_dim; ++e)
          d += double(q[i * q_dim + h * head_dim + e]) * f16r(k[t * kv_dim + kvh * head_dim + e]);
        s[t] = d / std::sqrt(double(head_dim));
        m = std::max(m, s[t]);
      }
      for (double& e : s) { e = std::exp(e - m); l += e; }
      for (uint32_t e = 0; e < head_dim; ++e) {
        double acc = 0;
        for (uint32_t t = 0; t < n_kv; ++t) acc += s[t] * f16r(v[t * kv_dim + kvh * head_dim + e]);
        out[i * q_dim + h * head_dim + e] = float(acc / l);
      }
    }
  return out;
}

}  // namespace

class TestVulkanPrefill : public QObject {
  Q_OBJECT
  Gpu gpu;
  std::unique_ptr<Ops> ops;        // tiles chosen for the device
  std::unique_ptr<Ops> ops_split;  // a 4 KiB binding limit (every matrix split), 8 attention lanes
  std::unique_ptr<Ops> ops_other;  // the other device type's tile (GPU on lavapipe: 64 x 64, 256 invocations)
  // mul_mm_cpu.comp wherever the type allows (any device), in a shape that leaves partial row and token groups
  std::unique_ptr<Ops> ops_cpu;
  std::unique_ptr<Ops> ops_tile;  // a tile asked for (Options::mul_mm_bm/bn/bk): 16 x 24 x 96, 6 invocations

  template <typename F>
  void run(F&& record) { run_recorded(*gpu.device, std::forward<F>(record)); }

 private slots:
  void initTestCase() {
    VKT_OPEN(gpu);
    auto a = Ops::create(*gpu.device);
    VKT_OK(a);
    ops = std::move(*a);
    auto c = Ops::create(*gpu.device, {.subgroups = true, .max_binding_bytes = 4096, .mul_mv_rows = 1, .attn_lanes = 8});
    VKT_OK(c);
    ops_split = std::move(*c);
    auto w = Ops::create(*gpu.device, {.mul_mm_tiles = gpu.device->info().is_cpu() ? 2u : 1u, .mul_mm_kernel = 1});
    VKT_OK(w);
    ops_other = std::move(*w);
    auto k = Ops::create(*gpu.device,
                         {.mul_mm_kernel = 2, .mul_mm_rows = 3, .mul_mm_tokens = 5, .mul_mm_wg = 8, .mul_mm_share = true});
    VKT_OK(k);
    ops_cpu = std::move(*k);
    auto t = Ops::create(*gpu.device, {.mul_mm_kernel = 1, .mul_mm_bm = 16, .mul_mm_bn = 24, .mul_mm_bk = 96});
    VKT_OK(t);
    ops_tile = std::move(*t);
  }
  void cleanup() { QVERIFY2(gpu.clean(), "the validation layer reported errors"); }

  void mul_mm_data() {
    QTest::addColumn<int>("type");
    // 0: by device, 1: split bindings, 2: the other device type's tiles (never mul_mm_cpu.comp), 3:
    // mul_mm_cpu.comp where the type has it, 3 rows x 5 tokens per invocation, 8 per workgroup, x 8-byte
    // aligned (read as 8-byte pairs; the other variants' x is odd) and its loads shared by the subgroup where
    // the device can; 4: by device with x 32-byte aligned (mul_mm_cpu.comp reads x as texels, X_TEX);
    // 5: the tiles with a 16 x 24 x 96 tile asked for (K steps past a quant block's 256 values).
    // The GPU tile on any device (Options::mul_mm_tiles 2), 137 rows (two 128-row tiles): 6 mul_mm.comp
    // (Options::mul_mm_gpu 1), 7 mul_mm_gpu.comp with split bindings, 8 mul_mm_gpu.comp with the 16 x 24 x 96
    // tile, 9 with 64 x 32 x 64 (K = 224 and 333: the last K step partial), 10 the default GPU tile.
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("n_tokens");
    for (Type t : kTypes) {
      const std::string name = quant::type_name(t);
      QTest::newRow((name + "/17 tokens").c_str()) << int(t) << 0 << 17u;
      QTest::newRow((name + "/1 token").c_str()) << int(t) << 0 << 1u;
      QTest::newRow((name + "/split").c_str()) << int(t) << 1 << 17u;
      QTest::newRow((name + "/other tile").c_str()) << int(t) << 2 << 70u;
      QTest::newRow((name + "/cpu kernel").c_str()) << int(t) << 3 << 23u;
      QTest::newRow((name + "/x aligned").c_str()) << int(t) << 4 << 9u;
      QTest::newRow((name + "/16x24x96 tile").c_str()) << int(t) << 5 << 29u;
      QTest::newRow((name + "/gpu tile, mul_mm.comp").c_str()) << int(t) << 6 << 70u;
      QTest::newRow((name + "/gpu tile, split").c_str()) << int(t) << 7 << 21u;
      QTest::newRow((name + "/gpu kernel, 16x24x96 tile").c_str()) << int(t) << 8 << 29u;
      QTest::newRow((name + "/gpu kernel, 64x32x64 tile").c_str()) << int(t) << 9 << 70u;
      QTest::newRow((name + "/gpu tile, 1 token").c_str()) << int(t) << 10 << 1u;
    }
  }
  void mul_mm() {
    QFETCH(int, type);
    QFETCH(int, variant);
    QFETCH(uint32_t, n_tokens);
    const Type t = Type(type);
    const uint32_t block = quant::traits(t).block_size;
    const uint32_t ncols = block == 1 ? 333 : block == 32 ? 32 * 7 : 256 * 2;
    const uint32_t nrows = variant == 3 ? 53 : variant >= 6 ? 137 : 37, y_stride = nrows + 2;
    const uint32_t x_stride = variant == 3 ? ncols + 2 : variant == 4 ? ncols + 8 : ncols + 3;
    const uint32_t x_off = variant == 3 ? 4 : variant == 4 ? 8 : 5;
    const auto m = random_matrix(t, ncols, nrows, 101 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const auto x = random_floats(size_t(n_tokens) * x_stride + x_off, 17);
    const auto bias = random_floats(nrows + 2, 18);
    const auto y0 = random_floats(size_t(n_tokens) * y_stride + 1, 19);
    auto wb = make_buffer(*gpu.device, m), xb = make_buffer(*gpu.device, x), bb = make_buffer(*gpu.device, bias);
    auto yb = make_buffer(*gpu.device, y0);
    std::unique_ptr<Ops> gpu_tile;  // variants 6-10: the GPU tile (never mul_mm_cpu.comp)
    if (variant >= 6) {
      Ops::Options go{.mul_mm_tiles = 2, .mul_mm_gpu = variant == 6 ? 1u : 2u, .mul_mm_kernel = 1};
      if (variant == 7) go.max_binding_bytes = 4096;
      if (variant == 8) go.mul_mm_bm = 16, go.mul_mm_bn = 24, go.mul_mm_bk = 96;
      if (variant == 9) go.mul_mm_bm = 64, go.mul_mm_bn = 32, go.mul_mm_bk = 64;
      auto g = Ops::create(*gpu.device, go);
      VKT_OK(g);
      gpu_tile = std::move(*g);
    }
    Ops& o = variant >= 6                  ? *gpu_tile
             : variant == 0 || variant == 4 ? *ops
             : variant == 1                ? *ops_split
             : variant == 2                ? *ops_other
             : variant == 3                ? *ops_cpu
                                           : *ops_tile;
    const Matrix a{wb.get(), 0, t, ncols, nrows};
    const View bias_view = view(*bb, 2);
    // Offsets and strides everywhere; the second product adds the bias and accumulates (fused residual).
    // The recording's timestamps name the shader each product ran.
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    VKT_OK((*rec)->enable_timestamps());
    VKT_OK((*rec)->begin());
    VKT_OK(o.mul_mm(**rec, a, view(*xb, x_off), x_stride, view(*yb, 1), y_stride, n_tokens));
    VKT_OK(o.mul_mm(**rec, a, view(*xb, x_off), x_stride, view(*yb, 1), y_stride, n_tokens, &bias_view, true));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    const bool cpu_type = t == Type::Q4_K || t == Type::Q6_K;
    const bool cpu_kernel =
        cpu_type && gpu.device->int64() && (variant == 3 || ((variant == 0 || variant == 4) && gpu.device->info().is_cpu()));
    // The GPU tile's register-blocked kernel (mul_mm_gpu.comp) wherever the GPU tile runs, but for variant 6.
    const bool is_cpu = gpu.device->info().is_cpu();
    const bool gpu_tile_runs = variant >= 6 || (variant == 2 ? is_cpu : !is_cpu);
    const bool gpu_kernel = !cpu_kernel && gpu_tile_runs && variant != 6;
    const auto times = (*rec)->take_times();
    QVERIFY(!times.empty());
    for (const auto& d : times)
      if (variant != 1) {  // split bindings: Q4_K's chunks may start unaligned for 8-byte words (then the tiles)
        QVERIFY2(QString::fromStdString(d.shader).startsWith("mul_mm_gpu_") == gpu_kernel, d.shader.c_str());
        QCOMPARE(QString::fromStdString(d.shader).startsWith("mul_mm_cpu_"), cpu_kernel);
        // x as texels (X_TEX) where its offset and stride are multiples of 4: variant 4 only
        if (cpu_kernel) QCOMPARE(d.shader.ends_with("_xt"), variant == 4);
      }
    if (variant == 1 || variant == 7) QVERIFY(a.bytes() > 4096);
    if (variant == 7) QVERIFY(times.size() > 2);  // split: more than one dispatch per product
    const auto got = read_back<float>(*yb, y0.size());
    check_strided_products(got, y0, twice_product_plus_bias(w, ncols, nrows, x, x_off, x_stride, n_tokens, bias),
                           n_tokens, nrows, y_stride);
  }

  // SwiGLU folded into the prompt's gate|up product (Ops::mul_mm's swiglu_out): a is [gate | up], n gate rows
  // then n up rows, and Y[t, r] = silu(gate_r . X[t]) * (up_r . X[t]) in rows y_stride apart. Interleaved
  // (Q4_K, Q5_K, Q6_K, Q8_0, 24 + 24 rows, mul_mm_cpu.comp's A_IL modules): 0 by device with x as texels, 1
  // x from the storage buffer at an odd offset, 2 ops_cpu's shape (3 rows per invocation made 4, 5 tokens,
  // shared x). The file layout (21 + 21 rows): 3 by device (mul_mm_cpu.comp for Q4_K / Q6_K on lavapipe,
  // else the tiles), 4 the other device type's tiles (mul_mm_gpu.comp on lavapipe), 5 ops_cpu's shape, 6 a
  // 16 x 24 x 96 tile, 7 the emulated cooperative-matrix kernel (its types), 8 the GPU tile in mul_mm.comp.
  // Each dispatch labelled as folded.
  void mul_mm_swiglu_fold_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("n_tokens");
    const char* names[] = {"il",         "il-x-storage",  "il-3x5",           "default",
                           "other tile", "cpu kernel 3x5", "16x24x96 tile",   "coopmat emulated",
                           "GPU tile, mul_mm.comp"};
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0})
      for (int v = 0; v < 3; ++v)
        QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v << (v == 2 ? 23u : 17u);
    for (Type t : {Type::F32, Type::Q4_0, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K})
      for (int v = 3; v < 9; ++v)
        if (v != 7 || (t != Type::F32 && t != Type::Q4_0))  // the types mul_mm_cm.comp has
          QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v << (v >= 7 || v == 4 ? 70u : 17u);
  }
  void mul_mm_swiglu_fold() {
    QFETCH(int, type);
    QFETCH(int, variant);
    QFETCH(uint32_t, n_tokens);
    const Type t = Type(type);
    const bool il = variant < 3;
    const uint32_t block = quant::traits(t).block_size;
    const uint32_t ncols = il ? 512 : block == 1 ? 333 : block == 32 ? 32 * 7 : 256 * 2;
    const uint32_t n = il ? 24 : 21, nrows = 2 * n, y_stride = n + 2;
    std::unique_ptr<Ops> own;  // 7: the emulated cooperative-matrix kernel; 8: the GPU tile in mul_mm.comp
    if (variant >= 7) {
      auto c = Ops::create(*gpu.device, variant == 7 ? Ops::Options{.mul_mm_coopmat = 2}
                                                     : Ops::Options{.mul_mm_tiles = 2, .mul_mm_gpu = 1, .mul_mm_kernel = 1});
      VKT_OK(c);
      own = std::move(*c);
    }
    Ops& o = variant >= 7 ? *own : variant == 2 || variant == 5 ? *ops_cpu : variant == 4 ? *ops_other : variant == 6 ? *ops_tile : *ops;
    if (il && !o.interleaves(t, ncols, nrows))
      QSKIP("this device does not store weights interleaved (a CPU implementation with 8-lane subgroups and 64-bit integers does)");
    // x: offset and stride multiples of 8 (texels where the device reads them so) or odd ones.
    const bool x_even = variant == 0 || variant == 3;
    const uint32_t x_stride = x_even ? ncols + 8 : variant == 2 || variant == 5 ? ncols + 2 : ncols + 3;
    const uint32_t x_off = x_even ? 8 : variant == 2 || variant == 5 ? 4 : 5;
    const GateUpMatrix gu = gate_up_matrix(*gpu.device, t, ncols, nrows, 301 + type, il, 16);
    const Matrix& a = gu.m;
    const auto& w = gu.w;
    QVERIFY(o.swiglu_folds(a));
    const auto x = random_floats(size_t(n_tokens) * x_stride + x_off, 17);
    const auto y0 = random_floats(size_t(n_tokens) * y_stride + 1, 19);
    auto xb = make_buffer(*gpu.device, x), yb = make_buffer(*gpu.device, y0);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    VKT_OK((*rec)->enable_timestamps());
    VKT_OK((*rec)->begin());
    VKT_OK(o.mul_mm(**rec, a, view(*xb, x_off), x_stride, view(*yb, 1), y_stride, n_tokens, nullptr, false, true));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    const auto times = (*rec)->take_times();
    QCOMPARE(times.size(), size_t(1));
    QCOMPARE(times[0].label, std::string("ffn_gate_up+swiglu"));
    const bool cpu_kernel = gpu.device->int64() && (il || ((t == Type::Q4_K || t == Type::Q6_K) &&
                                                          (variant == 5 || (variant == 3 && gpu.device->info().is_cpu()))));
    QVERIFY2(QString::fromStdString(times[0].shader).startsWith("mul_mm_cpu_") == cpu_kernel, times[0].shader.c_str());
    if (il) QVERIFY2(times[0].shader.ends_with(variant == 0 ? "_il_xt" : "_il"), times[0].shader.c_str());
    // The GPU tile's kernels and the emulated cooperative-matrix one fold too (each its own SWIGLU constant).
    // Variant 4 is the other device type's tile: mul_mm_gpu.comp on a CPU implementation, the CPU tile in
    // mul_mm.comp on a GPU (the H200 run of 2026-11-29 failed here when this expected mul_mm_gpu everywhere).
    const bool other_is_gpu_tile = variant == 4 && gpu.device->info().is_cpu();
    const char* kernel = other_is_gpu_tile ? "mul_mm_gpu_" : variant == 7 ? "mul_mm_cm_emu_" : variant == 8 || variant == 4 ? "mul_mm_" : "";
    const bool not_gpu_tile = variant == 8 || (variant == 4 && !other_is_gpu_tile);
    QVERIFY2(times[0].shader.starts_with(kernel) && (!not_gpu_tile || !times[0].shader.starts_with("mul_mm_gpu_")),
             times[0].shader.c_str());
    // (fp16 x and weights in the cooperative-matrix products: mul_mm_coopmat's tolerance against exact sums)
    check_strided_products(read_back<float>(*yb, y0.size()), y0, swiglu_of_products(w, ncols, nrows, x, x_off, x_stride, n_tokens),
                           n_tokens, n, y_stride, variant == 7 ? 1e-6 : 1e-10);
  }

  // Interleaved weights (Matrix::interleaved) in the prompt's product (mul_mm_cpu.comp's A_IL modules): 40
  // rows (partial row groups of the 16 x 12 and 8 x 3 shapes), 17 and 1 tokens, split bindings (4 KiB: whole
  // 8-row groups), the matrix in two parts; x read as texels (X_TEX) where its offset and stride are
  // multiples of 4, from a storage buffer elsewhere.
  void mul_mm_interleaved_data() {
    QTest::addColumn<int>("type");
    // 0 by device, 1 split bindings, 2 two parts (24 + 16 rows), 3 ops_cpu's shape, 4 x offset and stride
    // multiples of 8 (as the evaluator's prompts: texels; X_EVEN 2 runs of 8 with variant 7's Ops), 5 split
    // bindings and x in texels, 6 two parts and x in texels (offset 4, stride a multiple of 4 but not of 8),
    // 7 x in runs of 8 from the storage buffer (Options::mul_mm_x_texel off)
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("n_tokens");
    // x's view: its range starts this many floats into the buffer (a multiple of 4: texel-aligned), and x
    // x_off floats into the range (the texel view starts at the range: the shader's x_offset is x_off).
    QTest::addColumn<uint32_t>("range_at");
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0}) {
      const std::string name = quant::type_name(t);
      QTest::newRow((name + "/17 tokens").c_str()) << int(t) << 0 << 17u << 0u;
      QTest::newRow((name + "/1 token").c_str()) << int(t) << 0 << 1u << 0u;
      QTest::newRow((name + "/split").c_str()) << int(t) << 1 << 17u << 0u;
      QTest::newRow((name + "/parts").c_str()) << int(t) << 2 << 9u << 0u;
      QTest::newRow((name + "/3x5 shape, shared x").c_str()) << int(t) << 3 << 23u << 0u;
      QTest::newRow((name + "/x in runs of 8").c_str()) << int(t) << 4 << 13u << 0u;
      QTest::newRow((name + "/x texels, 1 token").c_str()) << int(t) << 4 << 1u << 12u;
      QTest::newRow((name + "/x texels, split").c_str()) << int(t) << 5 << 17u << 8u;
      QTest::newRow((name + "/x texels, parts").c_str()) << int(t) << 6 << 6u << 4u;
      QTest::newRow((name + "/x in runs of 8, storage").c_str()) << int(t) << 7 << 13u << 0u;
    }
  }
  void mul_mm_interleaved() {
    QFETCH(int, type);
    QFETCH(int, variant);
    QFETCH(uint32_t, n_tokens);
    QFETCH(uint32_t, range_at);
    // The row's range start, in floats, rounded up to the device's storage offset alignment (lavapipe's 16
    // bytes keep the rows' values; PENSER_VK_TEST_OFFSET_ALIGNMENT asks more).
    const uint32_t align_floats = uint32_t(std::max<uint64_t>(gpu.device->info().min_storage_offset_alignment, 4) / 4);
    range_at = (range_at + align_floats - 1) / align_floats * align_floats;
    const Type t = Type(type);
    const uint32_t ncols = 512, nrows = 40, y_stride = nrows + 2;
    // The loader's Ops (the split one has 1 row per workgroup in mul_mv: no interleaving there, so its own).
    // (Q8_0: 10 KiB, two of its 4.25 KiB 8-row groups; one must fit a binding: Ops::interleaves.)
    auto split = Ops::create(*gpu.device, {.max_binding_bytes = t == Type::Q8_0 ? 10240u : 4096u});
    VKT_OK(split);
    auto storage_x = Ops::create(*gpu.device, {.mul_mm_x_texel = false});
    VKT_OK(storage_x);
    Ops& o = variant == 1 || variant == 5 ? **split : variant == 3 ? *ops_cpu : variant == 7 ? **storage_x : *ops;
    if (!o.interleaves(t, ncols, nrows))
      QSKIP("this device does not store weights interleaved (a CPU implementation with 8-lane subgroups and 64-bit integers does)");
    const uint32_t x_stride = variant == 3 ? ncols + 2 : variant == 4 || variant == 7 ? ncols + 8 : variant >= 5 ? ncols + 4 : ncols + 3;
    const uint32_t x_off = variant == 3 || variant == 6 ? 4 : variant == 4 || variant == 7 ? 8 : variant == 5 ? 12 : 5;
    const bool texels = variant == 4 || variant == 5 || variant == 6;  // offset and stride multiples of 4
    const auto m = random_matrix(t, ncols, nrows, 201 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    auto im = interleaved_matrix(*gpu.device, t, ncols, nrows, m, 16, variant == 2 || variant == 6 ? 24 : nrows);
    // x's values from float range_at + x_off of the buffer on; the floats before them are never read.
    const auto xs = random_floats(size_t(n_tokens) * x_stride + x_off, 17);
    std::vector<float> xbuf(range_at, 1e30f);
    xbuf.insert(xbuf.end(), xs.begin(), xs.end());
    const auto bias = random_floats(nrows + 2, 18);
    const auto y0 = random_floats(size_t(n_tokens) * y_stride + 1, 19);
    auto xb = make_buffer(*gpu.device, xbuf), bb = make_buffer(*gpu.device, bias), yb = make_buffer(*gpu.device, y0);
    const View xv{BufferRange{xb.get(), uint64_t(range_at) * 4, xb->size() - uint64_t(range_at) * 4}, x_off};
    const View bias_view = view(*bb, 2);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    VKT_OK((*rec)->enable_timestamps());
    VKT_OK((*rec)->begin());
    VKT_OK(o.mul_mm(**rec, im.m, xv, x_stride, view(*yb, 1), y_stride, n_tokens));
    VKT_OK(o.mul_mm(**rec, im.m, xv, x_stride, view(*yb, 1), y_stride, n_tokens, &bias_view, true));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    const auto times = (*rec)->take_times();
    for (const auto& d : times)
      QVERIFY2(d.shader.rfind("mul_mm_cpu_", 0) == 0 && d.shader.ends_with(texels ? "_il_xt" : "_il"), d.shader.c_str());
    if (variant == 1 || variant == 5) QVERIFY(times.size() > 2);
    if (variant == 2 || variant == 6) QCOMPARE(times.size(), size_t(4));  // two parts, two products
    const auto got = read_back<float>(*yb, y0.size());
    check_strided_products(got, y0, twice_product_plus_bias(w, ncols, nrows, xs, x_off, x_stride, n_tokens, bias),
                           n_tokens, nrows, y_stride);
  }

  // The prompt's product on cooperative matrices (mul_mm_cm.comp, Options::mul_mm_coopmat). Its emulated
  // module (the matrix operations in plain code on the same fp16 tiles) runs on every device: 37 rows (a
  // partial 64-row tile), 100 rows (two, the second partial), 17, 1 and 70 tokens (partial 64-token tiles),
  // split bindings, 16 x 16 x 16 and 16 x 8 x 16 matrices, offsets and strides everywhere, bias and
  // accumulation, 128 x 32 and 32 x 128 tiles. The real module's rows run only where the device has
  // VK_NV_cooperative_matrix.
  // Two references: the products of the fp16-rounded weights and x in double (what the kernel multiplies:
  // only fp32 summation order differs), and the exact ones, within the fp16 rounding of x and the weights:
  // nmse measured on lavapipe 2026-11-29 at most ~1e-7 (Q8_0, F16), ~1e-7 for the K-quants; tolerance 1e-6.
  void mul_mm_coopmat_data() {
    QTest::addColumn<int>("type");
    // 0 emulated 16 x 16, 1 emulated 16 x 8, 2 emulated with a 4 KiB binding limit (the matrix split), 3 the
    // device's cooperative matrices (largest shape), 4 the device's 16 x 8 matrices, 5 emulated with a 128 x 32
    // tile (Options::mul_mm_coopmat_bm / _bn: 4 x 1 accumulators per subgroup), 6 emulated 16 x 8 with a
    // 32 x 128 tile (1 x 8)
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("nrows");
    QTest::addColumn<uint32_t>("n_tokens");
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0, Type::F16}) {
      const std::string name = quant::type_name(t);
      QTest::newRow((name + "/emulated, 17 tokens").c_str()) << int(t) << 0 << 37u << 17u;
      QTest::newRow((name + "/emulated, 1 token, 100 rows").c_str()) << int(t) << 0 << 100u << 1u;
      QTest::newRow((name + "/emulated 16x8, 70 tokens").c_str()) << int(t) << 1 << 37u << 70u;
      QTest::newRow((name + "/emulated, split").c_str()) << int(t) << 2 << 100u << 9u;
      QTest::newRow((name + "/coopmat, 70 tokens, 100 rows").c_str()) << int(t) << 3 << 100u << 70u;
      QTest::newRow((name + "/coopmat 16x8, 17 tokens").c_str()) << int(t) << 4 << 37u << 17u;
      QTest::newRow((name + "/emulated, 128x32 tile, 150 rows").c_str()) << int(t) << 5 << 150u << 40u;
      QTest::newRow((name + "/emulated 16x8, 32x128 tile").c_str()) << int(t) << 6 << 37u << 130u;
    }
  }
  void mul_mm_coopmat() {
    QFETCH(int, type);
    QFETCH(int, variant);
    QFETCH(uint32_t, nrows);
    QFETCH(uint32_t, n_tokens);
    const Type t = Type(type);
    if ((variant == 3 || variant == 4) && !gpu.device->cooperative_matrix())
      QSKIP(fmt::format("{} has no usable VK_NV_cooperative_matrix (listed: {}): the real module runs on NVIDIA GPUs "
                        "(scripts/device/gpu-run.sh)", gpu.device->info().name, gpu.device->info().nv_cooperative_matrix)
                .c_str());
    const bool real = variant == 3 || variant == 4;
    Ops::Options opt{.mul_mm_coopmat = real ? 1u : 2u, .mul_mm_coopmat_n = variant == 1 || variant == 4 || variant == 6 ? 8u : 0u};
    if (variant == 2) opt.max_binding_bytes = 4096;
    if (variant == 5) opt.mul_mm_coopmat_bm = 128, opt.mul_mm_coopmat_bn = 32;
    if (variant == 6) opt.mul_mm_coopmat_bm = 32, opt.mul_mm_coopmat_bn = 128;
    auto o = Ops::create(*gpu.device, opt);
    VKT_OK(o);
    const uint32_t ncols = t == Type::F16 ? 333 : t == Type::Q8_0 ? 32 * 7 : 512;
    const uint32_t y_stride = nrows + 2, x_stride = ncols + 3, x_off = 5;
    const auto m = random_matrix(t, ncols, nrows, 301 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const auto x = random_floats(size_t(n_tokens) * x_stride + x_off, 17);
    const auto bias = random_floats(nrows + 2, 18);
    const auto y0 = random_floats(size_t(n_tokens) * y_stride + 1, 19);
    auto wb = make_buffer(*gpu.device, m), xb = make_buffer(*gpu.device, x), bb = make_buffer(*gpu.device, bias);
    auto yb = make_buffer(*gpu.device, y0);
    const Matrix a{wb.get(), 0, t, ncols, nrows};
    const View bias_view = view(*bb, 2);
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    VKT_OK((*rec)->enable_timestamps());
    VKT_OK((*rec)->begin());
    VKT_OK((*o)->mul_mm(**rec, a, view(*xb, x_off), x_stride, view(*yb, 1), y_stride, n_tokens));
    VKT_OK((*o)->mul_mm(**rec, a, view(*xb, x_off), x_stride, view(*yb, 1), y_stride, n_tokens, &bias_view, true));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    const auto times = (*rec)->take_times();
    if (variant == 4 && !times.empty() && !times[0].shader.starts_with("mul_mm_cm_"))
      QSKIP("the device lists no 16 x 8 fp16 cooperative matrix shape (the tiles ran)");
    const std::string want = (real ? "mul_mm_cm_" : "mul_mm_cm_emu_") + lower(quant::type_name(t));
    for (const auto& d : times) QCOMPARE(QString::fromStdString(d.shader), QString::fromStdString(want));
    if (variant == 2) QVERIFY(times.size() > 2);  // the matrix in several bindings
    const auto got = read_back<float>(*yb, y0.size());
    // What the kernel multiplies: weights and x rounded to fp16 (to nearest, as the host does). The real
    // module's fp16 conversion (packHalf2x16's rounding is the driver's) and its matrix units' fp32
    // accumulation may round otherwise: its rows are held to the exact product's tolerance.
    std::vector<float> w16(w.size()), x16(x.size());
    for (size_t i = 0; i < w.size(); ++i) w16[i] = float(f16r(w[i]));
    for (size_t i = 0; i < x.size(); ++i) x16[i] = float(f16r(x[i]));
    check_strided_products(got, y0, twice_product_plus_bias(w16, ncols, nrows, x16, x_off, x_stride, n_tokens, bias),
                           n_tokens, nrows, y_stride, real ? 1e-6 : 1e-10);
    // And against the exact products, within the fp16 rounding of x and the weights.
    check_strided_products(got, y0, twice_product_plus_bias(w, ncols, nrows, x, x_off, x_stride, n_tokens, bias),
                           n_tokens, nrows, y_stride, 1e-6);
  }

  // kernel: 0 by device, 1 tiled (attn_prefill.comp), 2 grouped (attn_decode_gqa.comp per query). Strided:
  // queries inside wider rows (the prompt path's q|k|v rows) and output rows with a gap, as the evaluator
  // reads and writes them when Q/K/V are one product.
  void attn_prefill_data() {
    QTest::addColumn<uint32_t>("n_past");
    QTest::addColumn<uint32_t>("n_tokens");
    QTest::addColumn<uint32_t>("n_head_kv");
    QTest::addColumn<uint32_t>("kernel");
    QTest::addColumn<bool>("strided");
    QTest::newRow("7 tokens, empty cache") << 0u << 7u << 3u << 0u << false;
    QTest::newRow("9 tokens after 13") << 13u << 9u << 3u << 0u << false;
    QTest::newRow("21 tokens after 40, 6 heads on 1 KV head") << 40u << 21u << 1u << 0u << false;
    QTest::newRow("9 tokens after 13, tiled, strided rows") << 13u << 9u << 3u << 1u << true;
    QTest::newRow("9 tokens after 13, grouped, strided rows") << 13u << 9u << 3u << 2u << true;
    QTest::newRow("21 tokens after 40, 1 KV head, tiled, strided") << 40u << 21u << 1u << 1u << true;
  }
  void attn_prefill() {
    QFETCH(uint32_t, n_past);
    QFETCH(uint32_t, n_tokens);
    QFETCH(uint32_t, n_head_kv);
    QFETCH(uint32_t, kernel);
    QFETCH(bool, strided);
    const uint32_t head_dim = 40, n_head = 6, n_ctx = 80, kv_dim = n_head_kv * head_dim, q_dim = n_head * head_dim;
    const uint32_t n_kv = n_past + n_tokens;
    const uint32_t q_stride = strided ? q_dim + 2 * kv_dim + 4 : q_dim, o_stride = strided ? q_dim + 6 : q_dim;
    std::unique_ptr<Ops> own;
    if (kernel) {
      auto o = Ops::create(*gpu.device, {.attn_prefill = kernel});
      VKT_OK(o);
      own = std::move(*o);
    }
    Ops& o = kernel ? *own : *ops;
    const auto q = random_floats(n_tokens * q_dim, 71, 2.0f);
    std::vector<float> q_rows(size_t(n_tokens) * q_stride, 99.0f);  // q in wider rows
    for (uint32_t i = 0; i < n_tokens; ++i) std::copy_n(q.begin() + i * q_dim, q_dim, q_rows.begin() + i * q_stride);
    const auto k = random_floats(n_kv * kv_dim, 72), v = random_floats(n_kv * kv_dim, 73);
    std::vector<int32_t> all_pos(n_kv), pos(n_tokens);
    for (uint32_t i = 0; i < n_kv; ++i) all_pos[i] = int32_t(i);
    for (uint32_t i = 0; i < n_tokens; ++i) pos[i] = int32_t(n_past + i);
    std::vector<int32_t> pos_buf = {-5, -5, -5};  // the batch's positions at an offset
    pos_buf.insert(pos_buf.end(), pos.begin(), pos.end());
    auto qb = make_buffer(*gpu.device, q_rows), kb = make_buffer(*gpu.device, k), vb = make_buffer(*gpu.device, v);
    auto apb = make_buffer(*gpu.device, all_pos), pb = make_buffer(*gpu.device, pos_buf);
    auto kc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2), vc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2);
    const std::vector<float> o0(4 + size_t(n_tokens) * o_stride, -7.0f);  // rows from element 4 (even: either kernel)
    auto ob = make_buffer(*gpu.device, o0);
    run([&](Recorder& r) {
      VKT_OK(o.kv_store(r, view(*kb), view(*kc), view(*apb), kv_dim, n_kv, kv_dim));
      VKT_OK(o.kv_store(r, view(*vb), view(*vc), view(*apb), kv_dim, n_kv, kv_dim));
      VKT_OK(o.attn_prefill(r, view(*qb), view(*kc), view(*vc), view(*ob, 4), view(*pb, 3), n_tokens,
                            {.head_dim = head_dim, .n_head = n_head, .n_head_kv = n_head_kv}, q_stride, o_stride));
    });
    const auto want = attention_reference(q, k, v, pos, head_dim, n_head, n_head_kv);
    const auto got_rows = read_back<float>(*ob, o0.size());
    std::vector<float> got(want.size());
    for (uint32_t i = 0; i < n_tokens; ++i)
      std::copy_n(got_rows.begin() + 4 + i * o_stride, q_dim, got.begin() + i * q_dim);
    const double err = nmse(got, want);
    QVERIFY2(err < 1e-10, fmt::format("nmse {:.3g}", err).c_str());
    for (size_t i = 0; i < got_rows.size(); ++i)  // nothing written outside the output rows
      if (i < 4 || (i - 4) % o_stride >= q_dim) QCOMPARE(got_rows[i], -7.0f);
  }

  // Split-K decode attention equals the one-pass attn_decode, whether the context fills every range, a few
  // of them (short context, large minimum chunk), or one.
  void attn_decode_split_data() {
    QTest::addColumn<uint32_t>("n_kv");
    QTest::addColumn<uint32_t>("n_split");
    QTest::addColumn<uint32_t>("min_chunk");
    QTest::newRow("1 position, 4 ranges") << 1u << 4u << 16u;
    QTest::newRow("77 positions, 7 ranges of >= 1") << 77u << 7u << 1u;
    QTest::newRow("77 positions, 8 ranges of >= 32 (3 used)") << 77u << 8u << 32u;
    QTest::newRow("300 positions, 5 ranges") << 300u << 5u << 16u;
  }
  void attn_decode_split() {
    QFETCH(uint32_t, n_kv);
    QFETCH(uint32_t, n_split);
    QFETCH(uint32_t, min_chunk);
    const uint32_t head_dim = 40, n_head = 6, n_head_kv = 2, n_ctx = 320, kv_dim = n_head_kv * head_dim;
    const auto q = random_floats(n_head * head_dim, 81, 2.0f);
    const auto k = random_floats(n_kv * kv_dim, 82), v = random_floats(n_kv * kv_dim, 83);
    std::vector<int32_t> pos(n_kv);
    for (uint32_t i = 0; i < n_kv; ++i) pos[i] = int32_t(i);
    auto qb = make_buffer(*gpu.device, q), kb = make_buffer(*gpu.device, k), vb = make_buffer(*gpu.device, v);
    auto pb = make_buffer(*gpu.device, pos);
    auto kc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2), vc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2);
    auto one = make_buffer(*gpu.device, nullptr, n_head * head_dim * 4);
    auto split = make_buffer(*gpu.device, nullptr, (n_head * head_dim + 2) * 4);
    auto sb1 = make_buffer(*gpu.device, nullptr, n_head * n_ctx * 4), sb2 = make_buffer(*gpu.device, nullptr, n_head * n_ctx * 4);
    const Ops::AttnParams ap{.head_dim = head_dim, .n_head = n_head, .n_head_kv = n_head_kv, .scores_stride = n_ctx};
    auto partials = make_buffer(*gpu.device, nullptr, Ops::attn_split_floats(ap, n_split) * 4);
    run([&](Recorder& r) {
      VKT_OK(ops->kv_store(r, view(*kb), view(*kc), view(*pb), kv_dim, n_kv, kv_dim));
      VKT_OK(ops->kv_store(r, view(*vb), view(*vc), view(*pb), kv_dim, n_kv, kv_dim));
      VKT_OK(ops->attn_decode(r, view(*qb), view(*kc), view(*vc), view(*one), view(*sb1), view(*pb, n_kv - 1), ap));
      // Even split counts through ops_split (8 invocations per position in the per-head kernel's score phase
      // where the grouped kernel does not run: test_vulkan_attention covers both kernels).
      Ops& os = n_split % 2 == 0 ? *ops_split : *ops;
      VKT_OK(os.attn_decode_split(r, view(*qb), view(*kc), view(*vc), view(*split, 2), view(*sb2), view(*partials),
                                  view(*pb, n_kv - 1), ap, n_split, min_chunk));
    });
    const auto got = read_back<float>(*split, n_head * head_dim, 8), want = read_back<float>(*one, n_head * head_dim);
    const double err = nmse(got, want);
    QVERIFY2(err < 1e-12, fmt::format("split vs one pass: nmse {:.3g}", err).c_str());
    const auto ref = attention_reference(q, k, v, {int32_t(n_kv - 1)}, head_dim, n_head, n_head_kv);
    const double e_ref = nmse(got, ref);
    QVERIFY2(e_ref < 1e-10, fmt::format("split vs double reference: nmse {:.3g}", e_ref).c_str());
  }
};

QTEST_GUILESS_MAIN(TestVulkanPrefill)
#include "test_vulkan_prefill.moc"
