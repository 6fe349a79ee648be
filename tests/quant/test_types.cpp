// The type table against ggml's block structs, names, row sizes, fp16/bf16 edge cases, the Q4_K_M mix.
#include <QtTest>

#include <cmath>
#include <limits>

#include "inference/quant/quant.h"

using namespace penser::quant;

namespace {
uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
}  // namespace

class TestQuantTypes : public QObject {
  Q_OBJECT
 private slots:
  void sizes_match_ggml_blocks_data() {
    QTest::addColumn<uint32_t>("id");
    QTest::addColumn<uint32_t>("block");
    QTest::addColumn<uint32_t>("bytes");
    // Sizes computed from the field lists of ggml-common.h's structs, written out here by field.
    const uint32_t h = 2;  // ggml_half
    struct Row { const char* name; uint32_t id, block, bytes; };
    const Row rows[] = {
        {"F32", 0, 1, 4}, {"F16", 1, 1, 2},
        {"Q4_0", 2, 32, h + 16}, {"Q4_1", 3, 32, 2 * h + 16},
        {"Q5_0", 6, 32, h + 4 + 16}, {"Q5_1", 7, 32, 2 * h + 4 + 16},
        {"Q8_0", 8, 32, h + 32}, {"Q8_1", 9, 32, 2 * h + 32},
        {"Q2_K", 10, 256, 256 / 16 + 256 / 4 + 2 * h}, {"Q3_K", 11, 256, 256 / 8 + 256 / 4 + 12 + h},
        {"Q4_K", 12, 256, 2 * h + 12 + 128}, {"Q5_K", 13, 256, 2 * h + 12 + 32 + 128},
        {"Q6_K", 14, 256, 128 + 64 + 16 + h}, {"Q8_K", 15, 256, 4 + 256 + 16 * 2},
        {"IQ2_XXS", 16, 256, h + 32 * 2}, {"IQ2_XS", 17, 256, h + 32 * 2 + 8},
        {"IQ3_XXS", 18, 256, h + 3 * 32}, {"IQ1_S", 19, 256, h + 32 + 8 * 2},
        {"IQ4_NL", 20, 32, h + 16}, {"IQ3_S", 21, 256, h + 64 + 8 + 32 + 4},
        {"IQ2_S", 22, 256, h + 64 + 8 + 8}, {"IQ4_XS", 23, 256, h + 2 + 4 + 128},
        {"I8", 24, 1, 1}, {"I16", 25, 1, 2}, {"I32", 26, 1, 4}, {"I64", 27, 1, 8}, {"F64", 28, 1, 8},
        {"IQ1_M", 29, 256, 32 + 16 + 8}, {"BF16", 30, 1, 2},
        {"TQ1_0", 34, 256, (256 - 4 * 4) / 5 + 4 + h}, {"TQ2_0", 35, 256, 64 + h},
        {"MXFP4", 39, 32, 1 + 16},
    };
    for (const Row& r : rows) QTest::newRow(r.name) << r.id << r.block << r.bytes;
  }
  void sizes_match_ggml_blocks() {
    QFETCH(uint32_t, id);
    QFETCH(uint32_t, block);
    QFETCH(uint32_t, bytes);
    const TypeTraits* t = traits(id);
    QVERIFY(t != nullptr);
    QCOMPARE(uint32_t(t->type), id);
    QCOMPARE(t->block_size, block);
    QCOMPARE(t->type_size, bytes);
    QCOMPARE(QString(t->name), QString(QTest::currentDataTag()));
    QCOMPARE(&traits(t->type), t);
    QCOMPARE(type_from_name(t->name), std::optional<Type>(t->type));
    QCOMPARE(row_size(t->type, 4 * int64_t(block)), size_t(4 * bytes));
    if (t->can_quantize) QVERIFY(t->can_dequantize);
  }

