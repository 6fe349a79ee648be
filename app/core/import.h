// Import: Penser's own JSON export and ChatGPT's data export (conversations.json, whose message tree becomes
// branches). A malformed file is rejected with the place and the reason; nothing is half-imported: the
// records are built and checked in memory first, then added in one transaction.
#pragma once

#include "app/core/store.h"

namespace penser::app {

// Penser JSON (an object with "format": "penser.conversations").
Result<QList<ConversationRecord>> parse_penser_json(const QByteArray& bytes);
// ChatGPT's conversations.json (an array of conversations with a "mapping" of message nodes).
Result<QList<ConversationRecord>> parse_chatgpt_json(const QByteArray& bytes);
// Either of the above, told apart by their shape.
Result<QList<ConversationRecord>> parse_import(const QByteArray& bytes);

// Reads `path`, parses it and adds its conversations. Errors name the file.
Result<ImportReport> import_file(Store& store, const QString& path);

}  // namespace penser::app
