#include "app/core/store.h"

#include "app/core/schema.h"
#include "app/core/store_rows.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QUuid>

#include <sqlite3.h>

namespace penser::app {

QString to_string(MessageStatus status) {
  switch (status) {
    case MessageStatus::Complete: return QStringLiteral("complete");
    case MessageStatus::Streaming: return QStringLiteral("streaming");
    case MessageStatus::Stopped: return QStringLiteral("stopped");
    case MessageStatus::Interrupted: return QStringLiteral("interrupted");
    case MessageStatus::Error: return QStringLiteral("error");
  }
  PENSER_ASSERT(false);
}

std::optional<MessageStatus> message_status_from_string(const QString& text) {
  for (auto s : {MessageStatus::Complete, MessageStatus::Streaming, MessageStatus::Stopped,
                 MessageStatus::Interrupted, MessageStatus::Error}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

namespace {

qint64 now_ms() { return QDateTime::currentMSecsSinceEpoch(); }

std::string path_for_messages(const QString& path) { return QDir::toNativeSeparators(path).toStdString(); }

// A title from the first question: its first words, at most ~60 characters.
QString title_from(const QString& text) {
  QString t = text.simplified();
  constexpr int kMax = 60;
  if (t.size() <= kMax) return t;
  int cut = t.lastIndexOf(QLatin1Char(' '), kMax);
  if (cut < kMax / 2) cut = kMax;
  return t.left(cut) + QStringLiteral("…");
}

constexpr const char* kMessageColumns = PENSER_MESSAGE_COLUMNS;
}  // namespace

Message detail::read_message(const sql::Statement& s) {
  Message m;
  m.id = s.int64(0);
  m.conversation_id = s.int64(1);
  m.parent_id = s.is_null(2) ? 0 : s.int64(2);
  m.role = s.text(3);
  m.content = s.text(4);
  m.thinking = s.text(5);
  m.thinking_ms = s.int64(6);
  m.stats.prompt_tokens = s.int64(7);
  m.stats.generated_tokens = s.int64(8);
  m.stats.thinking_tokens = s.int64(9);
  m.stats.ttft_ms = s.real(10);
  m.stats.prefill_tps = s.real(11);
  m.stats.decode_tps = s.real(12);
  m.finish_reason = s.text(13);
  m.status = message_status_from_string(s.text(14)).value_or(MessageStatus::Error);
  m.error = s.text(15);
  m.model = s.text(16);
  m.created_at = s.int64(17);
  return m;
}

namespace {
using detail::read_message;

constexpr const char* kConversationColumns =
    "c.id, c.uuid, c.title, c.title_is_custom, c.created_at, c.updated_at, c.pinned, c.model_file, c.model_name, "
    "c.settings, c.current_leaf_id, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)";

Conversation read_conversation(const sql::Statement& s) {
  Conversation c;
  c.id = s.int64(0);
  c.uuid = s.text(1);
  c.title = s.text(2);
  c.title_is_custom = s.int64(3) != 0;
  c.created_at = s.int64(4);
  c.updated_at = s.int64(5);
  c.pinned = s.int64(6) != 0;
  c.model_file = s.text(7);
  c.model_name = s.text(8);
  c.settings_json = s.text(9);
  c.current_leaf_id = s.is_null(10) ? 0 : s.int64(10);
  c.message_count = s.int64(11);
  return c;
}

Result<qint64> pragma_int(sql::Database& db, const char* sql, const std::string& what) {
  PENSER_ASSIGN_OR_RETURN(auto stmt, db.prepare_once(sql));
  PENSER_ASSIGN_OR_RETURN(bool row, stmt->step(what));
  return row ? stmt->int64(0) : 0;
}

// Busy or locked: another program holds the file; not a property of the file itself.
bool busy(sql::Database& db) {
  const int rc = sqlite3_errcode(db.handle()) & 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

// Everything that decides whether an existing file may be used; only reads. `is_refused` is set when the
// file itself is unusable (as opposed to busy).
Result<int> check_existing(sql::Database& db, const QString& path, bool& is_refused) {
  const std::string where = path_for_messages(path);
  auto refused = [&](const std::string& why) {
    is_refused = true;
    return make_error("{}: {}. The file was left untouched; Penser can continue with a fresh database.", where,
                      why);
  };
  auto app_id = pragma_int(db, "PRAGMA application_id", "reading the database header");
  if (!app_id && busy(db)) return app_id.take_error();
  if (!app_id) return refused("the file is damaged or is not a database (" + app_id.error().message + ")");
  PENSER_ASSIGN_OR_RETURN(qint64 version, pragma_int(db, "PRAGMA user_version", "reading the database version"));
  PENSER_ASSIGN_OR_RETURN(qint64 tables,
                          pragma_int(db, "SELECT count(*) FROM sqlite_schema", "reading the database schema"));
  if (*app_id != schema::kApplicationId && !(*app_id == 0 && tables == 0)) {
    return refused("this is an SQLite database, but not one of Penser's");
  }
  if (version > schema::current_version()) {
    return refused(fmt::format("it was written by a newer version of Penser (database version {}; this version "
                               "reads up to {}). Update Penser to open it",
                               version, schema::current_version()));
  }
  auto check = db.prepare_once("PRAGMA quick_check");
  if (!check && busy(db)) return check.take_error();
  if (!check) return refused("the file is damaged (" + check.error().message + ")");
  auto row = (*check)->step("checking the database");
  if (!row && busy(db)) return row.take_error();
  if (!row) return refused("the file is damaged (" + row.error().message + ")");
  if (!*row || (*check)->text(0) != QLatin1String("ok")) {
    return refused("the file is damaged (" + (*row ? (*check)->text(0).toStdString() : std::string("no answer")) +
                   ")");
  }
  return static_cast<int>(version);
}

}  // namespace

Store::Store(std::unique_ptr<sql::Database> db) : db_(std::move(db)) {}
Store::~Store() = default;

const QString& Store::path() const { return db_->path(); }

QString Store::default_path() {
  // The organization and app names decide the folder; set them here too so the command line and the
  // window agree even if main() did not.
  if (QCoreApplication::organizationName().isEmpty()) QCoreApplication::setOrganizationName(QStringLiteral("Penser"));
  if (QCoreApplication::applicationName().isEmpty()) QCoreApplication::setApplicationName(QStringLiteral("Penser"));
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/conversations.sqlite");
}

Result<std::unique_ptr<Store>> Store::open(const QString& path) { return open(path, nullptr); }

Result<std::unique_ptr<Store>> Store::open(const QString& path, bool* refused) {
  if (refused) *refused = false;
  const QFileInfo info(path);
  const bool exists = info.exists() && info.size() > 0;
  if (exists) {
    // Refuse anything that is not an SQLite file before SQLite touches it.
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
      return make_error("{}: cannot be read ({}). Check its permissions.", path_for_messages(path),
                        f.errorString().toStdString());
    }
    if (f.read(16) != QByteArray("SQLite format 3\0", 16)) {
      if (refused) *refused = true;
      return make_error("{}: this is not a database file (damaged, or some other kind of file). The file was left "
                        "untouched; Penser can continue with a fresh database.",
                        path_for_messages(path));
    }
  } else if (!QDir().mkpath(info.absolutePath())) {
    return make_error("cannot create the folder {} for the database; check permissions.",
                      path_for_messages(info.absolutePath()));
  }

  PENSER_ASSIGN_OR_RETURN(auto db, sql::Database::open(path, exists ? sql::Database::Mode::ReadWrite
                                                                    : sql::Database::Mode::ReadWriteCreate));
  int version = 0;
  if (exists) {
    bool is_refused = false;
    auto checked = check_existing(*db, path, is_refused);
    if (!checked) {
      if (refused) *refused = is_refused;
      return checked.take_error();
    }
    version = *checked;
  }
  // From here on the file is known to be ours (or new) and sound: writing is allowed.
  PENSER_TRY(db->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                      "configuring the database"));
  if (version > 0 && version < schema::current_version()) {
    const QString backup = path + QStringLiteral(".v%1.bak").arg(version);
    if (!QFileInfo::exists(backup)) {
      PENSER_ASSIGN_OR_RETURN(auto vacuum, db->prepare_once("VACUUM INTO ?1"));
      vacuum->bind(1, backup);
      PENSER_TRY(vacuum->run("copying the database before upgrading it"));
    }
  }
  PENSER_TRY(schema::migrate(*db, version));
  PENSER_TRY(db->exec("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'",
                      "marking unfinished answers as interrupted"));
  return std::unique_ptr<Store>(new Store(std::move(db)));
}

Result<Store::Opened> Store::open_or_fresh(const QString& path) {
  bool refused = false;
  auto opened = open(path, &refused);
  if (opened) return Opened{std::move(*opened), {}};
  // Only a file that is not usable as it stands is set aside; a busy or unwritable one is an error to report.
  if (!refused) return opened.take_error();
  const QFileInfo info(path);
  const QString fresh = info.absolutePath() + QLatin1Char('/') + info.completeBaseName() + QLatin1Char('-') +
                        QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")) +
                        QStringLiteral(".sqlite");
  PENSER_ASSIGN_OR_RETURN(auto store, open(fresh));
  return Opened{std::move(store), QString::fromStdString(opened.error().message) +
                                      QStringLiteral(" Now using a new database: ") + QDir::toNativeSeparators(fresh)};
}

Result<QString> Store::integrity_check() const {
  PENSER_ASSIGN_OR_RETURN(auto stmt, db_->prepare_once("PRAGMA integrity_check"));
  QStringList lines;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, stmt->step("checking the database"));
    if (!row) break;
    lines << stmt->text(0);
  }
  return lines.join(QLatin1Char('\n'));
}

