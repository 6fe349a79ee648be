// Store: the app's memory. One SQLite file (WAL, foreign keys, synchronous=FULL) holding conversations, their
// message trees and a full-text index. Not thread-safe: one thread owns a Store. The GUI uses it through
// AsyncStore (async_store.h), which keeps it on a storage thread; the command line uses it directly.
#pragma once

#include "app/core/sqlite.h"
#include "app/core/types.h"

#include <QString>

#include <memory>

namespace penser::app {

class Store {
 public:
  // Opens (creating if missing) and upgrades a database. A file that is damaged, not Penser's, or written by
  // a newer Penser is refused with a message and left byte-for-byte untouched. Messages left "streaming" by a
  // crash become "interrupted". Before an upgrade the old file is copied to "<path>.v<N>.bak".
  static Result<std::unique_ptr<Store>> open(const QString& path);

  // For the app: opens `path`, or when it is refused (damaged, foreign, newer), a fresh database beside it
  // ("<name>-<yyyyMMdd-HHmmss>.sqlite"), leaving the refused file as it is; `problem` says what happened.
  // Other failures (the file is busy or read-only, the disk is full) are returned as errors.
  struct Opened {
    std::unique_ptr<Store> store;
    QString problem;  // empty when `path` itself was opened
  };
  static Result<Opened> open_or_fresh(const QString& path);

  // Where the app keeps its database: <AppDataLocation>/conversations.sqlite (organization/app "Penser").
  static QString default_path();

  ~Store();
  const QString& path() const;

  // Conversations ----------------------------------------------------------------------------------
  Result<qint64> create_conversation(const Conversation& c);
  Result<Conversation> conversation(qint64 id) const;
  Result<qint64> conversation_id_by_uuid(const QString& uuid) const;  // 0 when absent
  // Pinned first, then most recently updated.
  Result<QList<Conversation>> conversations() const;
  Status set_title(qint64 id, const QString& title);  // marks the title as the user's own
  Status set_pinned(qint64 id, bool pinned);
  Status set_model(qint64 id, const QString& model_file, const QString& model_name, const QString& settings_json);
  Status delete_conversation(qint64 id);

  // Messages and branches ---------------------------------------------------------------------------
  // Appends under m.parent_id (0: a first message). A parent that already has children gets a sibling
  // branch; nothing is erased. The new message becomes the shown branch's leaf. The first user message
  // names an untitled conversation.
  Result<qint64> add_message(const Message& m);
  Result<Message> message(qint64 id) const;
  Result<QList<Message>> messages(qint64 conversation_id) const;  // all branches, by id
  // root..leaf of the branch shown.
  Result<QList<Message>> current_path(qint64 conversation_id) const;
  // The message and its siblings (same parent), oldest first.
  Result<QList<qint64>> siblings(qint64 message_id) const;
  // Shows the branch through `message_id`: the leaf becomes its most recent descendant (or itself).
  // Returns that leaf. Used to switch between sibling versions and to open a search result.
  Result<qint64> show_branch(qint64 message_id);
  // Deletes a message and everything below it (its answers, later turns, their other versions). When the
  // branch shown went with it, the newest remaining sibling's branch is shown, else the parent's.
  // Returns the leaf now shown (0 when the conversation has no messages left).
  Result<qint64> delete_message(qint64 message_id);

  // Streaming ---------------------------------------------------------------------------------------
  // A growing answer: begin, save the text so far at a steady cadence (see StreamSaver), then finish.
  Result<qint64> begin_streaming(qint64 conversation_id, qint64 parent_id, const QString& model);
  Status save_streaming(qint64 message_id, const QString& content, const QString& thinking, qint64 thinking_ms);
  Status finish_message(qint64 message_id, MessageStatus status, const QString& finish_reason,
                        const GenerationStats& stats, const QString& error = {});

  // Search ------------------------------------------------------------------------------------------
  // Full-text search over answers and thinking of every conversation; each word matches as a prefix.
  Result<QList<SearchHit>> search(const QString& query, int limit = 50) const;

  // Whole conversations (export and import) ---------------------------------------------------------
  Result<ConversationRecord> record(qint64 conversation_id) const;
  // Adds every record in one transaction: all or nothing. Records whose uuid is present are skipped.
  Result<ImportReport> import_records(const QList<ConversationRecord>& records);

  // Maintenance -------------------------------------------------------------------------------------
  Result<QString> integrity_check() const;  // "ok" when sound
  sql::Database& database() { return *db_; }  // for tests and the benchmark

 private:
  explicit Store(std::unique_ptr<sql::Database> db);
  // `refused` (optional) is set when the file itself is unusable: damaged, foreign, or newer.
  static Result<std::unique_ptr<Store>> open(const QString& path, bool* refused);
  Status touch(qint64 conversation_id);
  Status set_leaf(qint64 conversation_id, qint64 leaf_id);
  Result<qint64> insert_message(const Message& m, qint64 conversation_id, qint64 parent_id);

  std::unique_ptr<sql::Database> db_;
};

// Search query syntax: words separated by spaces, each matched as a prefix; returns the FTS5 expression,
// empty when there is nothing to search for.
QString fts_query(const QString& user_query);

}  // namespace penser::app
