// End to end: the real window (ui/window.h's load_window, the same call app/main.cpp makes) over a real
// Services on a temporary data folder, a tiny generated model with the R1 vocabulary (so the chat template
// and <think> are the real ones) on the CPU backend, and key events typed into the composer.
//
// One conversation is answered in full; a second is stopped with Esc while its answer streams (seen growing in
// the view, which follows it until the user scrolls up); a third is stopped while its thought streams (seen open
// in the view). Then everything is destroyed and built again on the same folder: the three conversations are in
// the sidebar's model, reopen with their thinking, and the first two are found by search.
#include "app/gui/chat_controller.h"
#include "app/gui/conversation_list_model.h"
#include "app/gui/message_list_model.h"
#include "app/gui/model_controller.h"
#include "app/gui/search_model.h"
#include "app/gui/services.h"
#include "inference/gguf/gguf.h"
#include "inference/model/synth.h"
#include "inference/vulkan/context.h"
#include "tests/test_support.h"
#include "tests/tiny_model.h"
#include "ui/window.h"

#include <QQmlApplicationEngine>
#include <QQmlComponent>
#include <QQmlContext>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QWheelEvent>
#include <QTemporaryDir>
#include <QtQml/qqmlextensionplugin.h>
#include <QtTest>

#include <memory>

Q_IMPORT_QML_PLUGIN(PenserPlugin)
Q_IMPORT_QML_PLUGIN(Penser_GuiPlugin)

using namespace penser;

namespace {

const QString kVocab = QStringLiteral(PENSER_TEST_DATA_DIR "/tokenizer/r1-distill-qwen.vocab.gguf");

// What the test needs from the Models and Settings singletons, asked through QML exactly as the window
// asks: this keeps the test on the documented QML API (docs/gui.md), not on C++ internals.
const char* kHelperQml = R"(
import QtQml
import Penser.Gui
QtObject {
    readonly property bool modelReady: Models.state === Models.Ready
    readonly property bool modelFailed: Models.state === Models.Failed
    readonly property string modelError: Models.error
    readonly property string modelNotice: Models.notice
    readonly property string modelBackend: Models.backend
    function openModel(path) { Models.open(path) }
    function useBackend(name) { Settings.backend = name }
    function configure(budget, maxTokens) {
        Settings.backend = "cpu"
        Settings.contextSize = 2048
        Settings.temperature = 0
        Settings.thinkingBudget = budget
        Settings.maxTokens = maxTokens
    }
}
)";

QString text_of(QObject* item) { return item ? item->property("text").toString() : QString(); }

// Items of the window with this objectName, found through the visual tree (controls such as SplitView and
// Page re-parent their content items without making them QObject children).
void collect(QQuickItem* item, const QString& name, QList<QQuickItem*>& out) {
  if (item->objectName() == name) out << item;
  for (QQuickItem* child : item->childItems()) collect(child, name, out);
}

QList<QQuickItem*> items_named(QQuickWindow* window, const QString& name) {
  QList<QQuickItem*> out;
  collect(window->contentItem(), name, out);
  return out;
}

QQuickItem* item_named(QQuickWindow* window, const QString& name) {
  return items_named(window, name).value(0);
}

// A visible item of that name shows a text that starts with `prefix`.
bool shows(QQuickWindow* window, const QString& name, const QString& prefix) {
  const QList<QQuickItem*> items = items_named(window, name);
  return std::any_of(items.begin(), items.end(),
                     [&](QQuickItem* i) { return i->isVisible() && text_of(i).startsWith(prefix); });
}

// The thinking block is open while the thought streams: "Thinking…" in its header, part of the trace under it.
bool shows_thinking_open(QQuickWindow* window) {
  if (!shows(window, QStringLiteral("thinkingHeaderText"), QStringLiteral("Thinking…"))) return false;
  const QList<QQuickItem*> traces = items_named(window, QStringLiteral("thinkingText"));
  return std::any_of(traces.begin(), traces.end(), [](QQuickItem* t) { return t->isVisible() && !text_of(t).isEmpty(); });
}

// Some answer text is on screen.
bool shows_answer(QQuickWindow* window) {
  const QList<QQuickItem*> prose = items_named(window, QStringLiteral("prose"));
  return std::any_of(prose.begin(), prose.end(), [](QQuickItem* p) { return p->isVisible() && !text_of(p).isEmpty(); });
}

