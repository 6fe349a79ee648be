#include "app/gui/conversation_list_model.h"

#include "app/gui/services.h"

#include <QQmlEngine>

namespace penser::gui {
namespace {

constexpr int kUndoMs = 8000;

bool same_row(const app::Conversation& a, const app::Conversation& b) {
  return a.id == b.id && a.title == b.title && a.pinned == b.pinned && a.updated_at == b.updated_at &&
         a.message_count == b.message_count;
}

QString to_q(const Error& e) { return QString::fromStdString(e.message); }

}  // namespace

ConversationListModel::ConversationListModel(app::AsyncStore& store, QObject* parent)
    : QAbstractListModel(parent), store_(store) {
  undo_timer_.setSingleShot(true);
  undo_timer_.setInterval(kUndoMs);
  connect(&undo_timer_, &QTimer::timeout, this, &ConversationListModel::commitPendingRemoval);
  // "Today" becomes "Yesterday" at midnight without anything else changing: look again every minute.
  midnight_.setInterval(60 * 1000);
  connect(&midnight_, &QTimer::timeout, this, [this] {
    if (!rows_.isEmpty()) emit dataChanged(index(0), index(int(rows_.size()) - 1), {SectionRole});
  });
  midnight_.start();
}

ConversationListModel::~ConversationListModel() { commitPendingRemoval(); }

ConversationListModel* ConversationListModel::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Conversations");
  QQmlEngine::setObjectOwnership(&s->conversations(), QQmlEngine::CppOwnership);
  return &s->conversations();
}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
  return {
      {ConversationIdRole, "conversationId"}, {TitleRole, "title"},
      {PinnedRole, "pinned"},                 {SectionRole, "section"},
      {UpdatedAtRole, "updatedAt"},           {MessageCountRole, "messageCount"},
      {CurrentRole, "current"},
  };
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const app::Conversation& c = rows_.at(index.row());
  switch (role) {
    case ConversationIdRole: return c.id;
    case Qt::DisplayRole:
    case TitleRole: return c.title.isEmpty() ? tr("New chat") : c.title;
    case PinnedRole: return c.pinned;
    case SectionRole: return sectionName(sectionFor(c.updated_at, c.pinned, now()));
    case UpdatedAtRole: return c.updated_at;
    case MessageCountRole: return c.message_count;
    case CurrentRole: return c.id == current_id_;
    default: return {};
  }
}

ConversationListModel::Section ConversationListModel::sectionFor(qint64 updated_at, bool pinned,
                                                                 const QDateTime& now) {
  if (pinned) return Section::Pinned;
  // Calendar days in local time: a conversation from 23:50 yesterday is "Yesterday" at 00:10.
  const QDate day = QDateTime::fromMSecsSinceEpoch(updated_at).toLocalTime().date();
  const qint64 days = day.daysTo(now.toLocalTime().date());
  if (days <= 0) return Section::Today;
  if (days == 1) return Section::Yesterday;
  if (days <= 7) return Section::Previous7Days;
  return Section::Older;
}

QString ConversationListModel::sectionName(Section section) {
  switch (section) {
    case Section::Pinned: return tr("Pinned");
    case Section::Today: return tr("Today");
    case Section::Yesterday: return tr("Yesterday");
    case Section::Previous7Days: return tr("Previous 7 days");
    case Section::Older: return tr("Older");
  }
  return {};
}

int ConversationListModel::rowOf(qint64 id) const {
  for (int i = 0; i < rows_.size(); ++i) {
    if (rows_[i].id == id) return i;
  }
  return -1;
}

void ConversationListModel::setCurrentId(qint64 id) {
  if (id == current_id_) return;
  const int before = rowOf(current_id_);
  current_id_ = id;
  const int after = rowOf(id);
  if (before >= 0) emit dataChanged(index(before), index(before), {CurrentRole});
  if (after >= 0) emit dataChanged(index(after), index(after), {CurrentRole});
  emit currentIdChanged();
}

