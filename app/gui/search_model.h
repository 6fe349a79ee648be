// SearchModel (QML singleton `Search`): full-text search over every conversation as the user types.
// Setting `query` searches 150 ms after the last keystroke, on the storage thread; a newer query supersedes
// an older one (the older one is skipped if it has not started, and its hits are dropped if it has).
#pragma once

#include "app/core/async_store.h"

#include <QAbstractListModel>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <atomic>
#include <memory>

class QQmlEngine;
class QJSEngine;

namespace penser::gui {

class SearchModel : public QAbstractListModel {
  Q_OBJECT
  QML_NAMED_ELEMENT(Search)
  QML_SINGLETON
  Q_PROPERTY(QString query READ query WRITE setQuery NOTIFY queryChanged)
  Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
  Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
 public:
  enum Role {
    ConversationIdRole = Qt::UserRole + 1,
    MessageIdRole,
    TitleRole,
    SnippetRole,
    RoleRole,
    FieldRole,
    CreatedAtRole,
  };

  explicit SearchModel(app::AsyncStore& store, QObject* parent = nullptr);
  static SearchModel* create(QQmlEngine*, QJSEngine*);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;

  QString query() const { return query_; }
  void setQuery(const QString& query);
  bool busy() const { return busy_; }
  const app::SearchHit& at(int row) const { return hits_.at(row); }

  // The snippet as rich text: every character escaped, the matched ranges in <b>, line breaks as spaces.
  static QString richSnippet(const app::SearchHit& hit);

 signals:
  void queryChanged();
  void busyChanged();
  void countChanged();
  void searched(const QString& query);  // hits for `query` are in the model (tests wait for it)
  void errorOccurred(const QString& message);

 private:
  void run();
  void setBusy(bool busy);

  app::AsyncStore& store_;
  QString query_;
  QList<app::SearchHit> hits_;
  bool busy_ = false;
  QTimer debounce_;
  // The number of the newest query; a job whose number is older skips itself on the storage thread.
  std::shared_ptr<std::atomic<quint64>> latest_ = std::make_shared<std::atomic<quint64>>(0);
};

}  // namespace penser::gui
