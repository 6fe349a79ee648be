// SettingsController against a real QSettings file in a temporary folder: the chat engine's R1 defaults,
// persistence across instances, clamping of bad values (also hand-edited ones), reset, the theme following
// the palette, the data folder, and the Vulkan device list enumerated off the GUI thread (lavapipe here).
#include "app/gui/settings_controller.h"
#include "inference/chat/session.h"
#include "inference/vulkan/context.h"
#include "tests/test_support.h"

#include <QDir>
#include <QGuiApplication>
#include <QPalette>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace penser;
using namespace penser::gui;

class TestSettings : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("PenserTest"));
    QCoreApplication::setApplicationName(QStringLiteral("settings"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir_.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir_.path());
  }

  void init() { QSettings().clear(); }

  void defaults_are_the_chat_engines() {
    SettingsController s;
    const chat::GenerateSettings g;
    QCOMPARE(s.temperature(), 0.6);
    QCOMPARE(float(s.temperature()), g.sampler.temperature);
    QCOMPARE(s.topP(), 0.95);
    QCOMPARE(float(s.topP()), g.sampler.top_p);
    QCOMPARE(s.topK(), g.sampler.top_k);
    QCOMPARE(s.minP(), 0.0);
    QCOMPARE(s.repeatPenalty(), 1.0);
    QCOMPARE(s.maxTokens(), g.max_tokens);
    QCOMPARE(s.maxTokens(), 8192);
    QCOMPARE(s.thinkingBudget(), -1);
    QCOMPARE(s.contextSize(), 0);
    QCOMPARE(s.systemPrompt(), QString());
    QCOMPARE(s.backend(), QStringLiteral("auto"));
    QCOMPARE(s.device(), -1);
    QCOMPARE(s.promptBatch(), 0);  // by device type
    QCOMPARE(s.maxPromptBatch(), 4096);
    QCOMPARE(s.theme(), QStringLiteral("system"));
    QCOMPARE(s.dataFolder(), QString());

    const SamplingSettings x = s.sampling();
    QCOMPARE(x.temperature, 0.6);
    QCOMPARE(x.top_p, 0.95);
    QCOMPARE(x.max_tokens, 8192);
    QCOMPARE(x.thinking_budget, -1);
    QCOMPARE(x.seed, qint64(-1));
    const LoadRequest r = s.loadRequest(QStringLiteral("/m.gguf"));
    QCOMPARE(r.backend, QStringLiteral("auto"));
    QCOMPARE(r.n_ctx, 0);
    QCOMPARE(r.device, -1);
    QCOMPARE(r.n_batch, 0);
  }

  void values_persist_across_instances() {
    {
      SettingsController s;
      QSignalSpy temp(&s, &SettingsController::temperatureChanged);
      s.setTemperature(0.7);
      s.setTemperature(0.7);  // no change, no signal
      QCOMPARE(temp.size(), 1);
      s.setTopP(0.9);
      s.setTopK(40);
      s.setMinP(0.05);
      s.setRepeatPenalty(1.1);
      s.setMaxTokens(4096);
      s.setContextSize(8192);
      s.setThinkingBudget(1000);
      s.setSystemPrompt(QStringLiteral("Réponds en français."));
      s.setBackend(QStringLiteral("CPU"));
      s.setDevice(1);
      QSignalSpy batch(&s, &SettingsController::promptBatchChanged);
      s.setPromptBatch(16);
      s.setPromptBatch(16);
      QCOMPARE(batch.size(), 1);
      s.setTheme(QStringLiteral("dark"));
      QVERIFY(s.dataFolderNote().isEmpty());
      s.setDataFolder(QUrl::fromLocalFile(dir_.filePath(QStringLiteral("data"))).toString());
      QCOMPARE(s.dataFolder(), dir_.filePath(QStringLiteral("data")));
      // The running program keeps its folder; the note says when the new one applies.
      QVERIFY(s.dataFolderInUse() != s.dataFolder());
      QVERIFY(s.dataFolderNote().contains(QDir::toNativeSeparators(s.dataFolder())));
    }
    // On disk, in the test folder.
    QVERIFY(QFileInfo::exists(QSettings().fileName()));
    QVERIFY(QSettings().fileName().startsWith(dir_.path()));
    SettingsController s;
    QCOMPARE(s.temperature(), 0.7);
    QCOMPARE(s.topP(), 0.9);
    QCOMPARE(s.topK(), 40);
    QCOMPARE(s.minP(), 0.05);
    QCOMPARE(s.repeatPenalty(), 1.1);
    QCOMPARE(s.maxTokens(), 4096);
    QCOMPARE(s.contextSize(), 8192);
    QCOMPARE(s.thinkingBudget(), 1000);
    QCOMPARE(s.systemPrompt(), QStringLiteral("Réponds en français."));
    QCOMPARE(s.backend(), QStringLiteral("cpu"));
    QCOMPARE(s.device(), 1);
    QCOMPARE(s.promptBatch(), 16);
    QCOMPARE(s.theme(), QStringLiteral("dark"));
    QVERIFY(s.darkMode());
    QCOMPARE(s.dataFolder(), dir_.filePath(QStringLiteral("data")));
    QCOMPARE(s.dataFolderInUse(), s.dataFolder());  // the next start uses it
    QVERIFY(s.dataFolderNote().isEmpty());

    const SamplingSettings x = s.sampling();
    QCOMPARE(x.top_k, 40);
    QCOMPARE(x.min_p, 0.05);
    QCOMPARE(x.repeat_penalty, 1.1);
    const LoadRequest r = s.loadRequest(QStringLiteral("/m.gguf"));
    QCOMPARE(r.path, QStringLiteral("/m.gguf"));
    QCOMPARE(r.backend, QStringLiteral("cpu"));
    QCOMPARE(r.device, 1);
    QCOMPARE(r.n_ctx, 8192);
    QCOMPARE(r.n_batch, 16);
  }

  void bad_values_are_clamped_or_refused() {
    SettingsController s;
    s.setTemperature(5);
    QCOMPARE(s.temperature(), 2.0);
    s.setTemperature(-1);
    QCOMPARE(s.temperature(), 0.0);
    s.setTopP(0);
    QVERIFY(s.topP() > 0);
    s.setTopK(-3);
    QCOMPARE(s.topK(), 0);
    s.setRepeatPenalty(0.2);
    QCOMPARE(s.repeatPenalty(), 1.0);
    s.setThinkingBudget(-50);
    QCOMPARE(s.thinkingBudget(), -1);
    s.setContextSize(-1);
    QCOMPARE(s.contextSize(), 0);
    s.setPromptBatch(-5);
    QCOMPARE(s.promptBatch(), 0);
    s.setPromptBatch(100000);
    QCOMPARE(s.promptBatch(), 4096);
    QSignalSpy backend(&s, &SettingsController::backendChanged);
    s.setBackend(QStringLiteral("cuda"));
    QCOMPARE(s.backend(), QStringLiteral("auto"));
    QCOMPARE(backend.size(), 0);
    s.setTheme(QStringLiteral("purple"));
    QCOMPARE(s.theme(), QStringLiteral("system"));

    // A hand-edited file.
    {
      QSettings f;
      f.setValue("sampling/temperature", "hot");
      f.setValue("sampling/topK", 1e9);
      f.setValue("engine/backend", "metal");
      f.setValue("appearance/theme", 3);
      f.setValue("engine/promptBatch", -7);
    }
    SettingsController t;
    QCOMPARE(t.temperature(), 0.0);  // "hot" reads as 0: greedy, still valid
    QCOMPARE(t.topK(), 1000);
    QCOMPARE(t.backend(), QStringLiteral("auto"));
    QCOMPARE(t.theme(), QStringLiteral("system"));
    QCOMPARE(t.promptBatch(), 0);
  }

  void reset_restores_the_defaults_but_keeps_the_data_folder() {
    SettingsController s;
    s.setTemperature(1.2);
    s.setTopK(5);
    s.setSystemPrompt(QStringLiteral("Be brief."));
    s.setBackend(QStringLiteral("vulkan"));
    s.setTheme(QStringLiteral("light"));
    s.setPromptBatch(8);
    s.setDataFolder(dir_.filePath(QStringLiteral("elsewhere")));
    QSignalSpy temp(&s, &SettingsController::temperatureChanged);
    s.resetToDefaults();
    QCOMPARE(temp.size(), 1);
    QCOMPARE(s.temperature(), 0.6);
    QCOMPARE(s.topK(), 0);
    QCOMPARE(s.systemPrompt(), QString());
    QCOMPARE(s.backend(), QStringLiteral("auto"));
    QCOMPARE(s.theme(), QStringLiteral("system"));
    QCOMPARE(s.promptBatch(), 0);
    QCOMPARE(s.dataFolder(), dir_.filePath(QStringLiteral("elsewhere")));
    SettingsController again;  // and it was written through
    QCOMPARE(again.temperature(), 0.6);
    QCOMPARE(again.backend(), QStringLiteral("auto"));
  }

  void dark_mode_follows_the_theme_and_the_palette() {
    SettingsController s;
    QSignalSpy dark(&s, &SettingsController::darkModeChanged);
    const QPalette original = QGuiApplication::palette();
    s.setTheme(QStringLiteral("dark"));
    QVERIFY(s.darkMode());
    s.setTheme(QStringLiteral("light"));
    QVERIFY(!s.darkMode());
    s.setTheme(QStringLiteral("system"));
    const bool system_dark = original.color(QPalette::Window).lightness() < 128;
    QCOMPARE(s.darkMode(), system_dark);

    // The system switches to a dark palette: "system" follows.
    QPalette night = original;
    night.setColor(QPalette::Window, QColor(30, 30, 30));
    night.setColor(QPalette::WindowText, QColor(230, 230, 230));
    QGuiApplication::setPalette(night);
    QTRY_VERIFY(s.darkMode());
    QGuiApplication::setPalette(original);
    QTRY_COMPARE(s.darkMode(), system_dark);
    QVERIFY(dark.size() >= 3);
  }

  void devices_are_enumerated_off_the_gui_thread() {
    SettingsController s;
    // The list arrives through the event loop, never during construction.
    QVERIFY(!s.devicesReady());
    QSignalSpy changed(&s, &SettingsController::devicesChanged);
    QVERIFY(changed.wait(10000));
    QVERIFY(s.devicesReady());
    if (!vulkan::load()) {
      QVERIFY(s.devices().isEmpty());
      QVERIFY(!s.devicesNote().isEmpty());
      return;
    }
    QVERIFY(!s.devices().isEmpty());
    bool software = false, gpu = false;
    for (const QVariant& v : s.devices()) {
      const QVariantMap d = v.toMap();
      QVERIFY(d.contains(QStringLiteral("index")) && d.contains(QStringLiteral("name")) &&
              d.contains(QStringLiteral("type")));
      software |= d.value(QStringLiteral("type")).toString() == QStringLiteral("cpu");
      gpu |= d.value(QStringLiteral("type")).toString() != QStringLiteral("cpu") && d.value(QStringLiteral("usable")).toBool();
    }
    // Each device says what a model may take there, and what is free of it now where its driver says
    // (VK_EXT_memory_budget; lavapipe does not): the same devices as a fresh enumeration.
    auto instance = vulkan::Instance::create({});
    QVERIFY(instance.has_value());
    for (const vulkan::DeviceInfo& d : (*instance)->devices()) {
      const QVariantMap m = s.devices().value(int(d.index)).toMap();
      QCOMPARE(m.value(QStringLiteral("name")).toString(), QString::fromStdString(d.name));
      QVERIFY(!m.value(QStringLiteral("memory")).toString().isEmpty());
      QCOMPARE(m.contains(QStringLiteral("free")), d.budget_known);
    }
    if (!gpu) {
      QVERIFY(software);  // lavapipe, pinned by CTest
      QVERIFY2(s.devicesNote().contains(QStringLiteral("software renderer")), qPrintable(s.devicesNote()));
    }
  }

  // The GPU setting is kept as the device's identity, not only its index (which follows the loader's order and
  // can name another GPU after a driver update or with an eGPU plugged in): a stale index finds the device
  // where it is now, an absent device leaves the default in use and says so, and choosing the default forgets.
  void the_chosen_gpu_is_kept_by_its_identity() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    auto instance = vulkan::Instance::create({});
    QVERIFY(instance.has_value());
    const vulkan::DeviceInfo& first = (*instance)->devices().at(0);
    const QString id = QString::fromStdString(vulkan::device_identity(first));
    const QString name = QString::fromStdString(first.name);
    auto ready = [](SettingsController& s) {
      QSignalSpy changed(&s, &SettingsController::devicesChanged);
      return s.devicesReady() || changed.wait(10000);
    };
    {
      SettingsController s;
      s.setDevice(0);  // before the list: the index alone
      QCOMPARE(QSettings().value("engine/deviceId").toString(), QString());
      QVERIFY(ready(s));
      QCOMPARE(s.devices().at(0).toMap().value(QStringLiteral("id")).toString(), id);
      s.setDevice(-1);
      s.setDevice(0);
      QCOMPARE(QSettings().value("engine/deviceId").toString(), id);
      QCOMPARE(QSettings().value("engine/deviceName").toString(), name);
      const LoadRequest r = s.loadRequest(QStringLiteral("/m.gguf"));
      QCOMPARE(r.device, 0);
      QCOMPARE(r.device_id, id);
      QCOMPARE(r.device_name, name);
    }
    QSettings().setValue("engine/device", 5);  // another order since: the identity finds it at 0
    {
      SettingsController s;
      QVERIFY(ready(s));
      QCOMPARE(s.device(), 0);
      QCOMPARE(QSettings().value("engine/device").toInt(), 0);
      QVERIFY2(!s.devicesNote().contains(QStringLiteral("not present")), qPrintable(s.devicesNote()));
    }
    QSettings().setValue("engine/deviceId", QStringLiteral("00112233445566778899aabbccddeeff"));
    QSettings().setValue("engine/deviceName", QStringLiteral("Radeon eGPU"));
    {
      SettingsController s;
      QSignalSpy device(&s, &SettingsController::deviceChanged);
      QVERIFY(ready(s));
      QCOMPARE(s.device(), -1);  // shown as the default, which is what a load uses
      QCOMPARE(device.size(), 1);
      QVERIFY2(s.devicesNote().contains(QStringLiteral("The GPU chosen before, Radeon eGPU, is not present now")),
               qPrintable(s.devicesNote()));
      // The choice stays for when it is back, and goes with the load.
      QCOMPARE(s.loadRequest(QStringLiteral("/m.gguf")).device_id, QStringLiteral("00112233445566778899aabbccddeeff"));
      s.setDevice(-1);  // the default, chosen: forgotten
      QCOMPARE(s.loadRequest(QStringLiteral("/m.gguf")).device_id, QString());
      QVERIFY(!QSettings().contains("engine/deviceId"));
      QVERIFY(!QSettings().contains("engine/deviceName"));
    }
  }
};

QTEST_MAIN(TestSettings)
#include "test_settings.moc"
