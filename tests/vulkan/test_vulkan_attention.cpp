// Decode attention on the Vulkan device against a double-precision reference over the f16 cache: the
// grouped kernel (attn_decode_gqa.comp: the query heads of a KV head in one workgroup, online softmax) in
// one pass and split over ranges of positions (+ attn_reduce.comp), in each of its shapes (heads per
// workgroup, several subgroups per workgroup, words per load, block length), and the per-head kernel it
// falls back to. Positions 0, odd counts, a long context (1000) and partial blocks; GQA 1, 2, 6; head_dim
// 40 (words per lane not a multiple of the load width), 64 and 128; operands at offsets. Prompt attention
// (several queries, causal) by the grouped kernel per query and by the tiled attn_prefill.comp. The decode
// step's rope_kv inside the grouped kernel (Ops::attn_decode_rope) against the two dispatches.
#include <QtTest>

#include <cmath>

#include "inference/quant/quant.h"
#include "tests/vulkan/attn_reference.h"
#include "tests/vulkan/vk_fixture.h"
#include "tests/vulkan/weights_fixture.h"

using namespace vkt;

namespace {

std::vector<uint16_t> to_f16(const std::vector<float>& x) {
  std::vector<uint16_t> h(x.size());
  for (size_t i = 0; i < x.size(); ++i) h[i] = quant::f32_to_f16(x[i]);
  return h;
}

// The grouped variants but the default and the loads-first ones load each position's rows under its own
// branch (Options::attn_loads_first 1: the GPUs' default); the default loads a block's first on CPU
// implementations.
enum Variant : int {
  kDefault,     // the device's choice: grouped, all heads of a KV head per workgroup, one subgroup on lavapipe
  kHeads2,      // grouped, 2 query heads per workgroup
  kTwoGroups,   // grouped, 2 subgroups per workgroup (combined through shared memory), blocks of 3 positions
  kWords1,      // grouped, one 32-bit word per load
  kPerHead,     // the per-head kernel (attn_decode.comp / attn_decode_split.comp)
  kPerHead8,    // the per-head kernel with 8 invocations per position in its score phase (its GPU default)
  kStorage,     // grouped, the caches read as storage buffers where a CPU implementation reads texels
                // (Options::small_cpu off: the GPU path on lavapipe)
  // Grouped with a block's K and V rows loaded before any is used (Options::attn_loads_first; positions past
  // the walk read its last one and weigh 0):
  kLoadsFirst,         // 2 query heads per workgroup (the GPU default's shape), blocks of 8
  kLoadsFirstTwo,      // 2 subgroups per workgroup, blocks of 3
  kLoadsFirstStorage,  // the caches as storage buffers (lavapipe's texels off), 1 word per load
  kVariants
};
const char* const kVariantNames[] = {"default", "2 heads per workgroup", "2 subgroups, blocks of 3", "1 word per load",
                                     "per head", "per head, 8 lanes", "storage buffers", "loads first, 2 heads",
                                     "loads first, 2 subgroups, blocks of 3", "loads first, storage, 1 word"};

}  // namespace

class TestVulkanAttention : public QObject {
  Q_OBJECT
  Gpu gpu;
  std::unique_ptr<Ops> ops[kVariants];

 private slots:
  void initTestCase() {
    VKT_OPEN(gpu);
    const uint32_t sg = std::max(1u, gpu.device->subgroups().size);
    const Ops::Options opts[kVariants] = {
        {}, {.attn_heads = 2, .attn_loads_first = 1}, {.attn_wg = 2 * sg, .attn_block = 3, .attn_loads_first = 1},
        {.attn_vec = 1, .attn_loads_first = 1}, {.attn_kernel = 1}, {.attn_lanes = 8, .attn_kernel = 1},
        {.attn_loads_first = 1, .small_cpu = false},
        {.attn_heads = 2, .attn_loads_first = 2},
        {.attn_wg = 2 * sg, .attn_block = 3, .attn_loads_first = 2},
        {.attn_vec = 1, .attn_loads_first = 2, .small_cpu = false}};
    for (int i = 0; i < kVariants; ++i) {
      auto o = Ops::create(*gpu.device, opts[i]);
      VKT_OK(o);
      ops[i] = std::move(*o);
    }
  }
  void cleanup() { QVERIFY2(gpu.clean(), "the validation layer reported errors"); }

