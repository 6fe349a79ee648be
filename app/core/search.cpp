// Full-text search over answers and thinking (FTS5, see schema v2).
#include "app/core/store.h"

namespace penser::app {
namespace {
// Private-use characters mark the matches inside snippets; they never occur in the stored text's
// highlighted form because snippet() adds them, and they are removed before the text leaves.
constexpr char16_t kOpen = 0xE000;
constexpr char16_t kClose = 0xE001;

// Removes the markers and records where they were.
void unmark(const QString& marked, SearchHit& hit) {
  hit.snippet.clear();
  hit.highlights.clear();
  int start = -1;
  for (QChar ch : marked) {
    if (ch.unicode() == kOpen) {
      start = static_cast<int>(hit.snippet.size());
    } else if (ch.unicode() == kClose) {
      if (start >= 0) hit.highlights.append({start, static_cast<int>(hit.snippet.size()) - start});
      start = -1;
    } else {
      hit.snippet.append(ch);
    }
  }
}
}  // namespace

QString fts_query(const QString& user_query) {
  // Each word becomes a quoted prefix query ("word"*): quoting keeps FTS5 operators and punctuation typed by
  // the user from being read as syntax. Words are ANDed, as FTS5 does by default.
  QStringList terms;
  for (QString word : user_query.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
    word.remove(QLatin1Char('"'));
    bool has_token = false;
    for (QChar ch : word) has_token = has_token || ch.isLetterOrNumber();
    if (!has_token) continue;
    terms << QLatin1Char('"') + word + QStringLiteral("\"*");
  }
  return terms.join(QLatin1Char(' '));
}

Result<QList<SearchHit>> Store::search(const QString& query, int limit) const {
  const QString expr = fts_query(query);
  if (expr.isEmpty()) return QList<SearchHit>{};
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "SELECT m.id, m.conversation_id, c.title, m.role, m.created_at, "
      "  snippet(message_fts, 0, char(57344), char(57345), '…', 24), "
      "  snippet(message_fts, 1, char(57344), char(57345), '…', 24) "
      "FROM message_fts JOIN messages m ON m.id = message_fts.rowid "
      "JOIN conversations c ON c.id = m.conversation_id "
      "WHERE message_fts MATCH ?1 ORDER BY rank LIMIT ?2"));
  s->bind(1, expr).bind(2, limit);
  QList<SearchHit> out;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("searching"));
    if (!row) break;
    SearchHit hit;
    hit.message_id = s->int64(0);
    hit.conversation_id = s->int64(1);
    hit.conversation_title = s->text(2);
    hit.role = s->text(3);
    hit.created_at = s->int64(4);
    const QString content = s->text(5);
    const bool in_content = content.contains(QChar(kOpen));
    hit.field = in_content ? QStringLiteral("content") : QStringLiteral("thinking");
    unmark(in_content ? content : s->text(6), hit);
    out << hit;
  }
  return out;
}

}  // namespace penser::app
