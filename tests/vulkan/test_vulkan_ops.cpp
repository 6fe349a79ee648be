// Every op on the Vulkan device against the CPU reference: quant::dequantize_row and plain C++ math in
// double. Errors are normalised (sum of squared differences over sum of squares) with a tolerance per op.
// Shapes are small (lavapipe is slow) but odd: row counts that leave a partial workgroup, plain-type rows
// that are not a multiple of 32, and a binding limit small enough to split every matrix into many chunks.
#include <QtTest>

#include <bit>
#include <cmath>
#include <random>

#include "inference/quant/quant.h"
#include "tests/vulkan/attn_reference.h"
#include "tests/vulkan/vk_fixture.h"
#include "tests/vulkan/weights_fixture.h"

using namespace vkt;
using penser::quant::Type;

class TestVulkanOps : public QObject {
  Q_OBJECT
  Gpu gpu;
  std::unique_ptr<Ops> ops;        // subgroup reductions where available, device binding limit
  std::unique_ptr<Ops> ops_fallback;  // shared-memory reductions, 3 rows per workgroup, 4 lanes per position
  std::unique_ptr<Ops> ops_split;  // a 4 KiB binding limit: every matrix is split into chunks
  // mul_mv shapes other than the device's default (the CPU and GPU defaults both run here):
  std::unique_ptr<Ops> ops_rows16;  // 16 rows per workgroup (37 rows: 16 + 16 + 5), 4-byte weight loads forced
  std::unique_ptr<Ops> ops_gpu;     // the GPU-like shape: 64 invocations, 4 rows, 16-byte loads where aligned
                                    // (on lavapipe the default shape reads Q4_K in 8-byte components instead)
  std::unique_ptr<Ops> ops_wide;    // 16 invocations (two lavapipe subgroups), 5 rows
  std::unique_ptr<Ops> ops_lanes[3];  // the GPU variant of several invocations per item: 2, 4, 8 lanes
  // The CPU row-per-lane path (Q4_K, Q5_K, Q6_K, Q8_0, F16 on lavapipe) at 4 rows per lane with 4 KiB bindings, and at 8 (one
  // workgroup of 64 rows for 37: lanes past the end)
  std::unique_ptr<Ops> ops_row_lanes32, ops_row_lanes64;
  // The row-per-lane path with x in a storage buffer (Options::mul_mv_ubo off; the others bind an aligned x
  // as a uniform buffer there).
  std::unique_ptr<Ops> ops_row_lanes_ssbo;
  // The GPU kernels of the small ops (rms_norm.comp, swiglu.comp, attention from storage buffers) where
  // lavapipe would take the CPU ones (Options::small_cpu off).
  std::unique_ptr<Ops> ops_small_gpu;
  // The row-per-lane path with x a uniform buffer (Options::mul_mv_x_texel off; by default x is read as
  // texels there).
  std::unique_ptr<Ops> ops_row_lanes_ubo;

  template <typename F>
  void run(F&& record) { run_recorded(*gpu.device, std::forward<F>(record)); }

  // The mul_mv suites' two products of a on the same x into y: plain, then adding the bias and accumulating
  // (the fused residual); `times` gets the recording's dispatches (their shader names).
  void two_products(Ops& o, const Matrix& a, View x, View y, const View& bias, std::vector<Recorder::DispatchTime>& times) {
    auto rec = Recorder::create(*gpu.device);
    VKT_OK(rec);
    VKT_OK((*rec)->enable_timestamps());
    VKT_OK((*rec)->begin());
    VKT_OK(o.mul_mv(**rec, a, x, y));
    VKT_OK(o.mul_mv(**rec, a, x, y, &bias, /*accumulate=*/true));
    VKT_OK((*rec)->end());
    VKT_OK((*rec)->submit_and_wait());
    times = (*rec)->take_times();
  }
  // What two_products left in y (nrows outputs from float 1 of yb, y0 before): twice_product_plus_bias's
  // values, and the floats around them untouched.
  void check_two_products(Buffer& yb, const std::vector<float>& y0, const std::vector<float>& want, uint32_t nrows,
                          uint32_t xo) {
    const auto got = read_back<float>(yb, nrows, 4);
    const double err = nmse(got, want);
    QVERIFY2(err < 1e-10, fmt::format("x offset {}: nmse {:.3g}", xo, err).c_str());
    const auto all = read_back<float>(yb, nrows + 9);
    QCOMPARE(all[0], y0[0]);
    QCOMPARE(all[nrows + 1], y0[nrows + 1]);
  }

 private slots:
  void initTestCase() {
    VKT_OPEN(gpu);
    auto a = Ops::create(*gpu.device);
    VKT_OK(a);
    ops = std::move(*a);
    auto b = Ops::create(*gpu.device, {.subgroups = false, .max_binding_bytes = 0, .mul_mv_rows = 3, .attn_lanes = 4});
    VKT_OK(b);
    ops_fallback = std::move(*b);
    auto c = Ops::create(*gpu.device, {.subgroups = true, .max_binding_bytes = 4096, .mul_mv_rows = 1});
    VKT_OK(c);
    ops_split = std::move(*c);
    auto d = Ops::create(*gpu.device, {.mul_mv_rows = 16, .mul_mv_wide = false});
    VKT_OK(d);
    ops_rows16 = std::move(*d);
    auto e = Ops::create(*gpu.device, {.mul_mv_rows = 4, .mul_mv_wg = 64, .mul_mv_int64 = false});
    VKT_OK(e);
    ops_gpu = std::move(*e);
    auto f = Ops::create(*gpu.device, {.mul_mv_rows = 5, .mul_mv_wg = 16});
    VKT_OK(f);
    ops_wide = std::move(*f);
    // 2 lanes x 16 invocations x 3 rows with shared-memory reductions; 4 lanes x 64 x 4; 8 lanes x 64 x 2.
    const Ops::Options lanes[] = {{.subgroups = false, .mul_mv_rows = 3, .mul_mv_wg = 16, .mul_mv_lanes = 2},
                                  {.mul_mv_rows = 4, .mul_mv_wg = 64, .mul_mv_lanes = 4},
                                  {.mul_mv_rows = 2, .mul_mv_wg = 64, .mul_mv_lanes = 8}};
    for (int i = 0; i < 3; ++i) {
      auto l = Ops::create(*gpu.device, lanes[i]);
      VKT_OK(l);
      ops_lanes[i] = std::move(*l);
    }
    auto g = Ops::create(*gpu.device, {.max_binding_bytes = 4096, .mul_mv_rows = 32});
    VKT_OK(g);
    ops_row_lanes32 = std::move(*g);
    auto h = Ops::create(*gpu.device, {.mul_mv_rows = 64});
    VKT_OK(h);
    ops_row_lanes64 = std::move(*h);
    auto k = Ops::create(*gpu.device, {.mul_mv_rows = 32, .mul_mv_ubo = false});
    VKT_OK(k);
    ops_row_lanes_ssbo = std::move(*k);
    auto m = Ops::create(*gpu.device, {.small_cpu = false});
    VKT_OK(m);
    ops_small_gpu = std::move(*m);
    auto u = Ops::create(*gpu.device, {.mul_mv_rows = 32, .mul_mv_x_texel = false});
    VKT_OK(u);
    ops_row_lanes_ubo = std::move(*u);
  }
  void cleanup() { QVERIFY2(gpu.clean(), "the validation layer reported errors"); }