// Conversations ------------------------------------------------------------------------------------------

Result<qint64> Store::create_conversation(const Conversation& c) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "INSERT INTO conversations (uuid, title, title_is_custom, created_at, updated_at, pinned, model_file, "
      "model_name, settings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  const qint64 now = now_ms();
  s->bind(1, c.uuid.isEmpty() ? QUuid::createUuid().toString(QUuid::WithoutBraces) : c.uuid)
      .bind(2, c.title)
      .bind(3, c.title_is_custom)
      .bind(4, c.created_at > 0 ? c.created_at : now)
      .bind(5, c.updated_at > 0 ? c.updated_at : (c.created_at > 0 ? c.created_at : now))
      .bind(6, c.pinned)
      .bind(7, c.model_file)
      .bind(8, c.model_name)
      .bind(9, c.settings_json.isEmpty() ? QStringLiteral("{}") : c.settings_json);
  PENSER_TRY(s->run("creating a conversation"));
  return db_->last_insert_id();
}

Result<Conversation> Store::conversation(qint64 id) const {
  const std::string sql = std::string("SELECT ") + kConversationColumns + " FROM conversations c WHERE c.id = ?1";
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(sql.c_str()));
  s->bind(1, id);
  PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading a conversation"));
  if (!row) return make_error("there is no conversation {}", id);
  Conversation c = read_conversation(*s);
  s->reset();
  return c;
}

