// Scalar dot kernels: the reference every SIMD kernel is tested against. Integer sums per (sub-)block,
// then one float multiply-add per block with the two scales, the same arithmetic the SIMD kernels do.
#include <cstring>

#include "inference/common/result.h"
#include "inference/quant/blocks.h"

namespace penser::quant::detail {
namespace {

float h2f(uint16_t h) { return f16_to_f32(h); }

float dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * y[i];
  return float(s);
}

float dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(f16_to_f32(x[i])) * y[i];
  return float(s);
}

float dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(bf16_to_f32(x[i])) * y[i];
  return float(s);
}

// 32-blocks against Q8_0: element j of a block is (low nibble of byte j) for j < 16, else high nibble of j - 16.
float dot_q4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int sum = 0;
    for (int j = 0; j < 16; ++j)
      sum += ((x[i].qs[j] & 0xf) - 8) * y[i].qs[j] + ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum);
  }
  return s;
}

float dot_q4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += (x[i].qs[j] & 0xf) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    // sum (d q + m)(da a) = d da sum(q a) + m (da sum a), the last factor stored as s.
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum) + h2f(x[i].m) * h2f(y[i].s);
  }
  return s;
}

template <typename B>
uint32_t qh_of(const B& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  return qh;
}

float dot_q5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    const uint32_t qh = qh_of(x[i]);
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = ((x[i].qs[j] & 0xf) | int(((qh >> j) & 1) << 4)) - 16;
      const int q1 = ((x[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4)) - 16;
      sum += q0 * y[i].qs[j] + q1 * y[i].qs[j + 16];
    }
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum);
  }
  return s;
}

float dot_q5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    const uint32_t qh = qh_of(x[i]);
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = (x[i].qs[j] & 0xf) | int(((qh >> j) & 1) << 4);
      const int q1 = (x[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      sum += q0 * y[i].qs[j] + q1 * y[i].qs[j + 16];
    }
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum) + h2f(x[i].m) * h2f(y[i].s);
  }
  return s;
}

// Q8_0 and Q8_1 weights against activations of the same type: the blocks share d and qs[32]
// (Q8_1's extra s = d * sum(qs) is only needed when the weight has a min term).
template <typename Block>
float dot_q8_same(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const Block*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int sum = 0;
    for (int j = 0; j < QK; ++j) sum += x[i].qs[j] * y[i].qs[j];
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum);
  }
  return s;
}
float dot_q8_0(int64_t n, const void* w, const void* a) { return dot_q8_same<BlockQ8_0>(n, w, a); }
float dot_q8_1(int64_t n, const void* w, const void* a) { return dot_q8_same<BlockQ8_1>(n, w, a); }

float dot_iq4_nl(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK; ++i) {
    int sum = 0;
    for (int j = 0; j < 16; ++j)
      sum += kIq4nlValues[x[i].qs[j] & 0xf] * y[i].qs[j] + kIq4nlValues[x[i].qs[j] >> 4] * y[i].qs[j + 16];
    s += h2f(x[i].d) * h2f(y[i].d) * float(sum);
  }
  return s;
}

// K types against Q8_K (256 activations, f32 d, 16-element sums for the min terms). Each block is first
// decoded to one integer code per element (the value is scale * code, or scale * code - min), then dotted
// group by group; the simple loops let the compiler vectorize them on any architecture.
int dot_codes(const int8_t* q, const int8_t* y, int n) {
  int sum = 0;
  for (int l = 0; l < n; ++l) sum += q[l] * y[l];
  return sum;
}

// The 2-bit planes of Q2_K / Q3_K: byte l of half h holds elements 128h + l + 32s at bits 2s.
void decode_2bit_planes(const uint8_t* qs, int8_t* codes) {
  for (int h = 0; h < 2; ++h)
    for (int sft = 0; sft < 4; ++sft)
      for (int l = 0; l < 32; ++l) codes[128 * h + 32 * sft + l] = int8_t((qs[32 * h + l] >> (2 * sft)) & 3);
}

float dot_q2_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    decode_2bit_planes(x[i].qs, q);
    int isum = 0, msum = 0;
    for (int g = 0; g < 16; ++g) {
      isum += (x[i].scales[g] & 0xf) * dot_codes(q + 16 * g, y[i].qs + 16 * g, 16);
      msum += (x[i].scales[g] >> 4) * y[i].bsums[g];
    }
    s += y[i].d * (h2f(x[i].d) * float(isum) - h2f(x[i].dmin) * float(msum));
  }
  return s;
}

