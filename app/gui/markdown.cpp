#include "app/gui/markdown.h"

#include "app/gui/services.h"

#include <QQmlEngine>
#include <QVariantMap>

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

}  // namespace

QList<MarkdownBlock> split_markdown(const QString& text) {
  QList<MarkdownBlock> blocks;
  const QStringList lines = text.split(QLatin1Char('\n'));
  QStringList prose;
  QStringList code;
  Fence fence;
  bool in_code = false;
  auto flush_prose = [&] {
    // Blank lines around a code block are layout, not content.
    while (!prose.isEmpty() && prose.first().trimmed().isEmpty()) prose.removeFirst();
    while (!prose.isEmpty() && prose.last().trimmed().isEmpty()) prose.removeLast();
    if (!prose.isEmpty()) blocks.append({QStringLiteral("text"), prose.join(QLatin1Char('\n')), {}, true});
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

}  // namespace penser::gui