Result<qint64> Store::conversation_id_by_uuid(const QString& uuid) const {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("SELECT id FROM conversations WHERE uuid = ?1"));
  s->bind(1, uuid);
  PENSER_ASSIGN_OR_RETURN(bool row, s->step("finding a conversation"));
  const qint64 id = row ? s->int64(0) : 0;
  s->reset();
  return id;
}

Result<QList<Conversation>> Store::conversations() const {
  const std::string sql = std::string("SELECT ") + kConversationColumns +
                          " FROM conversations c ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC";
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(sql.c_str()));
  QList<Conversation> out;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("listing conversations"));
    if (!row) break;
    out << read_conversation(*s);
  }
  return out;
}

Status Store::set_title(qint64 id, const QString& title) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "UPDATE conversations SET title = ?2, title_is_custom = 1, updated_at = ?3 WHERE id = ?1"));
  s->bind(1, id).bind(2, title.simplified()).bind(3, now_ms());
  PENSER_TRY(s->run("renaming the conversation"));
  if (db_->changes() == 0) return make_error("there is no conversation {}", id);
  return {};
}

Status Store::set_pinned(qint64 id, bool pinned) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("UPDATE conversations SET pinned = ?2 WHERE id = ?1"));
  s->bind(1, id).bind(2, pinned);
  PENSER_TRY(s->run("pinning the conversation"));
  if (db_->changes() == 0) return make_error("there is no conversation {}", id);
  return {};
}

Status Store::set_model(qint64 id, const QString& model_file, const QString& model_name,
                        const QString& settings_json) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "UPDATE conversations SET model_file = ?2, model_name = ?3, settings = ?4 WHERE id = ?1"));
  s->bind(1, id).bind(2, model_file).bind(3, model_name).bind(4, settings_json);
  PENSER_TRY(s->run("saving the conversation's model"));
  if (db_->changes() == 0) return make_error("there is no conversation {}", id);
  return {};
}

