// Internal: constants and helpers shared by the JSON exporter and the importers.
#pragma once

#include <QByteArray>
#include <QString>

namespace penser::app::detail {

inline constexpr const char* kJsonFormat = "penser.conversations";
inline constexpr int kJsonVersion = 1;

QString iso_time(qint64 ms);  // "2026-11-28T16:00:50.123Z"
// "line L, column C" for a byte offset into `text`.
QString place_of(const QByteArray& text, qint64 offset);

}  // namespace penser::app::detail
