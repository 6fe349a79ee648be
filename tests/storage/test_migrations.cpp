// Forward migrations: a file of every earlier schema version (tests/storage/schema/v<N>.sql, snapshots
// written by that version) opens with the current code, reaches the current version with its data intact,
// a backup of the old file beside it, and the same schema as a database created fresh.
#include "app/core/schema.h"
#include "app/core/store.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace penser::app;

namespace {

QString snapshot_path(int version) {
  return QStringLiteral(PENSER_TEST_SOURCE_DIR "/schema/v%1.sql").arg(version);
}

bool build_from_sql(const QString& db_path, const QString& sql_path, QString& error) {
  QFile f(sql_path);
  if (!f.open(QIODevice::ReadOnly)) {
    error = "cannot read " + sql_path;
    return false;
  }
  const QByteArray sql = f.readAll();
  sqlite3* db = nullptr;
  sqlite3_open(db_path.toUtf8().constData(), &db);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db, sql.constData(), nullptr, nullptr, &msg);
  if (msg) error = QString::fromUtf8(msg);
  sqlite3_free(msg);
  sqlite3_close(db);
  return rc == SQLITE_OK;
}

// The schema as SQLite reports it, one normalised statement per entry, sorted.
QStringList schema_of(sql::Database& db) {
  QStringList out;
  auto s = db.prepare_once("SELECT type, name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name");
  if (!s) return {"error"};
  while ((*s)->step("x").value()) {
    out << (*s)->text(0) + " " + (*s)->text(1) + " " + (*s)->text(2).simplified();
  }
  return out;
}

}  // namespace

class TestMigrations : public QObject {
  Q_OBJECT
 private slots:
  void everyEarlierVersionHasASnapshot() {
    for (int v = 1; v < schema::current_version(); ++v) {
      QVERIFY2(QFile::exists(snapshot_path(v)), qPrintable("missing snapshot " + snapshot_path(v)));
    }
  }

  void migratesFromEveryEarlierVersion_data() {
    QTest::addColumn<int>("version");
    for (int v = 1; v < schema::current_version(); ++v) QTest::newRow(qPrintable(QString("v%1").arg(v))) << v;
  }

  void migratesFromEveryEarlierVersion() {
    QFETCH(int, version);
    QTemporaryDir dir;
    const QString p = dir.filePath("old.sqlite");
    QString error;
    QVERIFY2(build_from_sql(p, snapshot_path(version), error), qPrintable(error));

    auto store = Store::open(p);
    QVERIFY2(store, store ? "" : store.error().message.c_str());
    Store& s = **store;
    QVERIFY(QFile::exists(p + QStringLiteral(".v%1.bak").arg(version)));

    auto v = s.database().prepare_once("PRAGMA user_version");
    QVERIFY(v && (*v)->step("x").value());
    QCOMPARE((*v)->int64(0), schema::current_version());
    QCOMPARE(s.integrity_check().value(), QStringLiteral("ok"));

    // The data every snapshot holds (see the .sql files).
    auto list = s.conversations().value();
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[0].title, QStringLiteral("Prime numbers below fifty"));
    QVERIFY(list[0].pinned);
    auto path = s.current_path(list[0].id).value();
    QCOMPARE(path.size(), 3);
    QCOMPARE(path[1].status, MessageStatus::Stopped);
    QCOMPARE(s.siblings(path[1].id)->size(), 2);
    auto first = s.message(2).value();
    QCOMPARE(first.thinking_ms, 4200);
    QCOMPARE(first.stats.decode_tps, 22.5);
    // The streaming message left by the old version is interrupted now.
    QCOMPARE(s.message(5)->status, MessageStatus::Interrupted);

    // Search covers what was written before search existed, answers and thinking.
    QCOMPARE(s.search("fifty").value().size(), 2);  // the question and the first answer
    auto thinking = s.search("Eratosthenes").value();
    QCOMPARE(thinking.size(), 1);
    QCOMPARE(thinking[0].field, QStringLiteral("thinking"));
    // New writes work after the upgrade.
    Message m;
    m.conversation_id = list[1].id;
    m.role = "user";
    m.content = "eigenvalues again";
    QVERIFY(s.add_message(m));
    QCOMPARE(s.search("eigenvalues").value().size(), 2);

    // Same schema as a database created by this version.
    auto fresh = Store::open(dir.filePath("fresh.sqlite"));
    QVERIFY(fresh);
    QCOMPARE(schema_of(s.database()), schema_of((*fresh)->database()));
  }

  void migrationIsAllOrNothing() {
    // A file at version 1 whose data breaks the version 2 migration (a table it creates already exists)
    // stays at version 1, unchanged in content, and the error says what failed.
    QTemporaryDir dir;
    const QString p = dir.filePath("blocked.sqlite");
    QString error;
    QVERIFY2(build_from_sql(p, snapshot_path(1), error), qPrintable(error));
    sqlite3* db = nullptr;
    sqlite3_open(p.toUtf8().constData(), &db);
    QCOMPARE(sqlite3_exec(db, "CREATE TABLE message_fts(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);

    auto store = Store::open(p);
    QVERIFY(!store);
    QVERIFY2(QString::fromStdString(store.error().message).contains("upgrading the database from version 1 to 2"),
             store.error().message.c_str());
    sqlite3_open(p.toUtf8().constData(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    QCOMPARE(sqlite3_step(st), SQLITE_ROW);
    QCOMPARE(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "test_migrations.moc"
