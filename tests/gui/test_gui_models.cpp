// The window's item models and helpers on real SQLite files through the real storage thread:
// MessageListModel (streaming coalesced per frame), ConversationListModel (sections by day with a pinned
// clock, refresh as moves, rename, pin, delete with undo), SearchModel (debounce, superseded queries,
// escaped snippets), Markdown blocks, and the exporter writing a file. QAbstractItemModelTester watches
// every model while it changes.
#include "app/core/async_store.h"
#include "app/gui/conversation_list_model.h"
#include "app/gui/export_controller.h"
#include "app/gui/markdown.h"
#include "app/gui/message_list_model.h"
#include "app/gui/search_model.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QtTest>

using namespace penser;
using namespace penser::gui;
using app::Message;

namespace {

Message msg(qint64 conversation, qint64 parent, const char* role, const QString& text, const QString& thinking = {}) {
  Message m;
  m.conversation_id = conversation;
  m.parent_id = parent;
  m.role = QString::fromLatin1(role);
  m.content = text;
  m.thinking = thinking;
  return m;
}

// Runs a job on the storage thread and waits (in the test, not in the app) for its result.
template <typename Job>
auto sync(app::AsyncStore& store, Job job) {
  using R = std::invoke_result_t<Job, app::Store&>;
  std::optional<R> out;
  QObject context;
  store.run(std::move(job), &context, [&out](R r) { out.emplace(std::move(r)); });
  if (!QTest::qWaitFor([&] { return out.has_value(); }, 10000)) qFatal("the storage thread did not answer in 10 s");
  return std::move(*out);
}

Status set_updated(app::Store& s, qint64 id, qint64 ms) {
  auto st = s.database().prepare("UPDATE conversations SET updated_at = ?2 WHERE id = ?1");
  if (!st) return st.error();
  (*st)->bind(1, id).bind(2, ms);
  return (*st)->run("test: setting updated_at");
}

QStringList column(const QAbstractItemModel& m, const char* role_name) {
  const int role = m.roleNames().key(role_name);
  QStringList out;
  for (int i = 0; i < m.rowCount(); ++i) out << m.index(i, 0).data(role).toString();
  return out;
}

}  // namespace

class TestGuiModels : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  std::unique_ptr<app::AsyncStore> open_store(const char* name) {
    auto store = std::make_unique<app::AsyncStore>();
    bool done = false;
    Status status;
    QObject context;
    store->open(dir_.filePath(QString::fromLatin1(name)), &context, [&](Status st, QString) {
      status = std::move(st);
      done = true;
    });
    if (!QTest::qWaitFor([&] { return done; }, 10000)) qFatal("open: no answer in 10 s");
    if (!status) qFatal("open: %s", status.error().message.c_str());
    return store;
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void messageListStreamsOncePerFrame() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    Message q = msg(1, 0, "user", QStringLiteral("Why?"));
    q.id = 10;
    model.reset({MessageListModel::entry_for(q)});
    Message a = msg(1, 10, "assistant", {});
    a.status = app::MessageStatus::Streaming;
    const int row = model.append(MessageListModel::entry_for(a));
    QCOMPARE(row, 1);
    QCOMPARE(model.index(1).data(MessageListModel::ThinkingStateRole).toString(), QStringLiteral("none"));

