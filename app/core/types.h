// Values that travel between the storage thread, the GUI and the exporters. Plain data, copyable.
#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace penser::app {

enum class MessageStatus { Complete, Streaming, Stopped, Interrupted, Error };
QString to_string(MessageStatus status);
std::optional<MessageStatus> message_status_from_string(const QString& text);

struct GenerationStats {
  qint64 prompt_tokens = 0;
  qint64 generated_tokens = 0;
  qint64 thinking_tokens = 0;
  double ttft_ms = 0;      // time to first token
  double prefill_tps = 0;  // prompt tokens per second
  double decode_tps = 0;   // generated tokens per second
  bool operator==(const GenerationStats&) const = default;
};

struct Message {
  qint64 id = 0;               // rowid; 0 before it is stored
  qint64 conversation_id = 0;
  qint64 parent_id = 0;        // 0: the first message of the conversation
  QString role;                // system, user, assistant
  QString content;             // the answer (or the question)
  QString thinking;            // the reasoning trace
  qint64 thinking_ms = 0;
  GenerationStats stats;
  QString finish_reason;       // stop, length, user, error, or empty
  MessageStatus status = MessageStatus::Complete;
  QString error;
  QString model;
  qint64 created_at = 0;       // ms since the Unix epoch, UTC; 0 = now when stored
};

struct Conversation {
  qint64 id = 0;
  QString uuid;
  QString title;
  bool title_is_custom = false;
  qint64 created_at = 0;
  qint64 updated_at = 0;
  bool pinned = false;
  QString model_file;
  QString model_name;
  QString settings_json = QStringLiteral("{}");
  qint64 current_leaf_id = 0;  // the last message of the branch shown; 0 when empty
  qint64 message_count = 0;    // filled by listings
};

// A whole conversation with every branch: what export writes and import reads.
// In a record read from the store, ids are rowids; in one built by an importer they are keys local to the
// record (any distinct positive numbers) that parent_id and current_leaf_id refer to.
struct ConversationRecord {
  Conversation conversation;
  QList<Message> messages;  // parents before children
};

struct SearchHit {
  qint64 conversation_id = 0;
  QString conversation_title;
  qint64 message_id = 0;
  QString role;
  QString field;                        // "content" or "thinking": where the best match is
  QString snippet;                      // plain text around the match
  QList<QPair<int, int>> highlights;    // (start, length) in snippet, in QChar units
  qint64 created_at = 0;
};

struct ImportReport {
  int imported = 0;
  int skipped = 0;        // already present (same uuid)
  QList<qint64> conversation_ids;
};

}  // namespace penser::app
