// The CPU forward pass against an independent numpy implementation (tests/reference/reference.py), and its
// own invariants: batched prefill = token by token, truncate + re-eval = fresh, 1 thread = 2 threads,
// every quant type close to the f32 model, clear errors, cancellation.
#include "common.h"
#include "tests/test_support.h"

#include "inference/cpu/kernels.h"
#include "inference/model/requantize.h"
#include "inference/quant/quant.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <atomic>
#include <set>
#include <thread>
#include <chrono>

using namespace penser;
using model::Arch;

namespace {

const std::vector<tokenizer::Token> kPrompt = {264, 10, 200, 33, 104, 5, 77, 150, 99, 1, 42, 260, 128};

std::vector<float> eval_logits(model::Evaluator& e, const model::Model& m, std::span<const tokenizer::Token> toks) {
  std::vector<float> logits(m.hparams().n_vocab);
  auto st = e.eval(toks, logits);
  if (!st) qFatal("eval: %s", st.error().message.c_str());
  return logits;
}

struct Reference {
  std::vector<float> logits;
  std::vector<int> greedy;
};

// Runs reference.py on the model; empty logits when the interpreter or numpy is missing.
Reference run_reference(const QString& model, const std::vector<tokenizer::Token>& toks, int greedy,
                        const QString& variant = {}) {
  QStringList ids;
  for (auto t : toks) ids << QString::number(t);
  QStringList args{PENSER_REFERENCE_PY, model, "--tokens", ids.join(','), "--greedy", QString::number(greedy)};
  if (!variant.isEmpty()) args << "--variant" << variant;
  QProcess p;
  p.start(PENSER_PYTHON3, args);
  if (!p.waitForFinished(120000) || p.exitCode() != 0) {
    qWarning("reference.py failed: %s", p.readAllStandardError().constData());
    return {};
  }
  auto doc = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
  Reference r;
  for (auto v : doc["logits"].toArray()) r.logits.push_back(float(v.toDouble()));
  for (auto v : doc["greedy"].toArray()) r.greedy.push_back(v.toInt());
  return r;
}

// Writes a copy of `src` with every tensor dequantized to F32: the same weights, no quantized arithmetic.
QString dequantized_copy(const QString& src, const QString& dst) {
  auto f = gguf::File::open(src.toStdString());
  if (!f) qFatal("%s", f.error().message.c_str());
  gguf::Writer w;
  w.copy_metadata(**f);
  for (const auto& t : (*f)->tensors()) {
    std::vector<uint8_t> bytes(t.n_elements() * sizeof(float));
    quant::dequantize_row(t.type, t.data, reinterpret_cast<float*>(bytes.data()), int64_t(t.n_elements()));
    w.add_tensor_copy(t.name, t.shape, quant::Type::F32, std::move(bytes));
  }
  if (auto st = w.write(dst.toStdString()); !st) qFatal("%s", st.error().message.c_str());
  return dst;
}

bool have_numpy() {
  QProcess p;
  p.start(PENSER_PYTHON3, {"-c", "import numpy"});
  return p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

}  // namespace

class TestCpuForward : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString path(const QString& name) const { return dir_.filePath(name); }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void matches_numpy_reference_data() {
    QTest::addColumn<int>("arch");
    QTest::newRow("qwen2") << int(Arch::Qwen2);
    QTest::newRow("llama+rope_freqs") << int(Arch::Llama);
    QTest::newRow("qwen3") << int(Arch::Qwen3);
  }
  void matches_numpy_reference() {
    QFETCH(int, arch);
    if (!have_numpy()) PENSER_SKIP_UNLESS_CI("no numpy at " PENSER_PYTHON3 " (Debian: apt install python3-numpy)");
    const QString file = path(QString("ref-%1.gguf").arg(arch));
    auto m = test::make_model(test::tiny_spec(Arch(arch)), file);
    const int kSteps = 16;
    Reference ref = run_reference(file, kPrompt, kSteps);
    QCOMPARE(ref.logits.size(), size_t(m->hparams().n_vocab));
    QCOMPARE(ref.greedy.size(), size_t(kSteps));

    // Prompt in batches of 5, then greedy decoding one token at a time.
    auto e = test::make_eval(*m, 2, 5);
    auto logits = eval_logits(*e, *m, kPrompt);
    const double err = test::rel_err(logits, ref.logits);
    qInfo("%s: prompt logits max |cpu - numpy| / max |numpy| = %.3g", QTest::currentDataTag(), err);
    QVERIFY2(err < 1e-4, qPrintable(QString("relative error %1").arg(err)));

    std::vector<int> greedy;
    for (int i = 0; i < kSteps; ++i) {
      tokenizer::Token next = test::argmax(logits);
      greedy.push_back(next);
      logits = eval_logits(*e, *m, std::span(&next, 1));
    }
    QCOMPARE(greedy, ref.greedy);
    // The sequence is not degenerate (one token repeated): the check would prove little otherwise.
    QVERIFY(std::set<int>(greedy.begin(), greedy.end()).size() > 3);

    // The comparison is sensitive: numpy without RoPE disagrees by far more than the tolerance.
    Reference wrong = run_reference(file, kPrompt, 0, "no-rope");
    auto fresh = test::make_eval(*m, 2);
    const double wrong_err = test::rel_err(eval_logits(*fresh, *m, kPrompt), wrong.logits);
    QVERIFY2(wrong_err > 1e-2, qPrintable(QString("no-rope error only %1").arg(wrong_err)));
  }

