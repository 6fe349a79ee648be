#include "app/core/export.h"

#include <QDateTime>
#include <QDir>
#include <QSaveFile>

#include <algorithm>

namespace penser::app {

std::optional<ExportFormat> export_format_from_string(const QString& name) {
  const QString n = name.toLower();
  if (n == QLatin1String("md") || n == QLatin1String("markdown")) return ExportFormat::Markdown;
  if (n == QLatin1String("json")) return ExportFormat::Json;
  if (n == QLatin1String("html")) return ExportFormat::Html;
  if (n == QLatin1String("pdf")) return ExportFormat::Pdf;
  if (n == QLatin1String("txt") || n == QLatin1String("text")) return ExportFormat::Text;
  return std::nullopt;
}

QList<Message> shown_branch(const ConversationRecord& record) {
  if (record.messages.isEmpty()) return {};
  QHash<qint64, const Message*> by_id;
  for (const Message& m : record.messages) by_id.insert(m.id, &m);
  qint64 leaf = record.conversation.current_leaf_id;
  if (!by_id.contains(leaf)) leaf = record.messages.last().id;
  QList<Message> path;
  // Bounded by the message count so that a cycle in hostile input cannot loop forever.
  for (qint64 id = leaf; id > 0 && path.size() <= record.messages.size();) {
    const Message* m = by_id.value(id, nullptr);
    if (!m) break;
    path.prepend(*m);
    id = m->parent_id;
  }
  return path;
}

Result<QByteArray> export_records(const QList<ConversationRecord>& records, ExportFormat format,
                                  const ExportOptions& options) {
  switch (format) {
    case ExportFormat::Markdown: return detail::to_markdown(records, options);
    case ExportFormat::Json: return detail::to_json(records, options);
    case ExportFormat::Html: return detail::to_html(records, options, false).toUtf8();
    case ExportFormat::Pdf: return detail::to_pdf(records, options);
    case ExportFormat::Text: return detail::to_text(records, options);
  }
  PENSER_ASSERT(false);
}

Status export_to_file(const Store& store, const QList<qint64>& ids, ExportFormat format,
                      const ExportOptions& options, const QString& path) {
  QList<qint64> wanted = ids;
  if (wanted.isEmpty()) {
    PENSER_ASSIGN_OR_RETURN(auto all, store.conversations());
    for (const Conversation& c : all) wanted << c.id;
    // Oldest first: a document reads in time order, and an import recreates the same order.
    std::sort(wanted.begin(), wanted.end());
  }
  QList<ConversationRecord> records;
  for (qint64 id : wanted) {
    PENSER_ASSIGN_OR_RETURN(ConversationRecord r, store.record(id));
    records << std::move(r);
  }
  PENSER_ASSIGN_OR_RETURN(QByteArray bytes, export_records(records, format, options));
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    return make_error("cannot write {}: {}", QDir::toNativeSeparators(path).toStdString(),
                      file.errorString().toStdString());
  }
  return {};
}

namespace detail {

QString format_time(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
}

QString format_seconds(qint64 ms) { return QString::number(static_cast<double>(ms) / 1000.0, 'f', 1) + " s"; }

QString role_heading(const Message& m) {
  if (m.role == QLatin1String("user")) return QStringLiteral("You");
  if (m.role == QLatin1String("system")) return QStringLiteral("System");
  return QStringLiteral("Assistant");
}

QString status_note(const Message& m) {
  switch (m.status) {
    case MessageStatus::Complete: return {};
    case MessageStatus::Streaming: return QStringLiteral("Still being written");
    case MessageStatus::Stopped: return QStringLiteral("Stopped");
    case MessageStatus::Interrupted: return QStringLiteral("Interrupted");
    case MessageStatus::Error:
      return m.error.isEmpty() ? QStringLiteral("Error") : QStringLiteral("Error: ") + m.error;
  }
  return {};
}

QString version_note(const ConversationRecord& r, const Message& m) {
  int index = 0;
  int count = 0;
  for (const Message& other : r.messages) {
    if (other.parent_id != m.parent_id) continue;
    ++count;
    if (other.id == m.id) index = count;
  }
  if (count < 2) return {};
  return QStringLiteral("version %1 of %2").arg(index).arg(count);
}

}  // namespace detail
}  // namespace penser::app
