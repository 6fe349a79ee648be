// The double-precision reference of decode attention, shared by the Vulkan suites that test it
// (test_vulkan_ops: the per-head kernel; test_vulkan_attention: every decode kernel and split).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "inference/quant/quant.h"

namespace vkt {

// What the f16 cache holds of a value.
inline double f16_rounded(float f) { return penser::quant::f16_to_f32(penser::quant::f32_to_f16(f)); }

// out[h, :] for the newest of n_kv positions (K/V rows 0..n_kv-1, f16-rounded as the cache holds them).
inline std::vector<float> decode_reference(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                    uint32_t n_kv, uint32_t head_dim, uint32_t n_head, uint32_t n_head_kv) {
  const uint32_t kv_dim = n_head_kv * head_dim;
  std::vector<float> out(size_t(n_head) * head_dim);
  for (uint32_t h = 0; h < n_head; ++h) {
    const uint32_t kvh = h / (n_head / n_head_kv);
    std::vector<double> s(n_kv);
    double m = -1e300, l = 0;
    for (uint32_t t = 0; t < n_kv; ++t) {
      double d = 0;
      for (uint32_t e = 0; e < head_dim; ++e) d += double(q[h * head_dim + e]) * f16_rounded(k[t * kv_dim + kvh * head_dim + e]);
      s[t] = d / std::sqrt(double(head_dim));
      m = std::max(m, s[t]);
    }
    for (double& e : s) {
      e = std::exp(e - m);
      l += e;
    }
    for (uint32_t e = 0; e < head_dim; ++e) {
      double acc = 0;
      for (uint32_t t = 0; t < n_kv; ++t) acc += s[t] * f16_rounded(v[t * kv_dim + kvh * head_dim + e]);
      out[h * head_dim + e] = float(acc / l);
    }
  }
  return out;
}

}  // namespace vkt
