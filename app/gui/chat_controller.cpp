#include "app/gui/chat_controller.h"

#include "app/core/stream_saver.h"
#include "app/gui/services.h"

#include <QClipboard>
#include <QDateTime>
#include <QGuiApplication>
#include <QQmlEngine>

namespace penser::gui {

// The storage thread's side of a streaming answer. Created, used and destroyed by storage jobs only; the
// GUI thread holds a shared_ptr to pass it along but never touches what it points to.
struct StreamSink {
  std::unique_ptr<app::StreamSaver> saver;
};

struct ChatController::Generation {
  quint64 id = 0;
  qint64 conversation_id = 0;  // 0 until the store created the conversation
  qint64 assistant_id = 0;     // 0 until begin_streaming returned
  int row = -1;                // the answer's row while shown; -1 once the view moved elsewhere
  std::shared_ptr<StreamSink> sink = std::make_shared<StreamSink>();
  bool in_thought = false;
  bool thought_done = false;
  QElapsedTimer thinking_clock;
  qint64 thinking_ms = 0;
  QString pending_thinking;  // deltas not yet sent to the storage thread
  QString pending_content;
  bool engine_finished = false;  // later engine signals for this id are ignored
  bool store_error_reported = false;
};

// What the storage job that begins a turn returns.
struct ChatController::Begin {
  qint64 conversation_id = 0;
  qint64 user_id = 0;
  qint64 assistant_id = 0;
  QString title;
  int user_branches = 1;
  int assistant_branches = 1;
};

namespace {

// The branch shown, with each message's position among its versions.
struct Loaded {
  app::Conversation conversation;
  QList<MessageListModel::Entry> entries;
  int scroll_row = -1;
};

Result<Loaded> load_path(app::Store& s, qint64 conversation_id, qint64 scroll_to) {
  Loaded out;
  PENSER_ASSIGN_OR_RETURN(out.conversation, s.conversation(conversation_id));
  PENSER_ASSIGN_OR_RETURN(QList<app::Message> path, s.current_path(conversation_id));
  for (const app::Message& m : path) {
    PENSER_ASSIGN_OR_RETURN(QList<qint64> sibs, s.siblings(m.id));
    if (m.id == scroll_to) out.scroll_row = int(out.entries.size());
    out.entries << MessageListModel::entry_for(m, int(sibs.indexOf(m.id)) + 1, int(sibs.size()));
  }
  return out;
}

QString to_q(const Error& e) { return QString::fromStdString(e.message); }

}  // namespace

ChatController::ChatController(app::AsyncStore& store, Engine& engine, QObject* parent)
    : QObject(parent), store_(store), engine_(engine), model_(this) {
  model_ready_ = engine_.isLoaded();
  connect(&engine_, &Engine::loaded, this, [this](const ModelInfo& info) {
    model_name_ = info.name;
    model_path_ = info.path;
    context_total_ = info.n_ctx;
    emit statsChanged();
    model_reloading_ = false;
    setModelReady(true);
  });
  connect(&engine_, &Engine::loadFailed, this, [this] {
    model_reloading_ = false;
    setModelReady(false);
    emit canSendChanged();  // the reason changes even where readiness does not
  });
  connect(&engine_, &Engine::reloading, this, [this] {
    model_reloading_ = true;
    emit canSendChanged();
  });
  connect(&engine_, &Engine::unloaded, this, [this] { setModelReady(false); });
  connect(&engine_, &Engine::thinkingDelta, this, &ChatController::onThinkingDelta);
  connect(&engine_, &Engine::answerDelta, this, &ChatController::onAnswerDelta);
  connect(&engine_, &Engine::statsUpdated, this, &ChatController::onStats);
  connect(&engine_, &Engine::prefillProgress, this, &ChatController::onPrefill);
  connect(&engine_, &Engine::finished, this, &ChatController::onFinished);
  connect(&engine_, &Engine::contextDropped, this, &ChatController::onContextDropped);

  store_timer_.setInterval(100);
  connect(&store_timer_, &QTimer::timeout, this, &ChatController::flushToStore);
  thinking_timer_.setInterval(1000);
  connect(&thinking_timer_, &QTimer::timeout, this, [this] {
    if (gen_ && gen_->in_thought && !gen_->thought_done) model_.setThinkingMs(gen_->row, gen_->thinking_clock.elapsed());
  });
}

ChatController::~ChatController() { shutdown(); }

ChatController* ChatController::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Chat");
  QQmlEngine::setObjectOwnership(&s->chat(), QQmlEngine::CppOwnership);
  return &s->chat();
}

