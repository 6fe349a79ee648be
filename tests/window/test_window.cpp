// The window loads with no QML warning, shows the first-run guide without a model, follows the theme
// setting, answers its shortcuts, and speaks French from the compiled translation. A real Services (SQLite
// on a temporary folder, the engine thread) backs the singletons, as in the app.
#include "app/gui/chat_controller.h"
#include "app/gui/model_controller.h"
#include "app/gui/search_model.h"
#include "app/gui/services.h"
#include "app/gui/settings_controller.h"
#include "inference/model/synth.h"
#include "ui/window.h"

#include <QColor>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QQmlApplicationEngine>
#include <QSignalSpy>
#include <QQmlError>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>
#include <QtQml/qqmlextensionplugin.h>

#include <memory>

Q_IMPORT_QML_PLUGIN(PenserPlugin)
Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)

namespace {

// A window on its own Services and engine; the QML warnings it printed while loading and after.
struct Window {
  QTemporaryDir data;
  std::unique_ptr<penser::gui::Services> services;
  std::unique_ptr<QQmlApplicationEngine> engine;
  QStringList warnings;

  bool load(const QString& model_path = {}) {
    services = std::make_unique<penser::gui::Services>(data.path());
    engine = std::make_unique<QQmlApplicationEngine>();
    QObject::connect(engine.get(), &QQmlEngine::warnings, engine.get(), [this](const QList<QQmlError>& list) {
      for (const QQmlError& e : list) warnings << e.toString();
    });
    const penser::Status status = penser::ui::load_window(*engine, *services, model_path);
    if (!status) qWarning("%s", status.error().message.c_str());
    return bool(status);
  }

  QQuickWindow* window() const {
    return engine->rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow*>(engine->rootObjects().first());
  }
  QQuickItem* item(const char* name) const { return window()->findChild<QQuickItem*>(QString::fromLatin1(name)); }
  QObject* object(const char* name) const { return window()->findChild<QObject*>(QString::fromLatin1(name)); }

  ~Window() {
    engine.reset();  // QML first: it holds pointers to the controllers
    services.reset();
  }
};

}  // namespace

