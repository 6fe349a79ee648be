// vec_dot dispatch: the SIMD kernel the CPU supports (chosen once), else the scalar reference.
#include "inference/common/result.h"
#include "inference/quant/blocks.h"

namespace penser::quant {

Type vec_dot_type(Type weight_type) {
  switch (weight_type) {
    case Type::F32:
    case Type::F16:
    case Type::BF16: return Type::F32;
    case Type::Q4_0:
    case Type::Q5_0:
    case Type::Q8_0:
    case Type::IQ4_NL: return Type::Q8_0;
    case Type::Q4_1:
    case Type::Q5_1:
    case Type::Q8_1: return Type::Q8_1;  // carries d * sum(q) for the min term
    case Type::Q2_K:
    case Type::Q3_K:
    case Type::Q4_K:
    case Type::Q5_K:
    case Type::Q6_K:
    case Type::Q8_K:
    case Type::IQ4_XS: return Type::Q8_K;
    default: PENSER_ASSERT(!"vec_dot_type: type without a dot kernel"); return Type::F32;
  }
}

namespace {
struct Table {
  detail::DotFn fn[64] = {};
  Table() {
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_dequantize) continue;
      fn[id] = detail::simd_kernel(t->type);
      if (!fn[id]) fn[id] = detail::scalar_kernel(t->type);
    }
  }
};
const Table& table() {
  static const Table t;
  return t;
}
}  // namespace

float vec_dot(Type weight_type, int64_t n, const void* weight_row, const void* act_row) {
  const auto id = uint32_t(weight_type);
  const detail::DotFn fn = id < 64 ? table().fn[id] : nullptr;
  PENSER_ASSERT(fn != nullptr);
  PENSER_ASSERT(n % traits(weight_type).block_size == 0);
  return fn(n, weight_row, act_row);
}

const char* vec_dot_isa(Type weight_type) {
  return detail::simd_kernel(weight_type) ? "avx2" : "scalar";
}

float vec_dot_scalar(Type weight_type, int64_t n, const void* weight_row, const void* act_row) {
  const detail::DotFn fn = detail::scalar_kernel(weight_type);
  PENSER_ASSERT(fn != nullptr);
  PENSER_ASSERT(n % traits(weight_type).block_size == 0);
  return fn(n, weight_row, act_row);
}

}  // namespace penser::quant