  // The grouped kernel must run where the device has subgroup arithmetic (lavapipe has): otherwise every
  // row below would test the per-head fall-back only.
  void grouped_kernel_is_chosen() {
    if (!gpu.device->subgroup_ops()) QSKIP("this device has no subgroup arithmetic: the per-head kernel runs");
    const Ops::AttnParams ap{.head_dim = 128, .n_head = 12, .n_head_kv = 2, .scores_stride = 64};
    const Ops::AttnShape s = ops[kDefault]->attn_shape(ap);
    QVERIFY(s.ok);
    // Query heads per workgroup (Ops::attn_shape): the whole group of 6 on CPU implementations, 2 on GPUs
    // (the H200 run of 2026-11-30; this expectation held only on lavapipe before); a group of 7 (28 heads
    // over 4, as R1-Distill-Qwen-7B) takes 1 there.
    const bool cpu = gpu.device->info().is_cpu();
    QCOMPARE(s.heads, cpu ? 6u : 2u);
    QCOMPARE(ops[kDefault]->attn_shape({.head_dim = 128, .n_head = 28, .n_head_kv = 4, .scores_stride = 64}).heads,
             cpu ? 7u : 1u);
    QVERIFY(!ops[kPerHead]->attn_shape(ap).ok);
    QCOMPARE(ops[kHeads2]->attn_shape(ap).heads, 2u);
    // A block's loads first: by default on CPU implementations only (GPUs: until a GPU run measures it).
    QCOMPARE(s.loads_first, cpu);
    QVERIFY(!ops[kHeads2]->attn_shape(ap).loads_first && ops[kLoadsFirst]->attn_shape(ap).loads_first);
    QVERIFY(!ops[kDefault]->attn_shape({.head_dim = 41, .n_head = 2, .n_head_kv = 1}).ok);  // odd head_dim
  }