Status Store::delete_conversation(qint64 id) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("DELETE FROM conversations WHERE id = ?1"));
  s->bind(1, id);
  PENSER_TRY(s->run("deleting the conversation"));
  if (db_->changes() == 0) return make_error("there is no conversation {}", id);
  return {};
}

Status Store::touch(qint64 conversation_id) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("UPDATE conversations SET updated_at = ?2 WHERE id = ?1"));
  s->bind(1, conversation_id).bind(2, now_ms());
  return s->run("updating the conversation");
}

Status Store::set_leaf(qint64 conversation_id, qint64 leaf_id) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("UPDATE conversations SET current_leaf_id = ?2 WHERE id = ?1"));
  s->bind(1, conversation_id).bind_id(2, leaf_id);
  return s->run("choosing the branch shown");
}

// Messages -----------------------------------------------------------------------------------------------

Result<qint64> Store::insert_message(const Message& m, qint64 conversation_id, qint64 parent_id) {
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "INSERT INTO messages (conversation_id, parent_id, role, content, thinking, thinking_ms, prompt_tokens, "
      "generated_tokens, thinking_tokens, ttft_ms, prefill_tps, decode_tps, finish_reason, status, error, model, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"));
  s->bind(1, conversation_id)
      .bind_id(2, parent_id)
      .bind(3, m.role)
      .bind(4, m.content)
      .bind(5, m.thinking)
      .bind(6, m.thinking_ms)
      .bind(7, m.stats.prompt_tokens)
      .bind(8, m.stats.generated_tokens)
      .bind(9, m.stats.thinking_tokens)
      .bind(10, m.stats.ttft_ms)
      .bind(11, m.stats.prefill_tps)
      .bind(12, m.stats.decode_tps)
      .bind(13, m.finish_reason)
      .bind(14, to_string(m.status))
      .bind(15, m.error)
      .bind(16, m.model)
      .bind(17, m.created_at > 0 ? m.created_at : now_ms());
  PENSER_TRY(s->run("saving a message"));
  return db_->last_insert_id();
}

Result<qint64> Store::add_message(const Message& m) {
  if (m.role != QLatin1String("user") && m.role != QLatin1String("assistant") &&
      m.role != QLatin1String("system")) {
    return make_error("a message's role must be system, user or assistant, not '{}'", m.role.toStdString());
  }
  PENSER_ASSIGN_OR_RETURN(Conversation c, conversation(m.conversation_id));
  if (m.parent_id > 0) {
    PENSER_ASSIGN_OR_RETURN(Message parent, message(m.parent_id));
    if (parent.conversation_id != m.conversation_id) {
      return make_error("message {} belongs to another conversation", m.parent_id);
    }
  }
  sql::Transaction tx(*db_);
  PENSER_TRY(tx.begin("saving a message"));
  PENSER_ASSIGN_OR_RETURN(qint64 id, insert_message(m, m.conversation_id, m.parent_id));
  PENSER_TRY(set_leaf(m.conversation_id, id));
  PENSER_TRY(touch(m.conversation_id));
  if (m.role == QLatin1String("user") && c.title.isEmpty() && !c.title_is_custom) {
    PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare("UPDATE conversations SET title = ?2 WHERE id = ?1"));
    s->bind(1, m.conversation_id).bind(2, title_from(m.content));
    PENSER_TRY(s->run("naming the conversation"));
  }
  PENSER_TRY(tx.commit("saving a message"));
  return id;
}

Result<Message> Store::message(qint64 id) const {
  const std::string sql = std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = ?1";
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(sql.c_str()));
  s->bind(1, id);
  PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading a message"));
  if (!row) return make_error("there is no message {}", id);
  Message m = read_message(*s);
  s->reset();
  return m;
}

Result<QList<Message>> Store::messages(qint64 conversation_id) const {
  const std::string sql =
      std::string("SELECT ") + kMessageColumns + " FROM messages WHERE conversation_id = ?1 ORDER BY id";
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(sql.c_str()));
  s->bind(1, conversation_id);
  QList<Message> out;
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, s->step("reading messages"));
    if (!row) break;
    out << read_message(*s);
  }
  return out;
}

// Streaming ----------------------------------------------------------------------------------------------