float dot_q3_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int8_t sc[16];
    q3k_scales(x[i].scales, sc);
    decode_2bit_planes(x[i].qs, q);
    // Element 32b + l takes bit b of hmask[l] as its high bit; without it the value is 4 lower.
    for (int b = 0; b < 8; ++b)
      for (int l = 0; l < 32; ++l) q[32 * b + l] = int8_t(q[32 * b + l] - 4 + 4 * ((x[i].hmask[l] >> b) & 1));
    int isum = 0;
    for (int g = 0; g < 16; ++g) isum += sc[g] * dot_codes(q + 16 * g, y[i].qs + 16 * g, 16);
    s += y[i].d * h2f(x[i].d) * float(isum);
  }
  return s;
}

// Q4_K and Q5_K share the super-block arithmetic once their codes q[0..255] are decoded: 8 sub-blocks
// of 32, each with a 6-bit scale and min; the min term uses the activation's per-16 sums (bsums).
template <typename Block>
float k4_superblock_dot(const Block& x, const BlockQ8_K& y, const int8_t* q) {
  int isum = 0, msum = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k4_scale_min(j, x.scales, sc, m);
    isum += sc * dot_codes(q + 32 * j, y.qs + 32 * j, 32);
    msum += m * (y.bsums[2 * j] + y.bsums[2 * j + 1]);
  }
  return y.d * (h2f(x.d) * float(isum) - h2f(x.dmin) * float(msum));
}

float dot_q4_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    // Sub-blocks 2c and 2c+1: low and high nibbles of qs[32c .. 32c+31].
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        q[64 * c + l] = int8_t(x[i].qs[32 * c + l] & 0xf);
        q[64 * c + 32 + l] = int8_t(x[i].qs[32 * c + l] >> 4);
      }
    s += k4_superblock_dot(x[i], y[i], q);
  }
  return s;
}

float dot_q5_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    // As Q4_K, plus bit j of qh[l] as the 5th bit of element l of sub-block j.
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const int hb = x[i].qh[l] >> (2 * c);
        q[64 * c + l] = int8_t((x[i].qs[32 * c + l] & 0xf) | ((hb & 1) << 4));
        q[64 * c + 32 + l] = int8_t((x[i].qs[32 * c + l] >> 4) | ((hb & 2) << 3));
      }
    s += k4_superblock_dot(x[i], y[i], q);
  }
  return s;
}

float dot_q6_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[QK_K];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    // Half h, l in 0..31: ql[64h + l] holds elements l (low nibble) and l + 64 (high), ql[64h + 32 + l]
    // elements l + 32 and l + 96; qh[32h + l] their high 2 bits at bits 0, 2, 4, 6 (in order l, +32, +64, +96).
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[i].ql + 64 * h;
      const uint8_t* qh = x[i].qh + 32 * h;
      int8_t* out = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        out[l] = int8_t(((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32);
        out[l + 32] = int8_t(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
        out[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        out[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int isum = 0;
    for (int g = 0; g < 16; ++g) isum += x[i].scales[g] * dot_codes(q + 16 * g, y[i].qs + 16 * g, 16);
    s += y[i].d * h2f(x[i].d) * float(isum);
  }
  return s;
}

float dot_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int sum = 0;
    for (int j = 0; j < QK_K; ++j) sum += x[i].qs[j] * y[i].qs[j];
    s += x[i].d * y[i].d * float(sum);
  }
  return s;
}

float dot_iq4_xs(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float s = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / QK_K; ++i) {
    int isum = 0;
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* qs = x[i].qs + 16 * ib;
      for (int j = 0; j < 16; ++j) q[j] = kIq4nlValues[qs[j] & 0xf], q[j + 16] = kIq4nlValues[qs[j] >> 4];
      isum += iq4xs_scale(x[i], ib) * dot_codes(q, y[i].qs + 32 * ib, 32);
    }
    s += y[i].d * h2f(x[i].d) * float(isum);
  }
  return s;
}

}  // namespace

DotFn scalar_kernel(Type t) {
  switch (t) {
    case Type::F32: return dot_f32;
    case Type::F16: return dot_f16;
    case Type::BF16: return dot_bf16;
    case Type::Q4_0: return dot_q4_0;
    case Type::Q4_1: return dot_q4_1;
    case Type::Q5_0: return dot_q5_0;
    case Type::Q5_1: return dot_q5_1;
    case Type::Q8_0: return dot_q8_0;
    case Type::Q8_1: return dot_q8_1;
    case Type::Q2_K: return dot_q2_k;
    case Type::Q3_K: return dot_q3_k;
    case Type::Q4_K: return dot_q4_k;
    case Type::Q5_K: return dot_q5_k;
    case Type::Q6_K: return dot_q6_k;
    case Type::Q8_K: return dot_q8_k;
    case Type::IQ4_NL: return dot_iq4_nl;
    case Type::IQ4_XS: return dot_iq4_xs;
    default: return nullptr;
  }
}

}  // namespace penser::quant::detail
