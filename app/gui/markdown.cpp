#include "app/gui/markdown.h"

#include "app/gui/services.h"

#include <QQmlEngine>
#include <QVariantMap>

#include <algorithm>

namespace penser::gui {
namespace {

struct Fence {
  QChar ch;
  int length = 0;
  QString info;
};

// The opening fence on this line, if it is one.
bool opening_fence(const QString& line, Fence& fence) {
  int i = 0;
  while (i < line.size() && i < 4 && line[i] == QLatin1Char(' ')) ++i;
  if (i > 3 || i >= line.size()) return false;
  const QChar ch = line[i];
  if (ch != QLatin1Char('`') && ch != QLatin1Char('~')) return false;
  int n = 0;
  while (i + n < line.size() && line[i + n] == ch) ++n;
  if (n < 3) return false;
  const QString info = line.mid(i + n).trimmed();
  // A backtick fence's info string cannot contain a backtick (it would be inline code).
  if (ch == QLatin1Char('`') && info.contains(QLatin1Char('`'))) return false;
  fence = {ch, n, info};
  return true;
}

bool closing_fence(const QString& line, const Fence& fence) {
  int i = 0;
  while (i < line.size() && i < 4 && line[i] == QLatin1Char(' ')) ++i;
  if (i > 3) return false;
  int n = 0;
  while (i + n < line.size() && line[i + n] == fence.ch) ++n;
  return n >= fence.length && line.mid(i + n).trimmed().isEmpty();
}

// A line that starts a list item ("- ", "* ", "+ ", "1. ", "2) "): after a blank line it may continue a
// loose list, so no split happens before it.
bool list_item(const QString& line) {
  if (line.isEmpty()) return false;
  int i = 0;
  if (line[0] == QLatin1Char('-') || line[0] == QLatin1Char('*') || line[0] == QLatin1Char('+')) {
    i = 1;
  } else {
    while (i < line.size() && i < 9 && line[i].isDigit()) ++i;
    if (i == 0 || i >= line.size() || (line[i] != QLatin1Char('.') && line[i] != QLatin1Char(')'))) return false;
    ++i;
  }
  return i >= line.size() || line[i] == QLatin1Char(' ') || line[i] == QLatin1Char('\t');
}

// Prose is cut into paragraphs where that cannot change how it renders: at a blank line followed by a
// line that starts at column 0 and is not a list item (CommonMark closes every open block there, lists
// and quotes included). While an answer streams only its last paragraph changes, so the view lays out
// one paragraph per frame instead of the whole answer.
void append_paragraphs(QList<MarkdownBlock>& blocks, const QStringList& prose) {
  QStringList para;
  bool after_blank = false;
  auto emit_para = [&] {
    while (!para.isEmpty() && para.last().trimmed().isEmpty()) para.removeLast();
    if (!para.isEmpty()) blocks.append({QStringLiteral("text"), para.join(QLatin1Char('\n')), {}, true});
    para.clear();
  };
  for (const QString& line : prose) {
    if (line.trimmed().isEmpty()) {
      after_blank = true;
      if (!para.isEmpty()) para << line;
      continue;
    }
    const bool column0 = !line[0].isSpace();
    if (after_blank && column0 && !list_item(line) && line[0] != QLatin1Char('>')) emit_para();
    after_blank = false;
    para << line;
  }
  emit_para();
}

}  // namespace

QList<MarkdownBlock> split_markdown(const QString& text) {
  QList<MarkdownBlock> blocks;
  const QStringList lines = text.split(QLatin1Char('\n'));
  QStringList prose;
  QStringList code;
  Fence fence;
  bool in_code = false;
  auto flush_prose = [&] {
    append_paragraphs(blocks, prose);
    prose.clear();
  };
  for (const QString& line : lines) {
    if (!in_code) {
      if (opening_fence(line, fence)) {
        flush_prose();
        in_code = true;
        code.clear();
      } else {
        prose << line;
      }
    } else if (closing_fence(line, fence)) {
      blocks.append({QStringLiteral("code"), code.join(QLatin1Char('\n')), fence.info.section(QLatin1Char(' '), 0, 0),
                     true});
      in_code = false;
    } else {
      code << line;
    }
  }
  if (in_code) {
    blocks.append({QStringLiteral("code"), code.join(QLatin1Char('\n')), fence.info.section(QLatin1Char(' '), 0, 0),
                   false});
  } else {
    flush_prose();
  }
  return blocks;
}

Markdown* Markdown::create(QQmlEngine*, QJSEngine*) {
  // Markdown needs nothing from Services: a QML test without one gets its own (owned by the QML engine).
  if (!Services::instance()) return new Markdown;
  Markdown* m = &Services::instance()->markdown();
  QQmlEngine::setObjectOwnership(m, QQmlEngine::CppOwnership);
  return m;
}

QVariantList Markdown::blocks(const QString& text) const {
  QVariantList out;
  for (const MarkdownBlock& b : split_markdown(text)) {
    out << QVariantMap{{QStringLiteral("kind"), b.kind},
                       {QStringLiteral("text"), b.text},
                       {QStringLiteral("language"), b.language},
                       {QStringLiteral("closed"), b.closed}};
  }
  return out;
}

void MarkdownBlocks::setText(const QString& text) {
  if (text == text_) return;
  text_ = text;
  QList<MarkdownBlock> next = split_markdown(text_);
  const int before = int(blocks_.size());
  const int common = int(std::min(blocks_.size(), next.size()));
  for (int i = 0; i < common; ++i) {
    const MarkdownBlock& a = blocks_[i];
    const MarkdownBlock& b = next[i];
    if (a.kind == b.kind && a.text == b.text && a.language == b.language && a.closed == b.closed) continue;
    blocks_[i] = b;
    emit dataChanged(index(i), index(i));
  }
  if (next.size() > blocks_.size()) {
    beginInsertRows({}, before, int(next.size()) - 1);
    for (qsizetype i = before; i < next.size(); ++i) blocks_.append(next[i]);
    endInsertRows();
  } else if (next.size() < blocks_.size()) {
    beginRemoveRows({}, int(next.size()), before - 1);
    blocks_.resize(next.size());
    endRemoveRows();
  }
  if (before != blocks_.size()) emit countChanged();
  emit textChanged();
}

int MarkdownBlocks::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(blocks_.size()); }

QHash<int, QByteArray> MarkdownBlocks::roleNames() const {
  return {{KindRole, "kind"}, {TextRole, "text"}, {LanguageRole, "language"}, {ClosedRole, "closed"}};
}

QVariant MarkdownBlocks::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const MarkdownBlock& b = blocks_.at(index.row());
  switch (role) {
    case KindRole: return b.kind;
    case Qt::DisplayRole:
    case TextRole: return b.text;
    case LanguageRole: return b.language;
    case ClosedRole: return b.closed;
    default: return {};
  }
}

}  // namespace penser::gui