  void decode_data() {
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("head_dim");
    QTest::addColumn<uint32_t>("n_head");
    QTest::addColumn<uint32_t>("n_head_kv");
    QTest::addColumn<uint32_t>("n_kv");
    QTest::addColumn<uint32_t>("n_split");    // 1: one pass
    QTest::addColumn<uint32_t>("min_chunk");
    QTest::addColumn<uint32_t>("offset");     // of q, K, V and out, in elements
    struct Row {
      Variant v;
      uint32_t d, h, hkv, n_kv, split, chunk, off;
    };
    const Row rows[] = {
        // The 1.5B head shape: position 0, a long context, split into ranges (the last one partial).
        {kDefault, 128, 12, 2, 1, 1, 1, 0},
        {kDefault, 128, 12, 2, 1000, 1, 1, 0},
        {kDefault, 128, 12, 2, 1000, 6, 64, 0},
        {kDefault, 128, 12, 2, 77, 16, 64, 0},  // 2 of 16 ranges used
        {kPerHead, 128, 12, 2, 1000, 1, 1, 0},
        {kPerHead, 128, 12, 2, 301, 4, 16, 0},
        {kPerHead8, 128, 12, 2, 301, 1, 1, 0},
        {kPerHead8, 64, 4, 2, 77, 4, 8, 0},
        // GQA 2 and 1, head_dim 64, odd counts.
        {kDefault, 64, 4, 2, 77, 1, 1, 0},
        {kDefault, 64, 2, 2, 300, 4, 16, 0},
        {kDefault, 64, 4, 2, 2, 3, 1, 0},
        // Heads per workgroup, two subgroups, words per load.
        {kHeads2, 64, 12, 2, 150, 1, 1, 0},
        {kHeads2, 64, 12, 2, 150, 5, 8, 0},
        {kTwoGroups, 64, 4, 2, 133, 1, 1, 0},
        {kTwoGroups, 128, 12, 2, 41, 3, 4, 0},
        {kTwoGroups, 64, 4, 2, 1, 1, 1, 0},  // the second subgroup has no block
        {kWords1, 128, 6, 1, 45, 1, 1, 0},
        // head_dim 40: 20 words over the subgroup's lanes (lavapipe: 3 per lane, the last lanes own fewer).
        {kDefault, 40, 6, 3, 77, 1, 1, 0},
        {kDefault, 40, 6, 3, 77, 7, 1, 0},
        // Offsets: 2 elements (one word: loads of 1 word), 8 (4 words: loads of 4), 1 (odd: the per-head kernel).
        {kDefault, 64, 6, 1, 33, 1, 1, 2},
        {kDefault, 64, 6, 1, 33, 1, 1, 8},
        {kDefault, 64, 6, 1, 33, 1, 1, 1},
        // The default rows whose loads are whole texels read them as texels on CPU implementations; these
        // read the same from storage buffers.
        {kStorage, 128, 12, 2, 1000, 1, 1, 0},
        {kStorage, 128, 12, 2, 77, 16, 64, 0},
        {kStorage, 64, 6, 1, 33, 1, 1, 8},
        // Loads first: position 0, a partial last block (77 = 9 x 8 + 5), ranges (some empty), 2 subgroups
        // with blocks of 3 (the second subgroup's last block partial or absent), 20 words over the lanes.
        {kLoadsFirst, 128, 12, 2, 1, 1, 1, 0},
        {kLoadsFirst, 128, 12, 2, 77, 1, 1, 0},
        {kLoadsFirst, 128, 12, 2, 1000, 6, 64, 0},
        {kLoadsFirst, 64, 4, 2, 77, 16, 64, 0},
        {kLoadsFirstTwo, 64, 4, 2, 133, 1, 1, 0},
        {kLoadsFirstTwo, 128, 12, 2, 41, 3, 4, 0},
        {kLoadsFirstTwo, 64, 4, 2, 1, 1, 1, 0},
        {kLoadsFirstStorage, 40, 6, 3, 77, 7, 1, 0},
        {kLoadsFirstStorage, 64, 6, 1, 33, 1, 1, 2},
    };
    for (const Row& r : rows)
      QTest::newRow(fmt::format("{}: head_dim {}, {}/{} heads, {} positions, {} range(s) of >= {}, offset {}",
                                kVariantNames[r.v], r.d, r.h, r.hkv, r.n_kv, r.split, r.chunk, r.off)
                        .c_str())
          << int(r.v) << r.d << r.h << r.hkv << r.n_kv << r.split << r.chunk << r.off;
  }
  void decode() {
    QFETCH(int, variant);
    QFETCH(uint32_t, head_dim);
    QFETCH(uint32_t, n_head);
    QFETCH(uint32_t, n_head_kv);
    QFETCH(uint32_t, n_kv);
    QFETCH(uint32_t, n_split);
    QFETCH(uint32_t, min_chunk);
    QFETCH(uint32_t, offset);
    const uint32_t kv_dim = n_head_kv * head_dim, n_ctx = n_kv + 5;
    const auto q = random_floats(n_head * head_dim, 91 + n_kv, 2.0f);
    const auto k = random_floats(n_kv * kv_dim, 92 + n_kv), v = random_floats(n_kv * kv_dim, 93 + n_kv);
    // Each operand starts `offset` elements into its buffer (what is before it is garbage).
    std::vector<float> qpad(offset, 7.0f);
    qpad.insert(qpad.end(), q.begin(), q.end());
    std::vector<uint16_t> kc(offset, 0x7bff), vc(offset, 0x7bff);  // 65504: a wrong read would show
    for (uint16_t x : to_f16(k)) kc.push_back(x);
    for (uint16_t x : to_f16(v)) vc.push_back(x);
    kc.resize(offset + size_t(n_ctx) * kv_dim, 0x7bff);
    vc.resize(offset + size_t(n_ctx) * kv_dim, 0x7bff);
    const std::vector<int32_t> pos = {0, int32_t(n_kv - 1)};
    auto qb = make_buffer(*gpu.device, qpad), kb = make_buffer(*gpu.device, kc), vb = make_buffer(*gpu.device, vc);
    auto pb = make_buffer(*gpu.device, pos);
    auto ob = make_buffer(*gpu.device, nullptr, (offset + n_head * head_dim) * 4);
    auto sb = make_buffer(*gpu.device, nullptr, n_head * n_ctx * 4);
    const Ops::AttnParams ap{.head_dim = head_dim, .n_head = n_head, .n_head_kv = n_head_kv, .scores_stride = n_ctx};
    auto partials = make_buffer(*gpu.device, nullptr, Ops::attn_split_floats(ap, n_split) * 4);
    Ops& o = *ops[variant];
    run_recorded(*gpu.device, [&](Recorder& r) {
      if (n_split == 1)
        VKT_OK(o.attn_decode(r, view(*qb, offset), view(*kb, offset), view(*vb, offset), view(*ob, offset), view(*sb),
                             view(*pb, 1), ap));
      else
        VKT_OK(o.attn_decode_split(r, view(*qb, offset), view(*kb, offset), view(*vb, offset), view(*ob, offset),
                                   view(*sb), view(*partials), view(*pb, 1), ap, n_split, min_chunk));
    });
    const auto want = decode_reference(q, k, v, n_kv, head_dim, n_head, n_head_kv);
    const double err = nmse(read_back<float>(*ob, want.size(), uint64_t(offset) * 4), want);
    QVERIFY2(err < 1e-10, fmt::format("nmse {:.3g}", err).c_str());
  }

