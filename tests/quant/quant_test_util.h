// Shared by the quant suites and quant-bench: random rows of any dequantizable type.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "inference/quant/quant.h"

namespace quant_test {

using penser::quant::Type;

inline std::vector<float> gaussian(std::mt19937& rng, size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> nd(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Weight-like data: gaussian with a per-32 scale that varies and a few large outliers, as trained
// matrices have (a heavier tail than a gaussian).
inline std::vector<float> weight_like(std::mt19937& rng, size_t n) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  float scale = 0.02f;
  for (size_t i = 0; i < n; ++i) {
    if (i % 32 == 0) scale = 0.02f * std::exp(0.5f * nd(rng));
    v[i] = scale * nd(rng);
    if (u(rng) < 0.002f) v[i] *= 8.0f;
  }
  return v;
}

// A row of `type` with n elements: quantized from weight-like data where Penser has a quantizer;
// otherwise random bytes with every f16 scale field replaced by a sane value (so the row holds
// finite, moderate numbers).
inline std::vector<uint8_t> random_row(Type type, int64_t n, std::mt19937& rng) {
  using namespace penser::quant;
  std::vector<uint8_t> row(row_size(type, n));
  if (traits(type).can_quantize) {
    const std::vector<float> x = weight_like(rng, size_t(n));
    quantize_row(type, x.data(), row.data(), n);
    return row;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : row) b = uint8_t(byte(rng));
  std::uniform_real_distribution<float> u(0.5f, 1.0f);
  const uint32_t bs = traits(type).type_size;
  auto put_f16 = [&](size_t off, float v) {
    const uint16_t h = f32_to_f16(v);
    std::memcpy(row.data() + off, &h, 2);
  };
  for (size_t b = 0; b < row.size() / bs; ++b) {
    uint8_t* blk = row.data() + b * bs;
    (void)blk;
    switch (type) {
      case Type::Q2_K: put_f16(b * bs + 80, 0.01f * u(rng)); put_f16(b * bs + 82, 0.01f * u(rng)); break;
      case Type::Q3_K: put_f16(b * bs + 108, 0.003f * u(rng)); break;
      default: break;  // every other dequantizable type has a quantizer
    }
  }
  return row;
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

inline double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(double(a[i]) * b[i]);
  return s;
}

inline std::vector<float> dequantized(Type type, const void* src, int64_t n) {
  std::vector<float> out(size_t(n), 0.0f);
  penser::quant::dequantize_row(type, src, out.data(), n);
  return out;
}

}  // namespace quant_test