void ChatController::setSettingsSource(std::function<SamplingSettings()> sampling,
                                       std::function<QString()> system_prompt) {
  sampling_ = std::move(sampling);
  system_prompt_ = std::move(system_prompt);
}

QString ChatController::disabledReason() const {
  if (model_ready_) return QString();
  if (model_reloading_) return tr("The GPU stopped responding: the model is loading again…");
  return tr("Open a model to start chatting.");
}

void ChatController::setModelReady(bool ready) {
  if (ready == model_ready_) return;
  model_ready_ = ready;
  emit canSendChanged();
}

void ChatController::setError(const QString& message) {
  last_error_ = message;
  emit lastErrorChanged();
  if (!message.isEmpty()) emit errorOccurred(message);
}

bool ChatController::refuseWhileGenerating() {
  if (!gen_) return false;
  emit noticeOccurred(tr("Stop the answer first."));
  return true;
}

qint64 ChatController::engineKey(qint64 conversation_id) const {
  if (conversation_id != 0 && key_alias_.first == conversation_id) return key_alias_.second;
  return conversation_id;
}

void ChatController::setConversation(qint64 id, const QString& title) {
  if (id != conversation_id_) {
    conversation_id_ = id;
    emit conversationIdChanged();
  }
  if (title != title_) {
    title_ = title;
    emit titleChanged();
  }
}

// Opening conversations -------------------------------------------------------------------------------

void ChatController::newChat() {
  detachGeneration();
  ++load_seq_;
  setLoading(false);
  model_.clear();
  setConversation(0, {});
  context_used_ = 0;
  tokens_per_second_ = 0;  // the status strip shows no other conversation's figures
  ttft_ms_ = 0;
  emit statsChanged();
}

void ChatController::setLoading(bool loading) {
  if (loading == loading_) return;
  loading_ = loading;
  emit loadingChanged();
  emit canSendChanged();
}

quint64 ChatController::beginReload() {
  setLoading(true);
  return ++load_seq_;
}

void ChatController::open(qint64 conversationId) { load(conversationId, 0, 0); }

void ChatController::openAt(qint64 conversationId, qint64 messageId) { load(conversationId, messageId, messageId); }

void ChatController::load(qint64 conversation_id, qint64 show_message_id, qint64 scroll_to) {
  if (conversation_id <= 0) return newChat();
  if (gen_ && gen_->row >= 0 && conversation_id == conversation_id_ &&
      (show_message_id == 0 || model_.rowOf(show_message_id) >= 0)) {
    // The conversation generating is the one shown, on the branch asked for: only a scroll.
    if (scroll_to > 0) emit scrollToMessage(model_.rowOf(scroll_to));
    return;
  }
  if (conversation_id != conversation_id_ || show_message_id > 0) detachGeneration();
  const quint64 seq = beginReload();
  store_.run(
      [conversation_id, show_message_id, scroll_to](app::Store& s) -> Result<Loaded> {
        if (show_message_id > 0) {
          PENSER_ASSIGN_OR_RETURN(app::Message m, s.message(show_message_id));
          if (m.conversation_id != conversation_id) return make_error("that message belongs to another conversation");
          PENSER_TRY(s.show_branch(show_message_id));
        }
        return load_path(s, conversation_id, scroll_to);
      },
      this, [this, seq](Result<Loaded> r) {
        if (seq != load_seq_) return;  // a newer open superseded this one
        setLoading(false);
        if (!r) return setError(tr("Could not open the conversation: %1").arg(to_q(r.error())));
        model_.reset(r->entries);
        setConversation(r->conversation.id, r->conversation.title);
        // The context the conversation filled at its last answer, until the next one says more; no answer
        // with figures leaves the strip blank rather than showing the previous conversation's speed.
        context_used_ = 0;
        tokens_per_second_ = 0;
        ttft_ms_ = 0;
        for (const auto& e : r->entries) {
          if (e.message.role == QLatin1String("assistant") && e.message.stats.prompt_tokens > 0) {
            context_used_ = int(e.message.stats.prompt_tokens + e.message.stats.generated_tokens);
            tokens_per_second_ = e.message.stats.decode_tps;
            ttft_ms_ = e.message.stats.ttft_ms;
          }
        }
        emit statsChanged();
        if (r->scroll_row >= 0) emit scrollToMessage(r->scroll_row);
      });
}

