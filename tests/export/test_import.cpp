// Import: Penser JSON round trip, ChatGPT's conversations.json (tree -> branches), malformed files rejected
// with the place and the reason, and nothing half-imported.
#include "app/core/export.h"
#include "app/core/import.h"
#include "sample.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace penser::app;

namespace {

QByteArray fixture(const char* name) {
  QFile f(QStringLiteral(PENSER_TEST_SOURCE_DIR "/fixtures/") + QString::fromLatin1(name));
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Everything but rowids: two records are the same conversation.
void compare_records(const ConversationRecord& a, const ConversationRecord& b) {
  QCOMPARE(a.conversation.uuid, b.conversation.uuid);
  QCOMPARE(a.conversation.title, b.conversation.title);
  QCOMPARE(a.conversation.title_is_custom, b.conversation.title_is_custom);
  QCOMPARE(a.conversation.created_at, b.conversation.created_at);
  QCOMPARE(a.conversation.updated_at, b.conversation.updated_at);
  QCOMPARE(a.conversation.pinned, b.conversation.pinned);
  QCOMPARE(a.conversation.model_file, b.conversation.model_file);
  QCOMPARE(a.conversation.model_name, b.conversation.model_name);
  QCOMPARE(a.conversation.settings_json, b.conversation.settings_json);
  QCOMPARE(a.messages.size(), b.messages.size());
  QHash<qint64, int> index_a, index_b;
  for (int i = 0; i < a.messages.size(); ++i) index_a.insert(a.messages[i].id, i);
  for (int i = 0; i < b.messages.size(); ++i) index_b.insert(b.messages[i].id, i);
  QCOMPARE(index_a.value(a.conversation.current_leaf_id, -1), index_b.value(b.conversation.current_leaf_id, -1));
  for (int i = 0; i < a.messages.size(); ++i) {
    const Message& x = a.messages[i];
    const Message& y = b.messages[i];
    QCOMPARE(index_a.value(x.parent_id, -1), index_b.value(y.parent_id, -1));  // same tree
    QCOMPARE(x.role, y.role);
    QCOMPARE(x.content, y.content);
    QCOMPARE(x.thinking, y.thinking);
    QCOMPARE(x.thinking_ms, y.thinking_ms);
    QCOMPARE(x.stats, y.stats);
    QCOMPARE(x.finish_reason, y.finish_reason);
    QCOMPARE(x.status, y.status);
    QCOMPARE(x.error, y.error);
    QCOMPARE(x.model, y.model);
    QCOMPARE(x.created_at, y.created_at);
  }
}

}  // namespace

class TestImport : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;

