// quant-bench: single-thread vec_dot throughput per weight type, in GB/s of weight bytes streamed, over a
// ~100 MB matrix (bigger than the caches), scalar reference vs the dispatched (SIMD) kernel.
// Usage: quant-bench [MB] [type...]     e.g. quant-bench 100 Q4_K Q6_K
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "inference/quant/quant.h"
#include "quant_test_util.h"

using namespace penser::quant;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Streams every row once per pass; returns the best GB/s of `passes` passes.
template <typename Fn>
double measure(Fn dot, const std::vector<uint8_t>& m, size_t row_bytes, int64_t rows, int64_t n, const void* act,
               int passes, float* sink) {
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    float s = 0;
    for (int64_t r = 0; r < rows; ++r) s += dot(n, m.data() + size_t(r) * row_bytes, act);
    const double dt = seconds_since(t0);
    *sink += s;
    best = std::max(best, double(rows) * double(row_bytes) / dt / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const double mb = argc > 1 ? std::atof(argv[1]) : 100.0;
  std::vector<Type> types;
  for (int i = 2; i < argc; ++i) {
    const auto t = type_from_name(argv[i]);
    if (!t || !traits(*t).can_dequantize) {
      std::fprintf(stderr, "quant-bench: unknown or unsupported type '%s'\n", argv[i]);
      return 2;
    }
    types.push_back(*t);
  }
  if (types.empty())
    types = {Type::F32, Type::F16, Type::BF16, Type::Q8_0, Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1,
             Type::IQ4_NL, Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::IQ4_XS};

  const int64_t n = 4096;  // row length (n_embd of a 7B-class model)
  std::printf("%-7s %9s %8s %12s %12s %8s  %s\n", "type", "MB", "rows", "scalar GB/s", "simd GB/s", "speedup", "isa");
  float sink = 0;
  for (Type t : types) {
    const size_t row_bytes = row_size(t, n);
    const int64_t rows = std::max<int64_t>(1, int64_t(mb * 1e6 / double(row_bytes)));
    // 64 distinct random rows, repeated: the timing depends on bytes, not on values.
    std::mt19937 rng(uint32_t(t) + 1);
    std::vector<uint8_t> m(size_t(rows) * row_bytes);
    std::vector<std::vector<uint8_t>> distinct;
    for (int i = 0; i < 64; ++i) distinct.push_back(quant_test::random_row(t, n, rng));
    for (int64_t r = 0; r < rows; ++r) std::memcpy(m.data() + size_t(r) * row_bytes, distinct[size_t(r % 64)].data(), row_bytes);
    const Type at = vec_dot_type(t);
    const std::vector<float> act = quant_test::gaussian(rng, size_t(n));
    std::vector<uint8_t> aq(row_size(at, n));
    quantize_row(at, act.data(), aq.data(), n);

    const double scalar = measure([t](int64_t k, const void* w, const void* a) { return vec_dot_scalar(t, k, w, a); },
                                  m, row_bytes, rows, n, aq.data(), 2, &sink);
    const double simd = measure([t](int64_t k, const void* w, const void* a) { return vec_dot(t, k, w, a); }, m,
                                row_bytes, rows, n, aq.data(), 5, &sink);
    std::printf("%-7s %9.1f %8lld %12.2f %12.2f %7.1fx  %s\n", type_name(t), double(m.size()) / 1e6,
                static_cast<long long>(rows), scalar, simd, simd / scalar, vec_dot_isa(t));
    std::fflush(stdout);
  }
  std::printf("(checksum %g)\n", double(sink));
  return 0;
}