// A turn -----------------------------------------------------------------------------------------------

QList<ChatTurn> ChatController::turnsUpTo(int rows) const {
  QList<ChatTurn> turns;
  const QString system = system_prompt_ ? system_prompt_().trimmed() : QString();
  if (!system.isEmpty()) turns << ChatTurn{QStringLiteral("system"), system};
  for (int i = 0; i < rows && i < model_.rowCount(); ++i) {
    const app::Message& m = model_.at(i).message;
    // R1: earlier answers go back without their thinking; an answer that failed before saying anything
    // is not a turn.
    if (m.role == QLatin1String("system")) continue;
    if (m.role == QLatin1String("assistant") && m.content.isEmpty()) continue;
    turns << ChatTurn{m.role, m.content};
  }
  return turns;
}

void ChatController::send(const QString& text) {
  const QString question = text.trimmed();
  if (question.isEmpty()) return;
  if (!model_ready_) return setError(disabledReason());
  if (refuseWhileGenerating() || loading_) return;
  const int rows = model_.rowCount();
  const qint64 parent = rows > 0 ? model_.at(rows - 1).message.id : 0;
  QList<ChatTurn> turns = turnsUpTo(rows);
  turns << ChatTurn{QStringLiteral("user"), question};

  app::Message user;
  user.role = QStringLiteral("user");
  user.content = question;
  user.parent_id = parent;
  user.created_at = QDateTime::currentMSecsSinceEpoch();
  model_.append(MessageListModel::entry_for(user));
  startTurn(parent, user, turns);
}

void ChatController::regenerate(qint64 assistantMessageId) {
  if (refuseWhileGenerating() || loading_) return;
  if (!model_ready_) return setError(disabledReason());
  const int row = model_.rowOf(assistantMessageId);
  if (row < 0 || model_.at(row).message.role != QLatin1String("assistant")) return;
  const app::Message old = model_.at(row).message;
  const int versions = model_.at(row).branch_count + 1;
  model_.truncate(row);
  startTurn(old.parent_id, std::nullopt, turnsUpTo(row));
  model_.setBranches(model_.rowCount() - 1, versions, versions);
}

void ChatController::editAndResend(qint64 userMessageId, const QString& text) {
  if (refuseWhileGenerating() || loading_) return;
  if (!model_ready_) return setError(disabledReason());
  const QString question = text.trimmed();
  const int row = model_.rowOf(userMessageId);
  if (question.isEmpty() || row < 0 || model_.at(row).message.role != QLatin1String("user")) return;
  const app::Message old = model_.at(row).message;
  const int versions = model_.at(row).branch_count + 1;
  model_.truncate(row);
  QList<ChatTurn> turns = turnsUpTo(row);
  turns << ChatTurn{QStringLiteral("user"), question};
  app::Message user;
  user.role = QStringLiteral("user");
  user.content = question;
  user.parent_id = old.parent_id;
  user.created_at = QDateTime::currentMSecsSinceEpoch();
  model_.append(MessageListModel::entry_for(user, versions, versions));
  startTurn(old.parent_id, user, turns);
}

