// vk_ops_bench OP VARIANT... : the decode step's small ops alone, as the step records them (each dispatch
// waits behind a barrier for the one before), REPS dispatches per submission, each variant timed in turn
// (A B A B ...) in one process; prints the median microseconds per dispatch, wall and per CPU-second of the
// process (lavapipe's threads are ours: the load of other processes inflates it less).
// OP: rms_norm[:NCOLS] (one row, weighted, x -> y), swiglu[:N] (y = silu(g) * u, g and u the halves of one
// gate|up buffer as in the step), rope_kv[:POS] (12 q, 2 k, 2 v heads of 128: a 1.5B qwen2 layer),
// attn[:POS[:LAYERS]] (that layer's grouped attention over POS + 1 cached positions; with LAYERS, each dispatch
// reads the next of LAYERS caches in turn, as a step's layers do: 28 caches of 2000 positions are 115 MB, past
// the L3 that one cache stays in), mv:TYPE:NCOLS:NROWS (a matrix-vector
// product; stored interleaved where the options allow, as the loader does; at most one per run). OP+OP...:
// those in turn in every repetition (a small op after a product, as in the decode step); times are per
// repetition. attn_rope[:POS[:LAYERS]]: the attention with rope_kv's work inside it (Ops::attn_decode_rope),
// or rope_kv then the attention in the variants with ROPE_ATTN=0.
// TS=1: with a timestamp after every dispatch (as `bench --profile` records).
// A VARIANT is "-" (the defaults) or a comma list of cpu=0|1 (Options::small_cpu), rows=N
// (Options::mul_mv_rows), ops=N (only the first N ops of OP+OP... in each repetition: a product alone
// against the product and the op after it in one process) and NAME=VALUE (PENSER_VK_NAME
// set while the variant is made and recorded).
// Not a test: a measuring tool for docs/vulkan.md (it asserts nothing about speed).
#include <QtCore>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "inference/quant/quant.h"
#include "tests/vulkan/bench_util.h"
#include "tests/vulkan/vk_fixture.h"
#include "tests/vulkan/weights_fixture.h"

using namespace vkt;

namespace {

struct Variant {
  std::string name;
  Ops::Options options;
  std::unique_ptr<Ops> ops;
  std::unique_ptr<Recorder> rec;
  std::vector<double> us, cpu_us;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OP VARIANT... [REPS=n ROUNDS=n env]\n", argv[0]);
    return 2;
  }
  BenchDevice bench = open_bench_device();
  Device& d = *bench.device;
  const int reps = std::getenv("REPS") ? std::atoi(std::getenv("REPS")) : 64;

