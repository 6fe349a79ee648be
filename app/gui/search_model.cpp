#include "app/gui/search_model.h"

#include "app/gui/services.h"

#include <QQmlEngine>

#include <algorithm>

namespace penser::gui {

SearchModel::SearchModel(app::AsyncStore& store, QObject* parent) : QAbstractListModel(parent), store_(store) {
  debounce_.setSingleShot(true);
  debounce_.setInterval(150);  // a keystroke pause, not a typing speed: most words are typed faster
  connect(&debounce_, &QTimer::timeout, this, &SearchModel::run);
}

SearchModel* SearchModel::create(QQmlEngine*, QJSEngine*) {
  Services* s = Services::instance();
  if (!s) qFatal("penser: create gui::Services before the QML engine loads a page that uses Search");
  QQmlEngine::setObjectOwnership(&s->search(), QQmlEngine::CppOwnership);
  return &s->search();
}

int SearchModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(hits_.size()); }

QHash<int, QByteArray> SearchModel::roleNames() const {
  return {
      {ConversationIdRole, "conversationId"}, {MessageIdRole, "messageId"}, {TitleRole, "title"},
      {SnippetRole, "snippet"},               {RoleRole, "role"},           {FieldRole, "field"},
      {CreatedAtRole, "createdAt"},
  };
}

QVariant SearchModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const app::SearchHit& h = hits_.at(index.row());
  switch (role) {
    case ConversationIdRole: return h.conversation_id;
    case MessageIdRole: return h.message_id;
    case Qt::DisplayRole:
    case TitleRole: return h.conversation_title;
    case SnippetRole: return richSnippet(h);
    case RoleRole: return h.role;
    case FieldRole: return h.field;
    case CreatedAtRole: return h.created_at;
    default: return {};
  }
}

QString SearchModel::richSnippet(const app::SearchHit& hit) {
  QList<QPair<int, int>> ranges = hit.highlights;
  std::sort(ranges.begin(), ranges.end());
  const QString& text = hit.snippet;
  QString out;
  int at = 0;
  auto plain = [&](int from, int to) {
    QString part = text.mid(from, to - from).toHtmlEscaped();
    part.replace(QLatin1Char('\n'), QLatin1Char(' '));
    out += part;
  };
  for (const auto& [start, length] : ranges) {
    // Ranges come from the store; clamp them anyway so a bad one cannot cut the text or repeat it.
    const int s = std::clamp(start, at, int(text.size()));
    const int e = std::clamp(start + length, s, int(text.size()));
    if (e == s) continue;
    plain(at, s);
    out += QStringLiteral("<b>");
    plain(s, e);
    out += QStringLiteral("</b>");
    at = e;
  }
  plain(at, int(text.size()));
  return out;
}

void SearchModel::setQuery(const QString& query) {
  if (query == query_) return;
  query_ = query;
  emit queryChanged();
  latest_->fetch_add(1);  // whatever is queued is stale now
  if (app::fts_query(query).isEmpty()) {
    debounce_.stop();
    if (!hits_.isEmpty()) {
      beginResetModel();
      hits_.clear();
      endResetModel();
      emit countChanged();
    }
    setBusy(false);
    emit searched(query_);
    return;
  }
  setBusy(true);
  debounce_.start();
}

void SearchModel::setBusy(bool busy) {
  if (busy == busy_) return;
  busy_ = busy;
  emit busyChanged();
}

void SearchModel::run() {
  const quint64 seq = latest_->fetch_add(1) + 1;
  const QString query = query_;
  std::shared_ptr<std::atomic<quint64>> latest = latest_;
  store_.run(
      [query, seq, latest](app::Store& s) -> Result<QList<app::SearchHit>> {
        if (latest->load() != seq) return QList<app::SearchHit>{};  // superseded before it started
        return s.search(query, 50);
      },
      this, [this, query, seq](Result<QList<app::SearchHit>> r) {
        if (latest_->load() != seq) return;  // superseded while it ran
        setBusy(false);
        if (!r) {
          emit errorOccurred(tr("Search failed: %1").arg(QString::fromStdString(r.error().message)));
          return;
        }
        const bool count_changes = hits_.size() != r->size();
        beginResetModel();
        hits_ = std::move(*r);
        endResetModel();
        if (count_changes) emit countChanged();
        emit searched(query);
      });
}

}  // namespace penser::gui
