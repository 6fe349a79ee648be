// Runs every tst_*.qml of tests/ui against the static QML modules Penser and Penser.Gui, as the app does:
// qrc:/qt/qml as import path, the English translation loaded (its plural forms: "1 second", "2 seconds"),
// and a real Services on a temporary data folder behind the singletons the components' Theme may read.
#include "app/gui/services.h"

#include <QCoreApplication>
#include <QDir>
#include <QQmlEngine>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTranslator>
#include <QtQml/qqmlextensionplugin.h>
#include <QtQuickTest>

#include <memory>

Q_IMPORT_QML_PLUGIN(PenserPlugin)
Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)

class Setup : public QObject {
  Q_OBJECT
 public slots:
  void applicationAvailable() {
    // Settings (QSettings) must not read or write the user's own configuration.
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("PenserTest"));
    QCoreApplication::setApplicationName(QStringLiteral("test_ui_components"));
    if (translator_.load(QStringLiteral(":/i18n/penser_en.qm")))
      QCoreApplication::installTranslator(&translator_);
    else
      qWarning("test_ui_components: :/i18n/penser_en.qm is missing; plural forms will not be checked");
    services_ = std::make_unique<penser::gui::Services>(data_.path());
  }

  void qmlEngineAvailable(QQmlEngine* engine) { engine->addImportPath(QStringLiteral("qrc:/qt/qml")); }

  void cleanupTestCase() { services_.reset(); }

 private:
  QTemporaryDir data_;
  QTranslator translator_;
  std::unique_ptr<penser::gui::Services> services_;
};

QUICK_TEST_MAIN_WITH_SETUP(ui_components, Setup)

#include "main.moc"
