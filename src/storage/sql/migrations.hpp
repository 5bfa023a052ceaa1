// Numbered schema migrations, compiled into the binary per engine (generated from
// storage/<engine>/migrations/V*.sql by cmake/EmbedMigrations.cmake).
#pragma once

#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

namespace rainmaker::storage::sql {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Throws std::runtime_error when two of `migrations` share a version (two branches numbered
// theirs alike: one would never run), or when `applied` (the versions a database recorded)
// holds a version newer than any of them (the database was used by a newer binary, whose
// schema this one does not know).
void CheckMigrations(
    const std::vector<Migration>& migrations, const std::set<std::int64_t>& applied
);

}  // namespace rainmaker::storage::sql
