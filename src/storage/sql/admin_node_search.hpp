// The admin node search (#23) compiled to SQL whose every read is an index range in node id
// order: the nodes of a tag term (of the filter's type and model when given) come from one range
// of resource_tags_node_search (V023), an OR of terms is a UNION and an AND an INTERSECT of such
// ranges (SQLite merges them in id order, so a page stops at its limit), and the total is counted
// over the same ranges. The RBAC scope of a restricted admin, of any size, narrows the same
// statements: as ranges, or as lists each bound as one JSON value and joined to the same indexes.
#pragma once

#include <string_view>

#include "storage/node_store.hpp"
#include "storage/sql/dynamic_query.hpp"

namespace rainmaker::storage::sql {

// SELECT `columns` of the nodes matching `filter` with an id > `start_id`, in id order, at most
// `limit` (`columns` name columns of `nodes`, unqualified), for the engine of `dialect`.
DynamicQuery AdminNodePageQuery(
    const AdminNodeFilter& filter,
    std::string_view columns,
    std::string_view start_id,
    int limit,
    Dialect dialect
);

// SELECT COUNT(*) of the nodes matching `filter`.
DynamicQuery AdminNodeCountQuery(const AdminNodeFilter& filter, Dialect dialect);

}  // namespace rainmaker::storage::sql
