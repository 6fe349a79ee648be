// Hand-built blocks: each block is assembled bit by bit from ggml's field order (ggml-common.h), using
// byte offsets rather than Penser's structs, and the expected values come from the format's formula.
// Then: quantize -> dequantize error per type (Gaussian, weight-like, ggml's own synthetic test data).
#include <QtTest>

#include <cmath>
#include <functional>

#include "inference/quant/quant.h"
#include "quant_test_util.h"

using namespace penser::quant;
using quant_test::gaussian;
using quant_test::weight_like;

namespace {

const int8_t kIq4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

struct Built {
  std::vector<uint8_t> bytes;
  std::vector<double> expected;
};

class Builder {
 public:
  explicit Builder(uint32_t seed) : rng_(seed) {}
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // A random f16 with |value| in [2^-8, 2^2): returns the bits; value() reads it back exactly.
  uint16_t half(bool allow_negative = true) {
    const int exp = uniform(7, 16), mant = uniform(0, 1023);
    const int sign = allow_negative ? uniform(0, 1) : 0;
    return uint16_t((sign << 15) | (exp << 10) | mant);
  }
  static double value(uint16_t h) { return double(f16_to_f32(h)); }

 private:
  std::mt19937 rng_;
};

void put16(std::vector<uint8_t>& b, size_t off, uint16_t v) { b[off] = uint8_t(v & 0xff), b[off + 1] = uint8_t(v >> 8); }
void set_bits(std::vector<uint8_t>& b, size_t byte, int shift, int nbits, int value) {
  b[byte] = uint8_t(b[byte] | ((value & ((1 << nbits) - 1)) << shift));
}

// One block of each type. `o` is the block's byte offset inside the row.
using BuildFn = std::function<void(Builder&, std::vector<uint8_t>&, size_t o, std::vector<double>&)>;

void b_q4_0(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(0, 15);
    set_bits(b, o + 2 + e % 16, 4 * (e / 16), 4, q);
    y.push_back(Builder::value(d) * (q - 8));
  }
}
void b_q4_1(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half(), m = r.half();
  put16(b, o, d), put16(b, o + 2, m);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(0, 15);
    set_bits(b, o + 4 + e % 16, 4 * (e / 16), 4, q);
    y.push_back(Builder::value(d) * q + Builder::value(m));
  }
}
void b_q5_0(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(0, 31);
    set_bits(b, o + 6 + e % 16, 4 * (e / 16), 4, q & 15);
    set_bits(b, o + 2 + e / 8, e % 8, 1, q >> 4);  // bit e of the little-endian u32
    y.push_back(Builder::value(d) * (q - 16));
  }
}
void b_q5_1(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half(), m = r.half();
  put16(b, o, d), put16(b, o + 2, m);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(0, 31);
    set_bits(b, o + 8 + e % 16, 4 * (e / 16), 4, q & 15);
    set_bits(b, o + 4 + e / 8, e % 8, 1, q >> 4);
    y.push_back(Builder::value(d) * q + Builder::value(m));
  }
}
void b_q8_0(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(-128, 127);
    b[o + 2 + e] = uint8_t(int8_t(q));
    y.push_back(Builder::value(d) * q);
  }
}
void b_q8_1(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  int sum = 0;
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(-127, 127);
    b[o + 4 + e] = uint8_t(int8_t(q));
    sum += q;
    y.push_back(Builder::value(d) * q);
  }
  put16(b, o + 2, f32_to_f16(float(Builder::value(d) * sum)));
}
// 2-bit planes of Q2_K / Q3_K: element e sits in byte 32 * (e / 128) + e % 32 at bit 2 * ((e % 128) / 32).
void put_2bit(std::vector<uint8_t>& b, size_t qs, int e, int q) { set_bits(b, qs + 32 * (e / 128) + e % 32, 2 * ((e % 128) / 32), 2, q); }

