// HTML (one self-contained file) and PDF (Qt's own writer, from Qt's rich-text subset of the same HTML).
// Every piece of stored text goes through escape(): a message is data, never markup. A Content-Security-Policy
// that forbids scripts backs that up in the HTML file.
#include "app/core/export.h"

#include <QBuffer>
#include <QGuiApplication>
#include <QPdfWriter>
#include <QRegularExpression>
#include <QTextDocument>

namespace penser::app::detail {
namespace {

QString escape(const QString& text) { return text.toHtmlEscaped(); }

// Inline `code` inside an escaped line of prose.
QString inline_code(const QString& escaped) {
  static const QRegularExpression re(QStringLiteral("`([^`\n]+)`"));
  QString out = escaped;
  out.replace(re, QStringLiteral("<code>\\1</code>"));
  return out;
}

// Text as the model writes it: prose paragraphs and ``` fenced code blocks. Just enough Markdown for code to
// read as code; everything else stays literal text.
QString render_body(const QString& text) {
  QString out;
  QStringList prose;
  auto flush_prose = [&] {
    const QString joined = prose.join(QLatin1Char('\n')).trimmed();
    prose.clear();
    if (joined.isEmpty()) return;
    for (const QString& para : joined.split(QRegularExpression(QStringLiteral("\n\\s*\n")))) {
      out += QStringLiteral("<p>") + inline_code(escape(para.trimmed())) + QStringLiteral("</p>\n");
    }
  };
  const QStringList lines = text.split(QLatin1Char('\n'));
  for (int i = 0; i < lines.size(); ++i) {
    const QString& line = lines[i];
    if (!line.trimmed().startsWith(QLatin1String("```"))) {
      prose << line;
      continue;
    }
    flush_prose();
    QString lang = line.trimmed().mid(3).trimmed();
    lang.remove(QRegularExpression(QStringLiteral("[^A-Za-z0-9_+.-]")));
    QStringList code;
    ++i;
    while (i < lines.size() && !lines[i].trimmed().startsWith(QLatin1String("```"))) code << lines[i++];
    out += QStringLiteral("<pre><code");
    if (!lang.isEmpty()) out += QStringLiteral(" class=\"language-") + lang + QLatin1Char('"');
    out += QLatin1Char('>') + escape(code.join(QLatin1Char('\n'))) + QStringLiteral("</code></pre>\n");
  }
  flush_prose();
  return out;
}

constexpr const char* kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 50rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.meta { color: #666; font-size: .9rem; }
.message { margin: 1.2rem 0; }
.role { font-weight: 600; }
.user .role { color: #2b5fb4; }
.assistant .role { color: #7a3fa0; }
.note { color: #a05a00; font-style: italic; }
.version { color: #888; font-weight: normal; font-size: .85rem; }
p { white-space: pre-wrap; margin: .4rem 0; }
pre { background: #f4f4f6; padding: .6rem .8rem; border-radius: 6px; overflow-x: auto; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Consolas, monospace; font-size: .92em; }
details.thinking { border-left: 3px solid #c9c2d6; padding: .2rem .8rem; color: #555; margin: .4rem 0; }
details.thinking summary { cursor: pointer; color: #7a3fa0; }
hr { border: 0; border-top: 1px solid #ddd; margin: 2.5rem 0; }
@media (prefers-color-scheme: dark) {
  body { background: #1c1c1e; color: #e8e8ea; } pre { background: #2a2a2e; } .meta { color: #aaa; }
  details.thinking { color: #bbb; border-color: #5a4f6a; }
}
)css";

constexpr const char* kPdfStyle = R"css(
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
.meta { color: #666666; }
.role { font-weight: bold; }
.note { color: #a05a00; font-style: italic; }
.version { color: #888888; }
p { white-space: pre-wrap; }
pre { background-color: #f4f4f6; font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
.thinking { color: #555555; margin-left: 16px; }
.thinking-label { color: #7a3fa0; font-style: italic; }
)css";

}  // namespace

QString to_html(const QList<ConversationRecord>& records, const ExportOptions& options, bool for_pdf) {
  QString out;
  const QString doc_title = records.size() == 1 && !records[0].conversation.title.isEmpty()
                                ? records[0].conversation.title
                                : QStringLiteral("Penser conversations");
  out += QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  if (!for_pdf) {
    out += QStringLiteral(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"Penser\">\n");
  }
  out += QStringLiteral("<title>") + escape(doc_title) + QStringLiteral("</title>\n<style>") +
         QString::fromUtf8(for_pdf ? kPdfStyle : kStyle) + QStringLiteral("</style>\n</head>\n<body>\n");
  bool first = true;
  for (const ConversationRecord& r : records) {
    // In a PDF each conversation starts on a new page; in HTML a rule separates them.
    const bool new_page = for_pdf && !first;
    if (!first && !for_pdf) out += QStringLiteral("<hr>\n");
    first = false;
    const Conversation& c = r.conversation;
    out += QStringLiteral("<article class=\"conversation\">\n") +
           (new_page ? QStringLiteral("<h1 style=\"page-break-before: always\">") : QStringLiteral("<h1>")) +
           escape(c.title.isEmpty() ? QStringLiteral("Untitled conversation") : c.title) + QStringLiteral("</h1>\n");
    out += QStringLiteral("<div class=\"meta\">") + escape(format_time(c.created_at));
    if (!c.model_name.isEmpty()) out += QStringLiteral(" · ") + escape(c.model_name);
    out += QStringLiteral("</div>\n");
    for (const Message& m : shown_branch(r)) {
      out += QStringLiteral("<section class=\"message ") + escape(m.role) + QStringLiteral("\">\n");
      out += QStringLiteral("<div class=\"role\">") + escape(role_heading(m));
      if (const QString v = version_note(r, m); !v.isEmpty()) {
        out += QStringLiteral(" <span class=\"version\">(") + escape(v) + QStringLiteral(")</span>");
      }
      out += QStringLiteral("</div>\n");
      if (options.include_thinking && !m.thinking.isEmpty()) {
        QString label = QStringLiteral("Thinking");
        if (m.thinking_ms > 0) label += QStringLiteral(" (") + format_seconds(m.thinking_ms) + QLatin1Char(')');
        if (for_pdf) {
          out += QStringLiteral("<div class=\"thinking\"><div class=\"thinking-label\">") + escape(label) +
                 QStringLiteral("</div>\n") + render_body(m.thinking) + QStringLiteral("</div>\n");
        } else {
          out += QStringLiteral("<details class=\"thinking\"><summary>") + escape(label) +
                 QStringLiteral("</summary>\n") + render_body(m.thinking) + QStringLiteral("</details>\n");
        }
      }
      out += render_body(m.content);
      if (const QString note = status_note(m); !note.isEmpty()) {
        out += QStringLiteral("<div class=\"note\">") + escape(note) + QStringLiteral("</div>\n");
      }
      out += QStringLiteral("</section>\n");
    }
    out += QStringLiteral("</article>\n");
  }
  out += QStringLiteral("</body>\n</html>\n");
  return out;
}

Result<QByteArray> to_pdf(const QList<ConversationRecord>& records, const ExportOptions& options) {
  // Text layout needs fonts, which need a QGuiApplication (the command line makes one on the offscreen
  // platform). Without it Qt would abort, so refuse instead.
  if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
    return make_error("PDF export needs a QGuiApplication (internal setup error)");
  }
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  {
    QPdfWriter writer(&buffer);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setPageMargins(QMarginsF(18, 18, 18, 18), QPageLayout::Millimeter);
    writer.setResolution(300);
    writer.setCreator(QStringLiteral("Penser"));
    writer.setTitle(records.size() == 1 ? records[0].conversation.title : QStringLiteral("Penser conversations"));
    QTextDocument doc;
    doc.setHtml(to_html(records, options, true));
    doc.print(&writer);
  }
  buffer.close();
  if (!bytes.startsWith("%PDF-")) return make_error("the PDF writer produced no document");
  return bytes;
}

}  // namespace penser::app::detail
