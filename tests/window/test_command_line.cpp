// Which arguments are a command for scripts and which are for the window (app/main.cpp decides by these).
#include "app/core/cli.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

class TestCommandLine : public QObject {
  Q_OBJECT

 private slots:
  // `penser model.gguf` (a desktop's "Open with") is for the window, not an unknown command; commands stay
  // commands even when a .gguf follows them.
  void aModelFileIsForTheWindow() {
    using penser::app::cli::model_argument;
    using penser::app::cli::wants_command_line;
    QCOMPARE(model_argument({"/models/R1 Distill.GGUF"}), QStringLiteral("/models/R1 Distill.GGUF"));
    QVERIFY(!wants_command_line({"tiny.gguf"}));
    QCOMPARE(model_argument({"file:///models/a%20b.gguf"}), QStringLiteral("/models/a b.gguf"));
    QTemporaryDir dir;
    const QString renamed = dir.filePath("model.bin");  // an existing file without the extension
    QFile f(renamed);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    QCOMPARE(model_argument({renamed}), renamed);
    QVERIFY(wants_command_line({"list"}));
    QVERIFY(wants_command_line({"frobnicate"}));
    QVERIFY(wants_command_line({"import", "x.gguf"}));
    QVERIFY(wants_command_line({"--version"}));
    QVERIFY(!wants_command_line({}));
  }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "test_command_line.moc"