  // The 1.5B qwen2 shape.
  const uint32_t E = 1536, H = 12, Hkv = 2, D = 128;
  std::vector<std::unique_ptr<Buffer>> keep;
  auto buf = [&](const std::vector<float>& v) {
    keep.push_back(make_buffer(d, v));
    return keep.back().get();
  };
  auto zeros = [&](uint64_t bytes) {
    keep.push_back(make_buffer(d, nullptr, bytes));
    return keep.back().get();
  };
  // K and V caches of n_ctx positions (random f16), one pair per layer (a step reads each from DRAM).
  auto caches = [&](uint32_t n_ctx, uint32_t layers) {
    std::vector<uint16_t> cache(size_t(n_ctx) * Hkv * D);
    const auto c = random_floats(cache.size(), 6);
    for (size_t i = 0; i < cache.size(); ++i) cache[i] = quant::f32_to_f16(c[i]);
    std::pair<std::vector<Buffer*>, std::vector<Buffer*>> kv;
    for (uint32_t l = 0; l < layers; ++l) {
      keep.push_back(make_buffer(d, cache));
      kv.first.push_back(keep.back().get());
      keep.push_back(make_buffer(d, cache));
      kv.second.push_back(keep.back().get());
    }
    return kv;
  };
  std::vector<uint8_t> weights;
  Buffer* wbuf = nullptr;
  std::optional<InterleavedMatrix> wil;  // the matrix interleaved, made for the first Ops that reads that layout
  std::vector<std::function<Status(Ops&, Recorder&)>> records;
  for (const std::string& spec : split(argv[1], '+')) {
    const auto op = split(spec, ':');
    auto arg = [&](size_t i, uint32_t def) { return op.size() > i ? uint32_t(std::atoi(op[i].c_str())) : def; };
    std::function<Status(Ops&, Recorder&)> record;
    if (op[0] == "rms_norm") {
      const uint32_t n = arg(1, E);
      Buffer *x = buf(random_floats(n, 1, 3.0f)), *w = buf(random_floats(n, 2)), *y = zeros(n * 4);
      record = [=](Ops& o, Recorder& r) {
        const View wv = view(*w);
        return o.rms_norm(r, view(*x), view(*y), &wv, n, 1, 1e-6f);
      };
    } else if (op[0] == "swiglu") {
      const uint32_t n = arg(1, 8960);
      Buffer* gu = buf(random_floats(2 * n, 3, 3.0f));
      record = [=](Ops& o, Recorder& r) { return o.swiglu(r, view(*gu), view(*gu, n), view(*gu), n); };
    } else if (op[0] == "rope_kv") {
      const uint32_t pos = arg(1, 80), n_ctx = pos + 1;
      Buffer* x = buf(random_floats((H + 2 * Hkv) * D, 4));
      Buffer* p = zeros(16);
      must(p->write(0, &pos, 4));
      Buffer *kc = zeros(uint64_t(n_ctx) * Hkv * D * 2), *vc = zeros(uint64_t(n_ctx) * Hkv * D * 2);
      record = [=](Ops& o, Recorder& r) {
        return o.rope_kv(r, view(*x), view(*x, H * D), view(*x, (H + Hkv) * D), nullptr, nullptr, 1e-6f, nullptr,
                         view(*p), view(*kc), view(*vc),
                         {.head_dim = D, .n_dims = D, .n_head = H, .n_tokens = 1, .freq_base = 1e6f, .neox = true,
                          .n_head_kv = Hkv});
      };
    } else if (op[0] == "attn") {
      const uint32_t pos = arg(1, 80), n_ctx = pos + 1;
      Buffer* q = buf(random_floats(H * D, 5));
      Buffer* p = zeros(16);
      must(p->write(0, &pos, 4));
      const uint32_t layers = std::max(1u, arg(2, 1));
      const auto [kcs, vcs] = caches(n_ctx, layers);
      Buffer *out = zeros(H * D * 4), *scores = zeros(uint64_t(H) * n_ctx * 4);
      auto next = std::make_shared<uint32_t>(0);  // the layer the next recorded dispatch reads
      record = [=](Ops& o, Recorder& r) {
        const uint32_t l = (*next)++ % layers;
        return o.attn_decode(r, view(*q), view(*kcs[l]), view(*vcs[l]), view(*out), view(*scores), view(*p),
                             {.head_dim = D, .n_head = H, .n_head_kv = Hkv, .scores_stride = n_ctx});
      };
    } else if (op[0] == "attn_rope") {
      // The decode step's rope_kv + attention over POS + 1 positions: one fused dispatch, or rope_kv then the
      // attention with the variant ROPE_ATTN=0 (as the evaluator records them; a repetition is both).
      const uint32_t pos = arg(1, 80), n_ctx = pos + 1;
      Buffer* x = buf(random_floats((H + 2 * Hkv) * D, 4));
      Buffer* p = zeros(16);
      must(p->write(0, &pos, 4));
      const uint32_t layers = std::max(1u, arg(2, 1));
      const auto [kcs, vcs] = caches(n_ctx, layers);
      Buffer *out = zeros(H * D * 4), *scores = zeros(uint64_t(H) * n_ctx * 4);
      auto next = std::make_shared<uint32_t>(0);
      record = [=](Ops& o, Recorder& r) -> Status {
        const uint32_t l = (*next)++ % layers;
        const Ops::RopeParams rp{.head_dim = D, .n_dims = D, .n_head = H, .n_tokens = 1, .freq_base = 1e6f,
                                 .neox = true, .n_head_kv = Hkv};
        const Ops::AttnParams ap{.head_dim = D, .n_head = H, .n_head_kv = Hkv, .scores_stride = n_ctx};
        const char* e = std::getenv("PENSER_VK_ROPE_ATTN");
        if (e && *e == '0') {
          PENSER_TRY(o.rope_kv(r, view(*x), view(*x, H * D), view(*x, (H + Hkv) * D), nullptr, nullptr, 1e-6f,
                               nullptr, view(*p), view(*kcs[l]), view(*vcs[l]), rp));
          return o.attn_decode(r, view(*x), view(*kcs[l]), view(*vcs[l]), view(*out), view(*scores), view(*p), ap);
        }
        return o.attn_decode_rope(r, view(*x), view(*x, H * D), view(*x, (H + Hkv) * D), nullptr, nullptr, 1e-6f,
                                  nullptr, view(*p), view(*kcs[l]), view(*vcs[l]), view(*out), view(*out), ap, rp, 1, 1);
      };
    } else if (op[0] == "mv" && op.size() == 4 && !wbuf) {
      const auto type = quant::type_from_name(op[1]);
      if (!type) { std::fprintf(stderr, "unknown type %s\n", op[1].c_str()); return 2; }
      const uint32_t ncols = arg(2, 0), nrows = arg(3, 0);
      weights = random_matrix(*type, ncols, nrows, 7);
      keep.push_back(make_buffer(d, weights));
      wbuf = keep.back().get();
      Buffer *x = buf(random_floats(ncols, 8)), *y = zeros(nrows * 4);
      record = [&, type = *type, ncols, nrows, x, y](Ops& o, Recorder& r) -> Status {
        Matrix m{wbuf, 0, type, ncols, nrows};
        if (o.interleaves(type, ncols, nrows)) {
          if (!wil) wil = interleaved_matrix(d, type, ncols, nrows, weights, 0, nrows);
          m = wil->m;
        }
        return o.mul_mv(r, m, view(*x), view(*y));
      };
    } else {
      std::fprintf(stderr, "unknown op %s\n", spec.c_str());
      return 2;
    }
    records.push_back(std::move(record));
  }