  void batch_equals_token_by_token_data() { matches_numpy_reference_data(); }
  void batch_equals_token_by_token() {
    QFETCH(int, arch);
    auto spec = test::tiny_spec(Arch(arch));
    auto m = test::make_model(spec, path("batch.gguf"));
    auto batched = test::make_eval(*m, 2, 64);
    auto a = eval_logits(*batched, *m, kPrompt);
    auto single = test::make_eval(*m, 2, 1);
    std::vector<float> b;
    for (auto t : kPrompt) b = eval_logits(*single, *m, std::span(&t, 1));
    QCOMPARE(batched->n_past(), uint32_t(kPrompt.size()));
    QCOMPARE(single->tokens(), kPrompt);
    QVERIFY2(test::rel_err(a, b) < 1e-6, qPrintable(QString::number(test::rel_err(a, b))));
  }

  void truncate_and_reeval_equals_fresh() {
    auto m = test::make_model(test::tiny_spec(Arch::Qwen2), path("trunc.gguf"));
    auto e = test::make_eval(*m, 2, 4);
    eval_logits(*e, *m, kPrompt);
    // Keep the first 6 tokens, continue differently.
    e->truncate(6);
    QCOMPARE(e->n_past(), 6u);
    const std::vector<tokenizer::Token> tail = {3, 1, 4, 1, 5};
    auto a = eval_logits(*e, *m, tail);
    std::vector<tokenizer::Token> all(kPrompt.begin(), kPrompt.begin() + 6);
    all.insert(all.end(), tail.begin(), tail.end());
    auto fresh = test::make_eval(*m, 2, 4);
    auto b = eval_logits(*fresh, *m, all);
    QCOMPARE(e->tokens(), all);
    QVERIFY(test::rel_err(a, b) < 1e-6);
    // truncate(0) starts over.
    e->truncate(0);
    QVERIFY(test::rel_err(eval_logits(*e, *m, all), b) < 1e-6);
  }

  void one_thread_equals_two() {
    auto spec = test::tiny_spec(Arch::Llama);
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.type = quant::Type::Q8_0;
    auto m = test::make_model(spec, path("threads.gguf"));
    auto e1 = test::make_eval(*m, 1, 8);
    auto e2 = test::make_eval(*m, 2, 8);
    auto e3 = test::make_eval(*m, 3, 8);
    QCOMPARE(e1->backend_name(), std::string("cpu (1 thread)"));
    QCOMPARE(e2->backend_name(), std::string("cpu (2 threads)"));
    auto a = eval_logits(*e1, *m, kPrompt);
    QVERIFY(a == eval_logits(*e2, *m, kPrompt));  // bitwise: each output is computed the same way
    QVERIFY(a == eval_logits(*e3, *m, kPrompt));
  }

