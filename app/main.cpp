// penser: the desktop app and, with a command, the command line for scripts. All logic lives in penser_app.
#include "app/core/cli.h"
#include "inference/common/version.h"

#include <QGuiApplication>

#include <cstdio>
#include <memory>

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
    QCoreApplication::setOrganizationName(QStringLiteral("Penser"));
    QCoreApplication::setApplicationName(QStringLiteral("Penser"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(penser::version()));
    QTextStream out(stdout);
    QTextStream err(stderr);
    return penser::app::cli::run(args, out, err);
  }

  // The desktop window arrives with the GUI issue; it will create the QGuiApplication and the QML engine here.
  std::printf("penser %s: the desktop window is not built yet. Try `penser --help` for the command line.\n",
              penser::version());
  return 0;
}
