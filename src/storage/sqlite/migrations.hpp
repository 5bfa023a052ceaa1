// The SQLite schema migrations compiled into the binary (generated from migrations/V*.sql).
#pragma once

#include <string_view>
#include <vector>

namespace rainmaker::storage::sqlite {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Every migration, ordered by version.
const std::vector<Migration>& Migrations();

}  // namespace rainmaker::storage::sqlite
