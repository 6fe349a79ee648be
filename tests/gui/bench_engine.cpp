// Not a test: the engine thread as the window sees it. Loads a model through gui::Engine and prints the
// time per load stage, then measures stop() -> finished during decoding and during the prompt evaluation,
// decoding through the engine over --decode tokens (greedy and at R1's defaults), and ~Engine while a reply
// streams.
// Figures go to docs/gui.md with the command and the machine's load.
//
//   penser-engine-bench MODEL.gguf [--backend cpu|vulkan|auto] [--n-ctx N] [--runs N] [--threads N] [--batch N]
//                       [--decode N]
#include "app/gui/engine.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <cstdio>
#include <vector>

using namespace penser::gui;

namespace {

struct Summary {
  double min = 0, median = 0, max = 0;
};

Summary summarize(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {v.front(), v[v.size() / 2], v.back()};
}

// Runs the event loop until `done` or the timeout; false on timeout. The thread sleeps between events, as the
// window's does: processEvents(flags, maxtime) drops WaitForMoreEvents and spun here, taking a core from the
// engine (on 2 cores the CPU backend's decode through the engine measured 150 tok/s against 226 without it).
// A timer wakes it for the timeout.
template <typename F>
bool wait_until(F done, int timeout_ms = 600000) {
  QElapsedTimer t;
  t.start();
  QTimer wake;
  wake.start(100);
  while (!done()) {
    if (t.elapsed() > timeout_ms) return false;
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCommandLineParser p;
  p.addHelpOption();
  p.addPositionalArgument(QStringLiteral("model"), QStringLiteral("GGUF model"));
  p.addOption({QStringLiteral("backend"), QStringLiteral("cpu, vulkan or auto"), QStringLiteral("name"), QStringLiteral("cpu")});
  p.addOption({QStringLiteral("n-ctx"), QStringLiteral("context (0: automatic)"), QStringLiteral("n"), QStringLiteral("4096")});
  p.addOption({QStringLiteral("runs"), QStringLiteral("stop measurements of each kind"), QStringLiteral("n"), QStringLiteral("5")});
  p.addOption({QStringLiteral("threads"), QStringLiteral("CPU threads (0: all)"), QStringLiteral("n"), QStringLiteral("0")});
  p.addOption({QStringLiteral("batch"), QStringLiteral("Vulkan prompt tokens per submission (0: by device type)"),
               QStringLiteral("n"), QStringLiteral("0")});
  p.addOption({QStringLiteral("decode"), QStringLiteral("tokens of the sustained decode runs (0: none)"),
               QStringLiteral("n"), QStringLiteral("128")});
  p.process(app);
  if (p.positionalArguments().size() != 1) p.showHelp(2);

  auto owned_engine = std::make_unique<Engine>();
  Engine& engine = *owned_engine;
  LoadRequest load;
  load.path = p.positionalArguments().at(0);
  load.backend = p.value(QStringLiteral("backend"));
  load.n_ctx = p.value(QStringLiteral("n-ctx")).toInt();
  load.n_threads = p.value(QStringLiteral("threads")).toInt();
  load.n_batch = p.value(QStringLiteral("batch")).toInt();
  const int runs = std::max(1, p.value(QStringLiteral("runs")).toInt());

  // 1. Load, stage by stage.
  QElapsedTimer clock;
  std::vector<std::pair<QString, qint64>> stages;
  bool load_done = false;
  QString load_error;
  ModelInfo info;
  QObject::connect(&engine, &Engine::loadProgress, [&](double, const QString& stage) {
    if (stages.empty() || stages.back().first != stage) stages.emplace_back(stage, clock.elapsed());
  });
  QObject::connect(&engine, &Engine::loaded, [&](const ModelInfo& i) {
    info = i;
    load_done = true;
  });
  QObject::connect(&engine, &Engine::loadFailed, [&](const QString& e, bool) {
    load_error = e;
    load_done = true;
  });
  clock.start();
  engine.load(load);
  wait_until([&] { return load_done; });
  const qint64 load_ms = clock.elapsed();
  if (!load_error.isEmpty()) {
    std::fprintf(stderr, "load failed: %s\n", qPrintable(load_error));
    return 1;
  }
  std::printf("model: %s (%s, %s, %lld parameters, %.2f GiB), backend %s on %s, context %d, prompt batch %d\n",
              qPrintable(info.name), qPrintable(info.architecture), qPrintable(info.quantization),
              static_cast<long long>(info.parameters), double(info.file_bytes) / double(1 << 30),
              qPrintable(info.backend), qPrintable(info.device), info.n_ctx, info.n_batch);
  if (!info.notice.isEmpty()) std::printf("notice: %s\n", qPrintable(info.notice));
  std::printf("load: %lld ms (load() to loaded)\n", static_cast<long long>(load_ms));
  for (size_t i = 0; i < stages.size(); ++i) {
    const qint64 end = i + 1 < stages.size() ? stages[i + 1].second : load_ms;
    std::printf("  %-36s %6lld ms\n", qPrintable(stages[i].first), static_cast<long long>(end - stages[i].second));
  }

  // 2. stop() -> finished while decoding (after the 8th delta) and while evaluating a long prompt.
  quint64 next_id = 1;
  auto measure = [&](bool in_prefill, std::vector<double>& stop_ms, std::vector<double>& ttft_ms,
                     std::vector<double>& decode_tps) {
    GenerateRequest g;
    g.id = next_id++;
    g.conversation_id = qint64(g.id);  // a fresh cache each run
    QString question = QStringLiteral("Why is the sky blue?");
    if (in_prefill) {
      QStringList words;
      for (int i = 0; i < 300; ++i) words << QStringLiteral("word%1").arg(i);  // ~1200 tokens
      question = words.join(QLatin1Char(' '));
    }
    g.turns = {ChatTurn{QStringLiteral("user"), question}};
    g.settings.temperature = 0;
    g.settings.max_tokens = 4000;
    int deltas = 0;
    QElapsedTimer since_stop;
    bool finished = false;
    FinishInfo fin;
    auto on_delta = [&](quint64 id, const QString&) {
      if (id != g.id || since_stop.isValid()) return;
      if (++deltas == 8 && !in_prefill) {
        since_stop.start();
        engine.stop();
      }
    };
    QObject ctx;
    QObject::connect(&engine, &Engine::thinkingDelta, &ctx, on_delta);
    QObject::connect(&engine, &Engine::answerDelta, &ctx, on_delta);
    QObject::connect(&engine, &Engine::prefillProgress, &ctx, [&](quint64 id, int, int) {
      if (id == g.id && in_prefill && !since_stop.isValid()) {
        since_stop.start();
        engine.stop();
      }
    });
    QObject::connect(&engine, &Engine::finished, &ctx, [&](quint64 id, const FinishInfo& f) {
      if (id != g.id) return;
      if (since_stop.isValid()) stop_ms.push_back(double(since_stop.nsecsElapsed()) / 1e6);
      fin = f;
      finished = true;
    });
    engine.generate(g);
    wait_until([&] { return finished; });
    if (!in_prefill) {
      ttft_ms.push_back(fin.stats.ttft_ms);
      decode_tps.push_back(fin.stats.decode_tps);
    }
    if (fin.reason != QLatin1String("cancelled"))
      std::printf("  (run %llu ended with %s: %s)\n", static_cast<unsigned long long>(g.id), qPrintable(fin.reason),
                  qPrintable(fin.error));
  };
  std::vector<double> stop_decode, stop_prefill, ttft, tps, unused1, unused2;
  for (int i = 0; i < runs; ++i) measure(false, stop_decode, ttft, tps);
  for (int i = 0; i < runs; ++i) measure(true, stop_prefill, unused1, unused2);
  const Summary d = summarize(stop_decode), f = summarize(stop_prefill), t = summarize(ttft), s = summarize(tps);
  std::printf("stop -> finished while decoding: min %.1f / median %.1f / max %.1f ms (%zu runs)\n", d.min, d.median,
              d.max, stop_decode.size());
  std::printf("stop -> finished in a 300-word (~1200-token) prompt: min %.1f / median %.1f / max %.1f ms (%zu runs)\n", f.min,
              f.median, f.max, stop_prefill.size());
  std::printf("time to first token (short prompt): median %.0f ms; decode %.1f tok/s (median)\n", t.median, s.median);

  // 2b. Decoding as a reply streams: --decode N tokens, greedy and at R1's defaults, to the end (no stop), the
  //     window's deltas received. Against `penser-cli bench MODEL -p 0 -n N` (the evaluator alone, and its
  //     "decode with it" line) this is what the engine thread adds to a token: the chat session, the splitter,
  //     the text, the signals. On a GPU decoding at 4 ms a token every 0.1 ms of it is 2.5%.
  const int decode_n = p.value(QStringLiteral("decode")).toInt();
  for (const double temperature : {0.0, 0.6}) {
    if (decode_n <= 0) break;
    std::vector<double> rates;
    int generated = 0;
    for (int i = 0; i < runs; ++i) {
      GenerateRequest g;
      g.id = next_id++;
      g.conversation_id = qint64(g.id);
      g.turns = {ChatTurn{QStringLiteral("user"), QStringLiteral("Why is the sky blue?")}};
      g.settings.temperature = temperature;
      g.settings.max_tokens = decode_n;
      g.settings.seed = 1;
      bool finished = false;
      FinishInfo fin;
      QObject ctx;
      QObject::connect(&engine, &Engine::finished, &ctx, [&](quint64 id, const FinishInfo& f) {
        if (id != g.id) return;
        fin = f;
        finished = true;
      });
      engine.generate(g);
      wait_until([&] { return finished; });
      rates.push_back(fin.stats.decode_tps);
      generated = fin.stats.generated_tokens;
    }
    const Summary r = summarize(rates);
    std::printf("decode through the engine, %d tokens, %s: min %.1f / median %.1f / max %.1f tok/s (%zu runs)\n",
                generated, temperature == 0 ? "greedy" : "temperature 0.6, top-p 0.95", r.min, r.median, r.max,
                rates.size());
  }

  // 3. Destruction while generating.
  {
    GenerateRequest g;
    g.id = next_id++;
    g.conversation_id = qint64(g.id);
    g.turns = {ChatTurn{QStringLiteral("user"), QStringLiteral("Count to a thousand.")}};
    g.settings.max_tokens = 4000;
    bool streaming = false;
    QObject::connect(&engine, &Engine::thinkingDelta, [&] { streaming = true; });
    engine.generate(g);
    wait_until([&] { return streaming; });
  }
  QElapsedTimer destroy;
  destroy.start();
  owned_engine.reset();
  std::printf("~Engine while generating: %.1f ms\n", double(destroy.nsecsElapsed()) / 1e6);
  return 0;
}