  // rope_kv folded into the grouped decode attention (Ops::attn_decode_rope) against rope_kv + the attention
  // as separate dispatches: the caches whole (the new position's k and v bit for bit, the rest untouched)
  // and the output (the same sums: bit for bit on lavapipe, except where rope_kv's workgroup is wider than
  // the attention's (Options::small_cpu off: 64 against 8 invocations) and sums qwen3's q norm in another
  // order: 3e-14), and against the CPU (RoPE in double; 1e-6: f32
  // angles of a few hundred radians differ from the double ones by ~1e-5 relative). NeoX and normal
  // rotation, partial rotation, freq factors, qwen3's norms; position 0 and a cache behind the new position;
  // one pass and split ranges (the new position in the last); texel and storage caches; several query-head
  // blocks per KV head (one writer) and several subgroups per workgroup (subgroup 0 adds the new position).
  void decode_rope_data() {
    QTest::addColumn<int>("variant");
    QTest::addColumn<uint32_t>("head_dim");
    QTest::addColumn<uint32_t>("n_head");
    QTest::addColumn<uint32_t>("n_head_kv");
    QTest::addColumn<uint32_t>("pos");        // the new token's position: pos cached positions behind it
    QTest::addColumn<uint32_t>("n_split");
    QTest::addColumn<uint32_t>("min_chunk");
    QTest::addColumn<uint32_t>("n_dims");
    QTest::addColumn<bool>("neox");
    QTest::addColumn<bool>("norm");
    QTest::addColumn<bool>("ff");
    struct Row {
      Variant v;
      uint32_t d, h, hkv, pos, split, chunk, n_dims;
      bool neox, norm, ff;
    };
    const Row rows[] = {
        {kDefault, 128, 12, 2, 0, 1, 1, 128, true, false, false},    // empty cache
        {kDefault, 128, 12, 2, 300, 1, 1, 128, true, true, true},
        {kDefault, 128, 12, 2, 300, 4, 16, 128, true, true, false},  // 4 ranges of 76, the last 72
        {kDefault, 128, 12, 2, 77, 16, 64, 128, true, false, false}, // 2 of 16 ranges used
        {kDefault, 64, 4, 2, 37, 1, 1, 32, false, false, true},      // normal rotation, half the dims
        {kDefault, 64, 4, 2, 37, 4, 8, 48, false, true, false},
        {kDefault, 64, 4, 2, 0, 3, 1, 64, false, true, true},        // ranges 1, 2 empty
        {kDefault, 40, 6, 3, 20, 1, 1, 24, true, true, false},       // 20 words: the last lanes own fewer, 1 a load
        {kStorage, 128, 12, 2, 300, 1, 1, 128, true, true, false},
        {kHeads2, 64, 12, 2, 50, 1, 1, 64, true, true, false},       // 3 workgroups per KV head, one writes
        {kHeads2, 64, 12, 2, 50, 3, 4, 64, false, false, false},
        {kTwoGroups, 64, 4, 2, 40, 1, 1, 64, true, true, true},
        {kTwoGroups, 64, 4, 2, 0, 3, 4, 64, true, false, false},
        {kLoadsFirst, 128, 12, 2, 0, 1, 1, 128, true, false, false},    // empty cache
        {kLoadsFirst, 128, 12, 2, 300, 4, 16, 128, true, true, false},  // the new position in the last block
        {kLoadsFirst, 64, 4, 2, 37, 4, 8, 48, false, true, true},
        {kLoadsFirstTwo, 64, 4, 2, 40, 1, 1, 64, true, true, true},
        {kLoadsFirstTwo, 64, 4, 2, 8, 3, 4, 64, true, false, false},
        {kLoadsFirstStorage, 40, 6, 3, 20, 1, 1, 24, true, true, false},
    };
    for (const Row& r : rows)
      QTest::newRow(fmt::format("{}: head_dim {}, {}/{} heads, position {}, {} range(s) of >= {}, {} of {} dims, {}{}{}",
                                kVariantNames[r.v], r.d, r.h, r.hkv, r.pos, r.split, r.chunk, r.n_dims,
                                r.d, r.neox ? "neox" : "normal", r.norm ? ", norms" : "", r.ff ? ", freq factors" : "")
                        .c_str())
          << int(r.v) << r.d << r.h << r.hkv << r.pos << r.split << r.chunk << r.n_dims << r.neox << r.norm << r.ff;
  }
  void decode_rope() {
    QFETCH(int, variant);
    QFETCH(uint32_t, head_dim);
    QFETCH(uint32_t, n_head);
    QFETCH(uint32_t, n_head_kv);
    QFETCH(uint32_t, pos);
    QFETCH(uint32_t, n_split);
    QFETCH(uint32_t, min_chunk);
    QFETCH(uint32_t, n_dims);
    QFETCH(bool, neox);
    QFETCH(bool, norm);
    QFETCH(bool, ff);
    if (!gpu.device->subgroup_ops()) QSKIP("this device has no subgroup arithmetic: the rope_kv dispatch stays");
    const uint32_t D = head_dim, H = n_head, Hkv = n_head_kv, kv_dim = Hkv * D, n_ctx = pos + 6;
    const float eps = 1e-6f, freq_base = 10000.0f;
    Ops& o = *ops[variant];
    const Ops::AttnParams ap{.head_dim = D, .n_head = H, .n_head_kv = Hkv, .scores_stride = n_ctx};
    QVERIFY(o.attn_rope_fuses(ap));
    QVERIFY(!ops[kPerHead]->attn_rope_fuses(ap));
    // The new token's q|k|v; the norms' weights in one buffer (k's after q's); the cached positions.
    const auto x = random_floats((H + 2 * Hkv) * D, 11 + pos + D, 2.0f);
    auto norms = random_floats(2 * D, 12 + D);
    for (float& w : norms) w = 1.0f + 0.25f * w;
    std::vector<float> factors(n_dims / 2);
    for (uint32_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + float(i % 7) * 0.5f;
    const auto k_old = random_floats(size_t(pos) * kv_dim, 13 + pos), v_old = random_floats(size_t(pos) * kv_dim, 14 + pos);
    std::vector<uint16_t> kc = to_f16(k_old), vc = to_f16(v_old);
    kc.resize(size_t(n_ctx) * kv_dim, 0x7bff);  // the new position and past it: 65504, which a wrong read shows
    vc.resize(kc.size(), 0x7bff);
    const std::vector<int32_t> positions = {5, int32_t(pos)};
    auto pb = make_buffer(*gpu.device, positions), nb = make_buffer(*gpu.device, norms);
    auto fb = make_buffer(*gpu.device, factors);
    const View qn = view(*nb), kn = view(*nb, D), fv = view(*fb);
    Ops::RopeParams rp{.head_dim = D, .n_dims = n_dims, .n_head = H, .n_tokens = 1, .freq_base = freq_base,
                       .neox = neox, .n_head_kv = Hkv};
    // Separate (a) and fused (b), each on its own copies.
    struct Run {
      std::unique_ptr<Buffer> x, k, v, out, scores, partials;
    } a, b;
    for (Run* r : {&a, &b}) {
      r->x = make_buffer(*gpu.device, x);
      r->k = make_buffer(*gpu.device, kc);
      r->v = make_buffer(*gpu.device, vc);
      r->out = make_buffer(*gpu.device, nullptr, H * D * 4);
      r->scores = make_buffer(*gpu.device, nullptr, H * n_ctx * 4);
      r->partials = make_buffer(*gpu.device, nullptr, Ops::attn_split_floats(ap, n_split) * 4);
    }
    const View* qnp = norm ? &qn : nullptr;
    const View* knp = norm ? &kn : nullptr;
    const View* ffp = ff ? &fv : nullptr;
    run_recorded(*gpu.device, [&](Recorder& r) {
      VKT_OK(o.rope_kv(r, view(*a.x), view(*a.x, H * D), view(*a.x, (H + Hkv) * D), qnp, knp, eps, ffp, view(*pb, 1),
                       view(*a.k), view(*a.v), rp));
      if (n_split == 1)
        VKT_OK(o.attn_decode(r, view(*a.x), view(*a.k), view(*a.v), view(*a.out), view(*a.scores), view(*pb, 1), ap));
      else
        VKT_OK(o.attn_decode_split(r, view(*a.x), view(*a.k), view(*a.v), view(*a.out), view(*a.scores),
                                   view(*a.partials), view(*pb, 1), ap, n_split, min_chunk));
    });
    run_recorded(*gpu.device, [&](Recorder& r) {
      VKT_OK(o.attn_decode_rope(r, view(*b.x), view(*b.x, H * D), view(*b.x, (H + Hkv) * D), qnp, knp, eps, ffp,
                                view(*pb, 1), view(*b.k), view(*b.v), view(*b.out), view(*b.partials), ap, rp, n_split,
                                min_chunk));
    });
    const size_t cache_n = size_t(n_ctx) * kv_dim;
    const auto ka = read_back<uint16_t>(*a.k, cache_n), kb = read_back<uint16_t>(*b.k, cache_n);
    const auto va = read_back<uint16_t>(*a.v, cache_n), vb = read_back<uint16_t>(*b.v, cache_n);
    // Bit for bit, but for K under qwen3's norm, whose sum of squares the two kernels add in another order:
    // one f16 step apart there at most (the H200 run of 2026-11-29: 1 of the head_dim 40 row's values).
    size_t k_diff = 0, k_far = 0, v_diff = 0;
    for (size_t i = 0; i < cache_n; ++i) {
      k_diff += ka[i] != kb[i];
      k_far += std::abs(int(ka[i]) - int(kb[i])) > 1 || ((ka[i] ^ kb[i]) & 0x8000) != 0;  // same sign, adjacent
      v_diff += va[i] != vb[i];
    }
    QVERIFY2((norm ? k_far == 0 && k_diff <= 4 : k_diff == 0) && v_diff == 0,
             fmt::format("{} K ({} more than one f16 step) and {} V cache values differ from rope_kv's", k_diff,
                         k_far, v_diff).c_str());
    QVERIFY(kb[size_t(pos) * kv_dim] != 0x7bff);  // written at all
    const auto out_a = read_back<float>(*a.out, H * D), out_b = read_back<float>(*b.out, H * D);
    const double err = nmse(out_b, out_a);
    // (A K value one f16 step apart moves the new position's scores by ~1e-3 relative.)
    QVERIFY2(err < (k_diff ? 1e-6 : 1e-12), fmt::format("nmse {:.3g} against rope_kv + attention", err).c_str());
    // The CPU: rope_kv's arithmetic in double, then the decode reference over the f16-rounded cache.
    auto rope_row = [&](const float* in, float* out_row, const float* w) {
      double scale = 1;
      if (norm) {
        double ss = 0;
        for (uint32_t i = 0; i < D; ++i) ss += double(in[i]) * in[i];
        scale = 1 / std::sqrt(ss / D + eps);
      }
      std::vector<double> a(D);
      for (uint32_t i = 0; i < D; ++i) a[i] = in[i] * scale * (norm ? w[i] : 1.0);
      for (uint32_t i = 0; i < D; ++i) out_row[i] = float(a[i]);
      for (uint32_t i = 0; i < n_dims / 2; ++i) {
        double theta = pos * std::pow(double(freq_base), -2.0 * i / n_dims);
        if (ff) theta /= factors[i];
        const uint32_t j0 = neox ? i : 2 * i, j1 = neox ? i + n_dims / 2 : 2 * i + 1;
        out_row[j0] = float(a[j0] * std::cos(theta) - a[j1] * std::sin(theta));
        out_row[j1] = float(a[j0] * std::sin(theta) + a[j1] * std::cos(theta));
      }
    };
    std::vector<float> q_rot(H * D), k_all(k_old), v_all(v_old);
    for (uint32_t h = 0; h < H; ++h) rope_row(&x[h * D], &q_rot[h * D], norms.data());
    k_all.resize(size_t(pos + 1) * kv_dim);
    v_all.insert(v_all.end(), x.begin() + (H + Hkv) * D, x.end());
    for (uint32_t h = 0; h < Hkv; ++h) rope_row(&x[(H + h) * D], &k_all[size_t(pos) * kv_dim + h * D], norms.data() + D);
    const auto want = decode_reference(q_rot, k_all, v_all, pos + 1, D, H, Hkv);
    const double err_cpu = nmse(out_b, want);
    QVERIFY2(err_cpu < 1e-6, fmt::format("nmse {:.3g} against the CPU", err_cpu).c_str());
  }

  // Prompt attention (Ops::attn_prefill): n_tokens queries at positions n_past..n_past+n_tokens-1 over a
  // cache holding all of them (causal: query i sees 0..n_past+i), by the grouped kernel once per query and
  // by the tiled attn_prefill.comp, against the decode reference per query.
  void prefill_data() {
    QTest::addColumn<int>("kernel");  // Ops::Options::attn_prefill: 1 tiled, 2 grouped
    QTest::addColumn<bool>("two_groups");
    QTest::addColumn<uint32_t>("head_dim");
    QTest::addColumn<uint32_t>("n_head");
    QTest::addColumn<uint32_t>("n_head_kv");
    QTest::addColumn<uint32_t>("n_past");
    QTest::addColumn<uint32_t>("n_tokens");
    struct Row {
      int kernel;
      bool two;
      uint32_t d, h, hkv, past, n;
    };
    const Row rows[] = {
        {2, false, 128, 12, 2, 0, 7},  {2, false, 128, 12, 2, 40, 9}, {2, true, 64, 4, 2, 13, 21},
        {2, false, 64, 2, 2, 0, 1},    {2, false, 40, 6, 3, 5, 11},  {1, false, 128, 12, 2, 40, 9},
        {1, false, 64, 4, 2, 13, 21},
    };
    for (const Row& r : rows)
      QTest::newRow(fmt::format("{}{}: head_dim {}, {}/{} heads, {} cached + {} queries", r.kernel == 2 ? "grouped" : "tiled",
                                r.two ? " (2 subgroups)" : "", r.d, r.h, r.hkv, r.past, r.n)
                        .c_str())
          << r.kernel << r.two << r.d << r.h << r.hkv << r.past << r.n;
  }
  void prefill() {
    QFETCH(int, kernel);
    QFETCH(bool, two_groups);
    QFETCH(uint32_t, head_dim);
    QFETCH(uint32_t, n_head);
    QFETCH(uint32_t, n_head_kv);
    QFETCH(uint32_t, n_past);
    QFETCH(uint32_t, n_tokens);
    const uint32_t kv_dim = n_head_kv * head_dim, q_dim = n_head * head_dim, n_kv = n_past + n_tokens;
    const auto q = random_floats(n_tokens * q_dim, 71 + n_kv, 2.0f);
    const auto k = random_floats(n_kv * kv_dim, 72 + n_kv), v = random_floats(n_kv * kv_dim, 73 + n_kv);
    std::vector<int32_t> pos(n_tokens);
    for (uint32_t i = 0; i < n_tokens; ++i) pos[i] = int32_t(n_past + i);
    std::vector<uint16_t> kc = to_f16(k), vc = to_f16(v);
    kc.resize(size_t(n_kv + 4) * kv_dim, 0x7bff);  // past the newest query's position: never read
    vc.resize(kc.size(), 0x7bff);
    auto qb = make_buffer(*gpu.device, q), kb = make_buffer(*gpu.device, kc), vb = make_buffer(*gpu.device, vc);
    auto pb = make_buffer(*gpu.device, pos);
    auto ob = make_buffer(*gpu.device, nullptr, n_tokens * q_dim * 4);
    const uint32_t sg = std::max(1u, gpu.device->subgroups().size);
    Ops::Options opt{.attn_prefill = uint32_t(kernel)};
    if (two_groups) opt.attn_wg = 2 * sg;
    auto o = Ops::create(*gpu.device, opt);
    VKT_OK(o);
    const Ops::AttnParams ap{.head_dim = head_dim, .n_head = n_head, .n_head_kv = n_head_kv};
    if (kernel == 2 && gpu.device->subgroup_ops()) QVERIFY((*o)->attn_prefill_grouped(ap));
    if (kernel == 1) QVERIFY(!(*o)->attn_prefill_grouped(ap));
    run_recorded(*gpu.device, [&](Recorder& r) {
      VKT_OK((*o)->attn_prefill(r, view(*qb), view(*kb), view(*vb), view(*ob), view(*pb), n_tokens, ap));
    });
    std::vector<float> want;
    for (uint32_t i = 0; i < n_tokens; ++i) {
      const std::vector<float> qi(q.begin() + i * q_dim, q.begin() + (i + 1) * q_dim);
      const auto oi = decode_reference(qi, k, v, n_past + i + 1, head_dim, n_head, n_head_kv);
      want.insert(want.end(), oi.begin(), oi.end());
    }
    const double err = nmse(read_back<float>(*ob, want.size()), want);
    QVERIFY2(err < 1e-10, fmt::format("nmse {:.3g}", err).c_str());
  }
};

QTEST_GUILESS_MAIN(TestVulkanAttention)
#include "test_vulkan_attention.moc"