    // 500 deltas in one go: the text is there at once, the view hears of it once.
    for (int i = 0; i < 500; ++i) model.appendThinking(row, QStringLiteral("t%1 ").arg(i));
    QVERIFY(model.index(1).data(MessageListModel::ThinkingRole).toString().endsWith(QStringLiteral("t499 ")));
    QCOMPARE(model.index(1).data(MessageListModel::ThinkingStateRole).toString(), QStringLiteral("thinking"));
    QCOMPARE(changed.count(), 0);
    QTRY_COMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);  // one row, never the whole list
    const auto roles = changed.at(0).at(2).value<QList<int>>();
    QVERIFY(roles.contains(MessageListModel::ThinkingRole));
    QVERIFY(!roles.contains(MessageListModel::ContentRole));

    model.setThought(row, MessageListModel::Thought::Done, 2500);
    for (int i = 0; i < 300; ++i) model.appendContent(row, QStringLiteral("a"));
    QTRY_COMPARE(changed.count(), 2);
    QCOMPARE(model.index(1).data(MessageListModel::ThinkingSecondsRole).toInt(), 2);
    QCOMPARE(model.index(1).data(MessageListModel::ContentRole).toString().size(), 300);
    QCOMPARE(model.streamingSignals(), 2);

    app::GenerationStats stats;
    stats.generated_tokens = 412;
    stats.decode_tps = 23.14;
    stats.ttft_ms = 800;
    model.setFinished(row, app::MessageStatus::Complete, {}, stats, 2600);
    QCOMPARE(model.index(1).data(MessageListModel::StatusRole).toString(), QStringLiteral("complete"));
    QCOMPARE(model.index(1).data(MessageListModel::ThinkingStateRole).toString(), QStringLiteral("done"));
    const QString text = model.index(1).data(MessageListModel::StatsTextRole).toString();
    QVERIFY2(text.contains(QStringLiteral("23.1 tok/s")) && text.contains(QStringLiteral("412 tokens")) &&
                 text.contains(QStringLiteral("0.8 s to first token")),
             qPrintable(text));

    model.setBranches(0, 2, 3);
    QCOMPARE(model.index(0).data(MessageListModel::BranchIndexRole).toInt(), 2);
    QCOMPARE(model.index(0).data(MessageListModel::BranchCountRole).toInt(), 3);
    QCOMPARE(model.roleNames().value(MessageListModel::ThinkingStateRole), QByteArray("thinkingState"));
    model.truncate(1);
    QCOMPARE(model.rowCount(), 1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void storedThoughtStates() {
    Message m = msg(1, 0, "assistant", {}, QStringLiteral("hmm"));
    m.status = app::MessageStatus::Stopped;
    QCOMPARE(to_string(MessageListModel::entry_for(m).thought), QStringLiteral("stopped"));
    m.status = app::MessageStatus::Interrupted;
    QCOMPARE(to_string(MessageListModel::entry_for(m).thought), QStringLiteral("interrupted"));
    m.content = QStringLiteral("answer");
    QCOMPARE(to_string(MessageListModel::entry_for(m).thought), QStringLiteral("done"));
    m.thinking.clear();
    QCOMPARE(to_string(MessageListModel::entry_for(m).thought), QStringLiteral("none"));
  }

  void conversationSectionsByDay() {
    // Fixed clock: Sunday 15 March 2026, 12:00 local time.
    const QDateTime now(QDate(2026, 3, 15), QTime(12, 0));
    auto at = [](int y, int mo, int d, int h, int mi) { return QDateTime(QDate(y, mo, d), QTime(h, mi)).toMSecsSinceEpoch(); };
    using S = ConversationListModel::Section;
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 15, 0, 5), false, now), S::Today);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 14, 23, 55), false, now), S::Yesterday);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 14, 0, 0), false, now), S::Yesterday);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 13, 23, 59), false, now), S::Previous7Days);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 8, 1, 0), false, now), S::Previous7Days);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 7, 23, 0), false, now), S::Older);
    QCOMPARE(ConversationListModel::sectionFor(at(2025, 1, 1, 9, 0), true, now), S::Pinned);
    QCOMPARE(ConversationListModel::sectionFor(at(2026, 3, 16, 9, 0), false, now), S::Today);  // clock skew
  }

  void conversationListOnARealFile() {
    auto store = open_store("list.sqlite");
    const QDateTime now(QDate(2026, 3, 15), QTime(12, 0));
    auto day = [&](int days_ago, int hour) {
      return QDateTime(now.date().addDays(-days_ago), QTime(hour, 0)).toMSecsSinceEpoch();
    };
    struct Seed {
      const char* question;
      qint64 updated;
    };
    const QList<Seed> seeds = {{"Old question about lambdas", day(30, 9)},
                               {"Weekly plan", day(4, 10)},
                               {"Late night idea", day(1, 23)},
                               {"Morning coffee chemistry", day(0, 8)}};
    QList<qint64> ids = sync(*store, [seeds](app::Store& s) -> Result<QList<qint64>> {
      QList<qint64> out;
      for (const Seed& seed : seeds) {
        PENSER_ASSIGN_OR_RETURN(qint64 c, s.create_conversation({}));
        PENSER_ASSIGN_OR_RETURN(qint64 q, s.add_message(msg(c, 0, "user", QString::fromLatin1(seed.question))));
        PENSER_TRY(s.add_message(msg(c, q, "assistant", QStringLiteral("An answer."))));
        PENSER_TRY(set_updated(s, c, seed.updated));
        out << c;
      }
      return out;
    }).value();

    ConversationListModel model(*store);
    model.setNow(now);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&model, &ConversationListModel::refreshed);
    model.refresh();
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(column(model, "title"), (QStringList{"Morning coffee chemistry", "Late night idea", "Weekly plan",
                                                  "Old question about lambdas"}));
    QCOMPARE(column(model, "section"), (QStringList{"Today", "Yesterday", "Previous 7 days", "Older"}));
    QCOMPARE(model.index(0).data(ConversationListModel::MessageCountRole).toInt(), 2);

    // Current follows the chat; only the two rows concerned change.
    model.setCurrentId(ids[1]);
    QVERIFY(model.index(2).data(ConversationListModel::CurrentRole).toBool());
    QVERIFY(!model.index(0).data(ConversationListModel::CurrentRole).toBool());

    // Pinning moves the old one to the top in its own section, as a move (the tester checks the signals).
    QSignalSpy moved(&model, &QAbstractItemModel::rowsMoved);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setPinned(ids[0], true);
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(column(model, "title").first(), QStringLiteral("Old question about lambdas"));
    QCOMPARE(column(model, "section").first(), QStringLiteral("Pinned"));
    QCOMPARE(moved.count(), 1);
    QCOMPARE(reset.count(), 0);

    // Rename: shown at once, stored, and said to the chat.
    QSignalSpy renamed(&model, &ConversationListModel::renamed);
    model.rename(ids[2], QStringLiteral("  Ideas   at night "));
    QCOMPARE(renamed.count(), 1);
    QCOMPARE(renamed.at(0).at(1).toString(), QStringLiteral("Ideas at night"));
    QVERIFY(refreshed.wait(10000));
    QVERIFY(column(model, "title").contains(QStringLiteral("Ideas at night")));
    QCOMPARE(sync(*store, [id = ids[2]](app::Store& s) { return s.conversation(id); })->title,
             QStringLiteral("Ideas at night"));

    // Remove: hidden at once, back on undo, and nothing was deleted.
    model.remove(ids[3]);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.pendingRemovalTitle(), QStringLiteral("Morning coffee chemistry"));
    model.refresh();  // a refresh meanwhile keeps it hidden
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(model.rowCount(), 3);
    model.undoRemove();
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.pendingRemovalTitle(), QString());
    QVERIFY(sync(*store, [id = ids[3]](app::Store& s) { return s.conversation(id); }));

    // Remove again and let it go: committed (here at once; in the app after 8 s or at quit).
    model.remove(ids[3]);
    model.commitPendingRemoval();
    QVERIFY(!sync(*store, [id = ids[3]](app::Store& s) { return s.conversation(id); }));
    model.refresh();
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(model.rowCount(), 3);

    // A removal still waiting for its undo is committed when the model goes (quit).
    model.remove(ids[1]);
    {
      ConversationListModel other(*store);  // the destructor path, on a second model over the same store
      other.refresh();
      QSignalSpy r2(&other, &ConversationListModel::refreshed);
      QVERIFY(r2.wait(10000));
      other.remove(ids[2]);
    }
    QVERIFY(!sync(*store, [id = ids[2]](app::Store& s) { return s.conversation(id); }));
    QVERIFY(sync(*store, [id = ids[1]](app::Store& s) { return s.conversation(id); }));  // model still holds it
  }

  void searchDebouncedAndSuperseded() {
    auto store = open_store("search.sqlite");
    const qint64 conversation = sync(*store, [](app::Store& s) -> Result<qint64> {
      PENSER_ASSIGN_OR_RETURN(qint64 c, s.create_conversation({}));
      PENSER_ASSIGN_OR_RETURN(qint64 q, s.add_message(msg(c, 0, "user", QStringLiteral("Tell me about <tags> & zebras"))));
      PENSER_TRY(s.add_message(msg(c, q, "assistant", QStringLiteral("Zebras have stripes."),
                                   QStringLiteral("The user asks about zebras; recall savanna facts."))));
      return c;
    }).value();

    SearchModel model(*store);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy searched(&model, &SearchModel::searched);
    // Typing fast: only the last query runs, after the pause.
    model.setQuery(QStringLiteral("z"));
    model.setQuery(QStringLiteral("ze"));
    model.setQuery(QStringLiteral("zebr"));
    QVERIFY(model.busy());
    QVERIFY(searched.wait(10000));
    QCOMPARE(searched.count(), 1);
    QCOMPARE(searched.at(0).at(0).toString(), QStringLiteral("zebr"));
    QVERIFY(!model.busy());
    QCOMPARE(model.rowCount(), 2);  // one hit per message: the question and the answer
    for (int i = 0; i < model.rowCount(); ++i) {
      QCOMPARE(model.index(i).data(SearchModel::ConversationIdRole).toLongLong(), conversation);
      const QString snippet = model.index(i).data(SearchModel::SnippetRole).toString();
      QVERIFY2(snippet.contains(QStringLiteral("<b>")), qPrintable(snippet));
    }
    QStringList roles = column(model, "role");
    roles.sort();
    QCOMPARE(roles, (QStringList{"assistant", "user"}));
    // The user's own text is escaped: "<tags>" must not become markup.
    const QStringList snippets = column(model, "snippet");
    const auto question = std::find_if(snippets.begin(), snippets.end(),
                                       [](const QString& s) { return s.contains(QStringLiteral("tags")); });
    QVERIFY(question != snippets.end());
    QVERIFY2(question->contains(QStringLiteral("&lt;tags&gt; &amp; <b>zebras</b>")), qPrintable(*question));

    // A query superseded after it was queued never reports. The storage thread is kept busy so that
    // "stripes" is still waiting in the queue when "savanna" replaces it.
    QObject context;
    store->run([](app::Store&) -> Result<bool> { QThread::msleep(400); return true; }, &context, [](Result<bool>) {});
    model.setQuery(QStringLiteral("stripes"));
    QTest::qWait(200);  // its debounce fired: it is queued
    QVERIFY(model.busy());
    model.setQuery(QStringLiteral("savanna"));
    QVERIFY(searched.wait(10000));
    QCOMPARE(searched.last().at(0).toString(), QStringLiteral("savanna"));
    QTest::qWait(300);
    QCOMPARE(searched.count(), 2);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0).data(SearchModel::FieldRole).toString(), QStringLiteral("thinking"));

    // Clearing the field empties the list at once.
    model.setQuery(QString());
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!model.busy());
  }

  void richSnippetClampsRanges() {
    app::SearchHit hit;
    hit.snippet = QStringLiteral("a<b\nzebra");
    hit.highlights = {{4, 5}, {0, 1}, {7, 99}};
    QCOMPARE(SearchModel::richSnippet(hit), QStringLiteral("<b>a</b>&lt;b <b>zebra</b>"));
  }

  void markdownBlocks() {
    const QString text = QStringLiteral(
        "Here is code:\n\n```cpp\nint main() {\n  return 0;\n}\n```\n\nAnd after.\n~~~\nplain\n~~~~\n"
        "Inline ``` not a fence ```?\n    ```\nindented 4: not a fence\n\n```python\nprint(1)");
    const QList<MarkdownBlock> b = split_markdown(text);
    QCOMPARE(b.size(), 6);
    QCOMPARE(b[0].kind, QStringLiteral("text"));
    QCOMPARE(b[0].text, QStringLiteral("Here is code:"));
    QCOMPARE(b[1].kind, QStringLiteral("code"));
    QCOMPARE(b[1].language, QStringLiteral("cpp"));
    QCOMPARE(b[1].text, QStringLiteral("int main() {\n  return 0;\n}"));
    QVERIFY(b[1].closed);
    QCOMPARE(b[2].text, QStringLiteral("And after."));
    QCOMPARE(b[3].kind, QStringLiteral("code"));
    QCOMPARE(b[3].text, QStringLiteral("plain"));
    QCOMPARE(b[4].kind, QStringLiteral("text"));
    QVERIFY(b[4].text.startsWith(QStringLiteral("Inline")));
    QVERIFY(b[4].text.contains(QStringLiteral("indented 4")));
    QCOMPARE(b[5].language, QStringLiteral("python"));
    QVERIFY(!b[5].closed);
    // The unclosed fence of an answer still streaming is code already.
    const QList<MarkdownBlock> open = split_markdown(QStringLiteral("Run:\n```python\nprint(1)"));
    QCOMPARE(open.size(), 2);
    QCOMPARE(open[1].text, QStringLiteral("print(1)"));
    QVERIFY(!open[1].closed);
    // Paragraphs are blocks of their own, except where a cut could change the rendering: before a list
    // item (a loose list may go on), an indented continuation, a quote.
    const QList<MarkdownBlock> p = split_markdown(QStringLiteral(
        "# Title\n\nFirst paragraph\nstill first.\n\n\n1. one\n\n2. two\n\n   continued item\n\n"
        "> quote\n\n> more quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nLast words"));
    QStringList texts;
    for (const MarkdownBlock& x : p) texts << x.text;
    QCOMPARE(texts, (QStringList{"# Title",
                                 "First paragraph\nstill first.\n\n\n1. one\n\n2. two\n\n   continued item\n\n"
                                 "> quote\n\n> more quote",
                                 "| a | b |\n|---|---|\n| 1 | 2 |", "Last words"}));

    Markdown md;
    const QVariantList list = md.blocks(QStringLiteral("x\n```\ny\n```"));
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[1].toMap().value(QStringLiteral("kind")).toString(), QStringLiteral("code"));
    QCOMPARE(list[1].toMap().value(QStringLiteral("language")).toString(), QString());
    QVERIFY(md.blocks(QString()).isEmpty());
  }

  void markdownBlocksModelChangesInPlace() {
    MarkdownBlocks blocks;
    QAbstractItemModelTester tester(&blocks, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy changed(&blocks, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&blocks, &QAbstractItemModel::rowsInserted);
    QSignalSpy reset(&blocks, &QAbstractItemModel::modelReset);
    // An answer streaming in: each step is what the view sees after one frame.
    const QStringList frames = {"First para", "First paragraph.\n\nSecond", "First paragraph.\n\nSecond one.\n```py",
                                "First paragraph.\n\nSecond one.\n```py\nprint(1)\n```", "Short"};
    blocks.setText(frames[0]);
    QCOMPARE(blocks.rowCount(), 1);
    QCOMPARE(inserted.count(), 1);
    blocks.setText(frames[1]);
    QCOMPARE(blocks.rowCount(), 2);
    QCOMPARE(changed.count(), 1);  // the first paragraph grew; the second is new
    QCOMPARE(changed.last().at(0).toModelIndex().row(), 0);
    blocks.setText(frames[2]);
    QCOMPARE(blocks.rowCount(), 3);
    QCOMPARE(changed.last().at(0).toModelIndex().row(), 1);
    QCOMPARE(changed.count(), 2);  // the first paragraph is unchanged: nothing for it
    QCOMPARE(blocks.index(2).data(MarkdownBlocks::KindRole).toString(), QStringLiteral("code"));
    QCOMPARE(blocks.index(2).data(MarkdownBlocks::ClosedRole).toBool(), false);
    blocks.setText(frames[3]);
    QCOMPARE(changed.count(), 3);
    QCOMPARE(blocks.index(2).data(MarkdownBlocks::TextRole).toString(), QStringLiteral("print(1)"));
    QCOMPARE(blocks.index(2).data(MarkdownBlocks::LanguageRole).toString(), QStringLiteral("py"));
    QVERIFY(blocks.index(2).data(MarkdownBlocks::ClosedRole).toBool());
    blocks.setText(frames[4]);  // regenerated from scratch: fewer blocks
    QCOMPARE(blocks.rowCount(), 1);
    QCOMPARE(blocks.index(0).data(MarkdownBlocks::TextRole).toString(), QStringLiteral("Short"));
    QCOMPARE(reset.count(), 0);
  }

  void exportWritesAFile() {
    auto store = open_store("export.sqlite");
    const qint64 c = sync(*store, [](app::Store& s) -> Result<qint64> {
      PENSER_ASSIGN_OR_RETURN(qint64 c, s.create_conversation({}));
      PENSER_ASSIGN_OR_RETURN(qint64 q, s.add_message(msg(c, 0, "user", QStringLiteral("Export me"))));
      PENSER_TRY(s.add_message(msg(c, q, "assistant", QStringLiteral("Exported answer"), QStringLiteral("secret thought"))));
      return c;
    }).value();
    ExportController exporter(*store);
    QCOMPARE(exporter.formats().size(), 5);
    QSignalSpy finished(&exporter, &ExportController::finished);
    QSignalSpy busy(&exporter, &ExportController::busyChanged);

    const QString md = dir_.filePath(QStringLiteral("one"));  // no suffix: the format's is added
    exporter.exportConversation(c, QStringLiteral("md"), QUrl::fromLocalFile(md), false);
    QVERIFY(exporter.busy());
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().at(0).toBool(), qPrintable(finished.last().at(1).toString()));
    QVERIFY(!exporter.busy());
    QCOMPARE(busy.count(), 2);
    QFile f(md + QStringLiteral(".md"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    QVERIFY(bytes.contains("Exported answer"));
    QVERIFY(!bytes.contains("secret thought"));

    const QString json = dir_.filePath(QStringLiteral("all.json"));
    exporter.exportAll(QStringLiteral("json"), json, true);
    QVERIFY(finished.wait(10000));
    QVERIFY(finished.last().at(0).toBool());
    QVERIFY(finished.last().at(1).toString().contains(QStringLiteral("all.json")));
    QFile j(json);
    QVERIFY(j.open(QIODevice::ReadOnly));
    QVERIFY(j.readAll().contains("secret thought"));

    // Errors are sentences, not silence.
    exporter.exportAll(QStringLiteral("docx"), json, true);
    QCOMPARE(finished.last().at(0).toBool(), false);
    QVERIFY(finished.last().at(1).toString().contains(QStringLiteral("docx")));
    exporter.exportAll(QStringLiteral("md"), dir_.filePath(QStringLiteral("missing/dir/x.md")), true);
    QVERIFY(finished.wait(10000));
    QCOMPARE(finished.last().at(0).toBool(), false);
    exporter.exportConversation(0, QStringLiteral("md"), md, true);
    QCOMPARE(finished.last().at(0).toBool(), false);
  }
};

QTEST_MAIN(TestGuiModels)
#include "test_gui_models.moc"