void ChatController::startTurn(qint64 parent_id, std::optional<app::Message> user, QList<ChatTurn> turns) {
  app::Message answer;
  answer.role = QStringLiteral("assistant");
  answer.status = app::MessageStatus::Streaming;
  answer.model = model_name_;
  answer.created_at = QDateTime::currentMSecsSinceEpoch();
  answer.parent_id = user ? 0 : parent_id;  // the question's id comes with the store's answer

  gen_ = std::make_unique<Generation>();
  gen_->id = next_request_++;
  gen_->conversation_id = conversation_id_;
  gen_->row = model_.append(MessageListModel::entry_for(answer));
  emit generatingChanged();
  emit canSendChanged();
  prefill_progress_ = 0;
  emit prefillProgressChanged();

  if (conversation_id_ == 0) new_chat_key_ = -qint64(gen_->id);  // negative: never a stored id

  GenerateRequest request;
  request.id = gen_->id;
  request.conversation_id = conversation_id_ != 0 ? engineKey(conversation_id_) : new_chat_key_;
  request.turns = std::move(turns);
  request.settings = sampling_ ? sampling_() : SamplingSettings{};
  engine_.generate(request);
  store_timer_.start();

  const qint64 conversation = conversation_id_;
  const QString model_file = model_path_;
  const QString model_name = model_name_;
  std::shared_ptr<StreamSink> sink = gen_->sink;
  const quint64 id = gen_->id;
  store_.run(
      [conversation, parent_id, user, model_file, model_name, sink](app::Store& s) -> Result<Begin> {
        Begin b;
        b.conversation_id = conversation;
        if (b.conversation_id == 0) {
          app::Conversation c;
          c.model_file = model_file;
          c.model_name = model_name;
          PENSER_ASSIGN_OR_RETURN(b.conversation_id, s.create_conversation(c));
        }
        qint64 parent = parent_id;
        if (user) {
          app::Message m = *user;
          m.conversation_id = b.conversation_id;
          PENSER_ASSIGN_OR_RETURN(b.user_id, s.add_message(m));
          PENSER_ASSIGN_OR_RETURN(QList<qint64> sibs, s.siblings(b.user_id));
          b.user_branches = int(sibs.size());
          parent = b.user_id;
        }
        PENSER_ASSIGN_OR_RETURN(b.assistant_id, s.begin_streaming(b.conversation_id, parent, model_name));
        PENSER_ASSIGN_OR_RETURN(QList<qint64> sibs, s.siblings(b.assistant_id));
        b.assistant_branches = int(sibs.size());
        PENSER_ASSIGN_OR_RETURN(app::Conversation c, s.conversation(b.conversation_id));
        b.title = c.title;
        sink->saver = std::make_unique<app::StreamSaver>(s, b.assistant_id);
        return b;
      },
      this, [this, id, parent_id](Result<Begin> r) {
        if (!gen_ || gen_->id != id) return;
        if (!r) {
          // The answer still streams on screen; it cannot be kept. Say so once.
          gen_->store_error_reported = true;
          return setError(tr("The conversation could not be saved: %1").arg(to_q(r.error())));
        }
        const bool new_conversation = gen_->conversation_id == 0;
        gen_->conversation_id = r->conversation_id;
        gen_->assistant_id = r->assistant_id;
        if (new_conversation) key_alias_ = {r->conversation_id, new_chat_key_};
        if (gen_->row >= 0) {
          const int answer_row = gen_->row;
          // A later regenerate or edit of these rows needs their parents as stored.
          model_.setMessageId(answer_row, r->assistant_id, r->user_id > 0 ? r->user_id : parent_id);
          model_.setBranches(answer_row, r->assistant_branches, r->assistant_branches);
          if (r->user_id > 0 && answer_row > 0) {
            model_.setMessageId(answer_row - 1, r->user_id, parent_id);
            model_.setBranches(answer_row - 1, r->user_branches, r->user_branches);
          }
          setConversation(r->conversation_id, r->title);
        }
        emit conversationsChanged();
      });
}

void ChatController::onPrefill(quint64 id, int done, int total) {
  if (!gen_ || gen_->id != id || gen_->engine_finished) return;
  prefill_progress_ = total > 0 ? double(done) / total : -1;
  emit prefillProgressChanged();
}

void ChatController::onThinkingDelta(quint64 id, const QString& text) {
  if (!gen_ || gen_->id != id || gen_->engine_finished) return;
  if (prefill_progress_ >= 0) {
    prefill_progress_ = -1;
    emit prefillProgressChanged();
  }
  if (!gen_->in_thought) {
    gen_->in_thought = true;
    gen_->thinking_clock.start();
    model_.setThought(gen_->row, MessageListModel::Thought::Thinking, 0);
    if (gen_->row >= 0) thinking_timer_.start();
  }
  gen_->pending_thinking += text;
  model_.appendThinking(gen_->row, text);
}

void ChatController::onAnswerDelta(quint64 id, const QString& text) {
  if (!gen_ || gen_->id != id || gen_->engine_finished) return;
  if (prefill_progress_ >= 0) {
    prefill_progress_ = -1;
    emit prefillProgressChanged();
  }
  if (gen_->in_thought && !gen_->thought_done) {
    gen_->thought_done = true;
    gen_->thinking_ms = gen_->thinking_clock.elapsed();
    thinking_timer_.stop();
    model_.setThought(gen_->row, MessageListModel::Thought::Done, gen_->thinking_ms);
  }
  gen_->pending_content += text;
  model_.appendContent(gen_->row, text);
}

