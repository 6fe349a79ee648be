// The `penser` executable end to end, as a script would use it: import, list, search, export in every format.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct Run {
  int code = -1;
  QString out;
  QString err;
};

Run penser(const QStringList& args, const QString& home = {}) {
  QProcess p;
  if (!home.isEmpty()) {
    // A private home: the default database (AppDataLocation) lands inside it.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home);
    env.insert("XDG_DATA_HOME", home + "/.local/share");
    p.setProcessEnvironment(env);
  }
  p.start(QStringLiteral(PENSER_EXECUTABLE), args);
  Run r;
  if (!p.waitForFinished(60000)) return r;
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

const QString kChatgpt = QStringLiteral(PENSER_TEST_SOURCE_DIR "/fixtures/chatgpt-conversations.json");

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString db() const { return dir_.filePath("cli.sqlite"); }

 private slots:
  void versionAndHelp() {
    Run v = penser({"--version"});
    QCOMPARE(v.code, 0);
    QCOMPARE(v.out, QStringLiteral("penser 0.1.0\n").replace("0.1.0", PENSER_VERSION_FOR_TEST));
    Run h = penser({"--help"});
    QCOMPARE(h.code, 0);
    QVERIFY(h.out.contains("penser export [--db PATH]") || h.out.contains("export [--db PATH]"));
    // No argument at all opens the window (the desktop app); `help` is the scripts' way to the usage.
    Run help = penser({"help"});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains("--help"));
  }

  void badUsageExitsWithTwo_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command";
    QTest::newRow("both targets") << QStringList{"export", "--all", "--conversation", "1", "--format", "md", "--out", "x"}
                                  << "either --conversation ID or --all";
    QTest::newRow("format") << QStringList{"export", "--all", "--format", "docx", "--out", "x"} << "--format must be";
    QTest::newRow("no out") << QStringList{"export", "--all", "--format", "md"} << "--out PATH is required";
    QTest::newRow("import without file") << QStringList{"import"} << "give one FILE";
    QTest::newRow("unknown option") << QStringList{"list", "--colour"} << "unknown option --colour";
  }

  void badUsageExitsWithTwo() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    Run r = penser(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
  }

  // The executable itself: given a .gguf it stays up with its window (offscreen here) instead of printing
  // "unknown command" and exiting with 2, as it did before.
  void theExecutableOpensTheWindowForAModel() {
    const QString home = dir_.filePath("home-window");
    QVERIFY(QDir().mkpath(home));
    const QString model = dir_.filePath("notes.gguf");  // not a model: the window shows the error, stays up
    QFile f(model);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a model\n");
    f.close();
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", home);
    env.insert("XDG_DATA_HOME", home + "/.local/share");
    env.insert("XDG_CONFIG_HOME", home + "/.config");
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(PENSER_EXECUTABLE), {model});
    QVERIFY(p.waitForStarted());
    const bool exited = p.waitForFinished(3000);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    if (!exited) {
      p.terminate();
      if (!p.waitForFinished(10000)) p.kill();
    }
    QVERIFY2(!exited, qPrintable(QStringLiteral("exit %1: %2").arg(p.exitCode()).arg(err)));
    QVERIFY2(!err.contains("unknown command"), qPrintable(err));
  }

  void importListSearchExport() {
    Run imp = penser({"import", "--db", db(), kChatgpt});
    QVERIFY2(imp.code == 0, qPrintable(imp.err));
    QCOMPARE(imp.out, QStringLiteral("penser: imported 2 conversation(s)\n"));

    Run list = penser({"list", "--db", db()});
    QCOMPARE(list.code, 0);
    const QStringList lines = list.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    QVERIFY(lines[0].endsWith("\tHaiku about autumn"));  // most recently updated first
    QVERIFY(lines[1].startsWith("1\t"));
    QVERIFY(lines[1].endsWith("\t4\tQuicksort pivot choice"));

    Run search = penser({"list", "--db", db(), "--search", "medi thre"});
    QCOMPARE(search.code, 0);
    QVERIFY2(search.out.contains("Use the [median] of [three]"), qPrintable(search.out));
    QVERIFY(search.out.startsWith("1\t4\tassistant\tQuicksort pivot choice\n"));
    // "sorted-input" is a phrase: in the first answer, and in the second one's thinking only.
    Run thinking = penser({"list", "--db", db(), "--search", "sorted-input"});
    QVERIFY2(thinking.out.contains("1\t2\tassistant\tQuicksort pivot choice\n\tOn [sorted] [input] it makes"),
             qPrintable(thinking.out));
    QVERIFY2(thinking.out.contains("1\t4\tassistant (thinking)\tQuicksort pivot choice\n"), qPrintable(thinking.out));
    QVERIFY(thinking.out.contains("avoids the [sorted]-[input] worst case"));

    for (const char* format : {"md", "json", "html", "pdf", "txt"}) {
      const QString out = dir_.filePath(QStringLiteral("one.") + format);
      Run e = penser({"export", "--db", db(), "--conversation", "1", "--format", format, "--out", out});
      QVERIFY2(e.code == 0, qPrintable(QString(format) + ": " + e.err));
      QFile f(out);
      QVERIFY(f.open(QIODevice::ReadOnly));
      const QByteArray bytes = f.readAll();
      // Only PDF needs Qt's GUI library; nothing else may print platform warnings into a script's stderr.
      QVERIFY2(e.err.isEmpty() || QByteArray(format) == "pdf", qPrintable(e.err));
      if (QByteArray(format) == "pdf") {
        QVERIFY(bytes.startsWith("%PDF-"));
      } else {
        QVERIFY2(bytes.contains("Quicksort pivot choice"), format);
        QVERIFY2(!bytes.contains("Haiku"), format);
      }
    }
    Run all = penser({"export", "--db", db(), "--all", "--format", "md", "--no-thinking", "--out", dir_.filePath("all.md")});
    QCOMPARE(all.code, 0);
    QFile f(dir_.filePath("all.md"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray md = f.readAll();
    QVERIFY(md.contains("Haiku about autumn") && md.contains("Quicksort pivot choice"));
    QVERIFY(!md.contains("Median-of-three"));  // thinking left out

    // Round trip through the command line.
    Run json = penser({"export", "--db", db(), "--all", "--format", "json", "--out", dir_.filePath("all.json")});
    QCOMPARE(json.code, 0);
    Run back = penser({"import", "--db", dir_.filePath("copy.sqlite"), dir_.filePath("all.json")});
    QCOMPARE(back.code, 0);
    QCOMPARE(penser({"list", "--db", dir_.filePath("copy.sqlite")}).out, list.out);
  }

  void errorsExitWithOne() {
    Run missing = penser({"export", "--db", db(), "--conversation", "999", "--format", "md", "--out", dir_.filePath("x.md")});
    QCOMPARE(missing.code, 1);
    QVERIFY2(missing.err.contains("there is no conversation 999"), qPrintable(missing.err));
    QFile junk(dir_.filePath("junk.json"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("[{\"mapping\": 3}]");
    junk.close();
    Run bad = penser({"import", "--db", db(), junk.fileName()});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("at [0].mapping: expected an object") && bad.err.contains("Nothing was imported"),
             qPrintable(bad.err));
    // A damaged database is refused and left alone.
    QFile garbage(dir_.filePath("garbage.sqlite"));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(4096, 'x'));
    garbage.close();
    Run refused = penser({"list", "--db", garbage.fileName()});
    QCOMPARE(refused.code, 1);
    QVERIFY(refused.err.contains("left untouched"));
  }

  void defaultDatabaseIsTheAppsOne() {
    const QString home = dir_.filePath("home");
    Run imp = penser({"import", kChatgpt}, home);
    QVERIFY2(imp.code == 0, qPrintable(imp.err));
    QVERIFY(QFile::exists(home + "/.local/share/Penser/Penser/conversations.sqlite"));
    QCOMPARE(penser({"list"}, home).out.count('\n'), 2);
  }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