class TestWindow : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings and data paths away from the user's
    QCoreApplication::setOrganizationName(QStringLiteral("PenserTest"));
    QCoreApplication::setApplicationName(QStringLiteral("test_window"));
  }

  void loads_without_warnings() {
    Window w;
    QVERIFY(w.load());
    QQuickWindow* window = w.window();
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    QVERIFY2(w.warnings.isEmpty(), qPrintable(w.warnings.join(u'\n')));
    for (const char* name : {"sidebar", "searchField", "conversationList", "modelButton", "menuButton"}) {
      QQuickItem* it = w.item(name);
      QVERIFY2(it, name);
      QVERIFY2(it->isVisible(), name);
    }
    QCOMPARE(window->title(), QStringLiteral("Penser"));
  }

  void first_run_shows_the_guide() {
    Window w;
    QVERIFY(w.load());
    QVERIFY(QTest::qWaitForWindowExposed(w.window()));
    QQuickItem* guide = w.item("emptyState");
    QQuickItem* chat = w.item("chatView");
    QVERIFY(guide && chat);
    QVERIFY(guide->isVisible());
    QVERIFY(!chat->isVisible());
  }

  // Opening a model (what the file dialog, a drop and the recent list do) turns the guide into the chat page
  // and names the model in the header.
  void a_loaded_model_replaces_the_guide() {
    Window w;
    QVERIFY(w.load());
    const QString path = w.data.filePath(QStringLiteral("tiny.gguf"));
    penser::model::SynthSpec spec;  // 2 layers, 64 wide, the built-in byte vocabulary
    QVERIFY(penser::model::write_synth_model(spec, path.toStdString()));
    penser::gui::ModelController& models = w.services->models();
    models.open(QUrl::fromLocalFile(path));
    QTRY_COMPARE_WITH_TIMEOUT(models.state(), penser::gui::ModelController::Ready, 30000);
    QTRY_VERIFY(!w.item("emptyState")->isVisible());
    QVERIFY(w.item("chatView")->isVisible());
    QCOMPARE(w.object("headerBar")->property("modelLabel").toString(), QStringLiteral("penser-synth"));
  }

  // `penser tiny.gguf` ("Open with" on a desktop): the window starts loading the model it was given.
  void a_model_given_at_start_is_loaded() {
    Window w;
    const QString path = w.data.filePath(QStringLiteral("given.gguf"));
    penser::model::SynthSpec spec;
    QVERIFY(penser::model::write_synth_model(spec, path.toStdString()));
    QVERIFY(w.load(path));
    penser::gui::ModelController& models = w.services->models();
    QTRY_COMPARE_WITH_TIMEOUT(models.state(), penser::gui::ModelController::Ready, 30000);
    QCOMPARE(models.modelPath(), path);
    QTRY_VERIFY(!w.item("emptyState")->isVisible());
  }

  // Export writes to the path in the dialog's field: Qt 6.4's own save dialog (used where the desktop has no
  // native one) could not commit a typed file name, and every export from it failed with "Choose a file".
  void export_writes_the_file_in_the_path_field() {
    Window w;
    QVERIFY(w.load());
    QObject* dialog = w.object("exportDialog");
    QVERIFY(dialog);
    QVERIFY(QMetaObject::invokeMethod(dialog, "start", Q_ARG(QVariant, true)));
    QTRY_VERIFY(dialog->property("opened").toBool());
    QQuickItem* field = w.item("exportPath");
    QVERIFY(field);
    // A suggested file: the Documents folder, a name for "all", the format's suffix.
    const QString suggested = field->property("text").toString();
    QVERIFY2(suggested.contains(QStringLiteral("/Penser conversations.")), qPrintable(suggested));
    const QString out = w.data.filePath(QStringLiteral("all conversations.md"));
    field->setProperty("text", out);
    QQuickItem* button = w.item("exportButton");
    QVERIFY(button && button->property("enabled").toBool());
    QVERIFY(QMetaObject::invokeMethod(button, "clicked"));
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(out), 10000);
    QTRY_VERIFY(!dialog->property("visible").toBool());
  }

  // The settings' choice boxes show the stored choice (they were blank: indexOfValue() ran too early).
  void settings_choice_boxes_show_the_setting() {
    Window w;
    QVERIFY(w.load());
    QObject* settings = w.object("settingsDialog");
    QVERIFY(settings);
    // Opening the dialog enumerates the GPUs again (what is free on them changes), off the GUI thread.
    QTRY_VERIFY(w.services->settings().devicesReady());
    QSignalSpy devices(&w.services->settings(), &penser::gui::SettingsController::devicesChanged);
    QVERIFY(QMetaObject::invokeMethod(settings, "open"));
    QTRY_VERIFY(settings->property("opened").toBool());
    QTRY_COMPARE(devices.count(), 1);
    // As the window starts: the stored values, never changed since (the case that showed blank boxes).
    QCOMPARE(w.item("themeBox")->property("currentText").toString(), QStringLiteral("Follow the system"));
    QCOMPARE(w.item("backendBox")->property("currentText").toString(),
             QStringLiteral("Automatic (GPU when usable)"));
    w.services->settings().setProperty("theme", QStringLiteral("dark"));
    w.services->settings().setProperty("backend", QStringLiteral("cpu"));
    QTRY_COMPARE(w.item("themeBox")->property("currentText").toString(), QStringLiteral("Dark"));
    QCOMPARE(w.item("backendBox")->property("currentText").toString(), QStringLiteral("CPU"));
    QCOMPARE(w.item("deviceBox")->property("currentText").toString(), QStringLiteral("Default"));
    // The prompt batch (a GPU setting: disabled with the CPU backend) follows the setting.
    QQuickItem* batch = w.item("promptBatchSpin");
    QVERIFY(batch);
    QCOMPARE(batch->property("value").toInt(), 0);
    QVERIFY(!batch->property("enabled").toBool());
    w.services->settings().setProperty("promptBatch", 16);
    QTRY_COMPARE(batch->property("value").toInt(), 16);
    w.services->settings().setProperty("promptBatch", 0);
    w.services->settings().setProperty("theme", QStringLiteral("system"));
    QTRY_COMPARE(w.item("themeBox")->property("currentText").toString(), QStringLiteral("Follow the system"));
    w.services->settings().setProperty("backend", QStringLiteral("auto"));  // QSettings outlive the test
    QTRY_VERIFY(batch->property("enabled").toBool());
  }

  // A file that is not a model: the guide stays and says what went wrong, in the engine's sentence.
  void a_bad_file_shows_its_error() {
    Window w;
    QVERIFY(w.load());
    const QString path = w.data.filePath(QStringLiteral("notes.gguf"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("these are my notes, not a model\n");
    f.close();
    penser::gui::ModelController& models = w.services->models();
    models.open(path);
    QTRY_COMPARE_WITH_TIMEOUT(models.state(), penser::gui::ModelController::Failed, 30000);
    QVERIFY(w.item("emptyState")->isVisible());
    bool shown = false;
    for (QQuickItem* label : w.window()->findChildren<QQuickItem*>(QStringLiteral("modelError"))) {
      if (!label->isVisible()) continue;
      const QString text = label->property("text").toString();
      QVERIFY2(text.contains(models.error()), qPrintable(text));
      shown = true;
    }
    QVERIFY(shown);
    QVERIFY(!models.error().isEmpty());
  }

  void theme_follows_the_setting() {
    Window w;
    QVERIFY(w.load());
    QObject& settings = w.services->settings();
    // The QML singleton is this window's Services' controller (not one of an earlier window).
    const int settings_type = qmlTypeId("Penser.Gui", 1, 0, "Settings");
    QVERIFY(settings_type >= 0);
    QCOMPARE(w.engine->singletonInstance<QObject*>(settings_type), &settings);
    QVERIFY(settings.setProperty("theme", QStringLiteral("dark")));
    QTRY_COMPARE(w.window()->color(), QColor(QStringLiteral("#1e1f22")));
    QVERIFY(settings.setProperty("theme", QStringLiteral("light")));
    QTRY_COMPARE(w.window()->color(), QColor(QStringLiteral("#ffffff")));
    settings.setProperty("theme", QStringLiteral("system"));
  }

  void shortcuts_reach_their_targets() {
    Window w;
    QVERIFY(w.load());
    QQuickWindow* window = w.window();
    window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window));

    QTest::keyClick(window, Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(w.item("searchField")->hasActiveFocus());

    QObject* settings = w.object("settingsDialog");
    QVERIFY(settings);
    QVERIFY(!settings->property("visible").toBool());
    QTest::keyClick(window, Qt::Key_Comma, Qt::ControlModifier);
    QTRY_VERIFY(settings->property("opened").toBool());
    QTest::keyClick(window, Qt::Key_Escape);
    QTRY_VERIFY(!settings->property("visible").toBool());

    // Typing in the search field searches (Search.query follows the text).
    QTest::keyClick(window, Qt::Key_F, Qt::ControlModifier);
    for (char c : {'z', 'e', 'b', 'r', 'a'}) QTest::keyClick(window, c);
    QTRY_COMPARE(w.services->search().property("query").toString(), QStringLiteral("zebra"));
    QVERIFY(w.item("searchHits")->isVisible());
    QVERIFY(!w.item("conversationList")->isVisible());
  }

  // Every control is reachable with Tab: from the search field, the focus chain passes the header's model
  // button and menu button (the first-run guide's buttons on the way) and comes back around.
  void tab_reaches_the_header() {
    Window w;
    QVERIFY(w.load());
    QQuickWindow* window = w.window();
    window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window));
    QTest::keyClick(window, Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(w.item("searchField")->hasActiveFocus());
    QSet<QString> reached;
    for (int i = 0; i < 40 && !reached.contains(QStringLiteral("searchField")); ++i) {
      QTest::keyClick(window, Qt::Key_Tab);
      if (QQuickItem* focused = window->activeFocusItem()) {
        for (QQuickItem* it = focused; it; it = it->parentItem())
          if (!it->objectName().isEmpty()) {
            reached.insert(it->objectName());
            break;
          }
      }
    }
    QVERIFY2(reached.contains(QStringLiteral("modelButton")), qPrintable(QStringList(reached.values()).join(u',')));
    QVERIFY2(reached.contains(QStringLiteral("menuButton")), qPrintable(QStringList(reached.values()).join(u',')));
    QVERIFY2(reached.contains(QStringLiteral("newChatButton")), qPrintable(QStringList(reached.values()).join(u',')));
    QVERIFY2(reached.contains(QStringLiteral("searchField")), "the focus chain does not come back around");
  }

  // The French translation is compiled in and the window uses it when installed (app/main.cpp installs it
  // from the system locale).
  void speaks_french() {
    QTranslator translator;
    QVERIFY(translator.load(QLocale(QStringLiteral("fr_FR")), QStringLiteral("penser"), QStringLiteral("_"),
                            QStringLiteral(":/i18n")));
    QCoreApplication::installTranslator(&translator);
    {
      Window w;
      QVERIFY(w.load());
      QQuickItem* button = w.item("newChatButton");
      QVERIFY(button);
      QCOMPARE(button->property("text").toString(), QStringLiteral("+  Nouvelle conversation"));
      QCOMPARE(w.item("searchField")->property("placeholderText").toString(),
               QStringLiteral("Rechercher (Ctrl+F)"));
      // C++ strings too: tr() in penser::gui::ChatController looks up that qualified context.
      QCOMPARE(w.services->chat().property("disabledReason").toString(),
               QStringLiteral("Ouvrez un modèle pour commencer à discuter."));
    }
    QCoreApplication::removeTranslator(&translator);
  }

  // Every window string in the French file has a translation: an English word in a French window is a bug.
  void french_is_complete() {
    QFile ts(QStringLiteral(PENSER_TRANSLATIONS_DIR "/penser_fr.ts"));
    QVERIFY(ts.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(ts.readAll());
    const qsizetype messages = text.count(QStringLiteral("<message"));
    QVERIFY(messages > 100);
    QRegularExpression unfinished(QStringLiteral("<source>([^<]*)</source>\\s*<translation type=\"unfinished\""));
    QStringList missing;
    for (auto it = unfinished.globalMatch(text); it.hasNext();) missing << it.next().captured(1);
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("untranslated: ") + missing.join(QStringLiteral(" | "))));

    // And the file has every string of the code: lupdate over the sources ui/CMakeLists.txt gives it (as
    // `ninja update_translations` does), into a copy, adds none. A qsTr() added without running it was in
    // English in the French window, unseen by the check above (the "Prompt batch (GPU)" setting was).
