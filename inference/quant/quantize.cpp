// Reference quantizers. The 32-block types use the plain min/max rules of ggml's reference quantizer;
// the K types and IQ4 search their scales (a weighted least-squares fit over candidate scales, the idea
// of ggml's make_qkx/make_qx fits, written independently), which matters for the error of Q4_K/Q6_K.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "inference/common/result.h"
#include "inference/quant/blocks.h"

namespace penser::quant {
namespace {
using namespace detail;

uint16_t f2h(float f) { return f32_to_f16(f); }
// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 leaves the rounded integer in the low
// mantissa bits (the FPU's own rounding does the work; no libm call in the inner loops).
inline int nearest(float x) {
  const float v = x + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// ---------------------------------------------------------------- 32-blocks

void q_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    // The element of largest magnitude maps to -8 exactly: q = x / d + 8 with d = max / -8.
    float amax = 0, max = 0;
    for (int j = 0; j < QK; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    for (int j = 0; j < 16; ++j) {
      const int a = std::min(15, std::max(0, nearest(x[j] * id) + 8));
      const int b = std::min(15, std::max(0, nearest(x[j + 16] * id) + 8));
      y[i].qs[j] = uint8_t(a | (b << 4));
    }
  }
}

template <int kLevels, typename B>
void q_min_max(const float* x, B* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < QK; ++j) lo = std::min(lo, x[j]), hi = std::max(hi, x[j]);
    const float d = (hi - lo) / float(kLevels - 1), id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    y[i].m = f2h(lo);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int a = std::min(kLevels - 1, std::max(0, nearest((x[j] - lo) * id)));
      const int b = std::min(kLevels - 1, std::max(0, nearest((x[j + 16] - lo) * id)));
      y[i].qs[j] = uint8_t((a & 0xf) | ((b & 0xf) << 4));
      qh |= uint32_t(a >> 4) << j;
      qh |= uint32_t(b >> 4) << (j + 16);
    }
    if constexpr (sizeof(B) == sizeof(BlockQ5_1)) std::memcpy(y[i].qh, &qh, 4);
  }
}

void q_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    float amax = 0, max = 0;
    for (int j = 0; j < QK; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -16.0f, id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int a = std::min(31, std::max(0, nearest(x[j] * id) + 16));
      const int b = std::min(31, std::max(0, nearest(x[j + 16] * id) + 16));
      y[i].qs[j] = uint8_t((a & 0xf) | ((b & 0xf) << 4));
      qh |= uint32_t(a >> 4) << j;
      qh |= uint32_t(b >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

// Symmetric 8-bit: d = amax / 127.
template <typename B>
float q8_block(const float* x, int8_t* q, int n) {
  float amax = 0;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
  for (int j = 0; j < n; ++j) q[j] = int8_t(nearest(x[j] * id));
  return d;
}

void q_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) y[i].d = f2h(q8_block<BlockQ8_0>(x, y[i].qs, QK));
}

void q_q8_1(const float* x, BlockQ8_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    const float d = q8_block<BlockQ8_1>(x, y[i].qs, QK);
    int sum = 0;
    for (int j = 0; j < QK; ++j) sum += y[i].qs[j];
    y[i].d = f2h(d);
    y[i].s = f2h(d * float(sum));
  }
}

void q_q8_k(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    y[i].d = q8_block<BlockQ8_K>(x, y[i].qs, QK_K);
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += y[i].qs[16 * g + l];
      y[i].bsums[g] = int16_t(s);
    }
  }
}

// ---------------------------------------------------------------- scale searches