 private slots:
  void penserJsonRoundTrip() {
    auto a = Store::open(dir_.filePath("a.sqlite"));
    QVERIFY(a);
    auto first = (*a)->import_records({penser::test::sample_conversation(), penser::test::second_conversation()});
    QVERIFY(first);
    QCOMPARE(first->imported, 2);
    // Plus one made the ordinary way, with an error message and a custom title.
    const qint64 c = (*a)->create_conversation({}).value();
    Message q;
    q.conversation_id = c;
    q.role = "user";
    q.content = "Hello?";
    const qint64 qid = (*a)->add_message(q).value();
    const qint64 failed = (*a)->begin_streaming(c, qid, "m").value();
    QVERIFY((*a)->finish_message(failed, MessageStatus::Error, "error", {}, "out of memory"));
    QVERIFY((*a)->set_title(c, "Renamed"));

    const QString json = dir_.filePath("all.json");
    QVERIFY(export_to_file(**a, {}, ExportFormat::Json, {}, json));

    auto b = Store::open(dir_.filePath("b.sqlite"));
    QVERIFY(b);
    auto report = import_file(**b, json);
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->imported, 3);
    QCOMPARE(report->skipped, 0);
    auto list_a = (*a)->conversations().value();
    auto list_b = (*b)->conversations().value();
    QCOMPARE(list_a.size(), list_b.size());
    for (int i = 0; i < list_a.size(); ++i) {
      compare_records((*a)->record(list_a[i].id).value(), (*b)->record(list_b[i].id).value());
      if (QTest::currentTestFailed()) return;
    }
    // The same file again: recognised, nothing duplicated.
    auto again = import_file(**b, json);
    QVERIFY(again);
    QCOMPARE(again->imported, 0);
    QCOMPARE(again->skipped, 3);
    QCOMPARE((*b)->conversations()->size(), 3);
  }

  void chatgptTreeBecomesBranches() {
    auto records = parse_chatgpt_json(fixture("chatgpt-conversations.json"));
    QVERIFY2(records, records ? "" : records.error().message.c_str());
    QCOMPARE(records->size(), 2);

    const ConversationRecord& r = records->at(0);
    QCOMPARE(r.conversation.title, QStringLiteral("Quicksort pivot choice"));
    QCOMPARE(r.conversation.uuid, QStringLiteral("chatgpt:665f1a2b-0c3d-4e5f-8a9b-0c1d2e3f4a5b"));
    QCOMPARE(r.conversation.created_at, 1717000000123);
    QCOMPARE(r.conversation.model_name, QStringLiteral("o3"));
    // Kept: two versions of the question, each with its answer. Root, hidden system prompt, reasoning,
    // the tool call and the tool output are not messages.
    QCOMPARE(r.messages.size(), 4);
    const Message& q1 = r.messages[0];
    const Message& a1 = r.messages[1];
    const Message& q2 = r.messages[2];
    const Message& a2 = r.messages[3];
    QCOMPARE(q1.parent_id, 0);
    QCOMPARE(q2.parent_id, 0);  // an edited question: a sibling
    QCOMPARE(a1.parent_id, q1.id);
    QCOMPARE(a2.parent_id, q2.id);  // attached across the skipped nodes
    QCOMPARE(q2.content, QStringLiteral("[attachment]\n\nWhy is the first element a bad pivot for quicksort? "
                                        "Show me a better one in Python."));
    QCOMPARE(a1.model, QStringLiteral("gpt-4o"));
    QCOMPARE(a1.finish_reason, QStringLiteral("stop"));
    QCOMPARE(a1.created_at, 1717000015500);
    QVERIFY(a1.thinking.isEmpty());
    QCOMPARE(a2.thinking, QStringLiteral("Considering pivot strategies\nMedian-of-three avoids the sorted-input "
                                         "worst case.\n\nChoosing an example\nA short Python function is enough."));
    QVERIFY(a2.content.contains("```python\ndef pivot(a, lo, hi):"));
    QCOMPARE(a2.finish_reason, QStringLiteral("length"));
    QCOMPARE(r.conversation.current_leaf_id, a2.id);

    const ConversationRecord& r2 = records->at(1);
    QCOMPARE(r2.messages.size(), 2);
    QCOMPARE(r2.messages[1].status, MessageStatus::Interrupted);
    QCOMPARE(r2.messages[1].finish_reason, QStringLiteral("user"));

    // Into a store: the branch shown is the one ChatGPT showed; the other version is one switch away.
    auto store = Store::open(dir_.filePath("chatgpt.sqlite"));
    QVERIFY(store);
    const QString path = QStringLiteral(PENSER_TEST_SOURCE_DIR "/fixtures/chatgpt-conversations.json");
    auto report = import_file(**store, path);
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->imported, 2);
    const qint64 cid = report->conversation_ids[0];
    auto shown = (*store)->current_path(cid).value();
    QCOMPARE(shown.size(), 2);
    QVERIFY(shown[0].content.contains("Show me a better one"));
    QCOMPARE((*store)->siblings(shown[0].id)->size(), 2);
    QCOMPARE((*store)->search("median").value().size(), 1);
    QCOMPARE(import_file(**store, path)->skipped, 2);
  }

  void malformedFilesNameThePlace_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    const QByteArray head = R"({"format": "penser.conversations", "version": 1, "conversations": [)";
    const QByteArray conv = R"({"id": "u1", "created_at": "2025-01-01T00:00:00.000Z", "updated_at": "2025-01-01T00:00:00.000Z", "messages": )";
    QTest::newRow("syntax") << QByteArray("{\"format\": \"penser.conversations\",\n  \"version\": 1,\n  \"conversations\": [}")
                            << "not valid JSON at line 3, column";
    QTest::newRow("unknown shape") << QByteArray(R"({"hello": 1})") << "neither a Penser export";
    QTest::newRow("newer version") << QByteArray(R"({"format": "penser.conversations", "version": 7, "conversations": []})")
                                   << "at version: version 7 is not supported";
    QTest::newRow("role") << head + conv + R"([{"id": 1, "role": "robot", "created_at": "2025-01-01T00:00:00Z"}]}]})"
                          << "at conversations[0].messages[0].role: 'robot' is not one of user, assistant, system";
    QTest::newRow("parent") << head + conv + R"([{"id": 1, "parent": 9, "role": "user", "created_at": "2025-01-01T00:00:00Z"}]}]})"
                            << "at conversations[0].messages[0].parent: 9 is not the id of an earlier message";
    QTest::newRow("date") << head + conv + R"([{"id": 1, "role": "user", "created_at": "yesterday"}]}]})"
                          << "at conversations[0].messages[0].created_at: 'yesterday' is not a date";
    QTest::newRow("missing id") << head + R"({"created_at": "2025-01-01T00:00:00Z"}]})"
                                << "at conversations[0].id: missing";
    QTest::newRow("chatgpt parent") << QByteArray(R"([{"title": "T", "mapping": {"a": {"id": "a", "message": null, "parent": "zz", "children": []}}}])")
                                    << "conversation 1 (\"T\"): at [0].mapping.a.parent: 'zz' is not a node";
    QTest::newRow("chatgpt cycle") << QByteArray(R"([{"mapping": {"r": {"parent": null, "children": []}, "a": {"parent": "b", "children": ["b"]}, "b": {"parent": "a", "children": ["a"]}}}])")
                                   << "not reachable from the root";
    QTest::newRow("chatgpt parts") << QByteArray(R"([{"mapping": {"r": {"parent": null, "children": [], "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": [5]}}}}}])")
                                   << "at [0].mapping.r.message.content.parts[0]: expected a text";
  }

  void malformedFilesNameThePlace() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    auto records = parse_import(bytes);
    QVERIFY(!records);
    const QString message = QString::fromStdString(records.error().message);
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void hostileInputNeverCrashes() {
    // Every truncation of both formats is an error with a place, and random byte changes give either
    // records or an error: never a crash or a hang.
    const QByteArray chatgpt = fixture("chatgpt-conversations.json");
    auto penser_json = export_records({penser::test::sample_conversation()}, ExportFormat::Json, {});
    QVERIFY(penser_json);
    for (const QByteArray& whole : {chatgpt, *penser_json}) {
      QVERIFY(parse_import(whole));
      for (qsizetype n = 0; n < whole.size(); n += 53) {
        auto r = parse_import(whole.left(n));
        QVERIFY2(!r, qPrintable(QString("a truncation to %1 bytes was accepted").arg(n)));
        QVERIFY(!r.error().message.empty());
      }
      std::uint32_t seed = 12345;
      for (int i = 0; i < 300; ++i) {
        QByteArray mutated = whole;
        for (int k = 0; k < 4; ++k) {
          seed = seed * 1664525u + 1013904223u;  // a fixed LCG: the same cases every run
          mutated[static_cast<qsizetype>(seed % static_cast<std::uint32_t>(mutated.size()))] =
              static_cast<char>("{}[]\",:0a -"[(seed >> 16) % 12]);
        }
        auto r = parse_import(mutated);
        if (!r) QVERIFY(!r.error().message.empty());
      }
    }
  }

  void nothingIsHalfImported() {
    auto store = Store::open(dir_.filePath("atomic.sqlite"));
    QVERIFY(store);
    // A file whose second conversation is broken: the first is not imported either.
    const QString path = dir_.filePath("half.json");
    {
      ExportOptions options;
      auto bytes = export_records({penser::test::sample_conversation(), penser::test::second_conversation()},
                                  ExportFormat::Json, options);
      QVERIFY(bytes);
      QByteArray broken = *bytes;
      const int at = static_cast<int>(broken.lastIndexOf("\"role\": \"assistant\""));
      QVERIFY(at > 0);
      broken.replace(at, 19, "\"role\": \"narrator\" ");
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(broken);
    }
    auto report = import_file(**store, path);
    QVERIFY(!report);
    const QString message = QString::fromStdString(report.error().message);
    QVERIFY2(message.contains("conversations[1].messages[1].role") && message.contains("Nothing was imported"),
             qPrintable(message));
    QCOMPARE((*store)->conversations()->size(), 0);

    // A failure inside the database transaction rolls back the records already added.
    ConversationRecord bad = penser::test::second_conversation();
    bad.conversation.uuid = "other";
    bad.messages[1].parent_id = 99;  // refers to nothing
    auto partial = (*store)->import_records({penser::test::sample_conversation(), bad});
    QVERIFY(!partial);
    QCOMPARE((*store)->conversations()->size(), 0);
    QCOMPARE((*store)->integrity_check().value(), QStringLiteral("ok"));
  }
};

QTEST_GUILESS_MAIN(TestImport)
#include "test_import.moc"
