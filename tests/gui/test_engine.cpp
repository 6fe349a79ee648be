// The Engine on its thread, with tiny generated models (the real R1 vocabulary and chat template) and the
// real CPU and Vulkan (lavapipe) evaluators: signals reach the GUI thread while the worker computes,
// thinking streams before the answer, stop() lands within a few tokens and never leaks into the next
// request, each load failure gets its sentence, cancel works at any stage, destruction never waits long.
#include "app/gui/engine.h"
#include "app/gui/engine_worker.h"
#include "app/gui/gpu_guard.h"
#include "app/gui/settings_controller.h"
#include "inference/gguf/gguf.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"
#include "inference/vulkan/context.h"
#include "inference/vulkan/evaluator.h"
#include "tests/test_support.h"
#include "tests/tiny_model.h"

#include <QDir>
#include <QElapsedTimer>
#include <QLockFile>
#include <QScopeGuard>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QtTest>

#include <sys/wait.h>
#include <unistd.h>

using namespace penser;
using namespace penser::gui;

namespace {

const char* kVocab = PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen.vocab.gguf";

model::SynthSpec tiny_spec(const gguf::File* vocab) { return penser::test_models::tiny_r1_spec(vocab, 5); }

LoadRequest cpu_load(const QString& path, int n_ctx = 2048) {
  LoadRequest r;
  r.path = path;
  r.backend = QStringLiteral("cpu");
  r.n_ctx = n_ctx;
  r.n_threads = 2;
  return r;
}

GenerateRequest greedy(quint64 id, const QString& question, int max_tokens, int thinking_budget = -1) {
  GenerateRequest g;
  g.id = id;
  g.conversation_id = 1;
  g.turns = {ChatTurn{QStringLiteral("user"), question}};
  g.settings.temperature = 0;
  g.settings.max_tokens = max_tokens;
  g.settings.thinking_budget = thinking_budget;
  return g;
}

QString words(int n) {
  QStringList w;
  for (int i = 0; i < n; ++i) w << QStringLiteral("word%1").arg(i);
  return w.join(QLatin1Char(' '));
}

FinishInfo finish_of(const QSignalSpy& spy, int i = 0) { return spy.at(i).at(1).value<FinishInfo>(); }

// PENSER_VK_TEST_LOSE_AFTER for the devices made while it is set (Device::create reads it), unset at the end.
struct LoseAfter {
  explicit LoseAfter(const char* n) { qputenv("PENSER_VK_TEST_LOSE_AFTER", n); }
  ~LoseAfter() { clear(); }
  void clear() { qunsetenv("PENSER_VK_TEST_LOSE_AFTER"); }
};

}  // namespace

