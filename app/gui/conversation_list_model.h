// ConversationListModel (QML singleton `Conversations`): the sidebar. Pinned conversations first, then by
// last activity, each in a section by day in local time (Pinned, Today, Yesterday, Previous 7 days, Older).
//
// refresh() reads the list on the storage thread and applies it as moves, inserts, removals and data
// changes (never a reset), so the sidebar keeps its scroll position when a turn ends. remove() hides a row
// at once and deletes it from the database 8 s later unless undoRemove() comes first; commitPendingRemoval()
// deletes it now (at quit).
#pragma once

#include "app/core/async_store.h"

#include <QAbstractListModel>
#include <QDateTime>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <optional>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
  QML_NAMED_ELEMENT(Conversations)
  QML_SINGLETON
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
  Q_PROPERTY(QString pendingRemovalTitle READ pendingRemovalTitle NOTIFY pendingRemovalChanged)
  Q_PROPERTY(qint64 currentId READ currentId NOTIFY currentIdChanged)
 public:
  enum Role {
    ConversationIdRole = Qt::UserRole + 1,
    TitleRole,
    PinnedRole,
    SectionRole,
    UpdatedAtRole,
    MessageCountRole,
    CurrentRole,
  };
  enum class Section { Pinned, Today, Yesterday, Previous7Days, Older };

  explicit ConversationListModel(app::AsyncStore& store, QObject* parent = nullptr);
  ~ConversationListModel() override;
  static ConversationListModel* create(QQmlEngine*, QJSEngine*);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  // The day section of a conversation last active at `updated_at` (ms, UTC), seen at `now` in local time.
  static Section sectionFor(qint64 updated_at, bool pinned, const QDateTime& now);
  static QString sectionName(Section section);
  // Tests pin "now" so the sections do not depend on when they run; invalid: the clock.
  void setNow(const QDateTime& now) { now_ = now; }

  QString pendingRemovalTitle() const { return pending_ ? pending_->title : QString(); }
  qint64 currentId() const { return current_id_; }
  void setCurrentId(qint64 id);
  const app::Conversation& at(int row) const { return rows_.at(row); }
  int rowOf(qint64 id) const;

  Q_INVOKABLE void refresh();
  Q_INVOKABLE void rename(qint64 id, const QString& title);
  Q_INVOKABLE void setPinned(qint64 id, bool pinned);
  Q_INVOKABLE void remove(qint64 id);
  Q_INVOKABLE void undoRemove();
  // Deletes the conversation waiting for its undo now (at quit, and when another one is removed).
  void commitPendingRemoval();

 signals:
  void countChanged();
  void pendingRemovalChanged();
  void currentIdChanged();
  void renamed(qint64 id, const QString& title);
  void removing(qint64 id);   // hidden now; the open chat closes it
  void restored(qint64 id);   // undone
  void refreshed();           // a refresh was applied (tests wait for it)
  void errorOccurred(const QString& message);

 private:
  void apply(QList<app::Conversation> fresh);
  QDateTime now() const { return now_.isValid() ? now_ : QDateTime::currentDateTime(); }

  app::AsyncStore& store_;
  QList<app::Conversation> rows_;
  qint64 current_id_ = 0;
  QDateTime now_;
  quint64 refresh_seq_ = 0;
  std::optional<app::Conversation> pending_;
  QTimer undo_timer_;
  QTimer midnight_;  // sections move at midnight
};

}  // namespace penser::gui
