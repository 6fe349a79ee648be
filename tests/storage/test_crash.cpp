// Crash safety: a real process streams an answer into the database and is killed with SIGKILL mid-stream.
// Reopened, the file passes integrity_check, the answer is marked interrupted, and it holds at least all the
// text the process had reported as saved, exactly as generated.
#include "app/core/store.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace penser::app;

class TestCrash : public QObject {
  Q_OBJECT
 private slots:
  void sigkillMidStreamLosesNothingSaved() {
    QTemporaryDir dir;
    const QString db = dir.filePath("crash.sqlite");
    QProcess writer;
    writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    writer.start(QStringLiteral(PENSER_STREAM_WRITER), {db});
    QVERIFY2(writer.waitForStarted(5000), qPrintable(writer.errorString()));

    qint64 message_id = 0;
    qint64 last_saved = 0;
    int saves = 0;
    QElapsedTimer timer;
    timer.start();
    while (saves < 3 && timer.elapsed() < 15000) {
      if (!writer.canReadLine() && !writer.waitForReadyRead(3000)) break;
      while (writer.canReadLine()) {
        const QList<QByteArray> parts = writer.readLine().trimmed().split(' ');
        if (parts.size() != 2) continue;
        if (parts[0] == "message") message_id = parts[1].toLongLong();
        if (parts[0] == "saved") {
          last_saved = parts[1].toLongLong();
          ++saves;
        }
      }
    }
    QCOMPARE(saves, 3);
    // Kill between two saves: more text exists in the process than on disk.
    QTest::qWait(250);
    // QProcess::kill() is SIGKILL on Unix (TerminateProcess on Windows): no handler, no flush, no cleanup.
    writer.kill();
    QVERIFY(writer.waitForFinished(5000));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
#ifdef Q_OS_UNIX
    QCOMPARE(writer.exitCode(), 9);  // SIGKILL
#endif
    // A save may have committed after the last line we read; it can only add text.
    while (writer.canReadLine()) {
      const QList<QByteArray> parts = writer.readLine().trimmed().split(' ');
      if (parts.size() == 2 && parts[0] == "saved") last_saved = parts[1].toLongLong();
    }
    QVERIFY(message_id > 0);
    QVERIFY(last_saved > 0);

    auto store = Store::open(db);
    QVERIFY2(store, store ? "" : store.error().message.c_str());
    QCOMPARE((*store)->integrity_check().value(), QStringLiteral("ok"));
    auto m = (*store)->message(message_id);
    QVERIFY(m);
    QCOMPARE(m->status, MessageStatus::Interrupted);
    QVERIFY2(m->content.size() >= last_saved,
             qPrintable(QString("%1 chars on disk, %2 reported saved").arg(m->content.size()).arg(last_saved)));
    // Exactly the generated text, token by token.
    QString expected;
    for (int i = 0; expected.size() < m->content.size(); ++i) expected += QStringLiteral("w%1 ").arg(i);
    QCOMPARE(m->content, expected);
    // The rest of the conversation is there too.
    QCOMPARE((*store)->current_path(m->conversation_id)->size(), 2);
  }
};

QTEST_GUILESS_MAIN(TestCrash)
#include "test_crash.moc"
