// Tensor element types as GGUF files store them (ggml's type ids and block layouts), and the CPU
// reference for each: dequantize, quantize, and the dot products the CPU matrix-vector kernels use.
//
// Layout facts follow ggml's published format (ggml-common.h); the code here is Penser's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace penser::quant {

// The numeric ids are part of the GGUF format: never renumber.
enum class Type : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35,
  MXFP4 = 39,  // known (sizes only), not computed with
};
// Ids 4, 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4 ...) and 36-38 (IQ4_NL_4_4 ...) were removed from ggml:
// traits() answers nullptr for them, as for any unknown id.

struct TypeTraits {
  Type type;
  const char* name;       // "Q4_K", as ggml and GGUF tools print it
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t type_size;     // bytes per block
  bool can_dequantize;    // Penser has a reference dequantizer for it
  bool can_quantize;      // Penser can write it
};

// Traits of a type id read from a file; nullptr for an id that no known ggml version uses.
const TypeTraits* traits(uint32_t type_id);
const TypeTraits& traits(Type type);
std::optional<Type> type_from_name(std::string_view name);  // case-insensitive: "q4_k", "F16"
inline const char* type_name(Type t) { return traits(t).name; }

// Bytes taken by n elements of a type; n must be a multiple of the block size.
size_t row_size(Type type, int64_t n);

// dst[0..n) = the values of the n elements at src. n is a multiple of the block size.
// Types with can_dequantize == false must not be passed (PENSER_ASSERT).
void dequantize_row(Type type, const void* src, float* dst, int64_t n);

// Writes n values as type (can_quantize == true). n is a multiple of the block size.
void quantize_row(Type type, const float* src, void* dst, int64_t n);

// Dot products for matrix-vector work. The activation vector is quantized once per matvec to
// vec_dot_type(weight type) (Q8_0 for the 32-blocks, Q8_K for the K and IQ4_XS 256-blocks, F32 for
// F32/F16/BF16), then each weight row is dotted with it. Picks the best kernel the CPU supports (AVX2,
// AVX-512, NEON) at run time; the scalar kernel is the reference every SIMD kernel is tested against.
Type vec_dot_type(Type weight_type);
float vec_dot(Type weight_type, int64_t n, const void* weight_row, const void* act_row);
float vec_dot_scalar(Type weight_type, int64_t n, const void* weight_row, const void* act_row);
// The instruction set vec_dot uses for a weight type on this CPU: "avx2" or "scalar".
const char* vec_dot_isa(Type weight_type);

// fp16 / bf16 scalar conversions (IEEE binary16; bf16 = top 16 bits of an f32, round to nearest even).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f32_to_bf16(float f);

// Row conversions (F16C where the CPU has it); bit-identical to the scalar functions above.
void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n);

// The K_M mixes (Q4_K_M, Q5_K_M) as llama.cpp's quantizer lays them out for these architectures: `base`
// (Q4_K or Q5_K) by default; Q6_K for output.weight, and for attn_v / ffn_down in the layers where the mix
// spends more bits.
// Tensors that stay F32 (norms, biases, 1-D) are the caller's business: this is for 2-D weights.
// model_has_output = false (tied embeddings): token_embd.weight plays output's part and gets Q6_K.
// layer is the block index ("blk.N."), ignored for tensors outside the blocks.
// Row lengths that are not a multiple of 256 cannot take a K type: see k_fallback_type().
Type k_m_type_for(Type base, std::string_view tensor_name, int layer, int n_layer, bool model_has_output = true);

// llama.cpp's substitute when a row length is not a multiple of 256: Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, Q2_K/Q3_K -> IQ4_NL, IQ4_XS -> IQ4_NL; other types are returned unchanged.
Type k_fallback_type(Type type);

}  // namespace penser::quant
