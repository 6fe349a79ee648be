// Internal: reading untrusted JSON with errors that name the place ("conversations[2].messages[5].role").
#pragma once

#include "inference/common/result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

namespace penser::app::detail {

class JsonAt {
 public:
  JsonAt(QJsonValue value, QString where) : value_(std::move(value)), where_(std::move(where)) {}

  const QJsonValue& value() const { return value_; }
  const QString& where() const { return where_; }
  JsonAt field(const QString& key) const;  // Undefined when absent or not an object
  JsonAt item(qsizetype index) const;
  bool present() const { return !value_.isUndefined() && !value_.isNull(); }

  Error error(const QString& reason) const;
  Result<QJsonObject> object() const;
  Result<QJsonArray> array() const;
  Result<QString> string() const;                           // required
  Result<QString> string_or(const QString& fallback) const;  // optional
  Result<qint64> integer_or(qint64 fallback) const;
  Result<double> number_or(double fallback) const;
  Result<bool> boolean_or(bool fallback) const;
  // ISO 8601 text (Penser) -> ms since epoch.
  Result<qint64> iso_time() const;

 private:
  QJsonValue value_;
  QString where_;
};

}  // namespace penser::app::detail
