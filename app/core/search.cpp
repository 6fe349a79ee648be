// Full-text search over answers and thinking (FTS5, see schema v2).
#include "app/core/store.h"

#include <QRegularExpression>

#include <algorithm>

namespace penser::app {
namespace {

// Case- and accent-insensitive form of a word, as the unicode61 tokenizer with remove_diacritics sees it.
QString fold(QStringView word) {
  QString decomposed = word.toString().normalized(QString::NormalizationForm_KD);
  QString out;
  out.reserve(decomposed.size());
  for (QChar ch : decomposed) {
    if (ch.category() != QChar::Mark_NonSpacing) out.append(ch);
  }
  return out.toCaseFolded();
}

bool is_word_char(QChar ch) { return ch.isLetterOrNumber(); }

// The words of the query, folded: "double-check C++" -> double, check, c.
QStringList query_terms(const QString& query) {
  QStringList terms;
  QString word;
  for (QChar ch : query + QLatin1Char(' ')) {
    if (is_word_char(ch)) {
      word.append(ch);
    } else if (!word.isEmpty()) {
      terms << fold(word);
      word.clear();
    }
  }
  return terms;
}

// A short passage of `text` around the first word that starts with a query term, every such word in it
// highlighted, whitespace collapsed. False when the text lacks a word of the query. Computed here rather than with FTS5's
// snippet(), which would evaluate the full-text query again for each result.
bool make_snippet(const QString& text, const QStringList& terms, SearchHit& hit) {
  struct Word {
    qsizetype start;
    qsizetype end;
    bool match;
  };
  QList<Word> words;
  int first = -1;
  for (qsizetype i = 0; i < text.size();) {
    if (!is_word_char(text[i])) {
      ++i;
      continue;
    }
    qsizetype j = i;
    while (j < text.size() && is_word_char(text[j])) ++j;
    const QString folded = fold(QStringView(text).mid(i, j - i));
    bool match = false;
    for (const QString& t : terms) match = match || folded.startsWith(t);
    if (match && first < 0) first = static_cast<int>(words.size());
    words.append({i, j, match});
    i = j;
  }
  if (first < 0) return false;
  // The passage must hold every word of the query, or the match is in the other field.
  for (const QString& t : terms) {
    bool found = false;
    for (const Word& w : words) found = found || (w.match && fold(QStringView(text).mid(w.start, w.end - w.start)).startsWith(t));
    if (!found) return false;
  }
  constexpr int kBefore = 8;
  constexpr int kWords = 28;
  const int a = std::max(0, first - kBefore);
  const int b = std::min(static_cast<int>(words.size()) - 1, a + kWords - 1);
  hit.snippet.clear();
  hit.highlights.clear();
  if (a > 0) hit.snippet += QStringLiteral("…");
  for (int w = a; w <= b; ++w) {
    if (w > a) {
      // The text between two words (spaces, punctuation), with each run of whitespace made one space.
      QString gap = text.mid(words[w - 1].end, words[w].start - words[w - 1].end);
      static const QRegularExpression whitespace(QStringLiteral("\\s+"));
      hit.snippet += gap.replace(whitespace, QStringLiteral(" "));
    }
    const qsizetype at = hit.snippet.size();
    hit.snippet += text.mid(words[w].start, words[w].end - words[w].start);
    if (words[w].match) hit.highlights.append({static_cast<int>(at), static_cast<int>(words[w].end - words[w].start)});
  }
  if (b < words.size() - 1) hit.snippet += QStringLiteral("…");
  return true;
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
  // Ranking every match of a common word (100,000 rows for "the") takes half a second, so the best `limit`
  // are chosen by bm25 among the kCandidates (500) most recent matches, which FTS5 reads newest first and stops
  // early. A word in fewer than kCandidates messages is ranked over all of them.
  constexpr int kCandidates = 500;
  PENSER_ASSIGN_OR_RETURN(auto* top, db_->prepare(
      "SELECT id FROM (SELECT rowid AS id, rank AS score FROM message_fts WHERE message_fts MATCH ?1 "
      "                ORDER BY rowid DESC LIMIT ?2) "
      "ORDER BY score LIMIT ?3"));
  top->bind(1, expr).bind(2, kCandidates).bind(3, limit);
  QList<qint64> ids;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, top->step("searching"));
    if (!row) break;
    ids << top->int64(0);
  }
  // Snippets only for the results shown.
  const QStringList terms = query_terms(query);
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "SELECT m.id, m.conversation_id, c.title, m.role, m.created_at, m.content, m.thinking "
      "FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?1"));
  QList<SearchHit> out;
  for (qint64 id : ids) {
    s->reset();
    s->bind(1, id);
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("searching"));
    if (!row) continue;
    SearchHit hit;
    hit.message_id = s->int64(0);
    hit.conversation_id = s->int64(1);
    hit.conversation_title = s->text(2);
    hit.role = s->text(3);
    hit.created_at = s->int64(4);
    if (make_snippet(s->text(5), terms, hit)) {
      hit.field = QStringLiteral("content");
    } else {
      hit.field = QStringLiteral("thinking");
      if (!make_snippet(s->text(6), terms, hit)) hit.snippet = s->text(6).left(160).simplified();
    }
    out << hit;
  }
  s->reset();
  return out;
}

}  // namespace penser::app