// Asymmetric fit x ~ scale * q - m, q in 0..nmax, m >= 0, minimising sum w (scale q - m - x)^2.
// Candidate step sizes around (max - min) / nmax; for each, the rounded q fix a 2x2 least-squares
// problem for (scale, m). Returns scale, writes m and the levels.
float fit_affine(const float* x, const float* w, int n, int nmax, float& m_out, uint8_t* L) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  lo = std::min(lo, 0.0f);  // the offset can only lower values (m >= 0)
  if (hi <= lo) {
    std::fill(L, L + n, 0);
    m_out = -lo;
    return 0;
  }
  // Sums that do not depend on the candidate; the weighted error of a fit then has a closed form:
  // E = s^2 Swll + 2 s m Swl + m^2 Sw - 2 s Swlx - 2 m Swx + Swxx.
  float sw = 0, swx = 0, swxx = 0;
  for (int i = 0; i < n; ++i) sw += w[i], swx += w[i] * x[i], swxx += w[i] * x[i] * x[i];
  float best_err = INFINITY, best_scale = 0, best_min = lo;
  uint8_t cand[QK];
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (float(nmax) + 0.1f * float(step)) / (hi - lo);
    float swl = 0, swll = 0, swlx = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, std::max(0, nearest(iscale * (x[i] - lo))));
      cand[i] = uint8_t(l);
      swl += w[i] * l, swll += w[i] * l * l, swlx += w[i] * l * x[i];
    }
    const float det = sw * swll - swl * swl;
    float scale, mn;  // x ~ scale * l + mn
    if (det > 1e-12f * sw * swll) {
      scale = (sw * swlx - swl * swx) / det;
      mn = (swll * swx - swl * swlx) / det;
    } else {
      // All levels equal (a constant block): only the scale is determined.
      scale = swll > 0 ? swlx / swll : 0;
      mn = 0;
    }
    if (mn > 0) {
      mn = 0;
      scale = swll > 0 ? swlx / swll : 0;
    }
    if (scale <= 0) continue;
    const double err = double(scale) * scale * swll + 2.0 * scale * mn * swl + double(mn) * mn * sw -
                       2.0 * scale * swlx - 2.0 * mn * swx + swxx;
    if (err < best_err) best_err = float(err), best_scale = scale, best_min = mn, std::memcpy(L, cand, size_t(n));
  }
  m_out = -best_min;
  return best_scale;
}

// Symmetric fit x ~ scale * q, q in -nmax..nmax-1 (ggml's signed types keep -nmax reachable).
float fit_symmetric(const float* x, const float* w, int n, int nmax, int8_t* L) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  if (amax == 0) {
    std::fill(L, L + n, 0);
    return 0;
  }
  // For x ~ s * l the best s is Swlx / Swll and the error Swxx - Swlx^2 / Swll: maximise Swlx^2 / Swll.
  float best_score = -1, best_scale = 0;
  int8_t cand[QK];
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(float(nmax) + 0.1f * float(step)) / max;
    float swlx = 0, swll = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax - 1, std::max(-nmax, nearest(iscale * x[i])));
      cand[i] = int8_t(l);
      swlx += w[i] * l * x[i], swll += w[i] * l * l;
    }
    if (swll <= 0) continue;
    const float score = swlx * swlx / swll;
    if (score > best_score) best_score = score, best_scale = swlx / swll, std::memcpy(L, cand, size_t(n));
  }
  return best_scale;
}

// Importance weights: |x| plus the block's RMS, so large values count more but small ones are not ignored.
void weights_for(const float* x, int n, float* w) {
  float ss = 0;
  for (int i = 0; i < n; ++i) ss += x[i] * x[i];
  const float rms = std::sqrt(ss / float(n));
  for (int i = 0; i < n; ++i) w[i] = rms + std::fabs(x[i]);
}

// ---------------------------------------------------------------- K types

// Packs 8 six-bit scales and mins into the 12-byte layout k4_scale_min() reads.
void pack_k4_scales(const uint8_t sc[8], const uint8_t mn[8], uint8_t out[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = uint8_t((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = uint8_t((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    out[j + 8] = uint8_t((sc[j + 4] & 0xf) | ((mn[j + 4] & 0xf) << 4));
  }
}

// Q4_K and Q5_K share everything but the bit count: fit 8 sub-blocks of 32, quantize their scales and
// mins to 6 bits against two f16 super-scales, then requantize each element with the stored values.
template <int kBits>
void quantize_k_affine(const float* x, uint16_t& d_out, uint16_t& dmin_out, uint8_t scales[12], uint8_t* levels) {
  constexpr int nmax = (1 << kBits) - 1;
  float sub_scale[8], sub_min[8], w[32];
  uint8_t L[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    weights_for(x + 32 * j, 32, w);
    sub_scale[j] = fit_affine(x + 32 * j, w, 32, nmax, sub_min[j], L);
    max_scale = std::max(max_scale, sub_scale[j]);
    max_min = std::max(max_min, sub_min[j]);
  }
  const float inv_s = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_m = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = uint8_t(std::min(63, std::max(0, nearest(inv_s * sub_scale[j]))));
    mn[j] = uint8_t(std::min(63, std::max(0, nearest(inv_m * sub_min[j]))));
  }
  d_out = f2h(max_scale / 63.0f);
  dmin_out = f2h(max_min / 63.0f);
  pack_k4_scales(sc, mn, scales);
  const float d = f16_to_f32(d_out), dmin = f16_to_f32(dmin_out);
  for (int j = 0; j < 8; ++j) {
    const float ds = d * float(sc[j]), dm = dmin * float(mn[j]);
    for (int l = 0; l < 32; ++l)
      levels[32 * j + l] = ds > 0 ? uint8_t(std::min(nmax, std::max(0, nearest((x[32 * j + l] + dm) / ds)))) : 0;
  }
}

void q_q4_k(const float* x, BlockQ4_K* y, int64_t nb) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    quantize_k_affine<4>(x, y[i].d, y[i].dmin, y[i].scales, L);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) y[i].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
  }
}

