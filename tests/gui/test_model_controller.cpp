// ModelController over the real Engine (CPU backend, tiny generated models): the state machine, the facts
// shown in the model panel, error texts, cancel and unload, reload with new settings, and the recent-models
// list persisted in a real QSettings file in a temporary folder.
#include "app/gui/engine.h"
#include "app/gui/model_controller.h"
#include "app/gui/services.h"
#include "app/gui/settings_controller.h"
#include "inference/gguf/gguf.h"
#include "inference/model/model.h"
#include "inference/model/synth.h"
#include "tests/tiny_model.h"

#include <QFile>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QtQml/qqmlextensionplugin.h>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)

using namespace penser;
using namespace penser::gui;
using State = ModelController::State;

// Waits until the controller leaves Loading.
#define SETTLE() QTRY_VERIFY_WITH_TIMEOUT(models_->state() != State::Loading, 15000)

namespace {

model::SynthSpec tiny_spec(const gguf::File* vocab, uint64_t seed) { return penser::test_models::tiny_r1_spec(vocab, seed); }

}  // namespace

class TestModelController : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_a_, model_b_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<SettingsController> settings_;
  std::unique_ptr<ModelController> models_;
  QList<State> states_;  // every state entered, in order


 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("PenserTest"));
    QCoreApplication::setApplicationName(QStringLiteral("models"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir_.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir_.path());
    QSettings().clear();

    auto vocab = gguf::File::open(std::string(PENSER_TEST_DATA_DIR) + "/tokenizer/r1-distill-qwen.vocab.gguf");
    QVERIFY(vocab);
    model_a_ = dir_.filePath(QStringLiteral("alpha.gguf"));
    model_b_ = dir_.filePath(QStringLiteral("beta.gguf"));
    QVERIFY(model::write_synth_model(tiny_spec(vocab->get(), 1), model_a_.toStdString()));
    QVERIFY(model::write_synth_model(tiny_spec(vocab->get(), 2), model_b_.toStdString()));
  }

  void init() {
    QSettings().clear();
    engine_ = std::make_unique<Engine>();
    settings_ = std::make_unique<SettingsController>();
    settings_->setBackend(QStringLiteral("cpu"));
    settings_->setContextSize(1024);
    models_ = std::make_unique<ModelController>(engine_.get(), settings_.get());
    states_.clear();
    connect(models_.get(), &ModelController::stateChanged, this, [this] { states_ << models_->state(); });
  }

  void cleanup() {
    models_.reset();
    settings_.reset();
    engine_.reset();
  }

  void starts_empty() {
    QCOMPARE(models_->state(), State::Empty);
    QCOMPARE(models_->modelName(), QString());
    QCOMPARE(models_->recentModels().size(), 0);
  }

  void open_loads_and_shows_the_facts() {
    QSignalSpy progress(models_.get(), &ModelController::progressChanged);
    models_->open(QUrl::fromLocalFile(model_a_));
    QCOMPARE(models_->state(), State::Loading);  // at once
    QCOMPARE(models_->modelPath(), model_a_);
    SETTLE();
    QCOMPARE(states_, (QList<State>{State::Loading, State::Ready}));
    QVERIFY(progress.size() >= 3);
    QCOMPARE(models_->progress(), 1.0);
    QCOMPARE(models_->error(), QString());
    QCOMPARE(models_->modelName(), QStringLiteral("penser-synth"));
    QCOMPARE(models_->modelPath(), model_a_);
    QCOMPARE(models_->architecture(), QStringLiteral("qwen2"));
    QCOMPARE(models_->quantization(), QStringLiteral("Q8_0"));
    auto m = model::Model::load(model_a_.toStdString());
    QVERIFY(m);
    QCOMPARE(models_->parameters(), ModelController::formatParameters(qint64((*m)->n_params())));
    QVERIFY(models_->parameters().endsWith(QStringLiteral(" M")));
    QVERIFY(models_->fileSize().endsWith(QStringLiteral("MiB")));
    QCOMPARE(models_->contextLength(), 1024);  // from Settings.contextSize
    QCOMPARE(models_->trainedContext(), 4096);
    QCOMPARE(models_->backend(), QStringLiteral("CPU"));
    QVERIFY(!models_->device().isEmpty());
    QCOMPARE(models_->notice(), QString());  // the CPU was asked for: nothing to explain
    QVERIFY(engine_->isLoaded());
  }

  void open_accepts_paths_and_file_url_strings() {
    models_->open(QUrl::fromLocalFile(model_b_).toString());
    SETTLE();
    QCOMPARE(models_->state(), State::Ready);
    QCOMPARE(models_->modelPath(), model_b_);
    models_->open(model_a_);
    SETTLE();
    QCOMPARE(models_->state(), State::Ready);
    QCOMPARE(models_->modelPath(), model_a_);
    // Loading another model is one Loading -> Ready step each: the old model's unloading is part of it.
    QCOMPARE(states_, (QList<State>{State::Loading, State::Ready, State::Loading, State::Ready}));
  }

  void failures_say_what_is_wrong() {
    const QString text = dir_.filePath(QStringLiteral("readme.gguf"));
    {
      QFile f(text);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("hello");
    }
    models_->open(model_a_);
    SETTLE();
    models_->open(text);
    SETTLE();
    QCOMPARE(models_->state(), State::Failed);
    QVERIFY2(models_->error().contains(QStringLiteral("is not a GGUF model file")), qPrintable(models_->error()));
    QCOMPARE(models_->modelName(), QString());  // the previous model is gone
    QVERIFY(!engine_->isLoaded());
    QCOMPARE(models_->modelPath(), text);  // what the panel names, and what reload() retries
    QCOMPARE(models_->recentModels().size(), 1);  // a file that failed is not remembered

    models_->open(dir_.filePath(QStringLiteral("missing.gguf")));
    SETTLE();
    QCOMPARE(models_->state(), State::Failed);
    QVERIFY(models_->error().contains(QStringLiteral("does not exist")));

    models_->open(QString());
    QCOMPARE(models_->state(), State::Failed);
    QVERIFY(!models_->error().isEmpty());

    // A good file clears the error.
    models_->open(model_a_);
    SETTLE();
    QCOMPARE(models_->state(), State::Ready);
    QCOMPARE(models_->error(), QString());
  }

  void cancel_returns_to_empty() {
    models_->open(model_a_);
    models_->cancelLoad();
    SETTLE();
    QCOMPARE(models_->state(), State::Empty);
    QCOMPARE(models_->error(), QString());
    QCOMPARE(models_->modelName(), QString());
    QVERIFY(!engine_->isLoaded());
  }

  void unload_clears_the_facts() {
    models_->open(model_a_);
    SETTLE();
    QSignalSpy unloaded(engine_.get(), &Engine::unloaded);
    models_->unload();
    QCOMPARE(models_->state(), State::Empty);
    QCOMPARE(models_->modelName(), QString());
    QCOMPARE(models_->contextLength(), 0);
    QVERIFY(unloaded.wait(5000));
    QVERIFY(!engine_->isLoaded());
    QCOMPARE(models_->state(), State::Empty);
  }

  void reload_applies_new_settings() {
    models_->open(model_a_);
    SETTLE();
    QCOMPARE(models_->contextLength(), 1024);
    settings_->setContextSize(512);
    models_->reload();
    QCOMPARE(models_->state(), State::Loading);
    SETTLE();
    QCOMPARE(models_->state(), State::Ready);
    QCOMPARE(models_->contextLength(), 512);
    QCOMPARE(models_->modelPath(), model_a_);
  }

  void auto_backend_on_this_machine_gives_a_notice() {
    settings_->setBackend(QStringLiteral("auto"));
    models_->open(model_a_);
    SETTLE();
    QCOMPARE(models_->state(), State::Ready);
    if (models_->backend() == QStringLiteral("Vulkan")) QSKIP("this machine has a Vulkan GPU");
    QCOMPARE(models_->backend(), QStringLiteral("CPU"));
    QVERIFY2(models_->notice().contains(QStringLiteral("running on the CPU")), qPrintable(models_->notice()));
  }

  void recent_models_newest_first_and_persisted() {
    models_->open(model_a_);
    SETTLE();
    models_->open(model_b_);
    SETTLE();
    models_->open(model_a_);  // again: moves to the top, not duplicated
    SETTLE();
    QVariantList recent = models_->recentModels();
    QCOMPARE(recent.size(), 2);
    QCOMPARE(recent.at(0).toMap().value(QStringLiteral("path")).toString(), model_a_);
    QCOMPARE(recent.at(1).toMap().value(QStringLiteral("path")).toString(), model_b_);
    const QVariantMap top = recent.at(0).toMap();
    QCOMPARE(top.value(QStringLiteral("name")).toString(), QStringLiteral("penser-synth"));
    QVERIFY(top.value(QStringLiteral("exists")).toBool());
    QVERIFY(!top.value(QStringLiteral("size")).toString().isEmpty());
    QVERIFY(top.value(QStringLiteral("lastUsed")).toDateTime().isValid());
    QVERIFY(top.value(QStringLiteral("lastUsed")).toDateTime() >=
            recent.at(1).toMap().value(QStringLiteral("lastUsed")).toDateTime());

    // Another controller (the next start) reads the same list; a file that went away is marked.
    const QString moved = dir_.filePath(QStringLiteral("beta-moved.gguf"));
    QVERIFY(QFile::rename(model_b_, moved));
    ModelController next(engine_.get(), settings_.get());
    QCOMPARE(next.recentModels().size(), 2);
    // `exists` is filled in from another thread: the change arrives as a notification.
    QTRY_VERIFY(!next.recentModels().at(1).toMap().value(QStringLiteral("exists")).toBool());
    recent = next.recentModels();
    QCOMPARE(recent.at(0).toMap().value(QStringLiteral("path")).toString(), model_a_);
    QVERIFY(recent.at(0).toMap().value(QStringLiteral("exists")).toBool());
    QVERIFY(QFile::rename(moved, model_b_));

    QSignalSpy changed(&next, &ModelController::recentModelsChanged);
    next.removeRecent(model_b_);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(next.recentModels().size(), 1);
    QCOMPARE(ModelController(engine_.get(), settings_.get()).recentModels().size(), 1);
  }

  void recent_models_keep_at_most_ten() {
    models_.reset();  // one controller writes the list in this test
    QVariantList stored;
    for (int i = 0; i < 12; ++i) {
      QVariantMap m;
      m[QStringLiteral("path")] = dir_.filePath(QStringLiteral("old%1.gguf").arg(i));
      m[QStringLiteral("name")] = QStringLiteral("old %1").arg(i);
      m[QStringLiteral("bytes")] = 1000 + i;
      m[QStringLiteral("lastUsed")] = qint64(1700000000000) - i;
      stored << m;
    }
    QSettings().setValue("models/recent", stored);
    ModelController c(engine_.get(), settings_.get());
    QCOMPARE(c.recentModels().size(), ModelController::kMaxRecent);
    c.open(model_a_);
    QTRY_VERIFY_WITH_TIMEOUT(c.state() == State::Ready, 15000);
    const QVariantList recent = c.recentModels();
    QCOMPARE(recent.size(), ModelController::kMaxRecent);
    QCOMPARE(recent.at(0).toMap().value(QStringLiteral("path")).toString(), model_a_);
    QCOMPARE(recent.at(1).toMap().value(QStringLiteral("name")).toString(), QStringLiteral("old 0"));
    QCOMPARE(recent.last().toMap().value(QStringLiteral("name")).toString(), QStringLiteral("old 8"));
    QCOMPARE(QSettings().value("models/recent").toList().size(), ModelController::kMaxRecent);
  }

  // What QML sees: the singletons Models and Settings of module Penser.Gui are the instances Services
  // holds, the State enum is reachable as Models.Ready, and a QML call drives the real controller.
  void qml_singletons_are_the_services_instances() {
    cleanup();  // one Services (with its own Engine and controllers) at a time
    Services services(dir_.filePath(QStringLiteral("data")));
    services.settings().setBackend(QStringLiteral("cpu"));
    QQmlEngine qml;
    qml.addImportPath(QStringLiteral("qrc:/qt/qml"));
    QQmlComponent component(&qml);
    component.setData(R"(
      import QtQml
      import Penser.Gui
      QtObject {
        property int state: Models.state
        property bool empty: Models.state === Models.Empty
        property bool ready: Models.state === Models.Ready
        property string name: Models.modelName
        property real temperature: Settings.temperature
        property string backend: Settings.backend
        function open(path) { Models.open(path) }
        function warmer() { Settings.temperature = 0.8 }
      })", QUrl());
    std::unique_ptr<QObject> root(component.create());
    QVERIFY2(root, qPrintable(component.errorString()));
    QVERIFY(root->property("empty").toBool());
    QCOMPARE(root->property("temperature").toDouble(), services.settings().temperature());
    QCOMPARE(root->property("backend").toString(), QStringLiteral("cpu"));
    QMetaObject::invokeMethod(root.get(), "open", Q_ARG(QVariant, QVariant(QUrl::fromLocalFile(model_a_).toString())));
    QTRY_VERIFY_WITH_TIMEOUT(root->property("ready").toBool(), 15000);
    QCOMPARE(root->property("name").toString(), QStringLiteral("penser-synth"));
    QCOMPARE(services.models().modelPath(), model_a_);
    QMetaObject::invokeMethod(root.get(), "warmer");
    QCOMPARE(services.settings().temperature(), 0.8);
    root.reset();
  }

  void parameter_and_size_texts() {
    QCOMPARE(ModelController::formatParameters(1777088000), QStringLiteral("1.8 B"));
    QCOMPARE(ModelController::formatParameters(7615616512), QStringLiteral("7.6 B"));
    QCOMPARE(ModelController::formatParameters(494032768), QStringLiteral("494 M"));
    QCOMPARE(ModelController::formatParameters(9600000), QStringLiteral("10 M"));
    QCOMPARE(ModelController::formatParameters(0), QString());
    QCOMPARE(ModelController::formatBytes(1117320736), QStringLiteral("1.04 GiB"));
  }
};

QTEST_MAIN(TestModelController)
#include "test_model_controller.moc"
