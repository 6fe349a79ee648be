// Penser's JSON export: everything, every branch. The schema is documented in docs/export-json.md; bump
// kJsonVersion on any change a reader could notice, and teach import_json.cpp every version.
#include "app/core/export.h"
#include "app/core/json_format.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace penser::app::detail {

QString iso_time(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

QByteArray to_json(const QList<ConversationRecord>& records, const ExportOptions& options) {
  QJsonArray conversations;
  for (const ConversationRecord& r : records) {
    const Conversation& c = r.conversation;
    QJsonArray messages;
    for (const Message& m : r.messages) {
      QJsonObject stats{
          {"prompt_tokens", m.stats.prompt_tokens},   {"generated_tokens", m.stats.generated_tokens},
          {"thinking_tokens", m.stats.thinking_tokens}, {"ttft_ms", m.stats.ttft_ms},
          {"prefill_tokens_per_s", m.stats.prefill_tps}, {"decode_tokens_per_s", m.stats.decode_tps},
      };
      messages.append(QJsonObject{
          {"id", m.id},
          {"parent", m.parent_id > 0 ? QJsonValue(m.parent_id) : QJsonValue(QJsonValue::Null)},
          {"role", m.role},
          {"content", m.content},
          {"thinking", m.thinking},
          {"thinking_ms", m.thinking_ms},
          {"status", to_string(m.status)},
          {"finish_reason", m.finish_reason},
          {"error", m.error},
          {"model", m.model},
          {"created_at", iso_time(m.created_at)},
          {"stats", stats},
      });
    }
    // Settings are stored as JSON text; an unreadable value is kept as a string rather than lost.
    QJsonParseError perr{};
    const QJsonDocument settings = QJsonDocument::fromJson(c.settings_json.toUtf8(), &perr);
    conversations.append(QJsonObject{
        {"id", c.uuid},
        {"title", c.title},
        {"title_is_custom", c.title_is_custom},
        {"created_at", iso_time(c.created_at)},
        {"updated_at", iso_time(c.updated_at)},
        {"pinned", c.pinned},
        {"model_file", c.model_file},
        {"model_name", c.model_name},
        {"settings", settings.isObject() ? QJsonValue(settings.object()) : QJsonValue(c.settings_json)},
        {"current_message", c.current_leaf_id > 0 ? QJsonValue(c.current_leaf_id) : QJsonValue(QJsonValue::Null)},
        {"messages", messages},
    });
  }
  const qint64 at = options.exported_at > 0 ? options.exported_at : QDateTime::currentMSecsSinceEpoch();
  const QJsonObject root{
      {"format", QString::fromLatin1(kJsonFormat)},
      {"version", kJsonVersion},
      {"exported_at", iso_time(at)},
      {"conversations", conversations},
  };
  return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace penser::app::detail