void ConversationListModel::refresh() {
  const quint64 seq = ++refresh_seq_;
  store_.run([](app::Store& s) { return s.conversations(); }, this,
             [this, seq](Result<QList<app::Conversation>> r) {
               if (seq != refresh_seq_) return;  // a newer refresh is on its way
               if (!r) return emit errorOccurred(tr("Could not list the conversations: %1").arg(to_q(r.error())));
               apply(std::move(*r));
             });
}

void ConversationListModel::apply(QList<app::Conversation> fresh) {
  if (pending_) fresh.removeIf([this](const app::Conversation& c) { return c.id == pending_->id; });
  const int before = int(rows_.size());
  // Walk the new order: keep, move up, or insert each row in place; what is left at the end is gone.
  for (int i = 0; i < fresh.size(); ++i) {
    const app::Conversation& c = fresh[i];
    if (i < rows_.size() && rows_[i].id == c.id) {
      if (!same_row(rows_[i], c)) {
        rows_[i] = c;
        emit dataChanged(index(i), index(i));
      }
      continue;
    }
    int j = -1;
    for (int k = i + 1; k < rows_.size(); ++k) {
      if (rows_[k].id == c.id) {
        j = k;
        break;
      }
    }
    if (j >= 0) {
      beginMoveRows({}, j, j, {}, i);
      rows_.move(j, i);
      endMoveRows();
      if (!same_row(rows_[i], c)) {
        rows_[i] = c;
        emit dataChanged(index(i), index(i));
      }
    } else {
      beginInsertRows({}, i, i);
      rows_.insert(i, c);
      endInsertRows();
    }
  }
  if (rows_.size() > fresh.size()) {
    beginRemoveRows({}, int(fresh.size()), int(rows_.size()) - 1);
    rows_.resize(fresh.size());
    endRemoveRows();
  }
  if (before != rows_.size()) emit countChanged();
  emit refreshed();
}

void ConversationListModel::rename(qint64 id, const QString& title) {
  const QString clean = title.simplified();
  const int row = rowOf(id);
  if (clean.isEmpty() || row < 0) return;
  rows_[row].title = clean;
  emit dataChanged(index(row), index(row), {TitleRole, Qt::DisplayRole});
  emit renamed(id, clean);
  store_.run([id, clean](app::Store& s) { return s.set_title(id, clean); }, this, [this](Status st) {
    if (!st) emit errorOccurred(tr("Could not rename the conversation: %1").arg(to_q(st.error())));
    refresh();
  });
}

void ConversationListModel::setPinned(qint64 id, bool pinned) {
  if (rowOf(id) < 0) return;
  store_.run([id, pinned](app::Store& s) { return s.set_pinned(id, pinned); }, this, [this](Status st) {
    if (!st) emit errorOccurred(tr("Could not pin the conversation: %1").arg(to_q(st.error())));
    refresh();
  });
}

void ConversationListModel::remove(qint64 id) {
  const int row = rowOf(id);
  if (row < 0) return;
  commitPendingRemoval();  // one undo at a time: an earlier removal is final now
  pending_ = rows_[row];
  beginRemoveRows({}, row, row);
  rows_.removeAt(row);
  endRemoveRows();
  emit countChanged();
  emit pendingRemovalChanged();
  emit removing(id);
  undo_timer_.start();
}

void ConversationListModel::undoRemove() {
  if (!pending_) return;
  undo_timer_.stop();
  const qint64 id = pending_->id;
  pending_.reset();
  emit pendingRemovalChanged();
  emit restored(id);
  refresh();
}

void ConversationListModel::commitPendingRemoval() {
  if (!pending_) return;
  undo_timer_.stop();
  const qint64 id = pending_->id;
  pending_.reset();
  // The storage thread runs this even when the model is gone (AsyncStore finishes its queue on exit).
  store_.run([id](app::Store& s) { return s.delete_conversation(id); }, this, [this](Status st) {
    if (!st) emit errorOccurred(tr("Could not delete the conversation: %1").arg(to_q(st.error())));
  });
  emit pendingRemovalChanged();
}

}  // namespace penser::gui
