// vk_mul_mv_bench TYPE NCOLS NROWS VARIANT... : the matrix-vector product alone, each variant timed in
// turn (A B C A B C ...) in one process, so that a shared, noisy machine slows them alike; prints the median
// GB/s of weights per variant. A variant is a comma list of rows=N, wg=N, lanes=N, wide=0|1, i64=0|1, rl=0|1 (row lanes), x64=0|1, ubo=0|1 (x as a uniform buffer), il=0|1 (the interleaved layout where it applies, marked [il]), q8x=0|1|2 (x rounded to
// 8 bits: Ops::Options::mul_mv_q8x) ("-" for the defaults).
// ROUNDS=n (default 7) and REPEAT=n (below) in the environment.
// With TOKENS=N in the environment the prompt's product instead (Ops::mul_mm over N tokens of x, rows
// NCOLS apart), in GFLOP/s, with the knobs nr=N, nt=N, mwg=N (mul_mm_cpu.comp's shape), share=0|1,
// xt=0|1 (x as texels; also the knob of the matrix-vector product's texel x). fold=1: the matrix as a merged
// [gate | up] with SwiGLU folded into the product (MulMvInput::swiglu_out, mul_mm's swiglu_out; one
// dispatch writing NROWS / 2 values per token); fold=0: the product writing [gate | up] then the swiglu
// dispatch, as the evaluators do unfolded (both count the weights' bytes only).
// Not a test: a measuring tool for docs/vulkan.md (it asserts nothing about speed).
#include <QtCore>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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
  std::string wg;  // PENSER_VK_MUL_MV_WG while the Ops is created
  int fold = -1;   // -1: the plain product; 0: product + swiglu; 1: SwiGLU folded into the product
  std::unique_ptr<Ops> ops;
  std::unique_ptr<Recorder> rec;
  std::vector<double> rates;
  std::vector<double> cpu_rates;  // per CPU-second of this process (lavapipe's threads are ours): less
                                  // sensitive than wall time to other processes on a loaded machine
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s TYPE NCOLS NROWS VARIANT... [ROUNDS=n env]\n", argv[0]);
    return 2;
  }
  BenchDevice bench = open_bench_device();
  Device* device = bench.device.get();
  const auto type = quant::type_from_name(argv[1]);
  if (!type) { std::fprintf(stderr, "unknown type %s\n", argv[1]); return 2; }
  const uint32_t ncols = uint32_t(std::atoi(argv[2])), nrows = uint32_t(std::atoi(argv[3]));
  const auto bytes = random_matrix(*type, ncols, nrows, 7);
  auto a = must(Buffer::create(*device, bytes.size(), MemoryUse::DeviceLocal, "A"));
  must(a->write(0, bytes.data(), bytes.size()));
  const uint32_t n_tokens = std::getenv("TOKENS") ? uint32_t(std::atoi(std::getenv("TOKENS"))) : 0;
  const uint32_t nx = std::max(1u, n_tokens);
  const auto xv = random_floats(size_t(ncols) * nx, 3);
  auto x = must(Buffer::create(*device, size_t(ncols) * nx * 4, MemoryUse::DeviceLocal, "x"));
  must(x->write(0, xv.data(), size_t(ncols) * nx * 4));
  auto y = must(Buffer::create(*device, size_t(nrows) * nx * 4, MemoryUse::DeviceLocal, "y"));
  const Matrix m{a.get(), 0, *type, ncols, nrows};
  // REPEAT=n: the product recorded n times in one submission (each after a barrier: they write the same y),
  // so that on a GPU the submission's and the fence's fixed cost (tens of microseconds) is spread over n
  // products; use a matrix larger than the GPU's last-level cache (an H200's is 50 MiB) so that every
  // repetition reads memory.
  const int repeat = std::max(1, std::getenv("REPEAT") ? std::atoi(std::getenv("REPEAT")) : 1);

  std::vector<Variant> vs;
  std::optional<InterleavedMatrix> a_il;  // the same matrix interleaved, for variants that read that layout
  for (int i = 4; i < argc; ++i) {
    Variant v;
    v.name = argv[i];
    for (const std::string& kv : v.name == "-" ? std::vector<std::string>{} : split(v.name, ',')) {
      const size_t eq = kv.find('=');
      const std::string k = kv.substr(0, eq);
      const uint32_t val = uint32_t(std::atoi(kv.c_str() + eq + 1));
      if (k == "rows") v.options.mul_mv_rows = val;
      else if (k == "wide") v.options.mul_mv_wide = val != 0;
      else if (k == "i64") v.options.mul_mv_int64 = val != 0;
      else if (k == "lanes") v.options.mul_mv_lanes = val;
      else if (k == "q8x") v.options.mul_mv_q8x = val;
      else if (k == "rl") v.options.mul_mv_row_lanes = val;
      else if (k == "x64") v.options.mul_mv_x64 = val != 0;
      else if (k == "ubo") v.options.mul_mv_ubo = val != 0;
      else if (k == "il") v.options.interleave = val != 0;
      else if (k == "wg") v.wg = kv.substr(eq + 1);
      else if (k == "fold") v.fold = int(val != 0);
      else if (k == "nr") v.options.mul_mm_rows = val;
      else if (k == "nt") v.options.mul_mm_tokens = val;
      else if (k == "mwg") v.options.mul_mm_wg = val;
      else if (k == "share") v.options.mul_mm_share = val != 0;
      else if (k == "xt") v.options.mul_mm_x_texel = v.options.mul_mv_x_texel = val != 0;
      else { std::fprintf(stderr, "unknown knob %s\n", k.c_str()); return 2; }
    }
    if (!v.wg.empty()) setenv("PENSER_VK_MUL_MV_WG", v.wg.c_str(), 1);
    else unsetenv("PENSER_VK_MUL_MV_WG");
    v.ops = must(Ops::create(*device, v.options));
    v.rec = must(Recorder::create(*device));
    // The interleaved layout where these options and the shape allow it (Ops::interleaves), as the loader does.
    Matrix mv = m;
    if (v.ops->interleaves(*type, ncols, nrows)) {
      if (!a_il) a_il = interleaved_matrix(*device, *type, ncols, nrows, bytes, 0, nrows);
      mv = a_il->m;
      v.name += " [il]";
    }
    if (v.fold == 1 && !v.ops->swiglu_folds(mv)) {
      std::fprintf(stderr, "%s: SwiGLU cannot fold here (Ops::swiglu_folds)\n", v.name.c_str());
      return 2;
    }
    must(v.rec->begin());
    const View xa{x->all(), 0}, ya{y->all(), 0};
    const uint32_t half = nrows / 2;
    for (int rep = 0; rep < repeat; ++rep) {
      if (n_tokens) {
        if (v.fold == 1) {
          must(v.ops->mul_mm(*v.rec, mv, xa, ncols, ya, half, n_tokens, nullptr, false, true));
        } else {
          must(v.ops->mul_mm(*v.rec, mv, xa, ncols, ya, nrows, n_tokens));
          if (v.fold == 0) must(v.ops->swiglu(*v.rec, ya, View{y->all(), half}, ya, n_tokens * half, half, nrows));
        }
      } else {
        must(v.ops->mul_mv(*v.rec, mv, xa, ya, nullptr, false, {.swiglu_out = v.fold == 1}));
        if (v.fold == 0) must(v.ops->swiglu(*v.rec, ya, View{y->all(), half}, ya, half));
      }
    }
    must(v.rec->end());
    must(v.rec->submit_and_wait());  // warm-up
    vs.push_back(std::move(v));
  }
  const int rounds = std::getenv("ROUNDS") ? std::atoi(std::getenv("ROUNDS")) : 7;
  for (int r = 0; r < rounds; ++r)
    for (Variant& v : vs) {
      const Timed t = timed_submit(*v.rec);
      v.rates.push_back(double(bytes.size()) * repeat / t.wall_s / 1e9);
      v.cpu_rates.push_back(double(bytes.size()) * repeat / std::max(1e-6, t.cpu_s) / 1e9);
    }
  // With TOKENS: GFLOP/s (2 x rows x columns x tokens per run) instead of GB/s of weights.
  const double per_byte = n_tokens ? 2.0 * nrows * ncols * n_tokens / double(bytes.size()) : 1.0;
  std::printf("%s %u x %u (%.1f MiB), %d rounds, median %s (wall; per CPU-second):\n", argv[1], nrows, ncols,
              bytes.size() / 1048576.0, rounds, n_tokens ? "GFLOP/s" : "GB/s");
  for (Variant& v : vs) {
    std::sort(v.rates.begin(), v.rates.end());
    std::sort(v.cpu_rates.begin(), v.cpu_rates.end());
    std::printf("  %-24s %6.3f   (min %.3f max %.3f)   cpu %6.3f\n", v.name.c_str(), per_byte * v.rates[v.rates.size() / 2],
                per_byte * v.rates.front(), per_byte * v.rates.back(), per_byte * v.cpu_rates[v.cpu_rates.size() / 2]);
  }
  return 0;
}
