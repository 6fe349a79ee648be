// Random weight matrices of every quant type and their dequantized reference, shared by the op suites.
#pragma once

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "inference/quant/quant.h"
#include "tests/vulkan/vk_fixture.h"

namespace vkt {

using penser::quant::Type;

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline void put_f16(std::vector<uint8_t>& row, size_t at, float v) {
  const uint16_t h = quant::f32_to_f16(v);
  std::memcpy(row.data() + at, &h, 2);
}

// A weight matrix of random bits: every quant field takes arbitrary values, except the f16 scales, which
// are set to small finite numbers (ggml's block layouts name where they are).
inline std::vector<uint8_t> random_matrix(Type type, uint32_t ncols, uint32_t nrows, uint32_t seed) {
  const size_t row_bytes = quant::row_size(type, ncols);
  std::vector<uint8_t> m(row_bytes * nrows);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  if (type == Type::F32 || type == Type::F16 || type == Type::BF16) {
    const auto v = random_floats(size_t(ncols) * nrows, seed);
    for (size_t i = 0; i < v.size(); ++i) {
      if (type == Type::F32) std::memcpy(m.data() + 4 * i, &v[i], 4);
      else {
        const uint16_t h = type == Type::F16 ? quant::f32_to_f16(v[i]) : quant::f32_to_bf16(v[i]);
        std::memcpy(m.data() + 2 * i, &h, 2);
      }
    }
    return m;
  }
  for (uint8_t& b : m) b = uint8_t(rng());
  const auto& t = quant::traits(type);
  struct Field { size_t at; };
  std::vector<size_t> halves;  // byte offsets of the f16 scale fields in one block
  switch (type) {
    case Type::Q4_0: case Type::Q5_0: case Type::Q8_0: case Type::IQ4_NL: case Type::IQ4_XS: halves = {0}; break;
    case Type::Q4_1: case Type::Q5_1: case Type::Q4_K: case Type::Q5_K: halves = {0, 2}; break;
    case Type::Q2_K: halves = {80, 82}; break;
    case Type::Q3_K: halves = {108}; break;
    case Type::Q6_K: halves = {208}; break;
    default: qFatal("no test layout for %s", t.name);
  }
  for (size_t b = 0; b < m.size() / t.type_size; ++b)
    for (size_t h : halves) put_f16(m, b * t.type_size + h, scale(rng));
  return m;
}

inline std::vector<float> dequantized(Type type, const std::vector<uint8_t>& m, uint32_t ncols, uint32_t nrows) {
  std::vector<float> out(size_t(ncols) * nrows);
  const size_t rb = quant::row_size(type, ncols);
  for (uint32_t r = 0; r < nrows; ++r) quant::dequantize_row(type, m.data() + r * rb, out.data() + size_t(r) * ncols, ncols);
  return out;
}

// What the op suites' two products leave (the plain one, then one adding bias[2 + r] and accumulating), in
// double precision: 2 W x_n + bias for token n's x at x_off + n * x_stride, [n_tokens][nrows].
inline std::vector<float> twice_product_plus_bias(const std::vector<float>& w, uint32_t ncols, uint32_t nrows,
                                                  const std::vector<float>& x, uint32_t x_off, uint32_t x_stride,
                                                  uint32_t n_tokens, const std::vector<float>& bias) {
  std::vector<float> out(size_t(n_tokens) * nrows);
  for (uint32_t n = 0; n < n_tokens; ++n)
    for (uint32_t r = 0; r < nrows; ++r) {
      double s = 0;
      for (uint32_t c = 0; c < ncols; ++c) s += double(w[size_t(r) * ncols + c]) * x[x_off + size_t(n) * x_stride + c];
      out[size_t(n) * nrows + r] = float(2 * s + bias[2 + r]);
    }
  return out;
}

// What a product with SwiGLU folded in leaves (Ops::mul_mv / mul_mm with swiglu_out), in double precision:
// w is [gate | up] (nrows / 2 rows each), out[n][r] = silu(gate_r . x_n) * (up_r . x_n) for token n's x at
// x_off + n * x_stride, [n_tokens][nrows / 2].
inline std::vector<float> swiglu_of_products(const std::vector<float>& w, uint32_t ncols, uint32_t nrows,
                                             const std::vector<float>& x, uint32_t x_off, uint32_t x_stride,
                                             uint32_t n_tokens) {
  const uint32_t half = nrows / 2;
  std::vector<float> out(size_t(n_tokens) * half);
  for (uint32_t n = 0; n < n_tokens; ++n)
    for (uint32_t r = 0; r < half; ++r) {
      double g = 0, u = 0;
      for (uint32_t c = 0; c < ncols; ++c) {
        const double xv = x[x_off + size_t(n) * x_stride + c];
        g += double(w[size_t(r) * ncols + c]) * xv;
        u += double(w[size_t(half + r) * ncols + c]) * xv;
      }
      out[size_t(n) * half + r] = float(g / (1.0 + std::exp(-g)) * u);
    }
  return out;
}

inline const Type kTypes[] = {Type::F32,  Type::F16,  Type::BF16, Type::Q4_0, Type::Q4_1,   Type::Q5_0,  Type::Q5_1, Type::Q8_0,
                       Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::IQ4_NL, Type::IQ4_XS};

// A matrix stored interleaved (Matrix::interleaved, as the loader stores it on CPU implementations) in new
// buffers: rows [0, split) in the first, `at` bytes in, and the rest (if split < nrows) in a second buffer,
// 48 bytes in, as two parts (weights in parts). split and nrows: multiples of 8.
struct InterleavedMatrix {
  std::vector<std::unique_ptr<Buffer>> buffers;
  Matrix m;
};
inline InterleavedMatrix interleaved_matrix(Device& d, Type type, uint32_t ncols, uint32_t nrows,
                                            const std::vector<uint8_t>& rows, uint64_t at, uint32_t split) {
  InterleavedMatrix out;
  std::vector<uint8_t> il(Matrix::interleaved_stride(type, ncols) * nrows);
  interleave_rows(type, ncols, rows.data(), nrows, il.data());
  const uint64_t stride = Matrix::interleaved_stride(type, ncols);
  std::vector<uint8_t> first(at, 0xAB);
  first.insert(first.end(), il.begin(), il.begin() + split * stride);
  out.buffers.push_back(make_buffer(d, first));
  out.m = Matrix{out.buffers[0].get(), at, type, ncols, nrows};
  out.m.interleaved = true;
  if (split < nrows) {
    std::vector<uint8_t> second(48, 0xCD);
    second.insert(second.end(), il.begin() + split * stride, il.end());
    out.buffers.push_back(make_buffer(d, second));
    out.m.parts = {{out.buffers[0].get(), at, 0, split}, {out.buffers[1].get(), 48, split, nrows - split}};
  }
  return out;
}

// A merged [gate | up] matrix of nrows rows (nrows / 2 each) for the SwiGLU-fold suites, named as the loader
// names it ("ffn_gate_up.weight", the profile's label), interleaved at `at` bytes into its buffer or in the
// file layout, with its dequantized reference.
struct GateUpMatrix {
  std::vector<float> w;       // dequantized, nrows x ncols
  InterleavedMatrix il;       // interleaved: its buffers
  std::unique_ptr<Buffer> file;  // the file layout's buffer
  Matrix m;
};
inline GateUpMatrix gate_up_matrix(Device& d, Type type, uint32_t ncols, uint32_t nrows, uint32_t seed, bool interleaved,
                                   uint64_t at) {
  GateUpMatrix out;
  const auto rows = random_matrix(type, ncols, nrows, seed);
  out.w = dequantized(type, rows, ncols, nrows);
  if (interleaved) {
    out.il = interleaved_matrix(d, type, ncols, nrows, rows, at, nrows);
    out.m = out.il.m;
  } else {
    out.file = make_buffer(d, rows);
    out.m = Matrix{out.file.get(), 0, type, ncols, nrows};
  }
  out.m.name = "ffn_gate_up.weight";
  return out;
}

}  // namespace vkt
