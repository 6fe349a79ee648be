// fp16 row conversions: F16C on x86-64 when present (chosen once), else the scalar functions.
#include "inference/quant/blocks.h"
#include "inference/quant/quant.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PENSER_HAVE_F16C_PATH 1
#endif

namespace penser::quant {
namespace {

#if PENSER_HAVE_F16C_PATH
__attribute__((target("avx2,f16c"))) void f16_to_f32_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

__attribute__((target("avx2,f16c"))) void f32_to_f16_f16c(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

#endif

}  // namespace

void f16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
#if PENSER_HAVE_F16C_PATH
  static const bool f16c = detail::cpu_has_avx2_fma_f16c();
  if (f16c) return f16_to_f32_f16c(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(src[i]);
}

void f32_to_f16_row(const float* src, uint16_t* dst, int64_t n) {
#if PENSER_HAVE_F16C_PATH
  static const bool f16c = detail::cpu_has_avx2_fma_f16c();
  if (f16c) return f32_to_f16_f16c(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_f16(src[i]);
}

}  // namespace penser::quant
