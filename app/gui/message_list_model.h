// MessageListModel: the branch of the open conversation that is shown, root first (Chat.messages).
//
// Streaming text is appended to a row at once (data() always returns the latest text) but the views hear
// about it at most once per frame: appendThinking/appendContent mark the row dirty and a 16 ms timer emits
// one dataChanged for that row and the roles that changed. A view relayouts one delegate per frame instead
// of once per token, and never the whole list.
#pragma once

#include "app/core/types.h"

#include <QAbstractListModel>
#include <QElapsedTimer>
#include <QList>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace penser::gui {

class MessageListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ANONYMOUS
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
 public:
  enum Role {
    MessageIdRole = Qt::UserRole + 1,
    RoleRole,
    ContentRole,
    ThinkingRole,
    ThinkingStateRole,
    ThinkingSecondsRole,
    StatusRole,
    ErrorRole,
    BranchIndexRole,
    BranchCountRole,
    StatsTextRole,
    CreatedAtRole,
  };

  // How the thought of a message stands; stored messages derive it from their status (see entry_for).
  enum class Thought { None, Thinking, Done, Stopped, Interrupted };

  struct Entry {
    app::Message message;
    int branch_index = 1;  // 1-based position among its siblings
    int branch_count = 1;
    Thought thought = Thought::None;
  };

  explicit MessageListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  // A stored message as the list shows it (its thought state follows from its text and status).
  static Entry entry_for(const app::Message& m, int branch_index = 1, int branch_count = 1);
  static QString stats_text(const app::Message& m);

  void reset(const QList<Entry>& entries);
  void clear() { reset({}); }
  int append(const Entry& entry);
  void truncate(int rows);  // keeps the first `rows` rows

  const Entry& at(int row) const { return entries_.at(row); }
  int rowOf(qint64 message_id) const;  // -1 when absent (0 is never a stored id)

  // Streaming (coalesced per frame).
  void appendThinking(int row, const QString& delta);
  void appendContent(int row, const QString& delta);
  void setThought(int row, Thought thought, qint64 thinking_ms);
  void setThinkingMs(int row, qint64 thinking_ms);  // the live seconds counter
  // Immediate: an id, a status, an error or statistics change once per turn.
  void setMessageId(int row, qint64 id, qint64 parent_id);
  void setFinished(int row, app::MessageStatus status, const QString& error, const app::GenerationStats& stats,
                   qint64 thinking_ms);
  void setBranches(int row, int index, int count);

  // Emits the pending dataChanged now (tests, and before a row is read by a synchronous caller).
  void flush();
  // Number of dataChanged signals emitted for streaming since construction (the benchmark reports it).
  qint64 streamingSignals() const { return streaming_signals_; }

 signals:
  void countChanged();

 private:
  void markDirty(int row, int role);

  QList<Entry> entries_;
  // The one row that streams and the roles that changed since the last frame.
  int dirty_row_ = -1;
  QList<int> dirty_roles_;
  QTimer frame_;
  qint64 streaming_signals_ = 0;
};

QString to_string(MessageListModel::Thought thought);

}  // namespace penser::gui
