// The type table, names, row sizes, fp16/bf16 conversions and the Q4_K_M mix policy.
#include "inference/quant/quant.h"

#include <array>
#include <cctype>
#include <cmath>

#include "inference/common/result.h"

namespace penser::quant {
namespace {

// block_size / type_size per ggml's block structs (ggml-common.h), checked against their static_asserts:
// e.g. block_q4_K = d, dmin (2 x f16) + 12 scale bytes + 128 nibble bytes = 144 for 256 weights.
constexpr TypeTraits kTypes[] = {
    {Type::F32, "F32", 1, 4, true, true},
    {Type::F16, "F16", 1, 2, true, true},
    {Type::Q4_0, "Q4_0", 32, 18, true, true},      // f16 d, 16 B nibbles
    {Type::Q4_1, "Q4_1", 32, 20, true, true},      // f16 d, f16 m, 16 B nibbles
    {Type::Q5_0, "Q5_0", 32, 22, true, true},      // f16 d, 4 B high bits, 16 B nibbles
    {Type::Q5_1, "Q5_1", 32, 24, true, true},      // f16 d, f16 m, 4 B high bits, 16 B nibbles
    {Type::Q8_0, "Q8_0", 32, 34, true, true},      // f16 d, 32 x i8
    {Type::Q8_1, "Q8_1", 32, 36, true, true},      // f16 d, f16 s = d * sum(q), 32 x i8
    {Type::Q2_K, "Q2_K", 256, 84, true, true},    // 16 B scales/mins, 64 B quants, f16 d, f16 dmin
    {Type::Q3_K, "Q3_K", 256, 110, true, true},   // 32 B hmask, 64 B quants, 12 B scales, f16 d
    {Type::Q4_K, "Q4_K", 256, 144, true, true},    // f16 d, f16 dmin, 12 B scales/mins, 128 B nibbles
    {Type::Q5_K, "Q5_K", 256, 176, true, true},    // f16 d, f16 dmin, 12 B scales/mins, 32 B qh, 128 B qs
    {Type::Q6_K, "Q6_K", 256, 210, true, true},    // 128 B ql, 64 B qh, 16 x i8 scales, f16 d
    {Type::Q8_K, "Q8_K", 256, 292, true, true},    // f32 d, 256 x i8, 16 x i16 bsums
    {Type::IQ2_XXS, "IQ2_XXS", 256, 66, false, false},
    {Type::IQ2_XS, "IQ2_XS", 256, 74, false, false},
    {Type::IQ3_XXS, "IQ3_XXS", 256, 98, false, false},
    {Type::IQ1_S, "IQ1_S", 256, 50, false, false},
    {Type::IQ4_NL, "IQ4_NL", 32, 18, true, true},  // f16 d, 16 B nibbles indexing a fixed table
    {Type::IQ3_S, "IQ3_S", 256, 110, false, false},
    {Type::IQ2_S, "IQ2_S", 256, 82, false, false},
    {Type::IQ4_XS, "IQ4_XS", 256, 136, true, true},  // f16 d, u16 scales_h, 4 B scales_l, 128 B nibbles
    {Type::I8, "I8", 1, 1, false, false},
    {Type::I16, "I16", 1, 2, false, false},
    {Type::I32, "I32", 1, 4, false, false},
    {Type::I64, "I64", 1, 8, false, false},
    {Type::F64, "F64", 1, 8, false, false},
    {Type::IQ1_M, "IQ1_M", 256, 56, false, false},
    {Type::BF16, "BF16", 1, 2, true, true},
    {Type::TQ1_0, "TQ1_0", 256, 54, false, false},
    {Type::TQ2_0, "TQ2_0", 256, 66, false, false},
    {Type::MXFP4, "MXFP4", 32, 17, false, false},  // u8 E8M0 exponent, 16 B fp4 nibbles
};

constexpr uint32_t kMaxId = 40;

constexpr std::array<int8_t, kMaxId> make_index() {
  std::array<int8_t, kMaxId> idx{};
  for (auto& i : idx) i = -1;
  for (size_t i = 0; i < sizeof(kTypes) / sizeof(kTypes[0]); ++i) idx[uint32_t(kTypes[i].type)] = int8_t(i);
  return idx;
}
constexpr std::array<int8_t, kMaxId> kIndex = make_index();

}  // namespace

const TypeTraits* traits(uint32_t type_id) {
  if (type_id >= kMaxId || kIndex[type_id] < 0) return nullptr;
  return &kTypes[kIndex[type_id]];
}

const TypeTraits& traits(Type type) {
  const TypeTraits* t = traits(uint32_t(type));
  PENSER_ASSERT(t != nullptr);
  return *t;
}

std::optional<Type> type_from_name(std::string_view name) {
  for (const TypeTraits& t : kTypes) {
    std::string_view n = t.name;
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size() && same; ++i)
      same = std::toupper(static_cast<unsigned char>(name[i])) == static_cast<unsigned char>(n[i]);
    if (same) return t.type;
  }
  return std::nullopt;
}