void ChatController::onStats(quint64 id, const app::GenerationStats& stats, int used, int total) {
  if (!gen_ || gen_->id != id) return;
  tokens_per_second_ = stats.decode_tps;
  ttft_ms_ = stats.ttft_ms;
  context_used_ = used;
  if (total > 0) context_total_ = total;
  if (gen_->row >= 0) emit statsChanged();
}

void ChatController::onContextDropped(quint64 id, int, const QString& note) {
  if (!gen_ || gen_->id != id) return;
  if (!note.isEmpty()) emit noticeOccurred(note);
}

void ChatController::flushToStore() {
  if (!gen_ || (gen_->pending_thinking.isEmpty() && gen_->pending_content.isEmpty() && gen_->thinking_ms == 0)) {
    return;
  }
  const qint64 thinking_ms =
      gen_->in_thought && !gen_->thought_done ? gen_->thinking_clock.elapsed() : gen_->thinking_ms;
  std::shared_ptr<StreamSink> sink = gen_->sink;
  const QString thinking = std::exchange(gen_->pending_thinking, {});
  const QString content = std::exchange(gen_->pending_content, {});
  const quint64 id = gen_->id;
  store_.run(
      [sink, thinking, content, thinking_ms](app::Store&) -> Result<bool> {
        if (!sink->saver) return false;  // beginning the answer failed (already reported)
        sink->saver->append_thinking(thinking);
        sink->saver->append_content(content);
        if (thinking_ms > 0) sink->saver->set_thinking_ms(thinking_ms);
        return sink->saver->maybe_save();
      },
      this, [this, id](Result<bool> r) {
        // A failed save keeps the text in the saver; the next one retries. Say it once per answer.
        if (r || !gen_ || gen_->id != id || gen_->store_error_reported) return;
        gen_->store_error_reported = true;
        setError(tr("The answer could not be saved yet: %1").arg(to_q(r.error())));
      });
}

void ChatController::onFinished(quint64 id, const FinishInfo& info) {
  if (!gen_ || gen_->id != id || gen_->engine_finished) return;
  app::MessageStatus status = app::MessageStatus::Complete;
  QString reason;
  QString error;
  if (info.reason == QLatin1String("eos")) {
    reason = QStringLiteral("stop");
  } else if (info.reason == QLatin1String("length")) {
    reason = QStringLiteral("length");
  } else if (info.reason == QLatin1String("cancelled")) {
    status = app::MessageStatus::Stopped;
    reason = QStringLiteral("user");
  } else {  // "error", "context_full"
    status = app::MessageStatus::Error;
    reason = QStringLiteral("error");
    error = info.error.isEmpty() ? tr("The model stopped with an error.") : info.error;
  }
  qint64 thinking_ms = info.thinking_ms > 0 ? info.thinking_ms : gen_->thinking_ms;
  if (gen_->in_thought && !gen_->thought_done && thinking_ms == 0) thinking_ms = gen_->thinking_clock.elapsed();
  tokens_per_second_ = info.stats.decode_tps;
  ttft_ms_ = info.stats.ttft_ms;
  if (gen_->row >= 0) emit statsChanged();
  if (status == app::MessageStatus::Error && gen_->row >= 0) setError(error);
  finishTurn(status, reason, error, info.stats, thinking_ms);
}

void ChatController::finishTurn(app::MessageStatus status, const QString& reason, const QString& error,
                                const app::GenerationStats& stats, qint64 thinking_ms) {
  gen_->engine_finished = true;
  gen_->thinking_ms = thinking_ms;
  thinking_timer_.stop();
  store_timer_.stop();
  if (prefill_progress_ >= 0) {
    prefill_progress_ = -1;
    emit prefillProgressChanged();
  }
  flushToStore();
  model_.setFinished(gen_->row, status, error, stats, thinking_ms);

  std::shared_ptr<StreamSink> sink = gen_->sink;
  const quint64 id = gen_->id;
  store_.run(
      [sink, status, reason, error, stats, thinking_ms](app::Store&) -> Result<qint64> {
        if (!sink->saver) return make_error("the answer was never saved");
        sink->saver->set_thinking_ms(thinking_ms);
        PENSER_TRY(sink->saver->finish(status, reason, stats, error));
        const qint64 id = sink->saver->message_id();
        sink->saver.reset();
        return id;
      },
      this, [this, id, status](Result<qint64> r) {
        if (!gen_ || gen_->id != id) return;
        std::unique_ptr<Generation> done = std::move(gen_);
        if (!r && !done->store_error_reported) {
          setError(tr("The answer could not be saved: %1").arg(to_q(r.error())));
        }
        emit generatingChanged();
        emit canSendChanged();
        emit conversationsChanged();
        // Shown again while it was finishing in the background: show what the store now has.
        if (done->row < 0 && done->conversation_id != 0 && done->conversation_id == conversation_id_) {
          load(conversation_id_, 0, 0);
        }
        emit turnFinished(done->assistant_id, app::to_string(status));
      });
}

