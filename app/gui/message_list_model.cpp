#include "app/gui/message_list_model.h"

#include <QLocale>

namespace penser::gui {

QString to_string(MessageListModel::Thought thought) {
  switch (thought) {
    case MessageListModel::Thought::None: return QStringLiteral("none");
    case MessageListModel::Thought::Thinking: return QStringLiteral("thinking");
    case MessageListModel::Thought::Done: return QStringLiteral("done");
    case MessageListModel::Thought::Stopped: return QStringLiteral("stopped");
    case MessageListModel::Thought::Interrupted: return QStringLiteral("interrupted");
  }
  return {};
}

MessageListModel::MessageListModel(QObject* parent) : QAbstractListModel(parent) {
  // One frame at 60 Hz: deltas that arrive within a frame reach the view as one change.
  frame_.setInterval(16);
  frame_.setSingleShot(true);
  connect(&frame_, &QTimer::timeout, this, &MessageListModel::flush);
}

int MessageListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(entries_.size());
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
  return {
      {MessageIdRole, "messageId"},
      {RoleRole, "role"},
      {ContentRole, "content"},
      {ThinkingRole, "thinking"},
      {ThinkingStateRole, "thinkingState"},
      {ThinkingSecondsRole, "thinkingSeconds"},
      {StatusRole, "status"},
      {ErrorRole, "error"},
      {BranchIndexRole, "branchIndex"},
      {BranchCountRole, "branchCount"},
      {StatsTextRole, "statsText"},
      {CreatedAtRole, "createdAt"},
  };
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Entry& e = entries_.at(index.row());
  const app::Message& m = e.message;
  switch (role) {
    case MessageIdRole: return m.id;
    case RoleRole: return m.role;
    case Qt::DisplayRole:
    case ContentRole: return m.content;
    case ThinkingRole: return m.thinking;
    case ThinkingStateRole: return to_string(e.thought);
    case ThinkingSecondsRole: return int(m.thinking_ms / 1000);
    case StatusRole: return app::to_string(m.status);
    case ErrorRole: return m.error;
    case BranchIndexRole: return e.branch_index;
    case BranchCountRole: return e.branch_count;
    case StatsTextRole: return stats_text(m);
    case CreatedAtRole: return m.created_at;
    default: return {};
  }
}

MessageListModel::Entry MessageListModel::entry_for(const app::Message& m, int branch_index, int branch_count) {
  Entry e{m, branch_index, branch_count, Thought::None};
  if (!m.thinking.isEmpty()) {
    // An answer that never got past its thought was cut inside it.
    const bool cut_in_thought = m.content.isEmpty();
    if (m.status == app::MessageStatus::Streaming) e.thought = cut_in_thought ? Thought::Thinking : Thought::Done;
    else if (cut_in_thought && m.status == app::MessageStatus::Stopped) e.thought = Thought::Stopped;
    else if (cut_in_thought && m.status == app::MessageStatus::Interrupted) e.thought = Thought::Interrupted;
    else e.thought = Thought::Done;
  }
  return e;
}

QString MessageListModel::stats_text(const app::Message& m) {
  if (m.role != QLatin1String("assistant") || m.status == app::MessageStatus::Streaming) return {};
  const app::GenerationStats& s = m.stats;
  if (s.generated_tokens <= 0) return {};
  const QLocale locale;
  QStringList parts;
  if (s.decode_tps > 0) parts << tr("%1 tok/s").arg(locale.toString(s.decode_tps, 'f', 1));
  parts << tr("%n tokens", nullptr, int(s.generated_tokens));
  if (s.ttft_ms > 0) parts << tr("%1 s to first token").arg(locale.toString(s.ttft_ms / 1000.0, 'f', 1));
  return parts.join(QStringLiteral(" · "));
}

void MessageListModel::reset(const QList<Entry>& entries) {
  frame_.stop();
  dirty_row_ = -1;
  dirty_roles_.clear();
  const int before = int(entries_.size());
  beginResetModel();
  entries_ = entries;
  endResetModel();
  if (before != entries_.size()) emit countChanged();
}

int MessageListModel::append(const Entry& entry) {
  flush();
  const int row = int(entries_.size());
  beginInsertRows({}, row, row);
  entries_.append(entry);
  endInsertRows();
  emit countChanged();
  return row;
}

