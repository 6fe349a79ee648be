// penser-gui-bench: the longest GUI-thread stall while a long answer streams into the real window.
//
// The whole app path runs: Services on a temporary data folder, the Models controller loading a generated
// tiny model (R1 vocabulary and template) on the CPU backend, the Settings controller's sampling, the real
// window (Main.qml, ChatView, the message delegates) in a QQmlApplicationEngine, Chat.send, and every
// delta through MessageListModel to the view and through StreamSaver to SQLite. A tiny model is the harsh
// case: it produces tokens far faster than a real one, so the GUI thread sees many more deltas per second.
// StallProbe measures how late a 4 ms timer on the GUI thread fires (docs/gui.md has the figures).
//
//   penser-gui-bench [--tokens N] [--embd N] [--layers N] [--no-window] [--r1-sampling]
// Runs offscreen unless QT_QPA_PLATFORM says otherwise (e.g. under xvfb-run with QT_QPA_PLATFORM=xcb).
#include "app/gui/chat_controller.h"
#include "app/gui/model_controller.h"
#include "app/gui/services.h"
#include "app/gui/settings_controller.h"
#include "app/gui/stall_probe.h"
#include "tests/gui/chat_fixture.h"
#include "ui/window.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QtQml/qqmlextensionplugin.h>

#include <cstdio>
#include <ctime>

Q_IMPORT_QML_PLUGIN(PenserPlugin)
Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)

using namespace penser;
using namespace penser::gui;

namespace {
// CPU time of the calling thread: what the GUI thread itself spent, whatever else loads the machine.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Times every event the GUI thread dispatches (outermost only: an event sent from inside another counts in
// its parent). The thread CPU time of one dispatch is the stall this process's own GUI work causes, whatever
// the machine's load; the wall time adds the time the thread waited for a core meanwhile.
class TimedApp : public QGuiApplication {
 public:
  using QGuiApplication::QGuiApplication;
  bool measuring = false;
  double max_cpu_ms = 0;
  double max_wall_ms = 0;
  QString max_cpu_what;
  qint64 over_16ms_cpu = 0;
  qint64 events = 0;

  bool notify(QObject* receiver, QEvent* event) override {
    // notify() runs on every thread that dispatches events (the engine and storage threads too): only the
    // GUI thread's are measured.
    if (!measuring || depth_ > 0 || QThread::currentThread() != thread()) return QGuiApplication::notify(receiver, event);
    ++depth_;
    const double cpu0 = thread_cpu_seconds();
    clock_.start();
    const QEvent::Type type = event->type();  // the event may be gone afterwards
    const QString cls = QString::fromLatin1(receiver->metaObject()->className());
    const bool r = QGuiApplication::notify(receiver, event);
    const double cpu_ms = (thread_cpu_seconds() - cpu0) * 1000;
    const double wall_ms = clock_.nsecsElapsed() / 1e6;
    --depth_;
    ++events;
    if (cpu_ms > 16) ++over_16ms_cpu;
    if (cpu_ms > max_cpu_ms) {
      max_cpu_ms = cpu_ms;
      max_cpu_what = QStringLiteral("event type %1 to %2").arg(int(type)).arg(cls);
    }
    max_wall_ms = std::max(max_wall_ms, wall_ms);
    return r;
  }

