// Store on real SQLite files: conversations, branches, streaming, crash recovery flags, refused files,
// a full disk, and the storage thread.
#include "app/core/async_store.h"
#include "app/core/stream_saver.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace penser::app;

namespace {

QByteArray file_hash(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

Message make(qint64 conversation, qint64 parent, const char* role, const QString& text) {
  Message m;
  m.conversation_id = conversation;
  m.parent_id = parent;
  m.role = QString::fromLatin1(role);
  m.content = text;
  return m;
}

void raw_exec(const QString& path, const char* sql) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
  const QString error = msg ? QString::fromUtf8(msg) : QString();
  sqlite3_free(msg);
  sqlite3_close(db);
  QVERIFY2(rc == SQLITE_OK, qPrintable(error));
}

}  // namespace

class TestStore : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void conversationsAndTitles() {
    auto store = Store::open(path("titles.sqlite"));
    QVERIFY2(store, store ? "" : store.error().message.c_str());
    Store& s = **store;
    auto a = s.create_conversation({});
    QVERIFY(a);
    QVERIFY(s.add_message(make(*a, 0, "user",
                               QStringLiteral("Explain the difference between a mutex and a semaphore in operating "
                                              "systems, with an example in C"))));
    auto c = s.conversation(*a);
    QVERIFY(c);
    QCOMPARE(c->title, QStringLiteral("Explain the difference between a mutex and a semaphore in…"));
    QVERIFY(!c->title_is_custom);

    auto b = s.create_conversation({});
    QVERIFY(b);
    QVERIFY(s.set_title(*b, QStringLiteral("  My   own title ")));
    QVERIFY(s.add_message(make(*b, 0, "user", QStringLiteral("This must not rename it"))));
    QCOMPARE(s.conversation(*b)->title, QStringLiteral("My own title"));
    QVERIFY(s.conversation(*b)->title_is_custom);

    // Pinned first, then most recently updated.
    QVERIFY(s.set_pinned(*a, true));
    auto list = s.conversations();
    QVERIFY(list);
    QCOMPARE(list->size(), 2);
    QCOMPARE(list->at(0).id, *a);
    QVERIFY(list->at(0).pinned);
    QCOMPARE(list->at(0).message_count, 1);
    QVERIFY(s.set_model(*b, "R1-7B.gguf", "DeepSeek-R1-Distill-Qwen-7B", R"({"temperature":0.6})"));
    QCOMPARE(s.conversation(*b)->model_name, QStringLiteral("DeepSeek-R1-Distill-Qwen-7B"));

    // Errors name what is missing.
    auto missing = s.conversation(999);
    QVERIFY(!missing);
    QVERIFY(QString::fromStdString(missing.error().message).contains("999"));
    QVERIFY(!s.add_message(make(*a, 0, "robot", "x")));
    QVERIFY(!s.add_message(make(*b, 1, "user", "parent from another conversation")));

