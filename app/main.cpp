// penser: the desktop app and, with a command, the command line for scripts. All logic lives in penser_app.
#include "app/core/cli.h"
#include "inference/common/version.h"

#include <QGuiApplication>

#include <cstdio>

int main(int argc, char** argv) {
  QStringList args;
  for (int i = 1; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);

  if (penser::app::cli::wants_command_line(args)) {
    // Commands never open a window, but PDF text layout needs Qt's GUI library: use the offscreen platform.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    QGuiApplication::setOrganizationName(QStringLiteral("Penser"));
    QGuiApplication::setApplicationName(QStringLiteral("Penser"));
    QGuiApplication::setApplicationVersion(QString::fromLatin1(penser::version()));
    QTextStream out(stdout);
    QTextStream err(stderr);
    return penser::app::cli::run(args, out, err);
  }

  // The desktop window arrives with the GUI issue; it will create the QGuiApplication and the QML engine here.
  std::printf("penser %s: the desktop window is not built yet. Try `penser --help` for the command line.\n",
              penser::version());
  return 0;
}