void q_q5_k(const float* x, BlockQ5_K* y, int64_t nb) {
  uint8_t L[QK_K];
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    quantize_k_affine<5>(x, y[i].d, y[i].dmin, y[i].scales, L);
    std::memset(y[i].qh, 0, 32);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const int a = L[64 * c + l], b = L[64 * c + 32 + l];
        y[i].qs[32 * c + l] = uint8_t((a & 0xf) | ((b & 0xf) << 4));
        y[i].qh[l] |= uint8_t(((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1)));
      }
  }
}

// Q2_K / Q3_K / Q6_K element e of a super-block: 2-bit plane byte 32 * (e / 128) + e % 32, bits 2 * ((e % 128) / 32).
void pack_2bit_planes(const uint8_t* L, uint8_t* qs) {
  std::memset(qs, 0, 64);
  for (int e = 0; e < QK_K; ++e) qs[32 * (e / 128) + e % 32] |= uint8_t((L[e] & 3) << (2 * ((e % 128) / 32)));
}

// Q2_K: 16 groups of 16, each x ~ scale * q - min with q in 0..3; scales and mins to 4 bits against d, dmin.
void q_q2_k(const float* x, BlockQ2_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float scale[16], mins[16], w[16], max_scale = 0, max_min = 0;
    uint8_t L[QK_K];
    for (int g = 0; g < 16; ++g) {
      weights_for(x + 16 * g, 16, w);
      scale[g] = fit_affine(x + 16 * g, w, 16, 3, mins[g], L + 16 * g);
      max_scale = std::max(max_scale, scale[g]);
      max_min = std::max(max_min, mins[g]);
    }
    y[i].d = f2h(max_scale / 15.0f);
    y[i].dmin = f2h(max_min / 15.0f);
    const float d = f16_to_f32(y[i].d), dmin = f16_to_f32(y[i].dmin);
    for (int g = 0; g < 16; ++g) {
      const int sc = d > 0 ? std::min(15, std::max(0, nearest(scale[g] / d))) : 0;
      const int m = dmin > 0 ? std::min(15, std::max(0, nearest(mins[g] / dmin))) : 0;
      y[i].scales[g] = uint8_t(sc | (m << 4));
      const float ds = d * float(sc), dm = dmin * float(m);
      for (int l = 0; l < 16; ++l)
        L[16 * g + l] = ds > 0 ? uint8_t(std::min(3, std::max(0, nearest((x[16 * g + l] + dm) / ds)))) : 0;
    }
    pack_2bit_planes(L, y[i].qs);
  }
}

// Q3_K: 16 groups of 16, x ~ scale * q with q in -4..3; 6-bit signed scales against one f16 d.
void q_q3_k(const float* x, BlockQ3_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float scale[16], w[16], amax = 0, max = 0;
    int8_t Ls[QK_K];
    for (int g = 0; g < 16; ++g) {
      weights_for(x + 16 * g, 16, w);
      scale[g] = fit_symmetric(x + 16 * g, w, 16, 4, Ls + 16 * g);
      if (std::fabs(scale[g]) > amax) amax = std::fabs(scale[g]), max = scale[g];
    }
    const float d0 = max / -32.0f;
    y[i].d = f2h(d0);
    const float d = f16_to_f32(y[i].d);
    std::memset(y[i].scales, 0, 12);
    std::memset(y[i].hmask, 0, 32);
    uint8_t L[QK_K];
    for (int g = 0; g < 16; ++g) {
      const int l = d != 0 ? std::min(31, std::max(-32, nearest(scale[g] / d))) : 0;
      const int u = l + 32;
      y[i].scales[g % 8] |= uint8_t((u & 0xf) << (4 * (g / 8)));
      y[i].scales[8 + g % 4] |= uint8_t((u >> 4) << (2 * (g / 4)));
      const float ds = d * float(l);
      for (int k = 0; k < 16; ++k) {
        const int e = 16 * g + k;
        const int q = ds != 0 ? std::min(3, std::max(-4, nearest(x[e] / ds))) : 0;
        L[e] = uint8_t(q + 4);  // 0..7: low 2 bits in the planes, bit 2 in hmask
        if (L[e] & 4) y[i].hmask[e % 32] |= uint8_t(1 << (e / 32));
      }
    }
    pack_2bit_planes(L, y[i].qs);
  }
}

