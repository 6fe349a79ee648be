// The database schema and its forward migrations. Version N of the schema is what migrations 1..N build;
// `PRAGMA user_version` holds the version of a file and `PRAGMA application_id` marks it as Penser's.
#pragma once

#include "app/core/sqlite.h"

namespace penser::app::schema {

// "PnsR" as a big-endian 32-bit integer: tells a Penser database from any other SQLite file.
inline constexpr int kApplicationId = 0x506e7352;
// The version this build writes. A file with a higher version is refused, untouched.
int current_version();

// Applies every migration above the file's version, each in its own transaction together with its
// user_version bump, so an interrupted migration leaves the file at the previous version.
Status migrate(sql::Database& db, int from_version);

}  // namespace penser::app::schema
