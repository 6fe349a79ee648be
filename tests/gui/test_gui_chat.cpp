// Chat end to end: Services on a temporary data folder (real SQLite file, real storage thread), the real
// Engine thread with a tiny generated model (R1 vocabulary and template) on the CPU backend. A turn thinks
// then answers and is stored with its thinking; stop mid-way is stored as stopped; regenerate and edit make
// branches that switchBranch moves between; a conversation switch stops the answer in progress; a restart
// on the same folder finds everything; search opens a hit at its message; delete with undo; export.
#include "app/gui/chat_controller.h"
#include "app/gui/conversation_list_model.h"
#include "app/gui/export_controller.h"
#include "app/gui/search_model.h"
#include "app/gui/services.h"
#include "tests/gui/chat_fixture.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace penser;
using namespace penser::gui;

namespace {

template <typename Job>
auto sync(app::AsyncStore& store, Job job) {
  using R = std::invoke_result_t<Job, app::Store&>;
  std::optional<R> out;
  QObject context;
  store.run(std::move(job), &context, [&out](R r) { out.emplace(std::move(r)); });
  if (!QTest::qWaitFor([&] { return out.has_value(); }, 10000)) qFatal("the storage thread did not answer in 10 s");
  return std::move(*out);
}

QString row_text(const MessageListModel& m, int row, int role) { return m.index(row).data(role).toString(); }

}  // namespace