void q_q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float sub_scale[16], w[16];
    int8_t L[QK_K];
    float amax = 0, max = 0;
    for (int g = 0; g < 16; ++g) {
      weights_for(x + 16 * g, 16, w);
      sub_scale[g] = fit_symmetric(x + 16 * g, w, 16, 32, L + 16 * g);
      if (std::fabs(sub_scale[g]) > amax) amax = std::fabs(sub_scale[g]), max = sub_scale[g];
    }
    // 8-bit signed scales against one f16 d; the largest maps to -128 like ggml's (keeps the sign free).
    const float d = max / -128.0f, id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    const float dd = f16_to_f32(y[i].d);
    uint8_t Lu[QK_K];
    for (int g = 0; g < 16; ++g) {
      const int s = std::min(127, std::max(-128, nearest(id * sub_scale[g])));
      y[i].scales[g] = int8_t(s);
      const float ds = dd * float(s);
      for (int l = 0; l < 16; ++l) {
        const int q = ds != 0 ? std::min(31, std::max(-32, nearest(x[16 * g + l] / ds))) : 0;
        Lu[16 * g + l] = uint8_t(q + 32);
      }
    }
    for (int half = 0; half < 2; ++half) {
      const uint8_t* l = Lu + 128 * half;
      for (int k = 0; k < 32; ++k) {
        y[i].ql[64 * half + k] = uint8_t((l[k] & 0xf) | ((l[k + 64] & 0xf) << 4));
        y[i].ql[64 * half + 32 + k] = uint8_t((l[k + 32] & 0xf) | ((l[k + 96] & 0xf) << 4));
        y[i].qh[32 * half + k] =
            uint8_t((l[k] >> 4) | ((l[k + 32] >> 4) << 2) | ((l[k + 64] >> 4) << 4) | ((l[k + 96] >> 4) << 6));
      }
    }
  }
}

// ---------------------------------------------------------------- IQ4

// Nearest code book entry by a table on floor(2v): the midpoints between entries are multiples of 1/2, so
// each half-unit cell lies on one side of every midpoint (a value exactly on a midpoint goes up).
struct Iq4Lookup {
  uint8_t idx[512];  // cell k covers [(k - 256) / 2, (k - 255) / 2)
  constexpr Iq4Lookup() : idx{} {
    for (int k = 0; k < 512; ++k) {
      const float v = float(k - 256) * 0.5f + 0.25f;  // inside the cell
      int best = 0;
      auto dist = [v](int j) { const float d = v - float(kIq4nlValues[j]); return d < 0 ? -d : d; };
      for (int j = 1; j < 16; ++j)
        if (dist(j) < dist(best)) best = j;
      idx[k] = uint8_t(best);
    }
  }
};
constexpr Iq4Lookup kIq4Lookup;

int nearest_iq4(float v) {
  const float c = std::floor(2.0f * v) + 256.0f;
  const int k = c >= 0 ? (c <= 511 ? int(c) : 511) : 0;  // nan lands on 0, never an out-of-range index
  return kIq4Lookup.idx[k];
}

// Best d for x ~ d * table[idx]: candidates d = max / t around the table's extremes, each refined by the
// least-squares d for its indices (error Swxx - Sxv^2 / Svv). Returns d and the indices.
float fit_iq4(const float* x, int n, uint8_t* idx) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
  if (amax == 0) {
    std::fill(idx, idx + n, uint8_t(nearest_iq4(0)));
    return 0;
  }
  float w[QK];
  weights_for(x, n, w);
  float best_score = -1, best_d = 0;
  uint8_t cand[QK];
  for (int step = -7; step <= 7; ++step) {
    const float inv = (-127.0f + float(step)) / max;  // -127 is the table's largest magnitude
    float sxv = 0, svv = 0;
    for (int i = 0; i < n; ++i) {
      cand[i] = uint8_t(nearest_iq4(x[i] * inv));
      const float v = kIq4nlValues[cand[i]];
      sxv += w[i] * x[i] * v, svv += w[i] * v * v;
    }
    if (svv <= 0) continue;
    const float score = sxv * sxv / svv;
    if (score > best_score) best_score = score, best_d = sxv / svv, std::memcpy(idx, cand, size_t(n));
  }
  return best_d;
}

