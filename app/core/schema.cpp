#include "app/core/schema.h"

#include <fmt/format.h>

#include <array>

namespace penser::app::schema {
namespace {

// Each entry takes the schema from version (index) to version (index + 1). Never edit a released entry:
// add a new one. tests/storage/schema/v<N>.sql keeps a snapshot file of every earlier version.
constexpr std::array kMigrations = {
    // v1: conversations and their message tree.
    R"sql(
CREATE TABLE conversations (
  id               INTEGER PRIMARY KEY,
  uuid             TEXT NOT NULL UNIQUE,              -- stable identity across export and import
  title            TEXT NOT NULL DEFAULT '',
  title_is_custom  INTEGER NOT NULL DEFAULT 0,        -- 1: typed by the user, never replaced automatically
  created_at       INTEGER NOT NULL,                  -- ms since the Unix epoch, UTC
  updated_at       INTEGER NOT NULL,
  pinned           INTEGER NOT NULL DEFAULT 0,
  model_file       TEXT NOT NULL DEFAULT '',
  model_name       TEXT NOT NULL DEFAULT '',
  settings         TEXT NOT NULL DEFAULT '{}',        -- JSON: sampling settings used
  current_leaf_id  INTEGER REFERENCES messages(id) ON DELETE SET NULL  -- the branch shown: root..leaf
);
CREATE TABLE messages (
  id                INTEGER PRIMARY KEY,
  conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  parent_id         INTEGER REFERENCES messages(id) ON DELETE CASCADE,  -- NULL: first message
  role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content           TEXT NOT NULL DEFAULT '',         -- the answer (or the question)
  thinking          TEXT NOT NULL DEFAULT '',         -- the reasoning trace between <think> and </think>
  thinking_ms       INTEGER NOT NULL DEFAULT 0,
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  generated_tokens  INTEGER NOT NULL DEFAULT 0,
  thinking_tokens   INTEGER NOT NULL DEFAULT 0,
  ttft_ms           REAL NOT NULL DEFAULT 0,          -- time to first token
  prefill_tps       REAL NOT NULL DEFAULT 0,          -- prompt tokens per second
  decode_tps        REAL NOT NULL DEFAULT 0,          -- generated tokens per second
  finish_reason     TEXT NOT NULL DEFAULT '',         -- stop, length, user, error
  status            TEXT NOT NULL DEFAULT 'complete'
                    CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'error')),
  error             TEXT NOT NULL DEFAULT '',
  model             TEXT NOT NULL DEFAULT '',
  created_at        INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX conversations_by_update ON conversations(pinned DESC, updated_at DESC);
)sql",
    // v2: full-text search over answers and thinking (FTS5, external content kept in sync by triggers).
    R"sql(
CREATE VIRTUAL TABLE message_fts USING fts5(
  content, thinking,
  content = 'messages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO message_fts(message_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0)');
INSERT INTO message_fts(message_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_fts(rowid, content, thinking) VALUES (new.id, new.content, new.thinking);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO message_fts(message_fts, rowid, content, thinking) VALUES ('delete', old.id, old.content, old.thinking);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, thinking ON messages BEGIN
  INSERT INTO message_fts(message_fts, rowid, content, thinking) VALUES ('delete', old.id, old.content, old.thinking);
  INSERT INTO message_fts(rowid, content, thinking) VALUES (new.id, new.content, new.thinking);
END;
)sql",
};

}  // namespace

int current_version() { return static_cast<int>(kMigrations.size()); }

Status migrate(sql::Database& db, int from_version) {
  PENSER_ASSERT(from_version >= 0 && from_version <= current_version());
  for (int v = from_version; v < current_version(); ++v) {
    const std::string what = fmt::format("upgrading the database from version {} to {}", v, v + 1);
    sql::Transaction tx(db);
    PENSER_TRY(tx.begin(what));
    PENSER_TRY(db.exec(kMigrations[static_cast<size_t>(v)], what));
    // PRAGMA takes no bound parameters; both values are integers from this file.
    const std::string pragmas =
        fmt::format("PRAGMA user_version = {}; PRAGMA application_id = {};", v + 1, kApplicationId);
    PENSER_TRY(db.exec(pragmas.c_str(), what));
    PENSER_TRY(tx.commit(what));
  }
  return {};
}

}  // namespace penser::app::schema