void ChatController::stop() {
  if (gen_ && !gen_->engine_finished) engine_.stop();
}

void ChatController::detachGeneration() {
  if (!gen_) return;
  if (!gen_->engine_finished) engine_.stop();
  model_.flush();
  gen_->row = -1;
  thinking_timer_.stop();
}

void ChatController::shutdown() {
  if (!gen_ || gen_->engine_finished) return;
  engine_.stop();
  finishTurn(app::MessageStatus::Stopped, QStringLiteral("user"), {}, {}, gen_->thinking_ms);
}

// Branches, deletion, copying ---------------------------------------------------------------------------

void ChatController::switchBranch(qint64 messageId, int delta) {
  if (delta == 0 || refuseWhileGenerating()) return;
  const int row = model_.rowOf(messageId);
  if (row < 0) return;
  const int target = model_.at(row).branch_index + delta;
  if (target < 1 || target > model_.at(row).branch_count) return;
  const qint64 conversation = conversation_id_;
  const quint64 seq = beginReload();
  store_.run(
      [messageId, delta, conversation](app::Store& s) -> Result<Loaded> {
        PENSER_ASSIGN_OR_RETURN(QList<qint64> sibs, s.siblings(messageId));
        const qsizetype i = sibs.indexOf(messageId) + delta;
        if (i < 0 || i >= sibs.size()) return make_error("there is no other version there");
        PENSER_TRY(s.show_branch(sibs[i]));
        return load_path(s, conversation, 0);
      },
      this, [this, seq](Result<Loaded> r) {
        if (seq != load_seq_) return;
        setLoading(false);
        if (!r) return setError(tr("Could not show that version: %1").arg(to_q(r.error())));
        model_.reset(r->entries);
      });
}

void ChatController::deleteMessage(qint64 messageId) {
  if (refuseWhileGenerating()) return;
  if (model_.rowOf(messageId) < 0) return;
  const qint64 conversation = conversation_id_;
  const quint64 seq = beginReload();
  store_.run(
      [messageId, conversation](app::Store& s) -> Result<Loaded> {
        PENSER_TRY(s.delete_message(messageId));
        return load_path(s, conversation, 0);
      },
      this, [this, seq](Result<Loaded> r) {
        if (seq == load_seq_) setLoading(false);
        if (!r) return setError(tr("Could not delete the message: %1").arg(to_q(r.error())));
        emit conversationsChanged();
        if (seq == load_seq_) model_.reset(r->entries);
      });
}

QString ChatController::copyText(qint64 messageId, bool withThinking) const {
  const int row = model_.rowOf(messageId);
  if (row < 0) return {};
  const app::Message& m = model_.at(row).message;
  if (!withThinking || m.thinking.isEmpty()) return m.content;
  // The model's own notation, so a paste elsewhere keeps the thought apart from the answer.
  return QStringLiteral("<think>\n%1\n</think>\n\n%2").arg(m.thinking.trimmed(), m.content);
}

void ChatController::copyMessage(qint64 messageId, bool withThinking) {
  const QString text = copyText(messageId, withThinking);
  if (text.isEmpty()) return;
  if (QClipboard* clipboard = QGuiApplication::clipboard()) clipboard->setText(text);
}

void ChatController::conversationRenamed(qint64 id, const QString& title) {
  if (id == conversation_id_ && id != 0 && title != title_) {
    title_ = title;
    emit titleChanged();
  }
}

void ChatController::conversationRemoved(qint64 id) {
  if (id != 0 && id == conversation_id_) newChat();
}

}  // namespace penser::gui
