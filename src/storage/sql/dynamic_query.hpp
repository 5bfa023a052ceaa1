// SQL whose conditions are chosen at run time (the tag and admin node searches): the text grows
// with its arguments beside it, and runs with each bound in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "storage/sql/sql_database.hpp"
#include "storage/tag_store.hpp"

namespace rainmaker::storage::sql {

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
    void ForEach(SqlDatabase& db, OnRow on_row) const {
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

    std::int64_t Count(SqlDatabase& db) const {
        std::int64_t n = 0;
        ForEach(db, [&](const Statement& s) { n = s.Int(0); });
        return n;
    }

    // EXPLAIN QUERY PLAN of the statement with its arguments: one line a step, indented two
    // spaces a level (tests and benchmarks check and record plans with it).
    std::vector<std::string> Plan(SqlDatabase& db) const {
        DynamicQuery explain{"EXPLAIN QUERY PLAN " + sql, args};
        std::vector<std::pair<std::int64_t, std::size_t>> depths;  // step id, its depth
        std::vector<std::string> lines;
        explain.ForEach(db, [&](const Statement& s) {
            std::size_t depth = 0;
            for (const auto& [id, d] : depths) {
                if (id == s.Int(1)) {
                    depth = d + 1;
                }
            }
            depths.emplace_back(s.Int(0), depth);
            lines.push_back(std::string(2 * depth, ' ') + s.Text(3));
        });
        return lines;
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

}  // namespace rainmaker::storage::sql