size_t row_size(Type type, int64_t n) {
  const TypeTraits& t = traits(type);
  PENSER_ASSERT(n >= 0 && n % t.block_size == 0);
  return size_t(n / t.block_size) * t.type_size;
}

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Computed once into a table.
static float f16_to_f32_compute(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in f32.
    float f = float(mant) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, or nan with its payload
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

namespace {
struct HalfTable {
  float v[65536];
  HalfTable() {
    for (uint32_t h = 0; h < 65536; ++h) v[h] = f16_to_f32_compute(uint16_t(h));
  }
};
const HalfTable& half_table() {
  static const HalfTable table;
  return table;
}
}  // namespace

float f16_to_f32(uint16_t h) { return half_table().v[h]; }

uint16_t f32_to_f16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t a = u & 0x7fffffff;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00 | ((a >> 13) & 0x3ff));  // nan stays a (quiet) nan
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // >= 65520 rounds to inf (65504 is odd)
  if (a < 0x38800000u) {
    // Below 2^-14: a half subnormal q * 2^-24, q = round_even(value * 2^24).
    const uint32_t exp = a >> 23;
    if (exp < 102) return sign;  // below 2^-25: rounds to zero
    const uint32_t mant = (a & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - exp;  // value * 2^24 = mant * 2^(exp - 126)
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t h = (a >> 13) - (112u << 10);
  const uint32_t rem = a & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // a carry moves into the exponent, as it should
  return uint16_t(sign | h);
}

uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet the nan
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

// llama.cpp's llama_tensor_get_type() for LLAMA_FTYPE_MOSTLY_Q4_K_M and _Q5_K_M (src/llama-quant.cpp, 2025):
//   use_more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2
//   output.weight (or token_embd.weight when the model has no output.weight) -> Q6_K
//   attn_v.weight, ffn_down.weight where use_more_bits(layer, n_layer)       -> Q6_K
//   attn_qkv.weight (fused QKV, not used by qwen2/llama/qwen3 GGUFs)            -> Q5_K (Q4_K_M), Q6_K (Q5_K_M)
//   everything else (token_embd included)                                    -> Q4_K (Q4_K_M), Q5_K (Q5_K_M)
// Not modelled: the 70B rule (attn_v Q4_K -> Q5_K when the model type is 70B), Falcon and MoE rules, and
// output.weight -> Q8_0 when its rows are not a multiple of 256 (use k_fallback_type for the others).
static bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Type k_m_type_for(Type base, std::string_view tensor_name, int layer, int n_layer, bool model_has_output) {
  PENSER_ASSERT(base == Type::Q4_K || base == Type::Q5_K);
  if (tensor_name == "output.weight") return Type::Q6_K;
  if (tensor_name == "token_embd.weight") return model_has_output ? base : Type::Q6_K;
  if (ends_with(tensor_name, "attn_qkv.weight")) return base == Type::Q4_K ? Type::Q5_K : Type::Q6_K;
  if (ends_with(tensor_name, "attn_v.weight") || ends_with(tensor_name, "ffn_down.weight")) {
    PENSER_ASSERT(layer >= 0 && layer < n_layer);
    return use_more_bits(layer, n_layer) ? Type::Q6_K : base;
  }
  return base;
}

Type k_fallback_type(Type type) {
  switch (type) {
    case Type::Q2_K:
    case Type::Q3_K:
    case Type::IQ4_XS: return Type::IQ4_NL;
    case Type::Q4_K: return Type::Q5_0;
    case Type::Q5_K: return Type::Q5_1;
    case Type::Q6_K: return Type::Q8_0;
    default: return type;
  }
}

}  // namespace penser::quant
