// Markdown and plain text exports of the branch shown.
#include "app/core/export.h"

namespace penser::app::detail {
namespace {

QString model_line(const Conversation& c) {
  if (c.model_name.isEmpty() && c.model_file.isEmpty()) return {};
  if (c.model_file.isEmpty()) return c.model_name;
  if (c.model_name.isEmpty()) return c.model_file;
  return c.model_name + QStringLiteral(" (") + c.model_file + QLatin1Char(')');
}

QString title_of(const Conversation& c) {
  return c.title.isEmpty() ? QStringLiteral("Untitled conversation") : c.title;
}

}  // namespace

QByteArray to_markdown(const QList<ConversationRecord>& records, const ExportOptions& options) {
  QString out;
  bool first = true;
  for (const ConversationRecord& r : records) {
    if (!first) out += QStringLiteral("\n---\n\n");
    first = false;
    const Conversation& c = r.conversation;
    out += QStringLiteral("# ") + title_of(c) + QStringLiteral("\n\n");
    out += QStringLiteral("- Created: ") + format_time(c.created_at) + QLatin1Char('\n');
    out += QStringLiteral("- Updated: ") + format_time(c.updated_at) + QLatin1Char('\n');
    if (const QString model = model_line(c); !model.isEmpty()) out += QStringLiteral("- Model: ") + model + '\n';
    for (const Message& m : shown_branch(r)) {
      out += QStringLiteral("\n## ") + role_heading(m);
      if (const QString v = version_note(r, m); !v.isEmpty()) out += QStringLiteral(" (") + v + QLatin1Char(')');
      out += QStringLiteral("\n\n");
      if (options.include_thinking && !m.thinking.isEmpty()) {
        // GitHub, GitLab and most Markdown viewers render <details> as a collapsible block; the blank lines
        // around the text let Markdown inside it render too.
        out += QStringLiteral("<details>\n<summary>Thinking");
        if (m.thinking_ms > 0) out += QStringLiteral(" (") + format_seconds(m.thinking_ms) + QLatin1Char(')');
        out += QStringLiteral("</summary>\n\n") + m.thinking.trimmed() + QStringLiteral("\n\n</details>\n\n");
      }
      if (!m.content.isEmpty()) out += m.content.trimmed() + QLatin1Char('\n');
      if (const QString note = status_note(m); !note.isEmpty()) out += QStringLiteral("\n*") + note + "*\n";
    }
  }
  return out.toUtf8();
}

QByteArray to_text(const QList<ConversationRecord>& records, const ExportOptions& options) {
  QString out;
  bool first = true;
  for (const ConversationRecord& r : records) {
    if (!first) out += QStringLiteral("\n\n");
    first = false;
    const Conversation& c = r.conversation;
    const QString title = title_of(c);
    out += title + QLatin1Char('\n') + QString(title.size(), QLatin1Char('=')) + QLatin1Char('\n');
    out += QStringLiteral("Created: ") + format_time(c.created_at) + QLatin1Char('\n');
    if (const QString model = model_line(c); !model.isEmpty()) out += QStringLiteral("Model: ") + model + '\n';
    for (const Message& m : shown_branch(r)) {
      out += QLatin1Char('\n') + role_heading(m);
      if (const QString v = version_note(r, m); !v.isEmpty()) out += QStringLiteral(" (") + v + QLatin1Char(')');
      out += QStringLiteral(":\n");
      if (options.include_thinking && !m.thinking.isEmpty()) {
        out += QStringLiteral("[Thinking");
        if (m.thinking_ms > 0) out += QStringLiteral(", ") + format_seconds(m.thinking_ms);
        out += QStringLiteral("]\n");
        for (const QString& line : m.thinking.trimmed().split(QLatin1Char('\n'))) {
          out += (line.isEmpty() ? QStringLiteral("  |") : QStringLiteral("  | ") + line) + QLatin1Char('\n');
        }
        out += QStringLiteral("[Answer]\n");
      }
      if (!m.content.isEmpty()) out += m.content.trimmed() + QLatin1Char('\n');
      if (const QString note = status_note(m); !note.isEmpty()) out += QStringLiteral("(") + note + ")\n";
    }
  }
  return out.toUtf8();
}

}  // namespace penser::app::detail