void b_q2_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half(false), dmin = r.half(false);
  put16(b, o + 80, d), put16(b, o + 82, dmin);
  int sc[16], mn[16];
  for (int g = 0; g < 16; ++g) sc[g] = r.uniform(0, 15), mn[g] = r.uniform(0, 15), b[o + g] = uint8_t(sc[g] | (mn[g] << 4));
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 3);
    put_2bit(b, o + 16, e, q);
    y.push_back(Builder::value(d) * sc[e / 16] * q - Builder::value(dmin) * mn[e / 16]);
  }
}
void b_q3_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o + 108, d);
  int sc[16];
  for (int i = 0; i < 16; ++i) {
    const int u = r.uniform(0, 63);
    sc[i] = u - 32;
    set_bits(b, o + 96 + i % 8, 4 * (i / 8), 4, u & 15);         // low nibble: byte i % 8, nibble i / 8
    set_bits(b, o + 96 + 8 + i % 4, 2 * (i / 4), 2, u >> 4);     // high 2 bits: byte 8 + i % 4
  }
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 7);  // 3-bit value; the stored high bit is q >> 2, the value is q - 4
    put_2bit(b, o + 32, e, q & 3);
    set_bits(b, o + e % 32, e / 32, 1, q >> 2);
    y.push_back(Builder::value(d) * sc[e / 16] * (q - 4));
  }
}
// Q4_K / Q5_K 12-byte scales: sub-blocks 0-3 in the low 6 bits of bytes 0-3 (scale) and 4-7 (min);
// 4-7 as nibbles of bytes 8-11 (scale low, min high) with their top 2 bits in the top of bytes 0-3 / 4-7.
void put_k4_scales(std::vector<uint8_t>& b, size_t s, const int sc[8], const int mn[8]) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      set_bits(b, s + j, 0, 6, sc[j]);
      set_bits(b, s + j + 4, 0, 6, mn[j]);
    } else {
      set_bits(b, s + j + 4, 0, 4, sc[j] & 15);
      set_bits(b, s + j + 4, 4, 4, mn[j] & 15);
      set_bits(b, s + j - 4, 6, 2, sc[j] >> 4);
      set_bits(b, s + j, 6, 2, mn[j] >> 4);
    }
  }
}
void b_q4_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half(false), dmin = r.half(false);
  put16(b, o, d), put16(b, o + 2, dmin);
  int sc[8], mn[8];
  for (int j = 0; j < 8; ++j) sc[j] = r.uniform(0, 63), mn[j] = r.uniform(0, 63);
  put_k4_scales(b, o + 4, sc, mn);
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 15), j = e / 32;
    set_bits(b, o + 16 + 32 * (j / 2) + e % 32, 4 * (j % 2), 4, q);
    y.push_back(Builder::value(d) * sc[j] * q - Builder::value(dmin) * mn[j]);
  }
}
void b_q5_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half(false), dmin = r.half(false);
  put16(b, o, d), put16(b, o + 2, dmin);
  int sc[8], mn[8];
  for (int j = 0; j < 8; ++j) sc[j] = r.uniform(0, 63), mn[j] = r.uniform(0, 63);
  put_k4_scales(b, o + 4, sc, mn);
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 31), j = e / 32;
    set_bits(b, o + 48 + 32 * (j / 2) + e % 32, 4 * (j % 2), 4, q & 15);
    set_bits(b, o + 16 + e % 32, j, 1, q >> 4);
    y.push_back(Builder::value(d) * sc[j] * q - Builder::value(dmin) * mn[j]);
  }
}
void b_q6_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o + 208, d);
  int sc[16];
  for (int g = 0; g < 16; ++g) sc[g] = r.uniform(-128, 127), b[o + 192 + g] = uint8_t(int8_t(sc[g]));
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 63), h = e / 128, rr = e % 128;
    set_bits(b, o + 64 * h + rr % 64, 4 * (rr / 64), 4, q & 15);
    set_bits(b, o + 128 + 32 * h + rr % 32, 2 * (rr / 32), 2, q >> 4);
    y.push_back(Builder::value(d) * sc[e / 16] * (q - 32));
  }
}
void b_q8_k(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const float d = float(Builder::value(r.half()));
  std::memcpy(b.data() + o, &d, 4);
  int sums[16] = {};
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(-127, 127);
    b[o + 4 + e] = uint8_t(int8_t(q));
    sums[e / 16] += q;
    y.push_back(double(d) * q);
  }
  for (int g = 0; g < 16; ++g) put16(b, o + 260 + 2 * g, uint16_t(int16_t(sums[g])));
}
void b_iq4_nl(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  for (int e = 0; e < 32; ++e) {
    const int q = r.uniform(0, 15);
    set_bits(b, o + 2 + e % 16, 4 * (e / 16), 4, q);
    y.push_back(Builder::value(d) * kIq4[q]);
  }
}
void b_iq4_xs(Builder& r, std::vector<uint8_t>& b, size_t o, std::vector<double>& y) {
  const uint16_t d = r.half();
  put16(b, o, d);
  int ls[8];
  uint16_t scales_h = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int u = r.uniform(0, 63);
    ls[ib] = u - 32;
    set_bits(b, o + 4 + ib / 2, 4 * (ib % 2), 4, u & 15);
    scales_h = uint16_t(scales_h | ((u >> 4) << (2 * ib)));
  }
  put16(b, o + 2, scales_h);
  for (int e = 0; e < 256; ++e) {
    const int q = r.uniform(0, 15), ib = e / 32, k = e % 32;
    set_bits(b, o + 8 + 16 * ib + k % 16, 4 * (k / 16), 4, q);
    y.push_back(Builder::value(d) * ls[ib] * kIq4[q]);
  }
}

