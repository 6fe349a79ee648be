// The requantize library (inference/model/requantize.h): the plan per tensor, and the written file checked
// against its input tensor by tensor (values, copied bytes, metadata), read back through the GGUF reader.
#include "inference/gguf/gguf.h"
#include "inference/model/requantize.h"
#include "inference/model/synth.h"
#include "inference/quant/quant.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace penser;

namespace {

std::vector<float> values(const gguf::TensorInfo& t) {
  std::vector<float> v(t.n_elements());
  const size_t row = quant::row_size(t.type, int64_t(t.shape[0]));
  for (uint64_t r = 0; r < t.n_rows(); ++r) {
    quant::dequantize_row(t.type, t.data + r * row, v.data() + r * t.shape[0], int64_t(t.shape[0]));
  }
  return v;
}

// sqrt(mean squared error) / rms(reference).
double relative_rms_error(const std::vector<float>& ref, const std::vector<float>& got) {
  double se = 0, ss = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    se += double(ref[i] - got[i]) * double(ref[i] - got[i]);
    ss += double(ref[i]) * double(ref[i]);
  }
  return ss > 0 ? std::sqrt(se / ss) : std::sqrt(se);
}

}  // namespace

class TestRequantize : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  std::string src_;  // F32, 8 layers, rows of 256 (and 512 for ffn_down)

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    src_ = dir_.filePath("src.gguf").toStdString();
    model::SynthSpec spec;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_layer = 8;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.seed = 11;
    Status s = model::write_synth_model(spec, src_);
    QVERIFY2(s, s ? "" : s.error().message.c_str());
  }

  void parse_targets() {
    QVERIFY(model::QuantTarget::parse("q4_k_m")->k_m);
    QCOMPARE(model::QuantTarget::parse("q5_k_m")->type, quant::Type::Q5_K);
    QCOMPARE(model::QuantTarget::parse("Q5_K_M")->file_type(), 17u);
    QCOMPARE(model::QuantTarget::parse("Q5_K_M")->name(), std::string("Q5_K_M"));
    QCOMPARE(model::QuantTarget::parse("Q5_K")->name(), std::string("Q5_K"));
    QCOMPARE(model::file_type_name(17), std::string_view("Q5_K_M"));
    QCOMPARE(model::QuantTarget::parse("Q8_0")->type, quant::Type::Q8_0);
    QCOMPARE(model::QuantTarget::parse("bf16")->file_type(), 32u);
    QCOMPARE(model::QuantTarget::parse("Q4_K_M")->file_type(), 15u);
    auto bad = model::QuantTarget::parse("Q8_K");  // an activation format, not a weight type
    QVERIFY(!bad);
    QVERIFY(bad.error().message.find("Q4_K_M") != std::string::npos);  // lists what is accepted
    QVERIFY(bad.error().message.find("Q5_K_M") != std::string::npos);
    QVERIFY(!model::QuantTarget::parse("Q9_9"));
  }

  void k_m_plan_follows_the_mix_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("base");
    QTest::newRow("Q4_K_M") << "Q4_K_M" << int(quant::Type::Q4_K);
    QTest::newRow("Q5_K_M") << "Q5_K_M" << int(quant::Type::Q5_K);
  }
  void k_m_plan_follows_the_mix() {
    QFETCH(QString, target);
    QFETCH(int, base);
    auto in = gguf::File::open(src_);
    QVERIFY(in);
    auto plan = model::plan_requantize(**in, *model::QuantTarget::parse(target.toStdString()));
    QVERIFY(plan);
    int q6_attn_v = 0, base_attn_v = 0, base_ffn_up = 0;
    for (const model::TensorPlan& p : *plan) {
      const gguf::TensorInfo* t = (*in)->tensor(p.name);
      QVERIFY(t);
      if (t->shape.size() == 1) {
        QCOMPARE(p.to, quant::Type::F32);
        continue;
      }
      int layer = -1;
      if (p.name.rfind("blk.", 0) == 0) layer = std::stoi(p.name.substr(4));
      QCOMPARE(p.to, quant::k_m_type_for(quant::Type(base), p.name, layer, 8, true));
      QVERIFY2(p.note.empty(), p.note.c_str());
      if (p.name.find("attn_v") != std::string::npos) (p.to == quant::Type::Q6_K ? q6_attn_v : base_attn_v)++;
      if (p.name.find("ffn_up") != std::string::npos && p.to == quant::Type(base)) base_ffn_up++;
      QCOMPARE(p.out_bytes, quant::row_size(p.to, int64_t(t->shape[0])) * t->n_rows());
    }
    QVERIFY(q6_attn_v > 0 && base_attn_v > 0);  // the mix gives some layers more bits, not all
    QCOMPARE(base_ffn_up, 8);
    auto out = std::find_if(plan->begin(), plan->end(), [](auto& p) { return p.name == "output.weight"; });
    QVERIFY(out != plan->end());
    QCOMPARE(out->to, quant::Type::Q6_K);
  }

  void written_file_matches_input_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<double>("tolerance");  // relative RMS error of the 2-D weights
    QTest::newRow("F32") << "F32" << 0.0;
    QTest::newRow("F16") << "F16" << 1e-3;
    QTest::newRow("BF16") << "BF16" << 8e-3;
    QTest::newRow("Q8_0") << "Q8_0" << 1e-2;
    QTest::newRow("Q6_K") << "Q6_K" << 3e-2;
    QTest::newRow("Q4_K_M") << "Q4_K_M" << 0.12;
    QTest::newRow("Q5_K_M") << "Q5_K_M" << 0.06;
    QTest::newRow("Q4_0") << "Q4_0" << 0.15;
  }
  void written_file_matches_input() {
    QFETCH(QString, type);
    QFETCH(double, tolerance);
    const std::string out_path = dir_.filePath("out-" + type + ".gguf").toStdString();
    auto target = *model::QuantTarget::parse(type.toStdString());
    size_t calls = 0;
    Status s = model::requantize(src_, out_path, target, [&](const model::TensorPlan&, size_t i, size_t n) {
      QCOMPARE(i, calls);
      ++calls;
      Q_UNUSED(n);
    });
    QVERIFY2(s, s ? "" : s.error().message.c_str());

    auto in = gguf::File::open(src_);
    auto out = gguf::File::open(out_path);  // the reader's validation passes on what was written
    QVERIFY(in && out);
    QCOMPARE(calls, (*in)->tensors().size());
    QCOMPARE((*out)->tensors().size(), (*in)->tensors().size());
    QCOMPARE((*out)->get_uint("general.file_type").value_or(999), uint64_t(target.file_type()));
    // Every input key is there with the same value, except the file type.
    for (const auto& [key, value] : (*in)->metadata()) {
      if (key == "general.file_type") continue;
      const gguf::Value* v = (*out)->find(key);
      QVERIFY2(v, key.c_str());
      QCOMPARE(int(v->type()), int(value.type()));
      if (auto str = value.as_string()) QCOMPARE(*v->as_string(), *str);
      if (auto arr = value.as_array()) QCOMPARE(v->as_array()->items.size(), arr->items.size());
      if (auto u = value.as_uint()) QCOMPARE(v->as_uint(), u);
    }
    for (size_t i = 0; i < (*in)->tensors().size(); ++i) {
      const gguf::TensorInfo& a = (*in)->tensors()[i];
      const gguf::TensorInfo& b = (*out)->tensors()[i];
      QCOMPARE(b.name, a.name);
      QCOMPARE(b.shape, a.shape);
      if (a.shape.size() == 1) {
        QCOMPARE(b.type, quant::Type::F32);
        QVERIFY(std::memcmp(a.data, b.data, a.n_bytes) == 0);  // 1-D tensors are copied as they are
        continue;
      }
      if (!target.k_m) QCOMPARE(b.type, target.type);
      double err = relative_rms_error(values(a), values(b));
      QVERIFY2(err <= tolerance, qPrintable(QString("%1: %2 > %3").arg(a.name.c_str()).arg(err).arg(tolerance)));
    }
  }

  void same_type_copies_bytes() {
    // Q8_0 -> Q8_0 must not round a second time: the bytes are copied.
    const std::string q8 = dir_.filePath("q8.gguf").toStdString(), again = dir_.filePath("q8-again.gguf").toStdString();
    QVERIFY(model::requantize(src_, q8, *model::QuantTarget::parse("Q8_0")));
    QVERIFY(model::requantize(q8, again, *model::QuantTarget::parse("Q8_0")));
    auto a = gguf::File::open(q8), b = gguf::File::open(again);
    QVERIFY(a && b);
    for (size_t i = 0; i < (*a)->tensors().size(); ++i) {
      const auto& x = (*a)->tensors()[i];
      const auto& y = (*b)->tensors()[i];
      QCOMPARE(y.n_bytes, x.n_bytes);
      QVERIFY(std::memcmp(x.data, y.data, x.n_bytes) == 0);
    }
  }

  void refuses_to_overwrite_input_and_leaves_no_partial_file() {
    Status s = model::requantize(src_, src_, *model::QuantTarget::parse("Q8_0"));
    QVERIFY(!s);
    QVERIFY(gguf::File::open(src_));  // still intact
    Status missing = model::requantize(dir_.filePath("nope.gguf").toStdString(), dir_.filePath("x.gguf").toStdString(),
                                       *model::QuantTarget::parse("Q8_0"));
    QVERIFY(!missing);
    Status bad_dir = model::requantize(src_, "/nonexistent-dir/out.gguf", *model::QuantTarget::parse("Q8_0"));
    QVERIFY(!bad_dir);
    QVERIFY(bad_dir.error().message.find("/nonexistent-dir/out.gguf") != std::string::npos);
    for (const QString& f : QDir(dir_.path()).entryList()) QVERIFY2(!f.contains(".partial-"), qPrintable(f));
  }
};

QTEST_GUILESS_MAIN(TestRequantize)
#include "test_requantize.moc"