void MessageListModel::truncate(int rows) {
  if (rows >= entries_.size()) return;
  flush();
  beginRemoveRows({}, rows, int(entries_.size()) - 1);
  entries_.resize(rows);
  endRemoveRows();
  emit countChanged();
}

int MessageListModel::rowOf(qint64 message_id) const {
  if (message_id <= 0) return -1;
  for (int i = int(entries_.size()) - 1; i >= 0; --i) {
    if (entries_[i].message.id == message_id) return i;
  }
  return -1;
}

void MessageListModel::markDirty(int row, int role) {
  if (dirty_row_ != row && dirty_row_ >= 0) flush();
  dirty_row_ = row;
  if (!dirty_roles_.contains(role)) dirty_roles_.append(role);
  if (!frame_.isActive()) frame_.start();
}

void MessageListModel::flush() {
  frame_.stop();
  if (dirty_row_ < 0) return;
  const int row = dirty_row_;
  const QList<int> roles = dirty_roles_;
  dirty_row_ = -1;
  dirty_roles_.clear();
  if (row >= entries_.size()) return;
  ++streaming_signals_;
  emit dataChanged(index(row), index(row), roles);
}

void MessageListModel::appendThinking(int row, const QString& delta) {
  if (row < 0 || row >= entries_.size() || delta.isEmpty()) return;
  Entry& e = entries_[row];
  e.message.thinking += delta;
  markDirty(row, ThinkingRole);
  if (e.thought == Thought::None) {
    e.thought = Thought::Thinking;
    markDirty(row, ThinkingStateRole);
  }
}

void MessageListModel::appendContent(int row, const QString& delta) {
  if (row < 0 || row >= entries_.size() || delta.isEmpty()) return;
  entries_[row].message.content += delta;
  markDirty(row, ContentRole);
}

void MessageListModel::setThought(int row, Thought thought, qint64 thinking_ms) {
  if (row < 0 || row >= entries_.size()) return;
  Entry& e = entries_[row];
  if (e.thought != thought) {
    e.thought = thought;
    markDirty(row, ThinkingStateRole);
  }
  setThinkingMs(row, thinking_ms);
}

void MessageListModel::setThinkingMs(int row, qint64 thinking_ms) {
  if (row < 0 || row >= entries_.size()) return;
  app::Message& m = entries_[row].message;
  const bool seconds_changed = m.thinking_ms / 1000 != thinking_ms / 1000;
  m.thinking_ms = thinking_ms;
  if (seconds_changed) markDirty(row, ThinkingSecondsRole);
}

void MessageListModel::setMessageId(int row, qint64 id, qint64 parent_id) {
  if (row < 0 || row >= entries_.size()) return;
  entries_[row].message.id = id;
  entries_[row].message.parent_id = parent_id;
  emit dataChanged(index(row), index(row), {MessageIdRole});
}

void MessageListModel::setFinished(int row, app::MessageStatus status, const QString& error,
                                   const app::GenerationStats& stats, qint64 thinking_ms) {
  if (row < 0 || row >= entries_.size()) return;
  flush();
  Entry& e = entries_[row];
  e.message.status = status;
  e.message.error = error;
  e.message.stats = stats;
  if (!e.message.thinking.isEmpty()) e.message.thinking_ms = thinking_ms;
  const Thought before = e.thought;
  e = entry_for(e.message, e.branch_index, e.branch_count);
  // A thought that was closed stays "done" even when the answer after it is empty.
  if (before == Thought::Done) e.thought = Thought::Done;
  emit dataChanged(index(row), index(row),
                   {StatusRole, ErrorRole, StatsTextRole, ThinkingStateRole, ThinkingSecondsRole});
}

void MessageListModel::setBranches(int row, int index_1based, int count) {
  if (row < 0 || row >= entries_.size()) return;
  Entry& e = entries_[row];
  if (e.branch_index == index_1based && e.branch_count == count) return;
  e.branch_index = index_1based;
  e.branch_count = count;
  emit dataChanged(index(row), index(row), {BranchIndexRole, BranchCountRole});
}

}  // namespace penser::gui
