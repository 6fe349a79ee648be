// Export of conversations to Markdown, JSON, HTML, PDF and plain text: one code path for the window and
// the command line. JSON holds everything (every branch, every statistic) and is what import reads back;
// the other formats show the branch the conversation currently shows, as a reader would see it.
#pragma once

#include "app/core/store.h"

#include <QByteArray>

#include <optional>

namespace penser::app {

enum class ExportFormat { Markdown, Json, Html, Pdf, Text };
// "md", "json", "html", "pdf", "txt" (also "markdown", "text").
std::optional<ExportFormat> export_format_from_string(const QString& name);

struct ExportOptions {
  bool include_thinking = true;  // Markdown, HTML, PDF, text: thinking as a collapsible block, or left out
  qint64 exported_at = 0;        // ms since epoch written into JSON; 0 = now (tests pin it)
};

// The format's bytes for these conversations.
Result<QByteArray> export_records(const QList<ConversationRecord>& records, ExportFormat format,
                                  const ExportOptions& options);

// Reads the conversations (`ids` empty: all of them, oldest first) and writes the export to `path` atomically:
// the file appears complete or not at all.
Status export_to_file(const Store& store, const QList<qint64>& ids, ExportFormat format,
                      const ExportOptions& options, const QString& path);

// The messages of the branch shown, root first (the latest message's branch when none is recorded).
QList<Message> shown_branch(const ConversationRecord& record);

namespace detail {
QByteArray to_markdown(const QList<ConversationRecord>& records, const ExportOptions& options);
QByteArray to_text(const QList<ConversationRecord>& records, const ExportOptions& options);
QByteArray to_json(const QList<ConversationRecord>& records, const ExportOptions& options);
// for_pdf: Qt's rich-text subset (no <details>): thinking becomes an indented grey block.
QString to_html(const QList<ConversationRecord>& records, const ExportOptions& options, bool for_pdf);
Result<QByteArray> to_pdf(const QList<ConversationRecord>& records, const ExportOptions& options);

QString format_time(qint64 ms);            // "2026-11-28 16:00 UTC"
QString format_seconds(qint64 ms);         // "12.3 s"
QString role_heading(const Message& m);    // "You", "Assistant", "System"
QString status_note(const Message& m);     // "" when complete, else e.g. "Interrupted"
QString version_note(const ConversationRecord& r, const Message& m);  // "version 2 of 3" or ""
}  // namespace detail

}  // namespace penser::app