  void mul_mv_data() {
    QTest::addColumn<int>("type");
    // 0: subgroups, 1: shared-memory fall-back, 2: split bindings, 3: 16 rows with 4-byte loads, the matrix
    // 4 bytes into its buffer, 4: the GPU shape (64 x 4), 5: 16 invocations x 5 rows, the matrix 16 bytes in,
    // 6-8: 2, 4, 8 invocations per item (ops_lanes), the matrix 4 bytes in for 6; 9-10: 32 rows per
    // workgroup with split bindings, the matrix 16 bytes in, and 64 rows (on lavapipe Q4_K, Q6_K and Q8_0
    // take the row-per-lane path there, 4 and 8 rows per lane; the default shape takes it at 1 row per lane
    // for 37 rows, Q8_0 there not: 23 blocks are no whole quads); there x at an offset of 4 floats is a
    // uniform texel buffer, at 5 a storage buffer. 11: 32 rows with x always a storage buffer; 12: 32 rows
    // with x at 4 a uniform buffer (the texel option off).
    QTest::addColumn<int>("variant");
    const char* names[] = {"subgroup", "shared", "split", "rows16-words-at4", "gpu64x4", "wg16x5-at16",
                           "lanes2-shared-at4", "lanes4-64x4", "lanes8-64x2", "rows32-split-at16", "rows64", "rows32-ssbo",
                           "rows32-ubo"};
    for (Type t : kTypes)
      for (int v = 0; v < 13; ++v)
        QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
  }
  void mul_mv() {
    QFETCH(int, type);
    QFETCH(int, variant);
    const Type t = Type(type);
    const uint32_t block = quant::traits(t).block_size;
    // Plain types: a row length that is no multiple of 32 (at 32/64 rows 352: whole 32-value steps of the
    // row-per-lane F16); quantized: a few blocks (32-value blocks: an odd count, or in the GPU, 16-invocation
    // and 32/64-row shapes 24: Q8_0's block pairs and its row-per-lane quads of 4 blocks).
    const uint32_t ncols = block == 1 ? (variant >= 9 ? 352 : 333) : block == 32 ? 32 * (variant == 4 || variant == 5 || variant >= 8 ? 24 : 23) : 256 * 3;
    const uint32_t nrows = 37;
    const auto m = random_matrix(t, ncols, nrows, 11 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    for (float v : w) QVERIFY(std::isfinite(v));
    const auto x = random_floats(ncols + 5, 7);
    const auto bias = random_floats(nrows + 2, 8);
    const auto y0 = random_floats(nrows + 9, 9);

    // The matrix at a byte offset in its buffer (4 and 16: the 16-byte loads of Q4_K are off, then on; Q6_K
    // blocks start 2 bytes into a word in every other block either way).
    const uint32_t a_at = variant == 3 || variant == 6 ? 4 : variant == 5 || variant == 9 ? 16 : 0;
    std::vector<uint8_t> placed(a_at, 0xAB);
    placed.insert(placed.end(), m.begin(), m.end());
    auto wb = make_buffer(*gpu.device, placed);
    auto xb = make_buffer(*gpu.device, x);
    auto bb = make_buffer(*gpu.device, bias);
    Ops* const all[] = {ops.get(),          ops_fallback.get(),  ops_split.get(),      ops_rows16.get(),
                        ops_gpu.get(),      ops_wide.get(),      ops_lanes[0].get(),   ops_lanes[1].get(),
                        ops_lanes[2].get(), ops_row_lanes32.get(), ops_row_lanes64.get(),
                        ops_row_lanes_ssbo.get(), ops_row_lanes_ubo.get()};
    Ops& o = *all[variant];
    const Matrix a{wb.get(), a_at, t, ncols, nrows};
    // On a CPU implementation with 8-lane subgroups (lavapipe on AVX2; Ops::mul_mv_row_lanes) Q4_K, Q6_K and
    // Q8_0 take the row-per-lane path at 32 and 64 rows: there x at offset 4 must have been read as texels (64
    // rows) or a uniform buffer (variant 12), by the module's name.
    const bool check_x = (variant == 10 || variant == 12) && gpu.device->info().is_cpu() && gpu.device->int64() &&
                         gpu.device->subgroup_ops() && gpu.device->subgroups().size == 8 &&
                         (t == Type::Q4_K || t == Type::Q6_K || t == Type::Q8_0);
    // x at an offset of 5 floats (read element by element) and of 4 (read as vec4s: the decode step's case).
    for (uint32_t xo : {5u, 4u}) {
      auto yb = make_buffer(*gpu.device, y0);
      // Offsets everywhere; the second product adds bias and accumulates into y (fused residual).
      const View bias_view = view(*bb, 2);
      std::vector<Recorder::DispatchTime> times;
      two_products(o, a, view(*xb, xo), view(*yb, 1), bias_view, times);
      if (QTest::currentTestFailed()) return;
      for (const auto& d : times)
        if (check_x)
          QVERIFY2(d.shader.ends_with(xo == 5 ? "_i64" : variant == 10 ? "_i64_xt" : "_i64_ubo"), d.shader.c_str());
      if (variant == 2 || variant == 9) QVERIFY(a.bytes() > 4096);  // the split really happened
      check_two_products(*yb, y0, twice_product_plus_bias(w, ncols, nrows, x, xo, 0, 1, bias), nrows, xo);
      if (QTest::currentTestFailed()) return;
    }
  }

  // The decode product with x rounded to 8 bits and integer dot products (mul_mv.comp's X_Q8 modules,
  // Options::mul_mv_q8x), where the device has them (lavapipe does: Vulkan 1.3). The kernel's result is the
  // product with x rounded as below, in exact integer sums then scaled: against that reference the error is
  // float rounding (nmse ~1e-14 on lavapipe). x has no value within 1e-3 of a rounding tie, which a GPU's
  // approximate division could break the other way (one such value: nmse ~7e-7); the mins' terms taken from
  // the unrounded x instead of the rounded one measured 2-3e-7, so the bound is far below both. Against the
  // unrounded x the error is the rounding itself (~2-4e-5). Variants: 0 64 invocations x 4 rows; 1 64 x 3
  // with every slot loading (37 rows: the last workgroup's two slots past the matrix load row 36 again),
  // the matrix 16 bytes in; 2 16 x 5 with shared-memory reductions, the matrix 4 bytes in (Q4_K's 32-bit
  // loads, not its uvec4s; Q8_0's pairs still 4-byte aligned); 3 8 invocations (one lavapipe subgroup:
  // wg_sum_rows without shared memory) x 4 rows, 4 KiB bindings, every slot loading.
  void mul_mv_q8x_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("variant");
    const char* names[] = {"64x4", "64x3-all-slots-at16", "shared-16x5-at4", "split-8x4-all-slots"};
    for (Type t : {Type::Q4_K, Type::Q6_K, Type::Q8_0})
      for (int v = 0; v < 4; ++v) QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
  }
  void mul_mv_q8x() {
    QFETCH(int, type);
    QFETCH(int, variant);
    if (!gpu.device->integer_dot_product()) QSKIP("the device has no integer dot products (shaderIntegerDotProduct)");
    const Type t = Type(type);
    const Ops::Options options[] = {
        {.mul_mv_rows = 4, .mul_mv_wg = 64, .mul_mv_row_lanes = false, .mul_mv_q8x = 1},
        {.mul_mv_rows = 3, .mul_mv_wg = 64, .mul_mv_row_lanes = false, .mul_mv_q8x = 2},
        {.subgroups = false, .mul_mv_rows = 5, .mul_mv_wg = 16, .mul_mv_row_lanes = false, .mul_mv_q8x = 1},
        {.max_binding_bytes = 4096, .mul_mv_rows = 4, .mul_mv_wg = 8, .mul_mv_row_lanes = false, .mul_mv_q8x = 2}};
    auto made = Ops::create(*gpu.device, options[variant]);
    VKT_OK(made);
    Ops& o = **made;
    const uint32_t ncols = 256 * 3, nrows = 37;  // Q8_0: 12 pairs of blocks
    const auto m = random_matrix(t, ncols, nrows, 31 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const auto bias = random_floats(nrows + 2, 8);
    const auto y0 = random_floats(nrows + 9, 9);
    const uint32_t a_at = variant == 1 ? 16 : variant == 2 ? 4 : 0;
    std::vector<uint8_t> placed(a_at, 0xAB);
    placed.insert(placed.end(), m.begin(), m.end());
    auto wb = make_buffer(*gpu.device, placed);
    auto bb = make_buffer(*gpu.device, bias);
    const Matrix a{wb.get(), a_at, t, ncols, nrows};
    for (uint32_t xo : {5u, 4u}) {
      // x as the kernel rounds it: per 32 values of the row, d = max|x| / 127, q = x * (127 / max|x|) rounded
      // to the nearest integer, in float. A value whose q is within 1e-3 of a tie is first moved 0.4% toward
      // zero (which keeps the block's largest, never near a tie, the largest).
      auto x = random_floats(ncols + 5, 17);
      std::vector<float> xr = x;
      int moved = 0;
      for (uint32_t b = 0; b < ncols; b += 32) {
        float mx = 0;
        for (uint32_t i = 0; i < 32; ++i) mx = std::max(mx, std::fabs(x[xo + b + i]));
        const float inv = mx > 0 ? 127.0f / mx : 0.0f, d = mx / 127.0f;
        for (uint32_t i = 0; i < 32; ++i) {
          float& v = x[xo + b + i];
          const float q = std::fabs(v * inv);
          if (std::fabs(q - std::floor(q) - 0.5f) < 1e-3f) v *= 0.996f, ++moved;
          xr[xo + b + i] = d * std::nearbyint(v * inv);
        }
      }
      auto xb = make_buffer(*gpu.device, x);
      auto yb = make_buffer(*gpu.device, y0);
      std::vector<Recorder::DispatchTime> times;
      two_products(o, a, view(*xb, xo), view(*yb, 1), view(*bb, 2), times);
      if (QTest::currentTestFailed()) return;
      QVERIFY(!times.empty());
      for (const auto& d : times) QVERIFY2(d.shader.ends_with("_q8x"), d.shader.c_str());
      if (variant == 3) QVERIFY(a.bytes() > 4096);  // split
      const auto got = read_back<float>(*yb, nrows, 4);
      const double rounded = nmse(got, twice_product_plus_bias(w, ncols, nrows, xr, xo, 0, 1, bias));
      const double exact = nmse(got, twice_product_plus_bias(w, ncols, nrows, x, xo, 0, 1, bias));
      qDebug("x offset %u (%d values off a tie): nmse %.3g against x rounded, %.3g against x", xo, moved, rounded, exact);
      QVERIFY2(rounded < 1e-10 && exact < 1e-4,
               fmt::format("x offset {}: nmse {:.3g} against x rounded, {:.3g} against x", xo, rounded, exact).c_str());
      const auto all = read_back<float>(*yb, nrows + 9);
      QCOMPARE(all[0], y0[0]);
      QCOMPARE(all[nrows + 1], y0[nrows + 1]);
    }
  }

  // The interleaved layout itself (host side): byte b of unit k of row r at its place, padding zero. A unit
  // (Matrix::interleave_unit): a Q4_K, Q5_K or Q6_K block, 8 Q8_0 blocks (272 bytes, 17 texels: no padding;
  // the d's first, then the quants).
  void interleave_rows_layout() {
    struct Want {
      Type t;
      uint64_t unit, padded;  // a unit's bytes in the file and padded
    };
    for (const Want& u : {Want{Type::Q4_K, 144, 144}, Want{Type::Q5_K, 176, 176}, Want{Type::Q6_K, 210, 224},
                          Want{Type::Q8_0, 272, 272}}) {
      const Type t = u.t;
      const uint32_t ncols = 512, nrows = 16;
      const uint64_t units = ncols / (quant::traits(t).block_size * Matrix::interleave_unit(t));  // 2 each
      const auto m = random_matrix(t, ncols, nrows, 5);
      QCOMPARE(Matrix::interleave_unit_bytes(t), u.padded);
      QCOMPARE(units * u.unit, quant::row_size(t, ncols));
      const uint64_t stride = Matrix::interleaved_stride(t, ncols);
      QCOMPARE(stride, units * u.padded);
      std::vector<uint8_t> il(stride * nrows, 0x5A);
      interleave_rows(t, ncols, m.data(), nrows, il.data());
      size_t checked = 0;
      for (uint32_t r = 0; r < nrows; ++r)
        for (uint64_t o = 0; o < stride; ++o) {
          const uint64_t k = o / u.padded;
          uint64_t b = o % u.padded;
          // Q8_0's unit by kind of field: d of block j at 2j, 2j + 1, its quants at 16 + 32j.. (34-byte blocks)
          if (t == Type::Q8_0) b = b < 16 ? 34 * (b / 2) + b % 2 : 34 * ((b - 16) / 32) + 2 + (b - 16) % 32;
          const uint8_t got = il[(r / 8) * 8 * stride + (o / 16) * 128 + (r % 8) * 16 + o % 16];
          const uint8_t want = b < u.unit ? m[r * units * u.unit + k * u.unit + b] : 0;
          if (got != want) QFAIL(fmt::format("{} row {} byte {}: {} != {}", quant::type_name(t), r, o, got, want).c_str());
          ++checked;
        }
      QCOMPARE(checked, il.size());  // every byte of the output is one of the places above
    }
    // Q8_0 only in rows of whole units (256 values): others keep the file layout (where the device
    // interleaves at all).
    if (ops->interleaves(Type::Q8_0, 256, 8)) {
      QVERIFY(!ops->interleaves(Type::Q8_0, 128, 8));
      QVERIFY(!ops->interleaves(Type::Q8_0, 1536 + 128, 8));
      QVERIFY(ops->interleaves(Type::Q8_0, 8960, 1536));
      QVERIFY(!ops->interleaves(Type::Q8_0, 512, 12));
      // 8 rows must fit one binding (4 KiB here): 8 x 544 bytes at 512 columns do not, 8 x 272 at 256 do.
      QVERIFY(!ops_row_lanes32->interleaves(Type::Q8_0, 512, 8));
      QVERIFY(ops_row_lanes32->interleaves(Type::Q8_0, 256, 8));
    }
    // Q5_K wherever Q4_K (the same rows of whole 256-value blocks, 11 texels each, no padding).
    if (ops->interleaves(Type::Q4_K, 1536, 8960)) {
      QVERIFY(ops->interleaves(Type::Q5_K, 1536, 8960));
      QVERIFY(ops->interleaves(Type::Q5_K, 8960, 1536));
      QVERIFY(!ops->interleaves(Type::Q5_K, 512, 12));
      QCOMPARE(Matrix::interleaved_stride(Type::Q5_K, 1536), quant::row_size(Type::Q5_K, 1536));
    }
  }

  // Interleaved weights (Matrix::interleaved: the loader's layout for Q4_K, Q5_K, Q6_K, Q8_0 on CPU implementations,
  // read as texels). 40 rows: 32 + 8 at 32 rows per workgroup, a partial workgroup at 64. Variants: 0 the
  // default Ops (x uniform at offset 4: texels, a storage buffer at 5), 1 x always a storage buffer, 2 bindings
  // split into whole 8-row groups (4 KiB), 3 the matrix in two parts (24 + 16 rows), 4 64 rows per workgroup,
  // 5 x at offset 4 a uniform buffer (the texel option off). Each dispatch's module named as that says.
  void mul_mv_interleaved_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("variant");
    const char* names[] = {"default", "x-ssbo", "split", "parts", "rows64", "x-ubo"};
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0})
      for (int v = 0; v < 6; ++v) QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
  }
  void mul_mv_interleaved() {
    QFETCH(int, type);
    QFETCH(int, variant);
    const Type t = Type(type);
    const uint32_t ncols = 512, nrows = 40;
    // Q8_0's 8-row groups (4.25 KiB) do not fit the 4 KiB bindings: split at 10 KiB (two groups) instead.
    auto split_q8 = Ops::create(*gpu.device, {.max_binding_bytes = 10240, .mul_mv_rows = 32});
    VKT_OK(split_q8);
    Ops* const all[] = {ops.get(), ops_row_lanes_ssbo.get(),
                        t == Type::Q8_0 ? split_q8->get() : ops_row_lanes32.get(), ops.get(), ops_row_lanes64.get(),
                        ops_row_lanes_ubo.get()};
    Ops& o = *all[variant];
    if (!o.interleaves(t, ncols, nrows))
      QSKIP("this device does not store weights interleaved (a CPU implementation with 8-lane subgroups and 64-bit integers does)");
    const auto m = random_matrix(t, ncols, nrows, 31 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    auto im = interleaved_matrix(*gpu.device, t, ncols, nrows, m, 32, variant == 3 ? 24 : nrows);
    const auto x = random_floats(ncols + 5, 7);
    const auto bias = random_floats(nrows + 2, 8);
    const auto y0 = random_floats(nrows + 9, 9);
    auto xb = make_buffer(*gpu.device, x);
    auto bb = make_buffer(*gpu.device, bias);
    for (uint32_t xo : {5u, 4u}) {
      auto yb = make_buffer(*gpu.device, y0);
      const View bias_view = view(*bb, 2);
      std::vector<Recorder::DispatchTime> times;
      two_products(o, im.m, view(*xb, xo), view(*yb, 1), bias_view, times);
      if (QTest::currentTestFailed()) return;
      QVERIFY(!times.empty());
      for (const auto& d : times)
        QVERIFY2(d.shader.ends_with(xo == 5 || variant == 1 ? "_il" : variant == 5 ? "_il_ubo" : "_il_xt"), d.shader.c_str());
      if (variant == 2) QVERIFY(times.size() > 2);  // the split really happened
      check_two_products(*yb, y0, twice_product_plus_bias(w, ncols, nrows, x, xo, 0, 1, bias), nrows, xo);
      if (QTest::currentTestFailed()) return;
    }
  }

  // SwiGLU folded into the gate|up product (MulMvInput::swiglu_out): a is [gate | up], n gate rows then n up
  // rows, and y[r] = silu(gate_r . x) * (up_r . x), r < n. Gate row r and up row r meet in one workgroup on
  // every path. Interleaved (Q4_K, Q5_K, Q6_K, Q8_0 as the loader stores them on lavapipe; 24 + 24 rows: a
  // partial workgroup): 0 the default Ops (x as texels at offset 4, a storage buffer at 5), 1 64 rows per
  // workgroup, 2 x a uniform buffer, 3 x always a storage buffer. The file layout (21 + 21 rows: partial
  // everywhere): 4 the device's default, 5 the GPU shape (64 invocations x 4 rows, 4-byte loads), 6 shared-
  // memory reductions at 3 rows (made 4), 7 4 invocations per item, 8 16 invocations x 5 rows (made 6), 9 64
  // rows (the row-per-lane path on lavapipe for Q4_K, Q5_K, Q6_K, Q8_0, F16). Each dispatch labelled as folded.
  void mul_mv_swiglu_fold_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("variant");
    const char* names[] = {"il", "il-rows64", "il-x-ubo", "il-x-ssbo", "default", "gpu64x4", "shared-rows3",
                           "lanes4", "wg16x5", "rows64"};
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0})
      for (int v = 0; v < 4; ++v) QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
    // (Short on a cold shader cache: the GPU shapes 6-8 for the types with a code block of their own in
    // mul_mv.comp, plain F32, Q8_0's pairs, Q4_K, Q6_K; 64 rows for the row-per-lane types.)
    for (Type t : {Type::F32, Type::F16, Type::Q4_0, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K})
      for (int v = 4; v < 10; ++v) {
        const bool own_block = t == Type::F32 || t == Type::Q8_0 || t == Type::Q4_K || t == Type::Q6_K;
        if ((v >= 6 && v <= 8 && !own_block) || (v == 9 && (t == Type::F32 || t == Type::Q4_0))) continue;
        QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
      }
  }
  void mul_mv_swiglu_fold() {
    QFETCH(int, type);
    QFETCH(int, variant);
    const Type t = Type(type);
    const bool il = variant < 4;
    const uint32_t block = quant::traits(t).block_size;
    const uint32_t ncols = il ? 512 : block == 1 ? (variant == 9 ? 352 : 333) : block == 32 ? 32 * 24 : 256 * 3;
    const uint32_t n = il ? 24 : 21, nrows = 2 * n;
    Ops* const all[] = {ops.get(),         ops_row_lanes64.get(), ops_row_lanes_ubo.get(), ops_row_lanes_ssbo.get(),
                        ops.get(),         ops_gpu.get(),         ops_fallback.get(),      ops_lanes[1].get(),
                        ops_wide.get(),    ops_row_lanes64.get()};
    Ops& o = *all[variant];
    if (il && !o.interleaves(t, ncols, nrows))
      QSKIP("this device does not store weights interleaved (a CPU implementation with 8-lane subgroups and 64-bit integers does)");
    const GateUpMatrix gu = gate_up_matrix(*gpu.device, t, ncols, nrows, 41 + type, il, 32);
    const Matrix& a = gu.m;
    const auto& w = gu.w;
    QVERIFY(o.swiglu_folds(a));
    const auto x = random_floats(ncols + 5, 7);
    const auto y0 = random_floats(n + 2, 9);
    auto xb = make_buffer(*gpu.device, x);
    for (uint32_t xo : {5u, 4u}) {
      auto yb = make_buffer(*gpu.device, y0);
      auto rec = Recorder::create(*gpu.device);
      VKT_OK(rec);
      VKT_OK((*rec)->enable_timestamps());
      VKT_OK((*rec)->begin());
      VKT_OK(o.mul_mv(**rec, a, view(*xb, xo), view(*yb, 1), nullptr, false, {.swiglu_out = true}));
      VKT_OK((*rec)->end());
      VKT_OK((*rec)->submit_and_wait());
      const auto times = (*rec)->take_times();
      QCOMPARE(times.size(), size_t(1));
      QCOMPARE(times[0].label, std::string("ffn_gate_up+swiglu"));
      if (il)
        QVERIFY2(times[0].shader.ends_with(xo == 5 || variant == 3 ? "_il" : variant == 2 ? "_il_ubo" : "_il_xt"),
                 times[0].shader.c_str());
      const auto got = read_back<float>(*yb, n + 2);
      const double err = nmse(std::vector<float>(got.begin() + 1, got.end() - 1), swiglu_of_products(w, ncols, nrows, x, xo, 0, 1));
      QVERIFY2(err < 1e-10, fmt::format("x offset {}: nmse {:.3g}", xo, err).c_str());
      QCOMPARE(got[0], y0[0]);  // nothing written around the n outputs
      QCOMPARE(got[n + 1], y0[n + 1]);
    }
  }

  // The RMSNorm carried from a product to the next ones (NormCarry, the decode step's default): the producer
  // y += A x writes y, y * g and partial sums of y^2; a consumer z = B (y * g) + bias scaled by 1 / rms(y),
  // and a folded gate|up consumer, give what RMSNorm then the products give. The partial-sum slots start as
  // NaN: a slot the producer counts but does not write, or a consumer reading past them, shows. Variants: 0
  // the device's default Ops (on lavapipe the row-per-lane path for Q4_K, Q5_K, Q6_K, Q8_0, F16, x as texels),
  // 1 shared-memory reductions at 3 rows, 2 4 KiB bindings (the producer in many dispatches, each with its
  // own partial sums), 3 the GPU shape (64 x 4), 4 the row-per-lane path at 32 rows with 4 KiB bindings, 5 4
  // invocations per item, 6 interleaved weights (the loader's layout on lavapipe).
  void mul_mv_norm_carry_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("variant");
    const char* names[] = {"default", "shared-rows3", "split", "gpu64x4", "rows32-split", "lanes4", "il"};
    auto row = [&](Type t, int v) {
      QTest::newRow(fmt::format("{}/{}", quant::type_name(t), names[v]).c_str()) << int(t) << v;
    };
    for (Type t : {Type::F32, Type::F16, Type::Q4_0, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::IQ4_XS}) row(t, 0);
    for (Type t : {Type::F32, Type::Q8_0, Type::Q4_K, Type::Q6_K}) row(t, 3);
    row(Type::Q4_K, 1);
    row(Type::F32, 2);
    row(Type::Q4_K, 2);
    row(Type::Q4_K, 4);
    row(Type::Q6_K, 4);
    row(Type::Q4_K, 5);
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0}) row(t, 6);
  }
  void mul_mv_norm_carry() {
    QFETCH(int, type);
    QFETCH(int, variant);
    const Type t = Type(type);
    const bool il = variant == 6;
    Ops* const all[] = {ops.get(), ops_fallback.get(), ops_split.get(), ops_gpu.get(), ops_row_lanes32.get(),
                        ops_lanes[1].get(), ops.get()};
    Ops& o = *all[variant];
    const uint32_t block = quant::traits(t).block_size;
    // E: the producer's rows, the consumers' columns; K: the producer's columns.
    const uint32_t E = il ? 256 : block == 1 ? 333 : block == 32 ? 32 * 9 : 256;
    const uint32_t K = il ? 512 : block == 1 ? 301 : block == 32 ? 32 * 7 : 512;
    // The consumer's rows (interleaved: whole 8-row groups), the folded consumer's gate rows.
    const uint32_t nb = il ? 40 : 37, G = 24;
    if (il && !o.interleaves(t, K, E))
      QSKIP("this device does not store weights interleaved (a CPU implementation with 8-lane subgroups and 64-bit integers does)");
    const auto am = random_matrix(t, K, E, 51 + type), bm = random_matrix(t, E, nb, 52 + type);
    const auto aw = dequantized(t, am, K, E), bwv = dequantized(t, bm, E, nb);
    InterleavedMatrix ail, bil;
    std::unique_ptr<Buffer> ab, bb;
    Matrix a, b;
    if (il) {
      ail = interleaved_matrix(*gpu.device, t, K, E, am, 32, E);
      bil = interleaved_matrix(*gpu.device, t, E, nb, bm, 0, nb);
      a = ail.m;
      b = bil.m;
    } else {
      ab = make_buffer(*gpu.device, am);
      bb = make_buffer(*gpu.device, bm);
      a = Matrix{ab.get(), 0, t, K, E};
      b = Matrix{bb.get(), 0, t, E, nb};
    }
    const GateUpMatrix gu = gate_up_matrix(*gpu.device, t, E, 2 * G, 53 + type, il, 16);
    const bool fold = o.swiglu_folds(gu.m);
    const auto x = random_floats(K + 4, 54);
    const auto g = random_floats(E + 3, 55);
    const auto bias = random_floats(nb + 1, 56);
    const float eps = 1e-5f;
    // One buffer: y at 4, y * g at xg, at ss the counter (0), the total and 2 unused (NaN), then the partial
    // sums (E + 64 slots, NaN).
    const uint32_t xg = (4 + E + 15) / 16 * 16, ss = xg + (E + 15) / 16 * 16, n_slots = E + 64;
    std::vector<float> y0 = random_floats(ss + 4 + n_slots, 57);
    for (uint32_t i = ss; i < ss + 4 + n_slots; ++i) y0[i] = std::numeric_limits<float>::quiet_NaN();
    y0[ss] = 0.0f;  // the counter's bits: 0
    auto yb = make_buffer(*gpu.device, y0);
    auto xb = make_buffer(*gpu.device, x);
    auto gb = make_buffer(*gpu.device, g);
    auto biasb = make_buffer(*gpu.device, bias);
    auto zb = make_buffer(*gpu.device, std::vector<float>(nb + G + 2, 0.0f));
    NormCarry nc{.g = view(*gb, 3), .xg = view(*yb, xg), .ss = view(*yb, ss), .eps = eps};
    const View bias_view = view(*biasb, 1);
    // Twice: the first producer's last workgroup must leave the counter at 0 for the second (the decode step
    // runs two producers a layer, and the same recording every step); the second adds into y again, so the
    // references below start from y after the first.
    for (int pass = 0; pass < 2; ++pass) {
      run([&](Recorder& r) {
        VKT_OK(o.mul_mv(r, a, view(*xb, 4), view(*yb, 4), nullptr, /*accumulate=*/true, {.carry = &nc}));
        QVERIFY(nc.parts > 0 && nc.parts <= n_slots);
        VKT_OK(o.mul_mv(r, b, nc.xg, view(*zb, 0), &bias_view, false, {.carried = &nc}));
        if (fold) VKT_OK(o.mul_mv(r, gu.m, nc.xg, view(*zb, nb), nullptr, false, {.swiglu_out = true, .carried = &nc}));
      });
      if (QTest::currentTestFailed()) return;
      if (pass == 0) {
        const auto after = read_back<float>(*yb, ss + 1);
        QCOMPARE(std::bit_cast<uint32_t>(after[ss]), 0u);
        std::copy(after.begin() + 4, after.begin() + 4 + E, y0.begin() + 4);
      }
    }

    // References in double from the same dequantized weights.
    std::vector<double> yr(E);
    double sq = 0;
    for (uint32_t r = 0; r < E; ++r) {
      double s = y0[4 + r];
      for (uint32_t c = 0; c < K; ++c) s += double(aw[size_t(r) * K + c]) * x[4 + c];
      yr[r] = s;
      sq += s * s;
    }
    const double inv = 1.0 / std::sqrt(sq / E + eps);
    std::vector<float> ywant(E), xgwant(E), xn(E);
    for (uint32_t r = 0; r < E; ++r) {
      ywant[r] = float(yr[r]);
      xgwant[r] = float(yr[r] * g[3 + r]);
      xn[r] = float(yr[r] * inv * g[3 + r]);
    }
    const auto got = read_back<float>(*yb, ss + 4 + n_slots);
    auto part = [&](uint32_t at, uint32_t n) { return std::vector<float>(got.begin() + at, got.begin() + at + n); };
    const double ey = nmse(part(4, E), ywant), exg = nmse(part(xg, E), xgwant);
    QVERIFY2(ey < 1e-10 && exg < 1e-10, fmt::format("y nmse {:.3g}, y * g nmse {:.3g}", ey, exg).c_str());
    QCOMPARE(std::bit_cast<uint32_t>(got[ss]), 0u);  // the counter back at 0
    double psum = 0;
    for (uint32_t i = 0; i < nc.parts; ++i) psum += got[ss + 4 + i];
    QVERIFY2(std::abs(psum - sq) <= 1e-5 * sq && std::abs(got[ss + 1] - sq) <= 1e-5 * sq,
             fmt::format("{} partial sums: {}, total {}, against {}", nc.parts, psum, got[ss + 1], sq).c_str());
    QVERIFY(std::isnan(got[ss + 2]) && std::isnan(got[ss + 3]));
    for (uint32_t i = nc.parts; i < n_slots; ++i) QVERIFY(std::isnan(got[ss + 4 + i]));  // nothing written past them
    std::vector<float> zwant(nb);
    for (uint32_t r = 0; r < nb; ++r) {
      double s = bias[1 + r];
      for (uint32_t c = 0; c < E; ++c) s += double(bwv[size_t(r) * E + c]) * xn[c];
      zwant[r] = float(s);
    }
    const auto z = read_back<float>(*zb, nb + G);
    const double ez = nmse(std::vector<float>(z.begin(), z.begin() + nb), zwant);
    QVERIFY2(ez < 1e-10, fmt::format("consumer nmse {:.3g}", ez).c_str());
    if (fold) {
      const double ef = nmse(std::vector<float>(z.begin() + nb, z.end()), swiglu_of_products(gu.w, E, 2 * G, xn, 0, 0, 1));
      QVERIFY2(ef < 1e-10, fmt::format("folded consumer nmse {:.3g}", ef).c_str());
    }
  }

  // Where SwiGLU cannot fold into the gate|up product (the evaluators then run the product and swiglu):
  // the option off, an odd row count, interleaved halves that are no whole 8-row groups, and the matrix not
  // in one binding (split over bindings, or stored in parts).
  void swiglu_folds_limits() {
    const Type t = Type::Q4_K;
    const auto m = random_matrix(t, 512, 48, 5);
    auto wb = make_buffer(*gpu.device, m);
    const Matrix a{wb.get(), 0, t, 512, 48};
    QVERIFY(ops->swiglu_folds(a));
    auto off = Ops::create(*gpu.device, {.swiglu_fold = false});
    VKT_OK(off);
    QVERIFY(!(*off)->swiglu_folds(a));
    QVERIFY(!ops->swiglu_folds(Matrix{wb.get(), 0, t, 512, 47}));
    QVERIFY(!ops_split->swiglu_folds(a));  // 48 rows of 288 bytes over 4 KiB bindings
    QVERIFY(ops_split->swiglu_folds(Matrix{wb.get(), 0, t, 512, 12}));  // 3456 bytes: one binding
    if (ops->interleaves(t, 512, 48)) {
      auto whole = interleaved_matrix(*gpu.device, t, 512, 48, m, 0, 48);
      auto parts = interleaved_matrix(*gpu.device, t, 512, 48, m, 0, 24);
      auto odd = interleaved_matrix(*gpu.device, t, 512, 16, m, 0, 16);  // 8 + 8: whole groups
      QVERIFY(ops->swiglu_folds(whole.m));
      QVERIFY(!ops->swiglu_folds(parts.m));
      QVERIFY(ops->swiglu_folds(odd.m));
      auto il24 = interleaved_matrix(*gpu.device, t, 512, 24, m, 0, 24);  // 12 + 12: half a group each
      QVERIFY(!ops->swiglu_folds(il24.m));
    }
  }

  // Long rows. Past maxUniformBufferRange (lavapipe: 64 KiB, 16640 floats here) x is read as texels (the
  // row-per-lane types), which have no such limit (with the texel option off Ops::mul_mv falls back to x as a
  // storage buffer; Q4_K there takes the lane-striding path). Q4_K at 4352 columns: by row per lane only
  // with x uniform (the storage path stops at 4096 columns).
  void mul_mv_long_rows_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("past_uniform");
    QTest::newRow("Q4_K/4352") << int(Type::Q4_K) << false;
    for (Type t : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0, Type::F16})
      QTest::newRow(fmt::format("{}/past uniform range", quant::type_name(t)).c_str()) << int(t) << true;
  }
  void mul_mv_long_rows() {
    QFETCH(int, type);
    QFETCH(bool, past_uniform);
    const Type t = Type(type);
    const uint64_t max_ubo = gpu.device->info().max_uniform_buffer_range;
    if (past_uniform && max_ubo > (1u << 20)) QSKIP("the device's uniform buffers take x of any size tested here");
    const uint32_t ncols = past_uniform ? uint32_t((max_ubo / 4 / 256 + 1) * 256) : 4352, nrows = 19;
    const auto m = random_matrix(t, ncols, nrows, 21 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const auto x = random_floats(ncols + 4, 22);
    auto wb = make_buffer(*gpu.device, m);
    auto xb = make_buffer(*gpu.device, x);
    auto yb = make_buffer(*gpu.device, std::vector<float>(nrows, 0.0f));
    const Matrix a{wb.get(), 0, t, ncols, nrows};
    run([&](Recorder& r) { VKT_OK(ops->mul_mv(r, a, view(*xb, 4), view(*yb, 0))); });
    std::vector<float> want(nrows);
    for (uint32_t r = 0; r < nrows; ++r) {
      double s = 0;
      for (uint32_t c = 0; c < ncols; ++c) s += double(w[size_t(r) * ncols + c]) * x[4 + c];
      want[r] = float(s);
    }
    const double err = nmse(read_back<float>(*yb, nrows), want);
    QVERIFY2(err < 1e-10, fmt::format("nmse {:.3g}", err).c_str());
  }

  void get_rows_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("split");
    for (Type t : kTypes) {
      QTest::newRow(quant::type_name(t)) << int(t) << false;
      QTest::newRow(fmt::format("{}/split", quant::type_name(t)).c_str()) << int(t) << true;
    }
  }
  void get_rows() {
    QFETCH(int, type);
    QFETCH(bool, split);
    const Type t = Type(type);
    const uint32_t block = quant::traits(t).block_size;
    const uint32_t ncols = block == 1 ? 97 : block == 32 ? 32 * 5 : 256 * 2, nrows = 29;
    const auto m = random_matrix(t, ncols, nrows, 3 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const std::vector<uint32_t> ids = {99, 28, 0, 13, 13, 27, 1};  // the first is skipped through the offset
    auto wb = make_buffer(*gpu.device, m);
    auto ib = make_buffer(*gpu.device, ids);
    const uint32_t stride = ncols + 3;
    auto ob = make_buffer(*gpu.device, nullptr, (ids.size() * stride + 8) * 4);
    const Matrix a{wb.get(), 0, t, ncols, nrows};
    run([&](Recorder& r) { VKT_OK((split ? ops_split : ops)->get_rows(r, a, view(*ib, 1), 6, view(*ob, 8), stride)); });
    const auto got = read_back<float>(*ob, 6 * stride, 32);
    for (uint32_t k = 0; k < 6; ++k)
      for (uint32_t c = 0; c < ncols; ++c)
        QCOMPARE(got[k * stride + c], w[size_t(ids[k + 1]) * ncols + c]);  // exact: the same arithmetic
  }

  // A matrix stored in several allocations (Matrix::parts: the evaluator's weights above the allocation
  // limit): 37 rows as parts of 13, 1 and 23 rows, each in its own buffer at its own byte offset, read by
  // mul_mv, get_rows and mul_mm as if whole, with the device's binding limit and with 4 KiB bindings (chunks
  // inside the parts); and rows 10..33 of it (Matrix::rows, a tensor inside a merged upload), which cut
  // through the first and last parts.
  void matrix_in_parts_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<bool>("split");
    for (Type t : {Type::F16, Type::Q8_0, Type::Q4_0, Type::Q4_K, Type::Q6_K}) {
      QTest::newRow(quant::type_name(t)) << int(t) << false;
      QTest::newRow(fmt::format("{}/split bindings", quant::type_name(t)).c_str()) << int(t) << true;
    }
  }
  void matrix_in_parts() {
    QFETCH(int, type);
    QFETCH(bool, split);
    const Type t = Type(type);
    const uint32_t block = quant::traits(t).block_size;
    const uint32_t ncols = block == 1 ? 97 : block == 32 ? 32 * 11 : 256 * 2, nrows = 37;  // 23 rows > 4 KiB
    const auto m = random_matrix(t, ncols, nrows, 41 + type);
    const auto w = dequantized(t, m, ncols, nrows);
    const uint64_t rb = quant::row_size(t, ncols);
    const uint32_t cut[] = {0, 13, 14, 37}, at[] = {0, 4, 16};
    std::vector<std::unique_ptr<Buffer>> parts;
    Matrix whole{nullptr, 0, t, ncols, nrows};
    for (int i = 0; i < 3; ++i) {
      std::vector<uint8_t> placed(at[i], 0xAB);
      placed.insert(placed.end(), m.begin() + ptrdiff_t(cut[i] * rb), m.begin() + ptrdiff_t(cut[i + 1] * rb));
      parts.push_back(make_buffer(*gpu.device, placed));
      whole.parts.push_back({parts.back().get(), at[i], cut[i], cut[i + 1] - cut[i]});
    }
    whole.buffer = parts[0].get();
    whole.offset = at[0];
    const Matrix slice = whole.rows(10, 24);
    QCOMPARE(slice.parts.size(), size_t(3));
    QCOMPARE(slice.parts[0].nrows, 3u);
    QCOMPARE(slice.parts[2].row_begin, 4u);
    QCOMPARE(whole.rows(2, 5).parts.size(), size_t(0));  // inside one part: a plain matrix
    Ops& o = split ? *ops_split : *ops;
    if (split) {  // the binding limit splits the last part too
      auto b = o.bind_matrix(whole);
      VKT_OK(b);
      QVERIFY(b->size() > 3);
    }
    const uint32_t n_tokens = 5, x_stride = ncols + 3;
    const auto x = random_floats(size_t(n_tokens) * x_stride + 5, 42);
    const auto bias = random_floats(nrows + 2, 43);
    auto xb = make_buffer(*gpu.device, x), bb = make_buffer(*gpu.device, bias);
    const View bias_view = view(*bb, 2);
    for (const Matrix* a : {static_cast<const Matrix*>(&whole), &slice}) {
      const uint32_t r0 = a == &whole ? 0 : 10, n = a->nrows, y_stride = n + 2;
      auto yv = make_buffer(*gpu.device, std::vector<float>(n + 1, 0.0f));
      auto ym = make_buffer(*gpu.device, std::vector<float>(size_t(n_tokens) * y_stride + 1, 0.0f));
      const std::vector<uint32_t> ids = {n - 1, 0, 3, 4, 13, 2};  // in every part, for both
      auto ib = make_buffer(*gpu.device, ids);
      const uint32_t o_stride = ncols + 1;
      auto ob = make_buffer(*gpu.device, nullptr, ids.size() * o_stride * 4);
      run([&](Recorder& r) {
        VKT_OK(o.mul_mv(r, *a, view(*xb, 5), view(*yv, 1)));
        VKT_OK(o.mul_mv(r, *a, view(*xb, 5), view(*yv, 1), &bias_view, /*accumulate=*/true));
        VKT_OK(o.mul_mm(r, *a, view(*xb, 5), x_stride, view(*ym, 1), y_stride, n_tokens, &bias_view));
        VKT_OK(o.get_rows(r, *a, view(*ib), uint32_t(ids.size()), view(*ob), o_stride));
      });
      std::vector<float> want_v(n), want_m, got_m;
      const auto got_v = read_back<float>(*yv, n, 4);
      const auto ym_all = read_back<float>(*ym, size_t(n_tokens) * y_stride + 1);
      for (uint32_t k = 0; k < n_tokens; ++k)
        for (uint32_t r = 0; r < n; ++r) {
          double s = 0;
          for (uint32_t c = 0; c < ncols; ++c) s += double(w[size_t(r0 + r) * ncols + c]) * x[5 + k * x_stride + c];
          if (k == 0) want_v[r] = float(2 * s + bias[2 + r]);
          want_m.push_back(float(s + bias[2 + r]));
          got_m.push_back(ym_all[1 + k * y_stride + r]);
        }
      const double ev = nmse(got_v, want_v), em = nmse(got_m, want_m);
      QVERIFY2(ev < 1e-10 && em < 1e-10, fmt::format("rows from {}: mul_mv nmse {:.3g}, mul_mm {:.3g}", r0, ev, em).c_str());
      const auto got_r = read_back<float>(*ob, ids.size() * o_stride);
      for (size_t k = 0; k < ids.size(); ++k)
        for (uint32_t c = 0; c < ncols; ++c)
          QCOMPARE(got_r[k * o_stride + c], w[size_t(r0 + ids[k]) * ncols + c]);  // exact: the same arithmetic
    }
  }

  // Rows of whole vec4s at whole-vec4 offsets take rms_norm_cpu.comp on CPU implementations (texels; 8
  // lanes, so 300 columns leave a partial round and 4 a lone vec4), the others rms_norm.comp; "GPU kernel"
  // rows force rms_norm.comp on whole vec4s (Options::small_cpu off).
  void rms_norm_data() {
    QTest::addColumn<bool>("weight");
    QTest::addColumn<int>("ops_kind");  // 0 default, 1 shared-memory reductions, 2 the GPU kernels
    QTest::addColumn<uint32_t>("ncols");
    QTest::addColumn<uint32_t>("nrows");
    QTest::addColumn<uint32_t>("x_offset");
    QTest::addColumn<uint32_t>("w_offset");
    QTest::newRow("weighted") << true << 0 << 301u << 5u << 4u << 1u;
    QTest::newRow("weighted/shared") << true << 1 << 301u << 5u << 4u << 1u;
    QTest::newRow("plain, in place (per-head)") << false << 0 << 301u << 5u << 4u << 1u;
    QTest::newRow("vec4 rows, weighted") << true << 0 << 300u << 5u << 4u << 4u;
    QTest::newRow("vec4 rows, weighted/shared") << true << 1 << 300u << 5u << 4u << 4u;
    QTest::newRow("vec4 rows, in place (per-head)") << false << 0 << 128u << 7u << 8u << 0u;
    QTest::newRow("vec4 rows, one vec4 each") << true << 0 << 4u << 9u << 4u << 4u;
    QTest::newRow("vec4 row of 1536 (decode)") << true << 0 << 1536u << 1u << 0u << 0u;
    QTest::newRow("vec4 rows, x at an odd offset") << true << 0 << 300u << 3u << 3u << 4u;
    QTest::newRow("vec4 rows, w at an odd offset") << true << 0 << 300u << 3u << 4u << 2u;
    QTest::newRow("vec4 rows, GPU kernel") << true << 2 << 300u << 5u << 4u << 4u;
    QTest::newRow("vec4 rows, GPU kernel, in place") << false << 2 << 128u << 7u << 8u << 0u;
  }
  void rms_norm() {
    QFETCH(bool, weight);
    QFETCH(int, ops_kind);
    QFETCH(uint32_t, ncols);
    QFETCH(uint32_t, nrows);
    QFETCH(uint32_t, x_offset);
    QFETCH(uint32_t, w_offset);
    const float eps = 1e-6f;
    const auto x = random_floats(ncols * nrows + x_offset + 3, 21, 3.0f);
    const auto w = random_floats(ncols + w_offset, 22);
    auto xb = make_buffer(*gpu.device, x), wb = make_buffer(*gpu.device, w);
    auto yb = weight ? make_buffer(*gpu.device, nullptr, ncols * nrows * 4) : nullptr;
    const View wv = view(*wb, w_offset);
    Ops& o = ops_kind == 0 ? *ops : ops_kind == 1 ? *ops_fallback : *ops_small_gpu;
    run([&](Recorder& r) {
      VKT_OK(o.rms_norm(r, view(*xb, x_offset), weight ? view(*yb) : view(*xb, x_offset), weight ? &wv : nullptr, ncols,
                        nrows, eps));
    });
    std::vector<float> want(ncols * nrows);
    for (uint32_t r = 0; r < nrows; ++r) {
      double ss = 0;
      for (uint32_t c = 0; c < ncols; ++c) ss += double(x[x_offset + r * ncols + c]) * x[x_offset + r * ncols + c];
      const double scale = 1.0 / std::sqrt(ss / ncols + eps);
      for (uint32_t c = 0; c < ncols; ++c)
        want[r * ncols + c] = float(x[x_offset + r * ncols + c] * scale * (weight ? w[w_offset + c] : 1.0f));
    }
    const auto got = weight ? read_back<float>(*yb, ncols * nrows) : read_back<float>(*xb, ncols * nrows, x_offset * 4);
    const double err = nmse(got, want);
    QVERIFY2(err < 1e-11, fmt::format("nmse {:.3g}", err).c_str());
    if (!weight) {  // in place: nothing outside the rows moved
      const auto all = read_back<float>(*xb, x.size());
      for (uint32_t i = 0; i < x_offset; ++i) QCOMPARE(all[i], x[i]);
      for (size_t i = x_offset + ncols * nrows; i < x.size(); ++i) QCOMPARE(all[i], x[i]);
    }
  }

  void rope_data() {
    QTest::addColumn<bool>("neox");
    QTest::addColumn<bool>("freq_factors");
    QTest::addColumn<uint32_t>("n_dims");
    QTest::newRow("neox (qwen2)") << true << false << 64u;
    QTest::newRow("normal (llama)") << false << false << 64u;
    QTest::newRow("normal + freq factors (llama3)") << false << true << 64u;
    QTest::newRow("neox, partial rotation") << true << false << 32u;
  }
  void rope() {
    QFETCH(bool, neox);
    QFETCH(bool, freq_factors);
    QFETCH(uint32_t, n_dims);
    const uint32_t head_dim = 64, n_head = 3, n_tokens = 4;
    const float base = 500000.0f;
    const std::vector<int32_t> pos = {-1, 0, 1, 17, 250};  // token t at pos[1 + t]
    const auto x = random_floats(head_dim * n_head * n_tokens + 2, 31);
    std::vector<float> ff(head_dim / 2);
    for (size_t i = 0; i < ff.size(); ++i) ff[i] = 1.0f + float(i % 5) * 2.0f;
    auto xb = make_buffer(*gpu.device, x), pb = make_buffer(*gpu.device, pos), fb = make_buffer(*gpu.device, ff);
    const View fv = view(*fb);
    run([&](Recorder& r) {
      VKT_OK(ops->rope(r, view(*xb, 2), view(*pb, 1), freq_factors ? &fv : nullptr,
                       {.head_dim = head_dim, .n_dims = n_dims, .n_head = n_head, .n_tokens = n_tokens,
                        .freq_base = base, .neox = neox}));
    });
    std::vector<float> want(x.begin() + 2, x.end());
    for (uint32_t t = 0; t < n_tokens; ++t)
      for (uint32_t h = 0; h < n_head; ++h) {
        float* v = want.data() + (t * n_head + h) * head_dim;
        for (uint32_t i = 0; i < n_dims / 2; ++i) {
          double theta = pos[1 + t] * std::pow(double(base), -2.0 * i / n_dims);
          if (freq_factors) theta /= ff[i];
          const uint32_t i0 = neox ? i : 2 * i, i1 = neox ? i + n_dims / 2 : 2 * i + 1;
          const double a = v[i0], b = v[i1];
          v[i0] = float(a * std::cos(theta) - b * std::sin(theta));
          v[i1] = float(a * std::sin(theta) + b * std::cos(theta));
        }
      }
    const auto got = read_back<float>(*xb, want.size(), 8);
    const double err = nmse(got, want);
    QVERIFY2(err < 1e-9, fmt::format("nmse {:.3g}", err).c_str());
  }

  // RoPE + KV store in one dispatch (Ops::rope_kv) against the double-precision composition of what it
  // replaces: per-head RMSNorm (qwen3), RoPE of q (in place) and k, f16 K/V at the position. head_dim 40:
  // not a multiple of the workgroup; q, k, v at odd offsets in one buffer; GQA 3:1. One token (the decode
  // step) or a prompt batch: tokens' q|k|v rows x_stride floats apart (a gap of 7 between them), at
  // positions out of order; or q|k rows with v in rows of its own after them (v_stride: the prompt path
  // when Wv's type differs and V is a product of its own).
  void rope_kv_data() {
    QTest::addColumn<bool>("neox");
    QTest::addColumn<bool>("freq_factors");
    QTest::addColumn<uint32_t>("n_dims");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("subgroups");
    QTest::addColumn<uint32_t>("n_tokens");
    QTest::addColumn<bool>("v_apart");
    QTest::addColumn<bool>("gpu_shape");  // Options::small_cpu off: 16 lanes on lavapipe instead of one subgroup
    QTest::newRow("neox (qwen2)") << true << false << 40u << false << true << 1u << false << false;
    QTest::newRow("neox + Q/K norm (qwen3)") << true << false << 40u << true << true << 1u << false << false;
    QTest::newRow("neox + Q/K norm, shared") << true << false << 40u << true << false << 1u << false << false;
    QTest::newRow("normal (llama)") << false << false << 40u << false << true << 1u << false << false;
    QTest::newRow("normal + freq factors (llama3)") << false << true << 40u << false << true << 1u << false << false;
    QTest::newRow("neox, partial rotation + norm") << true << false << 24u << true << true << 1u << false << false;
    QTest::newRow("3 tokens, neox (qwen2)") << true << false << 40u << false << true << 3u << false << false;
    QTest::newRow("3 tokens, neox + Q/K norm (qwen3)") << true << false << 40u << true << true << 3u << false << false;
    QTest::newRow("3 tokens, Q/K norm, shared") << true << false << 40u << true << false << 3u << false << false;
    QTest::newRow("3 tokens, normal + freq factors (llama3)") << false << true << 40u << false << true << 3u << false << false;
    QTest::newRow("3 tokens, v apart, neox + Q/K norm") << true << false << 40u << true << true << 3u << true << false;
    QTest::newRow("3 tokens, v apart, normal (llama)") << false << false << 40u << false << true << 3u << true << false;
    QTest::newRow("neox + Q/K norm, GPU shape") << true << false << 40u << true << true << 1u << false << true;
    QTest::newRow("3 tokens, v apart, GPU shape") << true << false << 40u << true << true << 3u << true << true;
  }
  void rope_kv() {
    QFETCH(bool, neox);
    QFETCH(bool, freq_factors);
    QFETCH(uint32_t, n_dims);
    QFETCH(bool, norm);
    QFETCH(bool, subgroups);
    QFETCH(uint32_t, n_tokens);
    QFETCH(bool, v_apart);
    QFETCH(bool, gpu_shape);
    const uint32_t D = 40, H = 6, Hkv = 2, n_ctx = 50, kv_dim = Hkv * D, q0 = 3;
    const uint32_t stride = n_tokens > 1 ? (H + (v_apart ? 1 : 2) * Hkv) * D + 7 : 0;
    const uint32_t v_stride = v_apart ? kv_dim + 3 : 0;
    // v of token t at v_at(t): inside the token's row, or in the rows after all the tokens' q|k rows.
    const uint32_t v0 = v_apart ? q0 + n_tokens * stride + 1 : q0 + (H + Hkv) * D;
    auto v_at = [&](uint32_t t) { return v0 + t * (v_apart ? v_stride : stride); };
    const float base = 1000000.0f, eps = 1e-6f;
    const std::vector<int32_t> positions = {-1, 0, 37, 5, 12};  // token t's at offset 2 + t
    const auto x = random_floats(v_at(n_tokens - 1) + kv_dim + 2, 71, 2.0f);
    const auto qn = random_floats(D + 1, 72), kn = random_floats(D + 2, 73);
    std::vector<float> ff(D / 2);
    for (size_t i = 0; i < ff.size(); ++i) ff[i] = 1.0f + float(i % 3) * 4.0f;
    const uint16_t sentinel = 0x5555;
    const std::vector<uint16_t> cache(8 + n_ctx * kv_dim, sentinel);
    auto xb = make_buffer(*gpu.device, x), pb = make_buffer(*gpu.device, positions), fb = make_buffer(*gpu.device, ff);
    auto qnb = make_buffer(*gpu.device, qn), knb = make_buffer(*gpu.device, kn);
    auto kc = make_buffer(*gpu.device, cache), vc = make_buffer(*gpu.device, cache);
    const View fv = view(*fb), qnv = view(*qnb, 1), knv = view(*knb, 2);
    Ops& o = gpu_shape ? *ops_small_gpu : subgroups ? *ops : *ops_fallback;
    run([&](Recorder& r) {
      VKT_OK(o.rope_kv(r, view(*xb, q0), view(*xb, q0 + H * D), view(*xb, v0), norm ? &qnv : nullptr,
                       norm ? &knv : nullptr, eps, freq_factors ? &fv : nullptr, view(*pb, 2), view(*kc, 8),
                       view(*vc, 8),
                       {.head_dim = D, .n_dims = n_dims, .n_head = H, .n_tokens = n_tokens, .freq_base = base,
                        .neox = neox, .n_head_kv = Hkv, .x_stride = stride, .v_stride = v_stride}));
    });
    const auto got_x = read_back<float>(*xb, x.size());
    const auto kcache = read_back<uint16_t>(*kc, cache.size()), vcache = read_back<uint16_t>(*vc, cache.size());
    std::vector<bool> stored(cache.size(), false);
    for (uint32_t t = 0; t < n_tokens; ++t) {
      const uint32_t tq = q0 + t * stride;
      const int32_t pos = positions[2 + t];
      // Reference: q heads then k heads, normed and rotated in double.
      std::vector<float> want(size_t(H + Hkv) * D);
      for (uint32_t h = 0; h < H + Hkv; ++h) {
        const bool is_q = h < H;
        const float* src = x.data() + tq + h * D;
        std::vector<double> v(src, src + D);
        if (norm) {
          double ss = 0;
          for (double e : v) ss += e * e;
          const double scale = 1.0 / std::sqrt(ss / D + eps);
          for (uint32_t i = 0; i < D; ++i) v[i] *= scale * (is_q ? qn[1 + i] : kn[2 + i]);
        }
        for (uint32_t i = 0; i < n_dims / 2; ++i) {
          double theta = pos * std::pow(double(base), -2.0 * i / n_dims);
          if (freq_factors) theta /= ff[i];
          const uint32_t i0 = neox ? i : 2 * i, i1 = neox ? i + n_dims / 2 : 2 * i + 1;
          const double a = v[i0], b = v[i1];
          v[i0] = a * std::cos(theta) - b * std::sin(theta);
          v[i1] = a * std::sin(theta) + b * std::cos(theta);
        }
        for (uint32_t i = 0; i < D; ++i) want[h * D + i] = float(v[i]);
      }
      const std::vector<float> want_q(want.begin(), want.begin() + H * D), want_k(want.begin() + H * D, want.end());
      const std::vector<float> got_q(got_x.begin() + tq, got_x.begin() + tq + H * D);
      const double eq = nmse(got_q, want_q);
      QVERIFY2(eq < 1e-9, fmt::format("token {}: q nmse {:.3g}", t, eq).c_str());
      // k and v went only to the cache row at pos (f16).
      const size_t row = 8 + size_t(pos) * kv_dim;
      std::vector<float> got_k(kv_dim);
      for (uint32_t i = 0; i < kv_dim; ++i) {
        got_k[i] = quant::f16_to_f32(kcache[row + i]);
        QCOMPARE(vcache[row + i], quant::f32_to_f16(x[v_at(t) + i]));
        stored[row + i] = true;
      }
      const double ek = nmse(got_k, want_k);  // f16 rounding: ~1e-7
      QVERIFY2(ek < 1e-6, fmt::format("token {}: k nmse {:.3g}", t, ek).c_str());
    }
    // Every other cache element is untouched, and so is x outside the q heads (k and v: the cache holds the
    // rotated k; the gaps between tokens).
    for (size_t i = 0; i < cache.size(); ++i)
      if (!stored[i]) {
        QCOMPARE(kcache[i], sentinel);
        QCOMPARE(vcache[i], sentinel);
      }
    const size_t span = n_tokens > 1 ? stride : x.size();  // from one token's q to the next's
    for (size_t i = 0; i < x.size(); ++i) {
      const bool in_q = i >= q0 && (i - q0) % span < H * D && (i - q0) / span < n_tokens;
      if (!in_q) QCOMPARE(got_x[i], x[i]);
    }
  }

  // n = 1001 (not whole vec4s: swiglu.comp everywhere); 1000 at whole-vec4 offsets (swiglu_cpu.comp on CPU
  // implementations: 250 vec4s, a partial workgroup) and the same with the GPU kernel forced.
  void swiglu_and_add_data() {
    QTest::addColumn<uint32_t>("n");
    QTest::addColumn<bool>("gpu_kernel");
    QTest::newRow("1001 values") << 1001u << false;
    QTest::newRow("1000 values (vec4s)") << 1000u << false;
    QTest::newRow("1000 values, GPU kernel") << 1000u << true;
  }
  void swiglu_and_add() {
    QFETCH(uint32_t, n);
    QFETCH(bool, gpu_kernel);
    const auto g = random_floats(n, 41, 3.0f), u = random_floats(n, 42), b = random_floats(7, 43);
    auto gb = make_buffer(*gpu.device, g), ub = make_buffer(*gpu.device, u), bb = make_buffer(*gpu.device, b);
    auto yb = make_buffer(*gpu.device, std::vector<float>(n + 16, -7.0f)), zb = make_buffer(*gpu.device, nullptr, n * 4);
    Ops& o = gpu_kernel ? *ops_small_gpu : *ops;
    run([&](Recorder& r) {
      VKT_OK(o.swiglu(r, view(*gb), view(*ub), view(*yb), n));
      VKT_OK(o.add(r, view(*yb), view(*bb), view(*zb), n, 7));  // broadcast: z = y + b[i % 7]
    });
    std::vector<float> want_y(n), want_z(n);
    for (uint32_t i = 0; i < n; ++i) {
      want_y[i] = float(g[i] / (1.0 + std::exp(-double(g[i]))) * u[i]);
      want_z[i] = want_y[i] + b[i % 7];
    }
    const double ey = nmse(read_back<float>(*yb, n), want_y), ez = nmse(read_back<float>(*zb, n), want_z);
    QVERIFY2(ey < 1e-11, fmt::format("swiglu nmse {:.3g}", ey).c_str());
    QVERIFY2(ez < 1e-11, fmt::format("add nmse {:.3g}", ez).c_str());
    for (float v : read_back<float>(*yb, 16, n * 4)) QCOMPARE(v, -7.0f);  // nothing past the end written
  }

  // SwiGLU over rows with a stride, in place (the prompt path's [tokens, 2 n_ff] gate|up rows: gate halves
  // overwritten, up halves kept); 5 rows of 333 at an odd offset, of 332 (whole vec4s: swiglu_cpu.comp on CPU
  // implementations) at a whole-vec4 offset and at an odd one, and those with the GPU kernel.
  void swiglu_strided_data() {
    QTest::addColumn<uint32_t>("ncols");
    QTest::addColumn<uint32_t>("off");
    QTest::addColumn<bool>("gpu_kernel");
    QTest::newRow("333 columns at 3") << 333u << 3u << false;
    QTest::newRow("332 columns at 4 (vec4s)") << 332u << 4u << false;
    QTest::newRow("332 columns at 2") << 332u << 2u << false;
    QTest::newRow("332 columns at 4, GPU kernel") << 332u << 4u << true;
  }
  void swiglu_strided() {
    QFETCH(uint32_t, ncols);
    QFETCH(uint32_t, off);
    QFETCH(bool, gpu_kernel);
    const uint32_t rows = 5, stride = 2 * ncols;
    const auto gu = random_floats(off + rows * stride, 44, 3.0f);
    auto b = make_buffer(*gpu.device, gu);
    Ops& o = gpu_kernel ? *ops_small_gpu : *ops;
    run([&](Recorder& r) {
      VKT_OK(o.swiglu(r, view(*b, off), view(*b, off + ncols), view(*b, off), rows * ncols, ncols, stride));
    });
    const auto got = read_back<float>(*b, gu.size());
    std::vector<float> want = gu;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < ncols; ++c) {
        const size_t g = off + r * stride + c;
        want[g] = float(gu[g] / (1.0 + std::exp(-double(gu[g]))) * gu[g + ncols]);
      }
    const double e = nmse(got, want);
    QVERIFY2(e < 1e-11, fmt::format("nmse {:.3g}", e).c_str());
    for (uint32_t r = 0; r < rows; ++r)  // the up halves and the offset are untouched
      for (uint32_t c = 0; c < ncols; ++c) QCOMPARE(got[off + r * stride + ncols + c], gu[off + r * stride + ncols + c]);
    for (uint32_t i = 0; i < off; ++i) QCOMPARE(got[i], gu[i]);
  }

  // Which kernels the small ops take: on a CPU implementation the CPU ones (texels) where the operands are
  // whole vec4s at whole-vec4 offsets, else (and with Options::small_cpu off) the GPU ones, so that the
  // rows above test what they say. Read from the recorder's per-dispatch shader names.
  void small_ops_kernels() {
    if (!gpu.device->info().is_cpu()) QSKIP("a GPU: the small ops' CPU kernels are for CPU implementations only");
    if (!gpu.device->subgroup_ops()) QSKIP("no subgroup arithmetic: decode attention takes the per-head kernel");
    if (gpu.device->timestamp_bits() == 0) QSKIP("this device cannot time dispatches: no shader names recorded");
    auto xb = make_buffer(*gpu.device, random_floats(2000, 81));
    auto kc = make_buffer(*gpu.device, nullptr, 64 * 256 * 2), vc = make_buffer(*gpu.device, nullptr, 64 * 256 * 2);
    auto ob = make_buffer(*gpu.device, nullptr, 1536 * 4), pb = make_buffer(*gpu.device, std::vector<int32_t>{5});
    const View w = view(*xb, 400);
    const Ops::AttnParams ap{.head_dim = 128, .n_head = 12, .n_head_kv = 2, .scores_stride = 64};
    for (Ops* o : {ops.get(), ops_small_gpu.get()}) {
      auto rec = Recorder::create(*gpu.device);
      VKT_OK(rec);
      Recorder& r = **rec;
      VKT_OK(r.enable_timestamps());
      VKT_OK(r.begin());
      VKT_OK(o->rms_norm(r, view(*xb, 4), view(*ob), &w, 300, 2, 1e-6f));
      VKT_OK(o->rms_norm(r, view(*xb, 2), view(*ob), &w, 300, 2, 1e-6f));
      VKT_OK(o->swiglu(r, view(*xb, 8), view(*xb, 1000), view(*ob), 1000));
      VKT_OK(o->swiglu(r, view(*xb, 8), view(*xb, 1000), view(*ob), 999));
      VKT_OK(o->attn_decode(r, view(*xb, 0), view(*kc), view(*vc), view(*ob), view(*ob), view(*pb), ap));
      VKT_OK(r.end());
      VKT_OK(r.submit_and_wait());
      std::vector<std::string> names;
      for (const auto& t : r.take_times()) names.push_back(t.shader);
      const bool cpu = o == ops.get();
      const std::vector<std::string> want = {cpu ? "rms_norm_cpu" : "rms_norm", "rms_norm", cpu ? "swiglu_cpu" : "swiglu",
                                             "swiglu", cpu ? "attn_decode_gqa_tex" : "attn_decode_gqa"};
      const std::string got_s = fmt::format("{}", fmt::join(names, " ")), want_s = fmt::format("{}", fmt::join(want, " "));
      QVERIFY2(got_s == want_s, fmt::format("kernels: {}; expected: {}", got_s, want_s).c_str());
    }
  }

  void soft_max() {
    const uint32_t ncols = 203, nrows = 3;
    const float scale = 0.125f;
    auto x = random_floats(ncols * nrows, 51, 20.0f);
    x[5] = 400.0f;  // a large logit: the max subtraction keeps exp finite
    auto xb = make_buffer(*gpu.device, x);
    run([&](Recorder& r) { VKT_OK(ops_fallback->soft_max(r, view(*xb), ncols, nrows, scale)); });
    std::vector<float> want(x.size());
    for (uint32_t r = 0; r < nrows; ++r) {
      double m = -1e300, s = 0;
      for (uint32_t c = 0; c < ncols; ++c) m = std::max(m, double(x[r * ncols + c]) * scale);
      for (uint32_t c = 0; c < ncols; ++c) s += std::exp(double(x[r * ncols + c]) * scale - m);
      for (uint32_t c = 0; c < ncols; ++c) want[r * ncols + c] = float(std::exp(double(x[r * ncols + c]) * scale - m) / s);
    }
    const double err = nmse(read_back<float>(*xb, x.size()), want);
    QVERIFY2(err < 1e-11, fmt::format("nmse {:.3g}", err).c_str());
  }

  // KV store (f16) then attention for the newest token, GQA with 2 query heads per KV head.
  void kv_store_and_attention_decode_data() {
    QTest::addColumn<uint32_t>("n_kv");
    QTest::addColumn<bool>("subgroups");
    QTest::newRow("1 position") << 1u << true;
    QTest::newRow("77 positions") << 77u << true;
    QTest::newRow("77 positions, shared") << 77u << false;
  }
  void kv_store_and_attention_decode() {
    QFETCH(uint32_t, n_kv);
    QFETCH(bool, subgroups);
    const uint32_t head_dim = 40, n_head = 6, n_head_kv = 3, n_ctx = 96, kv_dim = n_head_kv * head_dim;
    const auto q = random_floats(n_head * head_dim, 61);
    const auto k_all = random_floats(n_kv * kv_dim, 62), v_all = random_floats(n_kv * kv_dim, 63);
    // Every position is stored through kv_store (n_kv tokens at positions 0..n_kv-1), then attention reads
    // positions 0..n_kv-1 (the last position given in its own buffer entry).
    std::vector<int32_t> pos(n_kv + 1);
    for (uint32_t i = 0; i < n_kv; ++i) pos[i] = int32_t(i);
    pos[n_kv] = int32_t(n_kv - 1);
    auto qb = make_buffer(*gpu.device, q), kb = make_buffer(*gpu.device, k_all), vb = make_buffer(*gpu.device, v_all);
    auto pb = make_buffer(*gpu.device, pos);
    auto kc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2 + 64), vc = make_buffer(*gpu.device, nullptr, n_ctx * kv_dim * 2 + 64);
    auto ob = make_buffer(*gpu.device, nullptr, n_head * head_dim * 4);
    auto sb = make_buffer(*gpu.device, nullptr, n_head * n_ctx * 4);
    Ops& o = subgroups ? *ops : *ops_fallback;
    run([&](Recorder& r) {
      VKT_OK(o.kv_store(r, view(*kb), view(*kc, 8), view(*pb), kv_dim, n_kv, kv_dim));
      VKT_OK(o.kv_store(r, view(*vb), view(*vc, 8), view(*pb), kv_dim, n_kv, kv_dim));
      VKT_OK(o.attn_decode(r, view(*qb), view(*kc, 8), view(*vc, 8), view(*ob), view(*sb), view(*pb, n_kv),
                           {.head_dim = head_dim, .n_head = n_head, .n_head_kv = n_head_kv, .scores_stride = n_ctx}));
    });
    // The cache holds exactly the f16 rounding of K.
    const auto cached = read_back<uint16_t>(*kc, n_kv * kv_dim, 16);
    for (uint32_t i = 0; i < n_kv * kv_dim; ++i) QCOMPARE(cached[i], quant::f32_to_f16(k_all[i]));
    const std::vector<float> want = decode_reference(q, k_all, v_all, n_kv, head_dim, n_head, n_head_kv);
    const double err = nmse(read_back<float>(*ob, want.size()), want);
    QVERIFY2(err < 1e-10, fmt::format("nmse {:.3g}", err).c_str());
  }
};

QTEST_GUILESS_MAIN(TestVulkanOps)
#include "test_vulkan_ops.moc"
