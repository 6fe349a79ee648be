// ChatController (QML singleton `Chat`): the open conversation and the turn being generated.
//
// Everything here runs on the GUI thread and waits for nothing: the store's work is queued to the storage
// thread (AsyncStore, calls run in order) and the model's to the engine thread (Engine). A turn:
//   send(text) -> the rows appear at once (the question, an empty streaming answer) and Engine::generate
//   starts; one storage job creates the conversation if needed, stores the question and begins the
//   streaming answer with a StreamSaver that lives on the storage thread. Deltas go to the list model
//   (coalesced per frame) and, every 100 ms, to the saver (which writes every 0.5 s). Engine::finished
//   queues the last text and the finish; the turn ends (generating = false) when the store has it, so the
//   next turn always builds on stored ids.
#pragma once

#include "app/core/async_store.h"
#include "app/gui/engine.h"
#include "app/gui/message_list_model.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <functional>
#include <memory>
#include <optional>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

struct StreamSink;

class ChatController : public QObject {
  Q_OBJECT
  QML_NAMED_ELEMENT(Chat)
  QML_SINGLETON
  Q_PROPERTY(qint64 conversationId READ conversationId NOTIFY conversationIdChanged)
  Q_PROPERTY(QString title READ title NOTIFY titleChanged)
  Q_PROPERTY(penser::gui::MessageListModel* messages READ messages CONSTANT)
  Q_PROPERTY(bool generating READ generating NOTIFY generatingChanged)
  Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)
  Q_PROPERTY(QString disabledReason READ disabledReason NOTIFY canSendChanged)
  Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY statsChanged)
  Q_PROPERTY(double timeToFirstTokenMs READ timeToFirstTokenMs NOTIFY statsChanged)
  Q_PROPERTY(int contextUsed READ contextUsed NOTIFY statsChanged)
  Q_PROPERTY(int contextTotal READ contextTotal NOTIFY statsChanged)
  Q_PROPERTY(double prefillProgress READ prefillProgress NOTIFY prefillProgressChanged)
  Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
  Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)  // reading a conversation or a branch

 public:
  ChatController(app::AsyncStore& store, Engine& engine, QObject* parent = nullptr);
  ~ChatController() override;
  static ChatController* create(QQmlEngine*, QJSEngine*);

  // Where sampling settings and the system prompt come from (Services wires the Settings controller;
  // without a source the R1 defaults and no system prompt are used).
  void setSettingsSource(std::function<SamplingSettings()> sampling, std::function<QString()> system_prompt);

  qint64 conversationId() const { return conversation_id_; }
  QString title() const { return title_; }
  MessageListModel* messages() { return &model_; }
  bool generating() const { return gen_ != nullptr; }
  // Not while a conversation is read: the list is about to be replaced under the new turn's rows.
  bool canSend() const { return model_ready_ && !gen_ && !loading_; }
  QString disabledReason() const;
  double tokensPerSecond() const { return tokens_per_second_; }
  double timeToFirstTokenMs() const { return ttft_ms_; }
  int contextUsed() const { return context_used_; }
  int contextTotal() const { return context_total_; }
  double prefillProgress() const { return prefill_progress_; }
  QString lastError() const { return last_error_; }
  bool loading() const { return loading_; }

  Q_INVOKABLE void newChat();
  Q_INVOKABLE void open(qint64 conversationId);
  Q_INVOKABLE void openAt(qint64 conversationId, qint64 messageId);
  Q_INVOKABLE void send(const QString& text);
  Q_INVOKABLE void stop();
  Q_INVOKABLE void regenerate(qint64 assistantMessageId);
  Q_INVOKABLE void editAndResend(qint64 userMessageId, const QString& text);
  Q_INVOKABLE void switchBranch(qint64 messageId, int delta);
  Q_INVOKABLE void deleteMessage(qint64 messageId);
  Q_INVOKABLE void copyMessage(qint64 messageId, bool withThinking);
  // The text copyMessage puts on the clipboard (also for tests).
  QString copyText(qint64 messageId, bool withThinking) const;

  // The Conversations list renamed or is removing a conversation.
  void conversationRenamed(qint64 id, const QString& title);
  void conversationRemoved(qint64 id);

  // At quit: a running answer is saved as stopped now (the engine's own finish would come too late).
  void shutdown();

 signals:
  void conversationIdChanged();
  void titleChanged();
  void generatingChanged();
  void canSendChanged();
  void statsChanged();
  void prefillProgressChanged();
  void lastErrorChanged();
  void loadingChanged();
  void scrollToMessage(int row);
  void errorOccurred(const QString& message);
  void noticeOccurred(const QString& message);
  // A conversation was created, retitled, grew or lost messages: the sidebar refreshes.
  void conversationsChanged();
  // The turn ended and the store has it (tests and the benchmark wait for this).
  void turnFinished(qint64 assistantMessageId, const QString& status);

 private:
  struct Generation;
  struct Begin;

  void onThinkingDelta(quint64 id, const QString& text);
  void onAnswerDelta(quint64 id, const QString& text);
  void onStats(quint64 id, const app::GenerationStats& stats, int used, int total);
  void onPrefill(quint64 id, int done, int total);
  void onFinished(quint64 id, const FinishInfo& info);
  void onContextDropped(quint64 id, int dropped, const QString& note);
  void setModelReady(bool ready);
  void setLoading(bool loading);
  quint64 beginReload();  // the list is about to be replaced: no turn may start until it is

  // Starts a turn: the rows are already in the model; `user` set when a question is to be stored.
  void startTurn(qint64 parent_id, std::optional<app::Message> user, QList<ChatTurn> turns);
  QList<ChatTurn> turnsUpTo(int rows) const;
  void flushToStore();
  void finishTurn(app::MessageStatus status, const QString& reason, const QString& error,
                  const app::GenerationStats& stats, qint64 thinking_ms);
  // Stops a running turn and lets it finish in the background (its rows are no longer shown).
  void detachGeneration();
  void load(qint64 conversation_id, qint64 show_message_id, qint64 scroll_to_message_id);
  void setConversation(qint64 id, const QString& title);
  void setError(const QString& message);
  bool refuseWhileGenerating();
  qint64 engineKey(qint64 conversation_id) const;

  app::AsyncStore& store_;
  Engine& engine_;
  MessageListModel model_;
  std::function<SamplingSettings()> sampling_;
  std::function<QString()> system_prompt_;

  qint64 conversation_id_ = 0;
  QString title_;
  bool model_ready_ = false;
  bool model_reloading_ = false;  // Engine::reloading until the load ends: the composer says why it waits
  QString model_name_;
  QString model_path_;
  double tokens_per_second_ = 0;
  double ttft_ms_ = 0;
  int context_used_ = 0;
  int context_total_ = 0;
  double prefill_progress_ = -1;
  QString last_error_;
  bool loading_ = false;
  quint64 load_seq_ = 0;

  std::unique_ptr<Generation> gen_;
  quint64 next_request_ = 1;
  // A new chat is generated for before the store has given it an id; this maps the id it then gets to the
  // key the engine knows it by, so the second turn reuses the KV cache.
  qint64 new_chat_key_ = 0;
  std::pair<qint64, qint64> key_alias_{0, 0};
  QTimer store_timer_;     // sends deltas to the storage thread every 100 ms while generating
  QTimer thinking_timer_;  // the live "Thinking… N s" counter
};

}  // namespace penser::gui