struct Case { Type type; BuildFn build; };
const Case kCases[] = {
    {Type::Q4_0, b_q4_0}, {Type::Q4_1, b_q4_1}, {Type::Q5_0, b_q5_0}, {Type::Q5_1, b_q5_1},
    {Type::Q8_0, b_q8_0}, {Type::Q8_1, b_q8_1}, {Type::Q2_K, b_q2_k}, {Type::Q3_K, b_q3_k},
    {Type::Q4_K, b_q4_k}, {Type::Q5_K, b_q5_k}, {Type::Q6_K, b_q6_k}, {Type::Q8_K, b_q8_k},
    {Type::IQ4_NL, b_iq4_nl}, {Type::IQ4_XS, b_iq4_xs},
};

Built build(const Case& c, int blocks, uint32_t seed) {
  Builder r(seed);
  Built out;
  const TypeTraits& t = traits(c.type);
  out.bytes.assign(size_t(blocks) * t.type_size, 0);
  for (int i = 0; i < blocks; ++i) c.build(r, out.bytes, size_t(i) * t.type_size, out.expected);
  return out;
}

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0, ss = 0;
  for (size_t i = 0; i < x.size(); ++i) se += (double(x[i]) - y[i]) * (double(x[i]) - y[i]), ss += double(x[i]) * x[i];
  return std::sqrt(se / ss);
}

}  // namespace

