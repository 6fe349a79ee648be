// penser: the desktop app and, with a command, the command line for scripts. All logic lives in penser_app
// (commands), penser_gui (controllers) and penser_ui (the QML window).
#include "app/core/cli.h"
#include "inference/common/version.h"

#include <QGuiApplication>
#include <QTextStream>

#include <cstdio>
#include <memory>

#ifdef PENSER_WITH_WINDOW
#include "app/gui/services.h"
#include "resources/app_identity.h"
#include "ui/window.h"

#include <QLibraryInfo>
#include <QLocale>
#include <QQmlApplicationEngine>
#include <QTranslator>
#include <QtQml/qqmlextensionplugin.h>

// Both QML modules are static libraries: their plugins must be pulled in by name.
Q_IMPORT_QML_PLUGIN(PenserPlugin)
Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)
#endif

namespace {

void set_identity() {
  QCoreApplication::setOrganizationName(QStringLiteral("Penser"));
  QCoreApplication::setApplicationName(QStringLiteral("Penser"));
  QCoreApplication::setApplicationVersion(QString::fromLatin1(penser::version()));
}

#ifdef PENSER_WITH_WINDOW
int run_window(int argc, char** argv, const QString& model_path) {
  QGuiApplication app(argc, argv);
  set_identity();
  QGuiApplication::setApplicationDisplayName(QStringLiteral("Penser"));
  // Window icon and the desktop-file id io.github.penser.Penser (Wayland and docks match windows by it).
  penser::resources::apply_desktop_identity();

  // The UI language follows the system locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG on Linux): the first of
  // its UI languages with a compiled translation wins; none found leaves the English source strings.
  // English is the fallback (the C locale, an unsupported language): its file carries the plural forms.
  QTranslator translator;
  if (translator.load(QLocale(), QStringLiteral("penser"), QStringLiteral("_"), QStringLiteral(":/i18n")) ||
      translator.load(QStringLiteral(":/i18n/penser_en.qm")))
    QCoreApplication::installTranslator(&translator);
  // Qt's own strings (the file dialog's buttons, standard dialog buttons), when the system has them
  // (Debian: qt6-translations-l10n). An installer that wants them ships qt_<lang>.qm there.
  QTranslator qt_translator;
  if (qt_translator.load(QLocale(), QStringLiteral("qt"), QStringLiteral("_"),
                         QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
    QCoreApplication::installTranslator(&qt_translator);

  // Services before the engine, destroyed after it (declaration order): QML holds pointers to its controllers.
  penser::gui::Services services;
  QQmlApplicationEngine engine;
  if (auto status = penser::ui::load_window(engine, services, model_path); !status) {
    std::fprintf(stderr, "penser: %s\n", status.error().message.c_str());
    return 1;
  }
  return QGuiApplication::exec();
}
#endif

}  // namespace

int main(int argc, char** argv) {
  QStringList args;
  for (int i = 1; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);

  if (penser::app::cli::wants_command_line(args)) {
    std::unique_ptr<QCoreApplication> app;
    if (penser::app::cli::needs_gui_library(args)) {
      // PDF layout needs fonts, hence Qt's GUI library; commands never open a window: offscreen platform.
      qputenv("QT_QPA_PLATFORM", "offscreen");
      app = std::make_unique<QGuiApplication>(argc, argv);
    } else {
      app = std::make_unique<QCoreApplication>(argc, argv);
    }
    set_identity();
    QTextStream out(stdout);
    QTextStream err(stderr);
    return penser::app::cli::run(args, out, err);
  }

#ifdef PENSER_WITH_WINDOW
  return run_window(argc, argv, penser::app::cli::model_argument(args));
#else
  // Built without the Qt Quick window (PENSER_BUILD_APP off, or app/gui absent): only the command line.
  std::printf("penser %s: built without the desktop window. Try `penser --help` for the command line.\n",
              penser::version());
  return 0;
#endif
}
