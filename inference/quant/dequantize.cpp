// Reference dequantizers: one loop per type, written from the block layouts in blocks.h.
#include <cstring>

#include "inference/common/result.h"
#include "inference/quant/blocks.h"

namespace penser::quant {
namespace {
using namespace detail;

float h2f(uint16_t h) { return f16_to_f32(h); }

void deq_q4_0(const BlockQ4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * float((b[i].qs[j] & 0xf) - 8);
      y[j + 16] = d * float((b[i].qs[j] >> 4) - 8);
    }
  }
}

void deq_q4_1(const BlockQ4_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * float(b[i].qs[j] & 0xf) + m;
      y[j + 16] = d * float(b[i].qs[j] >> 4) + m;
    }
  }
}

template <typename B>
uint32_t qh_bits(const B& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  return qh;
}

void deq_q5_0(const BlockQ5_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d);
    const uint32_t qh = qh_bits(b[i]);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0xf) | int(((qh >> j) & 1) << 4);
      const int q1 = (b[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      y[j] = d * float(q0 - 16);
      y[j + 16] = d * float(q1 - 16);
    }
  }
}

void deq_q5_1(const BlockQ5_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    const uint32_t qh = qh_bits(b[i]);
    for (int j = 0; j < 16; ++j) {
      const int q0 = (b[i].qs[j] & 0xf) | int(((qh >> j) & 1) << 4);
      const int q1 = (b[i].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      y[j] = d * float(q0) + m;
      y[j + 16] = d * float(q1) + m;
    }
  }
}

void deq_q8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < QK; ++j) y[j] = d * float(b[i].qs[j]);
  }
}

void deq_q8_1(const BlockQ8_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < QK; ++j) y[j] = d * float(b[i].qs[j]);
  }
}

// Q2_K / Q3_K / Q6_K element order inside a super-block: two halves of 128; in a half, byte l (0..31) of
// the 2-bit (or low-4-bit) plane holds elements l, l + 32, l + 64, l + 96 at bit offsets 0, 2, 4, 6.
void deq_q2_k(const BlockQ2_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int e = 0; e < QK_K; ++e) {
      const int half = e / 128, r = e % 128, shift = 2 * (r / 32), l = r % 32;
      const int q = (b[i].qs[32 * half + l] >> shift) & 3;
      const uint8_t sc = b[i].scales[e / 16];
      y[e] = d * float(sc & 0xf) * float(q) - dmin * float(sc >> 4);
    }
  }
}

void deq_q3_k(const BlockQ3_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d);
    int8_t sc[16];
    q3k_scales(b[i].scales, sc);
    for (int e = 0; e < QK_K; ++e) {
      const int half = e / 128, r = e % 128, shift = 2 * (r / 32), l = r % 32;
      const int q = (b[i].qs[32 * half + l] >> shift) & 3;
      const bool high = (b[i].hmask[e % 32] >> (e / 32)) & 1;  // element e: byte e % 32, bit e / 32
      y[e] = d * float(sc[e / 16]) * float(q - (high ? 0 : 4));
    }
  }
}

void deq_q4_k(const BlockQ4_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    // Sub-blocks 2c and 2c+1 share the 32 bytes qs[32c..32c+31]: low nibbles, then high nibbles.
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k4_scale_min(j, b[i].scales, sc, m);
      const uint8_t* q = b[i].qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) y[32 * j + l] = d * float(sc) * float((q[l] >> shift) & 0xf) - dmin * float(m);
    }
  }
}

void deq_q5_k(const BlockQ5_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      k4_scale_min(j, b[i].scales, sc, m);
      const uint8_t* q = b[i].qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 0xf) | (((b[i].qh[l] >> j) & 1) << 4);  // bit j of qh[l]
        y[32 * j + l] = d * float(sc) * float(v) - dmin * float(m);
      }
    }
  }
}

void deq_q6_k(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d);
    for (int e = 0; e < QK_K; ++e) {
      const int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
      // Low 4 bits: ql[64 half + l] for quarters 0/2 (low/high nibble), ql[64 half + 32 + l] for 1/3.
      const uint8_t lbyte = b[i].ql[64 * half + 32 * (quarter % 2) + l];
      const int lo = (lbyte >> (4 * (quarter / 2))) & 0xf;
      const int hi = (b[i].qh[32 * half + l] >> (2 * quarter)) & 3;
      y[e] = d * float(b[i].scales[e / 16]) * float((lo | (hi << 4)) - 32);
    }
  }
}

void deq_q8_k(const BlockQ8_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K)
    for (int j = 0; j < QK_K; ++j) y[j] = b[i].d * float(b[i].qs[j]);
}

void deq_iq4_nl(const BlockIQ4_NL* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * float(kIq4nlValues[b[i].qs[j] & 0xf]);
      y[j + 16] = d * float(kIq4nlValues[b[i].qs[j] >> 4]);
    }
  }
}

void deq_iq4_xs(const BlockIQ4_XS* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += QK_K) {
    const float d = h2f(b[i].d);
    for (int ib = 0; ib < 8; ++ib) {
      const float dl = d * float(iq4xs_scale(b[i], ib));
      const uint8_t* q = b[i].qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        y[32 * ib + j] = dl * float(kIq4nlValues[q[j] & 0xf]);
        y[32 * ib + j + 16] = dl * float(kIq4nlValues[q[j] >> 4]);
      }
    }
  }
}

}  // namespace

void dequantize_row(Type type, const void* src, float* dst, int64_t n) {
  const TypeTraits& t = traits(type);
  PENSER_ASSERT(t.can_dequantize);
  PENSER_ASSERT(n >= 0 && n % t.block_size == 0);
  const int64_t nb = n / t.block_size;
  switch (type) {
    case Type::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case Type::F16: return f16_to_f32_row(static_cast<const uint16_t*>(src), dst, n);
    case Type::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
      return;
    }
    case Type::Q4_0: return deq_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb);
    case Type::Q4_1: return deq_q4_1(static_cast<const BlockQ4_1*>(src), dst, nb);
    case Type::Q5_0: return deq_q5_0(static_cast<const BlockQ5_0*>(src), dst, nb);
    case Type::Q5_1: return deq_q5_1(static_cast<const BlockQ5_1*>(src), dst, nb);
    case Type::Q8_0: return deq_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
    case Type::Q8_1: return deq_q8_1(static_cast<const BlockQ8_1*>(src), dst, nb);
    case Type::Q2_K: return deq_q2_k(static_cast<const BlockQ2_K*>(src), dst, nb);
    case Type::Q3_K: return deq_q3_k(static_cast<const BlockQ3_K*>(src), dst, nb);
    case Type::Q4_K: return deq_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb);
    case Type::Q5_K: return deq_q5_k(static_cast<const BlockQ5_K*>(src), dst, nb);
    case Type::Q6_K: return deq_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb);
    case Type::Q8_K: return deq_q8_k(static_cast<const BlockQ8_K*>(src), dst, nb);
    case Type::IQ4_NL: return deq_iq4_nl(static_cast<const BlockIQ4_NL*>(src), dst, nb);
    case Type::IQ4_XS: return deq_iq4_xs(static_cast<const BlockIQ4_XS*>(src), dst, nb);
    default: PENSER_ASSERT(!"dequantize_row: type without a dequantizer");
  }
}

}  // namespace penser::quant