class TestGuiChat : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString model_path_;
  QString data_;
  std::unique_ptr<Services> services_;
  qint64 first_conversation_ = 0;
  qint64 stopped_conversation_ = 0;

  ChatController& chat() { return services_->chat(); }
  MessageListModel& rows() { return *services_->chat().messages(); }

  void start_services(bool load_model = true) {
    services_ = std::make_unique<Services>(data_);
    if (load_model) {
      const QString error = testing::load_and_wait(services_->engine(), testing::cpu_load(model_path_));
      QVERIFY2(error.isEmpty(), qPrintable(error));
      QTRY_VERIFY(chat().canSend());
    }
    // Greedy, a short thought and a short answer (the window's Settings are not what this test is about).
    chat().setSettingsSource([] { return testing::greedy(40, 12); }, [] { return QString(); });
  }

  // Waits for the turn in progress to end in the store; returns its status.
  QString wait_turn(QSignalSpy& finished) {
    if (!finished.wait(60000)) return QStringLiteral("<timeout>");
    return finished.last().at(1).toString();
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // the Settings controller's QSettings stay out of the user's
    QVERIFY(dir_.isValid());
    model_path_ = dir_.filePath(QStringLiteral("tiny-r1.gguf"));
    const Status st = testing::write_tiny_r1_model(model_path_);
    QVERIFY2(st, st ? "" : st.error().message.c_str());
    data_ = dir_.filePath(QStringLiteral("data"));
  }

  void refusedDatabaseBecomesANotice() {
    // Not a database: set aside untouched, a fresh one opened beside it, and the window told why.
    const QString folder = dir_.filePath(QStringLiteral("refused"));
    QVERIFY(QDir().mkpath(folder));
    QFile bad(folder + QStringLiteral("/conversations.sqlite"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(QByteArray(8192, 'x'));
    bad.close();
    Services services(folder);
    QSignalSpy opened(&services, &Services::storeOpened);
    QSignalSpy notices(&services.chat(), &ChatController::noticeOccurred);
    QVERIFY(opened.wait(10000));
    QVERIFY(opened.at(0).at(0).toBool());
    const QString problem = opened.at(0).at(1).toString();
    QVERIFY2(!problem.isEmpty(), "a refused file must be explained");
    QCOMPARE(notices.count(), 1);
    QCOMPARE(notices.at(0).at(0).toString(), problem);
    QVERIFY(services.storeReady());
    QCOMPARE(bad.size(), 8192);  // left as it was
    QCOMPARE(QDir(folder).entryList({QStringLiteral("conversations-*.sqlite")}).size(), 1);
  }

  void disabledWithoutAModel() {
    start_services(false);
    QCOMPARE(Services::instance(), services_.get());
    QVERIFY(!chat().canSend());
    QCOMPARE(chat().disabledReason(), QStringLiteral("Open a model to start chatting."));
    QSignalSpy errors(&chat(), &ChatController::errorOccurred);
    chat().send(QStringLiteral("Hello?"));
    QCOMPARE(rows().rowCount(), 0);
    QCOMPARE(errors.count(), 1);
    QTRY_VERIFY(services_->storeReady());
    QVERIFY(QFile::exists(data_ + QStringLiteral("/conversations.sqlite")));
    services_.reset();
    QCOMPARE(Services::instance(), nullptr);
  }

  void sendThinksThenAnswersAndStores() {
    start_services();
    QVERIFY(chat().disabledReason().isEmpty());
    QAbstractItemModelTester tester(&rows(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    // The thought states the view sees, in order.
    QStringList states;
    QObject watching;  // the connection ends with this test function
    connect(&rows(), &QAbstractItemModel::dataChanged, &watching, [&](const QModelIndex& a, const QModelIndex&, const QList<int>& roles) {
      if (a.row() == 1 && roles.contains(MessageListModel::ThinkingStateRole)) {
        states << a.data(MessageListModel::ThinkingStateRole).toString();
      }
    });
    QSignalSpy finished(&chat(), &ChatController::turnFinished);
    QSignalSpy conv(&chat(), &ChatController::conversationIdChanged);

    chat().send(QStringLiteral("Hello there, what is a prime number?"));
    // At once: the question and an empty answer that streams; nothing waited for the disk or the model.
    QCOMPARE(rows().rowCount(), 2);
    QCOMPARE(row_text(rows(), 0, MessageListModel::RoleRole), QStringLiteral("user"));
    QCOMPARE(row_text(rows(), 1, MessageListModel::StatusRole), QStringLiteral("streaming"));
    QVERIFY(chat().generating());
    QVERIFY(!chat().canSend());

    QCOMPARE(wait_turn(finished), QStringLiteral("complete"));
    QVERIFY(!chat().generating());
    QVERIFY(chat().canSend());
    // The view sees the thought's states in order, ending "done". Updates are coalesced per frame, so on a
    // fast machine the 12 thinking tokens fit in one frame and "thinking" is never shown here (an idle
    // machine failed this test 2 runs in 3 when it demanded it); switchingConversationStopsTheAnswer checks
    // the live "thinking" state on a thought that does not end.
    // (The end of the turn repeats the final state with the other finishing roles: "done" twice.)
    QStringList shown;
    for (const QString& st : states)
      if (shown.isEmpty() || shown.last() != st) shown << st;
    QVERIFY2(shown == QStringList({QStringLiteral("thinking"), QStringLiteral("done")}) ||
                 shown == QStringList({QStringLiteral("done")}),
             qPrintable(states.join(',')));
    const QString thinking = row_text(rows(), 1, MessageListModel::ThinkingRole);
    const QString answer = row_text(rows(), 1, MessageListModel::ContentRole);
    QVERIFY(!thinking.isEmpty());
    QVERIFY(!answer.isEmpty());
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("done"));
    QVERIFY(!row_text(rows(), 1, MessageListModel::StatsTextRole).isEmpty());
    QVERIFY(chat().contextUsed() > 0);
    QCOMPARE(chat().contextTotal(), 4096);
    QCOMPARE(chat().prefillProgress(), -1.0);

    // The conversation was created at the first send and titled by the store.
    QVERIFY(chat().conversationId() > 0);
    QCOMPARE(conv.count(), 1);
    QCOMPARE(chat().title(), QStringLiteral("Hello there, what is a prime number?"));
    first_conversation_ = chat().conversationId();
    const qint64 answer_id = rows().at(1).message.id;
    QCOMPARE(finished.last().at(0).toLongLong(), answer_id);

    // Stored: question, then the answer with its thinking, as the view shows them.
    auto path = sync(services_->store(), [c = first_conversation_](app::Store& s) { return s.current_path(c); });
    QVERIFY(path);
    QCOMPARE(path->size(), 2);
    QCOMPARE(path->at(0).id, rows().at(0).message.id);
    QCOMPARE(path->at(1).id, answer_id);
    QCOMPARE(path->at(1).thinking, thinking);
    QCOMPARE(path->at(1).content, answer);
    QCOMPARE(path->at(1).status, app::MessageStatus::Complete);
    QCOMPARE(path->at(1).finish_reason, QStringLiteral("length"));
    QVERIFY(path->at(1).stats.generated_tokens > 0);
    QVERIFY(path->at(1).thinking_ms > 0);

    // The sidebar heard of it and marks it current.
    ConversationListModel& list = services_->conversations();
    QTRY_COMPARE(list.rowCount(), 1);
    QTRY_VERIFY(list.index(0).data(ConversationListModel::CurrentRole).toBool());

    // A second turn builds on the stored answer.
    chat().send(QStringLiteral("And the next one?"));
    QCOMPARE(rows().rowCount(), 4);
    QCOMPARE(wait_turn(finished), QStringLiteral("complete"));
    QCOMPARE(rows().at(2).message.parent_id, answer_id);
    // The rows carry their stored parents without a reload (a regenerate right now builds on them).
    QCOMPARE(rows().at(1).message.parent_id, rows().at(0).message.id);
    QCOMPARE(rows().at(3).message.parent_id, rows().at(2).message.id);
    QCOMPARE(sync(services_->store(), [c = first_conversation_](app::Store& s) { return s.current_path(c); })->size(), 4);

    // Copy: the answer alone, or with its thought in the model's notation.
    QCOMPARE(chat().copyText(answer_id, false), answer);
    QVERIFY(chat().copyText(answer_id, true).startsWith(QStringLiteral("<think>\n")));

    // A new chat's status strip starts blank, not with the last conversation's speed.
    QVERIFY(chat().tokensPerSecond() > 0);
    chat().newChat();
    QCOMPARE(chat().tokensPerSecond(), 0.0);
    QCOMPARE(chat().timeToFirstTokenMs(), 0.0);
    QCOMPARE(chat().contextUsed(), 0);
    chat().open(first_conversation_);  // as the next tests expect
    QTRY_COMPARE(chat().conversationId(), first_conversation_);
    QTRY_VERIFY(chat().tokensPerSecond() > 0);  // its own last answer's figures
  }

  void stopMidwayIsStoredAsStopped() {
    chat().newChat();
    QCOMPARE(rows().rowCount(), 0);
    QCOMPARE(chat().conversationId(), 0);
    chat().setSettingsSource([] { return testing::greedy(4000, -1); }, [] { return QString(); });  // thinks on
    QSignalSpy finished(&chat(), &ChatController::turnFinished);
    chat().send(QStringLiteral("Think about stopping"));
    QTRY_VERIFY_WITH_TIMEOUT(rows().at(1).message.thinking.size() > 40, 30000);
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("thinking"));
    chat().stop();
    QCOMPARE(wait_turn(finished), QStringLiteral("stopped"));
    QCOMPARE(row_text(rows(), 1, MessageListModel::StatusRole), QStringLiteral("stopped"));
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("stopped"));
    stopped_conversation_ = chat().conversationId();
    QVERIFY(stopped_conversation_ > 0 && stopped_conversation_ != first_conversation_);
    auto stored = sync(services_->store(), [id = rows().at(1).message.id](app::Store& s) { return s.message(id); });
    QVERIFY(stored);
    QCOMPARE(stored->status, app::MessageStatus::Stopped);
    QCOMPARE(stored->finish_reason, QStringLiteral("user"));
    QCOMPARE(stored->thinking, rows().at(1).message.thinking);
    QVERIFY(stored->content.isEmpty());
  }

  void regenerateAndEditMakeBranches() {
    chat().setSettingsSource([] { return testing::greedy(24, 8); }, [] { return QString(); });
    QSignalSpy reset(&rows(), &QAbstractItemModel::modelReset);
    chat().open(first_conversation_);
    // Until the conversation is read, nothing may start: the list is about to be replaced.
    QVERIFY(chat().loading());
    QVERIFY(!chat().canSend());
    chat().send(QStringLiteral("too early"));
    QVERIFY(!chat().generating());
    QVERIFY(reset.wait(10000));
    QVERIFY(!chat().loading());
    QVERIFY(chat().canSend());
    QCOMPARE(rows().rowCount(), 4);
    QCOMPARE(chat().conversationId(), first_conversation_);
    const qint64 q1 = rows().at(0).message.id;
    const qint64 a2 = rows().at(3).message.id;
    QSignalSpy finished(&chat(), &ChatController::turnFinished);

    // Regenerate the last answer: a second version of it.
    chat().regenerate(a2);
    QCOMPARE(rows().rowCount(), 4);
    QCOMPARE(rows().at(3).branch_index, 2);
    QCOMPARE(rows().at(3).branch_count, 2);
    QCOMPARE(wait_turn(finished), QStringLiteral("complete"));
    const qint64 a2b = rows().at(3).message.id;
    QVERIFY(a2b != a2);
    QCOMPARE(rows().at(3).message.parent_id, rows().at(2).message.id);

    // Back to the first version and forward again.
    chat().switchBranch(a2b, -1);
    QVERIFY(reset.wait(10000));
    QCOMPARE(rows().at(3).message.id, a2);
    QCOMPARE(rows().at(3).branch_index, 1);
    QCOMPARE(rows().at(3).branch_count, 2);
    chat().switchBranch(a2, +1);
    QVERIFY(reset.wait(10000));
    QCOMPARE(rows().at(3).message.id, a2b);
    chat().switchBranch(a2b, +1);  // there is no third version: nothing happens
    QVERIFY(!reset.wait(300));

    // Edit the first question: a sibling branch with its own answer.
    chat().editAndResend(q1, QStringLiteral("Hello again, what is a composite number?"));
    QCOMPARE(rows().rowCount(), 2);
    QCOMPARE(rows().at(0).branch_index, 2);
    QCOMPARE(rows().at(0).branch_count, 2);
    QCOMPARE(wait_turn(finished), QStringLiteral("complete"));
    const qint64 q1b = rows().at(0).message.id;
    QVERIFY(q1b != q1);
    QCOMPARE(rows().at(0).message.parent_id, 0);
    QVERIFY(!rows().at(1).message.content.isEmpty());
    // The first version of the question comes back with everything that followed it.
    chat().switchBranch(q1b, -1);
    QVERIFY(reset.wait(10000));
    QCOMPARE(rows().rowCount(), 4);
    QCOMPARE(rows().at(0).message.id, q1);
    QCOMPARE(rows().at(3).message.id, a2b);  // the newest branch below it
    // The title stayed the first question's (the store names a conversation once).
    QCOMPARE(chat().title(), QStringLiteral("Hello there, what is a prime number?"));
  }

  void switchingConversationStopsTheAnswer() {
    chat().setSettingsSource([] { return testing::greedy(4000, -1); }, [] { return QString(); });
    QSignalSpy finished(&chat(), &ChatController::turnFinished);
    chat().send(QStringLiteral("A long thought, interrupted by a switch"));
    const qint64 generating_in = first_conversation_;
    QTRY_VERIFY_WITH_TIMEOUT(rows().at(rows().rowCount() - 1).message.thinking.size() > 20, 30000);
    // While the thought streams (no thinking budget: it does not end), the view shows it as live.
    QTRY_COMPARE(row_text(rows(), rows().rowCount() - 1, MessageListModel::ThinkingStateRole), QStringLiteral("thinking"));
    QSignalSpy reset(&rows(), &QAbstractItemModel::modelReset);
    chat().open(stopped_conversation_);  // the window does not wait for the answer to stop
    QCOMPARE(wait_turn(finished), QStringLiteral("stopped"));
    if (reset.isEmpty()) QVERIFY(reset.wait(10000));
    QCOMPARE(chat().conversationId(), stopped_conversation_);
    QCOMPARE(rows().rowCount(), 2);
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("stopped"));
    const qint64 id = finished.last().at(0).toLongLong();
    auto stored = sync(services_->store(), [id](app::Store& s) { return s.message(id); });
    QCOMPARE(stored->conversation_id, generating_in);
    QCOMPARE(stored->status, app::MessageStatus::Stopped);
    QVERIFY(!stored->thinking.isEmpty());
  }

  void restartFindsEverythingAndSearchOpensAHit() {
    services_.reset();
    start_services();
    ConversationListModel& list = services_->conversations();
    QTRY_COMPARE(list.rowCount(), 2);
    QSignalSpy reset(&rows(), &QAbstractItemModel::modelReset);
    chat().open(stopped_conversation_);
    QVERIFY(reset.wait(10000));
    QCOMPARE(row_text(rows(), 0, MessageListModel::ContentRole), QStringLiteral("Think about stopping"));
    QCOMPARE(row_text(rows(), 1, MessageListModel::StatusRole), QStringLiteral("stopped"));
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("stopped"));
    QVERIFY(!rows().at(1).message.thinking.isEmpty());

    chat().open(first_conversation_);
    QVERIFY(reset.wait(10000));
    QCOMPARE(rows().rowCount(), 6);  // the question, its answer, the follow-up, its answer, the stopped turn
    QCOMPARE(row_text(rows(), 1, MessageListModel::ThinkingStateRole), QStringLiteral("done"));
    QVERIFY(!rows().at(1).message.thinking.isEmpty());

    // A search hit on the first version of the second answer opens that branch and scrolls to it.
    SearchModel& search = services_->search();
    QSignalSpy searched(&search, &SearchModel::searched);
    search.setQuery(QStringLiteral("next one"));
    QVERIFY(searched.wait(10000));
    int hit = -1;  // the question (random thinking text could match too)
    for (int i = 0; i < search.rowCount() && hit < 0; ++i) {
      if (search.index(i).data(SearchModel::RoleRole).toString() == QLatin1String("user")) hit = i;
    }
    QVERIFY(hit >= 0);
    const qint64 hit_conversation = search.index(hit).data(SearchModel::ConversationIdRole).toLongLong();
    const qint64 hit_message = search.index(hit).data(SearchModel::MessageIdRole).toLongLong();
    QCOMPARE(hit_conversation, first_conversation_);
    chat().newChat();
    QSignalSpy scrolled(&chat(), &ChatController::scrollToMessage);
    chat().openAt(hit_conversation, hit_message);
    QVERIFY(scrolled.wait(10000));
    const int row = scrolled.last().at(0).toInt();
    QCOMPARE(rows().at(row).message.id, hit_message);
    QCOMPARE(row_text(rows(), row, MessageListModel::ContentRole), QStringLiteral("And the next one?"));
  }

  void deleteMessageAndConversationWithUndo() {
    // Delete the last answer of the open conversation: the view shows what is left.
    const int before = rows().rowCount();
    const qint64 last = rows().at(before - 1).message.id;
    QSignalSpy reset(&rows(), &QAbstractItemModel::modelReset);
    chat().deleteMessage(last);
    QVERIFY(reset.wait(10000));
    QVERIFY(rows().rowOf(last) < 0);
    QVERIFY(!sync(services_->store(), [last](app::Store& s) { return s.message(last); }));

    // Remove the open conversation from the sidebar: the chat closes it; undo brings it back.
    ConversationListModel& list = services_->conversations();
    const int count = list.rowCount();
    list.remove(first_conversation_);
    QCOMPARE(list.rowCount(), count - 1);
    QCOMPARE(chat().conversationId(), 0);
    QCOMPARE(list.pendingRemovalTitle(), QStringLiteral("Hello there, what is a prime number?"));
    QSignalSpy refreshed(&list, &ConversationListModel::refreshed);
    list.undoRemove();
    QVERIFY(refreshed.wait(10000));
    QCOMPARE(list.rowCount(), count);

    // Removed and not undone before quit: gone after a restart.
    list.remove(stopped_conversation_);
    services_.reset();
    start_services(false);
    QTRY_COMPARE(services_->conversations().rowCount(), count - 1);
    QVERIFY(services_->conversations().rowOf(stopped_conversation_) < 0);
    QVERIFY(services_->conversations().rowOf(first_conversation_) >= 0);
  }

  void exportWritesTheConversation() {
    ExportController& exporter = services_->exporter();
    QSignalSpy finished(&exporter, &ExportController::finished);
    const QString path = dir_.filePath(QStringLiteral("first.md"));
    exporter.exportConversation(first_conversation_, QStringLiteral("md"), QUrl::fromLocalFile(path), true);
    QVERIFY(finished.wait(10000));
    QVERIFY2(finished.last().at(0).toBool(), qPrintable(finished.last().at(1).toString()));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("Hello there, what is a prime number?"));
  }

  void cleanupTestCase() { services_.reset(); }
};

QTEST_MAIN(TestGuiChat)
#include "test_gui_chat.moc"
