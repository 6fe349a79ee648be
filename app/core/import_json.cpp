// Penser's JSON import (the schema in docs/export-json.md), the untrusted-JSON reader, and the dispatcher.
#include "app/core/import.h"
#include "app/core/json_format.h"
#include "app/core/json_reader.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSet>

#include <cmath>

namespace penser::app {
namespace detail {

QString place_of(const QByteArray& text, qint64 offset) {
  qint64 line = 1;
  qint64 column = 1;
  for (qint64 i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;  // count characters, not UTF-8 continuation bytes
    }
  }
  return QStringLiteral("line %1, column %2").arg(line).arg(column);
}

JsonAt JsonAt::field(const QString& key) const {
  return JsonAt(value_.isObject() ? value_.toObject().value(key) : QJsonValue(QJsonValue::Undefined),
                where_.isEmpty() ? key : where_ + QLatin1Char('.') + key);
}

JsonAt JsonAt::item(qsizetype index) const {
  return JsonAt(value_.isArray() ? value_.toArray().at(index) : QJsonValue(QJsonValue::Undefined),
                where_ + QStringLiteral("[%1]").arg(index));
}

Error JsonAt::error(const QString& reason) const {
  return make_error("at {}: {}", where_.isEmpty() ? std::string("the top level") : where_.toStdString(),
                    reason.toStdString());
}

Result<QJsonObject> JsonAt::object() const {
  if (!value_.isObject()) return error(QStringLiteral("expected an object"));
  return value_.toObject();
}

Result<QJsonArray> JsonAt::array() const {
  if (!value_.isArray()) return error(QStringLiteral("expected a list"));
  return value_.toArray();
}

Result<QString> JsonAt::string() const {
  if (value_.isUndefined()) return error(QStringLiteral("missing (a text is required)"));
  if (!value_.isString()) return error(QStringLiteral("expected a text"));
  return value_.toString();
}

Result<QString> JsonAt::string_or(const QString& fallback) const {
  if (!present()) return fallback;
  return string();
}

Result<qint64> JsonAt::integer_or(qint64 fallback) const {
  if (!present()) return fallback;
  const double d = value_.toDouble(std::nan(""));
  if (!value_.isDouble() || d != std::floor(d) || std::fabs(d) > 9.0e15) {
    return error(QStringLiteral("expected a whole number"));
  }
  return static_cast<qint64>(d);
}

Result<double> JsonAt::number_or(double fallback) const {
  if (!present()) return fallback;
  if (!value_.isDouble()) return error(QStringLiteral("expected a number"));
  return value_.toDouble();
}

Result<bool> JsonAt::boolean_or(bool fallback) const {
  if (!present()) return fallback;
  if (!value_.isBool()) return error(QStringLiteral("expected true or false"));
  return value_.toBool();
}

Result<qint64> JsonAt::iso_time() const {
  PENSER_ASSIGN_OR_RETURN(QString text, string());
  const QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
  if (!t.isValid()) return error(QStringLiteral("'%1' is not a date and time (ISO 8601)").arg(text));
  return t.toMSecsSinceEpoch();
}

Result<QJsonDocument> parse_document(const QByteArray& bytes) {
  QJsonParseError perr{};
  QJsonDocument doc = QJsonDocument::fromJson(bytes, &perr);
  if (perr.error != QJsonParseError::NoError) {
    return make_error("not valid JSON at {}: {}", place_of(bytes, perr.offset).toStdString(),
                      perr.errorString().toStdString());
  }
  return doc;
}

}  // namespace detail

using detail::JsonAt;

