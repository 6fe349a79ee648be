// vec_dot: the dispatched kernel (SIMD where the CPU has it) against the scalar reference (tight), and
// the scalar reference against the dot of the dequantized rows (per activation type), for one block and
// for many, on rows at the 2-byte alignment a GGUF tensor row may have.
#include <QtTest>

#include "inference/quant/quant.h"
#include "quant_test_util.h"

using namespace penser::quant;

class TestQuantVecDot : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
#if defined(__x86_64__)
    // (Every CPU with AVX2 and FMA also has F16C; clang 14 cannot query "f16c" here.)
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    qInfo("CPU has AVX2+FMA+F16C: %s", avx2 ? "yes" : "no");
    // The SIMD kernels must really be in use here, or the comparisons below test nothing.
    for (Type t : {Type::F32, Type::F16, Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0, Type::Q5_1, Type::Q8_0,
                   Type::IQ4_NL, Type::Q2_K, Type::Q3_K, Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_K, Type::IQ4_XS})
      QCOMPARE(QString(vec_dot_isa(t)), QString(avx2 ? "avx2" : "scalar"));
#endif
    QCOMPARE(QString(vec_dot_isa(Type::Q8_1)), QString("scalar"));  // activation format, not a weight format
  }

  void kernels_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<qint64>("n");
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_dequantize) continue;
      const qint64 bs = t->block_size;
      const QList<qint64> sizes = bs == 1 ? QList<qint64>{1, 37, 4096 + 13} : QList<qint64>{bs, 4096, 256 * 35};
      for (qint64 n : sizes) QTest::newRow(qPrintable(QString("%1/n=%2").arg(t->name).arg(n))) << int(id) << n;
    }
  }
  void kernels() {
    QFETCH(int, type);
    QFETCH(qint64, n);
    const Type t = Type(type);
    const Type at = vec_dot_type(t);
    std::mt19937 rng(uint32_t(type * 1000 + n));
    const std::vector<uint8_t> row = quant_test::random_row(t, n, rng);
    const std::vector<float> act = quant_test::gaussian(rng, size_t(n));
    std::vector<uint8_t> aq(row_size(at, n));
    quantize_row(at, act.data(), aq.data(), n);

    // Weight row only as aligned as its element type needs (2 bytes for blocks and halves, 4 for f32 / Q8_K),
    // as rows inside a GGUF tensor can be; activations at a 4-byte offset from a 64-byte boundary.
    std::vector<uint8_t> wbuf(row.size() + 64), abuf(aq.size() + 64);
    const size_t w_offset = t == Type::F32 || t == Type::Q8_K ? 4 : 2;
    uint8_t* wp = wbuf.data() + (64 - reinterpret_cast<uintptr_t>(wbuf.data()) % 64) % 64 + w_offset;
    uint8_t* ap = abuf.data() + (64 - reinterpret_cast<uintptr_t>(abuf.data()) % 64) % 64 + 4;
    std::memcpy(wp, row.data(), row.size());
    std::memcpy(ap, aq.data(), aq.size());

    const std::vector<float> wv = quant_test::dequantized(t, row.data(), n);
    const std::vector<float> av = quant_test::dequantized(at, aq.data(), n);
    const double ref = quant_test::dot(wv, av);
    const double mag = quant_test::abs_dot(wv, av);
    QVERIFY(mag > 0);

    const float s = vec_dot_scalar(t, n, wp, ap);
    const float v = vec_dot(t, n, wp, ap);
    QVERIFY(std::isfinite(s) && std::isfinite(v));
    // Same integer sums, different float summation order.
    QVERIFY2(std::fabs(double(v) - s) <= 2e-6 * mag,
             qPrintable(QString("dispatched %1 vs scalar %2 (mag %3)").arg(v).arg(s).arg(mag)));
    // Q8_1 carries d * sum(q) as an f16, so its min term is rounded; the others are exact up to floats.
    const double tol = at == Type::Q8_1 ? 1e-3 : 1e-5;
    QVERIFY2(std::fabs(double(s) - ref) <= tol * mag,
             qPrintable(QString("scalar %1 vs dequantized %2 (mag %3)").arg(s).arg(ref).arg(mag)));
    // And against the unquantized activations: the Q8 activation rounding costs well under 1%.
    const double exact = quant_test::dot(wv, act);
    QVERIFY2(std::fabs(double(v) - exact) <= 0.01 * quant_test::abs_dot(wv, act),
             qPrintable(QString("dot %1 vs float activations %2").arg(v).arg(exact)));
  }

  void zero_rows() {
    // A zero activation row gives exactly 0 for every type, SIMD and scalar.
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_dequantize) continue;
      const int64_t n = 512;
      std::mt19937 rng(id);
      const std::vector<uint8_t> row = quant_test::random_row(t->type, n, rng);
      const Type at = vec_dot_type(t->type);
      const std::vector<float> zeros(n, 0.0f);
      std::vector<uint8_t> aq(row_size(at, n));
      quantize_row(at, zeros.data(), aq.data(), n);
      QCOMPARE(vec_dot(t->type, n, row.data(), aq.data()), 0.0f);
      QCOMPARE(vec_dot_scalar(t->type, n, row.data(), aq.data()), 0.0f);
    }
  }

  void activation_types() {
    QCOMPARE(vec_dot_type(Type::Q4_K), Type::Q8_K);
    QCOMPARE(vec_dot_type(Type::Q6_K), Type::Q8_K);
    QCOMPARE(vec_dot_type(Type::IQ4_XS), Type::Q8_K);
    QCOMPARE(vec_dot_type(Type::Q4_0), Type::Q8_0);
    QCOMPARE(vec_dot_type(Type::IQ4_NL), Type::Q8_0);
    QCOMPARE(vec_dot_type(Type::Q4_1), Type::Q8_1);
    QCOMPARE(vec_dot_type(Type::F16), Type::F32);
    for (uint32_t id = 0; id < 64; ++id) {
      const TypeTraits* t = traits(id);
      if (!t || !t->can_dequantize) continue;
      const TypeTraits& a = traits(vec_dot_type(t->type));
      QVERIFY2(a.can_quantize, t->name);
      QVERIFY2(a.block_size == 1 || t->block_size % a.block_size == 0 || a.block_size % t->block_size == 0, t->name);
    }
  }
};

QTEST_GUILESS_MAIN(TestQuantVecDot)
#include "test_vec_dot.moc"
