// A thin RAII layer over the SQLite C API: one owner per connection and per statement, every failure mapped
// to a penser::Error whose message says what the user can do. SQL always goes through bound parameters.
#pragma once

#include "inference/common/result.h"

#include <QString>

#include <memory>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace penser::app::sql {

// Maps an SQLite result code to a sentence for the user; `what` names the operation ("saving the message").
Error make_sqlite_error(sqlite3* db, int rc, const std::string& what);

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, qint64 value);
  Statement& bind(int index, int value) { return bind(index, static_cast<qint64>(value)); }
  Statement& bind(int index, bool value) { return bind(index, static_cast<qint64>(value ? 1 : 0)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const QString& value);
  Statement& bind_null(int index);
  // Binds 0 as NULL: ids are SQLite rowids, which start at 1.
  Statement& bind_id(int index, qint64 id);

  // true: a row is ready; false: done. Errors carry `what`.
  Result<bool> step(const std::string& what);
  // Runs to completion (for statements that return no rows).
  Status run(const std::string& what);
  void reset();

  qint64 int64(int column) const;
  double real(int column) const;
  QString text(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  enum class Mode { ReadWriteCreate, ReadWrite, ReadOnly };
  static Result<std::unique_ptr<Database>> open(const QString& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without parameters (schema, pragmas).
  Status exec(const char* sql, const std::string& what);
  // A cached prepared statement, reset and with its bindings cleared. Valid until the Database dies.
  Result<Statement*> prepare(const char* sql);
  // A prepared statement owned by the caller (for dynamic SQL).
  Result<std::unique_ptr<Statement>> prepare_once(const char* sql);

  qint64 last_insert_id() const;
  int changes() const;
  bool in_transaction() const;
  sqlite3* handle() const { return db_; }
  const QString& path() const { return path_; }

 private:
  Database(sqlite3* db, QString path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  QString path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status begin(const std::string& what);
  Status commit(const std::string& what);

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace penser::app::sql
