// Small f32 kernels of the CPU forward pass (norms, RoPE, activations, f16 attention dots).
// The matrix-vector products on quantized weights are quant::vec_dot; these are the rest.
#pragma once

#include <cstdint>

namespace penser::cpu {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i < n. out may alias x.
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);

// Rotates one head of `head_dim` values in place by the angles pos * inv_freq[i], i < head_dim / 2,
// given as cos_sin[2i] = cos, cos_sin[2i + 1] = sin.
// neox: pairs (i, i + head_dim/2) (GPT-NeoX, Qwen); otherwise adjacent pairs (2i, 2i + 1) (GGUF llama).
void rope(float* head, const float* cos_sin, int64_t head_dim, bool neox);

// out[i] = silu(gate[i]) * up[i] (SwiGLU).
void swiglu(const float* gate, const float* up, float* out, int64_t n);

// sum a[i] * f16(b[i]), i < n.
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
// y[i] += alpha * f16(x[i]), i < n.
void axpy_f16(float alpha, const uint16_t* x, float* y, int64_t n);
// dst[i] = f16(src[i]).
void to_f16(const float* src, uint16_t* dst, int64_t n);

}  // namespace penser::cpu