    // Deleting cascades to the messages and the search index.
    QVERIFY(s.delete_conversation(*a));
    QCOMPARE(s.conversations()->size(), 1);
    QVERIFY(s.search("mutex")->isEmpty());
    QCOMPARE(s.integrity_check().value(), QStringLiteral("ok"));
  }

  void walAndForeignKeys() {
    auto store = Store::open(path("pragmas.sqlite"));
    QVERIFY(store);
    auto& db = (*store)->database();
    auto jm = db.prepare_once("PRAGMA journal_mode");
    QVERIFY(jm && (*jm)->step("x").value());
    QCOMPARE((*jm)->text(0), QStringLiteral("wal"));
    auto fk = db.prepare_once("PRAGMA foreign_keys");
    QVERIFY(fk && (*fk)->step("x").value());
    QCOMPARE((*fk)->int64(0), 1);
    // A message pointing at a missing conversation is refused by the foreign key.
    QVERIFY(!db.exec("INSERT INTO messages (conversation_id, role, created_at) VALUES (42, 'user', 0)", "x"));
  }

  void branchesKeepEverything() {
    auto store = Store::open(path("branches.sqlite"));
    QVERIFY(store);
    Store& s = **store;
    const qint64 c = s.create_conversation({}).value();
    const qint64 q1 = s.add_message(make(c, 0, "user", "What is 2+2?")).value();
    const qint64 a1 = s.add_message(make(c, q1, "assistant", "4")).value();
    const qint64 q2 = s.add_message(make(c, a1, "user", "And 3+3?")).value();
    const qint64 a2 = s.add_message(make(c, q2, "assistant", "6")).value();

    // Regenerate the first answer: a sibling of a1; what followed a1 stays.
    const qint64 a1b = s.add_message(make(c, q1, "assistant", "Four.")).value();
    QCOMPARE(s.siblings(a1).value(), (QList<qint64>{a1, a1b}));
    auto path1 = s.current_path(c).value();
    QCOMPARE(path1.size(), 2);
    QCOMPARE(path1[1].content, QStringLiteral("Four."));

    // Edit the first question: a sibling of q1.
    const qint64 q1b = s.add_message(make(c, 0, "user", "What is 2*2?")).value();
    QCOMPARE(s.siblings(q1b).value(), (QList<qint64>{q1, q1b}));
    QCOMPARE(s.current_path(c)->size(), 1);
    QCOMPARE(s.messages(c)->size(), 6);

    // Switch back to the first version of the question: its newest descendant becomes the leaf.
    QCOMPARE(s.show_branch(q1).value(), a1b);
    // And to the branch that went on to the second question.
    QCOMPARE(s.show_branch(a1).value(), a2);
    auto path2 = s.current_path(c).value();
    QCOMPARE(path2.size(), 4);
    QCOMPARE(path2[0].id, q1);
    QCOMPARE(path2[3].id, a2);
    // The choice is remembered in the file.
    store->reset();
    auto reopened = Store::open(path("branches.sqlite"));
    QVERIFY(reopened);
    QCOMPARE((*reopened)->conversation(c)->current_leaf_id, a2);
  }

  void deleteMessageTakesItsSubtree() {
    auto store = Store::open(path("delete.sqlite"));
    QVERIFY(store);
    Store& s = **store;
    const qint64 c = s.create_conversation({}).value();
    const qint64 q1 = s.add_message(make(c, 0, "user", "What is 2+2?")).value();
    const qint64 a1 = s.add_message(make(c, q1, "assistant", "4")).value();
    const qint64 q2 = s.add_message(make(c, a1, "user", "And zebra 3+3?")).value();
    const qint64 a2 = s.add_message(make(c, q2, "assistant", "6")).value();
    const qint64 a1b = s.add_message(make(c, q1, "assistant", "Four.")).value();
    QCOMPARE(s.show_branch(a1).value(), a2);

    // Deleting the shown answer takes what followed it; the other version of it is shown.
    QCOMPARE(s.delete_message(a1).value(), a1b);
    QCOMPARE(s.siblings(a1b).value(), QList<qint64>{a1b});
    auto path1 = s.current_path(c).value();
    QCOMPARE(path1.size(), 2);
    QCOMPARE(path1[1].id, a1b);
    QVERIFY(!s.message(q2));
    QVERIFY(s.search("zebra")->isEmpty());  // the search index follows the cascade

    // A hidden branch goes without changing what is shown.
    const qint64 q1b = s.add_message(make(c, 0, "user", "What is 2*2?")).value();
    QCOMPARE(s.show_branch(q1).value(), a1b);
    QCOMPARE(s.delete_message(q1b).value(), a1b);
    QCOMPARE(s.current_path(c)->size(), 2);

    // The last answer of a version goes: its question is shown; the last message: nothing is left.
    QCOMPARE(s.delete_message(a1b).value(), q1);
    QCOMPARE(s.delete_message(q1).value(), 0);
    QVERIFY(s.current_path(c)->isEmpty());
    QVERIFY(!s.delete_message(q1));  // already gone: an error, not a crash
    QCOMPARE(s.integrity_check().value(), QStringLiteral("ok"));
  }

  void streamingSavesAndFinishes() {
    auto store = Store::open(path("stream.sqlite"));
    QVERIFY(store);
    Store& s = **store;
    const qint64 c = s.create_conversation({}).value();
    const qint64 q = s.add_message(make(c, 0, "user", "Why is the sky blue?")).value();
    const qint64 id = s.begin_streaming(c, q, "R1-1.5B").value();
    QCOMPARE(s.message(id)->status, MessageStatus::Streaming);

    StreamSaver saver(s, id, std::chrono::hours(1));
    saver.append_thinking("Rayleigh scattering ");
    QCOMPARE(saver.maybe_save().value(), false);  // the cadence has not passed
    QCOMPARE(s.message(id)->thinking, QString());
    QVERIFY(saver.flush());
    QCOMPARE(s.message(id)->thinking, QStringLiteral("Rayleigh scattering "));

    StreamSaver fast(s, id, std::chrono::milliseconds(0));
    fast.append_thinking("Rayleigh scattering goes as 1/λ⁴.");
    fast.set_thinking_ms(1500);
    fast.append_content("Blue light scatters more.");
    QCOMPARE(fast.maybe_save().value(), true);
    QCOMPARE(fast.maybe_save().value(), false);  // nothing new
    GenerationStats stats{12, 40, 25, 180.5, 95.25, 21.75};
    QVERIFY(fast.finish(MessageStatus::Complete, "stop", stats));
    auto m = s.message(id).value();
    QCOMPARE(m.status, MessageStatus::Complete);
    QCOMPARE(m.content, QStringLiteral("Blue light scatters more."));
    QCOMPARE(m.thinking_ms, 1500);
    QCOMPARE(m.stats, stats);
    QCOMPARE(m.finish_reason, QStringLiteral("stop"));
    QCOMPARE(m.model, QStringLiteral("R1-1.5B"));
  }

  void streamingBecomesInterruptedOnReopen() {
    const QString p = path("interrupted.sqlite");
    qint64 id = 0;
    {
      auto store = Store::open(p);
      QVERIFY(store);
      const qint64 c = (*store)->create_conversation({}).value();
      id = (*store)->begin_streaming(c, 0, "m").value();
      QVERIFY((*store)->save_streaming(id, "partial answer", "partial thought", 10));
    }
    auto store = Store::open(p);
    QVERIFY(store);
    auto m = (*store)->message(id).value();
    QCOMPARE(m.status, MessageStatus::Interrupted);
    QCOMPARE(m.content, QStringLiteral("partial answer"));
    QCOMPARE(m.thinking, QStringLiteral("partial thought"));
  }

  void refusedFilesAreLeftUntouched_data() {
    QTest::addColumn<QByteArray>("kind");
    QTest::addColumn<QString>("expected");
    QTest::newRow("garbage") << QByteArray("garbage") << "not a database file";
    QTest::newRow("damaged") << QByteArray("damaged") << "damaged";
    QTest::newRow("foreign") << QByteArray("foreign") << "not one of Penser's";
    QTest::newRow("newer") << QByteArray("newer") << "newer version of Penser";
  }

  void refusedFilesAreLeftUntouched() {
    QFETCH(QByteArray, kind);
    QFETCH(QString, expected);
    const QString p = path(("refused-" + kind + ".sqlite").constData());
    if (kind == "garbage") {
      QFile f(p);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray(8192, '\x5a'));
    } else if (kind == "foreign") {
      raw_exec(p, "CREATE TABLE notes(x); INSERT INTO notes VALUES ('hello');");
    } else {
      {
        auto store = Store::open(p);
        QVERIFY(store);
        ConversationRecord r;  // one transaction: 200 fsyncs would make the test slow
        for (int i = 1; i <= 200; ++i) r.messages << make(0, i - 1, "user", QString(400, QChar('a' + i % 26)));
        for (int i = 0; i < 200; ++i) r.messages[i].id = i + 1;
        QVERIFY((*store)->import_records({r}));
      }
      if (kind == "newer") {
        raw_exec(p, "PRAGMA user_version = 99;");
      } else {
        // Overwrite the middle of the file: page headers and cells become nonsense.
        QFile f(p);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.size() > 65536);
        f.seek(f.size() / 2 - 8192);
        f.write(QByteArray(16384, '\xff'));
      }
    }
    const QByteArray before = file_hash(p);
    auto store = Store::open(p);
    QVERIFY(!store);
    const QString message = QString::fromStdString(store.error().message);
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(message.contains("left untouched"), qPrintable(message));
    QCOMPARE(file_hash(p), before);

    // The app goes on with a fresh database next to it, and says so.
    auto opened = Store::open_or_fresh(p);
    QVERIFY(opened);
    QVERIFY(opened->problem.contains(expected));
    QVERIFY(opened->store->path() != p);
    QVERIFY(opened->store->create_conversation({}));
    QCOMPARE(file_hash(p), before);
  }

  void busyFileIsNotReplaced_data() {
    QTest::addColumn<QString>("journal");
    // WAL: the check can read, the write waits. Rollback journal: even the check's reads wait.
    QTest::newRow("wal") << "wal";
    QTest::newRow("rollback") << "delete";
  }

  void busyFileIsNotReplaced() {
    // Another program holds the write lock: an error to report, not a reason to start a new database.
    QFETCH(QString, journal);
    const QString p = path(("busy-" + journal.toLatin1() + ".sqlite").constData());
    { QVERIFY(Store::open(p)); }
    if (journal != "wal") raw_exec(p, "PRAGMA journal_mode = DELETE;");
    sqlite3* other = nullptr;
    QCOMPARE(sqlite3_open(p.toUtf8().constData(), &other), SQLITE_OK);
    QCOMPARE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    auto opened = Store::open_or_fresh(p);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    QVERIFY(!opened);
    const QString message = QString::fromStdString(opened.error().message);
    QVERIFY2(message.contains("in use by another program"), qPrintable(message));
    // With a rollback journal the very first read (the check) waited, and still nothing was set aside.
    if (journal != "wal") QVERIFY2(message.contains("reading the database header"), qPrintable(message));
    // No fresh "busy-<date>.sqlite" was made.
    QCOMPARE(QDir(dir_.path()).entryList({"busy-" + journal + "-*"}, QDir::Files), QStringList());
  }

  void fullDiskSurfacesAndKeepsSavedData() {
    const QString p = path("full.sqlite");
    qint64 c = 0;
    qint64 streaming = 0;
    {
      auto store = Store::open(p);
      QVERIFY(store);
      Store& s = **store;
      c = s.create_conversation({}).value();
      const qint64 q = s.add_message(make(c, 0, "user", "Saved before the disk filled up")).value();
      streaming = s.begin_streaming(c, q, "m").value();
      QVERIFY(s.save_streaming(streaming, "first second of text", "", 0));
      // The database may not grow by a single page from now on: the same failure as a full disk.
      auto pages = s.database().prepare_once("PRAGMA page_count");
      QVERIFY(pages && (*pages)->step("x").value());
      const std::string limit = "PRAGMA max_page_count = " + std::to_string((*pages)->int64(0));
      QVERIFY(s.database().exec(limit.c_str(), "x"));

      const QString big(300000, QChar('x'));
      auto added = s.add_message(make(c, q, "user", big));
      QVERIFY(!added);
      const QString message = QString::fromStdString(added.error().message);
      QVERIFY2(message.contains("disk is full"), qPrintable(message));
      auto saved = s.save_streaming(streaming, big, big, 0);
      QVERIFY(!saved);
      QVERIFY(QString::fromStdString(saved.error().message).contains("disk is full"));
      // The store stays usable for reading.
      QCOMPARE(s.messages(c)->size(), 2);
    }
    auto store = Store::open(p);
    QVERIFY(store);
    QCOMPARE((*store)->integrity_check().value(), QStringLiteral("ok"));
    auto messages = (*store)->messages(c).value();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages[0].content, QStringLiteral("Saved before the disk filled up"));
    QCOMPARE(messages[1].content, QStringLiteral("first second of text"));
    QCOMPARE(messages[1].status, MessageStatus::Interrupted);
  }

  void asyncStoreRunsOffTheCallingThread() {
    AsyncStore async;
    penser::Status open_status = penser::make_error("not called");
    QString problem = "not called";
    async.open(path("async.sqlite"), this, [&](penser::Status st, QString pr) {
      QCOMPARE(QThread::currentThread(), thread());
      open_status = st;
      problem = pr;
    });
    QTRY_VERIFY(open_status.has_value());
    QVERIFY(problem.isEmpty());

    QThread* job_thread = nullptr;
    QList<int> order;
    for (int i = 0; i < 5; ++i) {
      async.run(
          [&job_thread, i](Store& s) -> penser::Result<qint64> {
            job_thread = QThread::currentThread();
            Conversation c;
            c.title = QStringLiteral("async %1").arg(i);
            return s.create_conversation(c);
          },
          this,
          [&order, i, this](penser::Result<qint64> id) {
            QVERIFY(QThread::currentThread() == thread());
            QVERIFY(id);
            order << i;
          });
    }
    QTRY_COMPARE(order.size(), 5);
    QCOMPARE(order, (QList<int>{0, 1, 2, 3, 4}));
    QCOMPARE(job_thread, async.thread_for_tests());
    QVERIFY(job_thread != QThread::currentThread());

    bool listed = false;
    async.run([](Store& s) { return s.conversations(); }, this,
              [&](penser::Result<QList<Conversation>> list) {
                QVERIFY(list);
                QCOMPARE(list->size(), 5);
                listed = true;
              });
    QTRY_VERIFY(listed);
  }

  void asyncStreamingFromTheGuiThread() {
    // The pattern the chat controller uses: deltas arrive on the GUI thread, every write happens on the
    // storage thread through a StreamSaver the jobs share.
    AsyncStore async;
    bool opened = false;
    async.open(path("async-stream.sqlite"), this, [&](penser::Status st, QString) { opened = st.has_value(); });
    QTRY_VERIFY(opened);
    auto saver = std::make_shared<std::unique_ptr<StreamSaver>>();
    qint64 message_id = 0;
    async.run(
        [saver](Store& s) -> penser::Result<qint64> {
          PENSER_ASSIGN_OR_RETURN(qint64 c, s.create_conversation({}));
          PENSER_ASSIGN_OR_RETURN(qint64 id, s.begin_streaming(c, 0, "m"));
          *saver = std::make_unique<StreamSaver>(s, id, std::chrono::milliseconds(0));
          return id;
        },
        this, [&](penser::Result<qint64> id) { message_id = id ? *id : -1; });
    for (const char* delta : {"Hel", "lo, ", "world"}) {
      const QString text = QString::fromLatin1(delta);
      async.run(
          [saver, text](Store&) -> penser::Result<bool> {
            (*saver)->append_content(text);
            return (*saver)->maybe_save();
          },
          this, [](penser::Result<bool> saved) { QVERIFY(saved); });
    }
    bool finished = false;
    async.run([saver](Store&) -> penser::Status { return (*saver)->finish(MessageStatus::Complete, "stop", {}); },
              this, [&](penser::Status st) { finished = st.has_value(); });
    QTRY_VERIFY(finished);
    QVERIFY(message_id > 0);
    auto store = Store::open(path("async-stream.sqlite"));
    QVERIFY(store);
    QCOMPARE((*store)->message(message_id)->content, QStringLiteral("Hello, world"));
    QCOMPARE((*store)->message(message_id)->status, MessageStatus::Complete);
  }

  void asyncStoreWithoutDatabaseReportsIt() {
    AsyncStore async;
    QString error;
    async.run([](Store& s) { return s.conversations(); }, this,
              [&](penser::Result<QList<Conversation>> list) {
                QVERIFY(!list);
                error = QString::fromStdString(list.error().message);
              });
    QTRY_VERIFY(!error.isEmpty());
    QVERIFY(error.contains("not open"));
  }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
