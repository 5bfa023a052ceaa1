// SQL whose conditions are chosen at run time (the tag and admin node searches): the text grows
// with its arguments beside it, and runs with each bound in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "storage/sqlite/sqlite_database.hpp"
#include "storage/tag_store.hpp"

namespace rainmaker::storage::sqlite {

struct DynamicQuery {
    std::string sql;
    std::vector<std::variant<std::string, std::int64_t>> args;

    DynamicQuery& Add(std::string_view text) {
        sql += text;
        return *this;
    }

    DynamicQuery& Arg(std::string value) {
        args.emplace_back(std::move(value));
        return *this;
    }

    DynamicQuery& Arg(std::int64_t value) {
        args.emplace_back(value);
        return *this;
    }

    // Hands each row to `on_row` (a callable taking const Statement&).
    template <typename OnRow>
    void ForEach(SqliteDatabase& db, OnRow on_row) const {
        db.WithConnection([&](Connection& c) {
            auto s = c.Prepare(sql);
            int index = 0;
            for (const auto& a : args) {
                ++index;
                if (const auto* text = std::get_if<std::string>(&a)) {
                    s.Bind(index, std::string_view(*text));
                } else {
                    s.Bind(index, std::get<std::int64_t>(a));
                }
            }
            while (s.Step()) {
                on_row(static_cast<const Statement&>(s));
            }
        });
    }

    std::int64_t Count(SqliteDatabase& db) const {
        std::int64_t n = 0;
        ForEach(db, [&](const Statement& s) { n = s.Int(0); });
        return n;
    }
};

// The stored spelling of a resource type: node | group | otaimage | otajob | user.
inline const char* TagResourceKey(TagResource type) {
    switch (type) {
        case TagResource::kNode:
            return "node";
        case TagResource::kGroup:
            return "group";
        case TagResource::kOtaImage:
            return "otaimage";
        case TagResource::kOtaJob:
            return "otajob";
        case TagResource::kUser:
            return "user";
    }
    return "node";
}

// Appends "SELECT resource_id FROM resource_tags WHERE resource_type = ? AND (terms) GROUP BY
// resource_id HAVING COUNT(*) >= n": the ids of `type` matching `query` (n = 1 for OR, the number
// of distinct terms for AND; a (name, value) is stored once per resource).
void AddTagMatch(DynamicQuery& q, std::string_view type_key, const TagQuery& query);

}  // namespace rainmaker::storage::sqlite