  void unknown_ids() {
    for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u, 0xffffffffu})
      QVERIFY2(traits(id) == nullptr, qPrintable(QString::number(id)));
  }

  void names() {
    QCOMPARE(type_from_name("q4_k"), std::optional<Type>(Type::Q4_K));
    QCOMPARE(type_from_name("iq4_xs"), std::optional<Type>(Type::IQ4_XS));
    QCOMPARE(type_from_name("Bf16"), std::optional<Type>(Type::BF16));
    QVERIFY(!type_from_name("Q4_K_M").has_value());
    QVERIFY(!type_from_name("").has_value());
    QVERIFY(!type_from_name("Q4").has_value());
    QCOMPARE(QString(type_name(Type::Q6_K)), QString("Q6_K"));
  }

  void f16_exact_values() {
    QCOMPARE(f16_to_f32(0x3c00), 1.0f);
    QCOMPARE(f16_to_f32(0xc000), -2.0f);
    QCOMPARE(f16_to_f32(0x7bff), 65504.0f);
    QCOMPARE(f16_to_f32(0x0400), std::ldexp(1.0f, -14));   // smallest normal
    QCOMPARE(f16_to_f32(0x0001), std::ldexp(1.0f, -24));   // smallest subnormal
    QCOMPARE(f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
    QCOMPARE(bits_of(f16_to_f32(0x8000)), 0x80000000u);     // -0
    QVERIFY(std::isinf(f16_to_f32(0x7c00)) && f16_to_f32(0x7c00) > 0);
    QVERIFY(std::isinf(f16_to_f32(0xfc00)) && f16_to_f32(0xfc00) < 0);
    QVERIFY(std::isnan(f16_to_f32(0x7e00)));
    QVERIFY(std::isnan(f16_to_f32(0x7c01)));
  }

  void f16_round_trip_all() {
    // Every non-nan half converts to f32 and back to itself.
    for (uint32_t h = 0; h < 0x10000; ++h) {
      const float f = f16_to_f32(uint16_t(h));
      if (std::isnan(f)) {
        QVERIFY((f32_to_f16(f) & 0x7c00) == 0x7c00 && (f32_to_f16(f) & 0x3ff) != 0);
        continue;
      }
      if (f32_to_f16(f) != h) QFAIL(qPrintable(QString("half 0x%1").arg(h, 4, 16, QChar('0'))));
    }
  }

  void f16_rounding() {
    // Halfway between 1 and the next half (1 + 2^-10) is a tie: rounds to even (1.0).
    QCOMPARE(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), uint16_t(0x3c00));
    // Halfway between 1+2^-10 (odd) and 1+2^-9: rounds up to even.
    QCOMPARE(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), uint16_t(0x3c02));
    // Just above the tie rounds up.
    QCOMPARE(f32_to_f16(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), uint16_t(0x3c01));
    // Overflow: 65519 -> 65504, 65520 (tie, 65504 is odd) -> inf.
    QCOMPARE(f32_to_f16(65519.0f), uint16_t(0x7bff));
    QCOMPARE(f32_to_f16(65520.0f), uint16_t(0x7c00));
    QCOMPARE(f32_to_f16(-1e10f), uint16_t(0xfc00));
    QCOMPARE(f32_to_f16(std::numeric_limits<float>::infinity()), uint16_t(0x7c00));
    // Subnormals: 2^-25 is a tie between 0 and 2^-24 -> 0 (even); a bit more -> 2^-24.
    QCOMPARE(f32_to_f16(std::ldexp(1.0f, -25)), uint16_t(0x0000));
    QCOMPARE(f32_to_f16(std::ldexp(1.5f, -25)), uint16_t(0x0001));
    QCOMPARE(f32_to_f16(std::ldexp(3.0f, -25)), uint16_t(0x0002));  // 1.5 * 2^-24: tie -> even 2
    QCOMPARE(f32_to_f16(-std::ldexp(1.0f, -30)), uint16_t(0x8000));
    QCOMPARE(f32_to_f16(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)), uint16_t(0x0400));  // rounds up to normal
    QCOMPARE(f32_to_f16(float_of(0x00000001)), uint16_t(0));  // f32 subnormal
    // Against a double-precision reference for many values.
    for (int i = 1; i < 200000; ++i) {
      const float f = float(i) * 0.37f - 30000.0f;
      const uint16_t h = f32_to_f16(f);
      const double got = f16_to_f32(h);
      const double lo = f16_to_f32(uint16_t(h - 1)), hi = f16_to_f32(uint16_t(h + 1));
      const double err = std::fabs(got - f);
      if (err > std::fabs(lo - f) || err > std::fabs(hi - f)) QFAIL(qPrintable(QString::number(f)));
    }
  }

  void f16_rows_match_scalar() {
    // Every half through the row converter (F16C here) equals the scalar conversion, bit for bit.
    std::vector<uint16_t> all(65536);
    for (uint32_t h = 0; h < 65536; ++h) all[h] = uint16_t(h);
    std::vector<float> f(65536 + 3);
    f16_to_f32_row(all.data(), f.data(), 65536);
    for (uint32_t h = 0; h < 65536; ++h) {
      const float s = f16_to_f32(uint16_t(h));
      if (std::isnan(s) ? !std::isnan(f[h]) : bits_of(s) != bits_of(f[h]))
        QFAIL(qPrintable(QString("half 0x%1").arg(h, 4, 16, QChar('0'))));
    }
    // f32 -> f16 over ties, subnormals, overflow, infinities, nan, and a sweep of ordinary values.
    std::vector<float> src = {0.0f, -0.0f, 1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11),
                              65519.0f, 65520.0f, -1e10f, std::ldexp(1.0f, -25), std::ldexp(3.0f, -25),
                              std::ldexp(1.5f, -25), float_of(0x00000001), std::numeric_limits<float>::infinity(),
                              -std::numeric_limits<float>::infinity(), float_of(0x7fc00000), float_of(0xffa00001)};
    for (int i = 0; i < 100000; ++i) src.push_back(float_of(0x30000000u + uint32_t(i) * 2749u));
    std::vector<uint16_t> got(src.size());
    f32_to_f16_row(src.data(), got.data(), int64_t(src.size()));
    for (size_t i = 0; i < src.size(); ++i)
      if (got[i] != f32_to_f16(src[i]))
        QFAIL(qPrintable(QString("f32 0x%1: row 0x%2 scalar 0x%3").arg(bits_of(src[i]), 8, 16, QChar('0'))
                             .arg(got[i], 4, 16, QChar('0')).arg(f32_to_f16(src[i]), 4, 16, QChar('0'))));
  }

  void bf16() {
    QCOMPARE(f32_to_bf16(1.0f), uint16_t(0x3f80));
    QCOMPARE(bf16_to_f32(0x3f80), 1.0f);
    QCOMPARE(bf16_to_f32(0xc040), -3.0f);
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even -> 1. 1 + 3*2^-8 -> 1 + 2^-6.
    QCOMPARE(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), uint16_t(0x3f80));
    QCOMPARE(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), uint16_t(0x3f82));
    QCOMPARE(f32_to_bf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), uint16_t(0x3f81));
    QCOMPARE(f32_to_bf16(std::numeric_limits<float>::infinity()), uint16_t(0x7f80));
    QCOMPARE(f32_to_bf16(-std::numeric_limits<float>::infinity()), uint16_t(0xff80));
    QCOMPARE(f32_to_bf16(std::numeric_limits<float>::max()), uint16_t(0x7f80));  // rounds to inf
    const uint16_t n = f32_to_bf16(float_of(0x7f800001));  // nan with payload only in the low bits
    QVERIFY(std::isnan(bf16_to_f32(n)));
    QCOMPARE(f32_to_bf16(float_of(0x00010000)), uint16_t(0x0001));  // subnormals kept
  }

  void k_m_mix_data() {
    QTest::addColumn<int>("base_type");  // Q4_K_M, Q5_K_M
    QTest::newRow("Q4_K_M") << int(Type::Q4_K);
    QTest::newRow("Q5_K_M") << int(Type::Q5_K);
  }
  void k_m_mix() {
    QFETCH(int, base_type);
    const Type base = Type(base_type);
    // 28 layers (R1-Distill-Qwen-1.5B): n/8 = 3, 7n/8 = 24 -> more bits in 0..2, 24..27, and 5, 8, ..., 23.
    const int n = 28;
    QList<int> more;
    for (int i = 0; i < n; ++i)
      if (k_m_type_for(base, "blk." + std::to_string(i) + ".ffn_down.weight", i, n) == Type::Q6_K) more << i;
    QCOMPARE(more, (QList<int>{0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27}));
    for (int i = 0; i < n; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      QCOMPARE(k_m_type_for(base, p + "attn_v.weight", i, n), k_m_type_for(base, p + "ffn_down.weight", i, n));
      if (!more.contains(i)) QCOMPARE(k_m_type_for(base, p + "ffn_down.weight", i, n), base);
      QCOMPARE(k_m_type_for(base, p + "attn_q.weight", i, n), base);
      QCOMPARE(k_m_type_for(base, p + "attn_k.weight", i, n), base);
      QCOMPARE(k_m_type_for(base, p + "attn_output.weight", i, n), base);
      QCOMPARE(k_m_type_for(base, p + "ffn_gate.weight", i, n), base);
      QCOMPARE(k_m_type_for(base, p + "ffn_up.weight", i, n), base);
      // A fused QKV (not in these architectures' files) gets one step more.
      QCOMPARE(k_m_type_for(base, p + "attn_qkv.weight", i, n), base == Type::Q4_K ? Type::Q5_K : Type::Q6_K);
    }
    QCOMPARE(k_m_type_for(base, "output.weight", -1, n), Type::Q6_K);
    QCOMPARE(k_m_type_for(base, "token_embd.weight", -1, n), base);
    QCOMPARE(k_m_type_for(base, "token_embd.weight", -1, n, /*model_has_output=*/false), Type::Q6_K);
  }
  void k_fallback() {
    QCOMPARE(k_fallback_type(Type::Q4_K), Type::Q5_0);
    QCOMPARE(k_fallback_type(Type::Q6_K), Type::Q8_0);
    QCOMPARE(k_fallback_type(Type::Q8_0), Type::Q8_0);
  }
};

QTEST_GUILESS_MAIN(TestQuantTypes)
#include "test_types.moc"