struct Session {
  std::unique_ptr<gui::Services> services;
  std::unique_ptr<QQmlApplicationEngine> engine;
  QObject* helper = nullptr;
  QQuickWindow* window = nullptr;

  gui::ChatController& chat() { return services->chat(); }
};

}  // namespace

class TestE2eWindow : public QObject {
  Q_OBJECT

  QTemporaryDir config_;
  QTemporaryDir data_;
  QTemporaryDir model_dir_;
  QString model_;

  // Builds Services and the window on data_, loads the model and waits until a message can be sent.
  bool start(Session& s) { return start(s, data_.path()); }
  bool start(Session& s, const QString& data_folder) {
    s.services = std::make_unique<gui::Services>(data_folder);
    s.engine = std::make_unique<QQmlApplicationEngine>();
    if (auto status = ui::load_window(*s.engine, *s.services); !status) {
      qWarning("load_window: %s", status.error().message.c_str());
      return false;
    }
    s.window = qobject_cast<QQuickWindow*>(s.engine->rootObjects().value(0));
    if (!s.window) return false;
    QQmlComponent component(s.engine.get());
    component.setData(kHelperQml, QUrl(QStringLiteral("qrc:/e2e/Helper.qml")));
    s.helper = component.create(s.engine->rootContext());
    if (!s.helper) {
      qWarning("%s", qPrintable(component.errorString()));
      return false;
    }
    s.helper->setParent(s.engine.get());
    s.window->show();
    s.window->requestActivate();
    if (!QTest::qWaitForWindowExposed(s.window)) return false;
    return true;
  }

  void load_model(Session& s, int thinking_budget, int max_tokens) {
    QMetaObject::invokeMethod(s.helper, "configure", Q_ARG(QVariant, thinking_budget), Q_ARG(QVariant, max_tokens));
    QMetaObject::invokeMethod(s.helper, "openModel", Q_ARG(QVariant, model_));
    QTRY_VERIFY2_WITH_TIMEOUT(s.helper->property("modelReady").toBool() || s.helper->property("modelFailed").toBool(),
                              "the model did not load", 30000);
    QVERIFY2(s.helper->property("modelReady").toBool(), qPrintable(s.helper->property("modelError").toString()));
    QTRY_VERIFY_WITH_TIMEOUT(s.chat().canSend(), 10000);
  }

  // Types into the composer with key events, as a user does.
  void type_and_send(Session& s, const QString& text) {
    QQuickItem* input = item_named(s.window, QStringLiteral("composerInput"));
    QVERIFY(input);
    QVERIFY(input->isEnabled());
    input->forceActiveFocus();
    QTRY_VERIFY(input->hasActiveFocus());
    // One key event per character (QTest::keyClicks takes only widgets).
    for (const QChar c : text) QTest::keyClick(s.window, c.toLatin1());
    QCOMPARE(text_of(input), text);
    QTest::keyClick(s.window, Qt::Key_Return);
    QCOMPARE(text_of(input), QString());
  }

 private slots:
  void initTestCase() {
    QVERIFY(config_.isValid() && data_.isValid() && model_dir_.isValid());
    // The Settings controller's QSettings must not touch the user's configuration.
    qputenv("XDG_CONFIG_HOME", config_.path().toUtf8());
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("PenserE2e"));
    QCoreApplication::setApplicationName(QStringLiteral("PenserE2e"));