class TestEngine : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_;  // tiny qwen2, R1 vocabulary

  bool load_ok(Engine& e, const LoadRequest& r, ModelInfo* info = nullptr) {
    QSignalSpy loaded(&e, &Engine::loaded);
    QSignalSpy failed(&e, &Engine::loadFailed);
    e.load(r);
    if (!loaded.wait(15000)) {
      qWarning() << "load failed:" << (failed.isEmpty() ? QStringLiteral("timeout") : failed.at(0).at(0).toString());
      return false;
    }
    if (info) *info = loaded.at(0).at(0).value<ModelInfo>();
    return true;
  }

  // model_ with the backend "auto", loaded on the CPU (no usable GPU here); its info in *info.
  bool auto_load_on_the_cpu(Engine& e, ModelInfo* info) {
    LoadRequest r = cpu_load(model_);
    r.backend = QStringLiteral("auto");
    if (!load_ok(e, r, info)) return false;
    if (info->backend == QStringLiteral("CPU")) return true;
    qWarning() << "loaded on" << info->backend;
    return false;
  }

  // Waits for loadFailed; returns {error, cancelled}.
  std::pair<QString, bool> load_error(Engine& e, const LoadRequest& r) {
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    e.load(r);
    if (!failed.wait(15000)) return {QStringLiteral("<no loadFailed>"), false};
    if (!loaded.isEmpty()) return {QStringLiteral("<loaded too>"), false};
    return {failed.at(0).at(0).toString(), failed.at(0).at(1).toBool()};
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto vocab = gguf::File::open(kVocab);
    QVERIFY2(vocab, vocab ? "" : vocab.error().message.c_str());
    model_ = dir_.filePath(QStringLiteral("tiny.gguf"));
    Status st = model::write_synth_model(tiny_spec(vocab->get()), model_.toStdString());
    QVERIFY2(st, st ? "" : st.error().message.c_str());
  }

  void load_reports_facts_and_progress() {
    Engine e;
    QSignalSpy progress(&e, &Engine::loadProgress);
    ModelInfo info;
    QVERIFY(load_ok(e, cpu_load(model_), &info));
    QVERIFY(e.isLoaded());
    QCOMPARE(info.path, model_);
    QCOMPARE(info.name, QStringLiteral("penser-synth"));
    QCOMPARE(info.architecture, QStringLiteral("qwen2"));
    QCOMPARE(info.quantization, QStringLiteral("Q8_0"));  // general.file_type 7, written by make-model
    QVERIFY(info.parameters > 150000 * 64);               // the tied embedding alone
    QCOMPARE(info.file_bytes, QFileInfo(model_).size());
    QCOMPARE(info.n_ctx, 2048);
    QCOMPARE(info.n_ctx_train, 4096);
    QCOMPARE(info.backend, QStringLiteral("CPU"));
    QVERIFY(info.device.contains(QStringLiteral("2 thread")));
    QVERIFY(info.template_warning.isEmpty());  // the R1 template was recognised
    QVERIFY(progress.size() >= 5);
    double last = -1;
    for (const auto& args : progress) {
      const double f = args.at(0).toDouble();
      QVERIFY2(f >= last && f <= 1.0, qPrintable(QString::number(f)));
      QVERIFY(!args.at(1).toString().isEmpty());
      last = f;
    }
    QCOMPARE(last, 1.0);
  }

  void default_context_comes_from_the_model_and_memory() {
    Engine e;
    ModelInfo info;
    QVERIFY(load_ok(e, cpu_load(model_, 0), &info));
    // Plenty of memory for this model: chat::default_n_ctx gives the trained length.
    QCOMPARE(info.n_ctx, 4096);
  }

  void generate_streams_thinking_then_answer_off_the_gui_thread() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_)));
    QStringList order;  // "t" / "a" per delta, in arrival order
    QString thinking, answer;
    bool all_on_gui_thread = true;
    connect(&e, &Engine::thinkingDelta, this, [&](quint64 id, const QString& t) {
      QCOMPARE(id, quint64(7));
      all_on_gui_thread &= QThread::currentThread() == thread();
      order << QStringLiteral("t");
      thinking += t;
    });
    connect(&e, &Engine::answerDelta, this, [&](quint64, const QString& t) {
      all_on_gui_thread &= QThread::currentThread() == thread();
      order << QStringLiteral("a");
      answer += t;
    });
    QSignalSpy stats(&e, &Engine::statsUpdated);
    QSignalSpy finished(&e, &Engine::finished);
    // The GUI thread keeps running while the worker computes: timer ticks arrive during the generation.
    int ticks = 0;
    QTimer timer;
    connect(&timer, &QTimer::timeout, this, [&] { ++ticks; });
    timer.start(1);

    QElapsedTimer call;
    call.start();
    e.generate(greedy(7, QStringLiteral("What is 2+2?"), 40, 6));
    QVERIFY(call.elapsed() < 50);  // returns at once
    QVERIFY(e.isBusy());
    QVERIFY(finished.wait(15000));
    timer.stop();
    QVERIFY(!e.isBusy());
    QVERIFY(all_on_gui_thread);
    QVERIFY(ticks > 3);

    const FinishInfo f = finish_of(finished);
    QCOMPARE(finished.at(0).at(0).value<quint64>(), quint64(7));
    QCOMPARE(f.reason, QStringLiteral("length"));
    QCOMPARE(f.stats.generated_tokens, 40);
    QCOMPARE(f.stats.thinking_tokens, 6);  // the budget closed the thought
    QVERIFY(f.stats.prompt_tokens > 5);
    QVERIFY(f.stats.decode_tps > 0);
    QVERIFY(!f.thought_unclosed);
    QVERIFY(!thinking.isEmpty());
    QVERIFY(!answer.isEmpty());
    QVERIFY(!thinking.contains(QStringLiteral("</think>")));
    // Every thinking delta precedes every answer delta.
    QVERIFY(order.lastIndexOf(QStringLiteral("t")) < order.indexOf(QStringLiteral("a")));
    // Stats after the prompt and at the end; the context gauge counts prompt + reply.
    QVERIFY(stats.size() >= 2);
    const int used = stats.last().at(2).toInt();
    QCOMPARE(stats.last().at(3).toInt(), 2048);
    QVERIFY(used >= f.stats.prompt_tokens + 40 - 1 && used <= f.stats.prompt_tokens + 40 + 8);
  }

  // The status strip's speed and context gauge move while the answer streams, not only at its end (the
  // session itself reports after the prefill and when done).
  void stats_update_while_the_answer_streams() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_, 4096)));
    bool finished_seen = false;
    int live = 0;
    double tps = 0, ttft = 0;
    int used = 0;
    connect(&e, &Engine::finished, this, [&] { finished_seen = true; });
    connect(&e, &Engine::statsUpdated, this,
            [&](quint64, const penser::app::GenerationStats& st, int context_used, int) {
              if (finished_seen || st.decode_tps <= 0) return;
              if (++live == 1) {
                tps = st.decode_tps;
                ttft = st.ttft_ms;
                used = context_used;
                e.stop();
              }
            });
    QSignalSpy finished(&e, &Engine::finished);
    e.generate(greedy(8, QStringLiteral("Tell me a long story."), 3000));
    QVERIFY(finished.wait(30000));
    const FinishInfo f = finish_of(finished);
    QCOMPARE(f.reason, QStringLiteral("cancelled"));  // stopped by the live figures, before the end
    QVERIFY(live >= 1);
    QVERIFY(tps > 0);
    QVERIFY(ttft > 0);
    QVERIFY2(used > f.stats.prompt_tokens, qPrintable(QStringLiteral("%1 <= %2").arg(used).arg(f.stats.prompt_tokens)));
  }

  void same_request_twice_gives_the_same_greedy_text() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_)));
    QString a, b;
    QString* out = &a;
    connect(&e, &Engine::thinkingDelta, this, [&](quint64, const QString& t) { *out += t; });
    QSignalSpy finished(&e, &Engine::finished);
    e.generate(greedy(1, QStringLiteral("Hello"), 12));
    QVERIFY(finished.wait(15000));
    out = &b;
    GenerateRequest again = greedy(2, QStringLiteral("Hello"), 12);
    again.conversation_id = 2;  // a new conversation: the cache is reset, the text is the same
    e.generate(again);
    QVERIFY(finished.wait(15000));
    QVERIFY(!a.isEmpty());
    QCOMPARE(b, a);
  }

  void stop_mid_answer_cancels_within_a_few_tokens() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_, 4096)));
    int answer_deltas = 0, deltas_after_stop = 0;
    bool stopped = false;
    QElapsedTimer since_stop;
    qint64 stop_to_finished_ms = -1;
    connect(&e, &Engine::answerDelta, this, [&](quint64, const QString&) {
      ++answer_deltas;
      if (stopped) ++deltas_after_stop;
      if (answer_deltas == 3 && !stopped) {
        stopped = true;
        since_stop.start();
        e.stop();
      }
    });
    connect(&e, &Engine::finished, this, [&] { stop_to_finished_ms = since_stop.isValid() ? since_stop.elapsed() : -1; });
    QSignalSpy finished(&e, &Engine::finished);
    e.generate(greedy(3, QStringLiteral("Tell me a long story."), 3000, 4));
    QVERIFY(finished.wait(15000));
    const FinishInfo f = finish_of(finished);
    QCOMPARE(f.reason, QStringLiteral("cancelled"));
    QVERIFY(stopped);
    // The deltas already queued when stop() ran still arrive; the worker stops at its next token.
    qInfo("stop -> finished: %lld ms, %d deltas after stop, %lld tokens generated", stop_to_finished_ms,
          deltas_after_stop, f.stats.generated_tokens);
    QVERIFY2(f.stats.generated_tokens < 4 + 3 + 40, qPrintable(QString::number(f.stats.generated_tokens)));
    QVERIFY(stop_to_finished_ms >= 0 && stop_to_finished_ms < 1000);
  }

  void stop_during_the_prefill_and_before_the_worker_starts() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_, 4096)));
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy answer(&e, &Engine::answerDelta);
    QSignalSpy thinking(&e, &Engine::thinkingDelta);

    // Stopped before the worker picks it up: cancelled without a token.
    e.generate(greedy(10, words(600), 50));
    e.stop();
    QVERIFY(finished.wait(15000));
    QCOMPARE(finish_of(finished).reason, QStringLiteral("cancelled"));
    QCOMPARE(finish_of(finished).stats.generated_tokens, 0);

    // Stopped on the first prefill progress: the prompt evaluation ends between two chunks.
    QSignalSpy prefill(&e, &Engine::prefillProgress);
    connect(&e, &Engine::prefillProgress, &e, &Engine::stop, Qt::SingleShotConnection);
    GenerateRequest r = greedy(11, words(900), 50);
    r.conversation_id = 2;
    e.generate(r);
    QVERIFY(finished.wait(15000));
    QCOMPARE(finished.size(), 2);
    QCOMPARE(finish_of(finished, 1).reason, QStringLiteral("cancelled"));
    QCOMPARE(finish_of(finished, 1).stats.generated_tokens, 0);
    QVERIFY(!prefill.isEmpty());
    const int total = prefill.at(0).at(2).toInt();
    QVERIFY(total > 900);
    QVERIFY(prefill.last().at(1).toInt() < total);  // not the whole prompt
    QVERIFY(answer.isEmpty() && thinking.isEmpty());
  }

  void a_stop_never_leaks_into_the_next_generation() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_)));
    QSignalSpy finished(&e, &Engine::finished);
    e.stop();  // nothing running
    e.generate(greedy(1, QStringLiteral("Hi"), 5));
    QVERIFY(finished.wait(15000));
    QCOMPARE(finish_of(finished).reason, QStringLiteral("length"));
    e.stop();  // after it ended
    e.generate(greedy(2, QStringLiteral("Hi again"), 5));
    QVERIFY(finished.wait(15000));
    QCOMPARE(finish_of(finished, 1).reason, QStringLiteral("length"));
    QCOMPARE(finish_of(finished, 1).stats.generated_tokens, 5);
  }

  void conversation_change_resets_the_cache() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_)));
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy prefill(&e, &Engine::prefillProgress);
    const QString question = words(150);
    e.generate(greedy(1, question, 4));
    QVERIFY(finished.wait(15000));
    const int prompt1 = finish_of(finished).stats.prompt_tokens;
    QVERIFY(!prefill.isEmpty());
    QCOMPARE(prefill.last().at(2).toInt(), prompt1);  // nothing cached: the whole prompt
    QCOMPARE(prefill.last().at(1).toInt(), prompt1);

    // The same conversation, a follow-up turn: the cached prefix is reused, only the new turn is evaluated.
    GenerateRequest follow = greedy(2, question, 4);
    follow.turns << ChatTurn{QStringLiteral("assistant"), QStringLiteral("Yes.")}
                 << ChatTurn{QStringLiteral("user"), QStringLiteral("And then?")};
    prefill.clear();
    e.generate(follow);
    QVERIFY(finished.wait(15000));
    const int prompt2 = finish_of(finished, 1).stats.prompt_tokens;
    QVERIFY(prompt2 > prompt1);
    for (const auto& p : prefill) QVERIFY(p.at(2).toInt() < prompt1);  // short, if reported at all

    // Another conversation with the same turns: the cache was reset, the whole prompt is evaluated.
    follow.id = 3;
    follow.conversation_id = 9;
    prefill.clear();
    e.generate(follow);
    QVERIFY(finished.wait(15000));
    QVERIFY(!prefill.isEmpty());
    QCOMPARE(prefill.last().at(2).toInt(), prompt2);
  }

  void old_turns_dropped_to_fit_are_reported() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_, 256)));
    QSignalSpy dropped(&e, &Engine::contextDropped);
    QSignalSpy finished(&e, &Engine::finished);
    GenerateRequest g = greedy(5, words(40), 4);
    g.turns << ChatTurn{QStringLiteral("assistant"), words(40)} << ChatTurn{QStringLiteral("user"), words(40)}
            << ChatTurn{QStringLiteral("assistant"), words(40)} << ChatTurn{QStringLiteral("user"), QStringLiteral("And now?")};
    e.generate(g);
    QVERIFY(finished.wait(15000));
    QCOMPARE(finish_of(finished).reason, QStringLiteral("length"));
    QCOMPARE(dropped.size(), 1);
    QCOMPARE(dropped.at(0).at(0).value<quint64>(), quint64(5));
    QVERIFY(dropped.at(0).at(1).toInt() >= 2);
    QVERIFY2(dropped.at(0).at(2).toString().contains(QStringLiteral("left out")),
             qPrintable(dropped.at(0).at(2).toString()));
    QVERIFY(finish_of(finished).stats.prompt_tokens <= 256);
  }

  void generate_without_a_model_is_refused() {
    Engine e;
    QSignalSpy finished(&e, &Engine::finished);
    e.generate(greedy(4, QStringLiteral("Hi"), 5));
    QVERIFY(finished.wait(5000));
    QCOMPARE(finish_of(finished).reason, QStringLiteral("error"));
    QVERIFY(finish_of(finished).error.contains(QStringLiteral("No model is loaded")));
  }

  void load_errors_are_sentences() {
    Engine e;
    // Missing file.
    auto [missing, c0] = load_error(e, cpu_load(dir_.filePath(QStringLiteral("nope.gguf"))));
    QVERIFY2(missing.contains(QStringLiteral("does not exist")), qPrintable(missing));
    QVERIFY(!c0);

    // Not a GGUF file.
    const QString text = dir_.filePath(QStringLiteral("notes.gguf"));
    {
      QFile f(text);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("These are my notes, not a model.\n");
    }
    auto [not_gguf, c1] = load_error(e, cpu_load(text));
    QVERIFY2(not_gguf.contains(QStringLiteral("is not a GGUF model file")), qPrintable(not_gguf));
    QVERIFY(not_gguf.contains(QStringLiteral("notes.gguf")));
    QVERIFY(!not_gguf.contains(dir_.path()));  // the sentence names the file, not its folder

    // Truncated: the first half of a real model.
    const QString half = dir_.filePath(QStringLiteral("half.gguf"));
    {
      QFile in(model_);
      QVERIFY(in.open(QIODevice::ReadOnly));
      QFile out(half);
      QVERIFY(out.open(QIODevice::WriteOnly));
      out.write(in.read(in.size() / 2));
    }
    auto [truncated, c2] = load_error(e, cpu_load(half));
    QVERIFY2(truncated.contains(QStringLiteral("damaged or incomplete")), qPrintable(truncated));
    QVERIFY(truncated.contains(QStringLiteral("Download it again")));

    // A valid GGUF of an architecture Penser does not run.
    const QString mamba = dir_.filePath(QStringLiteral("mamba.gguf"));
    {
      gguf::Writer w;
      w.set_string("general.architecture", "mamba");
      w.set_string("general.name", "a state-space model");
      std::vector<float> v(64, 1.0f);
      w.add_tensor_copy("output_norm.weight", {64}, quant::Type::F32,
                        std::vector<uint8_t>(reinterpret_cast<uint8_t*>(v.data()),
                                             reinterpret_cast<uint8_t*>(v.data()) + v.size() * 4));
      QVERIFY(w.write(mamba.toStdString()));
    }
    auto [arch, c3] = load_error(e, cpu_load(mamba));
    QVERIFY2(arch.contains(QStringLiteral("'mamba' is not supported")), qPrintable(arch));
    QVERIFY(arch.contains(QStringLiteral("DeepSeek R1 distilled models")));

    // An unknown backend name.
    LoadRequest odd = cpu_load(model_);
    odd.backend = QStringLiteral("cuda");
    auto [backend, c4] = load_error(e, odd);
    QVERIFY2(backend.contains(QStringLiteral("Unknown backend")), qPrintable(backend));
    QVERIFY(!e.isLoaded());
    QVERIFY(!e.isBusy());
  }

  void memory_check_names_both_figures() {
    auto m = model::Model::load(model_.toStdString());
    QVERIFY(m);
    QVERIFY(cpu_memory_error(**m, 2048, 64ull << 30).isEmpty());
    QVERIFY(cpu_memory_error(**m, 2048, 0).isEmpty());  // unknown: not refused
    const QString e = cpu_memory_error(**m, 2048, 4ull << 20);
    QVERIFY2(e.contains(QStringLiteral("needs about")) && e.contains(QStringLiteral("this computer has 4")),
             qPrintable(e));
  }

  // A context far beyond this machine's memory (the model allows 2^28 tokens: 64 GiB of KV cache) is refused
  // before anything is allocated, with both figures, on the CPU and on the Vulkan device.
  void too_big_for_memory_is_refused_with_figures() {
    auto vocab = gguf::File::open(kVocab);
    QVERIFY(vocab);
    model::SynthSpec s = tiny_spec(vocab->get());
    s.n_ctx_train = 1u << 28;
    const QString path = dir_.filePath(QStringLiteral("long-context.gguf"));
    QVERIFY(model::write_synth_model(s, path.toStdString()));
    Engine e;
    auto [cpu, c1] = load_error(e, cpu_load(path, 1 << 28));
    QVERIFY2(cpu.contains(QStringLiteral("needs about")) && cpu.contains(QStringLiteral("this computer has")) &&
                 cpu.contains(QStringLiteral("268435456 tokens")),
             qPrintable(cpu));
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    LoadRequest vk = cpu_load(path, 1 << 28);
    vk.backend = QStringLiteral("vulkan");
    auto [gpu, c2] = load_error(e, vk);
    QVERIFY2(gpu.contains(QStringLiteral("does not fit in the GPU's memory")) && gpu.contains(QStringLiteral("GiB")),
             qPrintable(gpu));
    QVERIFY(!e.isLoaded());
  }

  void failed_load_unloads_the_previous_model() {
    Engine e;
    QVERIFY(load_ok(e, cpu_load(model_)));
    QSignalSpy unloaded(&e, &Engine::unloaded);
    auto [err, cancelled] = load_error(e, cpu_load(dir_.filePath(QStringLiteral("nope.gguf"))));
    QVERIFY(!err.isEmpty() && !cancelled);
    QCOMPARE(unloaded.size(), 1);
    QVERIFY(!e.isLoaded());
    e.unload();
    QVERIFY(unloaded.wait(5000));  // unload always answers
  }

  void cancel_load_at_once_and_during_progress() {
    Engine e;
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    e.load(cpu_load(model_));
    e.cancelLoad();
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.at(0).at(1).toBool(), true);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("Loading was cancelled."));

    // Cancelled when the weights are being read.
    connect(&e, &Engine::loadProgress, this, [&](double, const QString& stage) {
      if (stage.startsWith(QStringLiteral("Reading the weights"))) e.cancelLoad();
    });
    e.load(cpu_load(model_));
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.size(), 2);
    QVERIFY(failed.at(1).at(1).toBool());
    QVERIFY(loaded.isEmpty());
    QVERIFY(!e.isLoaded());
  }

  // Cancel pressed while the worker has already finished (its `loaded` not yet delivered): still cancelled,
  // and no model stays loaded. The GUI thread is held so the worker finishes first (the flaky case before).
  void cancel_after_the_worker_finished_is_still_a_cancel() {
    Engine e;
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    QSignalSpy unloaded(&e, &Engine::unloaded);
    e.load(cpu_load(model_));
    QThread::msleep(1500);  // the tiny model loads in ~0.2 s; a slower machine takes the worker's own path
    e.cancelLoad();
    QVERIFY(failed.wait(10000));
    QVERIFY(failed.at(0).at(1).toBool());
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("Loading was cancelled."));
    QVERIFY(loaded.isEmpty());
    QVERIFY(!e.isLoaded());
    QTest::qWait(200);
    QVERIFY(loaded.isEmpty());
  }

  void a_new_load_supersedes_one_in_progress() {
    Engine e;
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    e.load(cpu_load(dir_.filePath(QStringLiteral("nope.gguf"))));
    e.load(cpu_load(model_));
    QVERIFY(loaded.wait(15000));
    QTest::qWait(50);
    QVERIFY(failed.isEmpty());  // the first one speaks no more
    QCOMPARE(loaded.size(), 1);
    QVERIFY(e.isLoaded());
  }

  void auto_backend_on_lavapipe_runs_on_the_cpu_and_says_why() {
    bool gpu = false;
    if (vulkan::load()) {
      if (auto inst = vulkan::Instance::create({})) {
        for (const auto& d : (*inst)->devices()) gpu |= d.usable() && !d.is_cpu();
      }
    }
    if (gpu) QSKIP("this machine has a Vulkan GPU: auto chooses it");
    Engine e;
    ModelInfo info;
    QVERIFY(auto_load_on_the_cpu(e, &info));
    QVERIFY2(info.notice.contains(QStringLiteral("running on the CPU")), qPrintable(info.notice));
    qInfo("notice: %s", qPrintable(info.notice));
  }

  // A Vulkan loader that finds no driver (a VM, a Linux without mesa-vulkan-drivers): "auto" runs on the CPU
  // and its notice says what is missing and what to install; "vulkan" fails with the same sentence.
  void no_vulkan_driver_says_what_to_install() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    const QByteArray icd = qgetenv("VK_ICD_FILENAMES"), driver_files = qgetenv("VK_DRIVER_FILES");
    const QByteArray none = dir_.filePath(QStringLiteral("no-such-driver.json")).toUtf8();
    qputenv("VK_ICD_FILENAMES", none);  // read by the loader at each vkCreateInstance
    qputenv("VK_DRIVER_FILES", none);
    auto restore = qScopeGuard([&] {
      icd.isNull() ? qunsetenv("VK_ICD_FILENAMES") : qputenv("VK_ICD_FILENAMES", icd);
      driver_files.isNull() ? qunsetenv("VK_DRIVER_FILES") : qputenv("VK_DRIVER_FILES", driver_files);
    });
    const QString why = QStringLiteral("Vulkan is not available: the Vulkan loader found no GPU driver it could start");
    Engine e;
    ModelInfo info;
    QVERIFY(auto_load_on_the_cpu(e, &info));
    QVERIFY2(info.notice.startsWith(QStringLiteral("No usable Vulkan GPU, running on the CPU: ") + why) &&
                 info.notice.contains(QStringLiteral("mesa-vulkan-drivers")),
             qPrintable(info.notice));
    LoadRequest r = cpu_load(model_);
    r.backend = QStringLiteral("vulkan");
    const auto [error, cancelled] = load_error(e, r);
    QVERIFY(!cancelled);
    QVERIFY2(error.contains(why), qPrintable(error));
  }

  // The GPU chosen in the settings goes by its identity: found where the loader lists it now (a stale index
  // does not matter), and when absent the default device is used and the notice says so first.
  void the_chosen_gpu_is_found_by_its_identity() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    auto instance = vulkan::Instance::create({});
    QVERIFY(instance.has_value());
    const vulkan::DeviceInfo& first = (*instance)->devices().at(0);
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    r.device = 7;  // no such index: the identity decides
    r.device_id = QString::fromStdString(vulkan::device_identity(first));
    r.device_name = QString::fromStdString(first.name);
    ModelInfo info;
    QVERIFY(load_ok(e, r, &info));
    QCOMPARE(info.backend, QStringLiteral("Vulkan"));
    QVERIFY2(info.device.startsWith(QString::fromStdString(first.name)), qPrintable(info.device));
    QVERIFY2(info.notice.isEmpty(), qPrintable(info.notice));

    r.device_id = QStringLiteral("00112233445566778899aabbccddeeff");
    r.device_name = QStringLiteral("Radeon eGPU");
    QVERIFY(load_ok(e, r, &info));
    QCOMPARE(info.backend, QStringLiteral("Vulkan"));  // "vulkan": the default device, lavapipe here
    const QString absent = QStringLiteral("The GPU chosen in the settings, Radeon eGPU, is not present: the default "
                                          "device is used until it is back.");
    QCOMPARE(info.notice, absent);
    if (first.is_cpu()) {  // "auto" does not take a software renderer: the CPU, both sentences
      r.backend = QStringLiteral("auto");
      QVERIFY(load_ok(e, r, &info));
      QCOMPARE(info.backend, QStringLiteral("CPU"));
      QVERIFY2(info.notice.startsWith(absent + QStringLiteral(" No usable Vulkan GPU, running on the CPU: ")),
               qPrintable(info.notice));
    }
  }

  // A run that ends inside the GPU driver (a driver that crashes in vkCreateInstance or its compiler) leaves
  // its guard's lock file; the next run lists no devices in Settings and loads the first model on the CPU,
  // saying why, instead of crashing again; the next load tries the GPU again (gpu_guard.h).
  void a_run_that_ended_inside_the_driver_is_not_repeated() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    QTemporaryDir guard_dir;
    QVERIFY(guard_dir.isValid());
    const QByteArray before = qgetenv("PENSER_GPU_GUARD_DIR");
    qputenv("PENSER_GPU_GUARD_DIR", guard_dir.path().toLocal8Bit());
    GpuGuard::reset_for_tests();
    auto restore = qScopeGuard([&] {
      before.isNull() ? qunsetenv("PENSER_GPU_GUARD_DIR") : qputenv("PENSER_GPU_GUARD_DIR", before);
      GpuGuard::reset_for_tests();
    });
    auto marks = [&] { return QDir(guard_dir.path()).entryList({QStringLiteral("penser-*.lock")}, QDir::Files); };
    {
      const GpuGuard held;  // a guard of this (live) process is no crash
      QCOMPARE(marks().size(), 1);
      QVERIFY(!GpuGuard::earlier_run_crashed());
    }
    QVERIFY(marks().isEmpty());
    GpuGuard::reset_for_tests();
    // Another process inside the driver ends there: its lock file stays, its process is gone.
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      const GpuGuard inside;
      _exit(0);  // no destructor runs, as in a crash
    }
    int status = 0;
    QCOMPARE(waitpid(child, &status, 0), child);
    QCOMPARE(marks().size(), 1);

    SettingsController settings;
    QSignalSpy listed(&settings, &SettingsController::devicesChanged);
    QVERIFY(listed.wait(10000));
    QVERIFY(settings.devices().isEmpty());
    QVERIFY2(settings.devicesNote().contains(QStringLiteral("Penser ended while it was starting the GPU")),
             qPrintable(settings.devicesNote()));
    QVERIFY(marks().isEmpty());  // found and removed

    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    ModelInfo info;
    QVERIFY(load_ok(e, r, &info));
    QCOMPARE(info.backend, QStringLiteral("CPU"));
    QVERIFY2(info.notice.startsWith(QStringLiteral("Penser ended while it was starting the GPU the last time it ran")),
             qPrintable(info.notice));
    QVERIFY(load_ok(e, r, &info));  // Reload: the GPU again
    QCOMPARE(info.backend, QStringLiteral("Vulkan"));
    QVERIFY2(info.notice.isEmpty(), qPrintable(info.notice));
    QVERIFY(marks().isEmpty());  // released once the evaluator was made

    // An earlier run that had this process's id (a sandbox gives the app the same one each run) and ended
    // inside the driver: its file names this process, and is still a crash.
    {
      QLockFile earlier(guard_dir.filePath(QStringLiteral("penser-earlier.lock")));
      QVERIFY(earlier.tryLock(0));
      QVERIFY(QFile::copy(earlier.fileName(), guard_dir.filePath(QStringLiteral("penser-left.lock"))));
    }
    GpuGuard::reset_for_tests();
    QCOMPARE(marks(), QStringList{QStringLiteral("penser-left.lock")});
    QVERIFY(GpuGuard::earlier_run_crashed());
    QVERIFY(marks().isEmpty());
  }

  void vulkan_backend_on_lavapipe_generates() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    e.load(r);
    QVERIFY(loaded.wait(30000) || !failed.isEmpty());
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
    const ModelInfo info = loaded.at(0).at(0).value<ModelInfo>();
    QCOMPARE(info.backend, QStringLiteral("Vulkan"));
    QVERIFY(info.notice.isEmpty());
    QVERIFY2(!info.device.isEmpty(), qPrintable(info.device));
    QCOMPARE(info.n_ctx, 512);
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy thinking(&e, &Engine::thinkingDelta);
    e.generate(greedy(1, QStringLiteral("Hi"), 6));
    QVERIFY(finished.wait(30000));
    QCOMPARE(finish_of(finished).reason, QStringLiteral("length"));
    QCOMPARE(finish_of(finished).stats.generated_tokens, 6);
    QVERIFY(!thinking.isEmpty());
  }

  // The GPU upload's progress (vulkan::EvaluatorOptions::progress) reaches the bar: the stage's fractions
  // run on from 0.08 to 0.92 (no reading pass before it on Vulkan), never back, with steps between; Cancel pressed during the upload cancels, and
  // another model chosen then is the one that loads.
  void vulkan_upload_progress_and_cancel() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    // Wider than model_: its embedding (151,936 x 256 in Q8_0, 41 MB) is two pieces of the upload, so that
    // the bar has a step between its two ends whatever order the pieces finish in (model_'s is one piece of
    // 99% of its bytes).
    auto vocab = gguf::File::open(kVocab);
    QVERIFY2(vocab, vocab ? "" : vocab.error().message.c_str());
    const QString wide = dir_.filePath(QStringLiteral("wide.gguf"));
    Status st = model::write_synth_model(penser::test_models::tiny_r1_spec(vocab->get(), 6, 256), wide.toStdString());
    QVERIFY2(st, st ? "" : st.error().message.c_str());
    LoadRequest r = cpu_load(wide, 512);
    r.backend = QStringLiteral("vulkan");
    const QString upload = QStringLiteral("Uploading the weights to the GPU…");
    {
      Engine e;
      QList<double> at;
      QStringList stages;
      connect(&e, &Engine::loadProgress, this, [&](double f, const QString& stage) {
        stages.append(stage);
        if (stage == upload) at.append(f);
      });
      QVERIFY(load_ok(e, r, nullptr));
      QString steps;
      for (double f : at) steps += QString::number(f) + QLatin1Char(' ');
      qInfo("upload steps: %s", qPrintable(steps));
      QVERIFY2(at.size() >= 3, qPrintable(steps));
      QCOMPARE(at.front(), 0.08);
      QVERIFY(at.at(1) > 0.08 && at.at(1) < 0.92);
      QVERIFY(!stages.contains(QStringLiteral("Reading the weights…")));
      QVERIFY(qAbs(at.back() - 0.92) < 1e-9);
      QVERIFY(std::is_sorted(at.begin(), at.end()));
    }
    Engine e;
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy loaded(&e, &Engine::loaded);
    connect(&e, &Engine::loadProgress, this, [&](double f, const QString& stage) {
      if (stage == upload && f > 0.08) e.cancelLoad();
    });
    e.load(r);
    QVERIFY(failed.wait(30000));
    QVERIFY(failed.at(0).at(1).toBool());
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("Loading was cancelled."));
    QTest::qWait(100);
    QVERIFY(loaded.isEmpty());
    QVERIFY(!e.isLoaded());

    // Another model chosen during the upload: that one loads (on the CPU), the superseded one says nothing.
    Engine e2;
    QSignalSpy failed2(&e2, &Engine::loadFailed);
    QSignalSpy loaded2(&e2, &Engine::loaded);
    bool switched = false;
    connect(&e2, &Engine::loadProgress, this, [&](double f, const QString& stage) {
      if (stage == upload && f > 0.08 && !switched) {
        switched = true;
        e2.load(cpu_load(model_));
      }
    });
    e2.load(r);
    QVERIFY(loaded2.wait(30000));
    QVERIFY(switched);
    QTest::qWait(100);
    QVERIFY2(failed2.isEmpty(), failed2.isEmpty() ? "" : qPrintable(failed2.at(0).at(0).toString()));
    QCOMPARE(loaded2.size(), 1);
    QCOMPARE(loaded2.at(0).at(0).value<ModelInfo>().backend, QStringLiteral("CPU"));
    QCOMPARE(loaded2.at(0).at(0).value<ModelInfo>().path, model_);
  }

  // The settings' prompt batch (LoadRequest::n_batch) reaches the Vulkan evaluator: the prompt is evaluated in
  // steps of that many tokens (prefillProgress), ModelInfo says so, and the greedy text is the default's.
  void vulkan_prompt_batch_reaches_the_evaluator() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    auto reply = [&](int n_batch, ModelInfo* info, QList<int>* steps) {
      Engine e;
      LoadRequest r = cpu_load(model_, 512);
      r.backend = QStringLiteral("vulkan");
      r.n_batch = n_batch;
      if (!load_ok(e, r, info)) return QStringLiteral("(load failed)");
      QString text;
      connect(&e, &Engine::thinkingDelta, this, [&](quint64, const QString& t) { text += t; });
      connect(&e, &Engine::prefillProgress, this, [&](quint64, int done, int) { steps->append(done); });
      QSignalSpy finished(&e, &Engine::finished);
      e.generate(greedy(1, QStringLiteral("Hello there, how are you?"), 5));
      if (!finished.wait(60000)) return QStringLiteral("(no reply)");
      return text;
    };
    ModelInfo by_default, three;
    QList<int> default_steps, three_steps;
    const QString a = reply(0, &by_default, &default_steps);
    const QString b = reply(3, &three, &three_steps);
    QCOMPARE(three.n_batch, 3);
    if (qEnvironmentVariable("VK_ICD_FILENAMES").contains("lvp_icd"))
      QCOMPARE(by_default.n_batch, int(vulkan::kDefaultBatchCpuImplementation));
    QVERIFY2(three_steps.size() >= 3, qPrintable(QString::number(three_steps.size())));
    for (int i = 0; i + 1 < three_steps.size(); ++i) QCOMPARE(three_steps[i], 3 * (i + 1));
    QVERIFY(!a.isEmpty());
    QCOMPARE(b, a);
  }

  // A lost GPU (PENSER_VK_TEST_LOSE_AFTER in the real Device: lavapipe cannot lose one for real). The
  // prompt takes 2 submissions on lavapipe (one per layer), each decoded token one more: 6 lets 4 tokens
  // through. The answer ends with an error a user can act on and keeps what it had; the model is loaded
  // again by itself, with the usual progress, on the same backend; the next answer comes.
  void lost_gpu_reloads_the_model_and_the_next_answer_comes() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    LoseAfter knob("6");
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    QVERIFY(load_ok(e, r));
    knob.clear();  // read by the Device just made: the reload's device works
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy reloading(&e, &Engine::reloading);
    QSignalSpy unloaded(&e, &Engine::unloaded);
    QSignalSpy progress(&e, &Engine::loadProgress);
    QSignalSpy loaded(&e, &Engine::loaded);
    QSignalSpy failed(&e, &Engine::loadFailed);
    QString thinking;
    connect(&e, &Engine::thinkingDelta, this, [&](quint64, const QString& t) { thinking += t; });
    e.generate(greedy(1, QStringLiteral("Hi"), 40));
    QVERIFY(finished.wait(30000));
    const FinishInfo f = finish_of(finished);
    QCOMPARE(f.reason, QStringLiteral("error"));
    QVERIFY2(f.error.startsWith(QStringLiteral("The GPU stopped responding (its driver reset it).")) &&
                 f.error.contains(QStringLiteral("press Regenerate")),
             qPrintable(f.error));
    QVERIFY2(!thinking.isEmpty(), "the tokens before the loss streamed");
    QVERIFY(loaded.wait(30000));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
    QCOMPARE(reloading.size(), 1);
    QCOMPARE(unloaded.size(), 1);
    QVERIFY(progress.size() >= 5);  // the usual load, stage by stage
    const ModelInfo info = loaded.at(0).at(0).value<ModelInfo>();
    QCOMPARE(info.backend, QStringLiteral("Vulkan"));
    QVERIFY2(info.notice.contains(QStringLiteral("The GPU stopped responding")), qPrintable(info.notice));
    QVERIFY(e.isLoaded());
    e.generate(greedy(2, QStringLiteral("Hi"), 6));
    QVERIFY(finished.wait(30000));
    QCOMPARE(finish_of(finished, 1).reason, QStringLiteral("length"));
    QCOMPARE(finish_of(finished, 1).stats.generated_tokens, 6);
    QCOMPARE(reloading.size(), 1);
  }

  // A second loss soon after the first does not loop on the GPU: the model goes to the CPU, says so, and
  // answers there.
  void second_lost_gpu_within_minutes_goes_to_the_cpu() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    LoseAfter knob("6");  // every device made in this test loses itself after 6 submissions
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    QVERIFY(load_ok(e, r));
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy loaded(&e, &Engine::loaded);
    QSignalSpy failed(&e, &Engine::loadFailed);
    e.generate(greedy(1, QStringLiteral("Hi"), 40));
    QVERIFY(finished.wait(30000));
    QVERIFY(loaded.wait(30000));
    QCOMPARE(loaded.at(0).at(0).value<ModelInfo>().backend, QStringLiteral("Vulkan"));
    e.generate(greedy(2, QStringLiteral("Hi"), 40));
    QVERIFY(finished.wait(30000));
    const FinishInfo f = finish_of(finished, 1);
    QCOMPARE(f.reason, QStringLiteral("error"));
    QVERIFY2(f.error.contains(QStringLiteral("stopped responding again")) &&
                 f.error.contains(QStringLiteral("on the CPU")),
             qPrintable(f.error));
    QVERIFY(loaded.wait(30000));
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
    const ModelInfo info = loaded.at(1).at(0).value<ModelInfo>();
    QCOMPARE(info.backend, QStringLiteral("CPU"));
    QVERIFY2(info.notice.contains(QStringLiteral("running on the CPU")), qPrintable(info.notice));
    e.generate(greedy(3, QStringLiteral("Hi"), 6));
    QVERIFY(finished.wait(30000));
    QCOMPARE(finish_of(finished, 2).reason, QStringLiteral("length"));
    QCOMPARE(loaded.size(), 2);
  }

  // A second loss where the CPU cannot hold the model either (PENSER_TEST_PHYSICAL_MEMORY: 1 MiB): nothing
  // is loaded again, and the answer and the model's failure say why.
  void second_lost_gpu_where_the_cpu_cannot_hold_it_stops() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    LoseAfter knob("6");
    qputenv("PENSER_TEST_PHYSICAL_MEMORY", "1048576");
    struct Unset {
      ~Unset() { qunsetenv("PENSER_TEST_PHYSICAL_MEMORY"); }
    } unset;
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    QVERIFY(load_ok(e, r));
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy loaded(&e, &Engine::loaded);
    QSignalSpy failed(&e, &Engine::loadFailed);
    QSignalSpy reloading(&e, &Engine::reloading);
    e.generate(greedy(1, QStringLiteral("Hi"), 40));
    QVERIFY(finished.wait(30000));
    QVERIFY(loaded.wait(30000));
    e.generate(greedy(2, QStringLiteral("Hi"), 40));
    QVERIFY(finished.wait(30000));
    const FinishInfo f = finish_of(finished, 1);
    QCOMPARE(f.reason, QStringLiteral("error"));
    QVERIFY2(f.error.contains(QStringLiteral("the CPU cannot hold this model")) &&
                 f.error.contains(QStringLiteral("this computer has")),
             qPrintable(f.error));
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.at(0).at(0).toString(), f.error);
    QCOMPARE(failed.at(0).at(1).toBool(), false);
    QTest::qWait(200);
    QCOMPARE(reloading.size(), 1);  // the first loss only
    QCOMPARE(loaded.size(), 1);
    QVERIFY(!e.isLoaded());
  }

  // A load asked for when the answer that lost the GPU ends (before the worker's deviceLost reaches the GUI
  // thread) wins over the automatic reload.
  void a_load_after_the_loss_replaces_the_reload() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    LoseAfter knob("2");  // the prompt's 2 submissions pass, the first decoded token's is lost
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    QVERIFY(load_ok(e, r));
    knob.clear();
    QSignalSpy finished(&e, &Engine::finished);
    QSignalSpy reloading(&e, &Engine::reloading);
    QSignalSpy loaded(&e, &Engine::loaded);
    connect(&e, &Engine::finished, this, [&] { e.load(cpu_load(model_, 256)); });
    e.generate(greedy(1, QStringLiteral("Hi"), 40));
    QVERIFY(loaded.wait(30000));
    QCOMPARE(finished.size(), 1);
    QCOMPARE(finish_of(finished).reason, QStringLiteral("error"));
    QCOMPARE(reloading.size(), 0);
    QTest::qWait(200);
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(loaded.at(0).at(0).value<ModelInfo>().backend, QStringLiteral("CPU"));
    QCOMPARE(loaded.at(0).at(0).value<ModelInfo>().n_ctx, 256);
  }

  void vulkan_backend_asked_for_a_missing_device_fails_clearly() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    Engine e;
    LoadRequest r = cpu_load(model_, 512);
    r.backend = QStringLiteral("vulkan");
    r.device = 42;
    auto [err, cancelled] = load_error(e, r);
    QVERIFY2(err.contains(QStringLiteral("The Vulkan backend cannot be used")) &&
                 err.contains(QStringLiteral("no Vulkan device 42")),
             qPrintable(err));
  }

  void destruction_during_generation_returns_promptly() {
    auto e = std::make_unique<Engine>();
    QVERIFY(load_ok(*e, cpu_load(model_, 4096)));
    QSignalSpy thinking(e.get(), &Engine::thinkingDelta);
    e->generate(greedy(1, QStringLiteral("Go on forever."), 0));  // until the context is full
    QVERIFY(thinking.wait(15000));
    QElapsedTimer t;
    t.start();
    e.reset();
    qInfo("~Engine during generation: %lld ms", t.elapsed());
    QVERIFY(t.elapsed() < 1000);
  }

  void destruction_during_load_returns_promptly() {
    auto e = std::make_unique<Engine>();
    QSignalSpy progress(e.get(), &Engine::loadProgress);
    e->load(cpu_load(model_));
    QVERIFY(progress.wait(10000));
    QElapsedTimer t;
    t.start();
    e.reset();
    QVERIFY(t.elapsed() < 1000);
  }

  void quantization_prefers_the_file_type() {
    QCOMPARE(file_type_name(15), QStringLiteral("Q4_K_M"));
    QCOMPARE(file_type_name(7), QStringLiteral("Q8_0"));
    QCOMPARE(file_type_name(1000), QString());
    // The tiny model with general.file_type = 15 added: the label is the file's own name for its mix.
    auto f = gguf::File::open(model_.toStdString());
    QVERIFY(f);
    gguf::Writer w;
    w.copy_metadata(**f);
    w.set_uint32("general.file_type", 15);
    for (const gguf::TensorInfo& t : (*f)->tensors()) w.add_tensor(t.name, t.shape, t.type, {t.data, t.n_bytes});
    const QString path = dir_.filePath(QStringLiteral("typed.gguf"));
    QVERIFY(w.write(path.toStdString()));
    auto m = model::Model::load(path.toStdString());
    QVERIFY2(m, m ? "" : m.error().message.c_str());
    QCOMPARE(quantization_label(**m), QStringLiteral("Q4_K_M"));
    // A value llama.cpp does not name: the dominant tensor type (the tiny model's matrices are Q8_0).
    w.set_uint32("general.file_type", 1000);
    const QString odd = dir_.filePath(QStringLiteral("odd.gguf"));
    QVERIFY(w.write(odd.toStdString()));
    auto o = model::Model::load(odd.toStdString());
    QVERIFY2(o, o ? "" : o.error().message.c_str());
    QCOMPARE(quantization_label(**o), QStringLiteral("Q8_0"));
  }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "test_engine.moc"