void pack_iq4(const uint8_t* idx, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = uint8_t(idx[j] | (idx[j + 16] << 4));
}

void q_iq4_nl(const float* x, BlockIQ4_NL* y, int64_t nb) {
  uint8_t idx[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK) {
    const float d = fit_iq4(x, QK, idx);
    y[i].d = f2h(d);
    const float dd = f16_to_f32(y[i].d);
    for (int j = 0; j < QK; ++j) idx[j] = uint8_t(dd != 0 ? nearest_iq4(x[j] / dd) : nearest_iq4(0));
    pack_iq4(idx, y[i].qs);
  }
}

void q_iq4_xs(const float* x, BlockIQ4_XS* y, int64_t nb) {
  uint8_t idx[QK];
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float sub[8], amax = 0, max = 0;
    for (int ib = 0; ib < 8; ++ib) {
      sub[ib] = fit_iq4(x + 32 * ib, 32, idx);
      if (std::fabs(sub[ib]) > amax) amax = std::fabs(sub[ib]), max = sub[ib];
    }
    const float d = max / -32.0f, id = d != 0 ? 1.0f / d : 0.0f;  // 6-bit signed scales, -32..31
    y[i].d = f2h(d);
    const float dd = f16_to_f32(y[i].d);
    y[i].scales_h = 0;
    std::memset(y[i].scales_l, 0, 4);
    for (int ib = 0; ib < 8; ++ib) {
      const int l = std::min(31, std::max(-32, nearest(id * sub[ib])));
      const int u = l + 32;
      y[i].scales_l[ib / 2] |= uint8_t((u & 0xf) << (4 * (ib % 2)));
      y[i].scales_h |= uint16_t((u >> 4) << (2 * ib));
      const float dl = dd * float(l);
      for (int j = 0; j < 32; ++j)
        idx[j] = uint8_t(dl != 0 ? nearest_iq4(x[32 * ib + j] / dl) : nearest_iq4(0));
      pack_iq4(idx, y[i].qs + 16 * ib);
    }
  }
}

}  // namespace

void quantize_row(Type type, const float* src, void* dst, int64_t n) {
  const TypeTraits& t = traits(type);
  PENSER_ASSERT(t.can_quantize);
  PENSER_ASSERT(n >= 0 && n % t.block_size == 0);
  const int64_t nb = n / t.block_size;
  switch (type) {
    case Type::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case Type::F16: return f32_to_f16_row(src, static_cast<uint16_t*>(dst), n);
    case Type::BF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
      return;
    }
    case Type::Q4_0: return q_q4_0(src, static_cast<BlockQ4_0*>(dst), nb);
    case Type::Q4_1: return q_min_max<16>(src, static_cast<BlockQ4_1*>(dst), nb);
    case Type::Q5_0: return q_q5_0(src, static_cast<BlockQ5_0*>(dst), nb);
    case Type::Q5_1: return q_min_max<32>(src, static_cast<BlockQ5_1*>(dst), nb);
    case Type::Q8_0: return q_q8_0(src, static_cast<BlockQ8_0*>(dst), nb);
    case Type::Q8_1: return q_q8_1(src, static_cast<BlockQ8_1*>(dst), nb);
    case Type::Q2_K: return q_q2_k(src, static_cast<BlockQ2_K*>(dst), nb);
    case Type::Q3_K: return q_q3_k(src, static_cast<BlockQ3_K*>(dst), nb);
    case Type::Q4_K: return q_q4_k(src, static_cast<BlockQ4_K*>(dst), nb);
    case Type::Q5_K: return q_q5_k(src, static_cast<BlockQ5_K*>(dst), nb);
    case Type::Q6_K: return q_q6_k(src, static_cast<BlockQ6_K*>(dst), nb);
    case Type::Q8_K: return q_q8_k(src, static_cast<BlockQ8_K*>(dst), nb);
    case Type::IQ4_NL: return q_iq4_nl(src, static_cast<BlockIQ4_NL*>(dst), nb);
    case Type::IQ4_XS: return q_iq4_xs(src, static_cast<BlockIQ4_XS*>(dst), nb);
    default: PENSER_ASSERT(!"quantize_row: type without a quantizer");
  }
}

}  // namespace penser::quant
