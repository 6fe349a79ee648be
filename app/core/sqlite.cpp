#include "app/core/sqlite.h"

#include <sqlite3.h>

namespace penser::app::sql {

Error make_sqlite_error(sqlite3* db, int rc, const std::string& what) {
  const char* detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string advice;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      advice = "the disk is full (or the database reached its size limit); free some space and try again. "
               "Everything saved before this is intact";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      advice = "the database file is damaged or is not a Penser database";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      advice = "the database is in use by another program (is Penser already running?)";
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      advice = "the database file or its folder is read-only; check the permissions";
      break;
    case SQLITE_CANTOPEN:
      advice = "the file cannot be opened; check that the folder exists and is writable";
      break;
    case SQLITE_IOERR:
      advice = "the disk reported a read or write error";
      break;
    default:
      break;
  }
  if (advice.empty()) return make_error("{} failed: {}", what, detail ? detail : "unknown SQLite error");
  return make_error("{} failed: {} ({})", what, advice, detail ? detail : sqlite3_errstr(rc));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, qint64 value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, const QString& value) {
  const QByteArray utf8 = value.toUtf8();
  sqlite3_bind_text(stmt_, index, utf8.constData(), static_cast<int>(utf8.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::bind_id(int index, qint64 id) { return id > 0 ? bind(index, id) : bind_null(index); }

Result<bool> Statement::step(const std::string& what) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = make_sqlite_error(db_, rc, what);
  sqlite3_reset(stmt_);
  return e;
}

Status Statement::run(const std::string& what) {
  for (;;) {
    PENSER_ASSIGN_OR_RETURN(bool row, step(what));
    if (!row) break;
  }
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

qint64 Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

QString Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? QString::fromUtf8(p, n) : QString();
}

Result<std::unique_ptr<Database>> Database::open(const QString& path, Mode mode) {
  int flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
    case Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.toUtf8().constData(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error e = make_sqlite_error(db, rc, fmt::format("opening {}", path.toStdString()));
    sqlite3_close(db);
    return e;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 2000);
  return std::unique_ptr<Database>(new Database(db, path));
}

Database::~Database() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

Status Database::exec(const char* sql, const std::string& what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return make_sqlite_error(db_, rc, what);
  return {};
}

Result<Statement*> Database::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  PENSER_ASSIGN_OR_RETURN(auto stmt, prepare_once(sql));
  Statement* raw = stmt.get();
  cache_.emplace(sql, std::move(stmt));
  return raw;
}

Result<std::unique_ptr<Statement>> Database::prepare_once(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return make_sqlite_error(db_, rc, "preparing a database query");
  return std::make_unique<Statement>(db_, stmt);
}

qint64 Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }
bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Transaction::~Transaction() {
  if (open_ && db_.in_transaction()) (void)db_.exec("ROLLBACK", "rolling back");
}

Status Transaction::begin(const std::string& what) {
  PENSER_ASSERT(!open_);
  PENSER_TRY(db_.exec("BEGIN IMMEDIATE", what));
  open_ = true;
  return {};
}

Status Transaction::commit(const std::string& what) {
  PENSER_ASSERT(open_);
  PENSER_TRY(db_.exec("COMMIT", what));
  open_ = false;
  return {};
}

}  // namespace penser::app::sql