  std::vector<Variant> vs;
  for (int i = 2; i < argc; ++i) {
    Variant v;
    v.name = argv[i];
    size_t n_ops = records.size();
    std::vector<std::string> env;  // PENSER_VK_ variables set while this variant is made and recorded
    if (v.name != "-")
      for (const std::string& kv : split(v.name, ',')) {
        const size_t eq = kv.find('=');
        const std::string k = kv.substr(0, eq);
        const uint32_t val = eq == std::string::npos ? 1 : uint32_t(std::atoi(kv.c_str() + eq + 1));
        if (k == "cpu") v.options.small_cpu = val != 0;
        else if (k == "rows") v.options.mul_mv_rows = val;
        else if (k == "ops" && val >= 1) n_ops = std::min<size_t>(val, records.size());
        else if (!k.empty() && std::isupper(static_cast<unsigned char>(k[0])) && eq != std::string::npos) {
          env.push_back("PENSER_VK_" + k);
          setenv(env.back().c_str(), kv.c_str() + eq + 1, 1);
        } else { std::fprintf(stderr, "unknown knob %s\n", k.c_str()); return 2; }
      }
    v.ops = must(Ops::create(d, v.options));
    v.rec = must(Recorder::create(d, uint32_t(reps) * 4 * uint32_t(records.size())));
    if (std::getenv("TS") && *std::getenv("TS") == '1') must(v.rec->enable_timestamps());  // as --profile records
    must(v.rec->begin());
    for (int k = 0; k < reps; ++k)
      for (size_t j = 0; j < n_ops; ++j) must(records[j](*v.ops, *v.rec));
    must(v.rec->end());
    for (const std::string& e : env) unsetenv(e.c_str());
    must(v.rec->submit_and_wait());  // warm-up (and the pipelines' first run)
    vs.push_back(std::move(v));
  }
  const int rounds = std::getenv("ROUNDS") ? std::atoi(std::getenv("ROUNDS")) : 9;
  for (int r = 0; r < rounds; ++r)
    for (Variant& v : vs) {
      const Timed t = timed_submit(*v.rec);
      v.us.push_back(t.wall_s * 1e6 / reps);
      v.cpu_us.push_back(t.cpu_s * 1e6 / reps);
    }
  std::printf("%s, %d dispatches per submission, %d rounds, median us per dispatch (wall; CPU):\n", argv[1], reps,
              rounds);
  for (Variant& v : vs) {
    std::sort(v.us.begin(), v.us.end());
    std::sort(v.cpu_us.begin(), v.cpu_us.end());
    std::printf("  %-20s %8.1f   (min %.1f max %.1f)   cpu %8.1f\n", v.name.c_str(), v.us[v.us.size() / 2],
                v.us.front(), v.us.back(), v.cpu_us[v.cpu_us.size() / 2]);
  }
  return 0;
}