#ifdef PENSER_LUPDATE
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString copy = tmp.filePath(QStringLiteral("penser_fr.ts"));
    QVERIFY(QFile::copy(ts.fileName(), copy));
    QFile::setPermissions(copy, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QString src = QStringLiteral(PENSER_SOURCE_DIR);
    QStringList args = {QStringLiteral("-locations"), QStringLiteral("none"), QStringLiteral("-no-obsolete"),
                        QStringLiteral("-I"), src};
    for (const auto& [dir, patterns] : {std::pair{QStringLiteral("ui"), QStringList{"*.qml", "*.cpp"}},
                                        std::pair{QStringLiteral("app/gui"), QStringList{"*.cpp", "*.h"}}})
      for (const QFileInfo& f : QDir(src + QLatin1Char('/') + dir).entryInfoList(patterns, QDir::Files, QDir::Name))
        args << f.absoluteFilePath();
    QVERIFY(args.size() > 40);
    QProcess lupdate;
    lupdate.start(QStringLiteral(PENSER_LUPDATE), args << QStringLiteral("-ts") << copy);
    QVERIFY(lupdate.waitForFinished(60000));
    QVERIFY2(lupdate.exitCode() == 0, lupdate.readAllStandardError().constData());
    QFile updated(copy);
    QVERIFY(updated.open(QIODevice::ReadOnly));
    const QString after = QString::fromUtf8(updated.readAll());
    QStringList absent;
    for (auto it = unfinished.globalMatch(after); it.hasNext();) absent << it.next().captured(1);
    QVERIFY2(absent.isEmpty(), qPrintable(QStringLiteral("in the code but not in penser_fr.ts (run `ninja "
                                                         "update_translations`, then translate): ") +
                                          absent.join(QStringLiteral(" | "))));
#endif
  }
};

QTEST_MAIN(TestWindow)
#include "test_window.moc"