 private:
  int depth_ = 0;
  QElapsedTimer clock_;
};
}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  TimedApp app(argc, argv);
  QStandardPaths::setTestModeEnabled(true);  // the Settings controller's QSettings stay out of the user's
  QCommandLineParser cli;
  cli.addHelpOption();
  cli.addOption({"tokens", "tokens to generate (thought + answer)", "N", "3000"});
  cli.addOption({"embd", "model width", "N", "64"});
  cli.addOption({"layers", "model layers", "N", "2"});
  cli.addOption({"no-window", "stream without the QML window (controller and model only)"});
  cli.addOption({"r1-sampling", "the R1 defaults (temperature 0.6, top-p 0.95: a sort of the vocabulary per "
                                "token, ~10x slower) instead of greedy decoding"});
  cli.process(app);
  const int tokens = cli.value("tokens").toInt();

  QTemporaryDir dir;
  const QString model = dir.filePath(QStringLiteral("bench-r1.gguf"));
  if (Status st = testing::write_tiny_r1_model(model, cli.value("embd").toUInt(), cli.value("layers").toUInt()); !st) {
    std::fprintf(stderr, "penser-gui-bench: %s\n", st.error().message.c_str());
    return 1;
  }

  Services services(dir.filePath(QStringLiteral("data")));
  SettingsController& settings = services.settings();
  settings.setBackend(QStringLiteral("cpu"));
  settings.setContextSize(tokens + 512);
  settings.setMaxTokens(tokens);
  settings.setThinkingBudget(tokens / 3);  // a long thought, then a long answer
  // Greedy by default: the fastest token rate is the harshest test of the GUI thread.
  if (!cli.isSet("r1-sampling")) settings.setTemperature(0);

  QQmlApplicationEngine engine;
  QQuickWindow* window = nullptr;
  if (!cli.isSet("no-window")) {
    if (Status st = ui::load_window(engine, services); !st) {
      std::fprintf(stderr, "penser-gui-bench: %s\n", st.error().message.c_str());
      return 1;
    }
    window = qobject_cast<QQuickWindow*>(engine.rootObjects().value(0));
  }

  ChatController& chat = services.chat();
  services.models().open(model);
  if (!QTest::qWaitFor([&] { return chat.canSend(); }, 60000)) {
    std::fprintf(stderr, "penser-gui-bench: the model did not load: %s\n", qPrintable(services.models().error()));
    return 1;
  }

  // Frames the window presented, and the longest gap between two of them while streaming.
  qint64 frames = 0;
  qint64 last_frame_ns = 0;
  qint64 max_frame_gap_ns = 0;
  QElapsedTimer clock;
  clock.start();
  if (window) {
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [&] {
      const qint64 now = clock.nsecsElapsed();
      if (last_frame_ns > 0) max_frame_gap_ns = std::max(max_frame_gap_ns, now - last_frame_ns);
      last_frame_ns = now;
      ++frames;
    }, Qt::DirectConnection);
  }

  StallProbe probe;
  probe.start();
  QTest::qWait(200);  // the window's first frames and the probe's first ticks are not the stream
  probe.reset();
  app.measuring = true;
  frames = 0;
  last_frame_ns = 0;
  max_frame_gap_ns = 0;

  bool done = false;
  QObject::connect(&chat, &ChatController::turnFinished, &app, [&] { done = true; });
  QElapsedTimer streaming;
  streaming.start();
  const double cpu_before = thread_cpu_seconds();
  chat.send(QStringLiteral("Write a long essay about the history of mathematics, with code examples."));
  if (!QTest::qWaitFor([&] { return done; }, 600000)) {
    std::fprintf(stderr, "penser-gui-bench: the answer did not finish in 10 minutes\n");
    return 1;
  }
  const double seconds = streaming.nsecsElapsed() / 1e9;
  const double gui_cpu = thread_cpu_seconds() - cpu_before;
  probe.stop();
  app.measuring = false;

  const MessageListModel& rows = *chat.messages();
  const app::Message& answer = rows.at(rows.rowCount() - 1).message;
  std::printf("penser-gui-bench: %s, %d tokens asked, model n_embd=%s n_layer=%s, CPU backend\n",
              window ? "real window (Main.qml) via QQmlApplicationEngine" : "no window", tokens,
              qPrintable(cli.value("embd")), qPrintable(cli.value("layers")));
  std::printf("  streamed %lld tokens (%lld thinking) in %.1f s = %.0f tok/s; thought %lld chars, answer %lld chars\n",
              answer.stats.generated_tokens, answer.stats.thinking_tokens, seconds,
              answer.stats.generated_tokens / seconds, qint64(answer.thinking.size()), qint64(answer.content.size()));
  std::printf("  model updates (dataChanged for streaming): %lld = %.0f per second\n", rows.streamingSignals(),
              rows.streamingSignals() / seconds);
  std::printf("  GUI thread CPU time while streaming: %.2f s = %.0f%% of the wall time\n", gui_cpu,
              100.0 * gui_cpu / seconds);
  std::printf("  GUI-thread lateness (4 ms timer): %s, mean %.2f ms\n", qPrintable(probe.summary()), probe.meanMs());
  std::printf("  longest single GUI-thread event: %.1f ms CPU (%s), longest wall %.1f ms; %lld of %lld events "
              "over 16 ms CPU\n",
              app.max_cpu_ms, qPrintable(app.max_cpu_what), app.max_wall_ms, app.over_16ms_cpu, app.events);
  if (window) {
    std::printf("  frames presented: %lld (%.0f per second), longest gap between frames %.1f ms\n", frames,
                frames / seconds, max_frame_gap_ns / 1e6);
  }
  std::printf("LONGEST_STALL_MS %.1f LONGEST_EVENT_CPU_MS %.1f\n", probe.maxMs(), app.max_cpu_ms);
  return 0;
}