namespace {

Result<Message> read_penser_message(const JsonAt& at) {
  PENSER_TRY(at.object());
  Message m;
  PENSER_ASSIGN_OR_RETURN(m.id, at.field("id").integer_or(0));
  if (m.id <= 0) return at.field("id").error(QStringLiteral("a positive whole number is required"));
  PENSER_ASSIGN_OR_RETURN(m.parent_id, at.field("parent").integer_or(0));
  PENSER_ASSIGN_OR_RETURN(m.role, at.field("role").string());
  if (m.role != QLatin1String("user") && m.role != QLatin1String("assistant") && m.role != QLatin1String("system")) {
    return at.field("role").error(QStringLiteral("'%1' is not one of user, assistant, system").arg(m.role));
  }
  PENSER_ASSIGN_OR_RETURN(m.content, at.field("content").string_or({}));
  PENSER_ASSIGN_OR_RETURN(m.thinking, at.field("thinking").string_or({}));
  PENSER_ASSIGN_OR_RETURN(m.thinking_ms, at.field("thinking_ms").integer_or(0));
  PENSER_ASSIGN_OR_RETURN(QString status, at.field("status").string_or(QStringLiteral("complete")));
  const auto parsed = message_status_from_string(status);
  if (!parsed) return at.field("status").error(QStringLiteral("'%1' is not a message status").arg(status));
  // A message that was still streaming when exported is, once imported, an interrupted one.
  m.status = *parsed == MessageStatus::Streaming ? MessageStatus::Interrupted : *parsed;
  PENSER_ASSIGN_OR_RETURN(m.finish_reason, at.field("finish_reason").string_or({}));
  PENSER_ASSIGN_OR_RETURN(m.error, at.field("error").string_or({}));
  PENSER_ASSIGN_OR_RETURN(m.model, at.field("model").string_or({}));
  PENSER_ASSIGN_OR_RETURN(m.created_at, at.field("created_at").iso_time());
  const JsonAt stats = at.field("stats");
  if (stats.present()) {
    PENSER_TRY(stats.object());
    PENSER_ASSIGN_OR_RETURN(m.stats.prompt_tokens, stats.field("prompt_tokens").integer_or(0));
    PENSER_ASSIGN_OR_RETURN(m.stats.generated_tokens, stats.field("generated_tokens").integer_or(0));
    PENSER_ASSIGN_OR_RETURN(m.stats.thinking_tokens, stats.field("thinking_tokens").integer_or(0));
    PENSER_ASSIGN_OR_RETURN(m.stats.ttft_ms, stats.field("ttft_ms").number_or(0));
    PENSER_ASSIGN_OR_RETURN(m.stats.prefill_tps, stats.field("prefill_tokens_per_s").number_or(0));
    PENSER_ASSIGN_OR_RETURN(m.stats.decode_tps, stats.field("decode_tokens_per_s").number_or(0));
  }
  return m;
}

Result<ConversationRecord> read_penser_conversation(const JsonAt& at) {
  PENSER_TRY(at.object());
  ConversationRecord r;
  Conversation& c = r.conversation;
  PENSER_ASSIGN_OR_RETURN(c.uuid, at.field("id").string());
  if (c.uuid.trimmed().isEmpty()) return at.field("id").error(QStringLiteral("must not be empty"));
  PENSER_ASSIGN_OR_RETURN(c.title, at.field("title").string_or({}));
  PENSER_ASSIGN_OR_RETURN(c.title_is_custom, at.field("title_is_custom").boolean_or(false));
  PENSER_ASSIGN_OR_RETURN(c.created_at, at.field("created_at").iso_time());
  PENSER_ASSIGN_OR_RETURN(c.updated_at, at.field("updated_at").iso_time());
  PENSER_ASSIGN_OR_RETURN(c.pinned, at.field("pinned").boolean_or(false));
  PENSER_ASSIGN_OR_RETURN(c.model_file, at.field("model_file").string_or({}));
  PENSER_ASSIGN_OR_RETURN(c.model_name, at.field("model_name").string_or({}));
  const JsonAt settings = at.field("settings");
  if (settings.value().isObject()) {
    c.settings_json = QString::fromUtf8(QJsonDocument(settings.value().toObject()).toJson(QJsonDocument::Compact));
  } else {
    PENSER_ASSIGN_OR_RETURN(c.settings_json, settings.string_or(QStringLiteral("{}")));
  }
  PENSER_ASSIGN_OR_RETURN(c.current_leaf_id, at.field("current_message").integer_or(0));
  const JsonAt list = at.field("messages");
  PENSER_ASSIGN_OR_RETURN(QJsonArray messages, list.array());
  QSet<qint64> seen;
  for (qsizetype i = 0; i < messages.size(); ++i) {
    const JsonAt item = list.item(i);
    PENSER_ASSIGN_OR_RETURN(Message m, read_penser_message(item));
    if (seen.contains(m.id)) return item.field("id").error(QStringLiteral("%1 is used twice").arg(m.id));
    if (m.parent_id > 0 && !seen.contains(m.parent_id)) {
      return item.field("parent").error(
          QStringLiteral("%1 is not the id of an earlier message in this conversation").arg(m.parent_id));
    }
    seen.insert(m.id);
    r.messages << m;
  }
  if (c.current_leaf_id > 0 && !seen.contains(c.current_leaf_id)) {
    return at.field("current_message").error(QStringLiteral("%1 is not a message of this conversation")
                                                 .arg(c.current_leaf_id));
  }
  return r;
}

}  // namespace

Result<QList<ConversationRecord>> parse_penser_json(const QByteArray& bytes) {
  PENSER_ASSIGN_OR_RETURN(QJsonDocument doc, detail::parse_document(bytes));
  const JsonAt root(doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array()), QString());
  PENSER_TRY(root.object());
  PENSER_ASSIGN_OR_RETURN(QString format, root.field("format").string());
  if (format != QLatin1String(detail::kJsonFormat)) {
    return root.field("format").error(QStringLiteral("'%1' is not a Penser export").arg(format));
  }
  PENSER_ASSIGN_OR_RETURN(qint64 version, root.field("version").integer_or(0));
  if (version < 1 || version > detail::kJsonVersion) {
    return root.field("version").error(QStringLiteral("version %1 is not supported by this Penser (it reads up "
                                                      "to %2); update Penser")
                                           .arg(version)
                                           .arg(detail::kJsonVersion));
  }
  const JsonAt list = root.field("conversations");
  PENSER_ASSIGN_OR_RETURN(QJsonArray conversations, list.array());
  QList<ConversationRecord> out;
  for (qsizetype i = 0; i < conversations.size(); ++i) {
    PENSER_ASSIGN_OR_RETURN(ConversationRecord r, read_penser_conversation(list.item(i)));
    out << std::move(r);
  }
  return out;
}

Result<QList<ConversationRecord>> parse_import(const QByteArray& bytes) {
  PENSER_ASSIGN_OR_RETURN(QJsonDocument doc, detail::parse_document(bytes));
  if (doc.isObject() && doc.object().contains(QStringLiteral("format"))) return parse_penser_json(bytes);
  if (doc.isArray() || (doc.isObject() && doc.object().contains(QStringLiteral("mapping")))) {
    return parse_chatgpt_json(bytes);
  }
  return make_error("neither a Penser export (an object with \"format\") nor a ChatGPT conversations.json "
                    "(a list of conversations)");
}

Result<ImportReport> import_file(Store& store, const QString& path) {
  const std::string name = QDir::toNativeSeparators(path).toStdString();
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    return make_error("cannot read {}: {}", name, f.errorString().toStdString());
  }
  const QByteArray bytes = f.readAll();
  auto records = parse_import(bytes);
  if (!records) return make_error("{}: {}. Nothing was imported.", name, records.error().message);
  auto report = store.import_records(*records);
  if (!report) return make_error("{}: {}. Nothing was imported.", name, report.error().message);
  return report;
}

}  // namespace penser::app