class TestQuantFormats : public QObject {
  Q_OBJECT
 private slots:
  void hand_built_blocks_data() {
    QTest::addColumn<int>("index");
    for (int i = 0; i < int(std::size(kCases)); ++i) QTest::newRow(type_name(kCases[i].type)) << i;
  }
  void hand_built_blocks() {
    QFETCH(int, index);
    const Case& c = kCases[index];
    const int blocks = 5;
    const Built b = build(c, blocks, 1234 + uint32_t(index));
    const int64_t n = int64_t(blocks) * traits(c.type).block_size;
    QCOMPARE(int64_t(b.expected.size()), n);
    QCOMPARE(b.bytes.size(), row_size(c.type, n));
    std::vector<float> got(size_t(n), NAN);
    dequantize_row(c.type, b.bytes.data(), got.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double e = b.expected[size_t(i)];
      if (std::fabs(got[size_t(i)] - e) > 1e-6 * std::max(1.0, std::fabs(e)) + 1e-5 * std::fabs(e))
        QFAIL(qPrintable(QString("element %1: got %2, expected %3").arg(i).arg(got[size_t(i)]).arg(e)));
    }
    // The reference dot against an activation row equals the dot of the expected values with the
    // activation's own values (integer sums: only float rounding of the per-block products differs).
    std::mt19937 rng(99);
    const Type at = vec_dot_type(c.type);
    const std::vector<float> act = gaussian(rng, size_t(n));
    std::vector<uint8_t> aq(row_size(at, n));
    quantize_row(at, act.data(), aq.data(), n);
    const std::vector<float> av = quant_test::dequantized(at, aq.data(), n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) ref += b.expected[size_t(i)] * av[size_t(i)], mag += std::fabs(b.expected[size_t(i)] * av[size_t(i)]);
    const double tol = (at == Type::Q8_1 ? 2e-3 : 1e-5) * mag;  // Q8_1 carries d * sum(q) in f16
    const double s = vec_dot_scalar(c.type, n, b.bytes.data(), aq.data());
    QVERIFY2(std::fabs(s - ref) <= tol, qPrintable(QString("scalar dot %1 vs %2 (tol %3)").arg(s).arg(ref).arg(tol)));
  }

