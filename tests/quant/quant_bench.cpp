// quant-bench: single-thread vec_dot throughput per weight type, in GB/s of weight bytes streamed, over a
// ~100 MB matrix (bigger than the caches), scalar reference vs the dispatched (SIMD) kernel.
// Usage: quant-bench [MB] [type...]     e.g. quant-bench 100 Q4_K Q6_K
// Times are thread CPU time (best of several passes), so other processes on a shared machine do not
// count; "read GB/s" is a plain streaming read of the same matrix, the ceiling for a memory-bound kernel.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "inference/quant/quant.h"
#include "quant_test_util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace penser::quant;

namespace {

// Thread CPU time: on a shared machine wall time also counts the time other processes hold the core.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// The ceiling: read the same bytes with the cheapest possible work per 32 bytes.
#if defined(__x86_64__)
__attribute__((target("avx2"))) float read_all(const uint8_t* p, size_t bytes) {
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 128 <= bytes; i += 128) {
    acc = _mm256_xor_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    acc = _mm256_xor_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    acc = _mm256_xor_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    acc = _mm256_xor_si256(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  return float(_mm256_extract_epi32(acc, 0) & 1);
}
#else
float read_all(const uint8_t* p, size_t bytes) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 8 <= bytes; i += 8) { uint64_t v; std::memcpy(&v, p + i, 8); acc ^= v; }
  return float(acc & 1);
}
#endif

// Streams every row once per pass; returns the best GB/s of `passes` passes.
template <typename Fn>
double measure(Fn dot, const std::vector<uint8_t>& m, size_t row_bytes, int64_t rows, int64_t n, const void* act,
               int passes, float* sink) {
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    const double t0 = cpu_seconds();
    float s = 0;
    for (int64_t r = 0; r < rows; ++r) s += dot(n, m.data() + size_t(r) * row_bytes, act);
    const double dt = cpu_seconds() - t0;
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
  std::printf("%-7s %9s %8s %12s %12s %8s %10s  %s\n", "type", "MB", "rows", "scalar GB/s", "simd GB/s", "speedup",
              "read GB/s", "isa");
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
    // The same bytes read with no work, measured alongside (the machine's bandwidth at this moment).
    double read = 0;
    for (int p = 0; p < 5; ++p) {
      const double t0 = cpu_seconds();
      sink += read_all(m.data(), m.size());
      read = std::max(read, double(m.size()) / (cpu_seconds() - t0) / 1e9);
    }
    std::printf("%-7s %9.1f %8lld %12.2f %12.2f %7.1fx %10.2f  %s\n", type_name(t), double(m.size()) / 1e6,
                static_cast<long long>(rows), scalar, simd, simd / scalar, read, vec_dot_isa(t));
    std::fflush(stdout);
  }
  // Quantizer throughput (what `penser-cli quantize` spends its time on), single thread.
  std::printf("\n%-7s %16s\n", "type", "quantize Mw/s");
  std::mt19937 rng(5);
  const std::vector<float> src = quant_test::weight_like(rng, 1 << 20);
  for (Type t : types) {
    if (!traits(t).can_quantize) continue;
    std::vector<uint8_t> dst(row_size(t, int64_t(src.size())));
    const double t0 = cpu_seconds();
    quantize_row(t, src.data(), dst.data(), int64_t(src.size()));
    std::printf("%-7s %16.1f\n", type_name(t), double(src.size()) / (cpu_seconds() - t0) / 1e6);
    sink += float(dst[7]);
  }
  std::printf("(checksum %g)\n", double(sink));
  return 0;
}