  // Every type Penser can write: a tiny model in that type gives logits close to the f32 model's (tol: the
  // type's rounding of the weights, amplified by the random network; set from measurements with ~1.5x margin),
  // and very close to the same weights dequantized to F32 (dq_tol: only the activations' rounding to Q8_0 /
  // Q8_K remains; none for F16/BF16, whose dot products run in f32). Rows of 256 so the K types apply.
  void quant_types_end_to_end_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<double>("tol");
    QTest::addColumn<double>("dq_tol");
    struct Row { const char* name; double tol, dq_tol; };
    const Row types[] = {
        {"F16", 2e-3, 1e-6},    {"BF16", 2e-2, 1e-6},   {"Q8_0", 2e-2, 2e-2},   {"Q6_K", 6e-2, 3e-2},
        {"Q5_K", 1e-1, 3e-2},   {"Q5_0", 1.2e-1, 2e-2}, {"Q5_1", 1e-1, 2e-2},   {"Q4_K", 2e-1, 3e-2},
        {"Q4_0", 2.5e-1, 2e-2}, {"Q4_1", 2e-1, 2e-2},   {"IQ4_NL", 2e-1, 2e-2}, {"IQ4_XS", 2.5e-1, 3e-2},
        {"Q3_K", 4e-1, 3e-2},   {"Q2_K", 7e-1, 3e-2},   {"Q4_K_M", 2e-1, 3e-2},
        {"Q5_K_M", 1e-1, 3e-2}};
    for (const Row& r : types) QTest::newRow(r.name) << QString(r.name) << r.tol << r.dq_tol;
  }
  void quant_types_end_to_end() {
    QFETCH(QString, type);
    QFETCH(double, tol);
    QFETCH(double, dq_tol);
    auto spec = test::tiny_spec(Arch::Qwen2);
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.head_dim = 64;
    spec.seed = 11;
    spec.weight_std = 0.02f;
    static std::unique_ptr<model::Model> f32_model;
    static std::vector<float> f32_logits;
    if (!f32_model) {
      f32_model = test::make_model(spec, path("q-f32.gguf"));
      auto e = test::make_eval(*f32_model, 2);
      f32_logits = eval_logits(*e, *f32_model, kPrompt);
    }
    if (type.endsWith("_K_M")) {  // a K_M mix (the synthesizer also writes types requantize does not offer)
      auto target = model::QuantTarget::parse(type.toStdString());
      QVERIFY(target && target->k_m);
      spec.type = target->type;
      spec.k_m = true;
    } else {
      auto t = quant::type_from_name(type.toStdString());
      QVERIFY(t.has_value());
      spec.type = *t;
      if (!quant::traits(*t).can_quantize) QSKIP("Penser cannot write this type yet");
    }
    auto m = test::make_model(spec, path("q-" + type + ".gguf"));
    // A mix holds its base type and Q6_K.
    QVERIFY(m->quant_summary().find(quant::type_name(spec.type)) != std::string::npos);
    if (spec.k_m) QVERIFY(m->quant_summary().find("Q6_K") != std::string::npos);
    auto e = test::make_eval(*m, 2, 4);
    auto logits = eval_logits(*e, *m, kPrompt);
    const double err = test::rel_err(logits, f32_logits);
    qInfo("%s: max |q - f32| / max |f32| = %.3g (tolerance %.3g)", qPrintable(type), err, tol);
    QVERIFY2(err < tol, qPrintable(QString("relative error %1").arg(err)));
    QVERIFY(err > 0);

    // The same weights dequantized to F32: what remains is the quantized arithmetic (activations rounded to
    // vec_dot_type, the type's dot-product kernel), so this bound is much tighter.
    auto dq_model = test::load(dequantized_copy(path("q-" + type + ".gguf"), path("dq.gguf")));
    auto dq_eval = test::make_eval(*dq_model, 2, 4);
    const double dq_err = test::rel_err(logits, eval_logits(*dq_eval, *dq_model, kPrompt));
    qInfo("%s: max |q - dequantized| / max |dequantized| = %.3g (tolerance %.3g)", qPrintable(type), dq_err, dq_tol);
    QVERIFY2(dq_err < dq_tol, qPrintable(QString("relative error %1").arg(dq_err)));

  }

  // The attention kernels (SIMD where the CPU has it) against plain double arithmetic, odd lengths included.
  void f16_kernels() {
    for (int64_t n : {1, 7, 8, 16, 33, 64, 128}) {
      std::vector<float> a(n), y(n), y0(n);
      std::vector<uint16_t> b(n);
      double dot = 0;
      for (int64_t i = 0; i < n; ++i) {
        a[i] = float(std::sin(0.7 * double(i) + 0.1));
        b[i] = quant::f32_to_f16(float(std::cos(1.3 * double(i))));
        y[i] = y0[i] = float(i) * 0.25f;
        dot += double(a[i]) * quant::f16_to_f32(b[i]);
      }
      QVERIFY(std::abs(cpu::dot_f32_f16(a.data(), b.data(), n) - dot) < 1e-5 * double(n));
      cpu::axpy_f16(0.5f, b.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) QCOMPARE(y[i], y0[i] + 0.5f * quant::f16_to_f32(b[i]));
      std::vector<uint16_t> h(n);
      cpu::to_f16(a.data(), h.data(), n);
      for (int64_t i = 0; i < n; ++i) QCOMPARE(h[i], quant::f32_to_f16(a[i]));
    }
    // RoPE: a rotation keeps each pair's norm; position 0 (angle 0) changes nothing.
    std::vector<float> head = {1, 2, 3, 4, 5, 6, 7, 8}, cs = {1, 0, 1, 0, 1, 0, 1, 0};
    auto before = head;
    cpu::rope(head.data(), cs.data(), 8, true);
    QCOMPARE(head, before);
    const float c = std::cos(0.5f), sn = std::sin(0.5f);
    cs = {c, sn, c, sn, c, sn, c, sn};
    cpu::rope(head.data(), cs.data(), 8, false);  // adjacent pairs (0,1) (2,3) ...
    QVERIFY(std::abs(head[0] - (1 * c - 2 * sn)) < 1e-6f);
    QVERIFY(std::abs(head[1] - (1 * sn + 2 * c)) < 1e-6f);
    head = before;
    cpu::rope(head.data(), cs.data(), 8, true);  // NeoX pairs (0,4) (1,5) ...
    QVERIFY(std::abs(head[0] - (1 * c - 5 * sn)) < 1e-6f);
    QVERIFY(std::abs(head[4] - (1 * sn + 5 * c)) < 1e-6f);
  }

  void errors_leave_state_unchanged() {
    auto m = test::make_model(test::tiny_spec(Arch::Qwen2), path("err.gguf"));
    auto e = test::make_eval(*m, 2, 4, 16);
    QCOMPARE(e->n_ctx(), 16u);
    std::vector<float> logits(m->hparams().n_vocab);
    const std::vector<tokenizer::Token> bad = {1, 2, 265};
    auto st = e->eval(bad, logits);
    QVERIFY(!st);
    QVERIFY2(st.error().message.find("265") != std::string::npos, st.error().message.c_str());
    QCOMPARE(e->n_past(), 0u);
    const std::vector<tokenizer::Token> neg = {-1};
    QVERIFY(!e->eval(neg, logits));
    QVERIFY(e->eval(kPrompt, logits).has_value());  // 13 of 16
    const std::vector<tokenizer::Token> four = {1, 2, 3, 4};
    st = e->eval(four, logits);
    QVERIFY(!st);
    QVERIFY2(st.error().message.find("context") != std::string::npos, st.error().message.c_str());
    QCOMPARE(e->n_past(), uint32_t(kPrompt.size()));
    QVERIFY(!e->eval({}, logits));
    // The context is capped at the model's training length.
    QCOMPARE(test::make_eval(*m, 1, 4, 100000)->n_ctx(), 256u);
  }

  void cancel_between_batches() {
    auto m = test::make_model(test::tiny_spec(Arch::Qwen2), path("cancel.gguf"));
    auto e = test::make_eval(*m, 2, 4);
    std::atomic<bool> cancel{true};
    e->set_cancel_flag(&cancel);
    std::vector<float> logits(m->hparams().n_vocab);
    auto st = e->eval(kPrompt, logits);
    QVERIFY(!st);
    QCOMPARE(st.error().message, std::string("cancelled"));
    QCOMPARE(e->n_past(), 0u);
    cancel = false;
    QVERIFY(e->eval(kPrompt, logits).has_value());
    QCOMPARE(e->n_past(), uint32_t(kPrompt.size()));
  }

  // A stop during one long prompt batch lands between two layers, not at the end of the batch, and the
  // half-written batch leaves nothing behind: evaluating the prompt again gives a fresh evaluator's logits.
  void cancel_inside_a_batch() {
    model::SynthSpec spec = test::tiny_spec(Arch::Qwen2);
    spec.n_layer = 16;
    spec.n_embd = 256;
    spec.n_ff = 512;
    spec.n_ctx_train = 512;
    auto m = test::make_model(spec, path("cancel-layers.gguf"));
    std::vector<tokenizer::Token> prompt;
    for (int i = 0; i < 384; ++i) prompt.push_back((i * 37) % 265);
    std::vector<float> fresh(m->hparams().n_vocab), logits(m->hparams().n_vocab);

    auto a = test::make_eval(*m, 2, 512, 512);  // the whole prompt is one batch
    QElapsedTimer t;
    t.start();
    QVERIFY(a->eval(prompt, fresh).has_value());
    const qint64 full_ms = t.elapsed();

    auto b = test::make_eval(*m, 2, 512, 512);
    std::atomic<bool> cancel{false};
    b->set_cancel_flag(&cancel);
    std::thread setter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max<qint64>(1, full_ms / 8)));
      cancel = true;
    });
    t.restart();
    auto st = b->eval(prompt, logits);
    const qint64 cancelled_ms = t.elapsed();
    setter.join();
    QVERIFY2(!st, "the batch ran to its end although the flag was set during it");
    QCOMPARE(st.error().message, std::string("cancelled"));
    QCOMPARE(b->n_past(), 0u);
    qInfo("full batch %lld ms, cancelled after %lld ms", full_ms, cancelled_ms);
    QVERIFY2(cancelled_ms < full_ms * 3 / 4, qPrintable(QStringLiteral("%1 of %2 ms").arg(cancelled_ms).arg(full_ms)));

    cancel = false;
    QVERIFY(b->eval(prompt, logits).has_value());
    QCOMPARE(logits, fresh);
  }
};

QTEST_GUILESS_MAIN(TestCpuForward)
#include "test_cpu_forward.moc"