Result<qint64> Store::begin_streaming(qint64 conversation_id, qint64 parent_id, const QString& model) {
  Message m;
  m.conversation_id = conversation_id;
  m.parent_id = parent_id;
  m.role = QStringLiteral("assistant");
  m.status = MessageStatus::Streaming;
  m.model = model;
  return add_message(m);
}

Status Store::save_streaming(qint64 message_id, const QString& content, const QString& thinking,
                             qint64 thinking_ms) {
  // One short autocommit transaction per save: a crash loses at most the text since the last one.
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "UPDATE messages SET content = ?2, thinking = ?3, thinking_ms = ?4 WHERE id = ?1"));
  s->bind(1, message_id).bind(2, content).bind(3, thinking).bind(4, thinking_ms);
  PENSER_TRY(s->run("saving the answer"));
  if (db_->changes() == 0) return make_error("there is no message {}", message_id);
  return {};
}

Status Store::finish_message(qint64 message_id, MessageStatus status, const QString& finish_reason,
                             const GenerationStats& stats, const QString& error) {
  PENSER_ASSERT(status != MessageStatus::Streaming);
  PENSER_ASSIGN_OR_RETURN(Message m, message(message_id));
  sql::Transaction tx(*db_);
  PENSER_TRY(tx.begin("finishing the answer"));
  PENSER_ASSIGN_OR_RETURN(auto* s, db_->prepare(
      "UPDATE messages SET status = ?2, finish_reason = ?3, prompt_tokens = ?4, generated_tokens = ?5, "
      "thinking_tokens = ?6, ttft_ms = ?7, prefill_tps = ?8, decode_tps = ?9, error = ?10 WHERE id = ?1"));
  s->bind(1, message_id)
      .bind(2, to_string(status))
      .bind(3, finish_reason)
      .bind(4, stats.prompt_tokens)
      .bind(5, stats.generated_tokens)
      .bind(6, stats.thinking_tokens)
      .bind(7, stats.ttft_ms)
      .bind(8, stats.prefill_tps)
      .bind(9, stats.decode_tps)
      .bind(10, error);
  PENSER_TRY(s->run("finishing the answer"));
  PENSER_TRY(touch(m.conversation_id));
  PENSER_TRY(tx.commit("finishing the answer"));
  return {};
}

// Whole conversations ------------------------------------------------------------------------------------

Result<ConversationRecord> Store::record(qint64 conversation_id) const {
  ConversationRecord r;
  PENSER_ASSIGN_OR_RETURN(r.conversation, conversation(conversation_id));
  PENSER_ASSIGN_OR_RETURN(r.messages, messages(conversation_id));
  return r;
}

Result<ImportReport> Store::import_records(const QList<ConversationRecord>& records) {
  ImportReport report;
  sql::Transaction tx(*db_);
  PENSER_TRY(tx.begin("importing conversations"));
  for (const ConversationRecord& r : records) {
    if (!r.conversation.uuid.isEmpty()) {
      PENSER_ASSIGN_OR_RETURN(qint64 existing, conversation_id_by_uuid(r.conversation.uuid));
      if (existing > 0) {
        ++report.skipped;
        continue;
      }
    }
    PENSER_ASSIGN_OR_RETURN(qint64 cid, create_conversation(r.conversation));
    QHash<qint64, qint64> ids;  // record key -> rowid
    for (const Message& m : r.messages) {
      qint64 parent = 0;
      if (m.parent_id > 0) {
        auto it = ids.constFind(m.parent_id);
        if (it == ids.constEnd()) {
          return make_error("conversation '{}': message {} comes before its parent {}",
                            r.conversation.title.toStdString(), m.id, m.parent_id);
        }
        parent = *it;
      }
      if (ids.contains(m.id)) {
        return make_error("conversation '{}': two messages have the id {}", r.conversation.title.toStdString(),
                          m.id);
      }
      PENSER_ASSIGN_OR_RETURN(qint64 mid, insert_message(m, cid, parent));
      ids.insert(m.id, mid);
    }
    qint64 leaf = ids.value(r.conversation.current_leaf_id, 0);
    if (leaf == 0 && !r.messages.isEmpty()) leaf = ids.value(r.messages.last().id);
    PENSER_TRY(set_leaf(cid, leaf));
    ++report.imported;
    report.conversation_ids << cid;
  }
  PENSER_TRY(tx.commit("importing conversations"));
  return report;
}

}  // namespace penser::app