    auto vocab = gguf::File::open(kVocab.toStdString());
    QVERIFY2(vocab, vocab ? "" : vocab.error().message.c_str());
    const model::SynthSpec spec = penser::test_models::tiny_r1_spec(vocab->get(), 11);
    model_ = model_dir_.filePath(QStringLiteral("tiny-r1.gguf"));
    auto written = model::write_synth_model(spec, model_.toStdString());
    QVERIFY2(written, written ? "" : written.error().message.c_str());
  }

  void chat_stop_restart_find() {
    qint64 first_id = 0;
    qint64 second_id = 0;
    qint64 third_id = 0;
    QString first_thinking;
    QString first_answer;
    {
      Session s;
      QVERIFY(start(s));
      // A thinking budget closes the thought of a random-weight model (it would never write </think>).
      load_model(s, 24, 64);
      if (QTest::currentTestFailed()) return;

      QSignalSpy finished(&s.chat(), &gui::ChatController::turnFinished);
      type_and_send(s, QStringLiteral("Why is the sky turquoise?"));
      if (QTest::currentTestFailed()) return;
      QVERIFY(s.chat().generating());
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
      QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("complete"));

      gui::MessageListModel* messages = s.chat().messages();
      QCOMPARE(messages->rowCount(), 2);
      first_id = s.chat().conversationId();
      QVERIFY(first_id > 0);
      const QModelIndex answer = messages->index(1);
      first_thinking = answer.data(gui::MessageListModel::ThinkingRole).toString();
      first_answer = answer.data(gui::MessageListModel::ContentRole).toString();
      QVERIFY(!first_thinking.isEmpty());
      QVERIFY(!first_answer.isEmpty());
      QCOMPARE(answer.data(gui::MessageListModel::ThinkingStateRole).toString(), QStringLiteral("done"));
      // After the answer started the thought collapsed to "Thought for N seconds".
      QTRY_VERIFY(shows(s.window, QStringLiteral("thinkingHeaderText"), QStringLiteral("Thought for")));

      // A second conversation, stopped with Esc while its answer streams (a long answer this time).
      QMetaObject::invokeMethod(s.helper, "configure", Q_ARG(QVariant, 8), Q_ARG(QVariant, 4000));
      s.chat().newChat();
      QCOMPARE(s.chat().messages()->rowCount(), 0);
      type_and_send(s, QStringLiteral("Describe a zeppelin."));
      if (QTest::currentTestFailed()) return;
      QTRY_VERIFY_WITH_TIMEOUT(!messages->index(1).data(gui::MessageListModel::ContentRole).toString().isEmpty(),
                               30000);
      QVERIFY(s.chat().generating());
      // The answer is on screen while it streams (it has thousands of tokens to go).
      QTRY_VERIFY_WITH_TIMEOUT(shows_answer(s.window), 10000);
      QVERIFY(s.chat().generating());

      // While it streams past the bottom of the view, the view follows it...
      QQuickItem* list = item_named(s.window, QStringLiteral("messageList"));
      QQuickItem* chat_view = item_named(s.window, QStringLiteral("chatView"));
      QVERIFY(list && chat_view);
      auto content_height = [&] { return list->property("contentHeight").toReal(); };
      QTRY_VERIFY_WITH_TIMEOUT(content_height() > list->height() + 150, 30000);
      QVERIFY(s.chat().generating());
      QTRY_VERIFY(list->property("atYEnd").toBool());
      QVERIFY(chat_view->property("pinned").toBool());
      // ...until the user scrolls up: then it stays where they put it and offers a way back.
      const QPointF at = list->mapToScene(QPointF(list->width() / 2, list->height() / 2));
      QWheelEvent wheel(at, s.window->mapToGlobal(at), QPoint(), QPoint(0, 360), Qt::NoButton, Qt::NoModifier,
                        Qt::NoScrollPhase, false);
      QCoreApplication::sendEvent(s.window, &wheel);
      QTRY_VERIFY(!chat_view->property("pinned").toBool());
      QTRY_VERIFY(!list->property("moving").toBool());
      QQuickItem* jump = item_named(s.window, QStringLiteral("jumpToLatest"));
      QVERIFY(jump);
      QTRY_VERIFY(jump->isVisible());
      const qreal scrolled_to = list->property("contentY").toReal();
      const qreal height_then = content_height();
      QTRY_VERIFY_WITH_TIMEOUT(content_height() > height_then + 100, 30000);
      QVERIFY(s.chat().generating());
      QCOMPARE(list->property("contentY").toReal(), scrolled_to);
      QVERIFY(!list->property("atYEnd").toBool());
      const QPointF jump_centre = jump->mapToScene(QPointF(jump->width() / 2, jump->height() / 2));
      QTest::mouseClick(s.window, Qt::LeftButton, {}, jump_centre.toPoint());
      QTRY_VERIFY(chat_view->property("pinned").toBool());
      QTRY_VERIFY(list->property("atYEnd").toBool());
      QVERIFY(!jump->isVisible());

      // Esc in the composer stops the answer.
      QQuickItem* input = item_named(s.window, QStringLiteral("composerInput"));
      input->forceActiveFocus();
      QTRY_VERIFY(input->hasActiveFocus());
      QVERIFY(s.chat().generating());
      QTest::keyClick(s.window, Qt::Key_Escape);
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 10000);
      QCOMPARE(finished.at(1).at(1).toString(), QStringLiteral("stopped"));
      QVERIFY(!s.chat().generating());
      second_id = s.chat().conversationId();
      QVERIFY(second_id > 0 && second_id != first_id);
      QTRY_VERIFY(shows(s.window, QStringLiteral("messageState"), QStringLiteral("Stopped")));

      // A third whose thought does not end (no budget: a random-weight model never writes </think>): the
      // thinking block is open, with the trace streaming under "Thinking…". Checked on a thought that is
      // still going, because a short one may start and end within one coalesced frame (MessageListModel),
      // and the view never sees it open: that made this test fail about 1 run in 12 on a loaded machine.
      QMetaObject::invokeMethod(s.helper, "configure", Q_ARG(QVariant, -1), Q_ARG(QVariant, 4000));
      s.chat().newChat();
      type_and_send(s, QStringLiteral("Ponder a lighthouse."));
      if (QTest::currentTestFailed()) return;
      QTRY_VERIFY_WITH_TIMEOUT(shows_thinking_open(s.window), 30000);
      QVERIFY(s.chat().generating());
      QCOMPARE(messages->index(1).data(gui::MessageListModel::ThinkingStateRole).toString(),
               QStringLiteral("thinking"));
      input->forceActiveFocus();
      QTRY_VERIFY(input->hasActiveFocus());
      QTest::keyClick(s.window, Qt::Key_Escape);
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 10000);
      QCOMPARE(finished.at(2).at(1).toString(), QStringLiteral("stopped"));
      third_id = s.chat().conversationId();
      QVERIFY(third_id > 0 && third_id != first_id && third_id != second_id);
      // The window goes first, then Services (the order app/main.cpp keeps).
      s.engine.reset();
      s.services.reset();
    }

    // Start again on the same folder: no model loaded, everything comes from the database.
    Session s;
    QVERIFY(start(s));
    gui::ConversationListModel& conversations = s.services->conversations();
    QTRY_COMPARE_WITH_TIMEOUT(conversations.rowCount(), 3, 10000);
    QSet<qint64> ids;
    for (int row = 0; row < 3; ++row)
      ids.insert(conversations.index(row).data(gui::ConversationListModel::ConversationIdRole).toLongLong());
    QCOMPARE(ids, (QSet<qint64>{first_id, second_id, third_id}));

    // Reopened, the first shows its stored thinking collapsed, and opens on a click.
    s.chat().open(first_id);
    gui::MessageListModel* messages = s.chat().messages();
    QTRY_COMPARE_WITH_TIMEOUT(messages->rowCount(), 2, 10000);
    QCOMPARE(messages->index(1).data(gui::MessageListModel::ThinkingRole).toString(), first_thinking);
    QCOMPARE(messages->index(1).data(gui::MessageListModel::ContentRole).toString(), first_answer);
    QTRY_VERIFY(!s.chat().loading());
    // The view settles (the rows arrive, the list scrolls to the end) before a click can aim at an item.
    QQuickItem* header = nullptr;
    QPointF last_pos(-1, -1);
    int stable = 0;
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
      header = nullptr;
      for (QQuickItem* h : items_named(s.window, QStringLiteral("thinkingHeader")))
        if (h->isVisible()) header = h;
      const QPointF pos = header ? header->mapToScene(QPointF(0, 0)) : QPointF(-1, -1);
      stable = header && pos == last_pos ? stable + 1 : 0;
      last_pos = pos;
      return stable >= 3;
    }()), 10000);
    QQuickItem* block = header->parentItem();
    while (block && !block->property("expanded").isValid()) block = block->parentItem();
    QVERIFY(block);
    QCOMPARE(block->property("expanded").toBool(), false);
    QList<QQuickItem*> header_text;
    collect(header, QStringLiteral("thinkingHeaderText"), header_text);
    QVERIFY(!header_text.isEmpty());
    QVERIFY(text_of(header_text.first()).startsWith("Thought for"));
    const QPointF centre = header->mapToScene(QPointF(header->width() / 2, header->height() / 2));
    QTest::mouseClick(s.window, Qt::LeftButton, {}, centre.toPoint());
    QTRY_COMPARE(block->property("expanded").toBool(), true);

    // The second kept its thinking and its stopped answer.
    s.chat().open(second_id);
    QTRY_COMPARE_WITH_TIMEOUT(messages->rowCount(), 2, 10000);
    QTRY_COMPARE(messages->index(0).data(gui::MessageListModel::ContentRole).toString(),
                 QStringLiteral("Describe a zeppelin."));
    QVERIFY(!messages->index(1).data(gui::MessageListModel::ThinkingRole).toString().isEmpty());
    QCOMPARE(messages->index(1).data(gui::MessageListModel::StatusRole).toString(), QStringLiteral("stopped"));

    // The third kept the thought it was stopped in.
    s.chat().open(third_id);
    QTRY_COMPARE_WITH_TIMEOUT(messages->rowCount(), 2, 10000);
    QTRY_COMPARE(messages->index(0).data(gui::MessageListModel::ContentRole).toString(),
                 QStringLiteral("Ponder a lighthouse."));
    QVERIFY(!messages->index(1).data(gui::MessageListModel::ThinkingRole).toString().isEmpty());
    QCOMPARE(messages->index(1).data(gui::MessageListModel::StatusRole).toString(), QStringLiteral("stopped"));

    // Search finds each conversation by its question, and the first by a word of its thinking.
    gui::SearchModel& search = s.services->search();
    auto hits_for = [&](const QString& query, const QString& field) {
      QSignalSpy searched(&search, &gui::SearchModel::searched);
      search.setQuery(query);
      QSet<qint64> found;
      // `searched` carries the query whose hits are now in the model (an older one's never arrive).
      if (!QTest::qWaitFor([&] { return !searched.isEmpty() && searched.last().at(0).toString() == query; }, 5000))
        return found;
      for (int row = 0; row < search.rowCount(); ++row) {
        const QModelIndex i = search.index(row);
        if (field.isEmpty() || i.data(gui::SearchModel::FieldRole).toString() == field)
          found.insert(i.data(gui::SearchModel::ConversationIdRole).toLongLong());
      }
      return found;
    };
    QVERIFY(hits_for(QStringLiteral("turquoise"), {}).contains(first_id));
    QVERIFY(hits_for(QStringLiteral("zeppelin"), {}).contains(second_id));
    // Greedy decoding of a fixed model: the thought is the same on every run of a machine (another CPU's
    // rounding may pick other tokens); take a Latin word of it, of 4 letters or else of 3.
    QRegularExpressionMatch word = QRegularExpression(QStringLiteral("[A-Za-z]{4,}")).match(first_thinking);
    if (!word.hasMatch()) word = QRegularExpression(QStringLiteral("[A-Za-z]{3,}")).match(first_thinking);
    QVERIFY2(word.hasMatch(), qPrintable(QStringLiteral("no word to search in the thought: ") + first_thinking));
    QVERIFY(hits_for(word.captured(), QStringLiteral("thinking")).contains(first_id));

    s.engine.reset();
    s.services.reset();
  }

  // A lost GPU in the window (PENSER_VK_TEST_LOSE_AFTER=12 in the real Device, since lavapipe cannot lose one:
  // the prompt's 2 submissions and 10 decoded tokens pass). The answer keeps its thinking and says what
  // happened, on screen and in the database; the model shows Loading, then is Ready again on Vulkan with a
  // notice, by itself; the next message is answered.
  void lost_gpu_reloads_and_keeps_the_answer() {
    if (!vulkan::load()) PENSER_SKIP_UNLESS_CI("no Vulkan loader");
    QTemporaryDir data;
    QVERIFY(data.isValid());
    qint64 conversation = 0;
    QString thinking;
    {
      Session s;
      QVERIFY(start(s, data.path()));
      qputenv("PENSER_VK_TEST_LOSE_AFTER", "12");
      QMetaObject::invokeMethod(s.helper, "configure", Q_ARG(QVariant, 24), Q_ARG(QVariant, 64));
      QMetaObject::invokeMethod(s.helper, "useBackend", Q_ARG(QVariant, QStringLiteral("vulkan")));
      QMetaObject::invokeMethod(s.helper, "openModel", Q_ARG(QVariant, model_));
      QTRY_VERIFY_WITH_TIMEOUT(s.helper->property("modelReady").toBool() || s.helper->property("modelFailed").toBool(),
                               30000);
      qunsetenv("PENSER_VK_TEST_LOSE_AFTER");  // read when the device was made: the reload's device works
      QVERIFY2(s.helper->property("modelReady").toBool(), qPrintable(s.helper->property("modelError").toString()));
      QCOMPARE(s.helper->property("modelBackend").toString(), QStringLiteral("Vulkan"));
      QTRY_VERIFY_WITH_TIMEOUT(s.chat().canSend(), 10000);

      gui::ModelController& models = s.services->models();
      QList<gui::ModelController::State> states;
      connect(&models, &gui::ModelController::stateChanged, this, [&] { states << models.state(); });
      QStringList composer_reasons;  // what the composer says while it cannot send
      connect(&s.chat(), &gui::ChatController::canSendChanged, this, [&] {
        if (!s.chat().canSend()) composer_reasons << s.chat().disabledReason();
      });
      QSignalSpy finished(&s.chat(), &gui::ChatController::turnFinished);
      type_and_send(s, QStringLiteral("Why is the sky turquoise?"));
      if (QTest::currentTestFailed()) return;
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
      QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("error"));
      gui::MessageListModel* messages = s.chat().messages();
      QCOMPARE(messages->rowCount(), 2);
      conversation = s.chat().conversationId();
      thinking = messages->index(1).data(gui::MessageListModel::ThinkingRole).toString();
      QVERIFY2(!thinking.isEmpty(), "the thought before the loss is kept");
      QTRY_VERIFY(shows(s.window, QStringLiteral("messageState"), QStringLiteral("The GPU stopped responding")));

      // The reload starts once the worker has torn the lost device down, which may come after the answer's
      // end reached the window (a loaded machine: the clean-clone CI run of 2026-11-29 16:10 saw modelReady
      // still true from before the loss): wait for Loading, then for Ready.
      QTRY_VERIFY_WITH_TIMEOUT(states.contains(gui::ModelController::Loading), 30000);
      QTRY_VERIFY_WITH_TIMEOUT(s.helper->property("modelReady").toBool(), 30000);
      QVERIFY2(composer_reasons.contains(QStringLiteral("The GPU stopped responding: the model is loading again…")),
               qPrintable(composer_reasons.join(QLatin1Char('|'))));
      QCOMPARE(s.helper->property("modelBackend").toString(), QStringLiteral("Vulkan"));
      QVERIFY2(s.helper->property("modelNotice").toString().contains(QStringLiteral("The GPU stopped responding")),
               qPrintable(s.helper->property("modelNotice").toString()));
      QTRY_VERIFY_WITH_TIMEOUT(s.chat().canSend(), 10000);
      type_and_send(s, QStringLiteral("Try again."));
      if (QTest::currentTestFailed()) return;
      QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
      QCOMPARE(finished.at(1).at(1).toString(), QStringLiteral("complete"));
      s.engine.reset();
      s.services.reset();
    }
    // Nothing was lost: the cut answer is in the database with its thinking and its error.
    Session s;
    QVERIFY(start(s, data.path()));
    s.chat().open(conversation);
    gui::MessageListModel* messages = s.chat().messages();
    QTRY_COMPARE_WITH_TIMEOUT(messages->rowCount(), 4, 10000);
    const QModelIndex cut = messages->index(1);
    QCOMPARE(cut.data(gui::MessageListModel::StatusRole).toString(), QStringLiteral("error"));
    QCOMPARE(cut.data(gui::MessageListModel::ThinkingRole).toString(), thinking);
    QVERIFY(cut.data(gui::MessageListModel::ErrorRole).toString().startsWith(QStringLiteral("The GPU stopped responding")));
    s.engine.reset();
    s.services.reset();
  }
};

QTEST_MAIN(TestE2eWindow)
#include "test_e2e_window.moc"