  void plain_types() {
    const float v[4] = {1.5f, -2.25f, 65504.0f, 1e-7f};
    std::vector<uint8_t> buf(16);
    float out[4];
    quantize_row(Type::F16, v, buf.data(), 4);
    dequantize_row(Type::F16, buf.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], f16_to_f32(f32_to_f16(v[i])));
    QCOMPARE(out[0], 1.5f);
    quantize_row(Type::BF16, v, buf.data(), 4);
    dequantize_row(Type::BF16, buf.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], bf16_to_f32(f32_to_bf16(v[i])));
    quantize_row(Type::F32, v, buf.data(), 4);
    dequantize_row(Type::F32, buf.data(), out, 4);
    for (int i = 0; i < 4; ++i) QCOMPARE(out[i], v[i]);
  }

  // Relative RMSE bounds, a little above what this quantizer measures (see docs/quant.md). A
  // quantizer that regresses by more than ~10% fails here.
  void round_trip_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<double>("gauss_bound");
    QTest::addColumn<double>("weights_bound");
    QTest::addColumn<double>("ggml_bound");
    // ggml's test-quantize-fns bounds: 0.002 in general, 0.0040 for 3 bits, 0.0075 for 2 bits.
    auto row = [](Type t, double g, double w) {
      const double ggml = t == Type::Q2_K ? 0.0075 : t == Type::Q3_K ? 0.0040 : 0.002;
      QTest::newRow(type_name(t)) << int(t) << g << w << ggml;
    };
    row(Type::Q4_0, 0.094, 0.110);
    row(Type::Q4_1, 0.086, 0.091);
    row(Type::Q5_0, 0.047, 0.055);
    row(Type::Q5_1, 0.042, 0.044);
    row(Type::Q8_0, 0.0060, 0.0070);
    row(Type::Q8_1, 0.0060, 0.0070);
    row(Type::Q2_K, 0.295, 0.305);
    row(Type::Q3_K, 0.156, 0.166);
    row(Type::Q4_K, 0.079, 0.085);
    row(Type::Q5_K, 0.040, 0.042);
    row(Type::Q6_K, 0.019, 0.021);
    row(Type::Q8_K, 0.0076, 0.0136);
    row(Type::IQ4_NL, 0.082, 0.091);
    row(Type::IQ4_XS, 0.083, 0.093);
    row(Type::F16, 3e-4, 3e-4);
    row(Type::BF16, 2.5e-3, 2.5e-3);
  }
  void round_trip() {
    QFETCH(int, type);
    QFETCH(double, gauss_bound);
    QFETCH(double, weights_bound);
    QFETCH(double, ggml_bound);
    const Type t = Type(type);
    const int64_t n = 256 * 64;
    std::mt19937 rng(7);
    for (int kind = 0; kind < 2; ++kind) {
      const std::vector<float> x = kind == 0 ? gaussian(rng, size_t(n)) : weight_like(rng, size_t(n));
      std::vector<uint8_t> q(row_size(t, n));
      quantize_row(t, x.data(), q.data(), n);
      const std::vector<float> y = quant_test::dequantized(t, q.data(), n);
      const double e = rel_rmse(x, y);
      qInfo("%s %s relative RMSE %.5f", type_name(t), kind == 0 ? "gaussian" : "weight-like", e);
      QVERIFY2(e <= (kind == 0 ? gauss_bound : weights_bound), qPrintable(QString::number(e)));
      QVERIFY(e > 0 || t == Type::F32);
    }
    // ggml's test-quantize-fns bar: data 0.1 + 2 cos(i), 4096 values, sqrt(sum sq err) / n <= bound.
    std::vector<float> x(4096);
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f + 2.0f * std::cos(float(i));
    std::vector<uint8_t> q(row_size(t, 4096));
    quantize_row(t, x.data(), q.data(), 4096);
    const std::vector<float> y = quant_test::dequantized(t, q.data(), 4096);
    double se = 0;
    for (size_t i = 0; i < x.size(); ++i) se += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    const double ggml_metric = std::sqrt(se) / 4096;
    qInfo("%s ggml total error %.6f", type_name(t), ggml_metric);
    QVERIFY2(ggml_metric <= ggml_bound, qPrintable(QString::number(ggml_metric)));
  }

  void non_finite_input() {
    // A model file can hold nan or inf weights: quantizing them must not crash or read out of bounds
    // (this suite runs under the sanitizers in a sanitizer build), and the finite blocks stay right.
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_quantize) continue;
      const int64_t n = 512;
      std::mt19937 rng(id);
      std::vector<float> x = gaussian(rng, size_t(n));
      x[3] = NAN, x[40] = INFINITY, x[41] = -INFINITY, x[100] = 1e30f;  // all in the first 256
      std::vector<uint8_t> q(row_size(t->type, n));
      quantize_row(t->type, x.data(), q.data(), n);
      const std::vector<float> y = quant_test::dequantized(t->type, q.data(), n);
      std::vector<float> second(x.begin() + 256, x.end()), second_y(y.begin() + 256, y.end());
      QVERIFY2(rel_rmse(second, second_y) < 0.35, t->name);
    }
  }

  void degenerate_blocks() {
    // All zeros, a constant, one spike: finite output, zeros stay zero, the spike survives.
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_quantize) continue;
      const int64_t n = 256;
      std::vector<float> zeros(n, 0.0f), constant(n, 0.75f), spike(n, 0.0f);
      spike[77] = -3.0f;
      std::vector<uint8_t> q(row_size(t->type, n));
      for (const auto* x : {&zeros, &constant, &spike}) {
        quantize_row(t->type, x->data(), q.data(), n);
        const std::vector<float> y = quant_test::dequantized(t->type, q.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          QVERIFY2(std::isfinite(y[size_t(i)]), t->name);
          // IQ4's table has no zero: 0 comes back as d * 1, small against the block's scale.
          const double tol = 0.05 * std::max(1.0f, std::fabs((*x)[size_t(i)])) + (x == &spike ? 0.05 : 0.0);
          if (std::fabs(y[size_t(i)] - (*x)[size_t(i)]) > tol)
            QFAIL(qPrintable(QString("%1 element %2: %3 vs %4").arg(t->name).arg(i).arg(y[size_t(i)]).arg((*x)[size_t(i)])));
        }
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestQuantFormats)
#include "test_formats.moc"
