-- A Penser database as version 1 wrote it (before full-text search). Kept unchanged as a migration test
-- input: test_storage_migrations builds a file from it and opens it with the current code.
PRAGMA application_id = 1349415762;
PRAGMA user_version = 1;

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

INSERT INTO conversations (id, uuid, title, title_is_custom, created_at, updated_at, pinned, model_file, model_name, settings, current_leaf_id)
VALUES (1, '4f1c2a9e-0d3b-4c47-9a55-7e2f8b1d6c01', 'Prime numbers below fifty', 0, 1764000000000, 1764000300000, 1,
        'DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf', 'DeepSeek-R1-Distill-Qwen-7B', '{"temperature":0.6,"top_p":0.95}', 4);
INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at)
VALUES (1, 1, NULL, 'user', 'How many prime numbers are there below fifty?', 1764000000000);
INSERT INTO messages (id, conversation_id, parent_id, role, content, thinking, thinking_ms, prompt_tokens, generated_tokens,
                      thinking_tokens, ttft_ms, prefill_tps, decode_tps, finish_reason, status, model, created_at)
VALUES (2, 1, 1, 'assistant', 'There are 15 primes below fifty.',
        'List them: 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47. Counting gives fifteen.',
        4200, 18, 96, 80, 210.5, 180.25, 22.5, 'stop', 'complete', 'DeepSeek-R1-Distill-Qwen-7B', 1764000010000);
INSERT INTO messages (id, conversation_id, parent_id, role, content, thinking, status, finish_reason, model, created_at)
VALUES (3, 1, 1, 'assistant', 'Fifteen: 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43 and 47.',
        'Regenerated: sieve of Eratosthenes up to 49.', 'stopped', 'user', 'DeepSeek-R1-Distill-Qwen-7B', 1764000100000);
INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at)
VALUES (4, 1, 3, 'user', 'And below one hundred?', 1764000300000);
INSERT INTO conversations (id, uuid, title, created_at, updated_at)
VALUES (2, 'b7d9e3f0-5a61-4e2b-8c1d-0f9a8b7c6d02', '', 1764001000000, 1764001000000);
INSERT INTO messages (id, conversation_id, parent_id, role, content, thinking, status, created_at)
VALUES (5, 2, NULL, 'assistant', 'Half an answer about eigenvalues', 'The characteristic polynomial', 'streaming', 1764001000000);
